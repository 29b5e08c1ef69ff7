#!/bin/bash
#
# invitations.t -- the invitation flow of the web admin in Chromium (tests/browser/invite.mjs)
# against postgate-admin and a private MariaDB: an organization admin invites an address on
# the Members page (the link shown once), the person opens the link, is refused a weak
# password, makes the account and logs in into the organization; the installation admin's
# Users page grants and revokes installation admin and refuses to revoke the last one; then
# the database shows the membership with the invited role and no invitation left, and the
# admins unchanged. Before that, the system mailer: an invitation's link reaches the invitee
# through Postfix at the sink and makes the account; with sendmail failing the invitation
# stands with its link in the answer. Where Chromium is missing
# the results are skipped, saying why. The invitation API itself is tested by login.t and
# passwords.t.
#
# Must never: pass when the account or the membership was not made.

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
plan 21

mkuser owner@example.test 'Own3r-pass-phrase' --admin
login owner owner@example.test 'Own3r-pass-phrase'
as owner POST /api/v2/organizations '{"name": "Acme Mail", "permalink": "acme"}' >/dev/null

# ---- the system mailer: the link goes to the invitee through Postfix
a=$(as owner POST /api/v2/organizations/acme/invitations '{"email": "mia@example.test", "role": "readonly"}')
is "$(status "$a") $(body "$a" | j 'd["data"]["invitation"]["mailed"]')" "201 true" "an invitation is mailed by postgate (mailed: true)"
harness_wait_for 30 instance_sink_find "To: mia@example.test" >/dev/null || true
f=$(instance_sink_find "To: mia@example.test" || echo /dev/null)
like "$(grep -m1 '^Subject:' "$f")" '^Subject: Invitation to Acme Mail' "... the invitee gets it at the sink, naming the organization"
link=$(grep -oE 'https?://[^ ]*/invitations/[A-Za-z0-9]+' "$f" | head -1 || true)
public=$($HARNESS_CTL config dump | sed -n 's/^admin\.public_url = "\([^"]*\)".*/\1/p')
like "$link" "^${public%/}/invitations/[A-Za-z0-9]{40}\$" "... with the link to the invitation page under admin.public_url ($public)"
a=$(call POST "/api/v2/invitations/${link##*/}/accept" '{"password": "M1a-pass-phrase!", "first_name": "Mia"}')
is "$(status "$a") $(sql "SELECT ou.role FROM organization_users ou JOIN users u ON u.id = ou.user_id WHERE u.email = 'mia@example.test'")" \
	"201 readonly" "... and the token in the mail makes her account, a readonly member"
touch "$SENDMAIL_FAIL"
a=$(as owner POST /api/v2/organizations/acme/invitations '{"email": "noel@example.test", "role": "member"}')
is "$(status "$a") $(body "$a" | j 'str(d["data"]["invitation"]["mailed"]) + " " + str(bool(d["data"]["invitation"].get("mail_error"))) + " " + str(len(d["data"]["invitation"]["token"]))')" \
	"201 False True 40" "when sendmail fails the invitation stands: mailed false, the error said, the link in the answer"
rm -f "$SENDMAIL_FAIL"
like "$(as owner GET /api/v2/organizations/acme/invitations | head -1)" 'noel@example\.test' "... and it is listed, waiting"
noel=$(body "$a" | j 'd["data"]["invitation"]["uuid"]')
as owner DELETE "/api/v2/organizations/acme/invitations/$noel" >/dev/null   # (the browser starts with none waiting)
if harness_browser invite.mjs 12 2 BASE_URL="$base" USER_EMAIL=owner@example.test USER_PASSWORD='Own3r-pass-phrase' \
	ORG=acme ORG_NAME='Acme Mail' NEW_EMAIL=nina@example.test NEW_PASSWORD='N1na-pass-phrase!'; then
	is "$(sql "SELECT CONCAT(u.first_name, ' ', ou.role, ' ', (SELECT COUNT(*) FROM user_invites))
		FROM users u JOIN organization_users ou ON ou.user_id = u.id WHERE u.email = 'nina@example.test'")" "Nina member 0" \
		"... and the database has the account, its membership with the invited role, and no invitation left"
	is "$(sql "SELECT GROUP_CONCAT(email) FROM users WHERE admin = 1")" owner@example.test \
		"... and the installation's one admin is still its admin"
fi
