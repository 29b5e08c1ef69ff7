#!/bin/bash
#
# org_domains.t -- an organization's own domains (issue 15): …/organizations/{org}/domains
# of the management API, shared by every server of the organization. Its admins create,
# check and delete them; members and readonly people see them; another organization gets
# 404. A server of the organization signs mail from such a domain with its key (dkimpy at
# the sink, through the real Postfix), a server of another organization cannot send from it,
# and a server's own domain list does not show it. In Chromium: the organization's Domains
# tab, an admin adding one, a member seeing the list without the form.
#
# Must never: let a non-member learn that the domain exists, or sign another tenant's mail.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_admin
base=$HARNESS_ADMIN_URL
plan 18

ctl() { $HARNESS_CTL "$@"; }
mkuser root@example.test 'R00t-pass-phrase!' --admin
mkuser ora@example.test 'Ora-pass-phrase-1'
mkuser mel@example.test 'Mel-pass-phrase-1'
mkuser eve@example.test 'Eve-pass-phrase-1'
for who in root ora mel eve; do login "$who" "$who@example.test" "$(case $who in root) echo 'R00t-pass-phrase!' ;; *) echo "${who^}-pass-phrase-1" ;; esac)"; done
as ora POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}' >/dev/null
as ora POST /api/v2/organizations/acme/servers '{"name": "Mail", "permalink": "mail"}' >/dev/null
as eve POST /api/v2/organizations '{"name": "Evil", "permalink": "evil"}' >/dev/null
as eve POST /api/v2/organizations/evil/servers '{"name": "Spy", "permalink": "spy"}' >/dev/null
member_of acme mel@example.test member
O=/api/v2/organizations/acme/domains

a=$(as ora POST "$O" '{"name": "shared.example"}')
is "$(status "$a") $(body "$a" | j 'd["data"]["domain"]["name"] + " " + str(d["data"]["domain"]["verified"])')" \
	"201 shared.example False" "an organization admin creates an organization domain"
like "$(body "$a" | j 'd["data"]["domain"]["dns_records"]')" '_domainkey\.shared\.example\..*TXT' "... with its DKIM key's record to publish"
is "$(code "$(as mel POST "$O" '{"name": "other.example"}')")" "403 Forbidden" "a member cannot add one (they are shared by every server)"
is "$(body "$(as mel GET "$O")" | j '[x["name"] for x in d["data"]["domains"]]')" '["shared.example"]' "... but sees them"
is "$(code "$(as eve GET "$O")") $(code "$(as eve GET "$O/shared.example")")" "404 NotFound 404 NotFound" \
	"another organization gets 404 for the list and the domain"
is "$(code "$(as ora POST "$O" '{"name": "shared.example"}')")" "409 DomainTaken" "the same name twice is refused"
is "$(body "$(as ora GET /api/v2/organizations/acme/servers/mail/domains)" | j 'len(d["data"]["domains"])')" 0 \
	"a server's own domain list does not show the organization's"

# ---- sending from it: a server of the organization signs with its key; another tenant cannot
as root POST "$O" '{"name": "verified.example", "verified": true}' >/dev/null
as ora GET "$O/verified.example" | sed '$d' | j 'd["data"]["domain"]["dns_records"]' >"$HARNESS_DIR/records.zone"
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
evilkey=$(ctl credential create --server evil/spy --name app | sed -n 's/^key: //p')
send() { # USER KEY SUBJECT
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user "$1" --auth-password "$2" \
		--from app@verified.example --to someone@example.net --h-From "App <app@verified.example>" --h-Subject "$3" 2>&1 |
		grep -E '^<[-~*]* +[0-9]{3} ' | grep -v '^<- *221 ' | tail -1 || true
}
like "$(send acme/mail "$key" "org-domain-ok")" '^<- +250 ' "a server of the organization sends from its verified organization domain"
harness_wait_for 30 instance_sink_find "org-domain-ok" >/dev/null || true
f=$(instance_sink_find "org-domain-ok" || echo /dev/null)
like "$(/usr/bin/python3 "$(dirname "$0")/dkim-verify.py" "$HARNESS_DIR/records.zone" "$f" 2>&1 | head -1)" '^pass .*d=verified\.example' \
	"... signed with the organization domain's key (dkimpy: pass)"
like "$(send evil/spy "$evilkey" "org-domain-evil")" '^<\*\* +5[0-9][0-9] ' "a server of another organization cannot send from it"

# ---- the web admin's pages (tests/browser/orgdomains.mjs)
if harness_browser orgdomains.mjs 4 1 BASE_URL="$base" ADMIN_EMAIL=ora@example.test ADMIN_PASSWORD='Ora-pass-phrase-1' \
	MEMBER_EMAIL=mel@example.test MEMBER_PASSWORD='Mel-pass-phrase-1' ORG=acme LISTED=shared.example NEW_DOMAIN=ui.example; then
	is "$(sql "SELECT CONCAT(server_id IS NULL, ' ', o.permalink) FROM domains d JOIN organizations o ON o.id = d.organization_id
		WHERE d.name = 'ui.example'")" "1 acme" "... and the domain made in the browser belongs to the organization"
fi

is "$(code "$(as mel DELETE "$O/shared.example")")" "403 Forbidden" "a member cannot delete one"
is "$(status "$(as ora DELETE "$O/shared.example")") $(body "$(as ora GET "$O")" | j '[x["name"] for x in d["data"]["domains"]]')" \
	'200 ["ui.example", "verified.example"]' "an admin deletes it"
