#!/bin/bash
#
# tenancy.t -- what a tenant may do after the installation admin acted, through
# postgate-admin's management API against a private MariaDB:
#
#   - suspension: the people of a suspended organization cannot create a new
#     organization (and carry on sending from it), cannot escape the rule by leaving the
#     suspended organization or by deleting it; lifting the suspension lifts the rule;
#   - purge: a deleted organization is purged by an installation admin (API, and
#     postgatectl org purge), in batches, until no row of it is left in any table, while
#     another organization's rows are untouched. Only deleted organizations, only admins.
#   - deleting a message: a member removes one message with everything that hangs off it
#     (deliveries, links, clicks, loads, the raw copy once no other recipient row shares
#     it), never one still in flight (Pending, SoftFail, queued for an endpoint, Held);
#     readonly members get 403, outsiders 404 and the row stays;
#
# Must never: believe an answer without looking at the database, or leave anything running.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb
plan 44

HARNESS_CTL=${HARNESS_CTL:-"$POSTGATE_BUILDDIR/ctl/postgatectl -c $HARNESS_CONFIG"}
out=$($HARNESS_CTL initialize 2>&1) || harness_setup_failed "postgatectl initialize: $out"
harness_start_admin
base=$HARNESS_ADMIN_URL
ctl() { $HARNESS_CTL "$@"; }

mkuser root@example.test 'Adm1n-pass-phrase' --admin
mkuser mallory@example.test 'Mall0ry-pass-phrase'
mkuser mate@example.test 'M4te-pass-phrase!'
mkuser alice@example.test 'Al1ce-pass-phrase'
login() { # NAME EMAIL PASSWORD
	local a
	a=$(call POST /api/v2/session "{\"email\": \"$2\", \"password\": \"$3\"}" -c "$(jar "$1")")
	printf -v "csrf_$1" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]')"
}
login root root@example.test 'Adm1n-pass-phrase'
login mallory mallory@example.test 'Mall0ry-pass-phrase'
login mate mate@example.test 'M4te-pass-phrase!'
login alice alice@example.test 'Al1ce-pass-phrase'
setup() { case "$(status "$1")" in 200|201) ;; *) harness_setup_failed "set-up step: $(body "$1")" ;; esac; }

# ---------------------------------------------------------------- 1-7: suspension

setup "$(as mallory POST /api/v2/organizations '{"name": "Spam Co", "permalink": "spamco"}')"
setup "$(as mallory POST /api/v2/organizations/spamco/members '{"email": "mate@example.test", "role": "member"}')"
a=$(as root PATCH /api/v2/organizations/spamco '{"suspended": true, "suspension_reason": "spam"}')
is "$(status "$a") $(body "$a" | j 'd["data"]["organization"]["suspended"]')" "200 true" "the installation admin suspends spamco"
a=$(as mallory POST /api/v2/organizations '{"name": "Spam Co 2", "permalink": "spamco2"}')
is "$(code "$a")" "403 OrganizationSuspended" "its owner cannot create a new organization: 403 OrganizationSuspended"
a=$(as mate POST /api/v2/organizations '{"name": "Mate Co", "permalink": "mateco"}')
is "$(code "$a")" "403 OrganizationSuspended" "nor can a member"
a=$(as mate DELETE /api/v2/organizations/spamco/members/mate@example.test)
is "$(code "$a")" "409 OrganizationSuspended" "the member cannot leave the suspended organization to get round it"
setup "$(as root PATCH /api/v2/organizations/spamco '{"suspended": false}')"
a=$(as mate POST /api/v2/organizations '{"name": "Mate Co", "permalink": "mateco"}')
is "$(status "$a")" 201 "once the suspension is lifted, the member creates an organization again"
setup "$(as root PATCH /api/v2/organizations/spamco '{"suspended": true}')"
setup "$(as mallory DELETE /api/v2/organizations/spamco)"
a=$(as mallory POST /api/v2/organizations '{"name": "Spam Co 3", "permalink": "spamco3"}')
is "$(code "$a")" "403 OrganizationSuspended" "deleting the suspended organization does not free its owner"
is "$(sql "SELECT COUNT(*) FROM organizations WHERE permalink IN ('spamco2', 'spamco3')")" 0 "no organization was made for them"

