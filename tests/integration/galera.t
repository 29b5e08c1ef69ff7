#!/bin/bash
#
# galera.t -- two whole postgate hosts on one three-node MariaDB Galera cluster (issue 17),
# on loopback: host a (its own Postfix, postgate-milter, -policyd and -worker) on node 1,
# host b on node 2, one smtp-sink as the Internet, postgatectl on node 1. Checks:
#   - a send limit of N per hour holds exactly across both hosts submitting at once: N
#     messages delivered, the rest held, however the submissions interleave;
#   - a credential revoked with postgatectl on node 1 is refused by host b within the
#     milter's cache TTL (1 s here) plus a second of slack;
#   - a few hundred messages through both hosts while node 2 (host b's) is killed with
#     kill -9 and later rejoins by IST: every message recorded once, delivered once, and
#     every delivered one has exactly one Sent delivery result;
#   - a domain's DKIM key rotated through postgate-admin on node 3 signs the mail of both
#     hosts within the cache TTL plus a second;
#   - postgate-admin and postgate-tracker twice (nodes 3 and 2, nodes 1 and 3) behind one
#     nginx: a session made through one admin works on the other, each click through
#     either tracker is recorded once, and one server changed through both admins at once
#     answers every request 200 (a call that lost a certification conflict runs again);
#   - every webhook event of all that (a receiver for all events of the server) delivered
#     at least once, each event's uuid once outside the node's outage;
#   - the periodic jobs (worker.jobs_interval = 2 s here, so a job's period is 1 s or more) ran
#     once per period in total across both workers, the whole test long: a trigger the test
#     adds records every lease taken (row events replicated to other nodes fire no trigger).
# Clients resubmit on a 4xx, as real ones do (host b answers 4xx while its node is down).
#
# Must never: pass on a count it did not read from the sink or the database, or leave a
# node running (harness cleanup stops the cluster).

# shellcheck disable=SC2153 # HARNESS_A_* and HARNESS_B_* are exported by harness_start_host
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 missing: run 'packaging/install-deps test' as root"

harness_setup galera sink
# Both workers compete for the periodic jobs every 2 s all test long.
export POSTGATE_WORKER_JOBS_INTERVAL=2
harness_start_host a 1
harness_start_host b 2
here=$(cd "$(dirname "$0")" && pwd)
# The webhook receiver is ours to stop (the harness stops only what it started).
stop_receiver() {
	local pid name
	for name in receiver admin2 tracker2; do
		pid=$(instance_pidfile_read "$HARNESS_DIR/$name.pid" 2>/dev/null) && instance_kill_pid "$pid" 5
	done
	pid=$(instance_pidfile_read "$HARNESS_DIR/nginx/nginx.pid" 2>/dev/null) && instance_kill_pid "$pid" 5
	return 0
}
trap 'rc=$?; stop_receiver; harness_on_exit $rc' EXIT
instance_spawn "$HARNESS_DIR/receiver.pid" "$HARNESS_DIR/receiver.log" /usr/bin/python3 "$here/webhook-receiver.py" \
	--log "$HARNESS_DIR/hooks.jsonl" --port-file "$HARNESS_DIR/hooks.port" || harness_setup_failed "webhook receiver"
harness_wait_for 10 test -s "$HARNESS_DIR/hooks.port" || harness_setup_failed "the webhook receiver has no port"
touch "$HARNESS_DIR/hooks.jsonl"
plan 35

# shellcheck source-path=SCRIPTDIR source=api.sh
. "$here/api.sh"        # (its sql() is replaced below)
ctl() { $HARNESS_A_CTL "$@"; }
run_id=$(instance_random_hex 4)
limit=10

# sql NODE SQL: as the postgate user on Galera node NODE.
sql() {
	MYSQL_PWD=$INSTANCE_DB_PASSWORD mariadb --no-defaults --protocol=socket \
		-S "$HARNESS_GALERA_DIR/node$1/mysqld.sock" -u "$INSTANCE_DB_USER" --batch --skip-column-names \
		-e "$2" "$INSTANCE_DB_NAME"
}

