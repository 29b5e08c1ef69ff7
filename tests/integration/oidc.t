#!/bin/bash
#
# oidc.t -- OpenID Connect sign-in against a real provider: npm's oidc-provider run on
# loopback by this test (tests/browser/oidc-provider.mjs), postgate-admin and a private
# MariaDB. The client secret is sealed with `postgatectl seal` (a clear one is refused).
# Driven with curl: the start redirects to the provider with PKCE (S256), state and nonce
# and sets the browser-binding cookie; a good ID token signs in, links the account found
# by its verified e-mail address and removes its local password; a replayed state, a
# state without this browser's cookie, a forged signature, a wrong audience, an expired
# token and a wrong nonce are each refused (tokens minted by the provider script's test
# hook, with a key the test controls for the forged one), each reason in the admin's log;
# a later sign-in matches by subject; an unknown address is refused; a key rotation is
# followed (the JWKS fetched again for an unknown kid); a linked account's password cannot
# be set; a user with a second factor still gives a code; an invitation and make-user
# --no-password need no password;
# and with local authentication off, password sign-in and password changes answer 403.
# Then, where Chromium and playwright-core are installed, the whole flow in the browser
# (tests/browser/oidc.mjs): the login page's button, the provider's own login form, back
# signed in; otherwise those results are skipped, saying why.
#
# Must never: pass on an answer it did not parse, or run without the provider.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

BROWSER_DIR="$POSTGATE_SRCDIR/tests/browser"
command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"
command -v node >/dev/null 2>&1 || skip_all "node missing: run 'packaging/install-deps test' as root"
command -v oathtool >/dev/null 2>&1 || skip_all "oathtool missing: run 'packaging/install-deps test' as root"
[ -f "$BROWSER_DIR/node_modules/oidc-provider/package.json" ] ||
	skip_all "oidc-provider missing: run 'npm ci' in tests/browser (tests/run does)"

harness_setup mariadb
plan 52

HARNESS_CTL=${HARNESS_CTL:-"$POSTGATE_BUILDDIR/ctl/postgatectl -c $HARNESS_CONFIG"}
out=$($HARNESS_CTL initialize 2>&1) || harness_setup_failed "postgatectl initialize: $out"
mkuser root@example.test 'R00t-pass-phrase' --admin
mkuser carol@example.test 'Car0l-pass-phrase'
mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser dave@example.test 'Dav3-pass-phrase!'
admin_log_has() { grep -c -- "$1" "$HARNESS_ADMIN_LOG" || true; }

# ---------------------------------------------------------------- 1-4: the sealed secret
secret='test-client-secret-4711'
sealed=$(printf '%s\n' "$secret" | $HARNESS_CTL seal oidc.secret 2>&1) || true
like "$sealed" '^sealed:[A-Za-z0-9+/]+=*$' "postgatectl seal prints a sealed value"
[[ $sealed != *"$secret"* ]]
ok $? "... which does not hold the secret in clear"
out=$(POSTGATE_OIDC_SECRET="$secret" $HARNESS_CTL config check 2>&1) && rc=0 || rc=$?
like "$rc:$out" '^78:.*oidc\.secret is not sealed' "config check refuses a clear oidc.secret"
out=$(POSTGATE_OIDC_SECRET="$sealed" $HARNESS_CTL config check 2>&1) && rc=0 || rc=$?
is "$rc" 0 "... and takes the sealed one"

# ---------------------------------------------------------------- the provider and the admin
pport=$(instance_free_port) || harness_setup_failed "no free port for the provider"
issuer="http://127.0.0.1:$pport"
cat >>"$HARNESS_CONFIG" <<EOF
oidc: { enabled = true; name = "Test IdP"; issuer = "$issuer"; identifier = "postgate-test";
        secret = "$sealed"; scopes = ["openid", "email", "profile"]; };
EOF
harness_start_admin
base=$HARNESS_ADMIN_URL
# The redirect URI is admin.public_url's: the admin's port is known only now (a reload takes it).
sed -i "s|^admin: { listen|admin: { public_url = \"$base\"; listen|" "$HARNESS_CONFIG"
kill -HUP "$HARNESS_ADMIN_PID"
harness_wait_for 10 grep -q "configuration reloaded" "$HARNESS_ADMIN_LOG" || harness_setup_failed "the admin did not reload"
HARNESS_STARTED+=(oidc-provider)
(cd "$BROWSER_DIR" && instance_spawn "$HARNESS_DIR/oidc-provider.pid" "$HARNESS_DIR/oidc-provider.log" env PORT="$pport" \
	CLIENT_ID=postgate-test CLIENT_SECRET="$secret" REDIRECT_URI="$base/auth/oidc/callback" node oidc-provider.mjs) ||
	harness_setup_failed "the provider did not start"
