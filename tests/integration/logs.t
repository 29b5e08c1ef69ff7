#!/bin/bash
#
# logs.t -- structured logging with the real Postfix: postgate-milter, -policyd and
# -worker run with logging.format = json and a GELF copy to gelf-receiver.py (a UDP
# GELF 1.1 input). Every line they write to stderr is a JSON object with the fixed
# fields; the lines about one message carry its Postfix queue ID and message token (the
# milter's, the policy check of its second recipient, the log reader's delivery
# result); the GELF datagrams are valid GELF 1.1 and carry the same fields; with the
# receiver gone (port closed) mail still flows and postgate_log_gelf_dropped_total
# counts what was lost.
#
# Must never: pass on a field it did not read from a parsed line or datagram.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
here=$(cd "$(dirname "$0")" && pwd)

# The GELF input, before the daemons start.
gelf_dir="$HARNESS_DIR/gelf"
mkdir -p "$gelf_dir"
/usr/bin/python3 "$here/gelf-receiver.py" "$gelf_dir/port" "$gelf_dir/datagrams" 2>"$gelf_dir/log" &
gelf_pid=$!
stop_gelf() { kill "$gelf_pid" 2>/dev/null || true; wait "$gelf_pid" 2>/dev/null || true; }
trap 'rc=$?; stop_gelf; harness_on_exit $rc' EXIT
harness_wait_for 20 test -s "$gelf_dir/port" || harness_setup_failed "gelf-receiver.py did not start"
gelf_port=$(cat "$gelf_dir/port")

export POSTGATE_LOGGING_FORMAT=json POSTGATE_LOGGING_LEVEL=debug POSTGATE_LOGGING_GELF_HOST=127.0.0.1 \
	POSTGATE_LOGGING_GELF_PORT="$gelf_port" POSTGATE_LOGGING_GELF_FACILITY=logs-test
harness_start_postgate
harness_start_worker
plan 20

ctl() { $HARNESS_CTL "$@"; }
logs=("$HARNESS_DIR/milter.log" "$HARNESS_DIR/policyd.log" "$HARNESS_WORKER_LOG")
run_id=$(instance_random_hex 4)
# metric DAEMON NAME: the sample's value from the daemon's /metrics, or "absent".
metric() {
	local v="HARNESS_MONITOR_${1^^}"
	curl -s --max-time 10 "http://127.0.0.1:${!v}/metrics" 2>/dev/null |
		awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }' | head -1
}

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')

