#!/bin/bash
#
# mgmt_v2_objects.t -- the management API v2 for what hangs off a mail server besides
# its domains and credentials: route endpoints (HTTP, SMTP, Address), incoming routes,
# webhooks with their request log and retry, IP pools (addresses, organizations, rules,
# a server's pool) and the suppression list with its CSV/JSON import. End to end:
# postgate-admin against a private MariaDB, and the private Postfix with postgate-milter
# for the suppression list (an address suppressed through the API holds mail sent to it;
# once removed, mail flows again). Roles: readonly reads only (403 on writes), a member of
# another organization gets 404 and no data, only installation admins write IP pools.
# Also: per-field validation errors, CSRF on cookie writes, SQL metacharacters and bad
# UTF-8.
#
# Must never: believe an answer about a change without looking at the database, pass on
# an answer it did not parse, or leave postgate-admin running.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"
command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
plan 141

harness_start_admin
base=$HARNESS_ADMIN_URL
run_id=$(instance_random_hex 4)

mkuser root@example.test 'Adm1n-pass-phrase' --admin
mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser bob@example.test 'B0b-pass-phrase!'
mkuser carol@example.test 'Car0l-pass-phrase'
mkuser eve@example.test 'Ev3-pass-phrase!'

login alice alice@example.test 'Al1ce-pass-phrase'
login bob bob@example.test 'B0b-pass-phrase!'
login carol carol@example.test 'Car0l-pass-phrase'
login eve eve@example.test 'Ev3-pass-phrase!'
login root root@example.test 'Adm1n-pass-phrase'
# shellcheck disable=SC2154 # login() sets csrf_NAME with printf -v
for who in "$csrf_alice" "$csrf_bob" "$csrf_carol" "$csrf_eve" "$csrf_root"; do
	[ "${#who}" = 64 ] || harness_setup_failed "logins failed"
done

# errors ANSWER: "HTTP-status code field field ..." of a validation answer.
errors() { printf '%s %s' "$(code "$1")" "$(body "$1" | j '" ".join(sorted(d["data"].get("errors", {})))')"; }
# field ANSWER NAME: the first error message of field NAME.
field() { body "$1" | j "d['data']['errors']['$2'][0]"; }
# jget ANSWER EXPR: EXPR over the answer's data.
jget() { body "$1" | j "$2"; }
# upload NAME METHOD PATH FILE TYPE: a cookie call with a body from FILE of Content-Type TYPE.
upload() {
	local csrf_var="csrf_$1"
	curl -sS --max-time 120 -X "$2" -H "Content-Type: $5" --data-binary "@$4" -b "$(jar "$1")" \
		-H "X-CSRF-Token: ${!csrf_var}" -w '\n%{http_code}' "$base$3" 2>&1 || true
}

# ---------------------------------------------------------------- set-up through the API (not counted)

setup() { [ "$(status "$1")" = 201 ] || harness_setup_failed "set-up step: $(body "$1")"; }
setup "$(as alice POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}')"
setup "$(as alice POST /api/v2/organizations/acme/servers '{"name": "Mail", "permalink": "mail"}')"
setup "$(as alice POST /api/v2/organizations/acme/servers '{"name": "Other", "permalink": "other"}')"
setup "$(as alice POST /api/v2/organizations/acme/members '{"email": "bob@example.test", "role": "readonly"}')"
setup "$(as alice POST /api/v2/organizations/acme/members '{"email": "carol@example.test", "role": "member"}')"
setup "$(as eve POST /api/v2/organizations '{"name": "Evil", "permalink": "evil"}')"
S=/api/v2/organizations/acme/servers/mail
O=/api/v2/organizations/acme/servers/other
setup "$(as root POST $S/domains '{"name": "example.com", "verified": true}')"
setup "$(as root POST $O/domains '{"name": "other.example", "verified": true}')"
server_id=$(sql "SELECT s.id FROM servers s JOIN organizations o ON o.id = s.organization_id WHERE o.permalink = 'acme' AND s.permalink = 'mail'")

# ---------------------------------------------------------------- endpoints

a=$(as carol POST $S/http-endpoints '{"name": "app", "url": "https://app.example.net/incoming"}')
is "$(code "$a")" "201 " "member carol creates an HTTP endpoint"
http_uuid=$(jget "$a" 'd["data"]["endpoint"]["uuid"]')
is "$(jget "$a" '"%(type)s %(encoding)s %(format)s %(timeout)s %(strip_replies)s %(include_attachments)s" % d["data"]["endpoint"]')" \
	"HTTPEndpoint BodyAsJSON Hash 5 False True" "with Postal's defaults: BodyAsJSON, Hash, 5 s, attachments included"
is "$(sql "SELECT CONCAT(url, ' ', timeout) FROM http_endpoints WHERE uuid = '$http_uuid' AND server_id = $server_id")" \
	"https://app.example.net/incoming 5" "the database has it under acme/mail"
a=$(as alice POST $S/http-endpoints '{"name": "x", "url": "ftp://app.example.net/", "encoding": "XML", "timeout": 61, "colour": "red"}')
is "$(errors "$a")" "400 ValidationError colour encoding timeout url" "a bad URL scheme, encoding, timeout and an unknown field: one error each"
is "$(field "$a" timeout)" "must be a whole number from 5 to 60" "the timeout error names the range"
a=$(as alice PATCH "$S/http-endpoints/$http_uuid" '{"format": "RawMessage", "timeout": 30, "strip_replies": true}')
is "$(code "$a") $(sql "SELECT CONCAT(format, ' ', timeout, ' ', strip_replies) FROM http_endpoints WHERE uuid = '$http_uuid'")" \
	"200  RawMessage 30 1" "PATCH changes format, timeout and strip_replies"

