#!/bin/bash
#
# mgmt_v2_server.t -- the management API v2 for a server's domains and credentials,
# end to end: postgate-admin against a private MariaDB, postgate-policyd and the private
# Postfix (a credential made through the API must work for SMTP AUTH, and stop working
# once deleted). Domains: DKIM keys made and sealed, the DNS records to publish, "verified"
# for installation admins only. Credentials: the key shown once, never listed, never
# stored in clear. Roles: readonly reads only, outsiders get 404. Per-field validation.
#
# Must never: believe an answer about a change without looking at the database, pass
# on an answer it did not parse, or leave postgate-admin running.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"
command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
plan 45

# ---------------------------------------------------------------- postgate-admin

harness_start_admin
base=$HARNESS_ADMIN_URL

mkuser root@example.test 'Adm1n-pass-phrase' --admin
mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser bob@example.test 'B0b-pass-phrase!'
mkuser eve@example.test 'Ev3-pass-phrase!'

# ---------------------------------------------------------------- helpers

# j EXPR: a Python expression over the JSON document d from stdin ("PARSE-ERROR" if not JSON).
# swaks AUTH PLAIN with key $1 against the private Postfix; the first 235/535/454 reply.
auth_plain() {
	local out
	out=$(timeout 30 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from a@postgate.test \
		--to someone@example.net --quit-after AUTH --auth PLAIN --auth-user ignored --auth-password "$1" 2>&1) || true
	grep -m1 -oE '^ *<[-~*]+ +(235|535|454) .*' <<<"$out" | sed -E 's/^ *<[-~*]+ +//' || true
}

login alice alice@example.test 'Al1ce-pass-phrase'
login bob bob@example.test 'B0b-pass-phrase!'
login eve eve@example.test 'Ev3-pass-phrase!'
login root root@example.test 'Adm1n-pass-phrase'
# shellcheck disable=SC2154 # login() sets csrf_NAME with printf -v
if [ "${#csrf_alice}" != 64 ] || [ "${#csrf_bob}" != 64 ] || [ "${#csrf_eve}" != 64 ] || [ "${#csrf_root}" != 64 ]; then
	harness_setup_failed "logins failed"
fi
tok=$(body "$(as alice POST /api/v2/user/tokens '{"name": "ci"}')" | j 'd["data"]["token"]["token"]')

# ---------------------------------------------------------------- 1-3: set-up through the API

is "$(code "$(as alice POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}')")" "201 " "alice creates organization acme"
is "$(code "$(as alice POST /api/v2/organizations/acme/servers '{"name": "Mail", "permalink": "mail"}')")" "201 " \
	"alice creates server acme/mail"
is "$(code "$(as alice POST /api/v2/organizations/acme/members '{"email": "bob@example.test", "role": "readonly"}')")" "201 " \
	"bob joins acme as readonly"
S=/api/v2/organizations/acme/servers/mail

# ---------------------------------------------------------------- 4-19: domains

a=$(bearer "$tok" POST $S/domains '{"name": "Example.COM", "ed25519": true}')
is "$(code "$a")" "201 " "POST domains (Bearer): 201"
is "$(body "$a" | j '"%s %s %s" % (d["data"]["domain"]["name"], d["data"]["domain"]["verified"], sorted(k["algorithm"] for k in d["data"]["domain"]["dkim_keys"]))')" \
	"example.com False ['ed25519-sha256', 'rsa-sha256']" "the name is lowercased, not verified, with an RSA and an Ed25519 key"
rsa_sel=$(body "$a" | j '[k["selector"] for k in d["data"]["domain"]["dkim_keys"] if k["algorithm"] == "rsa-sha256"][0]')
like "$(body "$a" | j 'd["data"]["domain"]["dns_records"]')" \
	"${rsa_sel}\._domainkey\.example\.com\.	3600	IN	TXT	\"v=DKIM1; t=s; h=sha256; p=[A-Za-z0-9+/]{40}" \
	"dns_records has the RSA key's DKIM TXT record with p="
contains "$(body "$a" | j 'd["data"]["domain"]["dns_records"]')" \
	"_dmarc.example.com.	3600	IN	TXT	\"v=DMARC1; p=none\"" "... and a DMARC record with dns.dmarc_policy (default none) and no rua="