# send SUBJECT: two recipients, so the policy check of the second names the queue ID;
# prints the queue ID.
send() {
	local out
	out=$(timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail \
		--auth-password "$key" --from app@example.com --to one@example.net,two@example.net \
		--h-From "App <app@example.com>" --h-Subject "$1 $run_id" 2>&1 || true)
	sed -n 's/^<-  250 2.0.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$out" | tail -1
}
sent_count() { harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$1 $run_id' AND status = 'Sent'"; }

# check_lines FILE...: "bad N" for lines that are not JSON objects with the fixed fields.
check_lines() {
	/usr/bin/python3 - "$@" <<'EOF'
import json, sys
bad = 0
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8", errors="replace"):
        try:
            o = json.loads(line)
            ok = isinstance(o, dict) and all(isinstance(o.get(k), str) for k in ("timestamp", "level", "program", "message")) \
                and isinstance(o.get("pid"), int) and o["timestamp"].endswith("Z")
        except ValueError:
            ok = False
        if not ok:
            bad += 1
            print("not a log object in %s: %s" % (path, line.rstrip()[:200]), file=sys.stderr)
print("bad %d" % bad)
EOF
}

# about QID FILE...: one line per log line whose text names QID or whose queue_id is QID:
# "program queue_id token | text" ("-" for a field it lacks).
about() {
	local qid=$1
	shift
	/usr/bin/python3 - "$qid" "$@" <<'EOF'
import json, sys
qid = sys.argv[1]
for path in sys.argv[2:]:
    for line in open(path, encoding="utf-8", errors="replace"):
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if qid in o.get("message", "") or o.get("queue_id") == qid:
            print(o.get("program"), o.get("queue_id", "-"), o.get("message_token", "-"), "|", o["message"][:60])
EOF
}

# ---------------------------------------------------------------- a message, receiver up

qid=$(send first)
like "$qid" '^[0-9A-Za-z]+$' "a message with two recipients is accepted (queue ID $qid)"
token=$(harness_sql "SELECT token FROM messages WHERE postfix_queue_id = '$qid' AND rcpt_to = 'one@example.net'")
like "$token" '^[0-9a-z]{16}$' "... and recorded with its token"
harness_wait_for 40 eval '[ "$(sent_count first)" = 2 ]' || true
is "$(sent_count first)" 2 "... and delivered to both recipients (the worker read Postfix's log)"

is "$(check_lines "${logs[@]}")" "bad 0" "every line the milter, policyd and worker wrote is a JSON object with timestamp, level, program, pid, message"
lines=$(about "$qid" "${logs[@]}")
note "$lines"
is "$(awk -v q="$qid" '$2 != q' <<<"$lines")" "" "every line whose text names the queue ID carries it in queue_id"
like "$(awk -v q="$qid" -v t="$token" '$1 == "postgate-milter" && $2 == q && $3 == t' <<<"$lines" | wc -l)" '^[1-9]' \
	"the milter's line about the message carries its queue ID and token"
like "$(awk -v q="$qid" '$1 == "postgate-policyd" && $2 == q' <<<"$lines" | wc -l)" '^[1-9]' \
	"policyd's check of the second recipient carries the queue ID"
is "$(awk -v q="$qid" -v t="$token" '$1 == "postgate-worker" && $2 == q && $3 == t && /to=<one@example.net>: Sent/' <<<"$lines" | wc -l)" 1 \
	"the log reader's delivery result carries the queue ID and that recipient's token"
unlike "$(grep -h '"queue_id"' "${logs[@]}" | grep -v "$qid" | head -3 || true)" . \
	"no line carries a queue ID that is not this message's (the context was cleared)"

# The GELF copy.
harness_wait_for 10 eval 'grep -q "\"_queue_id\": \"$qid\"" "$gelf_dir/datagrams"' || true
is "$(grep -c '^INVALID' "$gelf_dir/datagrams" || true)" 0 "every datagram the receiver got is valid GELF 1.1"
/usr/bin/python3 - "$gelf_dir/datagrams" "$qid" "$token" >"$gelf_dir/summary" <<'EOF'
import json, sys
path, qid, token = sys.argv[1:]
progs, facilities, both = set(), set(), set()
for line in open(path):
    if line.startswith("INVALID"):
        continue
    o = json.loads(line)
    progs.add(o.get("_program"))
    facilities.add(o.get("_facility"))
    if o.get("_queue_id") == qid and o.get("_message_token") == token and isinstance(o.get("level"), int):
        both.add(o["_program"])
print("programs " + " ".join(sorted(p for p in progs if p)))
print("facilities " + " ".join(sorted(f for f in facilities if f)))
print("about " + " ".join(sorted(both)))
EOF
is "$(sed -n 's/^programs //p' "$gelf_dir/summary")" "postgate-milter postgate-policyd postgate-worker" \
	"datagrams came from the milter, policyd and the worker"
is "$(sed -n 's/^facilities //p' "$gelf_dir/summary")" logs-test "... all with _facility = logging.gelf_facility"
is "$(sed -n 's/^about //p' "$gelf_dir/summary")" "postgate-milter postgate-worker" \
	"... and the milter's and the worker's about the message carry _queue_id and _message_token"
is "$(metric milter postgate_log_gelf_dropped_total)" 0 "nothing dropped while the receiver listens"

# ---------------------------------------------------------------- the receiver down

stop_gelf
# A refusal (ICMP port unreachable) is reported on the socket's next send, so each
# daemon counts its losses from its second line on: two messages.
qid2=$(send second)
like "$qid2" '^[0-9A-Za-z]+$' "with the GELF receiver gone (port closed) mail is still accepted"
like "$(send third)" '^[0-9A-Za-z]+$' "... a second message too"
harness_wait_for 40 eval '[ "$(sent_count second) $(sent_count third)" = "2 2" ]' || true
is "$(sent_count second) $(sent_count third)" "2 2" "... and both are delivered"
drops="$(metric milter postgate_log_gelf_dropped_total) $(metric worker postgate_log_gelf_dropped_total)"
note "dropped (milter, worker): $drops"
like "$drops" '^[1-9][0-9]* [1-9][0-9]*$' "postgate_log_gelf_dropped_total counts the lost lines (milter, worker)"
is "$(check_lines "${logs[@]}")" "bad 0" "... and every line is still a JSON object"
# A context left set would put a queue ID on a line about something else.
leaks=$(/usr/bin/python3 - "${logs[@]}" <<'EOF'
import json, sys
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8", errors="replace"):
        o = json.loads(line)
        q = o.get("queue_id")
        if q and q not in o["message"] and not (o["program"] == "postgate-policyd" and o["message"].startswith("policy: ")):
            print(o["program"], q, o["message"][:80])
EOF
)
is "$leaks" "" "no line about something else carries a queue ID (the context is cleared after each message)"
