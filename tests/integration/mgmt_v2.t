#!/bin/bash
#
# mgmt_v2.t -- the management API v2 of postgate-admin, end to end against a private
# MariaDB with curl: logins (right, wrong, throttled per address and per account),
# session cookies (flags, hashed storage, logout), CSRF on cookie-authenticated writes,
# personal Bearer tokens (shown once, hashed, revoked, last use recorded), roles
# (owner, admin, member, readonly, installation admin, outsiders who must get 404),
# organizations, members and servers with per-field validation, SQL metacharacters,
# bad UTF-8, bad JSON, wrong content type, oversized bodies, the router's patterns and
# 405s, and a MariaDB outage (503, then recovery).
#
# Must never: believe an answer about a change without looking at the database, pass
# on an answer it did not parse, or leave postgate-admin running.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb
plan 80

HARNESS_CTL=${HARNESS_CTL:-"$POSTGATE_BUILDDIR/ctl/postgatectl -c $HARNESS_CONFIG"}
out=$($HARNESS_CTL initialize 2>&1) || harness_setup_failed "postgatectl initialize: $out"

# ---------------------------------------------------------------- postgate-admin

harness_start_admin
admin_pid=$HARNESS_ADMIN_PID admin_log=$HARNESS_ADMIN_LOG base=$HARNESS_ADMIN_URL

pw_admin='Adm1n-pass-phrase' pw_alice='Al1ce-pass-phrase' pw_bob='B0b-pass-phrase!'
mkuser root@example.test "$pw_admin" --admin
mkuser alice@example.test "$pw_alice"
mkuser bob@example.test "$pw_bob"
mkuser carol@example.test 'Car0l-pass-phrase'
mkuser dave@example.test 'Dav3-pass-phrase'

# ---------------------------------------------------------------- helpers

# j EXPR: a Python expression over the JSON document d from stdin ("PARSE-ERROR" if not JSON).
# As a user: cookie jar + CSRF token (as). As a Bearer token (bearer).
login() { # NAME EMAIL PASSWORD: logs in with NAME's jar (and any cookie in it), sets csrf_NAME
	local a
	a=$(call POST /api/v2/session "{\"email\": \"$2\", \"password\": \"$3\"}" -b "$(jar "$1")" -c "$(jar "$1")" -H 'X-Forwarded-For: 192.0.2.50')
	printf -v "csrf_$1" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]')"
	printf '%s' "$a"
}

# ---------------------------------------------------------------- 1-8: router and logins

like "$(call GET /health)" $'"status":"ok"}\n200$' "exact routes keep working (/health)"
out=$(curl -sS -i --max-time 10 -X PUT "$base/api/v2/organizations/acme" 2>&1 || true)
like "$out" $'^HTTP/1\\.1 405.*\r\nAllow: GET, PATCH, DELETE\r' "a {} route with another method: 405 with Allow"
is "$(code "$(call GET /api/v2/organizations/acme/servers/mail/extra)")" "404 NotFound" "a path one segment too long: 404"
is "$(code "$(call GET /api/v2/organizations)")" "401 AuthenticationRequired" "no cookie, no token: 401 AuthenticationRequired"

a=$(call POST /api/v2/session "{\"email\": \"alice@example.test\", \"password\": \"wrong-$pw_alice\"}")
is "$(code "$a")" "401 InvalidCredentials" "a wrong password: 401 InvalidCredentials"
b=$(call POST /api/v2/session '{"email": "nobody@example.test", "password": "whatever-it-is"}')
is "$(body "$b")" "$(body "$a")" "an unknown account gets exactly the same answer"

out=$(curl -sS -i --max-time 30 -c "$(jar alice)" -H 'Content-Type: application/json' -H 'X-Forwarded-For: 192.0.2.50' \
	--data-binary "{\"email\": \"ALICE@example.test\", \"password\": \"$pw_alice\"}" "$base/api/v2/session" 2>&1 || true)
cookie_line=$(grep -i '^Set-Cookie: postgate_session=' <<<"$out" | tr -d '\r' || true)
like "$cookie_line" '^Set-Cookie: postgate_session=[A-Za-z0-9]{43}; Path=/; HttpOnly; SameSite=Strict$' \
	"login (any case of the address): cookie with Path=/, HttpOnly, SameSite=Strict, no Secure over plain HTTP"
