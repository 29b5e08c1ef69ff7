#!/bin/bash
#
# monitoring.t -- every daemon's /health and /metrics on its monitor listener
# (<daemon>.monitor_listen): 200 OK while it works, 503 naming MariaDB while MariaDB is
# down; Prometheus text that promtool accepts, with the series an administrator alerts on,
# moving with real mail through the real Postfix; counters kept across a reload; a busy
# monitor port costs only the monitor; and a real Prometheus scrapes all five.
#
# Must never: pass on a metric that is absent (each value read must exist to compare).

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v promtool >/dev/null || skip_all "promtool missing: run 'packaging/install-deps test' as root"
command -v prometheus >/dev/null || skip_all "prometheus missing: run 'packaging/install-deps test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_worker
harness_start_tracker
harness_start_admin
plan 38

ctl() { $HARNESS_CTL "$@"; }
daemons=(milter policyd worker tracker admin)
port_of() { local v="HARNESS_MONITOR_${1^^}"; printf '%s' "${!v}"; }
get() { curl -s --max-time 10 "http://127.0.0.1:$(port_of "$1")$2" 2>/dev/null || true; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$(port_of "$1")$2" 2>/dev/null || true; }
# metric DAEMON 'name{labels}': the sample's value, or "absent".
metric() {
	get "$1" /metrics | awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }' | head -1
}

for d in "${daemons[@]}"; do
	is "$(code "$d" /health) $(get "$d" /health)" "200 OK" "postgate-$d: /health answers 200 OK"
	lint=$(get "$d" /metrics | promtool check metrics 2>&1) && st=0 || st=$?
	is "$st:$lint" "0:" "postgate-$d: /metrics passes promtool check metrics"
	is "$(metric "$d" "postgate_build_info{program=\"postgate-$d\",version=\"$(ctl version | awk '{ print $NF }')\"}")" 1 \
		"... and names the program and version (postgate_build_info)"
done
is "$(code milter /nothing)" 404 "anything but /health and /metrics is 404"

# Real mail: an authenticated message, a failed login.
ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
swaks_out() { # PASSWORD
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail --auth-password "$1" \
		--from app@example.com --to someone@example.net --h-From "App <app@example.com>" 2>&1 || true
}
like "$(swaks_out "$key")" '250 2\.0\.0 Ok: queued' "an authenticated message is accepted"
is "$(metric milter 'postgate_milter_messages_total{direction="outgoing",outcome="accepted"}')" 1 \
	"postgate_milter_messages_total counts it (outgoing, accepted)"
like "$(metric milter 'postgate_milter_eom_seconds_count{direction="outgoing"}')" '^1$' \
	"... and postgate_milter_eom_seconds observed its end-of-message time"
is "$(metric policyd 'postgate_sasl_logins_total{result="ok"}')" 1 "postgate_sasl_logins_total counts the login (ok)"
# A From the server does not own (530), and a message its credential holds.
timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail --auth-password "$key" \
	--from app@example.com --to someone@example.net --h-From "Other <x@elsewhere.example>" >/dev/null 2>&1 || true
is "$(metric milter 'postgate_milter_refusals_total{reason="from"}') $(metric milter 'postgate_milter_refusals_total{reason="spam"}')" \
	"1 0" "postgate_milter_refusals_total counts the refused From by its reason (from), nothing else"
hold=$(ctl credential create --server acme/mail --name held --hold | sed -n 's/^key: //p')
timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail --auth-password "$hold" \
	--from app@example.com --to one@example.net,two@example.net --h-From "App <app@example.com>" >/dev/null 2>&1 || true
is "$(metric milter 'postgate_milter_held_recipients_total{reason="credential"}') $(metric milter 'postgate_milter_held_recipients_total{reason="development_mode"}')" \
	"2 0" "postgate_milter_held_recipients_total counts both held recipients by reason (credential)"
swaks_out wrong-password >/dev/null
is "$(metric policyd 'postgate_sasl_logins_total{result="failed"}')" 1 "... and a failed one (failed)"
like "$(metric policyd 'postgate_policyd_request_seconds_count{service="policy"}')" '^[1-9][0-9]*$' \
	"postgate_policyd_request_seconds observed the relay decision"
