#!/bin/bash
#
# server_delete.t -- deleting a server with its data, through the management API against
# the real Postfix and MariaDB: only an organization admin may (a member gets 403, another
# organization 404); at once the server is gone from the API, its credential no longer
# authenticates at Postfix (535), its domain loses its verification and its permalink can
# be used again; postgate-worker's job server_purge then removes its messages, raw copies,
# webhook log and rows, and the server row itself, while another server's mail stays; and
# the same from the web admin's settings page (tests/browser/server_delete.mjs).
#
# Must never: pass when any row of the deleted server is left, or when another server's is gone.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
export POSTGATE_WORKER_JOBS_INTERVAL=1   # the config already has a worker section
harness_start_worker
harness_start_admin
base=$HARNESS_ADMIN_URL
plan 22

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
ctl org create --name Acme --permalink acme >/dev/null
ctl org create --name Evil --permalink evil >/dev/null
for s in gone keep; do
	ctl server create --org acme --name "$s" --permalink "$s" >/dev/null
	ctl domain create --server "acme/$s" --name "$s.delete.test" --verified >/dev/null
done
key_gone=$(ctl credential create --server acme/gone --name app | sed -n 's/^key: //p')
key_keep=$(ctl credential create --server acme/keep --name app | sed -n 's/^key: //p')
gone_id=$(sql "SELECT id FROM servers WHERE permalink = 'gone'")
keep_id=$(sql "SELECT id FROM servers WHERE permalink = 'keep'")
sql "INSERT INTO webhooks (uuid, server_id, name, url) VALUES (UUID(), $gone_id, 'all', 'http://127.0.0.1:9/')"
mkuser admin@example.test 'Adm1n-pass-phrase'
mkuser mem@example.test 'Mem-pass-phrase-1!'
mkuser eve@example.test 'Ev3-pass-phrase!'
member_of acme admin@example.test admin
member_of acme mem@example.test member
member_of evil eve@example.test owner
login admin admin@example.test 'Adm1n-pass-phrase'
login mem mem@example.test 'Mem-pass-phrase-1!'
login eve eve@example.test 'Ev3-pass-phrase!'

# send SERVER KEY SUBJECT: the SMTP dialogue of one message sent with the server's credential.
send() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user "acme/$1" \
		--auth-password "$2" --from "app@$1.delete.test" --to someone@example.net \
		--h-From "App <app@$1.delete.test>" --h-Subject "$3" 2>&1 || true
}
rows() { sql "SELECT COUNT(*) FROM messages WHERE server_id = $1"; }
for i in 1 2 3; do send gone "$key_gone" "gone-$i-$run_id" >/dev/null; done
send keep "$key_keep" "keep-$run_id" >/dev/null
sent() { [ "$(sql "SELECT COUNT(*) FROM messages WHERE status = 'Sent' AND subject LIKE '%-$run_id'")" = 4 ]; }
harness_wait_for 60 sent || true
is "$(rows "$gone_id") $(rows "$keep_id") $(sql "SELECT COUNT(*) FROM webhook_outbox WHERE server_id = $gone_id") " \
	"3 1 3 " "both servers have sent mail (and the first its MessageSent events)"

srv=/api/v2/organizations/acme/servers
is "$(code "$(as mem DELETE "$srv/gone")") $(code "$(as eve DELETE "$srv/gone")")" "403 Forbidden 404 NotFound" \
	"a member may not delete a server (403), another organization's owner does not see it (404)"
a=$(as admin DELETE "$srv/gone")
is "$(status "$a") $(body "$a" | j 'str(d["data"]["deleted"])')" "200 True" "an organization admin deletes the server"
is "$(code "$(as admin GET "$srv/gone")") $(body "$(as admin GET "$srv")" | j '" ".join(s["permalink"] for s in d["data"]["servers"])')" \
	"404 NotFound keep" "it is gone from the API at once"
sleep 2.1 # the milter's and policyd's caches (cache_ttl 1 s in the harness)
like "$(send gone "$key_gone" "after-$run_id")" '<\*\* +535 ' "its credential no longer authenticates at Postfix (535)"
like "$(send keep "$key_keep" "keep2-$run_id")" '<- +250 ' "... while the other server's still sends"
out=$(ctl domain create --server acme/keep --name gone.delete.test --verified 2>&1) && st=0 || st=$?
like "$st $out" '^0 created domain gone\.delete\.test .*verified' \
	"its domain's name is free: another server verifies it (the purge may not have run yet)"

purged() { [ "$(sql "SELECT COUNT(*) FROM servers WHERE id = $gone_id")" = 0 ]; }
harness_wait_for 60 purged || true
is "$(sql "SELECT COUNT(*) FROM servers WHERE id = $gone_id")" 0 "postgate-worker's job removes the server row in the end"
is "$(rows "$gone_id") $(sql "SELECT COUNT(*) FROM raw_messages WHERE server_id = $gone_id") $(sql "SELECT COUNT(*) FROM webhook_outbox WHERE server_id = $gone_id")" \
	"0 0 0" "... with its messages, raw copies and webhook outbox"
is "$(sql "SELECT COUNT(*) FROM credentials WHERE server_id = $gone_id") $(sql "SELECT COUNT(*) FROM domains WHERE server_id = $gone_id") $(sql "SELECT COUNT(*) FROM webhooks WHERE server_id = $gone_id")" \
	"0 0 0" "... and its configuration (credentials, domains, webhooks)"
is "$(rows "$keep_id")" 2 "the other server's messages stay"
like "$(cat "$HARNESS_WORKER_LOG")" 'server_purge: [0-9]+ rows? of deleted servers removed' "the worker says what it removed"

a=$(as admin POST "$srv" '{"name": "Gone again", "permalink": "gone"}')
is "$(status "$a")" 201 "the permalink can be used again"
is "$(code "$(as admin DELETE "$srv/gone")") $(code "$(as admin DELETE "$srv/gone")")" "200  404 NotFound" \
	"deleting twice: the second time there is nothing to delete (404)"

ctl server create --org acme --name Cli --permalink cli >/dev/null
out=$(ctl server delete acme/cli 2>&1)
like "$out" '^deleted server acme/cli' "postgatectl server delete does the same"
out=$(ctl server delete acme/cli 2>&1) && st=0 || st=$?
is "$st $(sql "SELECT COUNT(*) FROM servers WHERE permalink = 'cli' AND deleted_at IS NULL")" "65 0" \
	"... and a second time finds no such server (exit 65)"

# The web admin's danger zone (tests/browser/server_delete.mjs), where Chromium is installed.
as admin POST "$srv" '{"name": "Doomed", "permalink": "doomed"}' >/dev/null
if harness_browser server_delete.mjs 4 1 BASE_URL="$base" USER_EMAIL=admin@example.test USER_PASSWORD='Adm1n-pass-phrase' \
	ORG=acme SERVER=doomed SERVER_NAME=Doomed; then
	is "$(sql "SELECT COUNT(*) FROM servers WHERE permalink = 'doomed' AND deleted_at IS NULL")" 0 \
		"... and the deletion reached the database"
fi
