#!/bin/bash
#
# crash.t -- kill -9 while mail flows. With the real Postfix, MariaDB, smtp-sink and postgate's
# daemons, clients keep sending (outgoing by SMTP submission with AUTH and by the HTTP API v1,
# incoming to a route whose HTTP endpoint is a local receiver) while every webhook event goes
# to another receiver; around the tracker's kill a browser-like client (click-client.py,
# about 40 requests a second) clicks a tracked link and loads the open pixel of a tracked
# message through postgate-tracker (flush interval 500 ms, the default, so clicks wait in
# memory when it dies). Phase 1 kills each postgate daemon in turn (tracker, worker, milter,
# policyd, admin) with SIGKILL and restarts it as systemd would (after its unit's
# RestartSec, the same command line): the test is the supervisor. Phase 2
# kills MariaDB with SIGKILL mid-load and restarts it. The mail clients retry 4xx answers and
# broken connections the way a real client does (crash-client.py); the click client does not
# retry (a browser shows an error), and only a click or load that got its 307/200 counts as
# answered. Afterwards, for each phase: no client ever got a 5xx; every message Postfix
# accepted (the queue IDs of the clients' 250s, the tokens of the API's answers, every incoming
# message) is recorded exactly once and gets its delivery result (a copy recorded twice because
# a COMMIT's answer was cut off by a kill is the documented exception: said, never a loss);
# every webhook event reached the receiver (duplicates allowed, said); nothing is left pending,
# leased or queued. For the tracker (phase 1): it serves again within 30 s; every answered
# click and load is recorded exactly once (by its User-Agent; one the kill cut off before its
# answer may be recorded, once: said), each with exactly one MessageLinkClicked/MessageLoaded
# event that the receiver got by its uuid; its spool holds no record afterwards. (Without the
# spool, HARNESS_TRACKER_SPOOL=, a run here lost 31 of 917 answered clicks and loads.)
#
# Must never: wait without a bound, pass on a message it did not find, or count as delivered an
# event the receiver did not log.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/python3 ] || skip_all "python3 missing: run 'packaging/install-deps test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
# Short webhook retries (6 attempts in 7 s) and endpoint retries after about a second.
cat >>"$HARNESS_CONFIG" <<'EOF'
webhooks: { timeout = 3; retry_delays = ["1", "1", "1", "2", "2"]; };
EOF
export POSTGATE_WORKER_ENDPOINT_RETRY_DELAY=1
harness_start_admin
harness_start_worker
# The default flush interval: clicks wait in memory (and the spool) for up to 500 ms.
HARNESS_TRACKER_FLUSH_MS=500 harness_start_tracker
plan 38

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
# restart_sec NAME: RestartSec of postgate-NAME's unit.
restart_sec() { sed -n 's/^RestartSec=//p' "$POSTGATE_SRCDIR/packaging/systemd/postgate-$1.service.in"; }
for d in worker milter policyd admin tracker; do
	[[ $(restart_sec "$d") =~ ^[0-9]+$ ]] || harness_setup_failed "no RestartSec in postgate-$d's unit"
done

# ---------------------------------------------------------------- receivers

stop_receivers() {
	local f
	for f in "$HARNESS_DIR"/recv-*.pid; do
		[ -e "$f" ] || continue
		f=${f##*/}
		instance_postgate_stop "$HARNESS_DIR" "${f%.pid}"
	done
}
trap 'rc=$?; stop_receivers; harness_on_exit $rc' EXIT

receiver() { # NAME [args]: a webhook-receiver.py logging to $HARNESS_DIR/NAME.jsonl; prints its port
	local name=$1
	shift
	touch "$HARNESS_DIR/$name.jsonl"
	instance_spawn "$HARNESS_DIR/recv-$name.pid" "$HARNESS_DIR/recv-$name.log" /usr/bin/python3 "$here/webhook-receiver.py" \
		--log "$HARNESS_DIR/$name.jsonl" --port-file "$HARNESS_DIR/$name.port" "$@" || harness_setup_failed "receiver $name did not start"
	harness_wait_for 10 test -s "$HARNESS_DIR/$name.port" || harness_setup_failed "receiver $name has no port"
	cat "$HARNESS_DIR/$name.port"
}
hooks_port=$(receiver hooks)
# The endpoint answers after 0.5 s, so a delivery is in flight (its row leased) when the worker dies.
ep_port=$(receiver ep --delay 0.5)

# ---------------------------------------------------------------- objects

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
api_key=$(ctl credential create --server acme/mail --type API --name api | sed -n 's/^key: //p')
ctl server create --org acme --name Inbox --permalink inbox >/dev/null
ctl domain create --server acme/inbox --name in.postgate.test --verified >/dev/null
harness_sql "INSERT INTO http_endpoints (uuid, server_id, name, url, format, encoding, strip_replies, include_attachments)
	SELECT UUID(), id, 'ep', 'http://127.0.0.1:$ep_port/ep', 'Hash', 'BodyAsJSON', 0, 0 FROM servers WHERE permalink = 'inbox'"
harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, http_endpoint_id)
	SELECT UUID(), s.id, d.id, 'hook', '$(instance_random_hex 4)', 'Endpoint', e.id FROM servers s
	JOIN domains d ON d.name = 'in.postgate.test' JOIN http_endpoints e ON e.name = 'ep' WHERE s.permalink = 'inbox'"
