#!/bin/bash
#
# maillog.t -- postgate-worker's delivery results and periodic jobs with the real Postfix,
# MariaDB and smtp-sink: every recipient's result read from Postfix's maillog_file
# (Sent / SoftFail / HardFail with dsn, relay, the remote reply, TLS), the message status,
# the webhook events in the outbox, multi-recipient mail, a deferred message later sent,
# a released held message, exactly-once across a worker restart, `postfix logrotate`
# and a MariaDB outage, queue expiry, hold expiry, send-limit events and partitions.
# Codes and TLS come from smtpcodes.py, a tiny SMTP server that Postfix reaches for the
# domain codes.test (transport_maps); everything else goes to smtp-sink.
#
# Must never: pass on a result it did not see in the database, or count a line the
# maillog does not have.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_start_postgate
plan 70

here=$(cd "$(dirname "$0")" && pwd)
ctl() { $HARNESS_CTL "$@"; }
pc() { postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" "$@"; }
run_id=$(instance_random_hex 4)

# ---------------------------------------------------------------- set-up

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl server create --org acme --name Other --permalink other >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
sid=$(harness_sql "SELECT id FROM servers WHERE permalink = 'mail'")
sid2=$(harness_sql "SELECT id FROM servers WHERE permalink = 'other'")
for s in "$sid" "$sid2"; do
	harness_sql "INSERT INTO webhooks (uuid, server_id, name, url) VALUES (UUID(), $s, 'all', 'http://127.0.0.1:9/hook')"
done

# The fake receiver for codes.test, with STARTTLS.
codes_dir="$HARNESS_DIR/codes"
mkdir -p "$codes_dir"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$codes_dir/key.pem" -out "$codes_dir/cert.pem" -days 2 \
	-subj /CN=codes.test >/dev/null 2>&1
codes_port=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT" "$HARNESS_RELEASE_PORT" "$HARNESS_INJECTION_PORT")
/usr/bin/python3 "$here/smtpcodes.py" "$codes_port" "$codes_dir" "$codes_dir/cert.pem" "$codes_dir/key.pem" \
	>"$codes_dir/log" 2>&1 &
codes_pid=$!
stop_codes() { kill "$codes_pid" 2>/dev/null || true; wait "$codes_pid" 2>/dev/null || true; }
trap 'rc=$?; stop_codes; harness_on_exit $rc' EXIT
instance_wait_port "$codes_port" 20 "$codes_pid" || harness_setup_failed "smtpcodes.py did not start"
pc -e "transport_maps = inline:{ codes.test=smtp:[127.0.0.1]:$codes_port }" "smtp_tls_security_level = may"
postfix -c "$INSTANCE_POSTFIX_CONFIG_DIR" reload >/dev/null 2>&1
instance_wait_port "$INSTANCE_SMTP_PORT" 30

is "$(pc -h smtp_tls_loglevel)" 1 "postgatectl postfix enable sets smtp_tls_loglevel = 1 (TLS shows in the log)"

# The worker must read a log file only root may read (as Postfix >= 3.9 creates it).
chmod 600 "$INSTANCE_MAILLOG"
export POSTGATE_WORKER_JOBS_INTERVAL=1   # the config already has a worker section
# An old partition the partition job must drop (clicks keep message_retention_days, 60).
harness_sql "ALTER TABLE clicks REORGANIZE PARTITION pmax INTO (PARTITION p20200101 VALUES LESS THAN ('2020-01-02'), PARTITION pmax VALUES LESS THAN (MAXVALUE))"
harness_start_worker

is "$(ps -o user= -p "$HARNESS_WORKER_PID" | tr -d ' ')" postgate "the worker runs as daemon.user"
is "$(ps -o user= --ppid "$HARNESS_WORKER_PID" | tr -d ' ')" root "... beside its root helper that opens the log"

# send SUBJECT RCPTS [swaks args...]: submit with SMTP AUTH; prints the queue ID.
send() {
	local subject=$1 rcpts=$2 out
	shift 2
	out=$(timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail \
		--auth-password "$key" --from app@example.com --to "$rcpts" --h-From "App <app@example.com>" \
		--h-Subject "$subject $run_id" "$@" 2>&1 || true)
	sed -n 's/^<-  250 2.0.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$out" | tail -1
}
# row SUBJECT RCPT: the message row's id.
row() { harness_sql "SELECT id FROM messages WHERE subject = '$1 $run_id' AND rcpt_to = '$2'"; }
status_of() { harness_sql "SELECT status FROM messages WHERE id = $1"; }
ndeliveries() { harness_sql "SELECT COUNT(*) FROM deliveries WHERE message_id = $1 AND status = '$2'"; }
has_delivery() { [ "$(ndeliveries "$1" "$2")" -ge "${3:-1}" ]; }
wait_delivery() { harness_wait_for "${4:-40}" has_delivery "$1" "$2" "${3:-1}"; }
last_delivery() {
	harness_sql "SELECT CONCAT_WS('|', status, IFNULL(dsn, ''), IFNULL(relay, ''), output, sent_with_ssl, log_id, time IS NOT NULL, details)
		FROM deliveries WHERE message_id = $1 ORDER BY id DESC LIMIT 1"
}
# event MESSAGE_ID EVENT: the newest outbox payload of that event for the message.
event() {
	harness_sql "SELECT payload FROM webhook_outbox WHERE event = '$2'
		AND JSON_VALUE(payload, '\$.message.id') = $1 ORDER BY id DESC LIMIT 1"
}

# ---------------------------------------------------------------- results

# 4-10: delivered to the sink.
qid=$(send sent someone@example.net)
m=$(row sent someone@example.net)
wait_delivery "$m" Sent || true
is "$(last_delivery "$m")" \
	"Sent|2.0.0|127.0.0.1[127.0.0.1]:$INSTANCE_SINK_PORT|250 2.0.0 Ok|0|$qid|1|Message for someone@example.net accepted by 127.0.0.1[127.0.0.1]:$INSTANCE_SINK_PORT" \
	"a delivered message: a Sent delivery with dsn, relay, the remote reply, log_id and time"
is "$(status_of "$m")" Sent "... and the message's status is Sent"
p=$(event "$m" MessageSent)
is "$(harness_jv message.token <<<"$p") $(harness_jv status <<<"$p") $(harness_jv output <<<"$p") $(harness_jv sent_with_ssl <<<"$p")" \
	"$(harness_sql "SELECT token FROM messages WHERE id = $m") Sent 250 2.0.0 Ok false" \
	"a MessageSent event is queued with Postal's message object, status, output, sent_with_ssl"
like "$(harness_jv details <<<"$p") $(harness_jv timestamp <<<"$p") $(harness_jv time <<<"$p")" \
	'^Message for someone@example.net accepted by .* [0-9]{10}(\.[0-9]+)? [0-9.]+$' "... with details, timestamp and time"
is "$(harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE JSON_VALUE(payload, '\$.message.id') = $m")" 1 \
	"exactly one event for one delivery"