# ---------------------------------------------------------------- 8-24: purge

# Two organizations with the same kinds of rows: doomed (deleted, then purged) and acme
# (kept). Configuration through the API and postgatectl, the message log with SQL
# (2,500 messages: more than one batch).
fill() { # ORG SERVER DOMAIN PREFIX
	local sid wid eid
	setup "$(as alice POST /api/v2/organizations "{\"name\": \"$1\", \"permalink\": \"$1\"}")"
	setup "$(as alice POST "/api/v2/organizations/$1/servers" "{\"name\": \"$2\", \"permalink\": \"$2\"}")"
	setup "$(as root POST "/api/v2/organizations/$1/servers/$2/domains" "{\"name\": \"$3\", \"verified\": true}")"
	setup "$(as alice POST "/api/v2/organizations/$1/servers/$2/http-endpoints" '{"name": "app", "url": "https://app.example.net/in"}')"
	setup "$(as alice POST "/api/v2/organizations/$1/servers/$2/routes" "{\"name\": \"*\", \"domain\": \"$3\", \"mode\": \"Accept\"}")"
	setup "$(as alice POST "/api/v2/organizations/$1/servers/$2/webhooks" '{"name": "hook", "url": "https://app.example.net/hook"}')"
	setup "$(as alice POST "/api/v2/organizations/$1/members" '{"email": "mate@example.test", "role": "readonly"}')"
	ctl credential create --server "$1/$2" --name smtp >/dev/null || harness_setup_failed "credential create"
	sid=$(sql "SELECT s.id FROM servers s JOIN organizations o ON o.id = s.organization_id WHERE o.permalink = '$1'")
	wid=$(sql "SELECT id FROM webhooks WHERE server_id = $sid")
	eid=$(sql "SELECT id FROM http_endpoints WHERE server_id = $sid")
	sql "INSERT INTO raw_messages (created_day, server_id, size_bytes, headers, body) VALUES (UTC_DATE(), $sid, 10, 'Subject: x', 'body')"
	sql "INSERT INTO messages (server_id, token, scope, rcpt_to, raw_message_id, raw_message_day)
		SELECT $sid, CONCAT('$4', LPAD(seq, 15, '0')), 'outgoing', CONCAT('r', seq, '@example.net'), (SELECT MAX(id) FROM raw_messages WHERE server_id = $sid), UTC_DATE()
		FROM seq_1_to_2500"
	sql "INSERT INTO deliveries (message_id, status) SELECT id, 'Sent' FROM messages WHERE server_id = $sid"
	sql "INSERT INTO links (message_id, token, url, url_hash) SELECT id, CONCAT('$4', 'L', LPAD(id, 14, '0')), 'https://x.example/', SHA2(id, 256) FROM messages WHERE server_id = $sid LIMIT 100"
	sql "INSERT INTO clicks (created_day, server_id, message_id, link_id) SELECT UTC_DATE(), $sid, message_id, id FROM links WHERE message_id IN (SELECT id FROM messages WHERE server_id = $sid)"
	sql "INSERT INTO loads (created_day, server_id, message_id) SELECT UTC_DATE(), $sid, id FROM messages WHERE server_id = $sid LIMIT 50"
	sql "INSERT INTO queued_messages (message_id, server_id, endpoint_type, endpoint_id) SELECT id, $sid, 'HTTPEndpoint', $eid FROM messages WHERE server_id = $sid LIMIT 10"
	sql "INSERT INTO webhook_outbox (uuid, server_id, webhook_id, event, payload) VALUES (UUID(), $sid, $wid, 'MessageSent', '{}')"
	sql "INSERT INTO webhook_requests (created_day, server_id, webhook_id, uuid, event, url, attempt) VALUES (UTC_DATE(), $sid, $wid, UUID(), 'MessageSent', 'https://app.example.net/hook', 1)"
	sql "INSERT INTO suppressions (server_id, address, source) VALUES ($sid, 'gone@example.net', 'manual')"
	sql "INSERT INTO statistics (server_id, period, period_start, outgoing) VALUES ($sid, 'hour', UTC_DATE(), 2500)"
	sql "INSERT INTO send_volume (server_id, scope, minute, count) VALUES ($sid, 'outgoing', UTC_DATE(), 2500)"
}
fill doomed box doomed.test d
fill acme mail acme.test k
doomed_uuid=$(sql "SELECT uuid FROM organizations WHERE permalink = 'doomed'")
acme_uuid=$(sql "SELECT uuid FROM organizations WHERE permalink = 'acme'")
doomed_org=$(sql "SELECT id FROM organizations WHERE permalink = 'doomed'")
doomed_sid=$(sql "SELECT id FROM servers WHERE organization_id = $doomed_org")
# rows SID: every table's rows of one server, and of its organization.
rows() {
	sql "SELECT CONCAT_WS(' ',
		(SELECT COUNT(*) FROM messages WHERE server_id = $1),
		(SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.server_id = $1),
		(SELECT COUNT(*) FROM links l JOIN messages m ON m.id = l.message_id WHERE m.server_id = $1),
		(SELECT COUNT(*) FROM raw_messages WHERE server_id = $1), (SELECT COUNT(*) FROM clicks WHERE server_id = $1),
		(SELECT COUNT(*) FROM loads WHERE server_id = $1), (SELECT COUNT(*) FROM queued_messages WHERE server_id = $1),
		(SELECT COUNT(*) FROM webhook_outbox WHERE server_id = $1), (SELECT COUNT(*) FROM webhook_requests WHERE server_id = $1),
		(SELECT COUNT(*) FROM suppressions WHERE server_id = $1), (SELECT COUNT(*) FROM statistics WHERE server_id = $1),
		(SELECT COUNT(*) FROM send_volume WHERE server_id = $1), (SELECT COUNT(*) FROM credentials WHERE server_id = $1),
		(SELECT COUNT(*) FROM domains WHERE server_id = $1), (SELECT COUNT(*) FROM routes WHERE server_id = $1),
		(SELECT COUNT(*) FROM http_endpoints WHERE server_id = $1), (SELECT COUNT(*) FROM webhooks WHERE server_id = $1),
		(SELECT COUNT(*) FROM servers WHERE id = $1),
		(SELECT COUNT(*) FROM organization_users ou JOIN servers s ON s.organization_id = ou.organization_id WHERE s.id = $1))"
}
acme_sid=$(sql "SELECT s.id FROM servers s JOIN organizations o ON o.id = s.organization_id WHERE o.permalink = 'acme'")
acme_before=$(rows "$acme_sid")
is "$(rows "$doomed_sid")" "2500 2500 100 1 100 50 10 1 1 1 1 1 1 1 1 1 1 1 2" "doomed holds rows in every table (set-up check)"