for s in mail inbox; do
	harness_sql "INSERT INTO webhooks (uuid, server_id, name, url) SELECT UUID(), id, 'all-$s',
		'http://127.0.0.1:$hooks_port/hooks/$s' FROM servers WHERE permalink = '$s'"
done
[ -n "$key" ] && [ -n "$api_key" ] || harness_setup_failed "no credentials"
ctl track-domain create --server acme/mail --name click --domain example.com --no-ssl >/dev/null
sleep 1.1 # the milter's and policyd's caches (1 s) see the new objects

# The tracked message whose link and pixel the click client requests.
printf 'Subject: tracked %s\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n%s\n' "$run_id" \
	'<html><body><p><a href="https://shop.example.com/item?id=7">the item</a></p></body></html>' >"$HARNESS_DIR/tracked.eml"
timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail --auth-password "$key" \
	--from app@example.com --to reader@example.net --data "$HARNESS_DIR/tracked.eml" >"$HARNESS_DIR/tracked.swaks" 2>&1 ||
	harness_setup_failed "the tracked message was not accepted: $(tail -n 3 "$HARNESS_DIR/tracked.swaks")"
tracked_link() { harness_sql "SELECT l.token FROM links l JOIN messages m ON m.id = l.message_id WHERE m.subject = 'tracked $run_id'"; }
has_link() { [ -n "$(tracked_link)" ]; }
harness_wait_for 30 has_link || harness_setup_failed "the tracked message has no link"
link_token=$(tracked_link)
tracked_id=$(harness_sql "SELECT id FROM messages WHERE subject = 'tracked $run_id'")
tracked_token=$(harness_sql "SELECT token FROM messages WHERE id = $tracked_id")
server_token=$(harness_sql "SELECT token FROM servers WHERE permalink = 'mail'")

# ---------------------------------------------------------------- the supervisor