is "$(harness_sql "SELECT COUNT(*) FROM postfix_log_positions WHERE file_path = '$INSTANCE_MAILLOG' AND byte_offset > 0")" 1 \
	"the read position is recorded"
like "$(grep -c 'maillog: started' "$HARNESS_WORKER_LOG")$(grep -c 'jobs: started' "$HARNESS_WORKER_LOG")" '^11$' \
	"both tasks started"

# 11-12: TLS to the codes receiver.
send tls ok@codes.test >/dev/null
m=$(row tls ok@codes.test)
wait_delivery "$m" Sent || true
like "$(last_delivery "$m")" "^Sent\|2\.0\.0\|127\.0\.0\.1\[127\.0\.0\.1\]:$codes_port\|250 2\.0\.0 Ok: queued as CODES[0-9]+\|1\|" \
	"a delivery over STARTTLS: sent_with_ssl = 1"
is "$(harness_jv sent_with_ssl <<<"$(event "$m" MessageSent)")" true "... and the event says sent_with_ssl true"

# 13-16: 4xx: SoftFail and MessageDelayed (Postfix keeps retrying).
send soft soft@codes.test >/dev/null
m_soft=$(row soft soft@codes.test)
wait_delivery "$m_soft" SoftFail || true
like "$(last_delivery "$m_soft")" '^SoftFail\|4\.2\.0\|127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]+\|450 4\.2\.0 <soft@codes.test>: Recipient address rejected: try again later\|1\|' \
	"a 4xx reply: SoftFail with the remote reply"
is "$(status_of "$m_soft")" SoftFail "... the message is SoftFail"
is "$(harness_jv status <<<"$(event "$m_soft" MessageDelayed)")" SoftFail "... and MessageDelayed is queued"
like "$(harness_sql "SELECT details FROM deliveries WHERE message_id = $m_soft LIMIT 1")" \
	'^Temporary SMTP delivery error when sending to 127\.0\.0\.1' "... with Postal's sentence"