harness_wait_for 30 grep -q READY "$HARNESS_DIR/oidc-provider.log" ||
	harness_setup_failed "the provider did not start: $(tail -5 "$HARNESS_DIR/oidc-provider.log")"

# ---------------------------------------------------------------- 5-6: the login page's facts
a=$(call GET /api/v2/session/status)
is "$(body "$a" | j 'd["data"]["sign_in"]')" '{"local": true, "oidc": {"name": "Test IdP", "start": "/auth/oidc/start"}}' \
	"session/status tells the login page about the provider's button"
a=$(call POST /api/v2/session '{"email": "carol@example.test", "password": "Car0l-pass-phrase"}')
is "$(status "$a")" 200 "carol still signs in with her password before any link"

# start JAR: the sign-in's redirect; sets $loc, $state, $nonce.
start() {
	rm -f "$(jar "$1")"
	loc=$(curl -sS -o /dev/null -c "$(jar "$1")" -w '%{http_code} %{redirect_url}' "$base/auth/oidc/start")
	state=$(printf '%s' "$loc" | /usr/bin/python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlsplit(sys.stdin.read().split(" ", 1)[1]).query).get("state", [""])[0])')
	nonce=$(printf '%s' "$loc" | /usr/bin/python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlsplit(sys.stdin.read().split(" ", 1)[1]).query).get("nonce", [""])[0])')
}
mode() { # KIND SUB EMAIL [NONCE]: what the provider's token endpoint answers next
	curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
		--data "{\"kind\": \"$1\", \"sub\": \"$2\", \"email\": \"$3\", \"nonce\": \"${4:-$nonce}\"}" "$issuer/test/mode"
}
# callback JAR [STATE]: "STATUS LOCATION session-cookie-set(0/1)"
callback() {
	local h
	h=$(curl -sS -o /dev/null -D - -b "$(jar "$1")" -c "$(jar "$1")" \
		"$base/auth/oidc/callback?code=test-code&state=${2:-$state}" | tr -d '\r')
	printf '%s %s %s' "$(printf '%s\n' "$h" | awk 'NR == 1 { print $2 }')" \
		"$(printf '%s\n' "$h" | awk 'tolower($1) == "location:" { print $2 }')" \
		"$(printf '%s\n' "$h" | grep -c '^Set-Cookie: postgate_session=[A-Za-z0-9]' || true)"
}

# ---------------------------------------------------------------- 7-10: the start
start carol
like "$loc" "^302 $issuer/auth\\?response_type=code&client_id=postgate-test&redirect_uri=http%3A%2F%2F127\\.0\\.0\\.1%3A[0-9]+%2Fauth%2Foidc%2Fcallback&scope=openid%20email%20profile&state=[A-Za-z0-9]{43}&nonce=[A-Za-z0-9]{43}&code_challenge=[A-Za-z0-9_-]{43}&code_challenge_method=S256$" \
	"the start sends the browser to the provider: code flow, PKCE S256, state and nonce"
like "$(grep postgate_oidc "$(jar carol)" | cut -f2,3,4,6,7 | tr '\t' ' ')" "^FALSE /auth/oidc FALSE postgate_oidc $state\$" \
	"... and binds the state to this browser in a cookie for the callback's path"
is "$(sql "SELECT COUNT(*) FROM oidc_logins WHERE state_hash = SHA2('$state', 256) AND nonce = '$nonce'")" 1 \
	"... with a pre-login record holding the state's hash and the nonce"
is "$(sql "SELECT COUNT(*) FROM oidc_logins WHERE state_hash = '$state' OR code_verifier = '$state'")" 0 \
	"... never the state itself"

# ---------------------------------------------------------------- 11-16: a good token links carol
mode good carol-sub carol@example.test
r=$(callback carol)
is "$r" "302 / 1" "a good ID token signs in: a session cookie and back to the web UI"
first_state=$state
a=$(call GET /api/v2/session "" -b "$(jar carol)")
is "$(status "$a") $(body "$a" | j 'd["data"]["user"]["email"]')" "200 carol@example.test" "... as carol"
is "$(sql "SELECT CONCAT(oidc_issuer, ' ', oidc_uid, ' ', password_hash IS NULL) FROM users WHERE email = 'carol@example.test'")" \
	"$issuer carol-sub 1" "... who is now linked to the provider's subject and has no local password"