csrf_alice=$(j 'd["data"]["csrf_token"]' <<<"${out#*$'\r\n\r\n'}")
like "$csrf_alice" '^[0-9a-f]{64}$' "login answers the session's CSRF token"

# ---------------------------------------------------------------- 9-14: sessions

session=$(awk '$6 == "postgate_session" {print $7}' "$(jar alice)")
is "$(sql "SELECT COUNT(*) FROM user_sessions WHERE token_hash = SHA2('$session', 256) AND csrf_token_hash = SHA2('$csrf_alice', 256)")" 1 \
	"the session and its CSRF token are stored only as SHA-256"
is "$(sql "SELECT COUNT(*) FROM user_sessions WHERE token_hash = '$session' OR csrf_token_hash = '$csrf_alice'")" 0 \
	"neither is stored in clear"
a=$(as alice GET /api/v2/session)
is "$(body "$a" | j '"%s %s %s" % (d["data"]["user"]["email"], d["data"]["via"], d["data"]["csrf_token"])')" \
	"alice@example.test session $csrf_alice" "GET /api/v2/session: the user and the same CSRF token"
unlike "$(body "$a")" 'password|hash' "no password hash in the session's answer"
out=$(curl -sS -i --max-time 30 -H 'Content-Type: application/json' -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-For: 192.0.2.51' \
	--data-binary "{\"email\": \"alice@example.test\", \"password\": \"$pw_alice\"}" "$base/api/v2/session" 2>&1 || true)
like "$(grep -i '^Set-Cookie:' <<<"$out" | tr -d '\r' || true)" '; HttpOnly; SameSite=Strict; Secure$' \
	"X-Forwarded-Proto: https from a trusted proxy: the cookie is Secure"
out=$(curl -sS -i --max-time 30 -H 'Content-Type: application/json' --data-binary '{"email": "alice@example.test"}' \
	"$base/api/v2/session" 2>&1 || true)
like "$(tr -d '\r' <<<"$out")" '"errors":\{"password":\["is required"\]\}' "login without a password: 400 naming the field"

# ---------------------------------------------------------------- 15-22: CSRF, organizations

orgs() { sql "SELECT COUNT(*) FROM organizations WHERE permalink = 'acme'"; }
a=$(call POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}' -b "$(jar alice)")
is "$(code "$a")|$(orgs)" "403 CSRFTokenInvalid|0" "a cookie POST without X-CSRF-Token: 403, nothing created"
# A wrong token: the right one with its last digit changed (always to a different digit).
if [ "${csrf_alice: -1}" = 0 ]; then wrong_csrf="${csrf_alice%?}1"; else wrong_csrf="${csrf_alice%?}0"; fi
a=$(call POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}' -b "$(jar alice)" -H "X-CSRF-Token: $wrong_csrf")
is "$(code "$a")|$(orgs)" "403 CSRFTokenInvalid|0" "a cookie POST with a wrong X-CSRF-Token: 403, nothing created"
a=$(as alice POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}')
is "$(code "$a")|$(orgs)" "201 |1" "with the CSRF token: 201, created"
is "$(body "$a" | j 'd["data"]["organization"]["role"]')|$(sql "SELECT ou.role, o.owner_id = u.id FROM organization_users ou JOIN users u ON u.id = ou.user_id JOIN organizations o ON o.id = ou.organization_id WHERE o.permalink = 'acme' AND u.email = 'alice@example.test'")" \
	"owner|owner	1" "the creator is the organization's owner"
like "$(body "$a" | j 'd["data"]["organization"]["uuid"]')" '^[0-9a-f-]{36}$' "objects carry their uuid"
is "$(code "$(as alice POST /api/v2/organizations '{"name": "Acme 2", "permalink": "acme"}')")" "409 PermalinkTaken" \
	"a taken permalink: 409 PermalinkTaken"
a=$(as alice POST /api/v2/organizations '{"name": "", "permalink": "Bad Link", "time_zone": "../etc", "colour": 1}')
is "$(code "$a")|$(body "$a" | j '",".join(sorted(d["data"]["errors"]))')" "400 ValidationError|colour,name,permalink,time_zone" \
	"organization validation: 400 with an error per field"
is "$(code "$(as alice POST /api/v2/organizations '{"name": "X", "permalink": "admin"}')")" "400 ValidationError" \
	"a reserved permalink is refused"

# ---------------------------------------------------------------- 23-30: personal API tokens

a=$(as alice POST /api/v2/user/tokens '{"name": "ci"}')
token=$(body "$a" | j 'd["data"]["token"]["token"]')
token_uuid=$(body "$a" | j 'd["data"]["token"]["uuid"]')
like "$(status "$a") $token" '^201 pgt_[A-Za-z0-9]{40}$' "POST /api/v2/user/tokens: 201 with the token, once"
is "$(sql "SELECT COUNT(*) FROM user_api_tokens WHERE token_hash = SHA2('$token', 256) AND token_prefix = '${token:0:12}'")|$(sql "SELECT COUNT(*) FROM user_api_tokens WHERE token_hash = '$token'")" \
	"1|0" "the token is stored as SHA-256 with a short prefix"
a=$(as alice GET /api/v2/user/tokens)
is "$(body "$a" | j '"%d %s %s" % (len(d["data"]["tokens"]), "token" in d["data"]["tokens"][0], d["data"]["tokens"][0]["prefix"])')" \
	"1 False ${token:0:12}" "GET /api/v2/user/tokens lists the token without its secret"
a=$(bearer "$token" PATCH /api/v2/organizations/acme '{"name": "Acme Ltd"}')
is "$(code "$a")|$(sql "SELECT name FROM organizations WHERE permalink = 'acme'")" "200 |Acme Ltd" \
	"a Bearer token writes without a CSRF token"
a=$(as alice POST /api/v2/user/tokens '{"name": "spare"}')
token2=$(body "$a" | j 'd["data"]["token"]["token"]')
is "$(code "$(as alice DELETE "/api/v2/user/tokens/$token_uuid")")" "200 " "DELETE /api/v2/user/tokens/{uuid} revokes"
is "$(code "$(bearer "$token" GET /api/v2/organizations)")" "401 AuthenticationRequired" "a revoked token: 401"
is "$(code "$(bearer "pgt_${token:4:39}" GET /api/v2/organizations)")" "401 AuthenticationRequired" "a malformed token: 401"
is "$(code "$(bearer "$token2" GET /api/v2/session)")" "200 " "another token of the same user still works"

# ---------------------------------------------------------------- 31-42: outsiders, roles

login bob bob@example.test "$pw_bob" >/dev/null
a=$(as bob POST /api/v2/organizations '{"name": "Bob Co", "permalink": "bobco"}')
is "$(code "$a")" "201 " "any logged-in user may create an organization"
nf=$(as bob GET /api/v2/organizations/no-such-org)
is "$(code "$nf")" "404 NotFound" "an organization that does not exist: 404"
is "$(as bob GET /api/v2/organizations/acme)" "$nf" "another organization's user: GET the organization is the same 404"
a=$(as bob PATCH /api/v2/organizations/acme '{"name": "pwned"}')
is "$(code "$a")|$(sql "SELECT name FROM organizations WHERE permalink = 'acme'")" "404 NotFound|Acme Ltd" \
	"another organization's user: PATCH is 404 and changes nothing"
is "$(code "$(as bob GET /api/v2/organizations/acme/servers)")" "404 NotFound" "... servers of it: 404"
is "$(code "$(as bob DELETE /api/v2/organizations/acme)")|$(sql "SELECT deleted_at IS NULL FROM organizations WHERE permalink = 'acme'")" \
	"404 NotFound|1" "... DELETE of it: 404, not deleted"
is "$(as bob GET /api/v2/organizations | sed '$d' | j '[o["permalink"] for o in d["data"]["organizations"]]')" '["bobco"]' \
	"GET /api/v2/organizations: only the user's own"
login root root@example.test "$pw_admin" >/dev/null
is "$(as root GET /api/v2/organizations | sed '$d' | j '" ".join(sorted(o["permalink"] + ":" + o["role"] for o in d["data"]["organizations"]))')" \
	"acme:owner bobco:owner" "an installation admin sees every organization, as owner"

is "$(code "$(as alice POST /api/v2/organizations/acme/members '{"email": "Carol@example.test", "role": "readonly"}')")" "201 " \
	"an owner adds a readonly member (by address, any case)"
as alice POST /api/v2/organizations/acme/members '{"email": "dave@example.test", "role": "member"}' >/dev/null
is "$(code "$(as alice POST /api/v2/organizations/acme/members '{"email": "dave@example.test", "role": "admin"}')")" "409 AlreadyMember" \
	"adding a member twice: 409"
is "$(code "$(as alice PATCH /api/v2/organizations/acme/members/alice@example.test '{"role": "admin"}')")|$(sql "SELECT role FROM organization_users ou JOIN users u ON u.id = ou.user_id WHERE u.email = 'alice@example.test'")" \
	"409 LastOwner|owner" "the last owner cannot step down"

# ---------------------------------------------------------------- 43-56: servers

a=$(as alice POST /api/v2/organizations/acme/servers '{"name": "", "permalink": "Bad!", "mode": "Test", "send_limit": -1, "spam_threshold": "high", "allow_sender": "yes"}')
is "$(code "$a")|$(body "$a" | j '",".join(sorted(d["data"]["errors"]))')" \
	"400 ValidationError|allow_sender,mode,name,permalink,send_limit,spam_threshold" "server create: 400 with an error per field"
is "$(sql "SELECT COUNT(*) FROM servers")" 0 "... and nothing created"
sqlname="Robert'); DROP TABLE servers;-- \\\"q\\\" \\\\ %_ \` ü"
a=$(as alice POST /api/v2/organizations/acme/servers "{\"name\": \"$sqlname\", \"permalink\": \"mail\", \"mode\": \"Development\", \"send_limit\": 500, \"message_retention_days\": 90}")
is "$(code "$a")|$(body "$a" | j '"%s %s %s %s" % (d["data"]["server"]["mode"], d["data"]["server"]["send_limit"], d["data"]["server"]["message_retention_days"], d["data"]["server"]["organization"])')" \
	"201 |Development 500 90 acme" "server create: 201 with the settings"
is "$(as alice GET /api/v2/organizations/acme/servers/mail | sed '$d' | j 'd["data"]["server"]["name"]')" \
	"Robert'); DROP TABLE servers;-- \"q\" \\ %_ \` ü" "SQL metacharacters and non-ASCII in a name round-trip"
is "$(sql "SELECT COUNT(*) FROM servers WHERE name LIKE 'Robert%'")" 1 "... stored as given"
is "$(code "$(as alice POST /api/v2/organizations/acme/servers '{"name": "Again", "permalink": "mail"}')")" "409 PermalinkTaken" \
	"a taken server permalink: 409"
a=$(as alice PATCH /api/v2/organizations/acme/servers/mail '{"mode": "Live", "raw_message_retention_days": 0}')
is "$(code "$a")|$(body "$a" | j '",".join(sorted(d["data"]["errors"]))')|$(sql "SELECT mode FROM servers WHERE permalink = 'mail'")" \
	"400 ValidationError|raw_message_retention_days|Development" "server PATCH with one bad value: 400 for that field, nothing applied"
a=$(as alice PATCH /api/v2/organizations/acme/servers/mail '{"mode": "Live", "send_limit": null, "spam_threshold": 7.5, "outbound_spam_threshold": 3, "allow_sender": true, "privacy_mode": true}')
is "$(code "$a")|$(sql "SELECT mode, send_limit IS NULL, spam_threshold, outbound_spam_threshold, allow_sender, privacy_mode FROM servers WHERE permalink = 'mail'")" \
	"200 |Live	1	7.50	3.00	1	1" "server PATCH: 200 and stored"
is "$(body "$a" | j '"%s %s %s %s" % (d["data"]["server"]["send_limit"], d["data"]["server"]["spam_threshold"], d["data"]["server"]["allow_sender"], d["data"]["server"]["privacy_mode"])')" \
	"None 7.5 True True" "... and answered"
is "$(code "$(as alice PATCH /api/v2/organizations/acme/servers/mail '{"suspended": true}')")|$(sql "SELECT suspended_at IS NULL FROM servers WHERE permalink = 'mail'")" \
	"403 Forbidden|1" "an owner cannot suspend: 403"
is "$(code "$(as root PATCH /api/v2/organizations/acme/servers/mail '{"suspended": true}')")|$(sql "SELECT suspended_at IS NULL FROM servers WHERE permalink = 'mail'")" \
	"200 |0" "an installation admin suspends"
is "$(code "$(as bob GET /api/v2/organizations/acme/servers/mail)")" "404 NotFound" "another organization's user: GET a server is 404"
is "$(code "$(as bob PATCH /api/v2/organizations/acme/servers/mail '{"mode": "Development"}')")|$(sql "SELECT mode FROM servers WHERE permalink = 'mail'")" \
	"404 NotFound|Live" "another organization's user: PATCH a server is 404, unchanged"

login carol carol@example.test 'Car0l-pass-phrase' >/dev/null
is "$(as carol GET /api/v2/organizations/acme | sed '$d' | j 'd["data"]["organization"]["role"]')|$(code "$(as carol GET /api/v2/organizations/acme/servers/mail)")" \
	"readonly|200 " "a readonly member can GET the organization and its servers"
is "$(code "$(as carol PATCH /api/v2/organizations/acme/servers/mail '{"mode": "Development"}')")|$(code "$(as carol PATCH /api/v2/organizations/acme '{"name": "ro"}')")|$(sql "SELECT s.mode, o.name FROM servers s JOIN organizations o ON o.id = s.organization_id WHERE s.permalink = 'mail'")" \
	"403 Forbidden|403 Forbidden|Live	Acme Ltd" "a readonly member's PATCH: 403 Forbidden, unchanged"

# ---------------------------------------------------------------- 57-62: members, deletion

login dave dave@example.test 'Dav3-pass-phrase' >/dev/null
is "$(code "$(as dave PATCH /api/v2/organizations/acme/servers/mail '{"send_limit": 1}')")" "403 Forbidden" \
	"a member cannot change server settings"
carol_uuid=$(sql "SELECT uuid FROM users WHERE email = 'carol@example.test'")
is "$(code "$(as dave PATCH "/api/v2/organizations/acme/members/$carol_uuid" '{"role": "admin"}')")" "403 Forbidden" \
	"a member cannot change roles"
is "$(code "$(as alice PATCH "/api/v2/organizations/acme/members/$carol_uuid" '{"role": "admin"}')")|$(sql "SELECT role FROM organization_users WHERE user_id = (SELECT id FROM users WHERE uuid = '$carol_uuid')")" \
	"200 |admin" "an owner changes a role (member by uuid)"
login carol carol@example.test 'Car0l-pass-phrase' >/dev/null
is "$(sql "SELECT COUNT(*) FROM user_sessions WHERE user_id = (SELECT id FROM users WHERE uuid = '$carol_uuid')")" 1 \
	"logging in again with a session cookie ends that session"
is "$(code "$(as carol DELETE /api/v2/organizations/acme)")|$(code "$(as carol PATCH /api/v2/organizations/acme/members/alice@example.test '{"role": "member"}')")" \
	"403 Forbidden|403 Forbidden" "an admin can neither delete the organization nor change an owner"
is "$(as alice GET /api/v2/organizations/acme/members | sed '$d' | j '" ".join(m["email"] + ":" + m["role"] for m in d["data"]["members"])')" \
	"alice@example.test:owner carol@example.test:admin dave@example.test:member" "GET members lists everyone with roles"
is "$(code "$(as bob DELETE /api/v2/organizations/bobco)")|$(sql "SELECT deleted_at IS NOT NULL FROM organizations WHERE permalink = 'bobco'")|$(code "$(as bob GET /api/v2/organizations/bobco)")" \
	"200 |1|404 NotFound" "the owner soft-deletes the organization; it is gone from the API"

# ---------------------------------------------------------------- 63-68: bodies

is "$(code "$(as alice POST /api/v2/organizations '{"name": "X", "permalink": ')")" "400 InvalidJSON" "bad JSON: 400 InvalidJSON"
is "$(code "$(as alice POST /api/v2/organizations "$(printf '{"name": "\xff\xfe", "permalink": "utf"}')")")|$(sql "SELECT COUNT(*) FROM organizations WHERE permalink = 'utf'")" \
	"400 InvalidUTF8|0" "bad UTF-8: 400 InvalidUTF8"
is "$(code "$(curl -sS --max-time 10 -w '\n%{http_code}' -b "$(jar alice)" -H "X-CSRF-Token: $csrf_alice" \
	--data 'name=X&permalink=form' "$base/api/v2/organizations" 2>&1 || true)")|$(sql "SELECT COUNT(*) FROM organizations WHERE permalink = 'form'")" \
	"415 UnsupportedMediaType|0" "a form body: 415"
is "$(code "$(as alice POST /api/v2/organizations '[1, 2]')")" "400 InvalidJSON" "a JSON array: 400 InvalidJSON"
head -c $((40 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$HARNESS_DIR/big.json"
is "$(code "$(curl -sS --max-time 60 -w '\n%{http_code}' -H "Authorization: Bearer $token2" -H 'Content-Type: application/json' \
	--data-binary @"$HARNESS_DIR/big.json" "$base/api/v2/organizations" 2>&1 || true)")" "413 PayloadTooLarge" "a 40 MB body: 413"
is "$(code "$(head -c $((2 * 1024 * 1024)) "$HARNESS_DIR/big.json" | curl -sS --max-time 60 -w '\n%{http_code}' \
	-H "Authorization: Bearer $token2" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
	--data-binary @- "$base/api/v2/organizations" 2>&1 || true)")" "413 PayloadTooLarge" \
	"a 2 MB chunked body: 413 (management bodies stop at 1 MB)"
rm -f "$HARNESS_DIR/big.json"

# ---------------------------------------------------------------- 69-72: throttling, logout

for i in $(seq 1 10); do
	call POST /api/v2/session '{"email": "dave@example.test", "password": "not-daves-password"}' -H "X-Forwarded-For: 198.51.100.$i" >/dev/null
done
out=$(curl -sS -i --max-time 30 -H 'Content-Type: application/json' -H 'X-Forwarded-For: 198.51.100.10' \
	--data-binary '{"email": "dave@example.test", "password": "Dav3-pass-phrase"}' "$base/api/v2/session" 2>&1 || true)
like "$(tr -d '\r' <<<"$out")" $'^HTTP/1\\.1 429 .*\nRetry-After: [1-8]\n.*"code":"TooManyAttempts"' \
	"10 failures for one account from 10 addresses: the account is slowed, so an address that failed waits (429, Retry-After at most 8), even with the right password"
is "$(code "$(call POST /api/v2/session '{"email": "dave@example.test", "password": "Dav3-pass-phrase"}' -H 'X-Forwarded-For: 198.51.100.99')")" "200 " \
	"... but the account is not locked: its owner from an address that has not failed logs in"
for i in $(seq 1 10); do
	call POST /api/v2/session "{\"email\": \"guess$i@example.test\", \"password\": \"guess-guess\"}" -H 'X-Forwarded-For: 203.0.113.77' >/dev/null
done
is "$(code "$(call POST /api/v2/session "{\"email\": \"bob@example.test\", \"password\": \"$pw_bob\"}" -H 'X-Forwarded-For: 203.0.113.77')")|$(code "$(call POST /api/v2/session "{\"email\": \"bob@example.test\", \"password\": \"$pw_bob\"}" -H 'X-Forwarded-For: 203.0.113.78')")" \
	"429 TooManyAttempts|200 " "10 failures from one address over 10 accounts: 429 there, other addresses unaffected"

a=$(as alice DELETE /api/v2/session)
is "$(code "$a")|$(sql "SELECT COUNT(*) FROM user_sessions WHERE token_hash = SHA2('$session', 256)")" "200 |0" "logout ends the session"
is "$(code "$(as alice GET /api/v2/session)")" "401 AuthenticationRequired" "the old cookie no longer works"

# ---------------------------------------------------------------- 73-78: outage, logs, shutdown

instance_mariadb_stop "$HARNESS_DIR/mariadb"
is "$(code "$(bearer "$token2" GET /api/v2/organizations)")" "503 TemporaryFailure" "MariaDB down: 503 TemporaryFailure"
is "$(code "$(call POST /api/v2/session "{\"email\": \"bob@example.test\", \"password\": \"$pw_bob\"}")")" "503 TemporaryFailure" \
	"MariaDB down: a login is 503, not 401"
instance_mariadb_start "$HARNESS_DIR/mariadb" >/dev/null
harness_wait_for 30 harness_admin_healthy || true
is "$(code "$(bearer "$token2" GET /api/v2/organizations)")" "200 " "MariaDB back: the API recovers"
leaks=0
for secret in "$session" "$csrf_alice" "$token" "$token2" "$pw_alice" "$pw_bob" "Dav3-pass-phrase"; do
	grep -qF -- "$secret" "$admin_log" && leaks=$((leaks + 1))
done
is "$leaks" 0 "no session token, CSRF token, API token or password in the log"
like "$(grep -c 'GET /api/v2/organizations 200 .* user [0-9]' "$admin_log")" '^[1-9]' "log lines name the user"
kill -TERM "$admin_pid"
harness_wait_for 15 instance_pid_gone "$admin_pid" && admin_pid=""
is "$admin_pid|$(sql "SELECT last_used_at IS NOT NULL FROM user_api_tokens WHERE token_hash = SHA2('$token2', 256)")" "|1" \
	"SIGTERM: postgate-admin exits and records the tokens' last use (batched)"
