#!/bin/bash
#
# spam.t -- spam and virus checks through the real Postfix, postgate-milter, SpamAssassin's
# spamd (GTUBE) and ClamAV's clamd (a signature database the harness writes: EICAR), with
# postgate-worker storing what Postfix accepted over LMTP: GTUBE refused at the failure
# threshold and by a route in Fail mode, quarantined (Held) by a route in Quarantine mode,
# marked (spam_status Spam, Postal's headers) in Mark mode; EICAR refused at SMTP time; a
# clean message marked "no"; forged X-Postal-Spam* headers removed; the worker trusting
# only the milter's signed verdict (a forged or transplanted one is ignored); several
# servers in one message (the strictest answer); outbound_spam_threshold refusing GTUBE
# from an authenticated sender; a tenant's mail to a route judged afresh by the receiving
# server (quarantined, refused by a Fail route); spamd and clamd down (tempfail by default, accepted
# unscanned with when_unavailable = accept). Routes are made with SQL as in incoming.t.
#
# Must never: count a verdict that the stored message or Postfix's answer does not show.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v spamd >/dev/null || skip_all "spamd missing: run 'packaging/install-deps test' as root"
command -v clamd >/dev/null || skip_all "clamd missing: run 'packaging/install-deps test' as root"

harness_setup mariadb sink postfix spamd clamd
cat >>"$HARNESS_CONFIG" <<EOF
spamd: { enabled = true; address = "$INSTANCE_SPAMD_ADDRESS"; timeout = 20; };
clamd: { enabled = true; address = "$INSTANCE_CLAMD_ADDRESS"; timeout = 20; };
EOF
harness_start_postgate
harness_start_worker
plan 61

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
tmp=$HARNESS_DIR
lmtp_socket="$HARNESS_QUEUE_DIR/postgate/lmtp"

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Inbox --permalink inbox >/dev/null
ctl server create --org acme --name Strict --permalink strict >/dev/null
ctl server create --org acme --name Out --permalink out >/dev/null
ctl domain create --server acme/inbox --name in.spam.test --verified >/dev/null
ctl domain create --server acme/strict --name strict.spam.test --verified >/dev/null
ctl domain create --server acme/out --name out.spam.test --verified >/dev/null
key=$(ctl credential create --server acme/out --name app | sed -n 's/^key: //p')
inbox_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'inbox'")
strict_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'strict'")
# GTUBE scores about 1000: the inbox server lets it reach its routes' spam modes; the
# strict server keeps Postal's defaults (spam over 5, refused from 20).
harness_sql "UPDATE servers SET spam_failure_threshold = 9999 WHERE id = $inbox_id"
harness_sql "UPDATE servers SET outbound_spam_threshold = 5 WHERE permalink = 'out'"
dom() { harness_sql "SELECT id FROM domains WHERE name = '$1'"; }
route() { # NAME DOMAIN SPAM_MODE SERVER_ID
	harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, spam_mode)
		VALUES (UUID(), $4, $(dom "$2"), '$1', '$(instance_random_hex 4)', 'Accept', '$3')"
}
route mark in.spam.test Mark "$inbox_id"
route quarantine in.spam.test Quarantine "$inbox_id"
route fail in.spam.test Fail "$inbox_id"
route strict strict.spam.test Mark "$strict_id"
# A webhook for every event (nothing listens: the events stay in the outbox to be read).
harness_sql "INSERT INTO webhooks (uuid, server_id, name, url) VALUES (UUID(), $inbox_id, 'all', 'http://127.0.0.1:9/')"

gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
ham="The minutes of Tuesday's meeting are on the wiki page; the next one is on Thursday at ten."