# 17-19: 5xx: HardFail and MessageDeliveryFailed.
send hard hard@codes.test >/dev/null
m=$(row hard hard@codes.test)
wait_delivery "$m" HardFail || true
like "$(last_delivery "$m")" '^HardFail\|5\.1\.1\|127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]+\|550 5\.1\.1 <hard@codes.test>: Recipient address rejected: User unknown\|1\|' \
	"a 5xx reply: HardFail with the remote reply"
is "$(status_of "$m")" HardFail "... the message is HardFail"
is "$(harness_jv status <<<"$(event "$m" MessageDeliveryFailed)")" HardFail "... and MessageDeliveryFailed is queued"
is "$(harness_sql "SELECT CONCAT_WS('|', source, reason, DATEDIFF(keep_until, created_at)) FROM suppressions
	WHERE server_id = $sid AND address = 'hard@codes.test'")" \
	"hard_fail|550 5.1.1 <hard@codes.test>: Recipient address rejected: User unknown|30" \
	"... and the recipient goes on the server's suppression list for 30 days, the reply as the reason"
is "$(harness_sql "SELECT COUNT(*) FROM suppressions WHERE address = 'soft@codes.test'")" 0 "a 4xx puts nobody on the list"

# 20-22: several recipients of one message, each its own result.
qid=$(send multi "one@example.net,two@codes.test,hard-two@codes.test")
for r in one@example.net two@codes.test hard-two@codes.test; do
	wait_delivery "$(row multi "$r")" "$([ "$r" = hard-two@codes.test ] && echo HardFail || echo Sent)" || true
done
is "$(harness_sql "SELECT GROUP_CONCAT(rcpt_to, '=', status ORDER BY rcpt_to) FROM messages WHERE subject = 'multi $run_id'")" \
	"hard-two@codes.test=HardFail,one@example.net=Sent,two@codes.test=Sent" "three recipients of one message: each row its own status"
is "$(harness_sql "SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.subject = 'multi $run_id'")" 3 \
	"... one delivery each"
is "$(harness_sql "SELECT COUNT(DISTINCT log_id) FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.subject = 'multi $run_id'")$qid" \
	"1$qid" "... all with the message's queue ID as log_id"

# 23-26: a deferred message later sent: several deliveries, the status follows the latest.
touch "$codes_dir/defer-all"
send later later@codes.test >/dev/null
m=$(row later later@codes.test)
wait_delivery "$m" SoftFail || true
is "$(status_of "$m")" SoftFail "while the receiver defers: SoftFail"
rm -f "$codes_dir/defer-all"
# Retry now rather than after Postfix's backoff, so a busy machine cannot make it late.
postqueue -c "$INSTANCE_POSTFIX_CONFIG_DIR" -f >/dev/null 2>&1 || true
wait_delivery "$m" Sent 1 90 || true
is "$(status_of "$m")" Sent "once it accepts: the message is Sent"
like "$(harness_sql "SELECT GROUP_CONCAT(status ORDER BY id) FROM deliveries WHERE message_id = $m")" '^SoftFail(,SoftFail)*,Sent$' \
	"... after one or more SoftFail deliveries"
like "$(harness_sql "SELECT GROUP_CONCAT(event ORDER BY id) FROM webhook_outbox WHERE JSON_VALUE(payload, '\$.message.id') = $m")" \
	'^MessageDelayed(,MessageDelayed)*,MessageSent$' "... with MessageDelayed events, then MessageSent"

# 27-30: a suppressed recipient is held; released, it gets a new queue ID, is delivered, and
# the successful send removes it from the suppression list.
harness_sql "INSERT INTO suppressions (server_id, address, reason, source) VALUES ($sid, 'held@example.net', 'test', 'manual')"
send held held@example.net >/dev/null
m=$(row held held@example.net)
is "$(status_of "$m")" Held "a suppressed recipient is held"
token=$(harness_sql "SELECT token FROM messages WHERE id = $m")
old_qid=$(harness_sql "SELECT IFNULL(postfix_queue_id, '') FROM messages WHERE id = $m")
ctl message release "$token" >/dev/null 2>&1 || true
wait_delivery "$m" Sent || true
is "$(status_of "$m")" Sent "released: delivered and recorded as Sent"
isnt "$(harness_sql "SELECT log_id FROM deliveries WHERE message_id = $m")" "$old_qid" "... under the release's new queue ID"
is "$(harness_sql "SELECT COUNT(*) FROM suppressions WHERE server_id = $sid AND address = 'held@example.net'")" 0 \
	"... and the successful send removed the recipient from the suppression list"