is "$(admin_log_has "user [0-9]* (carol@example.test) matched by e-mail address and linked to issuer $issuer subject carol-sub")" 1 \
	"... and the admin's log says how she was matched"
a=$(call POST /api/v2/session '{"email": "carol@example.test", "password": "Car0l-pass-phrase"}')
is "$(code "$a")" "401 InvalidCredentials" "... her old password no longer signs in"
is "$(sql "SELECT COUNT(*) FROM oidc_logins WHERE state_hash = SHA2('$state', 256)")" 0 "... and the pre-login record is gone"

# ---------------------------------------------------------------- 17-30: refusals
# A replayed state: the same callback again, the cookie put back.
printf '127.0.0.1\tFALSE\t/auth/oidc\tFALSE\t0\tpostgate_oidc\t%s\n' "$first_state" >>"$(jar carol)"
mode good carol-sub carol@example.test
is "$(callback carol "$first_state")" "302 /login?oidc_error=StateInvalid 0" "a replayed state is refused"
is "$(admin_log_has "callback refused: the state is unknown, used already or expired")" 1 "... and logged"
start other
rm -f "$(jar nocookie)"
is "$(callback nocookie)" "302 /login?oidc_error=StateInvalid 0" "a state without the browser's cookie is refused"
is "$(admin_log_has "not the one this browser's sign-in started with")" 1 "... and logged"

start forged
mode forged carol-sub carol@example.test
is "$(callback forged)" "302 /login?oidc_error=TokenInvalid 0" "a forged ID token (another key under the issuer's kid) is refused"
is "$(admin_log_has "refused (TokenInvalid): the ID token's signature does not verify with key k1")" 1 "... and logged"
start aud
mode wrong_aud carol-sub carol@example.test
is "$(callback aud)" "302 /login?oidc_error=TokenInvalid 0" "an ID token for another audience is refused"
is "$(admin_log_has "refused (TokenInvalid): the ID token's audience is not oidc.identifier postgate-test")" 1 "... and logged"
start expired
mode expired carol-sub carol@example.test
is "$(callback expired)" "302 /login?oidc_error=TokenInvalid 0" "an expired ID token is refused"
is "$(admin_log_has "refused (TokenInvalid): the ID token expired")" 1 "... and logged"
start nonce
mode good carol-sub carol@example.test "$(printf '%043d' 7)"
is "$(callback nonce)" "302 /login?oidc_error=TokenInvalid 0" "an ID token with another sign-in's nonce is refused"
is "$(admin_log_has "refused (TokenInvalid): the ID token's nonce is not the one this sign-in sent")" 1 "... and logged"

start denied
is "$(curl -sS -o /dev/null -b "$(jar denied)" -w '%{http_code} %{redirect_url}' \
	"$base/auth/oidc/callback?error=access_denied%0Aforged-log-line&state=$state")" "302 $base/login?oidc_error=ProviderRefused" \
	"the provider's refusal (error=) sends the browser back to the login page"
is "$(admin_log_has "the provider refused the sign-in: access_denied?forged-log-line")" 1 "... logged on one line"

# ---------------------------------------------------------------- 31-34: by subject, unknown people, rotation
start again
mode good carol-sub carol.new@example.test
is "$(callback again)" "302 / 1" "a later sign-in finds carol by her subject, whatever address the provider gives now"
is "$(admin_log_has "subject carol-sub: matched user [0-9]* (carol@example.test) by subject")" 1 "... and the log says so"
start nobody
mode good nobody-sub nobody@example.test
is "$(callback nobody)" "302 /login?oidc_error=NoMatchingUser 0" "a person with no account here is refused"
fetches=$(curl -sS "$issuer/test/jwks-fetches" | j 'd["fetches"]')
sleep 11   # past the shortest time between two fetches of the key set
start rotated
mode rotated carol-sub carol@example.test
r=$(callback rotated)
fetched=$(curl -sS "$issuer/test/jwks-fetches" | j 'd["fetches"]')
is "$r $((fetched - fetches))" "302 / 1 1" "a key rotation is followed: the JWKS fetched again for the unknown kid k2, and the token taken"