# mkmsg FILE SUBJECT BODY [HEADER...]: an RFC 5322 message with CRLF line ends.
mkmsg() {
	local file=$1 subject=$2 body=$3 h
	shift 3
	{
		printf 'From: Alice Sender <sender@example.org>\r\nTo: someone@spam.test\r\n'
		printf 'Subject: %s\r\nDate: %s\r\nMessage-ID: <%s@example.org>\r\n' "$subject" "$(date -R)" "$(instance_random_hex 8)"
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf '\r\n%s\r\n' "$body"
	} >"$file"
}
# send FILE RCPT...: unauthenticated, as the Internet would; the SMTP dialogue.
send() {
	local file=$1 to
	shift
	to=$(IFS=,; echo "$*")
	timeout 90 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from sender@example.org --to "$to" \
		--data "$file" 2>&1 || true
}
# lmtp FILE RCPT: straight to postgate-worker's LMTP socket, past Postfix and the milter.
lmtp() {
	timeout 60 swaks --socket "$lmtp_socket" --protocol LMTP --from sender@example.org --to "$2" \
		--data "$1" 2>&1 || true
}
row() { harness_sql "SELECT CONCAT_WS(' ', status, spam_status, IFNULL(hold_reason, '-'), inspected) FROM messages WHERE subject = '$1' AND rcpt_to = '$2'"; }
stored() { [ -n "$(row "$1" "$2")" ]; }
# The stored header block, CRLFs and folding as stored.
raw_headers() {
	harness_sql "SELECT HEX(r.headers) FROM messages m JOIN raw_messages r ON r.id = m.raw_message_id
		AND r.created_day = m.raw_message_day WHERE m.subject = '$1' LIMIT 1" | xxd -r -p | tr -d '\r'
}
header_lines() { raw_headers "$1" | grep -ci "^$2:" || true; }

# A clean message is marked "no", with the score and the rows' verdict.
subject="clean $run_id"
mkmsg "$tmp/clean.eml" "$subject" "$ham"
out=$(send "$tmp/clean.eml" mark@in.spam.test)
like "$out" '<-  250 2\.0\.0 Ok: queued' "a clean message is accepted"
harness_wait_for 30 stored "$subject" mark@in.spam.test || true
is "$(row "$subject" mark@in.spam.test)" "Processed NotSpam - 1" "... stored NotSpam and inspected"
hdrs=$(raw_headers "$subject")
like "$hdrs" $'(^|\n)X-Postal-Spam: no\n' "... with X-Postal-Spam: no"
like "$hdrs" $'\nX-Postal-Spam-Threshold: 5\\.0\n' "... X-Postal-Spam-Threshold as Postal writes it (5.0)"
like "$hdrs" $'\nX-Postal-Spam-Score: -?[0-9]+\\.[0-9]+\n' "... X-Postal-Spam-Score"
like "$hdrs" $'\nX-Postal-Threat: no\n' "... and X-Postal-Threat: no"

# GTUBE to a route in Mark mode: delivered, marked, its rules recorded.
subject="mark $run_id"
mkmsg "$tmp/mark.eml" "$subject" "$gtube"
out=$(send "$tmp/mark.eml" mark@in.spam.test)
like "$out" '<-  250 2\.0\.0 Ok: queued' "GTUBE for a Mark route is accepted (under the server's failure threshold)"
harness_wait_for 30 stored "$subject" mark@in.spam.test || true
is "$(row "$subject" mark@in.spam.test)" "Processed Spam - 1" "... stored with spam_status Spam, not held"
hdrs=$(raw_headers "$subject")
like "$hdrs" $'(^|\n)X-Postal-Spam: yes\n' "... with X-Postal-Spam: yes"
like "$hdrs" $'\nX-Postal-Spam-Score: 1[0-9]{3}(\\.[0-9]+)?\n' "... and its score (GTUBE: over 1000)"
like "$(harness_sql "SELECT CONCAT(spam_score, ' ', JSON_EXTRACT(spam_checks, '\$[*].code')) FROM messages WHERE subject = '$subject'")" \
	'^1[0-9]{3}\.[0-9]{2} .*"GTUBE"' "... the score and the matching spamd rules are recorded (spam_score, spam_checks)"

# GTUBE to a route in Quarantine mode: held by the worker.
subject="quarantine $run_id"
mkmsg "$tmp/quarantine.eml" "$subject" "$gtube"
out=$(send "$tmp/quarantine.eml" quarantine@in.spam.test)
like "$out" '<-  250 2\.0\.0 Ok: queued' "GTUBE for a Quarantine route is accepted"
harness_wait_for 30 stored "$subject" quarantine@in.spam.test || true
is "$(row "$subject" quarantine@in.spam.test)" "Held Spam Message placed into quarantine. 1" \
	"... and held with Postal's quarantine reason"
is "$(harness_sql "SELECT JSON_VALUE(payload, '\$.message.spam_status') FROM webhook_outbox WHERE event = 'MessageHeld' AND JSON_VALUE(payload, '\$.message.subject') = '$subject'")" \
	Spam "... with a MessageHeld event whose message shows spam_status Spam"