a=$(as alice POST $S/smtp-endpoints '{"name": "relay", "hostname": "mx.example.net", "ssl_mode": "STARTTLS", "username": "relay", "password": "S3cret-relay-pw"}')
smtp_uuid=$(jget "$a" 'd["data"]["endpoint"]["uuid"]')
is "$(code "$a") $(jget "$a" '"%(port)s %(ssl_mode)s %(username)s %(password_set)s %(type)s" % d["data"]["endpoint"]')" \
	"201  25 STARTTLS relay True SMTPEndpoint" "an SMTP endpoint with authentication: port 25 by default, password_set"
unlike "$(body "$a")" 'S3cret-relay-pw|"password"' "the answer never shows the password"
is "$(sql "SELECT COUNT(*) FROM smtp_endpoints WHERE uuid = '$smtp_uuid' AND password_encrypted IS NOT NULL AND INSTR(password_encrypted, 'S3cret') = 0")" \
	1 "the password is stored sealed, not in clear"
a=$(as alice POST $S/smtp-endpoints '{"name": "bad", "hostname": "bad host", "port": 0, "ssl_mode": "SSL"}')
is "$(errors "$a")" "400 ValidationError hostname port ssl_mode" "a bad hostname, port and ssl_mode: one error each"
a=$(as alice POST $S/smtp-endpoints '{"name": "nouser", "hostname": "mx.example.net", "password": "pw"}')
is "$(errors "$a") $(field "$a" password)" "400 ValidationError password needs a username" "a password without a username is refused"

a=$(as alice POST $S/address-endpoints '{"address": "Forward@Example.NET"}')
addr_uuid=$(jget "$a" 'd["data"]["endpoint"]["uuid"]')
is "$(code "$a") $(jget "$a" 'd["data"]["endpoint"]["address"]')" "201  forward@example.net" "an address endpoint, lower-cased"
a=$(as bob GET $S/http-endpoints)
is "$(code "$a") $(jget "$a" '" ".join(e["uuid"] for e in d["data"]["endpoints"])')" "200  $http_uuid" "readonly bob lists the HTTP endpoints"
is "$(code "$(as bob POST $S/http-endpoints '{"name": "b", "url": "http://b.example/"}')")" "403 Forbidden" "readonly bob may not create one"
a=$(as bob GET "$S/http-endpoints/$http_uuid")
is "$(code "$a") $(jget "$a" '"%(name)s %(format)s" % d["data"]["endpoint"]')" "200  app RawMessage" "readonly bob reads one endpoint"
a=$(as alice PATCH "$S/address-endpoints/$addr_uuid" '{"address": "other@example.net"}')
is "$(code "$a") $(sql "SELECT address FROM address_endpoints WHERE uuid = '$addr_uuid'")" "200  other@example.net" "PATCH an address endpoint"
a=$(as eve GET $S/http-endpoints)
is "$(code "$a")" "404 NotFound" "eve (member of another organization) gets 404"
unlike "$(body "$a")" 'app\.example\.net|endpoints' "and no data"

# ---------------------------------------------------------------- routes

ep() { printf '{"type": "%s", "uuid": "%s"}' "$1" "$2"; }
a=$(as carol POST $S/routes "{\"name\": \"Support\", \"domain\": \"example.com\", \"endpoint\": $(ep HTTPEndpoint "$http_uuid")}")
route_uuid=$(jget "$a" 'd["data"]["route"]["uuid"]')
token=$(jget "$a" 'd["data"]["route"]["token"]')
is "$(code "$a") $(jget "$a" '"%(address)s %(mode)s %(spam_mode)s" % d["data"]["route"]')" "201  support@example.com Endpoint Mark" \
	"member carol creates route support@example.com (name lower-cased, mode Endpoint, spam Mark)"
like "$token $(jget "$a" 'd["data"]["route"]["token_address"]')" "^([A-Za-z0-9]{8}) \\1@[a-z0-9.-]+\$" "an 8-character token and its address <token>@<route domain>"
is "$(sql "SELECT CONCAT(r.name, '@', d.name, ' ', r.http_endpoint_id = h.id) FROM routes r JOIN domains d ON d.id = r.domain_id JOIN http_endpoints h ON h.uuid = '$http_uuid' WHERE r.uuid = '$route_uuid'")" \
	"support@example.com 1" "the database has the route with its endpoint"