# submit PREFIX FIRST COUNT THREADS KEY PORT...: COUNT messages, subjects PREFIX-FIRST ...,
# spread over the ports (one per host) with THREADS connections each, AUTH PLAIN; a 4xx or a
# lost connection is retried after 0.5 s for up to 120 s. Prints "sent N failed M".
submit() {
	/usr/bin/python3 - "$@" <<'PY'
import smtplib, sys, threading, time
prefix, first, count, threads, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ports = [int(p) for p in sys.argv[6:]]
lock = threading.Lock()
todo = list(range(first, first + count))
result = {"sent": 0, "failed": 0}

def one(port, n):
    subject = "%s-%d" % (prefix, n)
    body = ("From: App <app@example.com>\r\nTo: rcpt%d@example.net\r\nSubject: %s\r\n\r\nmessage %s\r\n"
            % (n, subject, subject))
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=30)
            try:
                s.login("acme/mail", key)
                s.sendmail("app@example.com", ["rcpt%d@example.net" % n], body)
                return True
            finally:
                try:
                    s.quit()
                except Exception:
                    pass
        except smtplib.SMTPResponseException as e:
            if e.smtp_code >= 500:
                sys.stderr.write("%s: %d %s\n" % (subject, e.smtp_code, e.smtp_error))
                return False
        except (smtplib.SMTPException, OSError) as e:
            pass
        time.sleep(0.5)
    sys.stderr.write("%s: gave up after 120 s\n" % subject)
    return False

def worker(port):
    while True:
        with lock:
            if not todo:
                return
            n = todo.pop(0)
        ok = one(port, n)
        with lock:
            result["sent" if ok else "failed"] += 1

ts = [threading.Thread(target=worker, args=(p,)) for p in ports for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("sent %d failed %d" % (result["sent"], result["failed"]))
PY
}

# auth_answer PORT KEY: the SMTP reply code to AUTH PLAIN with KEY on 127.0.0.1:PORT.
auth_answer() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import smtplib, sys
try:
    s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
    try:
        s.login("acme/mail", sys.argv[2])
        print(235)
    except smtplib.SMTPResponseException as e:
        print(e.smtp_code)
    s.close()
except Exception as e:
    print("error %s" % e)
PY
}

sink_subjects() { grep -h "^Subject: $1-" "$INSTANCE_SINK_DIR"/* 2>/dev/null | sort | uniq -c | awk '{ print $1 }' | sort | uniq -c | awk '{ printf "%s×%s ", $1, $2 }'; }
sink_count() { grep -l "^Subject: $1-" "$INSTANCE_SINK_DIR"/* 2>/dev/null | wc -l; }
sink_has() { [ "$(sink_count "$1")" -ge "$2" ]; }

# 1: the cluster and both hosts.
migrations=$(find "$POSTGATE_SRCDIR/schema" -name '[0-9]*.sql' | wc -l)
is "$(instance_galera_status "$HARNESS_GALERA_DIR/node3" wsrep_cluster_size) $(sql 2 "SELECT COUNT(*) FROM schema_migrations") " \
	"3 $migrations " \
	"three nodes; node 2 sees every migration, applied once through host a and host b"

# Every lease of a periodic job taken, on whichever node took it (test-only; needs a primary key).
harness_root_sql "CREATE TABLE $INSTANCE_DB_NAME.test_job_runs (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name VARCHAR(64) NOT NULL, owner VARCHAR(255) NOT NULL, started_at DATETIME(6) NOT NULL) ENGINE=InnoDB;
	CREATE TRIGGER $INSTANCE_DB_NAME.test_job_runs AFTER UPDATE ON $INSTANCE_DB_NAME.jobs FOR EACH ROW
	INSERT INTO $INSTANCE_DB_NAME.test_job_runs (name, owner, started_at)
	SELECT NEW.name, NEW.locked_by, NEW.last_started_at FROM DUAL
	WHERE NOT (NEW.last_started_at <=> OLD.last_started_at) AND NEW.locked_by IS NOT NULL" ||
	diag "could not add the job-run trigger"

# Two hosts initializing one new database at once, through two nodes: the migration lease
# (not GET_LOCK, which holds on one node only) lets one migrate while the other waits.
harness_root_sql "CREATE DATABASE postgate2; GRANT ALL PRIVILEGES ON postgate2.* TO '$INSTANCE_DB_USER'@'localhost'"
for n in 1 2; do
	sed "s|^\([[:space:]]*\)name = .*|\1name = \"postgate2\";|" "$HARNESS_A_CONFIG" |
		sed "0,/^[[:space:]]*socket = .*/s||  socket = \"$HARNESS_GALERA_DIR/node$n/mysqld.sock\";|" >"$HARNESS_DIR/init$n.conf"
	chmod --reference="$HARNESS_A_CONFIG" "$HARNESS_DIR/init$n.conf"
	chown --reference="$HARNESS_A_CONFIG" "$HARNESS_DIR/init$n.conf"
done
"$POSTGATE_BUILDDIR/ctl/postgatectl" -c "$HARNESS_DIR/init1.conf" initialize >"$HARNESS_DIR/init1.out" 2>&1 &
init1=$!
"$POSTGATE_BUILDDIR/ctl/postgatectl" -c "$HARNESS_DIR/init2.conf" initialize >"$HARNESS_DIR/init2.out" 2>&1 && st2=0 || st2=$?
wait "$init1" && st1=0 || st1=$?
is "$st1 $st2 $(sql 3 "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT version)) FROM postgate2.schema_migrations")" \
	"0 0 $migrations $migrations" "two initializes at once through nodes 1 and 2: both succeed, each migration applied once"
