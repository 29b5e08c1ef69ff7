#!/bin/bash
#
# events.t -- every message event end to end, as an application sees it: real mail
# through the private Postfix and the postgate daemons, results read from Postfix's log
# by postgate-worker, clicks and opens through postgate-tracker, and each event POSTed by
# the worker's webhook sender to a local HTTP receiver, signed with a key that verifies
# against the JWKS postgate-admin publishes (checked by webhook-verify.py, independent of
# postgate). Events: MessageSent (delivered to the sink), MessageDelayed (a 4xx),
# MessageDeliveryFailed (a 5xx), MessageHeld, MessageLinkClicked and MessageLoaded.
#
# Must never: count an event the receiver did not log, or a signature it did not verify.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c 'import cryptography' 2>/dev/null ||
	skip_all "python3-cryptography missing: run 'packaging/install-deps test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_admin
harness_start_tracker
plan 22

ctl() { $HARNESS_CTL "$@"; }
pc() { postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" "$@"; }
run_id=$(instance_random_hex 4)

# The receiver of the webhook, and a tiny SMTP server answering 4xx/5xx for codes.test.
instance_spawn "$HARNESS_DIR/recv.pid" "$HARNESS_DIR/recv.log" /usr/bin/python3 "$here/webhook-receiver.py" \
	--log "$HARNESS_DIR/events.jsonl" --port-file "$HARNESS_DIR/recv.port" || harness_setup_failed "receiver did not start"
harness_wait_for 10 test -s "$HARNESS_DIR/recv.port" || harness_setup_failed "receiver has no port"
touch "$HARNESS_DIR/events.jsonl"
codes_dir="$HARNESS_DIR/codes"
mkdir -p "$codes_dir"
codes_port=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT" "$HARNESS_RELEASE_PORT" "$HARNESS_INJECTION_PORT")
instance_spawn "$HARNESS_DIR/codes.pid" "$codes_dir/log" /usr/bin/python3 "$here/smtpcodes.py" "$codes_port" "$codes_dir" ||
	harness_setup_failed "smtpcodes.py did not start"
instance_wait_port "$codes_port" 20 || harness_setup_failed "smtpcodes.py does not answer"
trap 'rc=$?; instance_postgate_stop "$HARNESS_DIR" recv; instance_postgate_stop "$HARNESS_DIR" codes; harness_on_exit $rc' EXIT
pc -e "transport_maps = inline:{ codes.test=smtp:[127.0.0.1]:$codes_port }"
postfix -c "$INSTANCE_POSTFIX_CONFIG_DIR" reload >/dev/null 2>&1
instance_wait_port "$INSTANCE_SMTP_PORT" 30

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl server create --org acme --name Dev --permalink dev --mode Development >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
ctl domain create --server acme/dev --name dev.example --verified >/dev/null
ctl track-domain create --server acme/mail --name click --domain example.com --no-ssl >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
devkey=$(ctl credential create --server acme/dev --name app | sed -n 's/^key: //p')
url="http://127.0.0.1:$(cat "$HARNESS_DIR/recv.port")/hooks/all"
for s in mail dev; do
	harness_sql "INSERT INTO webhooks (uuid, server_id, name, url) SELECT UUID(), id, 'all-$s', '$url' FROM servers WHERE permalink = '$s'"
done
export POSTGATE_WEBHOOKS_RETRY_DELAYS=1,1,1,2,2
harness_start_worker

send() { # KEY FROM TO SUBJECT [swaks args...]
	local k=$1 from=$2 to=$3 subject=$4
	shift 4
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user x --auth-password "$k" \
		--from "$from" --to "$to" --h-From "App <$from>" --h-Subject "$subject" "$@" 2>&1 || true
}
# event NAME TOKEN: the receiver's log line of that event for that message token.
event() {
	/usr/bin/python3 - "$HARNESS_DIR/events.jsonl" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    b = json.loads(e["raw"])
    m = b.get("payload", {}).get("message") or {}
    if b.get("event") == sys.argv[2] and m.get("token") == sys.argv[3]:
        print(line.strip()); break
PY
}
have() { [ -n "$(event "$1" "$2")" ]; }
field() { /usr/bin/python3 -c 'import json,sys; e=json.loads(sys.stdin.readline()); b=json.loads(e["raw"]); print(eval(sys.argv[1]))' "$1"; }
token_of() { harness_sql "SELECT token FROM messages WHERE subject = '$1' AND rcpt_to = '$2'"; }
curl -s "$HARNESS_ADMIN_URL/.well-known/jwks.json" >"$HARNESS_DIR/jwks.json"
verify() { /usr/bin/python3 "$here/webhook-verify.py" "$HARNESS_DIR/jwks.json" <<<"$1" 2>&1 || true; }

# 1-6: delivered to the sink: MessageSent.
subject="sent $run_id"
send "$key" app@example.com someone@example.net "$subject" \
	--add-header 'Content-Type: text/html; charset=utf-8' \
	--body '<html><body><p>Hello <a href="https://shop.example.net/item?id=7&amp;ref=mail">buy</a></p></body></html>' >/dev/null
t=$(token_of "$subject" someone@example.net)
harness_wait_for 60 have MessageSent "$t" || true
e=$(event MessageSent "$t")
ok "$([ -n "$e" ] && echo 0 || echo 1)" "MessageSent reaches the receiver for the message delivered to the sink"
is "$(field '" ".join(list(b.keys()))' <<<"$e")" "event timestamp payload uuid" "Postal's body: event, timestamp, payload, uuid"
is "$(field '"%s %s %s %s" % (b["payload"]["status"], b["payload"]["message"]["to"], b["payload"]["message"]["direction"], b["payload"]["sent_with_ssl"])' <<<"$e")" \
	"Sent someone@example.net outgoing False" "the payload: status, the message's recipient and direction, sent_with_ssl"
like "$(field 'b["payload"]["output"]' <<<"$e")" '^250 ' "the payload's output is the sink's reply"
is "$(verify "$e")" "kid=found sha1=pass sha256=pass" "both signatures verify against the JWKS from postgate-admin"
is "$(field 'b["uuid"]' <<<"$e")" "$(harness_sql "SELECT uuid FROM webhook_outbox WHERE event = 'MessageSent' AND JSON_VALUE(payload, '\$.message.token') = '$t'")" \
	"the body's uuid is the outbox row's (for de-duplication)"

# 7-10: a tracked link and the pixel.
f=$(instance_sink_find "$subject" || true)
link=$(grep -oE 'click\.example\.com/[a-z0-9]+/[A-Za-z0-9]{16}' "$f" 2>/dev/null | head -1 || true)
like "$link" '^click\.example\.com/' "the delivered copy has a tracked link"
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'X-Postal-Track-Host: 1' -H 'User-Agent: EventsTest' \
	"$HARNESS_TRACKER_URL/${link#click.example.com/}")
