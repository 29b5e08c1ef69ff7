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
#   - deleting an account: only with its password, never while owning a live organization
#     or as the last installation admin; it ends every session and token at once and frees
#     the address; installation admins list and purge deleted users (API and postgatectl
#     user purge), and a purge leaves no row of that user and every other row as it was.
#
# Must never: believe an answer without looking at the database, or leave anything running.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb
plan 73

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

# ---------------------------------------------------------------- 45-65: deleting an account

mkuser dave@example.test 'D4ve-pass-phrase!'
mkuser carol@example.test 'C4rol-pass-phrase!'
login dave dave@example.test 'D4ve-pass-phrase!'
login carol carol@example.test 'C4rol-pass-phrase!'
setup "$(as alice POST /api/v2/organizations/msgco/members '{"email": "dave@example.test", "role": "admin"}')"
setup "$(as carol POST /api/v2/organizations '{"name": "Carol Co", "permalink": "carolco"}')"
a=$(as dave POST /api/v2/user/tokens '{"name": "deploy"}')
setup "$a"
dave_token=$(body "$a" | j 'd["data"]["token"]["token"]')
dave_id=$(sql "SELECT id FROM users WHERE email = 'dave@example.test'")
dave_uuid=$(sql "SELECT uuid FROM users WHERE id = $dave_id")
carol_uuid=$(sql "SELECT uuid FROM users WHERE email = 'carol@example.test'")
# Another person's rows, byte for byte: alice's account, sessions, tokens and memberships.
alice_rows() {
	sql "SELECT MD5(CONCAT_WS('|', (SELECT CONCAT_WS(',', id, uuid, email, first_name, last_name, password_hash, admin, deleted_at, updated_at, last_login_at) FROM users WHERE email = 'alice@example.test'),
		(SELECT GROUP_CONCAT(CONCAT_WS(',', s.id, s.token_hash, s.csrf_token_hash) ORDER BY s.id) FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'alice@example.test'),
		(SELECT GROUP_CONCAT(CONCAT_WS(',', ou.organization_id, ou.role, ou.updated_at) ORDER BY ou.organization_id) FROM organization_users ou JOIN users u ON u.id = ou.user_id WHERE u.email = 'alice@example.test')))"
}
alice_before=$(alice_rows)
a=$(as dave DELETE /api/v2/user '{"password": "not-my-password"}')
is "$(code "$a") $(sql "SELECT deleted_at IS NULL FROM users WHERE id = $dave_id")" "400 ValidationError 1" "a wrong password: refused, the account stays"
a=$(as carol DELETE /api/v2/user '{"password": "C4rol-pass-phrase!"}')
is "$(code "$a") $(body "$a" | j 'd["data"]["organizations"]')" '409 OwnsOrganizations ["carolco"]' \
	"the owner of a live organization: 409 OwnsOrganizations naming it"
a=$(as root DELETE /api/v2/user '{"password": "Adm1n-pass-phrase"}')
is "$(code "$a")" "409 LastAdmin" "the only installation admin cannot delete their account"
a=$(as dave DELETE /api/v2/user '{"password": "D4ve-pass-phrase!"}')
is "$(status "$a") $(body "$a" | j '[d["data"]["deleted"], d["data"]["sessions_ended"], d["data"]["tokens_revoked"]]')" "200 [true, 1, 1]" \
	"dave deletes his account with his password: his session and token end"
is "$(sql "SELECT CONCAT_WS(' ', deleted_at IS NOT NULL, live_email IS NULL, password_hash IS NULL, (SELECT COUNT(*) FROM user_sessions WHERE user_id = $dave_id),
	(SELECT COUNT(*) FROM user_api_tokens WHERE user_id = $dave_id), (SELECT COUNT(*) FROM organization_users WHERE user_id = $dave_id)) FROM users WHERE id = $dave_id")" \
	"1 1 1 0 0 0" "the row is marked deleted, its credentials, sessions, tokens and memberships gone"
