#!/bin/bash
#
# status.t -- `postgatectl status` and `postgatectl send-test` against a running
# installation: all five daemons, the private MariaDB and Postfix wired by postgatectl.
# status: exit 0 and every JSON field while all is well; a stopped daemon is "down" with
# exit 2 (CRITICAL); a schema behind this program's migrations is CRITICAL, one ahead a
# WARNING (exit 1); Postfix's queue counts see a message put on hold with postsuper -h;
# the human table says the same. send-test: a message through the injection service and
# the milter reaches the sink DKIM-signed (checked by dkimpy, not by postgate), its row
# and queue ID are the ones printed; an unknown server, a From domain the server has not
# verified and a server without an API credential each fail with a clear message.
#
# Must never: pass on a JSON field it did not find (absent prints "PARSE-ERROR"/"None"),
# or trust postgate's word for delivery (the sink's file is checked).

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

/usr/bin/python3 -c 'import dkim' 2>/dev/null ||
	skip_all "python3-dkim missing: run 'packaging/install-deps test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_worker
harness_start_tracker
harness_start_admin
plan 44

here=$(cd "$(dirname "$0")" && pwd)
ctl() { $HARNESS_CTL "$@"; }
# status_json: the JSON document; its exit status in $rc.
status_json() { rc=0; out=$(ctl status --json 2>"$HARNESS_DIR/status.err") || rc=$?; }
pq() { postqueue -c "$INSTANCE_POSTFIX_CONFIG_DIR" -j 2>/dev/null || true; }
queued() { [ -n "$(pq)" ]; }
held() { pq | grep -q '"queue_name": *"hold"'; }

# ---------------------------------------------------------------- all well

status_json
is "$rc" 0 "status --json exits 0 on a running installation"
is "$(j 'd["status"] + " " + str(d["exit_code"])' <<<"$out")" "ok 0" "... and says status ok, exit_code 0"
is "$(j '" ".join(sorted(d["daemons"]))' <<<"$out")" \
	"postgate-admin postgate-milter postgate-policyd postgate-tracker postgate-worker" "... naming the five daemons"
is "$(j '" ".join(d["daemons"][k]["state"] + "/" + str(d["daemons"][k]["http_status"]) for k in sorted(d["daemons"]))' <<<"$out")" \
	"ok/200 ok/200 ok/200 ok/200 ok/200" "... each ok, its /health answering 200"
is "$(j 'd["daemons"]["postgate-tracker"]["listen"]' <<<"$out")" "inet:127.0.0.1:$HARNESS_MONITOR_TRACKER" \
	"... asked on its monitor_listen"