[ "$st1$st2" = 00 ] || diag "$(cat "$HARNESS_DIR/init1.out" "$HARNESS_DIR/init2.out")"

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
server_id=$(sql 1 "SELECT id FROM servers WHERE permalink = 'mail'")
sql 1 "INSERT INTO webhooks (uuid, server_id, name, url, all_events, enabled, sign)
	VALUES (UUID(), $server_id, 'all', 'http://127.0.0.1:$(cat "$HARNESS_DIR/hooks.port")/hooks', 1, 1, 0)"

# ---- (a) the send limit across both hosts
sql 1 "UPDATE servers SET send_limit = $limit WHERE id = $server_id"
sleep 2.1       # both milters' caches (milter.cache_ttl = 1)
out=$(submit "limit-$run_id" 1 30 3 "$key" "$HARNESS_A_SMTP_PORT" "$HARNESS_B_SMTP_PORT")
is "$out" "sent 30 failed 0" "send limit: 30 messages submitted through both hosts at once, all accepted"
harness_wait_for 60 sink_has "limit-$run_id" "$limit" || true
sleep 3         # anything over the limit would arrive by now
is "$(sink_count "limit-$run_id")" "$limit" "send limit $limit: exactly $limit messages reached the sink"
is "$(sql 2 "SELECT CONCAT(SUM(status = 'Held'), ' ', SUM(status <> 'Held'), ' ', COUNT(DISTINCT subject))
	FROM messages WHERE server_id = $server_id AND subject LIKE 'limit-$run_id-%'")" "20 $limit 30" \
	"send limit: 30 rows, $limit not held and 20 held"
is "$(sql 1 "SELECT COUNT(*) FROM messages WHERE server_id = $server_id AND subject LIKE 'limit-$run_id-%'
	AND status = 'Held' AND hold_reason = 'Message held because send limit ($limit) has been reached.'")" 20 \
	"the held rows say why"