# The programs and the log line each prints once it serves (the same command lines as
# harness.sh's, as a unit's ExecStart repeats its own).
program() {
	case $1 in
	milter | policyd | worker | admin | tracker) printf '%s/%s/postgate-%s' "$POSTGATE_BUILDDIR" "$1" "$1" ;;
	esac
}
ready_line() {
	case $1 in
	milter) echo 'listening on' ;;
	policyd) echo 'socketmap_listen: listening on' ;;
	worker) echo 'started on ' ;;
	admin) echo 'listening on\|started' ;;
	tracker) echo 'started: listening on' ;;
	esac
}
ready_count() { grep -c "$(ready_line "$1")" "$HARNESS_DIR/$1.log" 2>/dev/null || true; }
spawn() {
	case $1 in
	admin)
		instance_spawn "$HARNESS_DIR/admin.pid" "$HARNESS_DIR/admin.log" env POSTGATE_ADMIN_TRUSTED_PROXIES=127.0.0.0/8 \
			POSTGATE_ADMIN_WWW_DIR="$POSTGATE_SRCDIR/admin/www" "$(program admin)" -c "$HARNESS_CONFIG"
		;;
	tracker)
		instance_spawn "$HARNESS_DIR/tracker.pid" "$HARNESS_DIR/tracker.log" env \
			POSTGATE_TRACKER_LISTEN="inet:127.0.0.1:${HARNESS_TRACKER_URL##*:}" POSTGATE_TRACKER_TRUSTED_PROXIES=127.0.0.0/8 \
			POSTGATE_TRACKER_FLUSH_INTERVAL_MS=500 POSTGATE_TRACKER_SPOOL_DIRECTORY="${HARNESS_TRACKER_SPOOL-$HARNESS_DIR/tracker-spool}" \
			"$(program tracker)" -c "$HARNESS_CONFIG"
		;;
	*) instance_spawn "$HARNESS_DIR/$1.pid" "$HARNESS_DIR/$1.log" "$(program "$1")" -c "$HARNESS_CONFIG" ;;
	esac
}
serves() { # NAME BEFORE: it printed its ready line once more than BEFORE times (and answers, for the admin)
	[ "$(ready_count "$1")" -gt "$2" ] || return 1
	[ "$1" != admin ] || harness_admin_healthy
	[ "$1" != tracker ] || harness_tracker_healthy
}
# crash NAME: SIGKILL, its unit's RestartSec, the same command again; 0 once it serves (within 30 s).
crash() {
	local name=$1 pid before
	pid=$(instance_pidfile_read "$HARNESS_DIR/$name.pid") || return 1
	before=$(ready_count "$name")
	# The worker dies holding a lease: an endpoint delivery in flight.
	[ "$name" != worker ] || harness_wait_for 15 leased || echo "no lease held when the worker was killed" >>"$HARNESS_DIR/supervisor.log"
	# The tracker dies with clicks not yet written: its spool's current file holds records.
	[ "$name" != tracker ] || harness_wait_for 5 spool_holds || echo "an empty spool when the tracker was killed" >>"$HARNESS_DIR/supervisor.log"
	kill -KILL "$pid"
	harness_wait_for 5 instance_pid_gone "$pid" || return 1
	echo "$(date +%s.%N) killed $name ($pid)" >>"$HARNESS_DIR/supervisor.log"
	sleep "$(restart_sec "$name")"
	spawn "$name" || return 1
	harness_wait_for 30 serves "$name" "$before" || return 1
	echo "$(date +%s.%N) $name serves again" >>"$HARNESS_DIR/supervisor.log"
}
leased() { [ "$(harness_sql "SELECT COUNT(*) FROM queued_messages WHERE locked_by IS NOT NULL")" -gt 0 ]; }
# The bytes of records in the tracker's spool files: the current file is allocated ahead of
# its records (a 2 MiB window of NUL bytes), so its size says nothing.
spool_record_bytes() { find "$HARNESS_DIR/tracker-spool" -name '*.spool' -exec cat {} + | tr -d '\000' | wc -c; }
spool_holds() { [ "$(spool_record_bytes)" -gt 0 ]; }
alive() { instance_pid_alive "$(instance_pidfile_read "$HARNESS_DIR/$1.pid")"; }

# ---------------------------------------------------------------- the clients

# clients PHASE: starts the senders in the background; they stop starting messages once
# $HARNESS_DIR/stop-PHASE exists (long before their 100 messages each: the mail flows
# until then), and give up on a message after 150 s.
client_pids=()
clients() {
	local phase=$1 common
	common=(--count 100 --pace 0.3 --deadline 150 --stop-file "$HARNESS_DIR/stop-$phase" --log "$HARNESS_DIR/$phase.jsonl")
	rm -f "$HARNESS_DIR/stop-$phase"
	client_pids=()
	for n in 1 2; do
		/usr/bin/python3 "$here/crash-client.py" smtp --port "$INSTANCE_SMTP_PORT" --user acme/mail --password "$key" \
			--from app@example.com --to someone@example.net --prefix "$phase-out$n-$run_id" "${common[@]}" &
		client_pids+=($!)
	done
	/usr/bin/python3 "$here/crash-client.py" api --url "$HARNESS_ADMIN_URL" --key "$api_key" \
		--from app@example.com --to api@example.net --prefix "$phase-api-$run_id" "${common[@]}" &
	client_pids+=($!)
	/usr/bin/python3 "$here/crash-client.py" smtp --port "$INSTANCE_SMTP_PORT" \
		--from sender@example.org --to hook@in.postgate.test --prefix "$phase-in-$run_id" "${common[@]}" &
	client_pids+=($!)
}
# clicks_start / clicks_stop: the browser-like client, from a few seconds before the
# tracker is killed to a few seconds after it serves again.
clicks_start() {
	/usr/bin/python3 "$here/click-client.py" --url "$HARNESS_TRACKER_URL" --server "$server_token" --link "$link_token" \
		--message "$tracked_token" --prefix "track-$run_id" --log "$HARNESS_DIR/clicks.jsonl" \
		--stop-file "$HARNESS_DIR/stop-clicks" --deadline 60 &
	clicks_pid=$!
}
clicks_stop() {
	touch "$HARNESS_DIR/stop-clicks"
	wait "$clicks_pid" || true
}
wait_clients() {
	local pid
	for pid in "${client_pids[@]}"; do wait "$pid" || true; done
}