# GTUBE to a route in Fail mode, and at a server's failure threshold: refused.
subject="fail $run_id"
mkmsg "$tmp/fail.eml" "$subject" "$gtube"
out=$(send "$tmp/fail.eml" fail@in.spam.test)
like "$out" '<\*\* 550 5\.7\.1 Message rejected as spam: its score [0-9.]+ is over the threshold 5\.0' \
	"GTUBE for a Fail route is refused at SMTP time with 550 5.7.1"
subject="strict $run_id"
mkmsg "$tmp/strict.eml" "$subject" "$gtube"
out=$(send "$tmp/strict.eml" strict@strict.spam.test)
like "$out" '<\*\* 550 5\.7\.1 Message rejected as spam: its score [0-9.]+ reaches the failure threshold 20\.0' \
	"GTUBE at a server's spam_failure_threshold is refused with 550 5.7.1, whatever the spam mode"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject IN ('fail $run_id', 'strict $run_id')")" 0 \
	"... and neither refused message is stored"

# A bounce to a return path of the strict server quoting GTUBE: never refused for its score.
token=rp$(instance_random_hex 7)
harness_sql "INSERT INTO messages (server_id, token, scope, rcpt_to, mail_from, subject) VALUES ($strict_id, '$token', 'outgoing', 'x@example.net', 'app@strict.spam.test', 'original $run_id')"
subject="bounce $run_id"
mkmsg "$tmp/bounce.eml" "$subject" "Your message could not be delivered: $gtube"
out=$(send "$tmp/bounce.eml" "$token@rp.postgate.test")
like "$out" '<-  250 2\.0\.0 Ok: queued' "a bounce quoting GTUBE to a return path is accepted (bounces are not refused for their score)"
harness_wait_for 30 stored "$subject" "$token@rp.postgate.test" || true
is "$(row "$subject" "$token@rp.postgate.test")" "Processed Spam - 1" "... stored for its server, its score recorded"

# One message for two servers: the strictest answer (a refusal) for all.
subject="two servers $run_id"
mkmsg "$tmp/two.eml" "$subject" "$gtube"
out=$(send "$tmp/two.eml" mark@in.spam.test strict@strict.spam.test)
like "$out" '<\*\* 550 5\.7\.1 Message rejected as spam' \
	"GTUBE for a lenient and a strict server at once is refused (the strictest outcome; the sender is told)"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$subject'")" 0 "... and stored for neither"

# EICAR is refused at SMTP time with the signature's name.
subject="eicar $run_id"
mkmsg "$tmp/eicar.eml" "$subject" "$eicar"
out=$(send "$tmp/eicar.eml" mark@in.spam.test)
like "$out" '<\*\* 554 5\.7\.1 Message rejected: virus found \(Postgate-Test-EICAR' \
	"EICAR is refused at SMTP time with 554 5.7.1 naming the signature"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$subject'")" 0 "... and not stored"
like "$(grep 'virus' "$HARNESS_DIR/milter.log" | tail -1)" 'virus Postgate-Test-EICAR.* found by clamd; refused' \
	"... and the milter logged it"

# Forged verdict headers from the sender are removed; the milter's own remain.
subject="forged $run_id"
mkmsg "$tmp/forged.eml" "$subject" "$gtube" "X-Postal-Spam: no" "x-postal-spam-score: -50.0" \
	"X-POSTAL-THREAT: no" "X-Postal-Spam: no" "X-Postgate-Inspection: v=1; spam=-50; servers=$inbox_id:N; mac=00"
out=$(send "$tmp/forged.eml" quarantine@in.spam.test)
harness_wait_for 30 stored "$subject" quarantine@in.spam.test || true
hdrs=$(raw_headers "$subject")
is "$(header_lines "$subject" X-Postal-Spam)" 1 "forged X-Postal-Spam headers are removed (one left: the milter's)"
like "$hdrs" $'(^|\n)X-Postal-Spam: yes\n' "... and it says yes"
unlike "$hdrs" '-50' "... no forged score survives, in any spelling"
is "$(header_lines "$subject" X-Postgate-Inspection) $(header_lines "$subject" X-Postal-Threat)" "1 1" \
	"... one X-Postgate-Inspection and one X-Postal-Threat (the forged ones removed)"