a_q=$(grep -c ': message-id=' "$HARNESS_A_MAILLOG" || true)
b_q=$(grep -c ': message-id=' "$HARNESS_B_MAILLOG" || true)
ok "$([ "$a_q" -gt 0 ] && [ "$b_q" -gt 0 ] && echo 0 || echo 1)" "both hosts took part (host a: $a_q, host b: $b_q submissions)"
note "limit decided inside the recording transaction: $(cat "$HARNESS_A_DIR/milter.log" "$HARNESS_B_DIR/milter.log" |
	grep -c 'send limit reached while recording' || true) time(s); transactions run again: $(cat "$HARNESS_A_DIR"/*.log \
	"$HARNESS_B_DIR"/*.log | grep -c 'lost a conflict' || true)"
sql 1 "UPDATE servers SET send_limit = NULL WHERE id = $server_id"

# ---- (b) a credential revoked on node 1, refused by host b within the cache TTL
key2=$(ctl credential create --server acme/mail --name revoked | sed -n 's/^key: //p')
sleep 2.1
is "$(auth_answer "$HARNESS_B_SMTP_PORT" "$key2")" 235 "host b takes the new credential"
out=$(ctl credential delete --server acme/mail --name revoked)
like "$out" '^deleted credential revoked' "postgatectl credential delete on node 1"
revoked_at=$SECONDS
refused=""
while [ $((SECONDS - revoked_at)) -le 10 ]; do
	answer=$(auth_answer "$HARNESS_B_SMTP_PORT" "$key2")
	if [ "$answer" = 535 ]; then
		refused=$((SECONDS - revoked_at))
		break
	fi
	sleep 0.2
done
ok "$([ -n "$refused" ] && [ "$refused" -le 2 ] && echo 0 || echo 1)" \
	"host b refuses the revoked credential within the TTL (1 s) and a second: after ${refused:-more than 10} s"
is "$(auth_answer "$HARNESS_A_SMTP_PORT" "$key2") $(auth_answer "$HARNESS_A_SMTP_PORT" "$key")" "535 235" \
	"host a refuses it too, and still takes the other credential"

# ---- (e) a DKIM key rotated through postgate-admin on node 3, in effect on both hosts
export HARNESS_CTL=$HARNESS_A_CTL
POSTGATE_DATABASE_SOCKET="$HARNESS_GALERA_DIR/node3/mysqld.sock" harness_start_admin
base=$HARNESS_ADMIN_URL
mkuser ops@example.test 'Op3rator-pass-phrase'
member_of acme ops@example.test member
login ops ops@example.test 'Op3rator-pass-phrase'
old_sel=$(sql 1 "SELECT k.selector FROM domain_dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'example.com'")
a=$(as ops POST /api/v2/organizations/acme/servers/mail/domains/example.com/dkim/rotate '{"activate_after": 0}')
new_sel=$(body "$a" | j '[k["selector"] for k in d["data"]["domain"]["dkim_keys"] if k["state"] == "pending"][0]')
is "$(code "$a") $(body "$a" | j '" ".join("%s:%s" % (k["state"], k["signing"]) for k in d["data"]["domain"]["dkim_keys"])')" \
	"201  active:False pending:True" "rotated through the admin on node 3: the new key signs at once"
sleep 2         # the milters' cache TTL (1 s) and a second
submit "dkim-$run_id-a" 1 1 1 "$key" "$HARNESS_A_SMTP_PORT" >/dev/null
submit "dkim-$run_id-b" 1 1 1 "$key" "$HARNESS_B_SMTP_PORT" >/dev/null
for h in a b; do
	harness_wait_for 30 sink_has "dkim-$run_id-$h" 1 || true
	f=$(grep -l "^Subject: dkim-$run_id-$h-1" "$INSTANCE_SINK_DIR"/* 2>/dev/null | head -n 1 || true)
	like "$(grep -A3 '^DKIM-Signature' "${f:-/dev/null}" | tr -d '\r\n\t ')" "s=$new_sel;" \
		"host $h signs with the new key ($new_sel, not $old_sel) within the TTL and a second"
done
is "$(sql 2 "SELECT COUNT(DISTINCT postfix_queue_id) FROM messages WHERE subject LIKE 'dkim-$run_id-%'")" 2 \
	"both messages recorded"

# ---- the cost of a message on the cluster (printed, for the manual's capacity model)
counters() { # the sums over the three nodes of Questions, wsrep_replicated and wsrep_replicated_bytes
	local n q=0 r=0 b=0
	for n in 1 2 3; do
		q=$((q + $(instance_galera_status "$HARNESS_GALERA_DIR/node$n" Questions)))
		r=$((r + $(instance_galera_status "$HARNESS_GALERA_DIR/node$n" wsrep_replicated)))
		b=$((b + $(instance_galera_status "$HARNESS_GALERA_DIR/node$n" wsrep_replicated_bytes)))
	done
	echo "$q $r $b"
}
measure_n=100
sent_measure() { [ "$(sql 1 "SELECT COUNT(*) FROM messages WHERE subject LIKE 'measure-$run_id-%' AND status = 'Sent'")" -ge "$measure_n" ]; }
read -r q0 r0 b0 <<<"$(counters)"
t0=$(date +%s.%N)
submit "measure-$run_id" 1 "$measure_n" 2 "$key" "$HARNESS_A_SMTP_PORT" "$HARNESS_B_SMTP_PORT" >/dev/null
t1=$(date +%s.%N)
harness_wait_for 60 sent_measure || diag "not every measured message was recorded Sent in 60 s"
sleep 3         # the workers' last batches and the jobs of the moment
read -r q1 r1 b1 <<<"$(counters)"
note "$(awk -v n="$measure_n" -v t0="$t0" -v t1="$t1" -v q=$((q1 - q0)) -v r=$((r1 - r0)) -v b=$((b1 - b0)) \
	'BEGIN { printf "per message through two hosts (one recipient, ~200 bytes, webhook on): %.1f statements, %.1f write-sets, %.0f bytes replicated; %.1f messages/s accepted on this machine", q / n, r / n, b / n, n / (t1 - t0) }')"

# ---- (c) messages through both hosts while node 2 is killed and rejoins
total=${GALERA_MESSAGES:-300}
submit "bulk-$run_id" 1 "$total" 2 "$key" "$HARNESS_A_SMTP_PORT" "$HARNESS_B_SMTP_PORT" >"$HARNESS_DIR/bulk.out" \
	2>"$HARNESS_DIR/bulk.err" &
submitter=$!
harness_wait_for 60 sink_has "bulk-$run_id" $((total / 4)) || diag "slow: $(sink_count "bulk-$run_id") delivered"
before_kill=$(sink_count "bulk-$run_id")
killed_at=$(date +%s.%N)
instance_galera_kill "$HARNESS_GALERA_DIR" 2 2>/dev/null && killed=0 || killed=$?
ok "$killed" "node 2 killed with kill -9 after $before_kill of $total messages were delivered"
cluster_size_is() { [ "$(instance_galera_status "$HARNESS_GALERA_DIR/node1" wsrep_cluster_size)" = "$1" ]; }
harness_wait_for 30 cluster_size_is 2 || true
is "$(instance_galera_status "$HARNESS_GALERA_DIR/node1" wsrep_cluster_size)" 2 "the cluster goes on with two nodes"
sleep 8         # host b answers 4xx meanwhile; host a goes on
during=$(sink_count "bulk-$run_id")
instance_galera_rejoin "$HARNESS_GALERA_DIR" 2 && rejoined=0 || rejoined=$?
rejoined_at=$(date +%s.%N)
ok "$rejoined" "node 2 restarted and rejoined (3 nodes Synced; $((during - before_kill)) messages delivered while it was down)"
# After a crash the node recovers its position from InnoDB; the donor then bypasses the state
# dump (the "SST" is that position) and sends only what the node missed, by IST.
recovered=$(sed -n 's/.*WSREP: Recovered position: *//p' "$HARNESS_GALERA_DIR/node2/recover.log" 2>/dev/null | tail -n 1)
is "$(sed -n 's/.*WSREP: SST received: *//p' "$HARNESS_GALERA_DIR/node2/error.log" | tail -n 1) $(grep -E 'WSREP: (IST|SST) received:' \
	"$HARNESS_GALERA_DIR/node2/error.log" | tail -n 1 | grep -o '[IS]ST received')" "${recovered:-none} IST received" \
	"node 2 rejoined from its recovered position ($recovered) and caught up by IST"
wait "$submitter" || true
is "$(cat "$HARNESS_DIR/bulk.out")" "sent $total failed 0" "every bulk message was accepted in the end"
[ -s "$HARNESS_DIR/bulk.err" ] && diag "$(head -n 5 "$HARNESS_DIR/bulk.err")"
harness_wait_for 120 sink_has "bulk-$run_id" "$total" || true
# Delivery results: each host's worker reads its own Postfix's log (host b's catches up after the rejoin).
results() { sql 1 "SELECT COUNT(*) FROM messages WHERE server_id = $server_id AND subject LIKE 'bulk-$run_id-%' AND status = 'Sent'"; }
all_results() { [ "$(results)" -ge "$total" ]; }
harness_wait_for 120 all_results || true
sleep 2
is "$(sink_subjects "bulk-$run_id")" "$total×1 " "the sink got each of the $total messages exactly once"
is "$(sql 3 "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT subject), ' ', SUM(status = 'Sent'))
	FROM messages WHERE server_id = $server_id AND subject LIKE 'bulk-$run_id-%'")" "$total $total $total" \
	"node 3: every message recorded once, each Sent"