out=$(POSTGATE_DNS_DMARC_POLICY=reject POSTGATE_DNS_DMARC_REPORT_ADDRESS=dmarc@example.net \
	$HARNESS_CTL domain create --org acme --name dmarc1.example 2>&1 | grep '^_dmarc' || true)
bad=$(POSTGATE_DNS_DMARC_REPORT_ADDRESS='x@example.net; p=none' \
	$HARNESS_CTL domain create --org acme --name dmarc2.example 2>&1 | grep '^_dmarc' || true)
is "$out | $bad" "_dmarc.dmarc1.example.	3600	IN	TXT	\"v=DMARC1; p=reject; rua=mailto:dmarc@example.net\" | _dmarc.dmarc2.example.	3600	IN	TXT	\"v=DMARC1; p=none\"" \
	"the DMARC record follows dns.dmarc_policy and dns.dmarc_report_address; an address that could end the tag is left out"
is "$(sql "SELECT COUNT(*) FROM domains d JOIN servers s ON s.id = d.server_id WHERE d.name = 'example.com' AND s.permalink = 'mail' AND d.verified_at IS NULL")" 1 \
	"the database has the unverified domain under acme/mail"
is "$(sql "SELECT COUNT(*) FROM domain_dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'example.com' AND k.state = 'active' AND k.private_key_encrypted NOT LIKE '%PRIVATE KEY%'")" 2 \
	"two active keys, stored sealed"
a=$(as alice GET $S/domains)
is "$(body "$a" | j '" ".join("%s:%s:%s" % (x["name"], x["verification_method"], len(x["dkim_keys"])) for x in d["data"]["domains"])')" \
	"example.com:DNS:2" "GET domains lists it with method and keys"
unlike "$(body "$a")" 'PRIVATE|private_key|verification_token' "no private key in the list"
is "$(code "$(as alice POST $S/domains '{"name": "example.com"}')")" "409 DomainTaken" "the same name again: 409 DomainTaken"
is "$(code "$(as alice POST $S/domains '{"name": "verified.example", "verified": true}')")" "403 Forbidden" \
	"an owner who is not an installation admin may not pass verified: true"
a=$(as root POST $S/domains '{"name": "verified.example", "verified": true}')
is "$(code "$a") $(body "$a" | j 'd["data"]["domain"]["verified"]')" "201  true" "an installation admin may"
is "$(sql "SELECT COUNT(*) FROM domains WHERE name = 'verified.example' AND verified_at IS NOT NULL")" 1 "and it is verified in the database"
a=$(as bob GET $S/domains/example.com)
is "$(code "$a") $(body "$a" | j 'd["data"]["domain"]["name"]')" "200  example.com" "readonly bob reads a domain"
is "$(code "$(as bob POST $S/domains '{"name": "bob.example"}')")" "403 Forbidden" "readonly bob may not create one"
is "$(code "$(as bob DELETE $S/domains/example.com)")" "403 Forbidden" "nor delete one"
is "$(code "$(as eve GET $S/domains)") / $(code "$(as eve POST $S/domains '{"name": "eve.example"}')")" "404 NotFound / 404 NotFound" \
	"outsider eve: 404 for the list and for a create"
a=$(as alice POST $S/domains '{"name": "bad_domain..com", "ed25519": "yes", "colour": 1}')
is "$(code "$a") $(body "$a" | j '" ".join(sorted(d["data"]["errors"]))')" "400 ValidationError colour ed25519 name" \
	"a bad domain name, a non-boolean and an unknown field: one error each"

# ---------------------------------------------------------------- 20-22: domain delete

is "$(code "$(as alice DELETE $S/domains/verified.example)")" "200 " "alice deletes verified.example"
is "$(sql "SELECT COUNT(*) FROM domains WHERE name = 'verified.example'")" 0 "it is gone from the database"
is "$(code "$(as alice GET $S/domains/verified.example)")" "404 NotFound" "and GET answers 404"

# ---------------------------------------------------------------- 23-44: credentials