a=$(as alice POST $S/routes "{\"name\": \"support\", \"domain\": \"example.com\", \"endpoint\": $(ep HTTPEndpoint "$http_uuid")}")
is "$(code "$a") $(field "$a" name)" "409 RouteTaken is already a route of this domain" "the same name@domain again: 409 RouteTaken"
a=$(as alice POST $S/routes "{\"name\": \"x\", \"domain\": \"example.com\", \"endpoint\": $(ep HTTPEndpoint 00000000-0000-4000-8000-000000000000)}")
is "$(errors "$a") $(field "$a" endpoint)" "400 ValidationError endpoint there is no HTTPEndpoint with this uuid" "an unknown endpoint"
other_ep=$(jget "$(as alice POST $O/http-endpoints '{"name": "o", "url": "http://o.example/"}')" 'd["data"]["endpoint"]["uuid"]')
a=$(as alice POST $S/routes "{\"name\": \"x\", \"domain\": \"example.com\", \"endpoint\": $(ep HTTPEndpoint "$other_ep")}")
like "$(errors "$a") $(field "$a" endpoint)" "^400 ValidationError endpoint is an endpoint of another server" "another server's endpoint is refused"
a=$(as alice POST $S/routes '{"name": "Bad Name!", "domain": "other.example", "mode": "Forward", "spam_mode": "Drop"}')
is "$(errors "$a")" "400 ValidationError domain mode name spam_mode" "a bad name, a domain of another server, bad mode and spam_mode: one error each"
a=$(as alice POST $S/routes "{\"name\": \"a\", \"domain\": \"example.com\", \"mode\": \"Accept\", \"endpoint\": $(ep HTTPEndpoint "$http_uuid")}")
like "$(field "$a" endpoint)" "^is only used in mode Endpoint" "mode Accept with an endpoint is refused"
a=$(as alice POST $S/routes '{"name": "a", "domain": "example.com"}')
is "$(field "$a" endpoint)" "is required in mode Endpoint" "mode Endpoint without an endpoint is refused"
a=$(as alice POST $S/routes '{"name": "*", "domain": "example.com", "mode": "Hold", "spam_mode": "Quarantine"}')
wild_uuid=$(jget "$a" 'd["data"]["route"]["uuid"]')
is "$(code "$a") $(jget "$a" '"%(address)s %(mode)s %(endpoint)s" % d["data"]["route"]')" "201  *@example.com Hold None" "a wildcard route in mode Hold"
a=$(as alice POST $S/routes '{"name": "__returnpath__", "domain": "example.com", "mode": "Accept"}')
is "$(code "$a")" "201 " "a __returnpath__ route"

a=$(as alice PATCH "$S/routes/$route_uuid" "{\"additional_endpoints\": [$(ep SMTPEndpoint "$smtp_uuid"), $(ep AddressEndpoint "$addr_uuid")]}")
is "$(code "$a") $(jget "$a" '" ".join(e["type"] for e in d["data"]["route"]["additional_endpoints"])')" "200  SMTPEndpoint AddressEndpoint" \
	"PATCH adds two additional endpoints"
is "$(sql "SELECT COUNT(*) FROM additional_route_endpoints x JOIN routes r ON r.id = x.route_id WHERE r.uuid = '$route_uuid'")" 2 "the database has both"
a=$(as alice PATCH "$S/routes/$wild_uuid" "{\"additional_endpoints\": [$(ep HTTPEndpoint "$other_ep")]}")
like "$(errors "$a") $(field "$a" additional_endpoints)" "^400 ValidationError additional_endpoints item 1: is an endpoint of another server" \
	"an additional endpoint of another server is refused, naming the item"
a=$(as alice PATCH "$S/routes/$route_uuid" '{"mode": "Accept"}')
is "$(code "$a") $(jget "$a" 'd["data"]["route"]["endpoint"]') $(sql "SELECT COALESCE(http_endpoint_id, 'NULL') FROM routes WHERE uuid = '$route_uuid'")" \
	"200  null NULL" "leaving mode Endpoint drops the endpoint"
a=$(as alice PATCH "$S/routes/$route_uuid" "{\"mode\": \"Endpoint\", \"endpoint\": $(ep HTTPEndpoint "$http_uuid")}")
is "$(code "$a") $(jget "$a" 'd["data"]["route"]["endpoint"]["uuid"]')" "200  $http_uuid" "and back to mode Endpoint with it"

a=$(as alice DELETE "$S/http-endpoints/$http_uuid")
is "$(code "$a") $(jget "$a" 'd["data"]["routes"]')" '409 EndpointInUse ["support@example.com"]' "deleting an endpoint a route uses: 409 naming the route"
contains "$(jget "$a" 'd["data"]["message"]')" "support@example.com" "the message names it too"
is "$(code "$(as alice DELETE "$S/smtp-endpoints/$smtp_uuid")")" "409 EndpointInUse" "an additional endpoint counts as used too"
is "$(code "$(as bob DELETE "$S/routes/$route_uuid")") / $(code "$(as eve GET "$S/routes/$route_uuid")")" "403 Forbidden / 404 NotFound" \
	"readonly bob may not delete a route; eve cannot see it"
is "$(code "$(as alice DELETE "$S/routes/$route_uuid")") $(sql "SELECT COUNT(*) FROM routes WHERE uuid = '$route_uuid'")" "200  0" "alice deletes the route"
a=$(as alice PATCH "$S/smtp-endpoints/$smtp_uuid" '{"username": null, "port": 2525}')
is "$(code "$a") $(jget "$a" '"%(username)s %(password_set)s %(port)s" % d["data"]["endpoint"]') $(sql "SELECT password_encrypted IS NULL FROM smtp_endpoints WHERE uuid = '$smtp_uuid'")" \
	"200  None False 2525 1" "removing the SMTP username removes the password too"
is "$(code "$(as alice DELETE "$S/http-endpoints/$http_uuid")") $(code "$(as alice DELETE "$S/smtp-endpoints/$smtp_uuid")") $(code "$(as alice DELETE "$S/address-endpoints/$addr_uuid")")" \
	"200  200  200 " "then the endpoints can be deleted"
is "$(sql "SELECT COUNT(*) FROM http_endpoints WHERE uuid = '$http_uuid'") $(sql "SELECT COUNT(*) FROM smtp_endpoints WHERE uuid = '$smtp_uuid'")" \
	"0 0" "and are gone from the database"

# ---------------------------------------------------------------- hostile input, CSRF

a=$(as alice POST $S/routes "{\"name\": \"x'; DROP TABLE routes; --\", \"domain\": \"example.com\", \"mode\": \"Accept\"}")
is "$(errors "$a") $(sql "SELECT COUNT(*) FROM routes WHERE uuid = '$wild_uuid'")" "400 ValidationError name 1" \
	"SQL metacharacters in a route name: a name error, the routes table intact"
a=$(as alice POST $S/http-endpoints "{\"name\": \"o'Brien\\\"; DROP TABLE http_endpoints; --\", \"url\": \"https://x.example/?a=1&b='2'\"}")
is "$(code "$a") $(sql "SELECT name FROM http_endpoints WHERE uuid = '$(jget "$a" 'd["data"]["endpoint"]["uuid"]')'")" \
	"201  o'Brien\"; DROP TABLE http_endpoints; --" "SQL metacharacters in a name are stored as text"
a=$(as alice POST $S/routes $'{"name": "caf\xe9", "domain": "example.com", "mode": "Accept"}')
is "$(code "$a")" "400 InvalidUTF8" "a body that is not UTF-8: 400 InvalidUTF8"
a=$(as alice GET "$S/routes/'%20OR%201=1")
is "$(code "$a")" "404 NotFound" "a route path that is not a uuid: 404"
a=$(call POST $S/webhooks '{"name": "w", "url": "https://hooks.example/"}' -b "$(jar alice)")
is "$(code "$a")" "403 CSRFTokenInvalid" "a cookie write without the CSRF token: 403 CSRFTokenInvalid"
a=$(call POST $S/webhooks '{"name": "w", "url": "https://hooks.example/"}' -b "$(jar alice)" -H "X-CSRF-Token: ${csrf_bob}")
is "$(code "$a")" "403 CSRFTokenInvalid" "with another session's CSRF token: 403 too"
is "$(sql "SELECT COUNT(*) FROM webhooks")" 0 "nothing was created"

# ---------------------------------------------------------------- webhooks

a=$(as carol POST $S/webhooks '{"name": "all", "url": "https://hooks.example/all"}')
wh_all=$(jget "$a" 'd["data"]["webhook"]["uuid"]')
is "$(code "$a") $(jget "$a" '"%(all_events)s %(events)s %(enabled)s %(sign)s" % d["data"]["webhook"]')" "201  True [] True True" \
	"a webhook for all events, enabled and signed by default"
a=$(as alice POST $S/webhooks '{"name": "some", "url": "http://hooks.example/some", "events": ["MessageSent", "MessageBounced"]}')
wh_some=$(jget "$a" 'd["data"]["webhook"]["uuid"]')
is "$(code "$a") $(jget "$a" '"%s %s" % (d["data"]["webhook"]["all_events"], ",".join(d["data"]["webhook"]["events"]))')" \
	"201  False MessageSent,MessageBounced" "a list of events alone means only those"
is "$(sql "SELECT GROUP_CONCAT(e.event ORDER BY e.event) FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id WHERE w.uuid = '$wh_some'")" \
	"MessageSent,MessageBounced" "the database has the two events"
a=$(as alice POST $S/webhooks '{"name": "bad", "url": "javascript:alert(1)", "events": ["Nope"], "all_events": "yes", "sign": 1}')
is "$(errors "$a")" "400 ValidationError all_events events sign url" "a bad URL, event and booleans: one error each"
like "$(field "$a" events)" "^item 1 is not an event; the events are MessageSent, " "the event error lists the events"
a=$(as alice POST $S/webhooks '{"name": "x", "url": "https://h.example/", "all_events": true, "events": ["MessageSent"]}')
is "$(field "$a" events)" "must be empty when all_events is true" "all_events with a list is refused"
a=$(as alice POST $S/webhooks '{"name": "x", "url": "https://h.example/", "all_events": false}')
is "$(field "$a" events)" "name at least one event, or set all_events to true" "all_events false without a list is refused"
a=$(as alice PATCH "$S/webhooks/$wh_some" '{"all_events": true, "enabled": false}')
is "$(code "$a") $(jget "$a" '"%(all_events)s %(events)s %(enabled)s" % d["data"]["webhook"]')" "200  True [] False" \
	"PATCH all_events on drops the list; enabled off"
is "$(sql "SELECT CONCAT(w.all_events, w.enabled, ' ', COUNT(e.event)) FROM webhooks w LEFT JOIN webhook_events e ON e.webhook_id = w.id WHERE w.uuid = '$wh_some' GROUP BY w.id")" \
	"10 0" "the database agrees"
is "$(jget "$(as bob GET "$S/webhooks/$wh_all")" 'd["data"]["webhook"]["url"]')" "https://hooks.example/all" "readonly bob reads one webhook"
is "$(code "$(as bob PATCH "$S/webhooks/$wh_all" '{"enabled": false}')") $(code "$(as eve GET "$S/webhooks/$wh_all")")" "403 Forbidden 404 NotFound" \
	"readonly bob may not change it, eve cannot see it"

# The request log as the delivery code writes it: one event, three attempts.
wh_id=$(sql "SELECT id FROM webhooks WHERE uuid = '$wh_all'")
sql "INSERT INTO webhook_outbox (uuid, server_id, webhook_id, event, payload, status) VALUES (UUID(), $server_id, $wh_id, 'MessageSent', '{\"message\": {\"id\": 42, \"token\": \"tok$run_id\"}}', 'failed')"
outbox_id=$(sql "SELECT MAX(id) FROM webhook_outbox")
for n in 1 2 3; do
	sql "INSERT INTO webhook_requests (created_day, server_id, webhook_id, outbox_id, uuid, event, url, attempt, status_code, body, will_retry, duration_ms) SELECT UTC_DATE(), $server_id, $wh_id, $outbox_id, uuid, 'MessageSent', 'https://hooks.example/all', $n, 500, 'try $n', $((n < 3)), 12 FROM webhook_outbox WHERE id = $outbox_id"
done
a=$(as bob GET "$S/webhooks/$wh_all/requests?limit=2")
next=$(jget "$a" 'd["data"]["next_before"]')
is "$(code "$a") $(jget "$a" '" ".join("%(attempt)s:%(status_code)s:%(will_retry)s" % r for r in d["data"]["requests"])')" "200  3:500:False 2:500:True" \
	"readonly bob reads the request log, newest first, two per page"
a=$(as bob GET "$S/webhooks/$wh_all/requests?limit=2&before=$next")
is "$(jget "$a" '"%s %s" % ([r["body"] for r in d["data"]["requests"]], d["data"]["next_before"])')" "['try 1'] None" "the next page has the first attempt and no more"
is "$(errors "$(as bob GET "$S/webhooks/$wh_all/requests?limit=0&before=x")")" "400 ValidationError before limit" "bad paging arguments: one error each"
first_req=$(sql "SELECT MIN(id) FROM webhook_requests")
is "$(code "$(as bob POST "$S/webhooks/requests/$first_req/retry")") $(code "$(as eve POST "$S/webhooks/requests/$first_req/retry")")" \
	"403 Forbidden 404 NotFound" "readonly bob may not retry; eve gets 404"
a=$(as carol POST "$S/webhooks/requests/$first_req/retry")
is "$(code "$a") $(jget "$a" 'd["data"]["queued"]')" "201  true" "member carol re-queues the event"
is "$(sql "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT uuid), ' ', SUM(status = 'pending'), ' ', COUNT(DISTINCT payload)) FROM webhook_outbox WHERE webhook_id = $wh_id")" \
	"2 2 1 1" "a new pending outbox row with its own uuid and the same payload"