a=$(as root POST "/api/v2/deleted-organizations/$doomed_uuid/purge")
is "$(code "$a")" "409 OrganizationNotDeleted" "a live organization cannot be purged: 409"
setup "$(as alice DELETE /api/v2/organizations/doomed)"
a=$(as alice POST "/api/v2/deleted-organizations/$doomed_uuid/purge")
is "$(code "$a")" "403 Forbidden" "its owner cannot purge it: installation admins only"
a=$(as root POST "/api/v2/deleted-organizations/00000000-0000-4000-8000-000000000000/purge")
is "$(code "$a")" "404 NotFound" "an unknown uuid: 404"
a=$(as root GET /api/v2/deleted-organizations)
is "$(body "$a" | j '" ".join(o["permalink"] + "/" + str(o["servers"]) for o in d["data"]["organizations"])')" "spamco/0 doomed/1" \
	"the admin lists the deleted organizations with what they still hold"
is "$(sql "SELECT COUNT(*) FROM domains WHERE name = 'doomed.test' AND verified_at IS NOT NULL")" 0 \
	"deleting doomed gave up its claim on doomed.test at once"
setup "$(as mate POST /api/v2/organizations/mateco/servers '{"name": "Box", "permalink": "box"}')"
a=$(as root POST /api/v2/organizations/mateco/servers/box/domains '{"name": "doomed.test", "verified": true}')
is "$(status "$a")" 201 "so another server can verify that name"
n=0
while :; do
	a=$(as root POST "/api/v2/deleted-organizations/$doomed_uuid/purge")
	n=$((n + 1))
	[ "$(status "$a")" = 202 ] && [ $n -lt 20 ] || break