is "$(j 'd["database"]["state"] + " " + d["database"]["name"]' <<<"$out")" "ok $INSTANCE_DB_NAME" "MariaDB: ok"
known=$(find "$POSTGATE_SRCDIR/schema" -name '[0-9][0-9][0-9]_*.sql' -printf '%f\n' | sort | tail -1 | cut -c1-3)
known=$((10#$known))
is "$(j '"%s %d %d %d" % (d["schema"]["state"], d["schema"]["version"], d["schema"]["known_version"], d["schema"]["pending"])' <<<"$out")" \
	"ok $known $known 0" "schema: ok at the highest migration in schema/ ($known), none pending"
is "$(j 'str(d["postfix"]["running"]) + " " + d["postfix"]["config_directory"]' <<<"$out")" \
	"True $INSTANCE_POSTFIX_CONFIG_DIR" "Postfix: running, its configuration directory"
is "$(j 'd["postfix"]["check"]["state"] + " " + str(d["postfix"]["check"]["exit_status"])' <<<"$out")" "ok 0" \
	"postfix check: ok"
is "$(j 'd["postfix"]["wiring"]["state"] + " " + str(len(d["postfix"]["wiring"]["problems"]))' <<<"$out")" "ok 0" \
	"wiring: ok, no problems"
is "$(j '" ".join(str(d["postfix"]["queue"][k]) for k in ("state", "active", "deferred", "hold", "incoming", "maildrop"))' <<<"$out")" \
	"ok 0 0 0 0 0" "queue: every count 0"
is "$(j '"%s %d %s" % (d["webhooks"]["state"], d["webhooks"]["pending"], d["webhooks"]["oldest_pending_seconds"])' <<<"$out")" \
	"ok 0 0.0" "webhooks: none pending"
is "$(j '"%s %d" % (d["endpoints"]["state"], d["endpoints"]["pending"])' <<<"$out")" "ok 0" \
	"endpoints: none pending"
is "$(cat "$HARNESS_DIR/status.err")" "" "... and nothing on stderr"

rc=0
table=$(ctl status 2>&1) || rc=$?
is "$rc" 0 "status (the table) exits 0 too"
like "$table" $'^postgate [0-9.]+: OK\n' "... headed OK"
like "$table" $'\npostgate-milter +ok +ok ' "... a row per daemon"
like "$table" $'\npostfix queue +ok +ok +active 0, deferred 0, hold 0' "... and the queue counts"

# ---------------------------------------------------------------- send-test

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >"$HARNESS_DIR/records.zone"
ctl credential create --server acme/mail --type API --name api >/dev/null

rc=0
sent=$(ctl send-test --server acme/mail --to someone@example.net --subject "status.t test" 2>&1) || rc=$?
is "$rc" 0 "send-test exits 0"
token=$(sed -n 's/^token: //p' <<<"$sent")
qid=$(sed -n 's/^queue-id: //p' <<<"$sent")
msgid=$(sed -n 's/^message-id: //p' <<<"$sent")
like "$token" '^[a-z0-9]{16}$' "... and prints the message's token"
is "$(harness_sql "SELECT CONCAT(postfix_queue_id, ' ', rcpt_to, ' ', mail_from, ' ', scope) FROM messages WHERE token = '$token'")" \
	"$qid someone@example.net test@example.com outgoing" \
	"... whose row the milter recorded with the printed queue ID, from test@ the verified domain"
like "$qid" '^[0-9A-Za-z]{8,}$' "... a Postfix queue ID"
harness_wait_for 30 instance_sink_find "$msgid" >/dev/null || true
file=$(instance_sink_find "$msgid" || true)
ok "$([ -n "$file" ]; echo $?)" "the test message reached the sink"
if [ -n "$file" ]; then
	like "$(/usr/bin/python3 "$here/dkim-verify.py" "$HARNESS_DIR/records.zone" "$file" 2>&1 || true)" \
		'^pass a=rsa-sha256 d=example\.com' "... DKIM-signed for example.com (dkimpy verifies it)"
	contains "$(grep -i '^Subject:' "$file")" "status.t test" "... with the subject given"
else
	ok 1 "... DKIM-signed for example.com (no message)"
	ok 1 "... with the subject given (no message)"
fi

rc=0
err=$(ctl send-test --server acme/nothing --to someone@example.net 2>&1) || rc=$?
is "$rc" 65 "send-test to an unknown server exits 65"
contains "$err" 'no server "acme/nothing"' "... saying there is no such server"
rc=0
err=$(ctl send-test --server acme/mail --from ceo@bank.example --to someone@example.net 2>&1) || rc=$?
like "$rc:$err" "^65:postgatectl(\\[[0-9]+\\])?: error: --from ceo@bank\\.example: bank\\.example is not a verified domain of server acme/mail or its organization$" \
	"a From domain the server has not verified: exit 65, said so"
ctl server create --org acme --name Bare --permalink bare >/dev/null
ctl domain create --server acme/bare --name bare.example --verified >/dev/null
rc=0
err=$(ctl send-test --server acme/bare --to someone@example.net 2>&1) || rc=$?
like "$rc:$err" '^65:.*server acme/bare has no API credential' "a server without an API credential: exit 65, said so"

# ---------------------------------------------------------------- Postfix's hold queue

# The sink stops, so the next message stays in Postfix's queue; postsuper -h holds it.
instance_sink_stop "$HARNESS_DIR/sink"
ctl send-test --server acme/mail --to held@example.net >/dev/null 2>&1 || true
harness_wait_for 30 queued || true
postsuper -c "$INSTANCE_POSTFIX_CONFIG_DIR" -h ALL >/dev/null 2>&1 || true
harness_wait_for 10 held || true
status_json
is "$(j '"%d %d" % (d["postfix"]["queue"]["hold"], d["postfix"]["queue"]["active"] + d["postfix"]["queue"]["deferred"])' <<<"$out")" \
	"1 0" "a message held with postsuper -h counts in the hold queue"
like "$(ctl status 2>&1 || true)" $'\npostfix queue +ok +ok +active 0, deferred 0, hold 1,' "... and in the table"
postsuper -c "$INSTANCE_POSTFIX_CONFIG_DIR" -d ALL hold >/dev/null 2>&1 || true
instance_sink_start "$HARNESS_DIR/sink" "$INSTANCE_SINK_PORT" || diag "the sink did not start again"

# ---------------------------------------------------------------- the schema

last=$(harness_sql "SELECT CONCAT_WS(',', version, QUOTE(name), QUOTE(checksum)) FROM schema_migrations ORDER BY version DESC LIMIT 1")
harness_sql "DELETE FROM schema_migrations WHERE version = $known"
status_json
is "$rc" 2 "a migration not applied: status exits 2 (CRITICAL)"
is "$(j '"%s %s %d %d %d" % (d["status"], d["schema"]["state"], d["schema"]["version"], d["schema"]["known_version"], d["schema"]["pending"])' <<<"$out")" \
	"critical behind $(harness_sql "SELECT MAX(version) FROM schema_migrations") $known 1" \
	"... the schema behind, with the database's and this program's versions"
harness_sql "INSERT INTO schema_migrations (version, name, checksum) VALUES ($last)"
harness_sql "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, '999_future.sql', REPEAT('0', 64))"
status_json
is "$rc" 1 "a database migrated by a newer postgate: status exits 1 (WARNING)"
is "$(j '"%s %s %d %d" % (d["status"], d["schema"]["state"], d["schema"]["version"], d["schema"]["known_version"])' <<<"$out")" \
	"warning ahead 999 $known" "... the schema ahead"
harness_sql "DELETE FROM schema_migrations WHERE version = 999"
status_json
is "$rc:$(j 'd["schema"]["state"]' <<<"$out")" "0:ok" "the schema restored: ok again"

# ---------------------------------------------------------------- a daemon down

instance_postgate_stop "$HARNESS_DIR" tracker
status_json
is "$rc" 2 "postgate-tracker stopped: status exits 2 (CRITICAL)"
is "$(j 'd["status"] + " " + d["daemons"]["postgate-tracker"]["state"] + " " + str(d["daemons"]["postgate-tracker"]["http_status"])' <<<"$out")" \
	"critical down None" "... postgate-tracker down (no answer)"
is "$(j '" ".join(d["daemons"][k]["state"] for k in sorted(d["daemons"]) if k != "postgate-tracker")' <<<"$out")" \
	"ok ok ok ok" "... the other four still ok"
rc=0
table=$(ctl status 2>&1) || rc=$?
like "$rc:$table" $'^2:postgate [0-9.]+: CRITICAL\n.*\npostgate-tracker +critical +down ' "... and the table says so"

# MariaDB down: the database and what needs it are CRITICAL, Postfix is still read.
instance_mariadb_stop "$HARNESS_DIR/mariadb"
status_json
is "$rc" 2 "MariaDB stopped: status exits 2"
is "$(j '" ".join([d["database"]["state"], d["schema"]["state"], d["webhooks"]["state"], d["postfix"]["queue"]["state"]])' <<<"$out")" \
	"down unknown unknown ok" "... the database down, schema and backlogs unknown, the queue still counted"
instance_mariadb_start "$HARNESS_DIR/mariadb" || diag "MariaDB did not start again"

# Bad usage is not a status.
rc=0
ctl status --nonsense >/dev/null 2>&1 || rc=$?
is "$rc" 64 "status with an unknown option exits 64 (usage)"
rc=0
ctl send-test --server acme/mail >/dev/null 2>&1 || rc=$?
is "$rc" 64 "send-test without --to exits 64 (usage)"
