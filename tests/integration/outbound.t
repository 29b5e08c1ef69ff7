#!/bin/bash
#
# outbound.t -- what postgate-worker connects to on a tenant's behalf (issue 12, items 4
# and 17). With security.outbound_allowed_networks not covering loopback: the management
# API refuses loopback/private webhook and endpoint targets (400 ValidationError), and rows that
# reach the database anyway (saved earlier, or a name that re-resolves) are refused at
# connect time, by address, for 127.0.0.1, localhost, [::1] and [::ffff:127.0.0.1]:
# nothing arrives at the listeners and the request log says "address ... is not allowed".
# With loopback allowed the same webhooks deliver. Every webhook request carries an
# Idempotency-Key that stays the same when a timed-out attempt is sent again.
#
# Must never: pass when a refused target received a request.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/python3 ] || skip_all "python3 missing: run 'packaging/install-deps test' as root"
command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
cat >>"$HARNESS_CONFIG" <<'EOF'
webhooks: { timeout = 2; retry_delays = ["1", "1", "1", "1", "1"]; };
EOF
# Phase 1: only a documentation network is allowed, so every loopback receiver is internal.
export POSTGATE_SECURITY_OUTBOUND_ALLOWED_NETWORKS=192.0.2.0/24
harness_start_admin
harness_start_worker
plan 21

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
base=$HARNESS_ADMIN_URL