sql "DELETE FROM webhook_outbox WHERE id = $outbox_id"
is "$(code "$(as carol POST "$S/webhooks/requests/$first_req/retry")") $(code "$(as carol POST "$S/webhooks/requests/999999999/retry")")" \
	"409 RequestExpired 404 NotFound" "a request whose payload is gone: 409; an unknown one: 404"
is "$(code "$(as alice DELETE "$S/webhooks/$wh_some")") $(sql "SELECT COUNT(*) FROM webhooks WHERE uuid = '$wh_some'")" "200  0" "alice deletes a webhook"

# ---------------------------------------------------------------- IP pools

is "$(code "$(as alice POST /api/v2/ip-pools '{"name": "Mine"}')")" "403 Forbidden" "an organization owner may not create an IP pool"
a=$(as root POST /api/v2/ip-pools '{"name": "Main", "default": true}')
pool=$(jget "$a" 'd["data"]["ip_pool"]["uuid"]')
is "$(code "$a") $(jget "$a" '"%(name)s %(default)s %(addresses)s %(organizations)s" % d["data"]["ip_pool"]')" "201  Main True [] []" \
	"the installation admin creates a default pool"
a=$(as root POST /api/v2/ip-pools '{"name": "Second", "default": true}')
pool2=$(jget "$a" 'd["data"]["ip_pool"]["uuid"]')
is "$(sql "SELECT GROUP_CONCAT(name ORDER BY name) FROM ip_pools WHERE is_default = 1")" "Second" "a new default pool ends the old one's default"
a=$(as root PATCH "/api/v2/ip-pools/$pool2" '{"destination_concurrency_limit": 5, "destination_rate_delay": 2}')
is "$(code "$a") $(jget "$a" '"%(destination_concurrency_limit)s %(destination_rate_delay)s" % d["data"]["ip_pool"]')" "200  5 2" \
	"a pool's per-destination concurrency and rate limits"
