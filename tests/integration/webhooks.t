#!/bin/bash
#
# webhooks.t -- webhook delivery end to end: held mail (a server in Development mode) through
# the real Postfix and postgate-milter queues MessageHeld; postgate-worker delivers it to
# local receivers (webhook-receiver.py, each its own process and port) with Postal's body
# and signatures, which webhook-verify.py checks with python3-cryptography against the JWKS
# that postgate-admin serves. Retries on a shortened schedule (webhooks.retry_delays),
# timeouts, a receiver that is down, another server's webhook, disabled and unsubscribed
# webhooks, a MariaDB outage while a request is in flight, SIGTERM with a request in flight,
# and key rotation.
#
# Must never: trust postgate's own view of a signature, or pass on a request it did not find
# in a receiver's log.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import cryptography' 2>/dev/null ||
	skip_all "python3-cryptography missing: run 'packaging/install-deps test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
# A 3 s timeout and 1-2 s retries instead of 5 s and Postal's 2-15 minutes (6 attempts still).
cat >>"$HARNESS_CONFIG" <<'EOF'
webhooks: { timeout = 3; retry_delays = ["1", "1", "1", "2", "2"]; };
EOF
harness_start_admin
harness_start_worker
plan 50

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
base=$HARNESS_ADMIN_URL

# ---------------------------------------------------------------- receivers