# ---------------------------------------------------------------- exactly once

# every_line_once [quiet]: each recorded row has exactly as many log-derived deliveries as
# the maillog (current and rotated files) has delivery lines for its queue ID and recipient.
# A message Postfix keeps retrying adds lines all the time, so callers first wait (quiet)
# for the worker to catch up, then check.
every_line_once() {
	local bad=0 id q r want got quiet=${1:-}
	while IFS=$'\t' read -r id q r; do
		want=$(zcat -f "$INSTANCE_MAILLOG"* 2>/dev/null | grep -cE "postfix/[a-z]+\[[0-9]+\]: $q: to=<$r>, .*status=(sent|deferred|bounced)" || true)
		got=$(harness_sql "SELECT COUNT(*) FROM deliveries WHERE message_id = $id AND status <> 'HoldCancelled' AND details NOT LIKE '%expired in Postfix%'")
		if [ "$want" != "$got" ]; then
			[ -n "$quiet" ] || diag "message $id ($q, $r): $want delivery line(s) in the log, $got recorded"
			bad=1
		fi
	done < <(harness_sql "SELECT id, postfix_queue_id, rcpt_to FROM messages WHERE postfix_queue_id IS NOT NULL AND status <> 'Held'")
	return $bad
}
# lines_once NAME: passes once every line is recorded exactly once, waiting up to 45 s for the
# worker to catch up with lines Postfix is still writing; a lasting difference fails, with
# the messages that differ.
lines_once() {
	if harness_wait_for 45 every_line_once quiet; then ok 0 "$1"; else every_line_once || true; ok 1 "$1"; fi
}
sent_once() { # SUBJECT...: each has exactly one Sent delivery
	local s m
	for s in "$@"; do
		m=$(row "$s" someone@example.net)
		[ -n "$m" ] && [ "$(ndeliveries "$m" Sent)" = 1 ] || return 1
	done
}

# 31-33: the worker stopped while mail is delivered, then restarted.
instance_postgate_stop "$HARNESS_DIR" worker
for i in 1 2 3; do send "offline $i" someone@example.net >/dev/null; done
harness_wait_for 30 test "$(instance_sink_count "offline 3 $run_id")" = 1 || true
is "$(harness_sql "SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.subject LIKE 'offline % $run_id'")" 0 \
	"with the worker stopped nothing is recorded"
harness_start_worker
ok "$(harness_wait_for 30 sent_once "offline 1" "offline 2" "offline 3"; echo $?)" \
	"after the restart each message has exactly one Sent delivery"
lines_once "every delivery line so far is recorded exactly once"

# 34-38: postfix logrotate between deliveries (the new file is made root-only at once).
old_inode=$(stat -c %i "$INSTANCE_MAILLOG")
send "rot 1" someone@example.net >/dev/null
harness_wait_for 30 sent_once "rot 1" || true
postfix -c "$INSTANCE_POSTFIX_CONFIG_DIR" logrotate >/dev/null 2>&1
harness_wait_for 10 test -e "$INSTANCE_MAILLOG" || true
chmod 600 "$INSTANCE_MAILLOG"
send "rot 2" someone@example.net >/dev/null
send "rot 3" someone@example.net >/dev/null
isnt "$(stat -c %i "$INSTANCE_MAILLOG")" "$old_inode" "postfix logrotate made a new log file"
ok "$(harness_wait_for 40 sent_once "rot 1" "rot 2" "rot 3"; echo $?)" \
	"across the rotation each message has exactly one Sent delivery"
ok "$(harness_wait_for 10 grep -q 'now reading inode' "$HARNESS_WORKER_LOG"; echo $?)" "the worker finished the old file and moved on"
is "$(harness_sql "SELECT inode FROM postfix_log_positions WHERE file_path = '$INSTANCE_MAILLOG'")" \
	"$(stat -c %i "$INSTANCE_MAILLOG")" "the recorded position is in the new file"
lines_once "every delivery line is still recorded exactly once"

