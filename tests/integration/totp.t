#!/bin/bash
#
# totp.t -- two-factor sign-in (RFC 6238) against postgate-admin and a private MariaDB,
# with the codes made by oathtool (OATH Toolkit's own command, not postgate's code):
# enrolment (secret shown once, otpauth:// URI, QR image; a wrong first code refused, the
# right one enables and shows ten recovery codes), the secret and the recovery codes not
# stored in clear, a sign-in that needs the code (nothing else reachable meanwhile), a
# code accepted once, one step of clock skew either way accepted and two refused, a
# recovery code once, failed codes throttled like passwords, an organization's
# requirement forcing enrolment (nothing but enrolment reachable), disabling refused while
# required, new recovery codes, and resets: by an organization's owner, never by an
# outsider organization's admin (404) or a plain member, and by postgatectl user totp-reset;
# a deleted account loses its second factor.
#
# Clock: codes belong to 30-second steps; before a check that depends on the step, the
# test waits until at least 8 seconds of the current step are left, so that the code
# oathtool makes and the server's clock agree on the step.
#
# Then, where Chromium and playwright-core are installed (browser.t's requirements), the
# same in the web admin (tests/browser/totp.mjs): the enrolment page shows the QR image
# and the secret, the login page's code step signs in, the organization's switch saves,
# and the console stays clean; otherwise those 12 results are skipped, saying why.
#
# Must never: pass on an answer it did not parse, or run without oathtool.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"
command -v oathtool >/dev/null 2>&1 || skip_all "oathtool missing: run 'packaging/install-deps test' as root"

harness_setup mariadb
plan 80

HARNESS_CTL=${HARNESS_CTL:-"$POSTGATE_BUILDDIR/ctl/postgatectl -c $HARNESS_CONFIG"}
out=$($HARNESS_CTL initialize 2>&1) || harness_setup_failed "postgatectl initialize: $out"
harness_start_admin
base=$HARNESS_ADMIN_URL

mkuser root@example.test 'R00t-pass-phrase' --admin
mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser bob@example.test 'B0b-pass-phrase!'
mkuser carol@example.test 'Car0l-pass-phrase'
mkuser eve@example.test 'Ev3-pass-phrase!'
mkuser frank@example.test 'Fr4nk-pass-phrase'
mkuser gina@example.test 'G1na-pass-phrase'

# Every request comes from an address of its own (the admin trusts 127.0.0.0/8 as a
# proxy), so that the failures this test makes on purpose never slow the next request.
# The count lives in a file: most calls run in a subshell ($(...)).
echo 0 >"$HARNESS_DIR/ipn"
nextip() {
	local n=$(($(cat "$HARNESS_DIR/ipn") + 1))
	echo "$n" >"$HARNESS_DIR/ipn"
	printf '198.51.%d.%d' $((100 + n / 250)) $((n % 250 + 1))
}
login() { # NAME EMAIL PASSWORD: a new session for NAME; $got is "STATUS second_factor"
	local a name=$1
	rm -f "$(jar "$name")"
	a=$(call POST /api/v2/session "{\"email\": \"$2\", \"password\": \"$3\"}" -c "$(jar "$name")" \
		-H "X-Forwarded-For: $(nextip)")
	printf -v "csrf_$name" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]')"
	got="$(status "$a") $(body "$a" | j 'd["data"]["second_factor"]')"
}
as() { # NAME METHOD PATH [BODY]: api.sh's, from a fresh address
	local name=$1 csrf_var="csrf_$1"
	shift
	call "$1" "$2" "${3:-}" -b "$(jar "$name")" -H "X-CSRF-Token: ${!csrf_var}" -H "X-Forwarded-For: $(nextip)"
}
# steady: wait until at least 8 seconds of the current 30-second step are left.
steady() { while [ $(($(date +%s) % 30)) -gt 21 ]; do sleep 1; done; }
# code SECRET [STEPS]: the code of the step STEPS away from now (oathtool's clock).
code_at() { oathtool --totp -b -N "@$(($(date +%s) + 30 * ${2:-0}))" "$1"; }
totp() { # NAME CODE: the sign-in's second step; "STATUS error-code"
	code "$(as "$1" POST /api/v2/session/totp "{\"code\": \"$2\"}")"
}
admin_log_has() { grep -c -- "$1" "$HARNESS_ADMIN_LOG" || true; }