a=$(as dave GET /api/v2/user)
is "$(code "$a")" "401 AuthenticationRequired" "his old session cookie: 401"
a=$(bearer "$dave_token" GET /api/v2/organizations)
is "$(code "$a")" "401 AuthenticationRequired" "his old API token: 401"
a=$(call POST /api/v2/session '{"email": "dave@example.test", "password": "D4ve-pass-phrase!"}')
is "$(code "$a")" "401 InvalidCredentials" "signing in as him: 401"
a=$(as alice GET /api/v2/organizations/msgco/members)
is "$(body "$a" | j '"dave@example.test" in [m["email"] for m in d["data"]["members"]]')" "false" "msgco no longer lists him"
a=$(as alice POST /api/v2/organizations/msgco/invitations '{"email": "dave@example.test", "role": "member"}')
invite=$(body "$a" | j 'd["data"]["invitation"]["token"]')
a=$(call POST "/api/v2/invitations/$invite/accept" '{"password": "N3w-dave-pass-phrase", "first_name": "Dave"}')
is "$(status "$a") $(body "$a" | j 'd["data"]["created"]')" "201 true" "his address can be invited again at once: a new account"
a=$(call POST /api/v2/session '{"email": "dave@example.test", "password": "N3w-dave-pass-phrase"}')
is "$(status "$a") $(sql "SELECT COUNT(*) FROM users WHERE email = 'dave@example.test'")" "200 2" "the new account signs in (the deleted row stays until purged)"
a=$(as alice GET /api/v2/deleted-users)
b=$(as alice POST "/api/v2/deleted-users/$dave_uuid/purge")
is "$(code "$a") $(code "$b") $(sql "SELECT COUNT(*) FROM users WHERE uuid = '$dave_uuid'")" "403 Forbidden 403 Forbidden 1" \
	"someone not an installation admin neither lists nor purges deleted users"
a=$(as root GET /api/v2/deleted-users)
is "$(body "$a" | j '[u["email"] + "/" + str(u["owned_organizations"]) for u in d["data"]["users"] if u["uuid"] == "'"$dave_uuid"'"]')" '["dave@example.test/0"]' \
	"the installation admin lists the deleted account"
setup "$(as carol DELETE /api/v2/organizations/carolco)"
setup "$(as carol DELETE /api/v2/user '{"password": "C4rol-pass-phrase!"}')"
out=$(printf '%s\n' 'N3w-carol-pass-phrase' | ctl make-user --email carol@example.test --first-name Carol --last-name New --password-stdin 2>&1) && st=0 || st=$?
is "$st $(sql "SELECT COUNT(*) FROM users WHERE live_email = 'carol@example.test' AND uuid <> '$carol_uuid'")" "0 1" \
	"postgatectl make-user gives carol's deleted address to a new account at once"
a=$(as root POST "/api/v2/deleted-users/$carol_uuid/purge")
is "$(code "$a") $(body "$a" | j '[o["permalink"] for o in d["data"]["organizations"]]')" '409 OwnsDeletedOrganizations ["carolco"]' \
	"carol still owns the deleted carolco: 409 naming it, purge it first"
a=$(as root POST "/api/v2/deleted-users/$(sql "SELECT uuid FROM users WHERE email = 'alice@example.test'")/purge")
is "$(code "$a")" "409 UserNotDeleted" "a live account cannot be purged"
a=$(as root POST "/api/v2/deleted-users/$dave_uuid/purge")
is "$(status "$a") $(sql "SELECT COUNT(*) FROM users WHERE uuid = '$dave_uuid'") $(sql "SELECT COUNT(*) FROM users WHERE email = 'dave@example.test'")" "200 0 1" \
	"the admin purges dave's deleted account: its row is gone, the new account stays"