# ---------------------------------------------------------------- 35-37: passwords of linked accounts
login_as() { # NAME EMAIL PASSWORD
	local a
	rm -f "$(jar "$1")"
	a=$(call POST /api/v2/session "{\"email\": \"$2\", \"password\": \"$3\"}" -c "$(jar "$1")")
	printf -v "csrf_$1" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]')"
}
csrf_again=$(body "$(call GET /api/v2/session "" -b "$(jar again)")" | j 'd["data"]["csrf_token"]')
is "$(code "$(as again POST /api/v2/user/password '{"current_password": "Car0l-pass-phrase", "new_password": "N3w-pass-phrase!"}')")" \
	"409 AccountLinkedToOpenID" "a linked user cannot set a local password"
login_as root root@example.test 'R00t-pass-phrase'
is "$(code "$(as root POST /api/v2/users/carol@example.test/password '{"password": "N3w-pass-phrase!"}')")" \
	"409 AccountLinkedToOpenID" "... nor can an installation admin set one for her"
is "$(code "$(as root POST /api/v2/users/dave@example.test/password '{"password": "N3w-pass-phrase!"}')")" "200 " \
	"... while an unlinked account's password is still set as before"

# ---------------------------------------------------------------- 38-40: a second factor still applies
login_as dave dave@example.test 'N3w-pass-phrase!'
totp_secret=$(body "$(as dave POST /api/v2/user/totp)" | j 'd["data"]["enrolment"]["secret"]')
is "$(code "$(as dave POST /api/v2/user/totp/confirm "{\"code\": \"$(oathtool --totp -b "$totp_secret")\"}")")" "200 " \
	"dave enrols a second factor"
start dave
mode good dave-sub dave@example.test
is "$(callback dave)" "302 / 1" "dave signs in through the provider"
a=$(call GET /api/v2/session/status "" -b "$(jar dave)")
is "$(body "$a" | j 'd["data"]["second_factor"]')" code "... and must still give his code before anything else"

# ---------------------------------------------------------------- 41-44: accounts without a password
as root POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}' >/dev/null
tok=$(body "$(as root POST /api/v2/organizations/acme/invitations '{"email": "erin@example.test", "role": "member"}')" | j 'd["data"]["invitation"]["token"]')
a=$(call POST "/api/v2/invitations/$tok/accept" '{"first_name": "Erin"}')
is "$(status "$a") $(body "$a" | j 'd["data"]["created"]')" "201 true" "an invitation is accepted without a password"
is "$(sql "SELECT password_hash IS NULL FROM users WHERE email = 'erin@example.test'")" 1 \
	"... making an account that signs in through the provider only"

out=$($HARNESS_CTL make-user --email frank@example.test --first-name Frank --last-name Test --no-password </dev/null 2>&1) &&
	rc=0 || rc=$?
is "$rc $(sql "SELECT password_hash IS NULL FROM users WHERE email = 'frank@example.test'")" "0 1" \
	"postgatectl make-user --no-password makes an account for the provider's sign-in"
out=$(POSTGATE_OIDC_ENABLED=false $HARNESS_CTL make-user --email gina@example.test --first-name Gina --last-name Test \
	--no-password </dev/null 2>&1) && rc=0 || rc=$?
like "$rc:$out" '^64:.*--no-password needs oidc.enabled' "... and refuses to without OpenID Connect"

# ---------------------------------------------------------------- 45-51: the browser
if harness_browser oidc.mjs 5 1 BASE_URL="$base" PROVIDER_LOGIN=alice; then
	is "$(sql "SELECT CONCAT(oidc_uid, ' ', password_hash IS NULL) FROM users WHERE email = 'alice@example.test'")" "alice 1" \
		"... and linked alice to her subject at the provider"
fi

# ---------------------------------------------------------------- 52: local authentication off
instance_postgate_stop "$HARNESS_DIR" admin
export POSTGATE_OIDC_LOCAL_AUTHENTICATION_ENABLED=false
harness_start_admin
base=$HARNESS_ADMIN_URL
r="$(body "$(call GET /api/v2/session/status)" | j 'd["data"]["sign_in"]["local"]')"
r+=" $(code "$(call POST /api/v2/session '{"email": "root@example.test", "password": "R00t-pass-phrase"}')")"
r+=" $(code "$(call POST /api/v2/users/dave@example.test/password '{"password": "An0ther-pass-phrase"}' -b "$(jar root)" -H "X-CSRF-Token: $csrf_root")")"
is "$r" "false 403 LocalAuthenticationDisabled 403 LocalAuthenticationDisabled" \
	"with local authentication off, the login page has only the button, and passwords neither sign in nor are set"

done_testing