# ---------------------------------------------------------------- 1-11: enrolment
login alice alice@example.test 'Al1ce-pass-phrase'; [ "$got" = "200 complete" ] || harness_setup_failed "alice cannot log in"
a=$(as alice POST /api/v2/user/totp)
is "$(status "$a")" 201 "enrolment begins: 201"
secret=$(body "$a" | j 'd["data"]["enrolment"]["secret"]')
like "$secret" '^[A-Z2-7]{32}$' "... with a secret of 32 base32 characters (160 bits)"
is "$(body "$a" | j 'd["data"]["enrolment"]["otpauth_uri"]')" \
	"otpauth://totp/postgate:alice%40example.test?secret=$secret&issuer=postgate&algorithm=SHA1&digits=6&period=30" \
	"... the otpauth:// URI names the issuer and the user's e-mail address"
body "$a" | j 'd["data"]["enrolment"]["qr_image"]' >"$HARNESS_DIR/qr.uri"
is "$(/usr/bin/python3 -c '
import base64, sys, xml.etree.ElementTree as ET
uri = open(sys.argv[1]).read().strip()
prefix = "data:image/svg+xml;base64,"
assert uri.startswith(prefix), uri[:40]
svg = ET.fromstring(base64.b64decode(uri[len(prefix):]))
paths = [e for e in svg.iter() if e.tag.endswith("path")]
print("svg %d" % (len(paths) == 1 and paths[0].get("d").count("M") > 100))' "$HARNESS_DIR/qr.uri" 2>&1)" "svg 1" \
	"... and the QR code is an SVG image (a data: URI) with the modules drawn"
raw_hex=$(/usr/bin/python3 -c 'import base64, sys; print(base64.b32decode(sys.argv[1]).hex())' "$secret")
is "$(sql "SELECT CONCAT(LOCATE(UNHEX('$raw_hex'), secret_sealed), ' ', LOCATE('$secret', secret_sealed), ' ', LENGTH(secret_sealed) > 20) FROM user_totp t JOIN users u ON u.id = t.user_id WHERE u.email = 'alice@example.test'")" \
	"0 0 1" "the stored secret holds neither the base32 secret nor its bytes (it is sealed)"
a=$(as alice GET /api/v2/organizations)
is "$(status "$a")" 200 "alice's session is not held back by an enrolment in progress"