done
is "$(status "$a") $(body "$a" | j 'd["data"]["purged"]')" "200 true" "the admin purges doomed (in $n call(s)): purged"
is "$(rows "$doomed_sid")" "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0" "no row of doomed's server is left in any table"
is "$(sql "SELECT COUNT(*) FROM organizations WHERE id = $doomed_org") $(sql "SELECT COUNT(*) FROM organization_users WHERE organization_id = $doomed_org")" \
	"0 0" "the organization row and its memberships are gone"
is "$(rows "$acme_sid")" "$acme_before" "acme's rows are untouched"
a=$(as root POST "/api/v2/deleted-organizations/$doomed_uuid/purge")
is "$(code "$a")" "404 NotFound" "purging it again: 404, nothing is left"

out=$(ctl org purge "$acme_uuid" 2>&1) && st=0 || st=$?
is "$st" 65 "postgatectl org purge refuses a live organization (exit 65)"
is "$(rows "$acme_sid")" "$acme_before" "and leaves it whole"
spamco_uuid=$(sql "SELECT uuid FROM organizations WHERE permalink = 'spamco'")
out=$(ctl org purge "$spamco_uuid" 2>&1) && st=0 || st=$?
is "$st" 0 "postgatectl org purge purges the deleted spamco"
like "$out" 'purged organization .*: [0-9]+ rows deleted' "... and says how many rows went"
is "$(sql "SELECT COUNT(*) FROM organizations WHERE permalink = 'spamco'")" 0 "spamco's row is gone"

# ---------------------------------------------------------------- 25-44: deleting a message