a=$(as root PATCH "/api/v2/ip-pools/$pool2" '{"destination_rate_delay": null}')
is "$(jget "$a" '"%(destination_concurrency_limit)s %(destination_rate_delay)s" % d["data"]["ip_pool"]')" "5 None" \
	"null gives a limit back to Postfix's default, an absent one stays"
a=$(as root PATCH "/api/v2/ip-pools/$pool2" '{"destination_concurrency_limit": 0, "destination_rate_delay": 4000}')
is "$(errors "$a")" "400 ValidationError destination_concurrency_limit destination_rate_delay" "limits out of range: one error each"
a=$(as root POST "/api/v2/ip-pools/$pool/addresses" '{"ipv4": "192.0.2.10", "ipv6": "2001:db8::10", "hostname": "MTA1.example.net", "priority": 50}')
addr_id=$(jget "$a" 'd["data"]["address"]["id"]')
is "$(code "$a") $(jget "$a" '"%(ipv4)s %(ipv6)s %(hostname)s %(priority)s" % d["data"]["address"]')" "201  192.0.2.10 2001:db8::10 mta1.example.net 50" \
	"an address with ipv4, ipv6, HELO hostname and priority"
a=$(as root POST "/api/v2/ip-pools/$pool/addresses" '{"ipv4": "300.1.1.1", "ipv6": "zz::", "hostname": "bad host", "priority": 101}')
is "$(errors "$a")" "400 ValidationError hostname ipv4 ipv6 priority" "bad addresses, hostname and priority: one error each"
a=$(as root POST "/api/v2/ip-pools/$pool/addresses" '{"hostname": "mta2.example.net"}')
is "$(field "$a" ipv4)" "an address needs an ipv4 or an ipv6 address (or both)" "an address needs an IP"
a=$(as root PATCH "/api/v2/ip-pools/$pool/addresses/$addr_id" '{"ipv6": null, "priority": 100}')
is "$(code "$a") $(sql "SELECT CONCAT(ipv4, ' ', COALESCE(ipv6, 'NULL'), ' ', priority) FROM ip_addresses WHERE id = $addr_id")" \
	"200  192.0.2.10 NULL 100" "PATCH clears ipv6 and changes the priority"
is "$(code "$(as root PATCH "/api/v2/ip-pools/$pool/addresses/$addr_id" '{"ipv4": null}')")" "400 ValidationError" \
	"clearing the last address is refused"
a=$(as root PATCH "/api/v2/ip-pools/$pool/addresses/$addr_id" '{"warmup": true}')
is "$(code "$a") $(jget "$a" '"%(day)s %(share_today)s %(sent_today)s" % d["data"]["address"]["warmup"]')" "200  1 50 0" \
	"warmup: true starts the warm-up plan today (day 1, its share 50 by default)"
a=$(as root PATCH "/api/v2/ip-pools/$pool/addresses/$addr_id" '{"warmup": false}')
is "$(code "$a") $(jget "$a" 'd["data"]["address"]["warmup"]')" "200  null" "warmup: false ends it (warm: no share)"
is "$(code "$(as alice POST "/api/v2/ip-pools/$pool/addresses" '{"ipv4": "192.0.2.11", "hostname": "x.example.net"}')") $(code "$(as alice PATCH "/api/v2/ip-pools/$pool" '{"name": "x"}')")" \
	"403 Forbidden 403 Forbidden" "an owner may not add addresses or rename a pool"