is "$(row "$subject" quarantine@in.spam.test)" "Held Spam Message placed into quarantine. 1" \
	"... and the message is quarantined all the same"

# The worker trusts only the milter's signed verdict (LMTP straight to the worker).
subject="lmtp forged $run_id"
mkmsg "$tmp/lmtp-forged.eml" "$subject" "$gtube" "X-Postal-Spam: yes" \
	"X-Postgate-Inspection: v=1; spam=1000; threat=clean; servers=$inbox_id:S; mac=$(printf '%064d' 0)"
out=$(lmtp "$tmp/lmtp-forged.eml" quarantine@in.spam.test)
like "$out" '<-  250 2\.0\.0 <quarantine@in\.spam\.test> stored' "LMTP straight to the worker with a forged verdict: stored"
is "$(row "$subject" quarantine@in.spam.test)" "Processed NotChecked - 0" "... but the forged verdict is ignored (not held, NotChecked)"
like "$(grep 'ignoring an X-Postgate-Inspection' "$HARNESS_WORKER_LOG" | tail -1)" 'from=<sender@example\.org>' \
	"... and the worker logged it"
# A genuine verdict (the clean message's) is valid for its own body only.
genuine=$(raw_headers "clean $run_id" | awk '/^X-Postgate-Inspection:/ { p = 1; print; next } p && /^[ \t]/ { print; next } { p = 0 }' | tr -d '\n')
like "$genuine" '^X-Postgate-Inspection: v=1; spam=-?[0-9.]+; rules=.*mac=[0-9a-f]{64}$' "the milter's verdict header as stored"
subject="lmtp genuine $run_id"
mkmsg "$tmp/lmtp-genuine.eml" "$subject" "$ham" "$genuine"
lmtp "$tmp/lmtp-genuine.eml" mark@in.spam.test >/dev/null
subject2="lmtp moved $run_id"
mkmsg "$tmp/lmtp-moved.eml" "$subject2" "$gtube" "$genuine"
lmtp "$tmp/lmtp-moved.eml" mark@in.spam.test >/dev/null
is "$(row "$subject" mark@in.spam.test)" "Processed NotSpam - 1" "a genuine verdict on the body it was made for is trusted"
is "$(row "$subject2" mark@in.spam.test)" "Processed NotChecked - 0" "... moved onto another body it is not"

# outbound_spam_threshold: GTUBE from an authenticated sender is refused.
send_out() { # FILE
	timeout 90 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/out \
		--auth-password "$key" --from app@out.spam.test --to someone@example.net --data "$1" 2>&1 || true
}
mkout() { # FILE SUBJECT BODY
	printf 'From: App <app@out.spam.test>\r\nTo: someone@example.net\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@out.spam.test>\r\n\r\n%s\r\n' \
		"$2" "$(date -R)" "$(instance_random_hex 8)" "$3" >"$1"
}
subject="outbound gtube $run_id"
mkout "$tmp/out-gtube.eml" "$subject" "$gtube"
out=$(send_out "$tmp/out-gtube.eml")
like "$out" '<\*\* 550 5\.7\.1 Message is likely spam\. Threshold is 5\.0 and the message scored [0-9.]+\.' \
	"outbound_spam_threshold: GTUBE from an authenticated sender is refused with Postal's words"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$subject'")" 0 "... and not recorded as sent"
subject="outbound ham $run_id"
mkout "$tmp/out-ham.eml" "$subject" "$ham"
out=$(send_out "$tmp/out-ham.eml")
like "$out" '<-  250 2\.0\.0 Ok: queued' "... a clean message from the same sender is accepted"
# Pending until the worker reads Postfix's log, then Sent: either is right here.
is "$(harness_sql "SELECT CONCAT(IF(status IN ('Pending', 'Sent'), 'accepted', status), ' ', spam_status, ' ', inspected) FROM messages WHERE subject = '$subject'")" \
	"accepted NotSpam 1" "... and recorded with its score (NotSpam, inspected)"
harness_sql "UPDATE servers SET outbound_spam_threshold = NULL WHERE permalink = 'out'"
sleep 2.1   # milter.cache_ttl is 1 s in the harness
subject="outbound off $run_id"
mkout "$tmp/out-off.eml" "$subject" "$gtube"
out=$(send_out "$tmp/out-off.eml")
like "$out" '<-  250 2\.0\.0 Ok: queued' "... without outbound_spam_threshold GTUBE is not scored for outgoing mail (as Postal)"