# Receivers are started in command substitutions (subshells): their pid files are the record.
stop_receivers() {
	local f
	for f in "$HARNESS_DIR"/recv-*.pid; do
		[ -e "$f" ] || continue
		f=${f##*/}
		instance_postgate_stop "$HARNESS_DIR" "${f%.pid}"
	done
}
trap 'rc=$?; stop_receivers; harness_on_exit $rc' EXIT

# receiver NAME [args]: starts webhook-receiver.py; its requests go to $HARNESS_DIR/NAME.jsonl.
receiver() {
	local name=$1 port
	shift
	instance_spawn "$HARNESS_DIR/recv-$name.pid" "$HARNESS_DIR/recv-$name.log" /usr/bin/python3 \
		"$here/webhook-receiver.py" --log "$HARNESS_DIR/$name.jsonl" --port-file "$HARNESS_DIR/$name.port" "$@" ||
		harness_setup_failed "receiver $name did not start"
	harness_wait_for 10 test -s "$HARNESS_DIR/$name.port" || harness_setup_failed "receiver $name has no port"
	port=$(cat "$HARNESS_DIR/$name.port")
	touch "$HARNESS_DIR/$name.jsonl"
	printf 'http://127.0.0.1:%s/hooks/%s' "$port" "$name"
}
requests() { wc -l <"$HARNESS_DIR/$1.jsonl"; }
at_least() { [ "$(requests "$1")" -ge "$2" ]; }
# line NAME N: the Nth request (from 1) a receiver logged.
line() { sed -n "${2}p" "$HARNESS_DIR/$1.jsonl"; }
# webhook SERVER NAME URL [all_events enabled sign]: a webhook row, as the management API will write it.
webhook() {
	harness_sql "INSERT INTO webhooks (uuid, server_id, name, url, all_events, enabled, sign)
		SELECT UUID(), id, '$2', '$3', ${4:-1}, ${5:-1}, ${6:-1} FROM servers WHERE permalink = '$1'"
}
outbox() { # NAME COLUMNS [WHERE]: the webhook's outbox rows
	harness_sql "SELECT $2 FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook_id WHERE w.name = '$1' ${3:-} ORDER BY o.id"
}
log_of() { # NAME COLUMNS: the webhook's request-log rows by attempt
	harness_sql "SELECT $2 FROM webhook_requests r JOIN webhooks w ON w.id = r.webhook_id WHERE w.name = '$1' ORDER BY r.outbox_id, r.attempt"
}
status_is() { [ "$(outbox "$1" o.status "${3:-}" | tail -1)" = "$2" ]; }
check() {
	local name=$1
	shift
	if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi
}

url_ok=$(receiver ok)
url_flaky=$(receiver flaky --status 500,200)
url_slow=$(receiver slow --delay 6)
url_other=$(receiver other)
url_quiet=$(receiver quiet)
url_late=$(receiver late --delay 1.5)
url_term=$(receiver term --delay 2.5)
down_port=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT")
url_down="http://127.0.0.1:$down_port/nobody-listens"

# ---------------------------------------------------------------- servers, webhooks, mail

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail --mode Development >/dev/null
ctl server create --org acme --name Other --permalink other --mode Development >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
ctl domain create --server acme/other --name other.example --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
key2=$(ctl credential create --server acme/other --name app | sed -n 's/^key: //p')

webhook mail ok "$url_ok"
webhook mail flaky "$url_flaky" 1 1 0
webhook mail slow "$url_slow"
webhook mail down "$url_down"
webhook mail disabled "$url_quiet" 1 0 1
webhook mail sentonly "$url_quiet" 0 1 1
harness_sql "INSERT INTO webhook_events (webhook_id, event) SELECT id, 'MessageSent' FROM webhooks WHERE name = 'sentonly'"
webhook other other "$url_other"

send() { # KEY FROM SUBJECT
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user x --auth-password "$1" \
		--from "$2" --to someone@example.net --h-From "App <$2>" --h-Subject "$3" 2>&1 || true
}

# 1-3: a held message queues MessageHeld with the message rows, one outbox row per listening webhook.
subject="held $run_id"
out=$(send "$key" app@example.com "$subject")
like "$out" '250 2.0.0 Ok' "development mode: the message is accepted (and held)"
token=$(harness_sql "SELECT token FROM messages WHERE subject = '$subject'")
is "$(harness_sql "SELECT GROUP_CONCAT(w.name ORDER BY w.name) FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook_id
	WHERE o.event = 'MessageHeld' AND JSON_VALUE(o.payload, '$.message.token') = '$token'")" \
	"down,flaky,ok,slow" "MessageHeld is queued for the enabled webhooks that want it, not the disabled or MessageSent-only one"
check "the ok receiver gets a request" harness_wait_for 15 at_least ok 1

# 4-13: Postal's body and headers.
first=$(line ok 1)
is "$(j 'd["method"] + " " + d["headers"].get("Content-Type", "")' <<<"$first")" "POST application/json" \
	"POST with Content-Type application/json"
is "$(j 'list(json.loads(d["raw"], object_pairs_hook=lambda p: [k for k, v in p]))' <<<"$first")" \
	'["event", "timestamp", "payload", "uuid"]' "the body is {event, timestamp, payload, uuid}, in Postal's order"
is "$(j 'd["body"]["event"]' <<<"$first")" MessageHeld "event is MessageHeld"
is "$(j 'd["body"]["uuid"]' <<<"$first")" "$(outbox ok o.uuid)" "uuid is the outbox row's uuid"
ts=$(j 'repr(d["body"]["timestamp"])' <<<"$first")
ok "$(awk -v a="$ts" -v b="$(outbox ok 'UNIX_TIMESTAMP(o.created_at)')" 'BEGIN { d = a - b; exit !(a > 1e9 && d < 2e-6 && d > -2e-6) }'; echo $?)" \
	"timestamp is the event's creation time in float seconds ($ts)"
is "$(j 'sorted(d["body"]["payload"])' <<<"$first")" '["details", "message", "output", "sent_with_ssl", "status", "time", "timestamp"]' \
	"the payload has Postal's delivery members"
is "$(j '[d["body"]["payload"][k] for k in ("status", "details", "output", "sent_with_ssl", "time")]' <<<"$first")" \
	'["Held", "Server is in development mode", "", false, null]' "status Held, details the hold reason, output empty, no SSL, time null"
is "$(j 'sorted(d["body"]["payload"]["message"])' <<<"$first")" \
	'["direction", "from", "id", "message_id", "spam_status", "subject", "tag", "timestamp", "to", "token"]' \
	"payload.message is Postal's message object"
is "$(j '" ".join(str(d["body"]["payload"]["message"][k]) for k in ("token", "direction", "to", "from", "subject"))' <<<"$first")" \
	"$token outgoing someone@example.net app@example.com $subject" "payload.message describes the held message"
is "$(requests ok)" 1 "the ok receiver got exactly one request"

# 14-20: signatures, checked against the JWKS postgate-admin serves.
jwks=$(curl -sS --max-time 10 "$base/.well-known/jwks.json")
printf '%s' "$jwks" >"$HARNESS_DIR/jwks.json"
signing=$(ctl signing-key show | awk '/ signing$/ { print $1 }')
like "$signing" '^[A-Za-z0-9_-]{43}$' "postgatectl initialize made a signing key (kid: a JWK thumbprint)"
is "$(j '[[k["kty"], k["kid"], k["use"], k["alg"], k["e"]] for k in d["keys"]]' <<<"$jwks")" \
	"[[\"RSA\", \"$signing\", \"sig\", \"RS256\", \"AQAB\"]]" "GET /.well-known/jwks.json (no auth) publishes the key: kty, kid, use, alg, e"
is "$(j 'len(__import__("base64").urlsafe_b64decode(d["keys"][0]["n"] + "==")) * 8' <<<"$jwks")" 2048 "the key is RSA-2048"
is "$(j 'd["headers"].get("X-Postal-Signature-KID")' <<<"$first")" "$signing" "X-Postal-Signature-KID names the signing key"
is "$(/usr/bin/python3 "$here/webhook-verify.py" "$HARNESS_DIR/jwks.json" <<<"$first")" "kid=found sha1=pass sha256=pass" \
	"X-Postal-Signature (RSA-SHA1) and X-Postal-Signature-256 (RSA-SHA256) verify over the raw body"
is "$(/usr/bin/python3 "$here/webhook-verify.py" "$HARNESS_DIR/jwks.json" --tamper <<<"$first")" "kid=found sha1=fail sha256=fail" \
	"the verifier is not fooled: one changed body byte fails both"
is "$(ctl signing-key jwks | j '[k["kid"] for k in d["keys"]]')" "[\"$signing\"]" "postgatectl signing-key jwks agrees"

# 21-22: a slow receiver does not hold up the others: ok's attempt was recorded while slow's was in flight.
check "the slow receiver got its request" harness_wait_for 10 at_least slow 1
check "slow's first attempt times out after webhooks.timeout" harness_wait_for 10 \
	eval '[ -n "$(log_of slow r.id)" ]'
is "$(harness_sql "SELECT TIMESTAMPDIFF(MICROSECOND, ok.created_at, slow.created_at) > 2000000,
	slow.status_code IS NULL, slow.error LIKE '%timed out%'
	FROM webhook_requests ok JOIN webhooks wo ON wo.id = ok.webhook_id AND wo.name = 'ok',
	webhook_requests slow JOIN webhooks ws ON ws.id = slow.webhook_id AND ws.name = 'slow' WHERE slow.attempt = 1")" \
	"1	1	1" "ok was delivered and recorded more than 2 s before slow's request timed out (no status, a timeout error)"

# 24-28: 500 then 200: retried once, both attempts in the request log; unsigned webhook: no signature headers.
check "the flaky receiver's event is delivered" harness_wait_for 20 status_is flaky delivered
is "$(requests flaky)" 2 "the flaky receiver got two requests"
is "$(j 'd["body"]["uuid"]' <<<"$(line flaky 1)") $(j 'd["body"]["uuid"]' <<<"$(line flaky 2)")" \
	"$(outbox flaky o.uuid) $(outbox flaky o.uuid)" "both carry the same event uuid"
is "$(log_of flaky "CONCAT_WS(' ', r.attempt, r.status_code, r.will_retry, LEFT(r.body, 30))" | tr '\n' '|')" \
	'1 500 1 {"received": 1, "status": 500}|2 200 0 {"received": 2, "status": 200}|' \
	"the request log has both attempts: status, will_retry and the response body"
is "$(j '[k for k in d["headers"] if k.lower().startswith("x-postal-signature")]' <<<"$(line flaky 1)")" "[]" \
	"a webhook with sign = 0 gets no signature headers"

# 29-33: a receiver that is down: 6 attempts on the schedule, then failed.
check "the down receiver's event ends failed" harness_wait_for 40 status_is down failed
is "$(outbox down 'o.attempts, o.locked_by IS NULL, o.finished_at IS NOT NULL')" "6	1	1" \
	"6 attempts, lease released, finished"
is "$(log_of down "r.will_retry" | tr -d '\n')" "111110" "the request log has all 6 attempts, the last without a retry"
like "$(log_of down r.error | head -1)" '^Failed to connect to 127.0.0.1 port [0-9]+ .*: Couldn.t connect to server' "each attempt records the connection error"
gaps=$(harness_sql "SELECT TIMESTAMPDIFF(MICROSECOND, LAG(r.created_at) OVER (ORDER BY r.attempt), r.created_at)
	FROM webhook_requests r JOIN webhooks w ON w.id = r.webhook_id WHERE w.name = 'down' ORDER BY r.attempt" | tail -n +2 |
	awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1e6 }')
ok "$(awk -v g="$gaps" 'BEGIN { n = split(g, a, " "); split("1 1 1 2 2", want, " ");
	for (i = 1; i <= 5; i++) if (n != 5 || a[i] < want[i] || a[i] > want[i] + 1.5) exit 1 }'; echo $?)" \
	"the retries follow webhooks.retry_delays 1 1 1 2 2 (gaps: $gaps s)"