# ---------------------------------------------------------------- the checks

# The Postfix queue is empty once every deferred message has gone (LMTP to a restarted worker).
queue_empty() {
	postqueue -c "$INSTANCE_POSTFIX_CONFIG_DIR" -p 2>/dev/null | grep -q '^Mail queue is empty'
}
# Everything of PHASE has settled: no row waits for a delivery result, nothing is queued for an
# endpoint or the webhooks, Postfix's queue is empty.
settled() {
	local phase=$1
	queue_empty || return 1
	[ "$(harness_sql "SELECT
		(SELECT COUNT(*) FROM messages WHERE subject LIKE 'crash $phase-%' AND status IN ('Pending', 'SoftFail')
			AND postfix_queue_id IN (SELECT qid FROM JSON_TABLE('$(accepted_qids "$phase")', '\$[*]' COLUMNS (qid VARCHAR(32) PATH '\$')) q))
		+ (SELECT COUNT(*) FROM messages WHERE subject LIKE 'crash $phase-api-%' AND status IN ('Pending', 'SoftFail'))
		+ (SELECT COUNT(*) FROM queued_messages)
		+ (SELECT COUNT(*) FROM webhook_outbox WHERE status = 'pending')" 2>/dev/null)" = 0 ]
}
accepted_qids() {
	/usr/bin/python3 -c 'import json, sys; print(json.dumps(sorted({json.loads(l)["qid"] for l in open(sys.argv[1]) if json.loads(l)["qid"]})))' \
		"$HARNESS_DIR/$1.jsonl"
}