# Issue 12 item 7: mail a tenant sends to routes is judged afresh by the receiving server.
to_route() { # FILE RCPT SUBJECT BODY: server out's credential sends to a route of server inbox
	printf 'From: App <app@out.spam.test>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@out.spam.test>\r\nX-Postal-Spam: no\r\n\r\n%s\r\n' \
		"$2" "$3" "$(date -R)" "$(instance_random_hex 8)" "$4" >"$1"
	timeout 90 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/out \
		--auth-password "$key" --from app@out.spam.test --to "$2" --data "$1" 2>&1 || true
}
incoming_row() { harness_sql "SELECT CONCAT_WS(' ', status, spam_status, IFNULL(hold_reason, '-'), inspected) FROM messages WHERE subject = '$1' AND scope = 'incoming'"; }
subject="tenant gtube $run_id"
out=$(to_route "$tmp/tenant-gtube.eml" quarantine@in.spam.test "$subject" "$gtube")
like "$out" '<-  250 2\.0\.0 Ok: queued' "a tenant's GTUBE to a Quarantine route of another server is accepted"
harness_wait_for 30 eval '[ -n "$(incoming_row "$subject")" ]' || true
is "$(incoming_row "$subject")" "Held Spam Message placed into quarantine. 1" \
	"... and the receiving server quarantines it on its own fresh verdict"
like "$(to_route "$tmp/tenant-fail.eml" fail@in.spam.test "tenant fail $run_id" "$gtube")" \
	'<\*\* 550 5\.7\.1 Message rejected as spam: its score [0-9.]+ is over the threshold 5\.0' \
	"... and a Fail route refuses it at SMTP time, as from the Internet"

# One transaction to routes and to the Internet: the routes still get a fresh verdict;
# the copy that leaves carries none (smtp_header_checks), and a route's refusal
# concerns only its own recipient (postgate-worker answers it over LMTP).
mixed() { # FILE SUBJECT BODY ROUTE: to a route of server inbox and to an outsider at once
	printf 'From: App <app@out.spam.test>\r\nTo: %s, outside@example.net\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@out.spam.test>\r\n\r\n%s\r\n' \
		"$4" "$2" "$(date -R)" "$(instance_random_hex 8)" "$3" >"$1"
	timeout 90 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/out \
		--auth-password "$key" --from app@out.spam.test --to "$4,outside@example.net" --data "$1" 2>&1 || true
}
sink_file() { instance_sink_find "$1"; }
subject="mixed mark $run_id"
out=$(mixed "$tmp/mixed-mark.eml" "$subject" "$gtube" mark@in.spam.test)
like "$out" '<-  250 2\.0\.0 Ok: queued' "a tenant's GTUBE to a Mark route and to the Internet at once is accepted"
harness_wait_for 30 eval '[ -n "$(incoming_row "$subject")" ]' || true
is "$(incoming_row "$subject")" "Processed Spam - 1" "... the route's copy is stored with the receiving server's fresh verdict"
harness_wait_for 30 sink_file "$subject" >/dev/null || true
f=$(sink_file "$subject" || echo /dev/null)
is "$(grep -ciE '^X-(Postal-(Spam|Threat)|Postgate-Inspection)' "$f" || true) $(grep -c '^Subject: mixed mark' "$f" || true)" "0 1" \
	"... and the copy that leaves for the Internet carries no verdict header"
subject="mixed fail $run_id"
out=$(mixed "$tmp/mixed-fail.eml" "$subject" "$gtube" fail@in.spam.test)
like "$out" '<-  250 2\.0\.0 Ok: queued' "a tenant's GTUBE to a Fail route and to the Internet at once is not refused whole"
harness_wait_for 30 sink_file "$subject" >/dev/null || true
ok "$([ -n "$(sink_file "$subject")" ]; echo $?)" "... the Internet recipient gets it"
outgoing_status() { harness_sql "SELECT status FROM messages WHERE subject = '$subject' AND scope = 'outgoing' AND rcpt_to = 'fail@in.spam.test'"; }
harness_wait_for 60 eval '[ "$(outgoing_status)" = HardFail ]' || true
is "$(outgoing_status) $(harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$subject' AND scope = 'incoming'")" "HardFail 0" \
	"... the Fail route refuses its own recipient (HardFail for the sender) and stores nothing"
