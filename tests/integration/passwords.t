#!/bin/bash
#
# passwords.t -- the password policy (lib/mail/pwpolicy.c, passwords.*) wherever a password is
# set, against postgate-admin and a private MariaDB: a password change, an installation
# admin's reset and a new account made by accepting an invitation each refuse a password
# that is too short, lacks a character class or is on the breached list (the shipped
# data/breached-passwords.txt, also dressed up with digits and symbols) with 400
# ValidationError naming the rule in "rule" and the sentence in the field's error, and take
# a good one; nothing changes on a refusal. postgatectl make-user refuses with the rule on
# standard error and exit 65, follows passwords.* overrides, and stops with exit 78 naming
# the key when the list cannot be read; so does postgate-admin -t. An existing password
# that the policy would refuse still signs in. GET /api/v2/session/status answers 200 to
# nobody ({"authenticated": false}) and the session to its owner.
#
# Must never: pass on an answer it did not parse.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb
plan 31

HARNESS_CTL=${HARNESS_CTL:-"$POSTGATE_BUILDDIR/ctl/postgatectl -c $HARNESS_CONFIG"}
out=$($HARNESS_CTL initialize 2>&1) || harness_setup_failed "postgatectl initialize: $out"
harness_start_admin
base=$HARNESS_ADMIN_URL

mkuser root@example.test 'Adm1n-pass-phrase' --admin
mkuser alice@example.test 'Al1ce-pass-phrase'
login() { # NAME EMAIL PASSWORD: a session for NAME (csrf_NAME set); the answer's code in logged
	local a
	a=$(call POST /api/v2/session "{\"email\": \"$2\", \"password\": \"$3\"}" -c "$(jar "$1")")
	printf -v "csrf_$1" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]' 2>/dev/null)"
	logged=$(code "$a")
}
# refusal ANSWER FIELD: "status code rule | field's first error".
refusal() {
	printf '%s %s | %s' "$(code "$1")" "$(body "$1" | j 'd["data"].get("rule")')" \
		"$(body "$1" | j "d['data']['errors']['$2'][0]")"
}
hash_of() { sql "SELECT password_hash FROM users WHERE email = '$1'"; }

# ---------------------------------------------------------------- the session probe
a=$(call GET /api/v2/session/status)
is "$(status "$a") $(body "$a" | j 'd["status"] + " " + json.dumps(d["data"], sort_keys=True)')" \
	'200 success {"authenticated": false, "sign_in": {"local": true, "oidc": null}}' \
	"GET /api/v2/session/status without a session: 200 {\"authenticated\": false} and how one signs in"
a=$(call GET /api/v2/session/status '' -b 'postgate_session=0123456789012345678901234567890123456789012')
is "$(status "$a") $(body "$a" | j 'd["data"]["authenticated"]')" "200 false" "... with an unknown session cookie: 200, not authenticated"
a=$(call GET /api/v2/session/status '' -H 'Authorization: Bearer pgt_not-a-token')
is "$(status "$a") $(body "$a" | j 'd["data"]["authenticated"]')" "200 false" "... with a bad bearer token: 200, not authenticated"
login alice alice@example.test 'Al1ce-pass-phrase'
is "$logged" "200 " "alice logs in"
a=$(call GET /api/v2/session/status '' -b "$(jar alice)")
is "$(status "$a") $(body "$a" | j 'd["data"]["authenticated"]') $(body "$a" | j 'd["data"]["user"]["email"]') $(body "$a" | j 'd["data"]["csrf_token"] == "'"$csrf_alice"'"')" \
	"200 true alice@example.test true" "... and the probe answers her session and its CSRF token"

# ---------------------------------------------------------------- changing one's password
before=$(hash_of alice@example.test)
change() { as alice POST /api/v2/user/password "{\"current_password\": \"Al1ce-pass-phrase\", \"new_password\": \"$1\"}"; }
a=$(change 'Sh0rt-pw!')
is "$(refusal "$a" new_password)" "400 ValidationError min_length | password must be at least 10 characters" \
	"a 9-character password: 400 naming min_length"
is "$(body "$a" | j 'd["data"]["message"]')" "password must be at least 10 characters" "... with the rule's sentence as the message"
like "$(refusal "$(change 'no-upper-case-1')" new_password)" '^400 ValidationError upper \| password must contain an upper-case letter$' \
	"no upper-case letter: rule upper"
like "$(refusal "$(change 'NO-LOWER-CASE-1')" new_password)" '^400 ValidationError lower \| ' "no lower-case letter: rule lower"
like "$(refusal "$(change 'No-Digits-Here')" new_password)" '^400 ValidationError digit \| password must contain a digit$' \
	"no digit: rule digit"
like "$(refusal "$(change 'NoSymbols1234')" new_password)" '^400 ValidationError symbol \| password must contain a symbol' \
	"no symbol: rule symbol"
is "$(refusal "$(change 'Password123!')" new_password)" \
	"400 ValidationError breached | password is on the list of breached passwords, with digits or symbols added around it" \
	"a breached password dressed up to pass the classes (Password123!): rule breached"