# 39-42: MariaDB goes away while Postfix delivers: the worker waits and loses nothing.
touch "$codes_dir/defer-all"
send outage outage@codes.test >/dev/null
m=$(row outage outage@codes.test)
wait_delivery "$m" SoftFail || true
instance_mariadb_stop "$HARNESS_DIR/mariadb"
rm -f "$codes_dir/defer-all"
# Retry now rather than after Postfix's backoff (on a loaded machine the next retry came
# after two minutes).
postqueue -c "$INSTANCE_POSTFIX_CONFIG_DIR" -f >/dev/null 2>&1 || true
harness_wait_for 90 grep -q "outage@codes.test>, .*status=sent" "$INSTANCE_MAILLOG" || true
ok "$(grep -q "outage@codes.test>, .*status=sent" "$INSTANCE_MAILLOG"; echo $?)" "Postfix delivered while MariaDB was down"
sleep 2
instance_mariadb_start "$HARNESS_DIR/mariadb" >/dev/null
wait_delivery "$m" Sent 1 60 || true
is "$(ndeliveries "$m" Sent)" 1 "after MariaDB is back the delivery is recorded once"
like "$(grep -c 'will retry' "$HARNESS_WORKER_LOG")" '^[1-9]' "the worker logged the outage and retried"
lines_once "nothing was lost or doubled by the outage"

# 43-44: the log truncated in place (logrotate's copytruncate): read again from the start.
# (After the last once-only check: the lines before the truncation are gone from the file.)
truncate -s 0 "$INSTANCE_MAILLOG"
harness_wait_for 20 grep -q 'truncated' "$HARNESS_WORKER_LOG" || true
send "trunc 1" someone@example.net >/dev/null
ok "$(harness_wait_for 40 sent_once "trunc 1"; echo $?)" "after a truncation the next message is recorded once"
pos_at_end() {
	[ "$(harness_sql "SELECT byte_offset FROM postfix_log_positions WHERE file_path = '$INSTANCE_MAILLOG'")" = \
		"$(stat -c %s "$INSTANCE_MAILLOG")" ]
}
ok "$(harness_wait_for 10 pos_at_end; echo $?)" "the recorded position follows the truncated file to its end"

# ---------------------------------------------------------------- expiry

# 45-48: a deferred message expires (postsuper -e, as an administrator gives up on it; the
# same qmgr line as maximal_queue_lifetime's but for its word, and at a moment the test
# chooses rather than Postfix's next retry on a loaded machine): the remaining recipients HardFail.
qid=$(send expire "exp-ok@example.net,soft-exp@codes.test")
m=$(row expire soft-exp@codes.test)
m_ok=$(row expire exp-ok@example.net)
wait_delivery "$m" SoftFail || true
wait_delivery "$m_ok" Sent || true
qid_soft=$(harness_sql "SELECT postfix_queue_id FROM messages WHERE id = $m_soft")
postsuper -c "$INSTANCE_POSTFIX_CONFIG_DIR" -e "$qid" >/dev/null 2>&1 || diag "postsuper -e $qid failed"
postsuper -c "$INSTANCE_POSTFIX_CONFIG_DIR" -e "$qid_soft" >/dev/null 2>&1 || diag "postsuper -e $qid_soft failed"
postqueue -c "$INSTANCE_POSTFIX_CONFIG_DIR" -f >/dev/null 2>&1 || true
wait_delivery "$m" HardFail 1 90 || true
like "$(last_delivery "$m")" '^HardFail\|5\.4\.7\|\|status=force-expired, returned to sender\|0\|[0-9A-Za-z]+\|0\|Message for soft-exp@codes.test was expired in Postfix.s queue by its administrator' \
	"an expired queue file: the deferred recipient becomes HardFail"
is "$(status_of "$m") $(status_of "$m_ok")" "HardFail Sent" "... while the recipient already delivered stays Sent"
is "$(harness_sql "SELECT COUNT(*) FROM suppressions WHERE address = 'soft-exp@codes.test'")" 0 \
	"... and Postfix's own verdict (no relay, no reply) suppresses nobody"
is "$(harness_jv status <<<"$(event "$m" MessageDeliveryFailed)")" HardFail "... with MessageDeliveryFailed"
wait_delivery "$m_soft" HardFail 1 60 || true
is "$(status_of "$m_soft")" HardFail "the older deferred message expired as well"

# ---------------------------------------------------------------- jobs