like "$(metric worker 'postgate_queue_depth{queue="webhooks"}')" '^[0-9]+$' "postgate-worker: postgate_queue_depth{queue=\"webhooks\"}"
like "$(metric worker 'postgate_queue_oldest_seconds{queue="endpoints"}')" '^[0-9.e+-]+$' "... postgate_queue_oldest_seconds{queue=\"endpoints\"}"
harness_wait_for 30 eval '[ "$(metric worker postgate_maillog_unread_bytes)" = 0 ]' || true
is "$(metric worker postgate_maillog_unread_bytes)" 0 "... postgate_maillog_unread_bytes: the log reader caught up"
is "$(metric tracker 'postgate_tracker_hits_total{kind="click"}')" 0 "postgate-tracker: postgate_tracker_hits_total{kind=\"click\"}"
curl -s -o /dev/null "$HARNESS_ADMIN_URL/health"
like "$(metric admin 'postgate_admin_responses_total{code="2xx"}')" '^[1-9][0-9]*$' "postgate-admin: postgate_admin_responses_total{code=\"2xx\"}"

# A reload keeps the counters.
logins=$(metric policyd 'postgate_sasl_logins_total{result="ok"}')
kill -HUP "$(cat "$HARNESS_DIR/policyd.pid")"
harness_wait_for 10 grep -q 'configuration reloaded\|reload' "$HARNESS_DIR/policyd.log" || true
is "$(metric policyd 'postgate_sasl_logins_total{result="ok"}')" "$logins" "policyd's counters survive a configuration reload ($logins logins)"

# MariaDB down: /health says why; the database errors are counted.
instance_mariadb_stop "$HARNESS_DIR/mariadb"
like "$(code milter /health) $(get milter /health)" '^503 MariaDB: ' "MariaDB stopped: postgate-milter's /health answers 503 naming MariaDB"
like "$(code worker /health) $(get worker /health)" '^503 MariaDB: ' "... and postgate-worker's"
instance_mariadb_start "$HARNESS_DIR/mariadb" || diag "MariaDB did not start again"
harness_wait_for 30 eval '[ "$(code milter /health)" = 200 ]' || true
is "$(code milter /health)" 200 "MariaDB back: 200 again"
like "$(metric milter 'postgate_db_errors_total{kind="connect"}')" '^[1-9][0-9]*$' "postgate_db_errors_total{kind=\"connect\"} counted the outage"

# A busy monitor port costs only the monitor: the milter runs on without it.
instance_postgate_stop "$HARNESS_DIR" milter
rm -f "$HARNESS_QUEUE_DIR/postgate/milter"
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(60)' "$(port_of milter)" &
squatter=$!
sleep 0.5
instance_postgate_start "$HARNESS_DIR" milter "$POSTGATE_BUILDDIR/milter/postgate-milter" "$HARNESS_CONFIG" \
	"$HARNESS_QUEUE_DIR/postgate/milter" || diag "the milter did not start"
like "$(grep 'no /health or /metrics' "$HARNESS_DIR/milter.log" | tail -1)" "cannot listen on inet:127\\.0\\.0\\.1:$(port_of milter)" \
	"a busy monitor port is logged"
like "$(swaks_out "$key")" '250 2\.0\.0 Ok: queued' "... and the milter runs on without it (mail accepted)"
kill "$squatter" 2>/dev/null || true
wait "$squatter" 2>/dev/null || true

# A real Prometheus scrapes the other four (the milter's monitor is off now).
prom_port=$(instance_free_port) || diag "no port for Prometheus"
mkdir -p "$HARNESS_DIR/prometheus"
{
	printf 'global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n'
	printf '  - job_name: postgate\n    static_configs:\n      - targets: ['
	printf "'127.0.0.1:%s', " "$(port_of policyd)" "$(port_of worker)" "$(port_of tracker)"
	printf "'127.0.0.1:%s']\n" "$(port_of admin)"
} >"$HARNESS_DIR/prometheus/prometheus.yml"
prometheus --config.file="$HARNESS_DIR/prometheus/prometheus.yml" --storage.tsdb.path="$HARNESS_DIR/prometheus/data" \
	--web.listen-address="127.0.0.1:$prom_port" >"$HARNESS_DIR/prometheus/log" 2>&1 &
prom=$!
query() { curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" 2>/dev/null || true; }
up_count() { query 'count(up{job="postgate"} == 1)' | /usr/bin/python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)' 2>/dev/null || echo 0; }
harness_wait_for 60 eval '[ "$(up_count)" = 4 ]' || true
is "$(up_count)" 4 "a real Prometheus scrapes all four monitors (up == 1)"
like "$(query 'postgate_sasl_logins_total{result="ok"}')" '"value":\[[0-9.]+,"[1-9]' "... and reads postgate_sasl_logins_total from them"
kill "$prom" 2>/dev/null || true
wait "$prom" 2>/dev/null || true