mkuser bob@example.test 'B0b-pass-phrase!'
login bob bob@example.test 'B0b-pass-phrase!'
setup "$(as alice POST /api/v2/organizations '{"name": "Msg Co", "permalink": "msgco"}')"
setup "$(as alice POST /api/v2/organizations/msgco/servers '{"name": "Box", "permalink": "box"}')"
setup "$(as alice POST /api/v2/organizations/msgco/servers/box/webhooks '{"name": "hook", "url": "https://app.example.net/hook"}')"
setup "$(as alice POST /api/v2/organizations/msgco/members '{"email": "bob@example.test", "role": "member"}')"
setup "$(as alice POST /api/v2/organizations/msgco/members '{"email": "mate@example.test", "role": "readonly"}')"
msid=$(sql "SELECT s.id FROM servers s JOIN organizations o ON o.id = s.organization_id WHERE o.permalink = 'msgco'")
mwid=$(sql "SELECT id FROM webhooks WHERE server_id = $msid")
# msg TOKEN STATUS RAW [SCOPE]: a message row of msgco's box; prints its id.
msg() {
	sql "INSERT INTO messages (server_id, token, scope, rcpt_to, status, raw_message_id, raw_message_day)
		VALUES ($msid, '$1', '${4:-outgoing}', CONCAT('$1', '@example.net'), '$2', $3, IF($3 IS NULL, NULL, UTC_DATE()));
		SELECT LAST_INSERT_ID()"
}
raw() { sql "INSERT INTO raw_messages (created_day, server_id, size_bytes, headers, body) VALUES (UTC_DATE(), $msid, 9, 'Subject: $1', 'body'); SELECT LAST_INSERT_ID()"; }
r1=$(raw shared)
r2=$(raw alone)
m1=$(msg msgAAAAAAAAAAA01 Sent "$r1")     # two recipients of one submission: m1 holds its links
m2=$(msg msgAAAAAAAAAAA02 Sent "$r1")
m3=$(msg msgAAAAAAAAAAA03 HardFail "$r2")
m4=$(msg msgAAAAAAAAAAA04 Pending NULL)
m6=$(msg msgAAAAAAAAAAA06 Held NULL)
m7=$(msg msgAAAAAAAAAAA07 Processed NULL incoming)
m8=$(msg msgAAAAAAAAAAA08 SoftFail NULL)
m5=$(msg msgAAAAAAAAAAA05 Sent NULL incoming)
sql "UPDATE messages SET bounce = 1, bounce_for_id = $m1 WHERE id = $m5"
sql "INSERT INTO deliveries (message_id, status) VALUES ($m1, 'Sent'), ($m1, 'Sent'), ($m2, 'Sent'), ($m3, 'HardFail')"
sql "INSERT INTO links (message_id, token, url, url_hash) VALUES ($m1, 'msgLINKAAAAAAA01', 'https://x.example/1', SHA2('1', 256)), ($m1, 'msgLINKAAAAAAA02', 'https://x.example/2', SHA2('2', 256))"
sql "INSERT INTO clicks (created_day, server_id, message_id, link_id) SELECT UTC_DATE(), $msid, $m1, id FROM links WHERE message_id = $m1"
sql "INSERT INTO loads (created_day, server_id, message_id) VALUES (UTC_DATE(), $msid, $m1), (UTC_DATE(), $msid, $m1), (UTC_DATE(), $msid, $m2)"
sql "INSERT INTO queued_messages (message_id, server_id, endpoint_type, endpoint_id) VALUES ($m7, $msid, 'HTTPEndpoint', 1)"
sql "INSERT INTO suppressions (server_id, address, source, message_id) VALUES ($msid, 'msgaaaaaaaaaaa01@example.net', 'hard_fail', $m1)"
sql "INSERT INTO webhook_outbox (uuid, server_id, webhook_id, event, payload) VALUES (UUID(), $msid, $mwid, 'MessageSent', JSON_OBJECT('message', JSON_OBJECT('id', $m1)))"
# of ID: every row of one message, table by table.
of() {
	sql "SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM messages WHERE id = $1), (SELECT COUNT(*) FROM deliveries WHERE message_id = $1),
		(SELECT COUNT(*) FROM links WHERE message_id = $1), (SELECT COUNT(*) FROM clicks WHERE message_id = $1),
		(SELECT COUNT(*) FROM loads WHERE message_id = $1), (SELECT COUNT(*) FROM queued_messages WHERE message_id = $1),
		(SELECT COUNT(*) FROM suppressions WHERE message_id = $1), (SELECT COUNT(*) FROM messages WHERE bounce_for_id = $1))"
}
whole() { sql "SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, token, status, rcpt_to, raw_message_id, bounce_for_id, updated_at) ORDER BY id)) FROM messages"; }
path=/api/v2/organizations/msgco/servers/box/messages
is "$(of "$m1")" "1 2 2 2 2 0 1 1" "m1 holds a row in every table (set-up check)"
before=$(whole)
a=$(as mallory DELETE "$path/$m1")
is "$(code "$a") $(body "$a" | j 'sorted(d["data"])')" '404 NotFound ["code", "message"]' \
	"an outsider deleting m1: 404 with nothing about it"