steady
wrong=$(printf '%06d' $(((10#$(code_at "$secret") + 1) % 1000000)))
is "$(code "$(as alice POST /api/v2/user/totp/confirm "{\"code\": \"$wrong\"}")")" "400 ValidationError" \
	"a wrong first code does not enable it"
is "$(code "$(as alice POST /api/v2/user/totp/confirm '{"code": "12345"}')")" "400 ValidationError" \
	"... nor does a code of five digits"
a=$(as alice POST /api/v2/user/totp/confirm "{\"code\": \"$(code_at "$secret")\"}")
is "$(status "$a")" 200 "the current code enables it"
body "$a" | j '"\n".join(d["data"]["recovery_codes"])' >"$HARNESS_DIR/alice.codes"
is "$(grep -cE '^[a-z2-9]{5}-[a-z2-9]{5}$' "$HARNESS_DIR/alice.codes")/$(sort -u "$HARNESS_DIR/alice.codes" | wc -l)" "10/10" \
	"... and shows ten distinct recovery codes once"
first=$(head -n 1 "$HARNESS_DIR/alice.codes")
sha=$(printf '%s' "${first/-/}" | sha256sum | cut -d' ' -f1)
is "$(sql "SELECT CONCAT(COUNT(*), ' ', SUM(code_hash = '$sha' OR code_hash LIKE '%${first/-/}%')) FROM user_recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.email = 'alice@example.test'")" \
	"10 0" "ten recovery codes are stored, none in clear or as its plain SHA-256"

# ---------------------------------------------------------------- 12-31: signing in with a code
login alice alice@example.test 'Al1ce-pass-phrase'; is "$got" "200 code" "after the password, the session waits for a code"
is "$(code "$(as alice GET /api/v2/organizations)")" "401 SecondFactorRequired" "... and reaches nothing else meanwhile"
is "$(code "$(as alice POST /api/v2/user/tokens '{"name": "sneaky"}')")" "401 SecondFactorRequired" \
	"... cannot make an API token"
is "$(code "$(as alice GET /api/v2/user/totp)")" "401 SecondFactorRequired" "... nor see its second factor"
is "$(as alice GET /api/v2/session | head -n 1 | j 'd["data"]["second_factor"]')" "code" \
	"GET /api/v2/session says a code is still to come"
is "$(code "$(as alice POST /api/v2/session/totp '{"code": "abcdef"}')")" "400 ValidationError" \
	"a code that is not six digits is a validation error"

# The skew checks each start from a clean slate: the step of the enrolment code is
# forgotten (last_step, set back here) so that only the window decides.
sql "UPDATE user_totp t JOIN users u ON u.id = t.user_id SET t.last_step = 0 WHERE u.email = 'alice@example.test'"
refused_before=$(admin_log_has 'second factor refused: the code is not valid now')
steady
is "$(totp alice "$(code_at "$secret" -2)")" "401 InvalidCode" "the code of two steps ago is refused"
is "$(totp alice "$(code_at "$secret" 2)")" "401 InvalidCode" "the code of two steps ahead is refused"
is "$(($(admin_log_has 'second factor refused: the code is not valid now') - refused_before))" 2 \
	"... both logged as not valid now"
prev=$(code_at "$secret" -1)
is "$(totp alice "$prev")" "200 " "the code of the previous step is accepted (clock skew -1)"
is "$(code "$(as alice GET /api/v2/organizations)")" "200 " "... and the session is signed in completely"
is "$(as alice GET /api/v2/session | head -n 1 | j 'd["data"]["second_factor"]')" "complete" "... as GET /api/v2/session says"

login alice alice@example.test 'Al1ce-pass-phrase'
is "$(totp alice "$prev")" "401 InvalidCode" "the same code again is refused (a code works once)"
is "$(admin_log_has 'second factor refused: the code was used already')" 1 "... logged as used already"
steady
now=$(code_at "$secret")
is "$(totp alice "$now")" "200 " "the current code is accepted"
login alice alice@example.test 'Al1ce-pass-phrase'
next=$(code_at "$secret" 1)
is "$(totp alice "$next")" "200 " "the code of the next step is accepted (clock skew +1)"
login alice alice@example.test 'Al1ce-pass-phrase'
is "$(totp alice "$now")" "401 InvalidCode" "then the current one is refused: its step is before the last accepted"

is "$(code "$(as alice POST /api/v2/session/totp "{\"recovery_code\": \"${first^^}\"}")")" "200 " \
	"a recovery code signs in (any case)"
login alice alice@example.test 'Al1ce-pass-phrase'
is "$(code "$(as alice POST /api/v2/session/totp "{\"recovery_code\": \"$first\"}")")" "401 InvalidCode" \
	"... once: the second time it is refused"
is "$(sql "SELECT COUNT(*) FROM user_recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.email = 'alice@example.test' AND r.used_at IS NOT NULL")" \
	1 "... and the database has it used"

# ---------------------------------------------------------------- 32-33: failed codes are throttled
codes=""
# shellcheck disable=SC2154 # csrf_alice: set by login() through printf -v
for i in $(seq 12); do
	a=$(call POST /api/v2/session/totp '{"code": "000000"}' -b "$(jar alice)" -H "X-CSRF-Token: $csrf_alice" \
		-H "X-Forwarded-For: 203.0.113.50")
	codes+="$(status "$a") "
done
checked=$(grep -o 401 <<<"$codes" | wc -l)
ok "$([ "$checked" -le 10 ] && [ "$checked" -ge 5 ] && echo 0 || echo 1)" \
	"wrong codes from one address are checked at most 10 times ($codes)"
like "$codes" "429" "... and then refused with 429 like failed passwords"

# ---------------------------------------------------------------- 34-45: an organization requires it
login alice alice@example.test 'Al1ce-pass-phrase'; [ "$got" = "200 code" ] || harness_setup_failed "alice: no code step"
[ "$(code "$(as alice POST /api/v2/session/totp "{\"recovery_code\": \"$(sed -n 2p "$HARNESS_DIR/alice.codes")\"}")")" = "200 " ] ||
	harness_setup_failed "alice cannot finish her sign-in"
as alice POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}' >/dev/null
login eve eve@example.test 'Ev3-pass-phrase!'; [ "$got" = "200 complete" ] || harness_setup_failed "eve cannot log in"
as eve POST /api/v2/organizations '{"name": "Evil", "permalink": "evil"}' >/dev/null
sql "INSERT INTO organization_users (organization_id, user_id, role) SELECT o.id, u.id, 'member' FROM organizations o, users u WHERE o.permalink = 'acme' AND u.email IN ('bob@example.test', 'frank@example.test')"
a=$(as alice PATCH /api/v2/organizations/acme '{"require_two_factor": true}')
is "$(status "$a") $(body "$a" | j 'd["data"]["organization"]["require_two_factor"]')" "200 true" \
	"an organization's owner requires a second factor of its members"
is "$(code "$(as alice PATCH /api/v2/organizations/acme '{"require_two_factor": "yes"}')")" "400 ValidationError" \
	"... (a value that is not a boolean is refused)"
login bob bob@example.test 'B0b-pass-phrase!'; is "$got" "200 enrol" "a member without one must enrol after the password"
is "$(code "$(as bob GET /api/v2/organizations)")" "401 TwoFactorEnrolmentRequired" "... and reaches nothing else"
is "$(code "$(as bob GET /api/v2/user/tokens)")" "401 TwoFactorEnrolmentRequired" "... not even his own tokens"
is "$(code "$(as bob POST /api/v2/session/totp '{"code": "123456"}')")" "409 NoSecondFactorPending" \
	"... and has no code to give"
a=$(as bob POST /api/v2/user/totp)
is "$(status "$a")" 201 "enrolment is reachable"
bsecret=$(body "$a" | j 'd["data"]["enrolment"]["secret"]')
is "$(body "$(as bob GET /api/v2/user/totp)" | j '[d["data"]["totp"]["required"], d["data"]["totp"]["required_by"], d["data"]["totp"]["pending"]]')" \
	'[true, ["organization"], true]' "... and says why it is required"
steady
a=$(as bob POST /api/v2/user/totp/confirm "{\"code\": \"$(code_at "$bsecret")\"}")
is "$(status "$a") $(body "$a" | j 'd["data"]["second_factor"]')" "200 complete" \
	"enrolling completes the sign-in"
body "$a" | j '"\n".join(d["data"]["recovery_codes"])' >"$HARNESS_DIR/bob.codes"
is "$(code "$(as bob GET /api/v2/organizations)")" "200 " "... and everything is reachable"
is "$(code "$(as bob DELETE /api/v2/user/totp "{\"recovery_code\": \"$(head -n 1 "$HARNESS_DIR/bob.codes")\"}")")" \
	"409 TwoFactorRequired" "a required second factor cannot be disabled"
login bob bob@example.test 'B0b-pass-phrase!'; is "$got" "200 code" "bob's next sign-in asks for his code"

# ---------------------------------------------------------------- 46-56: resets
is "$(code "$(as eve DELETE /api/v2/users/bob@example.test/totp)")" "404 NotFound" \
	"another organization's admin cannot reset bob's second factor: 404"
is "$(code "$(as eve GET /api/v2/users/bob@example.test/totp)")" "404 NotFound" "... nor see it"
login frank frank@example.test 'Fr4nk-pass-phrase'; [ "$got" = "200 enrol" ] || harness_setup_failed "frank must enrol"
is "$(code "$(as frank DELETE /api/v2/users/bob@example.test/totp)")" "401 TwoFactorEnrolmentRequired" \
	"a member who has not enrolled cannot reach the reset"
fsecret=$(body "$(as frank POST /api/v2/user/totp)" | j 'd["data"]["enrolment"]["secret"]')
steady
[ "$(code "$(as frank POST /api/v2/user/totp/confirm "{\"code\": \"$(code_at "$fsecret")\"}")")" = "200 " ] ||
	harness_setup_failed "frank cannot enrol"
is "$(code "$(as frank DELETE /api/v2/users/bob@example.test/totp)")" "404 NotFound" \
	"a plain member of bob's organization cannot reset it either: 404"
is "$(sql "SELECT COUNT(*) FROM user_totp t JOIN users u ON u.id = t.user_id WHERE u.email = 'bob@example.test' AND t.confirmed_at IS NOT NULL")" \
	1 "... bob's second factor is still there"
a=$(as alice DELETE /api/v2/users/bob@example.test/totp)
is "$(status "$a") $(body "$a" | j '[d["data"]["reset"], d["data"]["totp"]["enabled"]]')" "200 [true, false]" \
	"the organization's owner resets it"
is "$(sql "SELECT (SELECT COUNT(*) FROM user_totp t WHERE t.user_id = u.id) + (SELECT COUNT(*) FROM user_recovery_codes r WHERE r.user_id = u.id) FROM users u WHERE u.email = 'bob@example.test'")" \
	0 "... the secret and recovery codes are gone"
login bob bob@example.test 'B0b-pass-phrase!'; is "$got" "200 enrol" "... and bob enrols again at his next sign-in"
out=$($HARNESS_CTL user totp-reset ALICE@example.test 2>&1) && rc=0 || rc=$?
is "$rc:$(sql "SELECT COUNT(*) FROM user_totp t JOIN users u ON u.id = t.user_id WHERE u.email = 'alice@example.test'")" "0:0" \
	"postgatectl user totp-reset removes alice's"
like "$out" 'alice@example\.test: second factor removed' "... and says so"
login alice alice@example.test 'Al1ce-pass-phrase'; is "$got" "200 enrol" \
	"... so alice, whose organization requires one, enrols at her next sign-in"

# ---------------------------------------------------------------- 57-66: disabling, new recovery codes
login carol carol@example.test 'Car0l-pass-phrase'; [ "$got" = "200 complete" ] || harness_setup_failed "carol cannot log in"
csecret=$(body "$(as carol POST /api/v2/user/totp)" | j 'd["data"]["enrolment"]["secret"]')
sealed=$(sql "SELECT HEX(t.secret_sealed) FROM user_totp t JOIN users u ON u.id = t.user_id WHERE u.email = 'carol@example.test'")
a=$(as carol POST /api/v2/user/totp)
csecret2=$(body "$a" | j 'd["data"]["enrolment"]["secret"]')
is "$(status "$a") $([ "$csecret" != "$csecret2" ] && [ "$sealed" != "$(sql "SELECT HEX(t.secret_sealed) FROM user_totp t JOIN users u ON u.id = t.user_id WHERE u.email = 'carol@example.test'")" ] && echo replaced)" \
	"201 replaced" "beginning again before confirming replaces the pending secret"
csecret=$csecret2
steady
a=$(as carol POST /api/v2/user/totp/confirm "{\"code\": \"$(code_at "$csecret")\"}")
body "$a" | j '"\n".join(d["data"]["recovery_codes"])' >"$HARNESS_DIR/carol.codes"
is "$(code "$(as carol POST /api/v2/user/totp)")" "409 TwoFactorAlreadyEnabled" "an enabled second factor is not replaced by a new enrolment"
sql "UPDATE user_totp t JOIN users u ON u.id = t.user_id SET t.last_step = 0 WHERE u.email = 'carol@example.test'"
a=$(as carol POST /api/v2/user/totp/recovery-codes "{\"code\": \"$(code_at "$csecret")\"}")
body "$a" | j '"\n".join(d["data"]["recovery_codes"])' >"$HARNESS_DIR/carol.codes2"
is "$(status "$a") $(sort -u "$HARNESS_DIR/carol.codes2" | wc -l) $(comm -12 <(sort "$HARNESS_DIR/carol.codes") <(sort "$HARNESS_DIR/carol.codes2") | wc -l)" \
	"200 10 0" "a code makes ten new recovery codes"
is "$(code "$(as carol DELETE /api/v2/user/totp "{\"recovery_code\": \"$(head -n 1 "$HARNESS_DIR/carol.codes")\"}")")" \
	"400 ValidationError" "... and the old ones no longer work"
is "$(code "$(as carol DELETE /api/v2/user/totp '{}')")" "400 ValidationError" "disabling needs a code or a recovery code"
a=$(as carol DELETE /api/v2/user/totp "{\"recovery_code\": \"$(head -n 1 "$HARNESS_DIR/carol.codes2")\"}")
is "$(code "$a")" "200 " "a new recovery code disables it"
is "$(body "$(as carol GET /api/v2/user/totp)" | j '[d["data"]["totp"]["enabled"], d["data"]["totp"]["recovery_codes_left"]]')" \
	"[false, 0]" "... and nothing is left of it"
login carol carol@example.test 'Car0l-pass-phrase'; is "$got" "200 complete" "carol signs in with her password alone again"
login root root@example.test 'R00t-pass-phrase'; [ "$got" = "200 complete" ] || harness_setup_failed "root cannot log in"
a=$(as root PATCH /api/v2/users/carol@example.test/totp '{"required": true}')
is "$(status "$a") $(body "$a" | j 'd["data"]["totp"]["required_by"]')" '200 ["user"]' \
	"an installation admin requires a second factor of one user"
login carol carol@example.test 'Car0l-pass-phrase'; is "$got" "200 enrol" "... who enrols at her next sign-in"

# ---------------------------------------------------------------- 67-68: a deleted account
is "$(code "$(as frank DELETE /api/v2/user '{"password": "Fr4nk-pass-phrase"}')")" "200 " "frank deletes his account"
is "$(sql "SELECT (SELECT COUNT(*) FROM user_totp t WHERE t.user_id = u.id) + (SELECT COUNT(*) FROM user_recovery_codes r WHERE r.user_id = u.id) FROM users u WHERE u.email = 'frank@example.test'")" \
	0 "... and his second factor went with it"

# ---------------------------------------------------------------- 69-80: the web admin (tests/browser/totp.mjs)
login gina gina@example.test 'G1na-pass-phrase'
as gina POST /api/v2/organizations '{"name": "Gina", "permalink": "gina"}' >/dev/null
if harness_browser totp.mjs 10 1 BASE_URL="$base" USER_EMAIL=gina@example.test USER_PASSWORD='G1na-pass-phrase' ORG=gina; then
	is "$(sql "SELECT require_two_factor FROM organizations WHERE permalink = 'gina'")" 1 \
		"... and the organization's switch reached the database"
fi
