#!/bin/bash
#
# password_reset.t -- "Forgot your password?" for web admin accounts (issue 15's system
# mailer), through postgate-admin, the system mailer and the private Postfix to the sink:
# a request answers the same 202 whether or not the address has an account and mails a link
# only to an account, at most one a minute; the link (its token kept hashed) sets a password
# that passes the policy, once, and ends every session; then in Chromium
# (tests/browser/pwreset.mjs) the pages: login, request, the link, a weak password refused,
# a good one set, the login with it.
#
# Must never: read a token anywhere but in the mail the sink received.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_sysmail
harness_start_admin
base=$HARNESS_ADMIN_URL
plan 19

mkuser una@example.test 'Una-pass-phrase-1'
login una una@example.test 'Una-pass-phrase-1'
runs() { [ -s "$SENDMAIL_LOG" ] && wc -l <"$SENDMAIL_LOG" || echo 0; }
mails() { instance_sink_count "Subject: Resetting your password"; }
# link_in_mail N: the reset link of the Nth reset mail at the sink (oldest first).
link_in_mail() {
	# shellcheck disable=SC2012 # the sink's file names are its own, without spaces
	ls -tr $(grep -lF -- "Subject: Resetting your password" "$INSTANCE_SINK_DIR"/*) 2>/dev/null | sed -n "${1}p" |
		xargs -r grep -m1 -oE 'https?://[^ ]*/reset/[A-Za-z0-9]+' || true
}

a=$(call POST /api/v2/password-reset '{"email": "una@example.test"}')
b=$(call POST /api/v2/password-reset '{"email": "nobody@example.test"}')
is "$(status "$a") $(body "$a")" "$(status "$b") $(body "$b")" "a request answers the same for an account and for an unknown address"
is "$(status "$a")" 202 "... 202 Accepted"
harness_wait_for 30 eval '[ "$(mails)" -ge 1 ]' || true
is "$(runs) $(mails)" "1 1" "... and only the account's address gets a mail (sendmail ran once)"
link=$(link_in_mail 1)
public=$($HARNESS_CTL config dump | sed -n 's/^admin\.public_url = "\([^"]*\)".*/\1/p')
like "$link" "^${public%/}/reset/[A-Za-z0-9]{40}\$" "... carrying a link under admin.public_url"
token=${link##*/}
is "$(sql "SELECT COUNT(*) FROM user_password_resets WHERE token_hash = SHA2('$token', 256)") $(sql "SELECT COUNT(*) FROM user_password_resets WHERE token_hash = '$token'")" \
	"1 0" "the token is kept only as its SHA-256"
a=$(call POST /api/v2/password-reset '{"email": "UNA@example.test"}')
sleep 2
is "$(status "$a") $(runs)" "202 1" "asking again within a minute sends nothing more"
like "$(code "$(call POST "/api/v2/password-reset/$token" '{"password": "password123"}')")" '^400 ValidationError' \
	"a weak new password is refused (the policy applies)"
a=$(call POST "/api/v2/password-reset/$token" '{"password": "Una-new-phrase-2!"}')
is "$(status "$a") $(body "$a" | j 'd["data"]["password_changed"]')" "200 true" "the link sets a good password"
is "$(status "$(call GET /api/v2/session -b "$(jar una)")")" 401 "... and ends the account's sessions"
is "$(status "$(call POST /api/v2/session '{"email": "una@example.test", "password": "Una-pass-phrase-1"}')")" 401 \
	"... the old password no longer logs in"
is "$(status "$(call POST /api/v2/session '{"email": "una@example.test", "password": "Una-new-phrase-2!"}')")" 200 \
	"... the new one does"
is "$(code "$(call POST "/api/v2/password-reset/$token" '{"password": "Una-third-phrase-3!"}')")" "404 NotFound" \
	"the link works once"
is "$(code "$(call POST /api/v2/password-reset/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA '{"password": "Una-third-phrase-3!"}')")" \
	"404 NotFound" "an unknown token is 404"

# ---- the pages, with a link of a second reset (the first one is used)
sql "UPDATE user_password_resets SET created_at = created_at - INTERVAL 2 MINUTE"
call POST /api/v2/password-reset '{"email": "una@example.test"}' >/dev/null
harness_wait_for 30 eval '[ "$(mails)" -ge 2 ]' || true
# (The page's own request comes within the minute: it changes nothing, and says the same.)
# (admin.public_url is the default here, not this test's port: the path is the mail's.)
link2=$(link_in_mail 2)
harness_browser pwreset.mjs 5 0 BASE_URL="$base" USER_EMAIL=una@example.test LINK="$base/reset/${link2##*/}" \
	NEW_PASSWORD='Una-page-phrase-4!' || true