is "$(of "$m1") $(whole)" "1 2 2 2 2 0 1 1 $before" "and every message row is as it was"
a=$(as mallory DELETE "/api/v2/organizations/acme/servers/mail/messages/$m1")
is "$(code "$a")" "404 NotFound" "nor through a server of another organization"
a=$(as mate DELETE "$path/$m1")
is "$(code "$a")" "403 Forbidden" "a readonly member: 403"
is "$(of "$m1")" "1 2 2 2 2 0 1 1" "m1 is untouched"
a=$(as bob DELETE "$path/$m4")
is "$(code "$a")" "409 MessageInFlight" "a Pending message (Postfix has not finished it): 409 MessageInFlight"
a=$(as bob DELETE "$path/$m8")
is "$(code "$a")" "409 MessageInFlight" "a SoftFail message (a retry is due): 409 MessageInFlight"
a=$(as bob DELETE "$path/$m7")
is "$(code "$a")" "409 MessageInFlight" "a Processed message still queued for another endpoint: 409 MessageInFlight"
a=$(as bob DELETE "$path/$m6")
is "$(code "$a") $(body "$a" | j '"cancel" in d["data"]["message"]')" "409 MessageHeld true" "a Held message: 409 MessageHeld, cancel it first"
is "$(sql "SELECT COUNT(*) FROM messages WHERE id IN ($m4, $m6, $m7, $m8)") $(sql "SELECT COUNT(*) FROM queued_messages WHERE message_id = $m7")" \
	"4 1" "none of them was touched"
a=$(as bob DELETE "$path/$m1")
is "$(status "$a") $(body "$a" | j 'd["data"]["deleted"]')" "200 true" "a member deletes m1 (Sent): 200"
is "$(of "$m1")" "0 0 0 0 0 0 0 0" "no row of m1 is left: message, deliveries, links, clicks, loads, queue, references"
is "$(sql "SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM raw_messages WHERE id = $r1), (SELECT COUNT(*) FROM links WHERE message_id = $m2),
	(SELECT COUNT(*) FROM loads WHERE message_id = $m2), (SELECT COUNT(*) FROM deliveries WHERE message_id = $m2))")" "1 2 1 1" \
	"m2, the other recipient, keeps the shared raw copy and the links of the body it got"
is "$(sql "SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM suppressions WHERE address = 'msgaaaaaaaaaaa01@example.net'),
	(SELECT bounce_for_id IS NULL FROM messages WHERE id = $m5), (SELECT JSON_VALUE(payload, '$.message.id') FROM webhook_outbox WHERE server_id = $msid))")" \
	"1 1 $m1" "the suppression and the bounce stay without the reference; the queued event keeps its payload"
a=$(as bob DELETE "$path/$m2")
is "$(status "$a") $(sql "SELECT COUNT(*) FROM raw_messages WHERE id = $r1") $(sql "SELECT COUNT(*) FROM links WHERE message_id = $m2") $(of "$m2")" \
	"200 0 0 0 0 0 0 0 0 0 0" "deleting the last recipient row removes the raw copy and the links too"
a=$(as bob DELETE "$path/$m3")
is "$(status "$a") $(sql "SELECT COUNT(*) FROM raw_messages WHERE id = $r2") $(of "$m3")" "200 0 0 0 0 0 0 0 0 0" \
	"a HardFail message goes with its own raw copy and deliveries"
setup "$(as bob POST "$path/$m6/cancel")"
a=$(as bob DELETE "$path/$m6")
is "$(status "$a") $(of "$m6")" "200 0 0 0 0 0 0 0 0" "once its hold is cancelled, the held message can be deleted"
a=$(as bob DELETE "$path/$m1")
is "$(code "$a")" "404 NotFound" "deleting m1 again: 404"
is "$(rows "$acme_sid")" "$acme_before" "acme's rows are untouched by all of it"