a=$(as alice GET /api/v2/ip-pools)
is "$(code "$a") $(jget "$a" 'd["data"]["ip_pools"]') $(code "$(as alice GET "/api/v2/ip-pools/$pool")")" "200  [] 404 NotFound" \
	"before it is assigned, alice sees no pool"
a=$(as root POST "/api/v2/ip-pools/$pool/organizations" '{"organization": "acme"}')
is "$(code "$a") $(jget "$a" 'd["data"]["ip_pool"]["organizations"]')" '201  ["acme"]' "the admin assigns the pool to acme"
is "$(code "$(as root POST "/api/v2/ip-pools/$pool/organizations" '{"organization": "acme"}')") $(code "$(as root POST "/api/v2/ip-pools/$pool/organizations" '{"organization": "nope"}')")" \
	"200  400 ValidationError" "again: 200; an unknown organization: 400"
a=$(as bob GET /api/v2/ip-pools)
is "$(jget "$a" '" ".join("%s:%s:%s" % (p["uuid"], p["addresses"][0]["hostname"], "organizations" in p) for p in d["data"]["ip_pools"])')" \
	"$pool:mta1.example.net:False" "readonly bob now sees the pool with its addresses, not its organizations"
is "$(jget "$(as bob GET /api/v2/organizations/acme/ip-pools)" '[p["name"] for p in d["data"]["ip_pools"]]')" '["Main"]' \
	"and in acme's pool list"
is "$(jget "$(as bob GET "/api/v2/ip-pools/$pool/addresses")" '[a["id"] for a in d["data"]["addresses"]]')" "[$addr_id]" "and its addresses"
a=$(as eve GET /api/v2/ip-pools)
is "$(jget "$a" 'd["data"]["ip_pools"]') $(code "$(as eve GET "/api/v2/ip-pools/$pool")") $(code "$(as eve GET /api/v2/organizations/acme/ip-pools)")" \
	"[] 404 NotFound 404 NotFound" "eve sees no pool of acme"

a=$(as alice PATCH $S "{\"ip_pool\": \"$pool\"}")
is "$(code "$a") $(jget "$a" 'd["data"]["server"]["ip_pool"]')" "200  $pool" "alice gives acme/mail the pool"
is "$(sql "SELECT p.uuid FROM servers s JOIN ip_pools p ON p.id = s.ip_pool_id WHERE s.id = $server_id")" "$pool" "the database agrees"
a=$(as alice PATCH $S "{\"ip_pool\": \"$pool2\"}")
is "$(errors "$a") $(field "$a" ip_pool)" "400 ValidationError ip_pool is not an IP pool of this organization" "a pool not assigned to acme is refused"
is "$(code "$(as carol PATCH $S "{\"ip_pool\": null}")")" "403 Forbidden" "a member may not change the server's pool"

a=$(as alice POST /api/v2/organizations/acme/ip-pool-rules "{\"ip_pool\": \"$pool\", \"from\": [\"*@example.com\", \"news.example.com\"]}")
org_rule=$(jget "$a" 'd["data"]["rule"]["uuid"]')
is "$(code "$a") $(jget "$a" '"%s %s %s" % (d["data"]["rule"]["ip_pool"]["name"], d["data"]["rule"]["from"], d["data"]["rule"]["to"])')" \
	"201  Main ['*@example.com', 'news.example.com'] []" "an organization rule by sender"
a=$(as alice POST $S/ip-pool-rules "{\"ip_pool\": \"$pool\", \"to\": [\"gmail.com\"]}")
is "$(code "$a") $(sql "SELECT CONCAT(COALESCE(from_text, 'NULL'), ' ', to_text) FROM ip_pool_rules WHERE server_id = $server_id")" "201  NULL gmail.com" \
	"a server rule by recipient"
a=$(as alice POST $S/ip-pool-rules "{\"ip_pool\": \"$pool2\", \"from\": [\"a b\"]}")
is "$(errors "$a")" "400 ValidationError from ip_pool" "a pattern with a space and a pool acme lacks: one error each"
is "$(field "$(as alice POST $S/ip-pool-rules "{\"ip_pool\": \"$pool\"}")" from)" "a rule needs at least one pattern in from or to" \
	"a rule without patterns is refused"
is "$(code "$(as carol POST /api/v2/organizations/acme/ip-pool-rules "{\"ip_pool\": \"$pool\", \"to\": [\"x.example\"]}")") $(jget "$(as bob GET /api/v2/organizations/acme/ip-pool-rules)" 'len(d["data"]["rules"])')" \
	"403 Forbidden 1" "a member may not add rules; readonly bob reads them"
a=$(as alice PATCH "/api/v2/organizations/acme/ip-pool-rules/$org_rule" '{"to": ["example.org"]}')
is "$(code "$a") $(jget "$a" '"%s %s" % (d["data"]["rule"]["from"], d["data"]["rule"]["to"])')" "200  ['*@example.com', 'news.example.com'] ['example.org']" \
	"PATCH a rule's recipients, keeping its senders"

srv_rule=$(sql "SELECT uuid FROM ip_pool_rules WHERE server_id = $server_id")
is "$(code "$(as carol DELETE "$S/ip-pool-rules/$srv_rule")") $(code "$(as alice DELETE "$S/ip-pool-rules/$srv_rule")") $(sql "SELECT COUNT(*) FROM ip_pool_rules WHERE uuid = '$srv_rule'")" \
	"403 Forbidden 200  0" "a member may not delete a server rule; an admin does"