is "$(sql 2 "SELECT COUNT(*) FROM messages m WHERE m.server_id = $server_id AND m.subject LIKE 'bulk-$run_id-%'
	AND (SELECT COUNT(*) FROM deliveries d WHERE d.message_id = m.id AND d.status = 'Sent') <> 1")" 0 \
	"node 2 (rejoined): every message has exactly one Sent delivery result"
diag "Sent delivery results per bulk message on nodes 2 and 3 (count×results): $(for n in 2 3; do
	printf 'node %s: %s; ' "$n" "$(sql "$n" "SELECT GROUP_CONCAT(CONCAT(k, '×', r) ORDER BY r SEPARATOR ' ') FROM
		(SELECT r, COUNT(*) k FROM (SELECT (SELECT COUNT(*) FROM deliveries d WHERE d.message_id = m.id AND d.status = 'Sent') r
		FROM messages m WHERE m.server_id = $server_id AND m.subject LIKE 'bulk-$run_id-%') x GROUP BY r) y")"; done)"

# ---- webhooks: every event delivered at least once, by whichever worker claimed it
outbox_done() { [ "$(sql 1 "SELECT COUNT(*) FROM webhook_outbox WHERE status = 'pending'")" = 0 ]; }
# A worker whose node died holding a lease leaves those rows until the lease ends (webhooks.timeout + 60 s).
harness_wait_for 180 outbox_done || diag "webhook outbox still pending: $(sql 1 "SELECT COUNT(*) FROM webhook_outbox WHERE status = 'pending'")"
outbox_n=$(sql 1 "SELECT COUNT(*) FROM webhook_outbox")
is "$(sql 3 "SELECT CONCAT(COUNT(*), ' ', SUM(status = 'delivered'), ' ', SUM(event = 'MessageHeld'))
	FROM webhook_outbox")" "$outbox_n $outbox_n 20" "the outbox: every event delivered (20 MessageHeld among $outbox_n)"
