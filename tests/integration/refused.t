#!/bin/bash
#
# refused.t -- mail Postfix refuses after postgate's milter recorded it leaves nothing
# behind: the milter records a message at end-of-message, before cleanup has accepted
# it; a later refusal (here milter_header_checks REJECT on the X-Postal-MsgID header the
# milter adds, which cleanup checks after the milter's changes) leaves a Pending row and
# its raw copy. postgate-worker reads cleanup's "QID: milter-header-reject: ..." line in the maillog
# and deletes both; mail Postfix accepted is untouched.
#
# Must never: pass when the refused message was never recorded (it asserts the orphan
# first, with the worker stopped), or when the accepted message loses its rows.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_start_postgate
plan 9

ctl() { $HARNESS_CTL "$@"; }
pc() { postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" "$@"; }
run_id=$(instance_random_hex 4)

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')

# send SUBJECT: submit with SMTP AUTH; prints swaks' transcript.
send() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail \
		--auth-password "$key" --from app@example.com --to someone@example.net \
		--h-From "App <app@example.com>" --h-Subject "$1 $run_id" 2>&1 || true
}
rows() { harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$1 $run_id'"; }
raws() {
	harness_sql "SELECT COUNT(*) FROM messages m JOIN raw_messages r ON r.id = m.raw_message_id
		AND r.created_day = m.raw_message_day WHERE m.subject = '$1 $run_id'"
}
raw_exists() { harness_sql "SELECT COUNT(*) FROM raw_messages WHERE id = $1"; }
reload() { postfix -c "$INSTANCE_POSTFIX_CONFIG_DIR" reload >/dev/null 2>&1; instance_wait_port "$INSTANCE_SMTP_PORT" 30; }

# 1-4: with the worker stopped, an accepted message and a refused one.
send kept >/dev/null
pc -e "milter_header_checks = regexp:{ {/^X-Postal-MsgID:/ REJECT 5.7.1 refused by refused.t} }"
reload
out=$(send refused)
like "$out" '<\*\* +550 5\.7\.1 .*refused by refused\.t' "a header check after the milter refuses the message at end of DATA (550 5.7.1)"
pc -X milter_header_checks
reload
is "$(rows refused) $(raws refused) $(harness_sql "SELECT status FROM messages WHERE subject = 'refused $run_id'")" "1 1 Pending" \
	"... but the milter had recorded it: a Pending row with its raw copy (the orphan)"
qid=$(harness_sql "SELECT postfix_queue_id FROM messages WHERE subject = 'refused $run_id'")
raw_id=$(harness_sql "SELECT raw_message_id FROM messages WHERE subject = 'refused $run_id'")
gone_line() { grep -qF "postfix/cleanup" "$INSTANCE_MAILLOG" && grep -qF "]: $qid: milter-header-reject: header X-Postal-MsgID" "$INSTANCE_MAILLOG"; }
harness_wait_for 20 gone_line || true
gone_line && r=0 || r=1
ok "$r" "Postfix 3.7's cleanup logs '$qid: milter-header-reject: header X-Postal-MsgID: ...'"
is "$(rows kept)" 1 "the accepted message is recorded"

# 5-9: the worker reads the log.
export POSTGATE_WORKER_JOBS_INTERVAL=1
harness_start_worker
no_rows() { [ "$(rows refused)" = 0 ]; }
harness_wait_for 40 no_rows || true
is "$(rows refused)" 0 "the worker deletes the refused message's row"
is "$(raw_exists "${raw_id:-0}")" 0 "... and its raw copy"
sent() { [ "$(harness_sql "SELECT status FROM messages WHERE subject = 'kept $run_id'")" = Sent ]; }
harness_wait_for 40 sent || true
is "$(harness_sql "SELECT status FROM messages WHERE subject = 'kept $run_id'") $(raws kept)" "Sent 1" \
	"the accepted message is untouched: delivered, Sent, with its raw copy"
is "$(harness_sql "SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.subject LIKE '% $run_id'")" 1 \
	"no delivery row for the refused message, one for the accepted one"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE postfix_queue_id = '$qid'")" 0 "nothing left under the refused queue ID"

done_testing