a=$(as alice POST $S/credentials '{"type": "SMTP", "name": "app"}')
is "$(code "$a")" "201 " "POST credentials (SMTP): 201"
key=$(body "$a" | j 'd["data"]["credential"]["key"]')
uuid=$(body "$a" | j 'd["data"]["credential"]["uuid"]')
like "$key" '^[A-Za-z0-9]{24}$' "the answer shows a 24-character key"
is "$(body "$a" | j '"%s %s %s" % (d["data"]["credential"]["cram_md5_username"], d["data"]["credential"]["key_prefix"], d["data"]["credential"]["hold"])')" \
	"acme/mail ${key:0:4} False" "with the CRAM-MD5 user name and the key's prefix"
is "$(sql "SELECT COUNT(*) FROM credentials WHERE uuid = '$uuid' AND key_hash = SHA2('$key', 256)")" 1 \
	"the database keeps the key's SHA-256"
is "$(sql "SELECT COUNT(*) FROM credentials WHERE key_hash = '$key' OR key_prefix = '$key' OR name = '$key'")" 0 "not the key in clear"
a=$(as bob GET $S/credentials)
is "$(body "$a" | j '" ".join("%s:%s:%s" % (x["uuid"], x["type"], x["name"]) for x in d["data"]["credentials"])')" \
	"$uuid:SMTP:app" "readonly bob lists the credential"
unlike "$(body "$a")" "$key|key_hash|\"key\"" "the list never shows the key or a hash"
is "$(auth_plain "$key")" "235 2.7.0 Authentication successful" "the key works for SMTP AUTH PLAIN through Postfix"

a=$(as alice PATCH "$S/credentials/$uuid" '{"name": "app2", "hold": true}')
is "$(code "$a") $(body "$a" | j '"%s %s" % (d["data"]["credential"]["name"], d["data"]["credential"]["hold"])')" "200  app2 True" \
	"PATCH renames and holds it"
is "$(sql "SELECT CONCAT(name, ' ', hold) FROM credentials WHERE uuid = '$uuid'")" "app2 1" "the database agrees"
is "$(code "$(as bob PATCH "$S/credentials/$uuid" '{"hold": false}')")" "403 Forbidden" "readonly bob may not change it"
is "$(code "$(as eve DELETE "$S/credentials/$uuid")")" "404 NotFound" "outsider eve may not even see it"
is "$(sql "SELECT COUNT(*) FROM credentials WHERE uuid = '$uuid'")" 1 "it is still there"

a=$(as alice POST $S/credentials '{"type": "POP3", "name": "x"}')
is "$(code "$a") $(body "$a" | j '" ".join(sorted(d["data"]["errors"]))')" "400 ValidationError type" "a bad type: an error on type"
a=$(as alice POST $S/credentials '{"type": "SMTP-IP", "name": "office", "network": "192.0.2.300/24"}')
is "$(code "$a") $(body "$a" | j '" ".join(sorted(d["data"]["errors"]))')" "400 ValidationError network" "a bad network: an error on network"
a=$(as alice POST $S/credentials '{"type": "SMTP-IP", "name": "office"}')
is "$(body "$a" | j 'd["data"]["errors"]["network"][0]')" "is required" "SMTP-IP without a network: network is required"
a=$(as alice POST $S/credentials '{"type": "API", "name": "", "network": "192.0.2.0/24", "hold": 1}')
is "$(code "$a") $(body "$a" | j '" ".join(sorted(d["data"]["errors"]))')" "400 ValidationError hold name network" \
	"an empty name, a network on an API key, a non-boolean hold: one error each"
a=$(as alice POST $S/credentials '{"type": "SMTP-IP", "name": "office", "network": "192.0.2.0/24"}')
is "$(code "$a") $(body "$a" | j '"%s %s" % (d["data"]["credential"]["network"], "key" in d["data"]["credential"])')" \
	"201  192.0.2.0/24 False" "an SMTP-IP credential shows its network and has no key"

is "$(code "$(as alice DELETE "$S/credentials/$uuid")")" "200 " "alice deletes the SMTP credential"
is "$(sql "SELECT COUNT(*) FROM credentials WHERE uuid = '$uuid'")" 0 "it is gone from the database"
like "$(auth_plain "$key")" '^535 ' "its key now fails SMTP AUTH with 535"