stop_receivers() {
	local f
	for f in "$HARNESS_DIR"/recv-*.pid; do
		[ -e "$f" ] || continue
		f=${f##*/}
		instance_postgate_stop "$HARNESS_DIR" "${f%.pid}"
	done
}
trap 'rc=$?; stop_receivers; harness_on_exit $rc' EXIT

receiver() { # NAME [args]: prints the port
	local name=$1
	shift
	touch "$HARNESS_DIR/$name.jsonl"
	instance_spawn "$HARNESS_DIR/recv-$name.pid" "$HARNESS_DIR/recv-$name.log" /usr/bin/python3 \
		"$here/webhook-receiver.py" --log "$HARNESS_DIR/$name.jsonl" --port-file "$HARNESS_DIR/$name.port" "$@" ||
		harness_setup_failed "receiver $name did not start"
	harness_wait_for 10 test -s "$HARNESS_DIR/$name.port" || harness_setup_failed "receiver $name has no port"
	cat "$HARNESS_DIR/$name.port"
}
requests() { wc -l <"$HARNESS_DIR/$1.jsonl"; }
at_least() { [ "$(requests "$1")" -ge "$2" ]; }
line() { sed -n "${2}p" "$HARNESS_DIR/$1.jsonl"; }
check() {
	local name=$1
	shift
	if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi
}
webhook() { # NAME URL: a webhook row written past the API (as if saved before the rule)
	harness_sql "INSERT INTO webhooks (uuid, server_id, name, url, all_events, enabled, sign)
		SELECT UUID(), id, '$1', '$2', 1, 1, 0 FROM servers WHERE permalink = 'mail'"
}
log_of() { # NAME COLUMNS
	harness_sql "SELECT $2 FROM webhook_requests r JOIN webhooks w ON w.id = r.webhook_id WHERE w.name = '$1' ORDER BY r.outbox_id, r.attempt"
}
logged() { [ -n "$(log_of "$1" r.id | head -1)" ]; }
send() { # KEY SUBJECT
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user x --auth-password "$1" \
		--from app@example.com --to someone@example.net --h-From "App <app@example.com>" --h-Subject "$2" 2>&1 || true
}

p4=$(receiver v4)
p6=$(receiver v6 --bind ::1)
pslow=$(receiver slow --delay 4,0)
pepslow=$(receiver epslow --delay 7,0)

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail --mode Development >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')

# 1-7: the management API refuses internal targets with its field error (400 ValidationError) naming the address.
mkuser root@example.test 'Adm1n-pass-phrase' --admin
a=$(call POST /api/v2/session '{"email": "root@example.test", "password": "Adm1n-pass-phrase"}' -c "$(jar root)")
csrf_root=$(body "$a" | j 'd["data"]["csrf_token"]')
export csrf_root
wh=/api/v2/organizations/acme/servers/mail/webhooks
for url in "http://127.0.0.1:$p4/x" "http://localhost:$p4/x" "http://[::1]:$p6/x" "http://[::ffff:127.0.0.1]:$p4/x" \
	"http://169.254.169.254/latest/meta-data/"; do
	a=$(as root POST "$wh" "{\"name\": \"w$run_id\", \"url\": \"$url\", \"all_events\": true}")
	like "$(status "$a") $(body "$a")" '^400 .*ValidationError.*is not allowed' "saving a webhook to $url is refused (400 ValidationError, 'not allowed')"
done
a=$(as root POST /api/v2/organizations/acme/servers/mail/http-endpoints \
	"{\"name\": \"e$run_id\", \"url\": \"http://10.1.2.3/in\"}")
like "$(status "$a") $(body "$a")" '^400 .*ValidationError.*address 10\.1\.2\.3 is not allowed' "saving an HTTP endpoint to 10.1.2.3 is refused (400 ValidationError)"
a=$(as root POST /api/v2/organizations/acme/servers/mail/smtp-endpoints \
	"{\"name\": \"s$run_id\", \"hostname\": \"127.0.0.1\", \"port\": 25, \"ssl_mode\": \"None\"}")
like "$(status "$a") $(body "$a")" '^400 .*ValidationError.*address 127\.0\.0\.1 is not allowed' "saving an SMTP endpoint on 127.0.0.1 is refused (400 ValidationError)"

# 8-13: rows past the API are refused at connect time, by the address DNS gave.
webhook lit "http://127.0.0.1:$p4/lit"
webhook name "http://localhost:$p4/name"
webhook six "http://[::1]:$p6/six"
webhook mapped "http://[::ffff:127.0.0.1]:$p4/mapped"
out=$(send "$key" "ssrf $run_id")
like "$out" '250 2.0.0 Ok' "a held message queues MessageHeld for the four webhooks"
for w in lit name six mapped; do harness_wait_for 30 logged "$w" || true; done
like "$(log_of lit r.error | head -1)" '^address 127\.0\.0\.1 is not allowed' \
	"127.0.0.1: the request log says 'address 127.0.0.1 is not allowed'"
like "$(log_of name r.error | head -1)" '^address (127\.0\.0\.1|::1) is not allowed' \
	"localhost: refused by the address it resolves to"
like "$(log_of six r.error | head -1)" '^address ::1 is not allowed' "[::1]: refused"
like "$(log_of mapped r.error | head -1)" '^address 127\.0\.0\.1 is not allowed' "[::ffff:127.0.0.1]: refused as 127.0.0.1"
sleep 2
is "$(requests v4) $(requests v6)" "0 0" "no request arrived at either loopback listener"

# 14-16: with loopback allowed, the same webhooks deliver (their retries).
instance_postgate_stop "$HARNESS_DIR" worker
unset POSTGATE_SECURITY_OUTBOUND_ALLOWED_NETWORKS
export POSTGATE_WORKER_ENDPOINT_RETRY_DELAY=1
harness_start_worker
check "127.0.0.1 and localhost deliver once loopback is allowed" harness_wait_for 30 at_least v4 3
check "[::1] delivers once ::1 is allowed" harness_wait_for 30 at_least v6 1
got200() { [ "$(log_of lit 'MAX(r.status_code)')" = 200 ]; }
check "the request log records the 200" harness_wait_for 15 got200

# 17-19 (item 17): a receiver that answers after the timeout on the first attempt sees the
# same Idempotency-Key on the retry, and it is the event's uuid.
harness_sql "UPDATE webhooks SET enabled = 0"
webhook slow "http://127.0.0.1:$pslow/slow"
out=$(send "$key" "idem $run_id")
check "the slow receiver got the first attempt and the retry" harness_wait_for 30 at_least slow 2
k1=$(line slow 1 | j 'd["headers"].get("Idempotency-Key", "")')
k2=$(line slow 2 | j 'd["headers"].get("Idempotency-Key", "")')
uuid=$(line slow 2 | j 'd["body"]["uuid"]')
ok "$([ -n "$k1" ] && [ "$k1" = "$k2" ]; echo $?)" "the retry carries the same Idempotency-Key ($k1 / $k2)"
is "$k1" "\"$uuid\"" "the key is the event's uuid (a quoted string, as the IETF Idempotency-Key draft writes it)"

# 20-21 (item 17): the same for an HTTP endpoint (timeout 5 s, the least): the retry of a delivery that
# timed out after the receiver got it carries the first attempt's key.
ctl server create --org acme --name Inbox --permalink inbox >/dev/null
ctl domain create --server acme/inbox --name in.postgate.test --verified >/dev/null
server_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'inbox'")
domain_id=$(harness_sql "SELECT id FROM domains WHERE name = 'in.postgate.test'")
harness_sql "INSERT INTO http_endpoints (uuid, server_id, name, url, format, encoding, strip_replies, include_attachments, timeout)
	VALUES (UUID(), $server_id, 'epslow', 'http://127.0.0.1:$pepslow/ep', 'Hash', 'BodyAsJSON', 0, 0, 5)"
harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, http_endpoint_id)
	SELECT UUID(), $server_id, $domain_id, 'slow', '$(instance_random_hex 4)', 'Endpoint', id FROM http_endpoints WHERE name = 'epslow'"
# policyd learns the new route domain within its refresh interval: send until it is accepted.
send_in() {
	local out
	out=$(timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from sender@example.org --to slow@in.postgate.test \
		--h-Subject "epslow $run_id" 2>&1 || true)
	[[ $out == *"250 2.0.0 Ok: queued"* ]]
}
harness_wait_for 60 send_in || diag "the message to slow@in.postgate.test was not accepted"
check "the slow endpoint got the first attempt and the retry" harness_wait_for 60 at_least epslow 2
k1=$(line epslow 1 | j 'd["headers"].get("Idempotency-Key", "")')
k2=$(line epslow 2 | j 'd["headers"].get("Idempotency-Key", "")')
key_re='^"msg-[0-9]+-[A-Za-z0-9]+-ep-[0-9]+"$'
ok "$([[ $k1 =~ $key_re ]] && [ "$k1" = "$k2" ]; echo $?)" \
	"the endpoint's retry carries the same key, naming the message and endpoint ($k1 / $k2)"