is "$out" "307 https://shop.example.net/item?id=7&ref=mail" "following it redirects to the original URL"
harness_wait_for 60 have MessageLinkClicked "$t" || true
is "$(field '"%s|%s" % (b["payload"]["url"], b["payload"]["user_agent"])' <<<"$(event MessageLinkClicked "$t")")" \
	"https://shop.example.net/item?id=7&ref=mail|EventsTest" "MessageLinkClicked reaches the receiver with the URL and user agent"
pixel=$(grep -oE 'click\.example\.com/img/[a-z0-9]+/[A-Za-z0-9]{16}' "$f" 2>/dev/null | head -1 || true)
curl -s -o /dev/null -H 'X-Postal-Track-Host: 1' -H 'User-Agent: EventsTest' "$HARNESS_TRACKER_URL/${pixel#click.example.com/}"
harness_wait_for 60 have MessageLoaded "$t" || true
is "$(field 'b["payload"]["user_agent"]' <<<"$(event MessageLoaded "$t")")" "EventsTest" "loading the pixel: MessageLoaded reaches the receiver"

# 11-14: a 4xx: MessageDelayed, and a 5xx: MessageDeliveryFailed.
subject="soft $run_id"
send "$key" app@example.com soft@codes.test "$subject" >/dev/null
t=$(token_of "$subject" soft@codes.test)
harness_wait_for 60 have MessageDelayed "$t" || true
e=$(event MessageDelayed "$t")
is "$(field '"%s %s" % (b["event"], b["payload"]["status"])' <<<"$e")" "MessageDelayed SoftFail" "a 4xx from the remote server: MessageDelayed (SoftFail)"
like "$(field 'b["payload"]["output"]' <<<"$e")" '^450 4\.2\.0 ' "... with the remote reply as output"
subject="hard $run_id"
send "$key" app@example.com hard@codes.test "$subject" >/dev/null
t=$(token_of "$subject" hard@codes.test)
harness_wait_for 60 have MessageDeliveryFailed "$t" || true
e=$(event MessageDeliveryFailed "$t")
is "$(field '"%s %s" % (b["event"], b["payload"]["status"])' <<<"$e")" "MessageDeliveryFailed HardFail" "a 5xx: MessageDeliveryFailed (HardFail)"
like "$(field 'b["payload"]["output"]' <<<"$e")" '^550 5\.1\.1 ' "... with the remote reply as output"
# Postfix retries the 4xx: the message gets more than one SoftFail delivery, each an event.
postqueue -c "$INSTANCE_POSTFIX_CONFIG_DIR" -f >/dev/null 2>&1 || true
t_soft=$(token_of "soft $run_id" soft@codes.test)
two_delayed() { [ "$(grep -c "\"MessageDelayed\".*$t_soft\|$t_soft.*\"MessageDelayed\"" "$HARNESS_DIR/events.jsonl")" -ge 2 ]; }
harness_wait_for 90 two_delayed || true
ok "$(two_delayed && echo 0 || echo 1)" "Postfix retries the deferred message and each attempt is another MessageDelayed"

# 16-18: a held message (Development mode): MessageHeld.
subject="held $run_id"
send "$devkey" app@dev.example someone@example.net "$subject" >/dev/null
t=$(token_of "$subject" someone@example.net)
harness_wait_for 60 have MessageHeld "$t" || true
e=$(event MessageHeld "$t")
is "$(field '"%s %s" % (b["event"], b["payload"]["status"])' <<<"$e")" "MessageHeld Held" "development mode: MessageHeld reaches the receiver"
is "$(verify "$e")" "kid=found sha1=pass sha256=pass" "... signed too"
is "$(field 'b["payload"]["message"]["from"]' <<<"$e")" "app@dev.example" "... for the other server's message, through its own webhook"

# 19-22: every attempt is in the request log, and nothing is pending.
is "$(harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at < NOW(6) - INTERVAL 30 SECOND")" 0 \
	"no event is left pending"
is "$(harness_sql "SELECT COUNT(*) FROM webhook_requests WHERE status_code = 200")" \
	"$(wc -l <"$HARNESS_DIR/events.jsonl")" "the request log has one 200 attempt per request the receiver logged"
is "$(harness_sql "SELECT COUNT(DISTINCT uuid) = COUNT(*) FROM webhook_outbox")" 1 "every event has its own uuid"
unlike "$(cat "$HARNESS_WORKER_LOG")" 'panic|fatal|AddressSanitizer' "the worker logged no panic, fatal error or sanitizer report"