a=$(as root PATCH "/api/v2/ip-pools/$pool" '{"name": "Main pool", "default": true}')
is "$(code "$a") $(sql "SELECT GROUP_CONCAT(name) FROM ip_pools WHERE is_default = 1")" "200  Main pool" "the admin renames a pool and makes it the default"
a=$(as root DELETE "/api/v2/ip-pools/$pool/organizations/acme")
is "$(code "$a") $(sql "SELECT CONCAT(COUNT(*), ' ', (SELECT COUNT(*) FROM ip_pool_rules)) FROM servers WHERE ip_pool_id IS NOT NULL")" \
	"200  0 0" "taking the pool from acme takes it from its server and deletes the rules that chose it"
is "$(code "$(as root DELETE "/api/v2/ip-pools/$pool2/addresses/$addr_id")") $(code "$(as alice DELETE "/api/v2/ip-pools/$pool/addresses/$addr_id")")" \
	"404 NotFound 403 Forbidden" "an address is deleted only through its own pool, only by the admin"
is "$(code "$(as alice DELETE "/api/v2/ip-pools/$pool")") $(code "$(as root DELETE "/api/v2/ip-pools/$pool")")" "403 Forbidden 200 " \
	"only the installation admin deletes a pool"
is "$(sql "SELECT COUNT(*) FROM ip_pools WHERE uuid = '$pool'") $(sql "SELECT COUNT(*) FROM ip_addresses WHERE id = $addr_id")" "0 0" \
	"the pool and its addresses are gone"

# ---------------------------------------------------------------- suppression list

a=$(as carol POST $S/suppressions '{"address": "Blocked@Example.NET", "reason": "asked us to stop", "keep_days": 30}')
is "$(code "$a") $(jget "$a" '"%(address)s %(source)s %(reason)s" % d["data"]["suppression"]')" "201  blocked@example.net api asked us to stop" \
	"member carol suppresses an address (lower-cased)"
is "$(sql "SELECT DATEDIFF(keep_until, UTC_TIMESTAMP()) FROM suppressions WHERE server_id = $server_id AND address = 'blocked@example.net'")" 30 \
	"kept for 30 days"
a=$(as alice POST $S/suppressions '{"address": "blocked@example.net", "reason": "still"}')
is "$(code "$a") $(sql "SELECT CONCAT(reason, ' ', keep_until IS NULL) FROM suppressions WHERE address = 'blocked@example.net'")" "200  still 1" \
	"adding it again: 200, the reason and keep time replaced"
a=$(as alice POST $S/suppressions $'{"address": "not-an-address", "reason": "two\\nlines", "keep_days": 0}')
is "$(errors "$a")" "400 ValidationError address keep_days reason" "a bad address, reason and keep_days: one error each"
is "$(code "$(as bob POST $S/suppressions '{"address": "x@example.org"}')") $(code "$(as eve GET $S/suppressions)")" "403 Forbidden 404 NotFound" \
	"readonly bob may not add; eve cannot list"

csv=$HARNESS_DIR/import.csv
{
	printf 'Email,Reason\r\n'
	printf 'one@example.org,bounced\r\n'
	printf '"Two@Example.ORG","said ""stop"", twice"\r\n'
	printf '\r\n'
	printf 'blocked@example.net,already there\r\n'
	printf 'one@example.org,duplicate line\r\n'
	printf 'no-at-sign\r\n'
	printf 'x@localhost\r\n'
	printf 'bad\xffbyte@example.org\r\n'
	printf "robert');DROP/**/TABLE/**/suppressions;--@example.org\r\n"
	printf 'three@example.org'
} >"$csv"
a=$(upload alice POST "$S/suppressions/import" "$csv" text/csv)
is "$(code "$a") $(jget "$a" '"%(added)s %(already_present)s %(invalid_count)s" % d["data"]')" "200  3 2 4" \
	"a CSV import: 3 added, 2 already there (one from before, one repeated), 4 invalid"
is "$(jget "$a" '" ".join("%(line)s" % x for x in d["data"]["invalid"])')" "7 8 9 10" "the invalid lines are named by number"
is "$(jget "$a" '"%s / %s" % (d["data"]["invalid"][2]["value"] == "bad\ufffdbyte@example.org", d["data"]["invalid"][2]["error"])')" "True / is not valid UTF-8" \
	"a line with bad UTF-8 is shown with the bad byte replaced, and says why"
like "$(jget "$a" 'd["data"]["invalid"][3]["error"]')" "local part" "SQL metacharacters in an address are an invalid line, not an error"
is "$(sql "SELECT GROUP_CONCAT(CONCAT(address, '=', reason, '=', source) ORDER BY address SEPARATOR ' ') FROM suppressions WHERE server_id = $server_id AND source = 'import'")" \
	'one@example.org=bounced=import three@example.org=Imported=import two@example.org=said "stop", twice=import' \
	"the database has the three, with the CSV's reasons (quoted fields too)"
a=$(as alice POST "$S/suppressions/import" '{"addresses": ["Four@example.org", 5, "bad"], "reason": "list cleanup", "keep_days": 7}')
is "$(code "$a") $(jget "$a" '"%s %s %s" % (d["data"]["added"], d["data"]["invalid_count"], [x["line"] for x in d["data"]["invalid"]])')" \
	"200  1 2 [2, 3]" "a JSON import: one added, a number and a bad address invalid"
is "$(sql "SELECT CONCAT(reason, ' ', DATEDIFF(keep_until, UTC_TIMESTAMP())) FROM suppressions WHERE address = 'four@example.org'")" "list cleanup 7" \
	"with its reason and keep_days"