is "$(hash_of alice@example.test)" "$before" "... none of them changed the password"
a=$(change 'Al1ce-new-phrase!')
login alice2 alice@example.test 'Al1ce-new-phrase!'
is "$(code "$a") $logged" "200  200 " "a good password is taken, and signs in"

# ---------------------------------------------------------------- an admin's reset
login root root@example.test 'Adm1n-pass-phrase'
is "$logged" "200 " "root logs in"
a=$(as root POST /api/v2/users/alice@example.test/password '{"password": "Basketball-2024!"}')
is "$(refusal "$a" password)" "400 ValidationError breached | password is on the list of breached passwords, with digits or symbols added around it" \
	"an admin's reset to a breached password: rule breached"
a=$(as root POST /api/v2/users/alice@example.test/password '{"password": "Res3t-by-admin!"}')
login alice3 alice@example.test 'Res3t-by-admin!'
is "$(code "$a") $logged" "200  200 " "an admin's reset to a good password is taken"

# ---------------------------------------------------------------- a new account by invitation
as root POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}' >/dev/null
token=$(body "$(as root POST /api/v2/organizations/acme/invitations '{"email": "newbie@example.test", "role": "member"}')" |
	j 'd["data"]["invitation"]["token"]')
a=$(call POST "/api/v2/invitations/$token/accept" '{"password": "newbie-pass"}')
is "$(refusal "$a" password)" "400 ValidationError upper | password must contain an upper-case letter" \
	"accepting an invitation with a weak password: rule upper"
is "$(sql "SELECT COUNT(*) FROM users WHERE email = 'newbie@example.test'")" 0 "... and no account was made"
a=$(call POST "/api/v2/invitations/$token/accept" '{"password": "N3wbie-pass-phrase"}')
login newbie newbie@example.test 'N3wbie-pass-phrase'
is "$(code "$a") $logged" "201  200 " "with a good one the account is made"

# ---------------------------------------------------------------- postgatectl make-user
mk() { # EMAIL PASSWORD [env...]: "exit status | standard error"
	local email=$1 pw=$2 st=0 err
	shift 2
	err=$(printf '%s\n' "$pw" | env "$@" $HARNESS_CTL make-user --email "$email" --first-name C --last-name L \
		--password-stdin 2>&1 >/dev/null) || st=$?
	printf '%s | %s' "$st" "$err"
}
like "$(mk carl@example.test 'Sh0rt-pw!')" '^65 \| .*password must be at least 10 characters \(rule min_length;' \
	"make-user with a short password: exit 65 naming the rule"
like "$(mk carl@example.test 'Dragon-2024!')" '^65 \| .*breached passwords.*\(rule breached;' \
	"make-user with a dressed-up breached password: rule breached"
like "$(mk carl@example.test 'CORRECT-HORSE-9')" '^65 \| .*\(rule lower;' "make-user without lower case: rule lower"
is "$(sql "SELECT COUNT(*) FROM users WHERE email = 'carl@example.test'")" 0 "... no account was made"
like "$(mk carl@example.test 'Al1ce-pass-phrase' POSTGATE_PASSWORDS_MIN_LENGTH=20)" \
	'^65 \| .*password must be at least 20 characters \(rule min_length;' "passwords.min_length = 20 refuses 17 characters"
like "$(mk carl@example.test 'Al1ce-pass-phrase' POSTGATE_PASSWORDS_BREACHED_LIST=/nonexistent/list.txt)" \
	'^78 \| .*passwords.breached_list.*/nonexistent/list.txt' "an unreadable breached list: exit 78 naming the key and the file"
# A weak password, set under a relaxed policy, stands for one set before the policy.
like "$(mk legacy@example.test 'abcd' POSTGATE_PASSWORDS_MIN_LENGTH=4 POSTGATE_PASSWORDS_REQUIRE_UPPER=false \
	POSTGATE_PASSWORDS_REQUIRE_DIGIT=false POSTGATE_PASSWORDS_REQUIRE_SYMBOL=false POSTGATE_PASSWORDS_BREACHED_LIST=)" '^0 \| ' \
	"a relaxed policy (min_length 4, no classes, no list) takes 'abcd'"

# ---------------------------------------------------------------- existing passwords, the daemon's check
login legacy legacy@example.test 'abcd'
is "$logged" "200 " "a password the policy would refuse still signs in: nothing is invalidated"
st=0
err=$(env POSTGATE_PASSWORDS_BREACHED_LIST=/nonexistent/list.txt "$POSTGATE_BUILDDIR/admin/postgate-admin" -c "$HARNESS_CONFIG" -t 2>&1) ||
	st=$?
isnt "$st" 0 "postgate-admin -t fails when the breached list cannot be read"
like "$err" 'passwords.breached_list.*/nonexistent/list.txt' "... naming the key and the file"
like "$(grep -c 'breached' "$HARNESS_CONFIG")" '^1$' "the harness points passwords.breached_list at the tree's data/ list"