received_uuids() { /usr/bin/python3 -c 'import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    print(d["body"]["uuid"] if d.get("body") else "unparsed")' "$HARNESS_DIR/hooks.jsonl" | sort; }
sql 1 "SELECT uuid FROM webhook_outbox" | sort >"$HARNESS_DIR/outbox.uuids"
received_uuids | uniq >"$HARNESS_DIR/received.uuids"
is "$(comm -3 "$HARNESS_DIR/outbox.uuids" "$HARNESS_DIR/received.uuids" | wc -l)" 0 \
	"the receiver got every event's uuid, and none that is not in the outbox"
# Twice only where host b's worker lost its node between a request and recording it: the
# first copy then went out while node 2 was down (or just before), the second after its lease.
dups=$(/usr/bin/python3 -c 'import json, sys
first, count = {}, {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    u = d["body"]["uuid"] if d.get("body") else "unparsed"
    first.setdefault(u, d["time"]); count[u] = count.get(u, 0) + 1
lo, hi = float(sys.argv[2]) - 5, float(sys.argv[3])
twice = [u for u in count if count[u] > 1]
print(len(twice), sum(1 for u in twice if not lo <= first[u] <= hi))' "$HARNESS_DIR/hooks.jsonl" "$killed_at" "$rejoined_at")
like "$dups" ' 0$' "no event received twice outside node 2's outage (received twice, outside: $dups)"
is "$(sql 1 "SELECT COUNT(*) FROM webhook_outbox o WHERE NOT EXISTS
	(SELECT 1 FROM webhook_requests r WHERE r.outbox_id = o.id AND r.status_code = 200)")" 0 \
	"the request log has a 200 answer for every event"

# ---- (f) admin and tracker twice behind nginx (as a site's load balancer would run them)
if command -v nginx >/dev/null 2>&1; then
	admin2_port=$(instance_free_port "${HARNESS_ADMIN_URL##*:}")
	instance_spawn "$HARNESS_DIR/admin2.pid" "$HARNESS_DIR/admin2.log" env POSTGATE_ADMIN_LISTEN="inet:127.0.0.1:$admin2_port" \
		POSTGATE_ADMIN_MONITOR_LISTEN= POSTGATE_DATABASE_SOCKET="$HARNESS_GALERA_DIR/node2/mysqld.sock" \
		POSTGATE_ADMIN_TRUSTED_PROXIES=127.0.0.0/8 POSTGATE_ADMIN_WWW_DIR="$POSTGATE_SRCDIR/admin/www" \
		"$POSTGATE_BUILDDIR/admin/postgate-admin" -c "$HARNESS_CONFIG" || diag "the second postgate-admin did not start"
	harness_start_tracker
	tracker2_port=$(instance_free_port "${HARNESS_ADMIN_URL##*:}" "$admin2_port" "${HARNESS_TRACKER_URL##*:}")
	instance_spawn "$HARNESS_DIR/tracker2.pid" "$HARNESS_DIR/tracker2.log" env POSTGATE_TRACKER_LISTEN="inet:127.0.0.1:$tracker2_port" \
		POSTGATE_TRACKER_MONITOR_LISTEN= POSTGATE_DATABASE_SOCKET="$HARNESS_GALERA_DIR/node3/mysqld.sock" \
		POSTGATE_TRACKER_TRUSTED_PROXIES=127.0.0.0/8 POSTGATE_TRACKER_FLUSH_INTERVAL_MS=100 \
		POSTGATE_TRACKER_SPOOL_DIRECTORY="$HARNESS_DIR/tracker2-spool" \
		"$POSTGATE_BUILDDIR/tracker/postgate-tracker" -c "$HARNESS_CONFIG" || diag "the second postgate-tracker did not start"
	lb_admin=$(instance_free_port "${HARNESS_ADMIN_URL##*:}" "$admin2_port" "${HARNESS_TRACKER_URL##*:}" "$tracker2_port")
	lb_tracker=$(instance_free_port "${HARNESS_ADMIN_URL##*:}" "$admin2_port" "${HARNESS_TRACKER_URL##*:}" "$tracker2_port" \
		"$lb_admin")
	mkdir -p "$HARNESS_DIR/nginx"
	cat >"$HARNESS_DIR/nginx/nginx.conf" <<-EOF
		worker_processes 1;
		pid $HARNESS_DIR/nginx/nginx.pid;
		error_log $HARNESS_DIR/nginx/error.log;
		events { worker_connections 256; }
		http {
			log_format lb '\$server_port \$upstream_addr \$status';
			access_log $HARNESS_DIR/nginx/access.log lb;
			client_body_temp_path $HARNESS_DIR/nginx; proxy_temp_path $HARNESS_DIR/nginx;
			fastcgi_temp_path $HARNESS_DIR/nginx; uwsgi_temp_path $HARNESS_DIR/nginx; scgi_temp_path $HARNESS_DIR/nginx;
			upstream admins { server $(printf '%s' "${HARNESS_ADMIN_URL#http://}"); server 127.0.0.1:$admin2_port; }
			upstream trackers { server $(printf '%s' "${HARNESS_TRACKER_URL#http://}"); server 127.0.0.1:$tracker2_port; }
			server {
				listen 127.0.0.1:$lb_admin;
				location / { proxy_pass http://admins; proxy_set_header X-Forwarded-For \$remote_addr; }
			}
			server {
				listen 127.0.0.1:$lb_tracker;
				location / { proxy_pass http://trackers; proxy_set_header X-Postal-Track-Host 1;
					proxy_set_header X-Forwarded-For \$remote_addr; }
			}
		}
	EOF
	nginx -p "$HARNESS_DIR/nginx" -c "$HARNESS_DIR/nginx/nginx.conf" 2>"$HARNESS_DIR/nginx/start.err" ||
		diag "nginx: $(cat "$HARNESS_DIR/nginx/start.err")"
	lb_up() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$lb_admin/health" | grep -qx 200 &&
		curl -s "http://127.0.0.1:$tracker2_port/" -H 'X-Postal-Track-Host: 1' | grep -qx Hello. &&
		curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin2_port/health" | grep -qx 200; }
	harness_wait_for 20 lb_up || diag "the load balancer or the second admin/tracker did not answer"
	# A session made through the balancer; its calls land on both admins (round robin).
	base="http://127.0.0.1:$lb_admin"
	login lb ops@example.test 'Op3rator-pass-phrase'
	codes=""
	for _ in 1 2 3 4 5 6; do
		codes="$codes$(status "$(as lb GET /api/v2/organizations/acme/servers/mail)") "
	done
	is "$codes" "200 200 200 200 200 200 " "six calls with one session through the balancer all answered"
	is "$(awk -v p="$lb_admin" '$1 == p && $3 == 200 { print $2 }' "$HARNESS_DIR/nginx/access.log" | sort -u | wc -l)" 2 \
		"both admins (on nodes 3 and 2) answered them"
	# The same server changed through both admins at once (nodes 3 and 2): the two nodes'
	# transactions on one row conflict in certification; the loser runs again whole, so
	# every request is answered 200, none 503.
	# (Changing a server's settings takes an organization admin.)
	sql 1 "UPDATE organization_users ou JOIN users u ON u.id = ou.user_id JOIN organizations o ON o.id = ou.organization_id
		SET ou.role = 'admin' WHERE u.email = 'ops@example.test' AND o.permalink = 'acme'"
	patch_both() { # ROUND: 20 PATCHes to each admin, all started together
		local i url pids=()
		for i in $(seq 1 20); do
			for url in "$HARNESS_ADMIN_URL" "http://127.0.0.1:$admin2_port"; do
				curl -sS --max-time 60 -o /dev/null -w '%{http_code}\n' -X PATCH -H 'Content-Type: application/json' \
					-b "$(jar lb)" -H "X-CSRF-Token: $csrf_lb" --data-binary "{\"spam_threshold\": $1.$i}" \
					"$url/api/v2/organizations/acme/servers/mail" >>"$HARNESS_DIR/patch-codes" 2>&1 &
				pids+=($!)
			done
		done
		# (Only the curls: the harness's daemons are this shell's background jobs too.)
		wait "${pids[@]}"
	}
	reruns() { cat "$HARNESS_ADMIN_LOG" "$HARNESS_DIR/admin2.log" | grep -c 'lost a database conflict before anything took effect' || true; }
	: >"$HARNESS_DIR/patch-codes"
	round=0
	# Rounds until the nodes did conflict (most rounds do), so the check below tests the re-run.
	while [ "$round" -lt 6 ] && [ "$(reruns)" -eq 0 ]; do
		round=$((round + 1))
		patch_both "$round"
	done
	is "$(sort "$HARNESS_DIR/patch-codes" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" "200:$((round * 40)) " \
		"$((round * 40)) concurrent changes of one server through both admins: every one answered 200"
	ok "$([ "$(reruns)" -gt 0 ] && echo 0 || echo 1)" \
		"... $(reruns) of them lost a certification conflict and ran again whole (in $round round(s))"
	# Clicks on one link through the balancer: each recorded once, by whichever tracker took it.
	server_token=$(sql 1 "SELECT token FROM servers WHERE id = $server_id")
	sql 1 "INSERT INTO links (message_id, token, url, url_hash) SELECT id, 'GaleraLinkTok001', 'https://shop.example.com/x',
		SHA2('https://shop.example.com/x', 256) FROM messages WHERE subject = 'measure-$run_id-1'"
	clicks=""
	for _ in 1 2 3 4 5 6 7 8; do
		clicks="$clicks$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$lb_tracker/$server_token/GaleraLinkTok001") "
	done
	is "$clicks" "307 307 307 307 307 307 307 307 " "eight clicks through the balancer redirected"
	clicked() { [ "$(sql 1 "SELECT COUNT(*) FROM clicks c JOIN links l ON l.id = c.link_id WHERE l.token = 'GaleraLinkTok001'")" -ge 8 ]; }
	harness_wait_for 20 clicked || true
	sleep 1
	is "$(sql 2 "SELECT COUNT(*) FROM clicks c JOIN links l ON l.id = c.link_id WHERE l.token = 'GaleraLinkTok001'") $(awk -v p="$lb_tracker" \
		'$1 == p && $3 == 307 { print $2 }' "$HARNESS_DIR/nginx/access.log" | sort -u | wc -l)" "8 2" \
		"each click recorded once, by both trackers (on nodes 1 and 3)"
else
	for _ in 1 2 3 4 5 6; do
		HARNESS_RUN=$((HARNESS_RUN + 1))
		printf 'ok %d # SKIP nginx missing: run %s\n' "$HARNESS_RUN" "'packaging/install-deps test' as root"
	done
fi

# ---- (d) periodic jobs: once per period in total, across both workers
runs=$(sql 1 "SELECT COUNT(*) FROM test_job_runs WHERE name = 'hold_expiry'")
ok "$([ "$runs" -ge 10 ] && echo 0 || echo 1)" "the hold_expiry job ran $runs times during the test"
note "leases taken by worker: $(sql 1 "SELECT GROUP_CONCAT(n ORDER BY n DESC SEPARATOR ', ') FROM
	(SELECT COUNT(*) n FROM test_job_runs GROUP BY owner) o")"
# Two runs of one job less than its period (1 s) apart would mean two hosts held the lease at once.
is "$(sql 3 "SELECT COUNT(*) FROM (SELECT name, started_at, LAG(started_at) OVER (PARTITION BY name ORDER BY started_at) prev
	FROM test_job_runs) r
	WHERE prev IS NOT NULL AND started_at < prev + INTERVAL 1 SECOND")" 0 \
	"no job ran twice within its period (of $(sql 3 "SELECT COUNT(*) FROM test_job_runs") leases taken)"