# analyze PHASE: key=value lines over the clients' logs, the tables and the receivers' logs.
analyze() {
	local phase=$1
	harness_sql "SELECT id, scope, status, IFNULL(postfix_queue_id, ''), token, subject FROM messages
		WHERE subject LIKE 'crash $phase-%'" >"$HARNESS_DIR/$phase.messages"
	harness_sql "SELECT o.uuid, o.event, o.status, IFNULL(JSON_VALUE(o.payload, '\$.message.token'), '') FROM webhook_outbox o" \
		>"$HARNESS_DIR/$phase.outbox"
	/usr/bin/python3 - "$HARNESS_DIR" "$phase" <<'PY'
import collections, json, sys
d, phase = sys.argv[1], sys.argv[2]
attempts = [json.loads(l) for l in open("%s/%s.jsonl" % (d, phase))]
by_id = collections.defaultdict(list)
for a in attempts:
    by_id[a["id"]].append(a)
rows = [l.rstrip("\n").split("\t") for l in open("%s/%s.messages" % (d, phase)) if l.strip()]
outbox = [l.rstrip("\n").split("\t") for l in open("%s/%s.outbox" % (d, phase)) if l.strip()]
hooks = [json.loads(l) for l in open("%s/hooks.jsonl" % d)]
ep = [json.loads(l) for l in open("%s/ep.jsonl" % d)]
out = {}
kind = lambda i: i.split("-")[1].rstrip("12")    # out, api, in
out["messages"] = len(by_id)
out["perm"] = sum(1 for a in attempts if a["result"] == "perm")
out["perm_list"] = " ".join("%s:%s" % (a["id"], a["text"][:80]) for a in attempts if a["result"] == "perm")[:400]
out["gaveup"] = sum(1 for i, l in by_id.items() if l[-1]["result"] != "accepted")
out["temp"] = sum(1 for a in attempts if a["result"] in ("temp", "noanswer"))
out["temp_codes"] = " ".join("%s:%d" % kv for kv in sorted(collections.Counter(
    str(a["code"]) if a["code"] else a["text"].split(":")[0] for a in attempts if a["result"] in ("temp", "noanswer")).items()))
out["four_hundreds"] = sum(1 for a in attempts if 400 <= a["code"] < 500)
out["five_hundreds"] = sum(1 for a in attempts if a["code"] and 500 <= a["code"] < 600 and kind(a["id"]) != "api")
unsure = {i for i, l in by_id.items() if any(a["result"] in ("temp", "noanswer") for a in l)}
# The longest a message waited between its first refused attempt and its acceptance.
out["longest_wait"] = "%.0f" % max([l[-1]["time"] - l[0]["time"] for l in by_id.values() if len(l) > 1] or [0])
# Outgoing by SMTP: each accepted queue ID exactly once; rows of queue IDs nobody was told
# were accepted (orphans) only where an attempt of that message failed.
subj = lambda r: r[5][len("crash "):]
qids = {a["qid"]: a["id"] for a in attempts if a["qid"] and kind(a["id"]) == "out"}
rows_by_qid = collections.Counter(r[3] for r in rows if r[1] == "outgoing")
out["out_accepted"] = len(qids)
out["out_missing"] = sum(1 for q in qids if rows_by_qid[q] == 0)
out["out_twice"] = sum(1 for q in qids if rows_by_qid[q] > 1)
smtp_out = [r for r in rows if r[1] == "outgoing" and kind(subj(r)) == "out"]
orphans = [r for r in smtp_out if r[3] not in qids]
out["orphans"] = len(orphans)
out["orphans_unexplained"] = sum(1 for r in orphans if subj(r) not in unsure)
out["orphan_list"] = " ".join("%s:%s:%s" % (subj(r), r[2], r[3]) for r in orphans)
# API: every token answered exactly once; extra rows only where a request of that message
# got a 503 or no answer. (The API injects through Postfix: a milter COMMIT cut off by
# MariaDB's kill is a 4xx to the injection and a 503 to the client, and may have committed,
# as for an SMTP client's 4xx.)
tokens = {t: a["id"] for a in attempts for t in a["tokens"]}
rows_by_token = collections.Counter(r[4] for r in rows)
out["api_accepted"] = len(tokens)
out["api_missing"] = sum(1 for t in tokens if rows_by_token[t] == 0)
api_rows = [r for r in rows if kind(subj(r)) == "api"]
api_extra = [r for r in api_rows if r[4] not in tokens]
out["api_extra"] = len(api_extra)
out["api_extra_unexplained"] = sum(1 for r in api_extra if subj(r) not in unsure)
# Incoming: each accepted message exactly one row.
in_ids = [i for i, l in by_id.items() if kind(i) == "in" and l[-1]["result"] == "accepted"]
in_rows = collections.Counter(subj(r) for r in rows if r[1] == "incoming")
out["in_accepted"] = len(in_ids)
out["in_missing"] = sum(1 for i in in_ids if in_rows[i] == 0)
out["in_twice"] = sum(1 for i in in_ids if in_rows[i] > 1)
out["in_twice_list"] = " ".join(i for i in in_ids if in_rows[i] > 1)
# Delivery results: the accepted outgoing rows Sent, the incoming ones Processed.
final = [r for r in rows if (r[1] == "outgoing" and (r[3] in qids or kind(subj(r)) == "api")) or r[1] == "incoming"]
out["not_final"] = " ".join("%s:%s" % (subj(r), r[2]) for r in final
                            if r[2] != ("Sent" if r[1] == "outgoing" else "Processed"))
got_ep = collections.Counter((e["body"] or {}).get("subject", "")[len("crash "):] for e in ep)
out["ep_missing"] = sum(1 for i in in_ids if got_ep[i] == 0)
out["ep_twice"] = sum(1 for i in in_ids if got_ep[i] > 1)
# Events: exactly one MessageSent per outgoing row delivered (the log reader's exactly once);
# every outbox uuid of the phase received at least once.
tok_rows = {r[4]: r for r in final}
sent = collections.Counter(o[3] for o in outbox if o[1] == "MessageSent")
out["sent_events_wrong"] = sum(1 for r in final if r[1] == "outgoing" and sent[r[4]] != 1)
mine = [o for o in outbox if o[3] in {r[4] for r in rows}]
out["events"] = len(mine)
received = collections.Counter((h["body"] or {}).get("uuid") for h in hooks)
out["events_missing"] = sum(1 for o in mine if received[o[0]] == 0)
out["events_not_delivered"] = sum(1 for o in mine if o[2] != "delivered")
out["events_dup"] = sum(received[o[0]] - 1 for o in mine if received[o[0]] > 1)
for k, v in out.items():
    print("%s=%s" % (k, v))
PY
}
val() { sed -n "s/^$1=//p" "$HARNESS_DIR/$2.result"; }

