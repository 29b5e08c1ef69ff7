#!/bin/bash
#
# submission.t -- what postgate-milter does with the headers of submitted mail, through
# the real Postfix, MariaDB, smtp-sink and postgate-worker (issue 12):
#   item 6:  From/Sender read one way only: "me@mine@bank" and "victim<@bank>, me@mine"
#            get 530 5.7.1 and are not recorded; ordinary From forms still pass;
#   item 7:  X-Postal-Spam* and X-Postgate-Inspection written by a credential's client
#            never reach another tenant's route (removed, never stored);
#   item 14: raw 8-bit (Latin-1, not UTF-8) bytes in Subject, Message-ID and X-Postal-Tag
#            are accepted and stored (converted), never answered 451 for ever;
#   item 15: a 1,500-character Subject (with spaces, and without any) leaves with a DKIM
#            signature python3-dkim verifies at the sink.
#
# Must never: pass on a message it did not find where it should be, or trust postgate's
# own view of a signature.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_worker
plan 22

here=$(cd "$(dirname "$0")" && pwd)
ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
tmp="$HARNESS_DIR/msgs"
mkdir -p "$tmp"

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name mine.test --verified >"$HARNESS_DIR/records.zone"
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
# Tenant B: another organization with an Accept route.
ctl org create --name Beta --permalink beta >/dev/null
ctl server create --org beta --name Inbox --permalink inbox >/dev/null
ctl domain create --server beta/inbox --name in.beta.test --verified >/dev/null
beta_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'inbox'")
harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode) VALUES (UUID(), $beta_id,
	(SELECT id FROM domains WHERE name = 'in.beta.test'), 'support', 'tok3nabc', 'Accept')"