is "$(alice_rows)" "$alice_before" "alice's account, sessions and memberships are byte for byte as before"
out=$(ctl user purge "$carol_uuid" 2>&1) && st=0 || st=$?
is "$st $(sql "SELECT COUNT(*) FROM users WHERE uuid = '$carol_uuid'")" "65 1" "postgatectl user purge refuses while carolco is not purged"
ctl org purge "$(sql "SELECT uuid FROM organizations WHERE permalink = 'carolco'")" >/dev/null 2>&1 || harness_setup_failed "org purge carolco"
out=$(ctl user purge "$carol_uuid" 2>&1) && st=0 || st=$?
is "$st $(sql "SELECT COUNT(*) FROM users WHERE uuid = '$carol_uuid'")" "0 0" "once carolco is purged, postgatectl user purge removes carol"
# The installation's users: only installation admins list them and grant or revoke admin,
# and the last admin stays.
alice_uuid=$(sql "SELECT uuid FROM users WHERE email = 'alice@example.test' AND deleted_at IS NULL")
root_uuid=$(sql "SELECT uuid FROM users WHERE email = 'root@example.test'")
a=$(as alice GET /api/v2/users)
b=$(as alice PATCH "/api/v2/users/$alice_uuid" '{"admin": true}')
is "$(code "$a") $(code "$b") $(sql "SELECT admin FROM users WHERE uuid = '$alice_uuid'")" "403 Forbidden 403 Forbidden 0" \
	"someone not an installation admin neither lists the users nor makes themselves admin"
a=$(as root GET /api/v2/users)
is "$(body "$a" | j '" ".join("%s:%s:%s" % (u["email"], u["admin"], u["sign_in"]) for u in d["data"]["users"] if u["email"] in ("root@example.test", "alice@example.test", "dave@example.test"))')" \
	"alice@example.test:False:password dave@example.test:False:password root@example.test:True:password" \
	"the installation admin lists the live accounts (dave's new one, not his deleted one), with who is admin"
like "$(body "$a")" '^[^$]*$' "... and no answer carries a password hash"
is "$(sql "SELECT COUNT(*) FROM users WHERE admin = 1 AND deleted_at IS NULL")" 1 "(root is the only admin so far)"
a=$(as root PATCH "/api/v2/users/$root_uuid" '{"admin": false}')
is "$(code "$a") $(sql "SELECT admin FROM users WHERE uuid = '$root_uuid'")" "409 LastAdmin 1" \
	"the last admin cannot revoke their own admin: 409 LastAdmin"
a=$(as root PATCH "/api/v2/users/$alice_uuid" '{"admin": true}')
b=$(as alice GET /api/v2/users)
is "$(status "$a") $(body "$a" | j 'd["data"]["user"]["admin"]') $(status "$b")" "200 true 200" \
	"root grants alice installation admin; her next request sees the list"
a=$(as alice PATCH "/api/v2/users/$root_uuid" '{"admin": false}')
b=$(as root GET /api/v2/users)
c=$(as alice PATCH "/api/v2/users/$alice_uuid" '{"admin": false}')
is "$(status "$a") $(code "$b") $(code "$c")" "200 403 Forbidden 409 LastAdmin" \
	"alice revokes root's; root is refused at once; alice, now the last, cannot revoke her own"
a=$(as alice PATCH "/api/v2/users/$root_uuid" '{"admin": "yes"}')
b=$(as alice PATCH "/api/v2/users/$dave_uuid" '{"admin": true}')
c=$(as alice PATCH "/api/v2/users/$root_uuid" '{"admin": true}')
is "$(code "$a") $(code "$b") $(status "$c") $(sql "SELECT CONCAT(SUM(email = 'root@example.test'), SUM(email = 'alice@example.test')) FROM users WHERE admin = 1")" \
	"400 ValidationError 404 NotFound 200 11" "a non-boolean is refused, a deleted account is 404, and root is admin again"

# Last, since it leaves this address throttled: the password check is the login throttle's.
n=0
while :; do
	a=$(as bob DELETE /api/v2/user '{"password": "a-wrong-guess"}')
	n=$((n + 1))
	[ "$(status "$a")" = 400 ] && [ $n -lt 8 ] || break
done
is "$(code "$a") $(sql "SELECT deleted_at IS NULL FROM users WHERE email = 'bob@example.test'")" "429 TooManyAttempts 1" \
	"guessing the password of a session's account is throttled like a login (429 after $n tries), the account stays"