# report PHASE WHAT: the common assertions (12 of them).
report() {
	local p=$1 what=$2
	analyze "$p" >"$HARNESS_DIR/$p.result"
	diag "$what: $(val messages "$p") messages; $(val temp "$p") attempts retried ($(val temp_codes "$p")), the longest wait $(val longest_wait "$p") s; $(val events "$p") webhook events"
	[ "$p" != kill ] || ! grep -q 'fatal: no SASL authentication mechanisms' "$INSTANCE_MAILLOG" ||
		diag "$what: smtpd processes died while the SASL socket was gone (fatal: no SASL authentication mechanisms); Postfix may throttle submissions for about 60 s"
	is "$(val perm "$p")/$(val five_hundreds "$p")" 0/0 "$what: no client got a 5xx $(val perm_list "$p")"
	is "$(val gaveup "$p")" 0 "$what: every message was accepted in the end"
	is "$(val out_missing "$p")/$(val out_twice "$p")" 0/0 \
		"$what: each of the $(val out_accepted "$p") queue IDs SMTP clients got a 250 for is recorded exactly once"
	is "$(val orphans_unexplained "$p")" 0 "$what: no other outgoing row, except for a message that got a 4xx or no answer"
	[ "$(val orphans "$p")" = 0 ] ||
		diag "$what: $(val orphans "$p") row(s) recorded for an attempt the client was told failed: $(val orphan_list "$p")"
	is "$(val api_missing "$p")/$(val api_extra_unexplained "$p")" 0/0 \
		"$what: each of the $(val api_accepted "$p") messages the API answered for is recorded (extra copies only after a 503 or no answer)"
	[ "$(val api_extra "$p")" = 0 ] || diag "$what: $(val api_extra "$p") API message(s) sent twice after a 503 or no answer"
	# A worker killed between its LMTP COMMIT and its 250 gets the message again from Postfix:
	# the documented at-commit ambiguity (doc/manual.md, "Crashes and restarts"), said, never a loss.
	is "$(val in_missing "$p")" 0 "$what: each of the $(val in_accepted "$p") incoming messages is recorded"
	[ "$(val in_twice "$p")" = 0 ] ||
		diag "$what: $(val in_twice "$p") incoming message(s) recorded twice (LMTP answer cut off by the kill): $(val in_twice_list "$p")"
	is "$(val not_final "$p")" "" "$what: every accepted message has its delivery result (Sent / Processed)"
	is "$(val ep_missing "$p")" 0 "$what: the endpoint received every incoming message"
	[ "$(val ep_twice "$p")" = 0 ] || diag "$what: $(val ep_twice "$p") incoming message(s) posted to the endpoint twice (at least once)"
	is "$(val sent_events_wrong "$p")" 0 "$what: exactly one MessageSent per outgoing message"
	is "$(val events_missing "$p")/$(val events_not_delivered "$p")" 0/0 \
		"$what: the receiver got every one of the $(val events "$p") webhook events by its uuid"
	[ "$(val events_dup "$p")" = 0 ] || diag "$what: $(val events_dup "$p") webhook event(s) delivered more than once (same uuid)"
	is "$(harness_sql "SELECT (SELECT COUNT(*) FROM queued_messages) + (SELECT COUNT(*) FROM webhook_outbox WHERE status = 'pending' OR locked_by IS NOT NULL)")" \
		0 "$what: nothing left queued, pending or leased"
	ok "$(queue_empty && echo 0 || echo 1)" "$what: Postfix's queue is empty"
}

# ---------------------------------------------------------------- phase 1: each daemon killed

start=$SECONDS
clients kill
sleep 3
# The tracker first: after policyd's kill Postfix may throttle submissions for about 60 s
# (see report), so the phase ends soon after it as before.
clicks_start
sleep 3
for d in tracker worker milter policyd admin; do
	crash "$d"
	ok $? "kill -9 postgate-$d: restarted after $(restart_sec "$d") s and serves again"
	[ "$d" != tracker ] || { sleep 3 && clicks_stop; }
	sleep 2