# 49-53: hold expiry.
harness_sql "INSERT INTO suppressions (server_id, address, reason, source) VALUES ($sid, 'expire@example.net', 'test', 'manual')"
send holdexp expire@example.net >/dev/null
m=$(row holdexp expire@example.net)
is "$(status_of "$m")" Held "a held message"
harness_sql "UPDATE messages SET hold_expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE WHERE id = $m"
harness_wait_for 20 test "$(status_of "$m")" = HoldCancelled || true
is "$(status_of "$m")" HoldCancelled "once its hold expired: HoldCancelled"
is "$(harness_sql "SELECT CONCAT(status, ':', details LIKE '%not released%') FROM deliveries WHERE message_id = $m")" \
	"HoldCancelled:1" "... with a HoldCancelled delivery"
is "$(harness_sql "SELECT hold_expires_at IS NULL FROM messages WHERE id = $m")" 1 "... and hold_expires_at cleared"
like "$(harness_sql "SELECT CONCAT(last_finished_at IS NOT NULL, locked_by IS NULL) FROM jobs WHERE name = 'hold_expiry'")" '^11$' \
	"the job's lease is recorded and given back"

# 54-59: send-limit events: approaching for a server at 90 %, exceeded at 100 %, once an hour.
harness_sql "INSERT INTO send_volume (server_id, scope, minute, shard, count) VALUES ($sid2, 'outgoing', DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:00'), 0, 9)"
harness_sql "UPDATE servers SET send_limit = 10 WHERE id = $sid2"
volume=$(harness_sql "SELECT SUM(count) FROM send_volume WHERE server_id = $sid")
harness_sql "UPDATE servers SET send_limit = $volume WHERE id = $sid"
limit_event() { harness_sql "SELECT payload FROM webhook_outbox WHERE server_id = $1 AND event = '$2' ORDER BY id LIMIT 1"; }
harness_wait_for 20 test -n "$(limit_event "$sid2" SendLimitApproaching)" || true
p=$(limit_event "$sid2" SendLimitApproaching)
is "$(harness_jv server.permalink <<<"$p") $(harness_jv server.organization <<<"$p") $(harness_jv server.name <<<"$p") $(harness_jv volume <<<"$p") $(harness_jv limit <<<"$p")" \
	"other acme Other 9 10" "90 % of the limit: SendLimitApproaching with {server, volume, limit}"
like "$(harness_jv server.uuid <<<"$p")" '^[0-9a-f-]{36}$' "... the server object carries its uuid"
harness_wait_for 20 test -n "$(limit_event "$sid" SendLimitExceeded)" || true
p=$(limit_event "$sid" SendLimitExceeded)
is "$(harness_jv server.permalink <<<"$p") $(harness_jv volume <<<"$p") $(harness_jv limit <<<"$p")" "mail $volume $volume" \
	"the limit reached: SendLimitExceeded"
is "$(harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE server_id = $sid AND event = 'SendLimitApproaching'")" 0 \
	"... and no approaching event for the server already over it"
sleep 3
is "$(harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE event IN ('SendLimitApproaching', 'SendLimitExceeded')")" 2 \
	"several job rounds later still one event each (at most once an hour)"
is "$(harness_sql "SELECT send_limit_approaching_at IS NOT NULL FROM servers WHERE id = $sid2")" 1 "the time it fired is recorded"

# 60-64: partitions.
today=$(harness_sql "SELECT DATE_FORMAT(UTC_DATE(), 'p%Y%m%d')")
last=$(harness_sql "SELECT DATE_FORMAT(UTC_DATE() + INTERVAL 7 DAY, 'p%Y%m%d')")
parts() { harness_sql "SELECT GROUP_CONCAT(PARTITION_NAME ORDER BY PARTITION_ORDINAL_POSITION) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '$1'"; }
for t in raw_messages webhook_requests loads; do
	like "$(parts "$t")" "^$today,(p[0-9]{8},){6}$last,pmax$" "$t: daily partitions from today to a week ahead, then pmax"
done
like "$(parts clicks)" "^$today,.*,$last,pmax$" "clicks: the same"
unlike "$(parts clicks)" 'p20200101' "... and its partition older than the retention was dropped"

# 65-67: the logs.
is "$(grep -c ': error: \|: fatal: \|: panic: \|AddressSanitizer\|runtime error' "$HARNESS_WORKER_LOG" || true)" 0 "the worker logged no errors"
instance_postgate_stop "$HARNESS_DIR" worker
like "$(tail -n 3 "$HARNESS_WORKER_LOG")" 'stopped' "the worker stops on SIGTERM"
is "$(pgrep -f "postgate-worker -c $HARNESS_CONFIG" | wc -l)" 0 "... and its root helper with it"
