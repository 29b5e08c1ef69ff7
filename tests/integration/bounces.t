#!/bin/bash
#
# bounces.t -- mail to return paths through the real Postfix and postgate-worker's LMTP
# server: a DSN Postfix itself generates for a recipient whose server answered 5xx (the
# log reader already recorded HardFail and suppressed the recipient: no second event, no
# suppression change); a
# hand-written RFC 3464 report in Exchange's style (MessageBounced in the outbox and at a
# webhook receiver, the original Bounced with the reason, a suppression entry, the
# bounce stored and linked, not routed); the same report delivered twice (one event); a
# report about the second recipient of a two-recipient message (the right row); Exim's
# plain-text bounce to Postal's per-server return path, found only by X-Postal-MsgID;
# and a reply and an auto-reply to a return path, which go to the server's
# __returnpath__ route. smtpcodes.py plays the remote server that answers 5xx.
#
# Must never: count one failure twice, or pass on a result the database does not hold.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_start_postgate
cat >>"$HARNESS_CONFIG" <<'EOC'
webhooks: { timeout = 3; retry_delays = ["1", "1", "1", "2", "2"]; };
EOC
plan 39

here=$(cd "$(dirname "$0")" && pwd)
data="$POSTGATE_SRCDIR/tests/data/dsn"
ctl() { $HARNESS_CTL "$@"; }
pc() { postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" "$@"; }
run_id=$(instance_random_hex 4)

# The remote server answering 5xx (smtpcodes.py) and a webhook receiver.
codes_dir="$HARNESS_DIR/codes"
mkdir -p "$codes_dir"
codes_port=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT" "$HARNESS_RELEASE_PORT" "$HARNESS_INJECTION_PORT")
/usr/bin/python3 "$here/smtpcodes.py" "$codes_port" "$codes_dir" >"$codes_dir/log" 2>&1 &
codes_pid=$!
stop_helpers() {
	kill "$codes_pid" 2>/dev/null || true
	wait "$codes_pid" 2>/dev/null || true
	instance_postgate_stop "$HARNESS_DIR" recv
}
trap 'rc=$?; stop_helpers; harness_on_exit $rc' EXIT
instance_wait_port "$codes_port" 20 "$codes_pid" || harness_setup_failed "smtpcodes.py did not start"
instance_spawn "$HARNESS_DIR/recv.pid" "$HARNESS_DIR/recv.log" /usr/bin/python3 "$here/webhook-receiver.py" \
	--log "$HARNESS_DIR/hooks.jsonl" --port-file "$HARNESS_DIR/hooks.port" ||
	harness_setup_failed "the webhook receiver did not start"
harness_wait_for 10 test -s "$HARNESS_DIR/hooks.port" || harness_setup_failed "the webhook receiver has no port"
touch "$HARNESS_DIR/hooks.jsonl"
pc -e "transport_maps = inline:{ codes.test=smtp:[127.0.0.1]:$codes_port }"
postfix -c "$INSTANCE_POSTFIX_CONFIG_DIR" reload >/dev/null 2>&1
instance_wait_port "$INSTANCE_SMTP_PORT" 30

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
sid=$(harness_sql "SELECT id FROM servers WHERE permalink = 'mail'")
server_token=$(harness_sql "SELECT token FROM servers WHERE id = $sid")
harness_sql "INSERT INTO webhooks (uuid, server_id, name, url, all_events, enabled, sign)
	VALUES (UUID(), $sid, 'all', 'http://127.0.0.1:$(cat "$HARNESS_DIR/hooks.port")/hooks', 1, 1, 0)"
# The server's __returnpath__ route: an Endpoint route whose mail is queued for delivery.
harness_sql "INSERT INTO http_endpoints (uuid, server_id, name, url) VALUES (UUID(), $sid, 'rp', 'http://127.0.0.1:9/rp')"
harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, http_endpoint_id)
	SELECT UUID(), $sid, d.id, '__returnpath__', 'rp$(instance_random_hex 3)', 'Endpoint', e.id
	FROM domains d, http_endpoints e WHERE d.name = 'example.com' AND e.name = 'rp'"
rp_route=$(harness_sql "SELECT id FROM routes WHERE name = '__returnpath__'")
harness_start_worker