done
touch "$HARNESS_DIR/stop-kill"
wait_clients
postqueue -c "$INSTANCE_POSTFIX_CONFIG_DIR" -f >/dev/null 2>&1 || true
# The clicks and loads the tracker answered are written (within its flush interval).
answered() { grep -c '"code": \(307\|200\)' "$HARNESS_DIR/clicks.jsonl" || true; }
track_rows() { harness_sql "SELECT (SELECT COUNT(*) FROM clicks WHERE message_id = $tracked_id) + (SELECT COUNT(*) FROM loads WHERE message_id = $tracked_id)"; }
track_written() { [ "$(track_rows 2>/dev/null)" -ge "$(answered)" ] 2>/dev/null; }
harness_wait_for 30 track_written || diag "the tracker has not written every answered click and load within 30 s"
settle_start=$SECONDS
harness_wait_for 120 settled kill || diag "phase 1 did not settle within 120 s"
diag "phase 1 took $((SECONDS - start)) s (settling $((SECONDS - settle_start)) s)"
report kill "daemons killed"

# The tracker: answered clicks and loads against the rows (by User-Agent) and the events.
harness_sql "SELECT 'click', user_agent FROM clicks WHERE message_id = $tracked_id
	UNION ALL SELECT 'load', user_agent FROM loads WHERE message_id = $tracked_id" >"$HARNESS_DIR/track.rows"
harness_sql "SELECT uuid, event, status, IFNULL(JSON_VALUE(payload, '\$.user_agent'), '') FROM webhook_outbox
	WHERE event IN ('MessageLinkClicked', 'MessageLoaded')" >"$HARNESS_DIR/track.outbox"
/usr/bin/python3 - "$HARNESS_DIR" >"$HARNESS_DIR/track.result" <<'PY'
import collections, json, sys
d = sys.argv[1]
reqs = [json.loads(l) for l in open("%s/clicks.jsonl" % d)]
want = {"click": 307, "load": 200}
answered = {(r["kind"], r["ua"]) for r in reqs if r["code"] == want[r["kind"]]}
unanswered = {(r["kind"], r["ua"]) for r in reqs if r["code"] != want[r["kind"]]}
rows = collections.Counter(tuple(l.rstrip("\n").split("\t", 1)) for l in open("%s/track.rows" % d) if l.strip())
outbox = [l.rstrip("\n").split("\t") for l in open("%s/track.outbox" % d) if l.strip()]
hooks = [json.loads(l) for l in open("%s/hooks.jsonl" % d)]
received = collections.Counter((h["body"] or {}).get("uuid") for h in hooks)
kind_of = {"MessageLinkClicked": "click", "MessageLoaded": "load"}
events = collections.Counter((kind_of[o[1]], o[3]) for o in outbox)
out = {}
out["requests"] = len(reqs)
out["clicks"] = sum(1 for k in answered if k[0] == "click")
out["loads"] = sum(1 for k in answered if k[0] == "load")
out["refused"] = len(unanswered)
out["missing"] = sum(1 for k in answered if rows[k] == 0)
out["twice"] = sum(1 for k in answered if rows[k] > 1)
extra = [k for k in rows if k not in answered]
out["extra"] = len(extra)
out["extra_unexplained"] = sum(1 for k in extra if k not in unanswered or rows[k] > 1)
out["events_wrong"] = sum(1 for k in rows if events[k] != 1)
mine = [o for o in outbox if (kind_of[o[1]], o[3]) in rows]
out["events"] = len(mine)
out["events_missing"] = sum(1 for o in mine if received[o[0]] == 0)
out["events_not_delivered"] = sum(1 for o in mine if o[2] != "delivered")
out["events_dup"] = sum(received[o[0]] - 1 for o in mine if received[o[0]] > 1)
# The outage as the browser saw it: from the last answer before the first refusal to the
# first answer after the last one.
fails = [r["time"] for r in reqs if r["code"] == 0]
ok_times = [r["time"] for r in reqs if r["code"] != 0]
if fails:
    before = max([t for t in ok_times if t < fails[0]] or [fails[0]])
    after = min([t for t in ok_times if t > fails[-1]] or [fails[-1]])
    out["outage"] = "%.1f" % (after - before)
else:
    out["outage"] = "0"
for k, v in out.items():
    print("%s=%s" % (k, v))
