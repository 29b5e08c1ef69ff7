#!/bin/bash
#
# login.t -- the login throttle as an attacker meets it (issue 12, items 5 and 8), against
# postgate-admin and a private MariaDB. Lockout: while one address hammers an account with
# wrong passwords, its owner, from an address that has not failed, still logs in within
# AUTH_ACCOUNT_MAX_DELAY (8 s) by honouring Retry-After (in fact at once: only addresses
# that failed for the account wait); the attacking address is refused on its own. Invitations: accepting one for an existing account is throttled like a login
# (the same counts), never changes the account's password, and an account without a
# password cannot accept (409 AccountHasNoPassword). postgate-admin warns at start when it
# listens on loopback only and trusts no proxy. A throttled address cannot hide behind its own
# X-Forwarded-For line sent before the proxy's (every line counts).
#
# Must never: pass on an answer it did not parse, or wait without a bound.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb
plan 17

HARNESS_CTL=${HARNESS_CTL:-"$POSTGATE_BUILDDIR/ctl/postgatectl -c $HARNESS_CONFIG"}
out=$($HARNESS_CTL initialize 2>&1) || harness_setup_failed "postgatectl initialize: $out"
harness_start_admin
base=$HARNESS_ADMIN_URL

mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser victim@example.test 'V1ctim-pass-phrase'
mkuser carol@example.test 'Car0l-pass-phrase'
mkuser dora@example.test 'D0ra-pass-phrase'
sql "UPDATE users SET password_hash = NULL WHERE email = 'dora@example.test'"   # signs in another way
login() { # NAME EMAIL PASSWORD [curl args]: a session for NAME; the answer's code
	local a name=$1 email=$2 pass=$3
	shift 3
	a=$(call POST /api/v2/session "{\"email\": \"$email\", \"password\": \"$pass\"}" -c "$(jar "$name")" "$@")
	printf -v "csrf_$name" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]' 2>/dev/null)"
	code "$a"
}
# session_headers EMAIL PASSWORD ADDRESS: status line and Retry-After of a login from ADDRESS.
session_headers() {
	curl -sS -i --max-time 30 -H 'Content-Type: application/json' -H "X-Forwarded-For: $3" \
		--data-binary "{\"email\": \"$1\", \"password\": \"$2\"}" "$base/api/v2/session" 2>&1 | tr -d '\r' |
		sed -n -e 's/^HTTP\/1\.1 \([0-9]*\).*/\1/p' -e 's/^Retry-After: //p' | tr '\n' ' ' || true
}
# owner_login EMAIL PASSWORD ADDRESS: logs in, honouring Retry-After (at most 5 tries);
# prints "STATUS SECONDS-TAKEN".
owner_login() {
	local start=$SECONDS tries=0 answer st wait
	while :; do
		answer=$(session_headers "$1" "$2" "$3")
		read -r st wait _ <<<"$answer"
		tries=$((tries + 1))
		if [ "$st" != 429 ] || [ "$tries" -ge 5 ]; then break; fi
		sleep "${wait:-1}"
	done
	printf '%s %s' "$st" $((SECONDS - start))
}

# ---------------------------------------------------------------- 1-5: no lockout
login alice alice@example.test 'Al1ce-pass-phrase' >"$HARNESS_DIR/alice.login"
[ "$(cat "$HARNESS_DIR/alice.login")" = "200 " ] || harness_setup_failed "alice cannot log in"
stop="$HARNESS_DIR/stop-hammer"
( while [ ! -e "$stop" ]; do
	session_headers victim@example.test "guess-$RANDOM" 203.0.113.66; echo
done >"$HARNESS_DIR/hammer.out" ) &
hammer=$!
# The owner logs in once the attacker is being refused (on a slow machine the attacker's
# first ten guesses, each an argon2id check, can take longer than a fixed wait).
harness_wait_for 60 grep -q '^429 ' "$HARNESS_DIR/hammer.out" || diag "the attacker saw no 429 within 60 s"
result=$(owner_login victim@example.test 'V1ctim-pass-phrase' 198.51.100.7)
touch "$stop"
wait "$hammer" || true
read -r st took <<<"$result"
is "$st" 200 "while an attacker hammers the account, its owner from a fresh address logs in"
ok "$([ "$took" -le 8 ] && echo 0 || echo 1)" "... within the bounded delay (took ${took} s; at most 8 s)"
checked=$(grep -c '^401 ' "$HARNESS_DIR/hammer.out" || true)
refused=$(grep -c '^429 ' "$HARNESS_DIR/hammer.out" || true)
ok "$([ "$checked" -ge 5 ] && [ "$checked" -le 10 ] && echo 0 || echo 1)" \
	"the attacking address had at most 10 passwords checked ($checked; $refused attempts refused unchecked)"