seq 1 20000 | sed 's/.*/bulk&@example.com/' >"$HARNESS_DIR/bulk.csv"
start=$(date +%s%N)
a=$(upload alice POST "$S/suppressions/import" "$HARNESS_DIR/bulk.csv" text/csv)
note "imported 20000 addresses in $(( ($(date +%s%N) - start) / 1000000 )) ms"
is "$(code "$a") $(jget "$a" '"%(added)s %(already_present)s %(invalid_count)s" % d["data"]')" "200  20000 0 0" "20000 lines (20 batches) in one import"
is "$(sql "SELECT COUNT(*) FROM suppressions WHERE server_id = $server_id AND address LIKE 'bulk%'")" 20000 "all of them are in the database"
seq 1 100001 | sed 's/.*/x@example.org/' >"$HARNESS_DIR/toolong.csv"
a=$(upload alice POST "$S/suppressions/import" "$HARNESS_DIR/toolong.csv" text/csv)
is "$(errors "$a") $(sql "SELECT COUNT(*) FROM suppressions WHERE address = 'x@example.org'")" "400 ValidationError body 0" \
	"more than 100000 lines: refused before anything is added"
is "$(code "$(upload alice POST "$S/suppressions/import" "$csv" application/xml)") $(code "$(upload bob POST "$S/suppressions/import" "$csv" text/csv)")" \
	"415 UnsupportedMediaType 403 Forbidden" "an unknown body type: 415; readonly bob: 403"
a=$(curl -sS -X POST -H 'Content-Type: text/csv' --data-binary "@$csv" -b "$(jar alice)" -w '\n%{http_code}' "$base$S/suppressions/import")
is "$(code "$a")" "403 CSRFTokenInvalid" "a cookie import without the CSRF token: 403"

a=$(as bob GET "$S/suppressions?search=EXAMPLE.ORG&limit=3")
next=$(jget "$a" 'd["data"]["next_before"]')
is "$(code "$a") $(jget "$a" '" ".join(x["address"] for x in d["data"]["suppressions"])')" "200  four@example.org three@example.org two@example.org" \
	"search (case-insensitive) with pages, newest first"
is "$(jget "$(as bob GET "$S/suppressions?search=example.org&limit=3&before=$next")" '" ".join(x["address"] for x in d["data"]["suppressions"])')" \
	"one@example.org" "the next page"
is "$(jget "$(as bob GET "$S/suppressions?search=%25")" 'len(d["data"]["suppressions"])')" 0 "a % in the search matches a literal %"

# ---------------------------------------------------------------- the suppression list holds mail

key=$(jget "$(as alice POST $S/credentials '{"type": "SMTP", "name": "app"}')" 'd["data"]["credential"]["key"]')
like "$key" '^[A-Za-z0-9]{24}$' "an SMTP credential for sending"
send() { # TO SUBJECT
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail --auth-password "$key" \
		--from app@example.com --to "$1" --h-From "App <app@example.com>" --h-Subject "$2" 2>&1 || true
}
sink_file() { instance_sink_find "$1"; }
subject="suppressed $run_id"
out=$(send Blocked@Example.NET "$subject")
like "$out" '250 2.0.0 Ok' "mail to the suppressed address is accepted from the client"
is "$(sql "SELECT CONCAT(status, ':', hold_reason) FROM messages WHERE subject = '$subject'")" \
	"Held:Recipient is on the suppression list (still)" "and recorded as Held with the suppression's reason"
sleep 2
is "$(instance_sink_count "$subject")" 0 "it does not reach the sink"
subject="bulk $run_id"
out=$(send bulk12345@example.com "$subject")
is "$(sql "SELECT status FROM messages WHERE subject = '$subject'")" "Held" "an imported address holds mail too"
a=$(as alice POST $S/suppressions '{"address": "*@Whole.Example", "reason": "the whole domain asked"}')
is "$(code "$a") $(jget "$a" 'd["data"]["suppression"]["address"]')" "201  *@whole.example" "a domain-wide entry, *@domain"
subject="wholedomain $run_id"
out=$(send "Anyone@whole.example,someone@sub.whole.example" "$subject")
is "$(sql "SELECT GROUP_CONCAT(rcpt_to, '=', status, ':', IFNULL(hold_reason, '') ORDER BY rcpt_to) FROM messages WHERE subject = '$subject'")" \
	"Anyone@whole.example=Held:Recipient is on the suppression list (the whole domain asked),someone@sub.whole.example=Pending:" \
	"... holds mail to any address at that domain, with its reason, and not at its subdomains"
is "$(code "$(as alice DELETE "$S/suppressions/%2A@whole.example")") $(sql "SELECT COUNT(*) FROM suppressions WHERE address = '*@whole.example'")" \
	"200  0" "... and is removed like any entry"

a=$(as carol DELETE "$S/suppressions/Blocked@Example.NET")
is "$(code "$a") $(jget "$a" 'd["data"]["address"]')" "200  blocked@example.net" "member carol removes the address (by address, any case)"
is "$(sql "SELECT COUNT(*) FROM suppressions WHERE address = 'blocked@example.net'")" 0 "it is gone from the database"
subject="unsuppressed $run_id"
out=$(send blocked@example.net "$subject")
is "$(sql "SELECT status FROM messages WHERE subject = '$subject'")" "Pending" "mail to it is no longer held"
if harness_wait_for 30 sink_file "$subject" >/dev/null; then ok 0 "it reaches the sink"; else ok 1 "it reaches the sink"; fi
four=$(sql "SELECT id FROM suppressions WHERE address = 'four@example.org'")
is "$(code "$(as bob DELETE "$S/suppressions/$four")") $(code "$(as eve DELETE "$S/suppressions/$four")")" "403 Forbidden 404 NotFound" \
	"readonly bob may not remove one; eve gets 404"
is "$(code "$(as alice DELETE "$S/suppressions/$four")") $(sql "SELECT COUNT(*) FROM suppressions WHERE id = $four")" "200  0" "alice removes one by id"
is "$(code "$(as alice DELETE "$S/suppressions/$four")") $(code "$(as alice GET "$S/suppressions/nobody@example.org")")" "404 NotFound 404 NotFound" \
	"removing it again, or reading an address not on the list: 404"
is "$(jget "$(as bob GET "$S/suppressions/two@example.org")" 'd["data"]["suppression"]["reason"]')" 'said "stop", twice' "GET one entry by address"