PY
tval() { sed -n "s/^$1=//p" "$HARNESS_DIR/track.result"; }
replayed=$(grep -o 'replaying [0-9]* clicks and loads' "$HARNESS_DIR/tracker.log" | tail -n 1 || true)
diag "tracker: $(tval requests) requests, $(tval clicks) clicks and $(tval loads) loads answered, $(tval refused) refused or cut off (outage $(tval outage) s as the browser saw it); after the restart: ${replayed:-nothing replayed}"
is "$(tval missing)/$(tval twice)" 0/0 \
	"tracker killed: each of the $(tval clicks) clicks and $(tval loads) loads answered is recorded exactly once"
is "$(tval extra_unexplained)" 0 "tracker killed: nothing else recorded (a request cut off by the kill at most once)"
[ "$(tval extra)" = 0 ] || diag "tracker killed: $(tval extra) request(s) recorded that the kill cut off before their answer"
is "$(tval events_wrong)" 0 "tracker killed: exactly one MessageLinkClicked/MessageLoaded event per recorded click and load"
is "$(tval events_missing)/$(tval events_not_delivered)" 0/0 "tracker killed: the receiver got every one of the $(tval events) events by its uuid"
[ "$(tval events_dup)" = 0 ] || diag "tracker killed: $(tval events_dup) tracking event(s) delivered more than once (same uuid)"
spool_files=$(find "$HARNESS_DIR/tracker-spool" -name '*.spool' | wc -l)
spool_bytes=$(spool_record_bytes)
is "$spool_files $spool_bytes $(harness_sql "SELECT COUNT(*) FROM tracker_spools")" "1 0 1" \
	"tracker killed: afterwards its spool is one file without a record, the killed run's files and row are gone"

# ---------------------------------------------------------------- phase 2: MariaDB killed

# Submissions work normally again (Postfix may still throttle smtpd after policyd's outage:
# fatal "no SASL authentication mechanisms"), so the next phase measures MariaDB's crash alone.
submission_ready() {
	/usr/bin/python3 - "$INSTANCE_SMTP_PORT" <<'PY'
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=3) as s:
    s.ehlo("probe.test")
    sys.exit(0 if s.has_extn("auth") else 1)
PY
}
harness_wait_for 90 submission_ready 2>/dev/null || diag "submission still refused 90 s after phase 1"

start=$SECONDS
clients db
sleep 3
db_pid=$(instance_pidfile_pid "$HARNESS_DIR/mariadb/mariadbd.pid" mariadbd)
kill -KILL "$db_pid"
harness_wait_for 10 instance_pid_gone "$db_pid" || true
# One submission made while MariaDB is certainly down, answered before it restarts: the
# clients above may, on a slow machine, have no attempt in flight inside the outage.
down_at=$SECONDS
/usr/bin/python3 "$here/crash-client.py" smtp --port "$INSTANCE_SMTP_PORT" --user acme/mail --password "$key" \
	--from app@example.com --to someone@example.net --prefix "probe-db-$run_id" \
	--count 1 --pace 0 --deadline 0 --log "$HARNESS_DIR/probe.jsonl"
probe_answer=$(/usr/bin/python3 -c 'import json, sys; a = json.loads(open(sys.argv[1]).readline()); print(a["code"], a["result"], a["text"][:120])' \
	"$HARNESS_DIR/probe.jsonl" 2>/dev/null)
[ $((SECONDS - down_at)) -ge 4 ] || sleep $((4 - (SECONDS - down_at)))
instance_mariadb_start "$HARNESS_DIR/mariadb" >/dev/null 2>&1
ok $? "MariaDB restarts after kill -9 (crash recovery)"
sleep 3
touch "$HARNESS_DIR/stop-db"
wait_clients
postqueue -c "$INSTANCE_POSTFIX_CONFIG_DIR" -f >/dev/null 2>&1 || true
harness_wait_for 120 settled db || diag "phase 2 did not settle within 120 s"
diag "phase 2 took $((SECONDS - start)) s"
report db "MariaDB killed"
like "$probe_answer" '^4[0-9][0-9] temp ' "MariaDB killed: a submission while it was down was told 4xx ($probe_answer)"
[ "$(val four_hundreds db)" != 0 ] || diag "MariaDB killed: none of the clients' attempts met the outage (only the probe did)"
dead=""
for d in milter policyd worker admin tracker; do alive "$d" || dead="$dead $d"; done
is "$dead" "" "every postgate daemon lived through MariaDB's crash"
unlike "$(cat "$HARNESS_DIR"/{milter,policyd,worker,admin,tracker}.log)" 'AddressSanitizer|runtime error|panic' \
	"no sanitizer report or panic in the daemons' logs"
