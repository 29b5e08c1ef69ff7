#!/bin/bash
#
# mgmt_v2_track.t -- the management API v2 for a server's track domains, end to end:
# create (with the CNAME to publish), list, change, delete; per-field errors; readonly
# reads only; an outsider gets 404; and a track domain made through the API really
# rewrites the links of mail the server sends (through the private Postfix and milter).
#
# Must never: believe an answer about a change without looking at the database.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
plan 18

harness_start_admin
base=$HARNESS_ADMIN_URL
mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser bob@example.test 'B0b-pass-phrase!'
mkuser eve@example.test 'Ev3-pass-phrase!'
login() { # NAME EMAIL PASSWORD
	local a
	a=$(call POST /api/v2/session "{\"email\": \"$2\", \"password\": \"$3\"}" -c "$(jar "$1")")
	printf -v "csrf_$1" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]')"
}
login alice alice@example.test 'Al1ce-pass-phrase'
login bob bob@example.test 'B0b-pass-phrase!'
login eve eve@example.test 'Ev3-pass-phrase!'
run_id=$(instance_random_hex 4)

as alice POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}' >/dev/null
as alice POST /api/v2/organizations/acme/servers '{"name": "Mail", "permalink": "mail"}' >/dev/null
as alice POST /api/v2/organizations/acme/members '{"email": "bob@example.test", "role": "readonly"}' >/dev/null
S=/api/v2/organizations/acme/servers/mail
as alice POST $S/domains '{"name": "example.com"}' >/dev/null
sql "UPDATE domains SET verified_at = UTC_TIMESTAMP() WHERE name = 'example.com'"

a=$(as alice POST $S/track-domains '{"name": "click", "domain": "example.com", "excluded_click_domains": ["Example.org"]}')
is "$(code "$a")" "201 " "POST track-domains: 201"
is "$(body "$a" | j '"%s %s %s %s %s" % (d["data"]["track_domain"]["host"], d["data"]["track_domain"]["ssl"], d["data"]["track_domain"]["track_clicks"], d["data"]["track_domain"]["excluded_click_domains"], d["data"]["track_domain"]["dns_record"]["type"])')" \
	"click.example.com True True ['example.org'] CNAME" "the answer: host, defaults, excluded domains lower-cased, the CNAME to publish"
uuid=$(body "$a" | j 'd["data"]["track_domain"]["uuid"]')
is "$(sql "SELECT CONCAT(name, ' ', ssl_enabled, ' ', REPLACE(excluded_click_domains, '\n', ',')) FROM track_domains WHERE uuid = '$uuid'")" \
	"click 1 example.org" "the database has it"
is "$(code "$(as alice POST $S/track-domains '{"name": "click", "domain": "example.com"}')")" "400 ValidationError" \
	"the same name again: a validation error"
a=$(as alice POST $S/track-domains '{"name": "bad label!", "domain": "nowhere.example", "ssl": "yes", "excluded_click_domains": ["../x"], "color": 1}')
is "$(body "$a" | j '",".join(sorted(d["data"]["errors"]))')" "color,excluded_click_domains,ssl" \
	"per-field errors: unknown field, a bad excluded domain, a non-boolean"
is "$(code "$(as alice POST $S/track-domains '{"name": "go", "domain": "nowhere.example"}')")" "400 ValidationError" \
	"a domain the server does not have: refused"
is "$(body "$(as bob GET $S/track-domains)" | j '" ".join(x["host"] for x in d["data"]["track_domains"])')" \
	"click.example.com" "readonly bob lists it"
is "$(code "$(as bob PATCH $S/track-domains/$uuid '{"ssl": false}')")" "403 Forbidden" "readonly bob cannot change it"
is "$(code "$(as eve GET $S/track-domains)")" "404 NotFound" "an outsider gets 404"
unlike "$(as eve GET $S/track-domains/$uuid)" 'click\.example|track_domain"' "... and no data"
a=$(as alice PATCH $S/track-domains/$uuid '{"ssl": false, "excluded_click_domains": []}')
is "$(body "$a" | j '"%s %s" % (d["data"]["track_domain"]["ssl"], d["data"]["track_domain"]["excluded_click_domains"])')" \
	"False []" "PATCH changes ssl and clears the exclusions"
is "$(sql "SELECT CONCAT(ssl_enabled, ' ', IFNULL(excluded_click_domains, 'NULL')) FROM track_domains WHERE uuid = '$uuid'")" \
	"0 NULL" "... in the database"

# Mail through the milter uses it.
key=$(body "$(as alice POST $S/credentials '{"type": "SMTP", "name": "app"}')" | j 'd["data"]["credential"]["key"]')
subject="tracked $run_id"
timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user x --auth-password "$key" \
	--from app@example.com --to someone@example.net --h-From "App <app@example.com>" --h-Subject "$subject" \
	--add-header 'Content-Type: text/html; charset=utf-8' \
	--body '<html><body><a href="https://shop.example.net/item?id=1">buy</a></body></html>' >/dev/null 2>&1 || true
harness_wait_for 30 instance_sink_find "$subject" >/dev/null || true
f=$(instance_sink_find "$subject" || true)
like "$(cat "$f" 2>/dev/null)" 'href="http://click\.example\.com/[a-z0-9]+/[A-Za-z0-9]{16}"' \
	"mail from example.com has its link rewritten through click.example.com (http: ssl is off)"
is "$(sql "SELECT l.url FROM links l JOIN messages m ON m.id = l.message_id WHERE m.subject = '$subject'")" \
	"https://shop.example.net/item?id=1" "... and the link is stored"

is "$(code "$(as alice DELETE $S/track-domains/$uuid)")" "200 " "DELETE: 200"
is "$(sql "SELECT COUNT(*) FROM track_domains WHERE uuid = '$uuid'")" 0 "... gone from the database"
is "$(code "$(as alice DELETE $S/track-domains/$uuid)")" "404 NotFound" "a second DELETE: 404"
is "$(code "$(as alice GET $S/track-domains/not-a-uuid)")" "404 NotFound" "a malformed uuid: 404"