# send SUBJECT RCPTS: submit with SMTP AUTH, as an application would.
send() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail \
		--auth-password "$key" --from app@example.com --to "$2" --h-From "App <app@example.com>" \
		--h-Subject "$1 $run_id" >/dev/null 2>&1 || true
}
# inject FROM RCPT FILE: unauthenticated, as a remote MTA returns mail (FROM "<>": null sender).
inject() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from "$1" --to "$2" --data "$3" 2>&1 || true
}
row() { harness_sql "SELECT id FROM messages WHERE subject = '$1 $run_id' AND rcpt_to = '$2'"; }
token_of() { harness_sql "SELECT token FROM messages WHERE id = $1"; }
status_of() { harness_sql "SELECT status FROM messages WHERE id = $1"; }
has_status() { [ "$(status_of "$1")" = "$2" ]; }
bounce_of() { harness_sql "SELECT id FROM messages WHERE bounce_for_id = $1 ORDER BY id DESC LIMIT 1"; }
has_bounce() { [ -n "$(bounce_of "$1")" ]; }
nevents() { harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE event = '$2' AND (JSON_VALUE(payload, '\$.message.id') = $1 OR JSON_VALUE(payload, '\$.original_message.id') = $1)"; }
bounced_event() { harness_sql "SELECT payload FROM webhook_outbox WHERE event = 'MessageBounced' AND JSON_VALUE(payload, '\$.original_message.id') = $1 ORDER BY id DESC LIMIT 1"; }
# A row handed to its route's endpoint: Pending, or SoftFail once the worker has tried the
# endpoint (which refuses connections) before the test looks.
delivering="IF(status IN ('Pending', 'SoftFail'), 'delivering', status)"
suppression() { harness_sql "SELECT CONCAT_WS('|', source, reason) FROM suppressions WHERE server_id = $sid AND address = '$1'"; }
# dsn_from TEMPLATE TOKEN RCPT OUT: a sample with the original's token and recipient put in.
dsn_from() {
	sed -e "s/xyzrp0123456789[a-z]/$2/Ig" -e "s/nobody@corp\.example\.net/$3/g" -e "s/gone@remote\.example/$3/g" \
		-e "s/^Message-ID: <8f2d1c0b-aaaa-4bbb-8ccc-ddddeeee0001/Message-ID: <$(instance_random_hex 8)/" "$1" >"$4"
}

# ---------------------------------------------------------------- Postfix's own DSN
send hard hard@codes.test
m=$(row hard hard@codes.test)
harness_wait_for 40 has_status "$m" HardFail || true
is "$(status_of "$m")" HardFail "a 5xx from the remote server: the log reader records HardFail"
harness_wait_for 40 has_bounce "$m" || true
b=$(bounce_of "$m")
isnt "$b" "" "Postfix's DSN reaches the worker over LMTP and is linked to the original (bounce_for_id)"
is "$(harness_sql "SELECT CONCAT_WS(' ', scope, status, bounce, mail_from = '', rcpt_to) FROM messages WHERE id = ${b:-0}")" \
	"incoming Processed 1 1 $(token_of "$m")@rp.postgate.test" "... stored as an incoming bounce from the null sender to the return path"
# The notice as stored (kept as tests/data/dsn/postfix-hardfail.eml for test_dsn).
harness_sql "SELECT HEX(CONCAT(r.headers, '\r\n', r.body)) FROM messages m JOIN raw_messages r
	ON r.id = m.raw_message_id AND r.created_day = m.raw_message_day WHERE m.id = ${b:-0}" | xxd -r -p >"$HARNESS_DIR/postfix-dsn.eml" || true
like "$(cat "$HARNESS_DIR/postfix-dsn.eml")" 'X-Postfix-Queue-ID: [0-9A-Za-z]+' "... it is Postfix's report with its queue ID"
is "$(status_of "$m")" HardFail "the original stays HardFail"
is "$(nevents "$m" MessageBounced) $(nevents "$m" MessageDeliveryFailed)" "0 1" \
	"one event for one failure: MessageDeliveryFailed from the log, no MessageBounced"
is "$(harness_sql "SELECT GROUP_CONCAT(status) FROM deliveries WHERE message_id = $m")" HardFail "... and one deliveries row"
is "$(suppression hard@codes.test)" "hard_fail|550 5.1.1 <hard@codes.test>: Recipient address rejected: User unknown" \
	"... and the recipient suppressed by the log reader's HardFail, the notice changing nothing"
like "$(grep "to=<$(token_of "$m")@rp.postgate.test>" "$HARNESS_WORKER_LOG" | tail -1)" \
	"is a bounce \(RFC 3464, 5\.1\.1\) of message $m: Postfix's own notice" "the worker logs how it recognised the notice"

# ---------------------------------------------------------------- an Exchange-style report
send invoice someone@example.net
m=$(row invoice someone@example.net)
harness_wait_for 40 has_status "$m" Sent || true
is "$(status_of "$m")" Sent "an outgoing message is Sent"
dsn_from "$data/exchange.eml" "$(token_of "$m")" someone@example.net "$HARNESS_DIR/exchange.eml"
out=$(inject '<>' "$(token_of "$m")@rp.postgate.test" "$HARNESS_DIR/exchange.eml")
like "$out" '<-  250 2\.0\.0 Ok: queued' "a remote server's RFC 3464 report is accepted for the return path"
harness_wait_for 30 has_status "$m" Bounced || true
is "$(status_of "$m")" Bounced "the original becomes Bounced"
is "$(harness_sql "SELECT CONCAT_WS('|', status, dsn, relay, details, output) FROM deliveries WHERE message_id = $m ORDER BY id DESC LIMIT 1")" \
	"Bounced|5.1.10|EX01.corp.example.net|Hard bounce (5.1.10) for someone@example.net: 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup|550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup" \
	"... with a deliveries row: the status code, the reporting MTA and the reason"
b=$(bounce_of "$m")
is "$(harness_sql "SELECT CONCAT_WS(' ', scope, status, bounce, IFNULL(route_id, '-'), subject) FROM messages WHERE id = ${b:-0}")" \
	"incoming Processed 1 - Undeliverable: Your invoice" "the bounce is stored, linked, and not handed to the __returnpath__ route"
is "$(harness_sql "SELECT COUNT(*) FROM queued_messages WHERE message_id = ${b:-0}")" 0 "... nothing is queued for its endpoint"
p=$(bounced_event "$m")
is "$(harness_jv original_message.id <<<"$p") $(harness_jv original_message.direction <<<"$p") $(harness_jv bounce.id <<<"$p") $(harness_jv bounce.direction <<<"$p")" \
	"$m outgoing $b incoming" "MessageBounced is queued with Postal's {original_message, bounce}"
is "$(harness_jv original_message.token <<<"$p") $(harness_jv bounce.to <<<"$p") $(harness_jv bounce.subject <<<"$p")" \
	"$(token_of "$m") $(token_of "$m")@rp.postgate.test Undeliverable: Your invoice" "... message objects with token, to and subject"
is "$(harness_jv dsn.status <<<"$p")|$(harness_jv dsn.action <<<"$p")|$(harness_jv dsn.final_recipient <<<"$p")" "5.1.10|failed|someone@example.net" \
	"... and the DSN's status, action and final recipient"
like "$(harness_jv dsn.diagnostic_code <<<"$p")" '^550 5\.1\.10 RESOLVER\.ADR\.RecipientNotFound' "... and its reason"
like "$(suppression someone@example.net)" '^bounce\|Hard bounce \(5\.1\.10\) for someone@example\.net: 550 5\.1\.10' \
	"the hard bounce puts the recipient on the server's suppression list with the DSN's reason"
harness_wait_for 30 grep -q '"event": "MessageBounced"' "$HARNESS_DIR/hooks.jsonl" || true
hook=$(grep '"event": "MessageBounced"' "$HARNESS_DIR/hooks.jsonl" | tail -1)
is "$(/usr/bin/python3 -c 'import json,sys; b=json.loads(sys.stdin.read())["body"]; print(b["event"], b["payload"]["original_message"]["id"], b["payload"]["bounce"]["id"])' <<<"$hook" 2>/dev/null)" \
	"MessageBounced $m $b" "the webhook receiver gets MessageBounced"

out=$(inject '<>' "$(token_of "$m")@rp.postgate.test" "$HARNESS_DIR/exchange.eml")
harness_wait_for 30 test "$(harness_sql "SELECT COUNT(*) FROM messages WHERE bounce_for_id = $m")" -ge 2 || true
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE bounce_for_id = $m") $(nevents "$m" MessageBounced)" "2 1" \
	"the same report again is stored and linked, without a second MessageBounced"
is "$(harness_sql "SELECT COUNT(*) FROM deliveries WHERE message_id = $m AND status = 'Bounced'")" 1 "... or a second Bounced row"

# ---------------------------------------------------------------- a DSN from another Postfix
# The notice captured above, as another Postfix host would send it for a message it had
# accepted: its own queue ID, so it is a new failure, not the log reader's.
send remote remote-user@example.net
m=$(row remote remote-user@example.net)
harness_wait_for 40 has_status "$m" Sent || true
hard_token=$(token_of "$(row hard hard@codes.test)")
sed -e "s/$hard_token/$(token_of "$m")/g" -e "s/hard@codes\.test/remote-user@example.net/g" \
	-e "s/X-Postfix-Queue-ID: [0-9A-Za-z]*/X-Postfix-Queue-ID: 4jRemote$(instance_random_hex 4)/" \
	-e "s/^Message-Id: <[^>]*>/Message-Id: <remote-$(instance_random_hex 8)@mx.remote.example>/I" \
	"$HARNESS_DIR/postfix-dsn.eml" >"$HARNESS_DIR/remote-dsn.eml"
out=$(inject '<>' "$(token_of "$m")@rp.postgate.test" "$HARNESS_DIR/remote-dsn.eml")
like "$out" '<-  250 2\.0\.0 Ok: queued' "a DSN generated by another Postfix is accepted for the return path"
harness_wait_for 30 has_status "$m" Bounced || true
is "$(status_of "$m")" Bounced "... the original becomes Bounced"
p=$(bounced_event "$m")
is "$(harness_jv dsn.status <<<"$p")|$(harness_jv dsn.final_recipient <<<"$p")" "5.1.1|remote-user@example.net" \
	"... MessageBounced is queued with the DSN's status and final recipient"
like "$(suppression remote-user@example.net)" '^bounce\|Hard bounce \(5\.1\.1\)' "... and the recipient is suppressed with the reason"

# A report about the second recipient of a two-recipient message: its return path is the
# first recipient's, the Final-Recipient picks the row.
send pair "first@example.net,second@example.net"
m1=$(row pair first@example.net)
m2=$(row pair second@example.net)
harness_wait_for 40 has_status "$m2" Sent || true
dsn_from "$data/exchange.eml" "$(token_of "$m1")" second@example.net "$HARNESS_DIR/second.eml"
inject '<>' "$(token_of "$m1")@rp.postgate.test" "$HARNESS_DIR/second.eml" >/dev/null
harness_wait_for 30 has_status "$m2" Bounced || true
is "$(status_of "$m1") $(status_of "$m2")" "Sent Bounced" "a report naming the second recipient bounces that recipient's row"
is "$(harness_jv original_message.to <<<"$(bounced_event "$m2")")" second@example.net "... and MessageBounced carries that row"

# ---------------------------------------------------------------- X-Postal-MsgID only
send welcome gone@example.net
m=$(row welcome gone@example.net)
harness_wait_for 40 has_status "$m" Sent || true
dsn_from "$data/exim-plain.eml" "$(token_of "$m")" gone@example.net "$HARNESS_DIR/exim.eml"
out=$(inject '<>' "$server_token@rp.postgate.test" "$HARNESS_DIR/exim.eml")
like "$out" '<-  250 2\.0\.0 Ok: queued' "Postal's per-server return path <server token>@<return path domain> is accepted"
harness_wait_for 30 has_status "$m" Bounced || true
is "$(status_of "$m")" Bounced "Exim's plain-text bounce is matched by the X-Postal-MsgID it quotes"
p=$(bounced_event "$m")
is "$(harness_jv original_message.id <<<"$p") $(harness_jv dsn.status <<<"$p") $(harness_jv bounce.to <<<"$p")" "$m 5.1.1 $server_token@rp.postgate.test" \
	"... MessageBounced with the status found in the text"
like "$(suppression gone@example.net)" '^bounce\|Hard bounce \(5\.1\.1\) for gone@example\.net: 550 5\.1\.1 <gone@example\.net>' \
	"... and a suppression entry with the quoted SMTP error"
printf 'From: Mailer-Daemon@mx.remote.example\r\nSubject: Mail delivery failed\r\n\r\nSomething failed.\r\n' >"$HARNESS_DIR/nomsgid.eml"
inject '<>' "$server_token@rp.postgate.test" "$HARNESS_DIR/nomsgid.eml" >/dev/null
harness_wait_for 30 test -n "$(harness_sql "SELECT id FROM messages WHERE subject = 'Mail delivery failed'")" || true
is "$(harness_sql "SELECT CONCAT_WS(' ', bounce, IFNULL(bounce_for_id, '-'), IFNULL(route_id, '-'), $delivering) FROM messages WHERE subject = 'Mail delivery failed'")" \
	"0 - $rp_route delivering" "a bounce that names no message of ours goes to the __returnpath__ route"

# ---------------------------------------------------------------- not bounces
send question asked@example.net
m=$(row question asked@example.net)
harness_wait_for 40 has_status "$m" Sent || true
printf 'From: Asked <asked@example.net>\r\nTo: app@example.com\r\nSubject: Re: question %s\r\nIn-Reply-To: <q@example.com>\r\n\r\nThanks, 5.1.1 is fine.\r\n' \
	"$run_id" >"$HARNESS_DIR/reply.eml"
out=$(inject asked@example.net "$(token_of "$m")@rp.postgate.test" "$HARNESS_DIR/reply.eml")
harness_wait_for 30 test -n "$(harness_sql "SELECT id FROM messages WHERE subject = 'Re: question $run_id'")" || true
r=$(harness_sql "SELECT id FROM messages WHERE subject = 'Re: question $run_id'")
is "$(harness_sql "SELECT CONCAT_WS(' ', scope, bounce, IFNULL(bounce_for_id, '-'), route_id, $delivering) FROM messages WHERE id = ${r:-0}")" \
	"incoming 0 - $rp_route delivering" "a reply to a return path is not a bounce: it goes to the __returnpath__ route"
is "$(harness_sql "SELECT CONCAT(endpoint_type, ' ', endpoint_id) FROM queued_messages WHERE message_id = ${r:-0}")" \
	"HTTPEndpoint $(harness_sql "SELECT id FROM http_endpoints WHERE name = 'rp'")" "... queued for the route's endpoint"
dsn_from "$data/autoreply.eml" "$(token_of "$m")" asked@example.net "$HARNESS_DIR/auto.eml"
inject '<>' "$(token_of "$m")@rp.postgate.test" "$HARNESS_DIR/auto.eml" >/dev/null
harness_wait_for 30 test -n "$(harness_sql "SELECT id FROM messages WHERE subject = 'Automatic reply: Your invoice'")" || true
is "$(harness_sql "SELECT CONCAT_WS(' ', bounce, route_id) FROM messages WHERE subject = 'Automatic reply: Your invoice'")" \
	"0 $rp_route" "an auto-reply from the null sender is not a bounce either"
is "$(status_of "$m") $(nevents "$m" MessageBounced) $(suppression asked@example.net)" "Sent 0 " \
	"... the original is untouched: no event, no suppression"

harness_sql "DELETE FROM routes WHERE id = $rp_route"
send noroute plain@example.net
m=$(row noroute plain@example.net)
harness_wait_for 40 has_status "$m" Sent || true
sed "s/Re: question $run_id/Re: noroute $run_id/" "$HARNESS_DIR/reply.eml" >"$HARNESS_DIR/reply2.eml"
inject plain@example.net "$(token_of "$m")@rp.postgate.test" "$HARNESS_DIR/reply2.eml" >/dev/null
harness_wait_for 30 test -n "$(harness_sql "SELECT id FROM messages WHERE subject = 'Re: noroute $run_id'")" || true
is "$(harness_sql "SELECT CONCAT_WS(' ', bounce, IFNULL(route_id, '-'), status) FROM messages WHERE subject = 'Re: noroute $run_id'")" \
	"0 - Processed" "without a __returnpath__ route a reply to a return path is stored Processed"
