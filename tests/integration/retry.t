#!/bin/bash
#
# retry.t -- sending failed and held messages again, through the real Postfix: a message
# the remote server refused for good (HardFail, its recipient suppressed) is retried
# through the management API once the remote accepts, leaves again with the same row and
# token, and is Sent (the suppression goes with the success); a retry of a Sent message
# is refused (409 NotRetryable); readonly members get 403, another organization 404; a
# bulk retry by filter marks every matching failed message and postgate-worker's
# `retries` job sends them at the configured pace (never more than worker.retry_batch a
# round), each once; an incoming message whose endpoint failed for good is queued for its
# endpoint again and delivered.
#
# Must never: retry another tenant's message, or let a bulk retry reach Postfix faster
# than its pace.

set -euo pipefail
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/api.sh"

command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
plan 21

here=$(cd "$(dirname "$0")" && pwd)
ctl() { $HARNESS_CTL "$@"; }
pc() { postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" "$@"; }
run_id=$(instance_random_hex 4)

# The remote server: "hard…" recipients get 550 (smtpcodes.py), later the sink takes them.
codes_dir="$HARNESS_DIR/codes"
mkdir -p "$codes_dir"
codes_port=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT" "$HARNESS_RELEASE_PORT" "$HARNESS_INJECTION_PORT")
/usr/bin/python3 "$here/smtpcodes.py" "$codes_port" "$codes_dir" >"$codes_dir/log" 2>&1 &
codes_pid=$!
trap 'rc=$?; kill "$codes_pid" 2>/dev/null || true; wait "$codes_pid" 2>/dev/null || true; instance_postgate_stop "$HARNESS_DIR" recv; harness_on_exit $rc' EXIT
instance_wait_port "$codes_port" 20 "$codes_pid" || harness_setup_failed "smtpcodes.py did not start"
remote_refuses() {
	pc -e "transport_maps = inline:{ codes.test=smtp:[127.0.0.1]:$codes_port }"
	postfix -c "$INSTANCE_POSTFIX_CONFIG_DIR" reload >/dev/null 2>&1
}
remote_accepts() {
	pc -e "transport_maps = inline:{ codes.test=smtp:[127.0.0.1]:$INSTANCE_SINK_PORT }"
	postfix -c "$INSTANCE_POSTFIX_CONFIG_DIR" reload >/dev/null 2>&1
}
remote_refuses

# The jobs every second, two retries a round, two a second: the pace is visible.
export POSTGATE_WORKER_JOBS_INTERVAL=1 POSTGATE_WORKER_RETRY_BATCH=2 POSTGATE_WORKER_RETRY_RATE=2
export POSTGATE_WORKER_ENDPOINT_MAX_ATTEMPTS=1
harness_start_admin
base=$HARNESS_ADMIN_URL
mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser bob@example.test 'B0b-pass-phrase!'
mkuser eve@example.test 'Ev3-pass-phrase!'
login alice alice@example.test 'Al1ce-pass-phrase'
login bob bob@example.test 'B0b-pass-phrase!'
login eve eve@example.test 'Ev3-pass-phrase!'
[ "$(code "$(as alice POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}')")" = "201 " ] &&
	[ "$(code "$(as alice POST /api/v2/organizations/acme/servers '{"name": "Mail", "permalink": "mail"}')")" = "201 " ] &&
	[ "$(code "$(as alice POST /api/v2/organizations/acme/members '{"email": "bob@example.test", "role": "readonly"}')")" = "201 " ] &&
	[ "$(code "$(as eve POST /api/v2/organizations '{"name": "Evil", "permalink": "evil"}')")" = "201 " ] &&
	[ "$(code "$(as eve POST /api/v2/organizations/evil/servers '{"name": "Mail", "permalink": "mail"}')")" = "201 " ] ||
	harness_setup_failed "organizations, servers and members"
S=/api/v2/organizations/acme/servers/mail
ctl domain create --server acme/mail --name example.com --verified >/dev/null || harness_setup_failed "domain create"
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
sid=$(harness_sql "SELECT id FROM servers WHERE permalink = 'mail' AND organization_id = (SELECT id FROM organizations WHERE permalink = 'acme')")
# An incoming route whose endpoint refuses connections (made before any mail, so
# policyd's first list of incoming domains has it).
harness_sql "INSERT INTO http_endpoints (uuid, server_id, name, url) VALUES (UUID(), $sid, 'app', 'http://127.0.0.1:9/in')"
harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, http_endpoint_id)
	SELECT UUID(), $sid, d.id, 'support', 'rt$(instance_random_hex 3)', 'Endpoint', e.id
	FROM domains d, http_endpoints e WHERE d.name = 'example.com' AND e.name = 'app'"
harness_start_worker

send() { # SUBJECT RCPT
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user x --auth-password "$key" \
		--from app@example.com --to "$2" --h-From "App <app@example.com>" --h-Subject "$1 $run_id" >/dev/null 2>&1 || true
}
row() { harness_sql "SELECT id FROM messages WHERE subject = '$1 $run_id' AND rcpt_to = '$2'"; }
status_of() { harness_sql "SELECT status FROM messages WHERE id = $1"; }
has_status() { [ "$(status_of "$1")" = "$2" ]; }
all_status() { # STATUS IDS...
	local want=$1 id
	shift
	for id in "$@"; do [ "$(status_of "$id")" = "$want" ] || return 1; done
}

# ---------------------------------------------------------------- one message
send invoice hard-one@codes.test
m=$(row invoice hard-one@codes.test)
harness_wait_for 40 has_status "$m" HardFail || true
is "$(status_of "$m")|$(harness_sql "SELECT source FROM suppressions WHERE address = 'hard-one@codes.test'")" "HardFail|hard_fail" \
	"the remote refuses for good: HardFail, the recipient suppressed"
is "$(code "$(as bob POST "$S/messages/$m/retry")")" "403 Forbidden" "a readonly member may not retry"
is "$(code "$(as eve POST "/api/v2/organizations/evil/servers/mail/messages/$m/retry")")" "404 NotFound" \
	"another organization's server does not have the message (404)"
is "$(code "$(as eve POST "$S/messages/$m/retry")")" "404 NotFound" "... nor can it reach the server"
remote_accepts
a=$(as alice POST "$S/messages/$m/retry")
is "$(status "$a") $(body "$a" | j 'd["data"]["message"]["id"]')" "200 $m" "a member retries the failed message"
harness_wait_for 40 has_status "$m" Sent || true
is "$(status_of "$m")" Sent "it leaves again with the same row and is Sent"
is "$(harness_sql "SELECT GROUP_CONCAT(status ORDER BY id SEPARATOR ' ') FROM deliveries WHERE message_id = $m")" "HardFail Held Sent" \
	"its deliveries: the refusal, the retry, the success"
like "$(harness_sql "SELECT details FROM deliveries WHERE message_id = $m AND status = 'Held'")" '^Retry requested by alice@example\.test\.$' \
	"... the retry names who asked"
is "$(harness_sql "SELECT COUNT(*) FROM suppressions WHERE address = 'hard-one@codes.test'")" 0 \
	"the success takes the recipient off the suppression list"
is "$(grep -l "$run_id" "$INSTANCE_SINK_DIR"/* 2>/dev/null | xargs -r grep -l '^To: hard-one@codes.test' | wc -l | tr -d ' ')" 1 \
	"the receiver got it once"
a=$(as alice POST "$S/messages/$m/retry")
is "$(code "$a")" "409 NotRetryable" "a Sent message cannot be retried"
like "$(body "$a" | j 'd["data"]["message"]')" 'outgoing Sent' "... the error says what it is"

# ---------------------------------------------------------------- in bulk, paced
remote_refuses
ids=()
for i in 1 2 3 4 5; do send batch "hard-b$i@codes.test"; done
for i in 1 2 3 4 5; do ids+=("$(row batch "hard-b$i@codes.test")"); done
harness_wait_for 60 all_status HardFail "${ids[@]}" || true
is "$(all_status HardFail "${ids[@]}" && echo yes)" yes "five messages refused for good"
remote_accepts
a=$(as alice POST "$S/messages/retry?status=HardFail&subject=batch%20$run_id")
is "$(status "$a") $(body "$a" | j 'd["data"]["matched"], d["data"]["marked"]' | tr -d '[],')" "202 5 5" \
	"a bulk retry by filter marks the five for the retries job (202)"
is "$(code "$(as alice POST "$S/messages/retry" '{"max": 10}')")" "400 ValidationError" \
	"a bulk retry without a filter naming what it retries is refused"
harness_wait_for 60 all_status Sent "${ids[@]}" || true
is "$(all_status Sent "${ids[@]}" && echo yes)" yes "the job sends all five again and they are Sent"
rounds=$(grep -o 'retries: [0-9]* messages\? sent again' "$HARNESS_WORKER_LOG" | grep -o '[0-9]*' | tr '\n' ' ')
is "$(for n in $rounds; do [ "$n" -le 2 ] || exit 1; done; [ -n "$rounds" ] && echo yes)" yes \
	"never more than worker.retry_batch (2) a round (rounds: $rounds)"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE retry_requested_at IS NOT NULL")" 0 "no mark is left"
is "$(grep -l "batch $run_id" "$INSTANCE_SINK_DIR"/* 2>/dev/null | wc -l | tr -d ' ')" 5 "the receiver got each once"

# ---------------------------------------------------------------- an incoming message
instance_spawn "$HARNESS_DIR/recv.pid" "$HARNESS_DIR/recv.log" /usr/bin/python3 "$here/webhook-receiver.py" \
	--log "$HARNESS_DIR/hooks.jsonl" --port-file "$HARNESS_DIR/hooks.port" ||
	harness_setup_failed "the receiver did not start"
harness_wait_for 10 test -s "$HARNESS_DIR/hooks.port" || harness_setup_failed "the receiver has no port"
timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from someone@remote.example --to support@example.com \
	--h-Subject "help $run_id" >/dev/null 2>&1 || true
harness_wait_for 30 test -n "$(harness_sql "SELECT id FROM messages WHERE subject = 'help $run_id'")" || true
mi=$(harness_sql "SELECT id FROM messages WHERE subject = 'help $run_id'")
harness_wait_for 40 has_status "${mi:-0}" HardFail || true
is "$(status_of "${mi:-0}")" HardFail "an incoming message whose endpoint refused fails for good (one attempt)"
harness_sql "UPDATE http_endpoints SET url = 'http://127.0.0.1:$(cat "$HARNESS_DIR/hooks.port")/in' WHERE name = 'app'"
a=$(as alice POST "$S/messages/${mi:-0}/retry")
harness_wait_for 40 grep -q "help $run_id" "$HARNESS_DIR/hooks.jsonl" || true
is "$(status "$a")|$(grep -c "help $run_id" "$HARNESS_DIR/hooks.jsonl")" "200|1" \
	"a retry queues it for the endpoint again, which gets it"