# 34-37: the other server's webhook: nothing of this server's, but its own server's event.
is "$(requests other)" 0 "a webhook of another server gets none of this server's events"
out=$(send "$key2" app@other.example "other $run_id")
token2=$(harness_sql "SELECT token FROM messages WHERE subject = 'other $run_id'")
check "the other server's held message reaches its webhook" harness_wait_for 15 at_least other 1
is "$(j 'd["body"]["payload"]["message"]["token"]' <<<"$(line other 1)")" "$token2" "with that message's token"
is "$(requests ok)" 1 "and not this server's webhooks"

# 38-40: disabled and unsubscribed webhooks get nothing; enabling one makes the next event arrive.
is "$(requests quiet)" 0 "a disabled webhook and one subscribed only to MessageSent got nothing"
harness_sql "UPDATE webhooks SET enabled = 1 WHERE name = 'disabled'"
out=$(send "$key" app@example.com "enabled $run_id")
check "once enabled, the webhook gets the next MessageHeld" harness_wait_for 15 at_least quiet 1
sleep 1
is "$(requests quiet)" 1 "exactly one (the MessageSent-only webhook still gets nothing)"

# 41-44: MariaDB goes down while a request is in flight: the outcome waits, nothing is sent twice.
webhook other late "$url_late"
out=$(send "$key2" app@other.example "outage $run_id")
check "the late receiver has the request (it answers after 1.5 s)" harness_wait_for 15 at_least late 1
instance_mariadb_stop "$HARNESS_DIR/mariadb"
sleep 4
instance_mariadb_start "$HARNESS_DIR/mariadb" >/dev/null
check "after the outage the outcome is recorded: delivered" harness_wait_for 40 status_is late delivered
is "$(requests late) $(log_of late "CONCAT(r.attempt, ':', r.status_code)") $(outbox late o.attempts)" "1 1:200 1" \
	"one request, one request-log row (200), one attempt: nothing lost, nothing repeated"