# send FROM_HEADER SUBJECT [swaks args...]: submitted by tenant A's credential.
send() {
	local from=$1 subject=$2
	shift 2
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail \
		--auth-password "$key" --from app@mine.test --to someone@example.net \
		--h-From "$from" --h-Subject "$subject" "$@" 2>&1 || true
}
# send_raw FILE [RCPT]: the file as the DATA, byte for byte.
send_raw() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail \
		--auth-password "$key" --from app@mine.test --to "${2:-someone@example.net}" --data "$1" 2>&1 || true
}
rows() { harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$1'"; }
wait_sink() { harness_wait_for 30 instance_sink_find "$1" >/dev/null; }
verify_py() { /usr/bin/python3 "$here/dkim-verify.py" "$HARNESS_DIR/records.zone" "$1" 2>&1 || true; }

# ---------------------------------------------------------------- item 6: From parsing
n=0
# (A source route, <@bank.test:me@mine.test>, is not among them: Postfix's cleanup
# removes the route before the milter sees the header, so what leaves is unambiguous.)
for from in 'me@mine.test@bank.test' 'victim<@bank.test>, me@mine.test' 'me@bank.test <me@mine.test>'; do
	n=$((n + 1))
	out=$(send "$from" "from-bad-$n $run_id")
	like "$out" '<\*\* 530 5\.7\.1 From/Sender name is not valid' "From: $from gets 530 5.7.1"
done
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject LIKE 'from-bad-% $run_id'")" 0 \
	"none of the ambiguous From headers is recorded"
n=0
for from in 'me@mine.test' 'Me <me@mine.test>' '"me@bank.test" <me@mine.test>' 'a@mine.test, b@mine.test'; do
	n=$((n + 1))
	out=$(send "$from" "from-good-$n $run_id")
	like "$out" '<-  250 2\.0\.0 Ok: queued' "From: $from is accepted"
done

# ---------------------------------------------------------------- item 7: forged verdicts
subject="forged verdict $run_id"
printf '%s\r\n' "From: App <app@mine.test>" "To: support@in.beta.test" "Subject: $subject" \
	"X-Postal-Spam: no" "x-postal-spam-score: -50.0" "X-Postal-Threat: no" \
	"X-Postgate-Inspection: v=1; spam=-50; servers=$beta_id:N; mac=00" "" "tenant to tenant $run_id" >"$tmp/forged.eml"
out=$(send_raw "$tmp/forged.eml" support@in.beta.test)
like "$out" '<-  250 2\.0\.0 Ok: queued' "tenant A's message with forged verdict headers to tenant B's route is accepted"
stored_b() { [ -n "$(harness_sql "SELECT id FROM messages WHERE subject = '$subject' AND scope = 'incoming'")" ]; }
harness_wait_for 30 stored_b || true
hdrs=$(harness_sql "SELECT CAST(r.headers AS CHAR) FROM messages m JOIN raw_messages r ON r.id = m.raw_message_id
	AND r.created_day = m.raw_message_day WHERE m.subject = '$subject' AND m.scope = 'incoming' AND m.server_id = $beta_id")
like "$hdrs" "Subject: $subject" "tenant B stored the message"
unlike "$hdrs" '(^|\n)(X-Postal-Spam|X-Postal-Threat|X-Postgate-Inspection)' \
	"... without any of the forged verdict headers"
is "$(harness_sql "SELECT CONCAT(inspected, ' ', IFNULL(spam_status, '-')) FROM messages WHERE subject = '$subject' AND scope = 'incoming'")" \
	"0 NotChecked" "... and without a verdict it did not get"
unlike "$(harness_sql "SELECT CAST(r.headers AS CHAR) FROM messages m JOIN raw_messages r ON r.id = m.raw_message_id
	AND r.created_day = m.raw_message_day WHERE m.subject = '$subject' AND m.scope = 'outgoing'")" \
	'(^|\n)(X-Postal-Spam|X-Postgate-Inspection)' "tenant A's stored copy has none either"

# ---------------------------------------------------------------- item 14: 8-bit headers
subject8="eight $run_id"
printf 'From: App <app@mine.test>\r\nTo: someone@example.net\r\nSubject: caf\351 cr\350me %s\r\nMessage-ID: <\351t\351.%s@mine.test>\r\nX-Postal-Tag: \351t\351\r\n\r\nbody\r\n' \
	"$subject8" "$run_id" >"$tmp/eight.eml"
out=$(send_raw "$tmp/eight.eml")
like "$out" '<-  250 2\.0\.0 Ok: queued' "8-bit Latin-1 bytes in Subject, Message-ID and X-Postal-Tag: accepted (not 451)"
is "$(harness_sql "SELECT CONCAT(subject, '|', message_id, '|', tag) FROM messages WHERE subject LIKE '%$subject8'")" \
	"café crème $subject8|<été.$run_id@mine.test>|été" "... and stored, the bytes read as Latin-1"
unlike "$(grep -c 'tempfail' "$HARNESS_DIR/milter.log" || true)" '^[1-9]' "the milter answered no tempfail at all"

# ---------------------------------------------------------------- item 15: long Subject
long_words=$(for i in $(seq 1 300); do printf 'word%04d ' "$i"; done)
long_words="${long_words:0:1500}"
out=$(send 'App <app@mine.test>' "$long_words" --add-header "X-Test-ID: long-spaces-$run_id")
like "$out" '<-  250 2\.0\.0 Ok: queued' "a 1,500-character Subject with spaces is accepted"
wait_sink "long-spaces-$run_id" || true
f=$(instance_sink_find "long-spaces-$run_id" || echo /dev/null)
like "$(verify_py "$f")" '^pass a=rsa-sha256 d=mine\.test' "... and python3-dkim verifies its signature at the sink"
is "$(awk 'length($0) > 999 { n++ } END { print n + 0 }' "$f")" 0 "... no line of it is over 998 octets"

solid=$(head -c 1500 /dev/zero | tr '\0' 'x')
out=$(send 'App <app@mine.test>' "$solid" --add-header "X-Test-ID: long-solid-$run_id")
like "$out" '<-  250 2\.0\.0 Ok: queued' "a 1,500-character Subject without white space is accepted"
wait_sink "long-solid-$run_id" || true
f=$(instance_sink_find "long-solid-$run_id" || echo /dev/null)
like "$(verify_py "$f")" '^pass a=rsa-sha256 d=mine\.test' "... and python3-dkim verifies its signature at the sink"
decoded=$(/usr/bin/python3 -c 'import sys, email.header, email
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print(str(email.header.make_header(email.header.decode_header(m["Subject"]))))' "$f" 2>&1 || true)
is "$decoded" "$solid" "... and its Subject, folded as encoded words, reads exactly as sent"