like "$(grep 'to=<fail@in.spam.test>' "$HARNESS_WORKER_LOG" | grep "$run_id\|rejected as spam" | tail -1)" 'Message rejected as spam: its score [0-9.]+ is over the threshold 5\.0' \
	"... with the worker's reason in its log"

# A released message judged afresh by the routes among its recipients (release strips
# every verdict). Held first by a suppression of the route address on the sending server.
out_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'out'")
harness_sql "INSERT INTO suppressions (server_id, address, reason, source) VALUES ($out_id, 'quarantine@in.spam.test', 'test', 'manual')"
sleep 2.1   # milter.cache_ttl
subject="released $run_id"
out=$(to_route "$tmp/released.eml" quarantine@in.spam.test "$subject" "$gtube")
held=$(harness_sql "SELECT token FROM messages WHERE subject = '$subject' AND scope = 'outgoing' AND status = 'Held'")
like "$held" '^[A-Za-z0-9]{16}$' "a tenant's GTUBE to a suppressed route address is held"
harness_sql "DELETE FROM suppressions WHERE server_id = $out_id"
out=$(ctl message release "$held" 2>&1) || true
harness_wait_for 30 eval '[ -n "$(incoming_row "$subject")" ]' || true
is "$(incoming_row "$subject")" "Held Spam Message placed into quarantine. 1" \
	"... released, the Quarantine route holds it on its own fresh verdict"

# Spamd down, when_unavailable = tempfail (the default): 451, the client retries.
instance_spamd_stop "$HARNESS_DIR/spamd"
subject="spamd down $run_id"
mkmsg "$tmp/down.eml" "$subject" "$ham"
out=$(send "$tmp/down.eml" mark@in.spam.test)
like "$out" '<\*\* 451 4\.7\.1 Message could not be checked' "spamd down: 451 4.7.1 (spamd.when_unavailable = tempfail)"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$subject'")" 0 "... nothing stored"
like "$(grep 'spamd unavailable:' "$HARNESS_DIR/milter.log" | tail -1)" 'answering 451, the client will retry' "... and the milter logged why"

# Spamd down, when_unavailable = accept: accepted unscanned, said so, logged.
milter_restart() {
	local before
	before=$(grep -c 'listening on' "$HARNESS_DIR/milter.log" || true)
	instance_postgate_stop "$HARNESS_DIR" milter
	rm -f "$HARNESS_QUEUE_DIR/postgate/milter"
	instance_postgate_start "$HARNESS_DIR" milter "$POSTGATE_BUILDDIR/milter/postgate-milter" "$HARNESS_CONFIG" \
		"$HARNESS_QUEUE_DIR/postgate/milter" || return 1
	harness_wait_for 20 test "$(grep -c 'listening on' "$HARNESS_DIR/milter.log")" -gt "$before"
}
export POSTGATE_SPAMD_WHEN_UNAVAILABLE=accept
milter_restart || diag "the milter did not restart"
unset POSTGATE_SPAMD_WHEN_UNAVAILABLE
subject="spamd down accept $run_id"
mkmsg "$tmp/accept.eml" "$subject" "$gtube"
out=$(send "$tmp/accept.eml" quarantine@in.spam.test)
like "$out" '<-  250 2\.0\.0 Ok: queued' "spamd down with spamd.when_unavailable = accept: accepted"
harness_wait_for 30 stored "$subject" quarantine@in.spam.test || true
is "$(row "$subject" quarantine@in.spam.test)" "Processed NotChecked - 1" "... unscored (NotChecked; clamd still scanned it)"
hdrs=$(raw_headers "$subject")
like "$hdrs" $'(^|\n)X-Postal-Spam: unchecked\n' "... with X-Postal-Spam: unchecked"
like "$hdrs" $'\nX-Postal-Spam-Details: spamd unavailable\n' "... and why"
like "$(grep 'spamd unavailable:' "$HARNESS_DIR/milter.log" | tail -1)" 'accepting the message unscanned' "... and the milter logged it"

# Clamd down too (clamd.when_unavailable stays tempfail): 451.
instance_clamd_stop "$HARNESS_DIR/clamd"
out=$(send "$tmp/clean.eml" mark@in.spam.test)
like "$out" '<\*\* 451 4\.7\.1 ' "clamd down with clamd.when_unavailable = tempfail: 451 4.7.1"