like "$(grep 'webhooks: recording outcomes' "$HARNESS_WORKER_LOG" | head -1)" 'recording outcomes: .*retrying in' \
	"the outcome really met the outage (recording failed, was kept and retried)"

# 45: a batch: 24 events queued at once are claimed together and their bodies signed on
# several threads; every request's signatures verify over its own body.
before_ok=$(requests ok)
harness_sql "INSERT INTO webhook_outbox (uuid, server_id, webhook_id, event, payload)
	SELECT UUID(), w.server_id, w.id, 'MessageSent', CONCAT('{\"batch\": ', s.seq, '}')
	FROM webhooks w, seq_1_to_24 s WHERE w.name = 'ok'"
harness_wait_for 30 at_least ok $((before_ok + 24)) || true
verified=$(tail -n +$((before_ok + 1)) "$HARNESS_DIR/ok.jsonl" | while IFS= read -r entry; do
	/usr/bin/python3 "$here/webhook-verify.py" "$HARNESS_DIR/jwks.json" <<<"$entry"
done | sort | uniq -c | sed 's/^ *//')
is "$verified" "24 kid=found sha1=pass sha256=pass" "24 events signed in one batch: each of the 24 requests verifies over its own body"

# 46-47: key rotation: both keys in the JWKS, the new one signing; retiring the old one.
out=$(ctl signing-key rotate)
new_kid=$(sed -n 's/^created the signing key \([^;]*\);.*/\1/p' <<<"$out")
is "$(curl -sS --max-time 10 "$base/.well-known/jwks.json" | j '[k["kid"] for k in d["keys"]]')" "[\"$new_kid\", \"$signing\"]" \
	"after rotate the JWKS has the new key first and still the old one"
retire_current=$(ctl signing-key retire "$new_kid" 2>&1 && echo accepted || echo refused)
ctl signing-key retire "$signing" >/dev/null
is "$(curl -sS --max-time 10 "$base/.well-known/jwks.json" | j '[k["kid"] for k in d["keys"]]') ${retire_current##*$'\n'}" \
	"[\"$new_kid\"] refused" "retiring the old key removes it from the JWKS; the signing key cannot be retired"

# 48-50: SIGTERM with a request in flight: the worker finishes it, records it, and exits 0.
webhook other term "$url_term"
out=$(send "$key2" app@other.example "sigterm $run_id")
check "the term receiver has the request (it answers after 2.5 s)" harness_wait_for 15 at_least term 1
kill -TERM "$HARNESS_WORKER_PID"
harness_wait_for 15 instance_pid_gone "$HARNESS_WORKER_PID" || true
is "$(outbox term "CONCAT(o.status, ':', o.attempts)")" "delivered:1" \
	"the request in flight at SIGTERM finished and was recorded before the worker exited"
like "$(grep -c 'waiting for [0-9]* request(s) in flight' "$HARNESS_WORKER_LOG"):$(tail -1 "$HARNESS_WORKER_LOG")" '^1:.*stopped$' \
	"the worker waited for it and stopped cleanly"