ok "$([ "$refused" -gt 0 ] && echo 0 || echo 1)" "... and its further attempts were refused with 429"
read -r st wait <<<"$(session_headers victim@example.test wrong-again 198.51.100.8)"
ok "$([ "$st" = 401 ] || { [ "$st" = 429 ] && [ "${wait:-99}" -le 8 ]; } && echo 0 || echo 1)" \
	"the account is slowed, not locked: a fresh address waits at most 8 s (got $st ${wait:-})"

# ---------------------------------------------------------------- 6-12: invitations
as alice POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}' >/dev/null
invite() { body "$(as alice POST /api/v2/organizations/acme/invitations "{\"email\": \"$1\", \"role\": \"member\"}")" | j 'd["data"]["invitation"]["token"]'; }
accept() { call POST "/api/v2/invitations/$1/accept" "{\"password\": \"$2\"}" -H "X-Forwarded-For: $3"; }
mkuser erin@example.test 'Er1n-pass-phrase'
itoken=$(invite carol@example.test)
etoken=$(invite erin@example.test)
codes=""
for i in 1 2 3 4 5; do
	codes+="$(status "$(accept "$itoken" "Takeover-$i-pass" 203.0.113.99)") "
	codes+="$(status "$(accept "$etoken" "Takeover-$i-pass" 203.0.113.99)") "
done
codes+="$(status "$(accept "$itoken" 'Car0l-pass-phrase' 203.0.113.99)")"
is "$codes" "401 401 401 401 401 401 401 401 401 401 429" \
	"guessing existing accounts' passwords through invitations is throttled like logins (10 failures, then 429)"
login mallory carol@example.test 'Car0l-pass-phrase' -H 'X-Forwarded-For: 203.0.113.99' >"$HARNESS_DIR/mallory.login"
is "$(cat "$HARNESS_DIR/mallory.login")" "429 TooManyAttempts" \
	"... by the same counts: that address cannot log in either"
# A second X-Forwarded-For line does not hide the proxy's: the client's own line first, the
# line the (trusted) proxy added with the address it saw last; all lines count, in order.
login mallory2 carol@example.test 'Car0l-pass-phrase' -H 'X-Forwarded-For: 198.51.100.77' \
	-H 'X-Forwarded-For: 203.0.113.99' >"$HARNESS_DIR/mallory2.login"
is "$(cat "$HARNESS_DIR/mallory2.login")" "429 TooManyAttempts" \
	"... nor by sending its own X-Forwarded-For line before the proxy's"
read -r st took <<<"$(owner_login carol@example.test 'Car0l-pass-phrase' 198.51.100.20)"
is "$st" 200 "carol herself still logs in from her own address (took ${took} s)"
hash_before=$(sql "SELECT password_hash FROM users WHERE email = 'carol@example.test'")
a=$(accept "$itoken" 'Car0l-pass-phrase' 198.51.100.20)
is "$(code "$a")" "200 " "with her own password carol accepts"
is "$(sql "SELECT password_hash FROM users WHERE email = 'carol@example.test'")" "$hash_before" "... and her password is unchanged"

dtoken=$(invite dora@example.test)
a=$(accept "$dtoken" 'Chosen-by-attacker-1' 198.51.100.30)
is "$(code "$a")" "409 AccountHasNoPassword" "an account without a password cannot accept: 409 AccountHasNoPassword"
is "$(sql "SELECT CONCAT(u.password_hash IS NULL, ' ', (SELECT COUNT(*) FROM organization_users ou WHERE ou.user_id = u.id)) FROM users u WHERE u.email = 'dora@example.test'")" "1 0" \
	"... no password was set and no membership made"

# ---------------------------------------------------------------- 13-16: the start-up warning
port=$(instance_free_port "${HARNESS_ADMIN_URL##*:}")
out=$(POSTGATE_ADMIN_LISTEN="inet:127.0.0.1:$port" POSTGATE_ADMIN_TRUSTED_PROXIES='' \
	timeout 4 "$POSTGATE_BUILDDIR/admin/postgate-admin" -c "$HARNESS_CONFIG" 2>&1 || true)
like "$out" 'warning: admin.listen inet:127\.0\.0\.1:[0-9]+ is reachable from this host only and admin.trusted_proxies is empty' \
	"loopback-only with no trusted proxy: a warning at start"
like "$out" 'one client.s failed logins make every user wait' "... that says what goes wrong"
like "$out" 'set admin.trusted_proxies' "... and what to do"
out=$(POSTGATE_ADMIN_LISTEN="inet:127.0.0.1:$port" POSTGATE_ADMIN_TRUSTED_PROXIES=127.0.0.1 \
	timeout 4 "$POSTGATE_BUILDDIR/admin/postgate-admin" -c "$HARNESS_CONFIG" 2>&1 || true)
unlike "$out" 'trusted_proxies is empty' "with the proxy trusted, no warning"
