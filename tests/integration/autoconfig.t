#!/bin/bash
#
# autoconfig.t -- mail clients set up a hosted mailbox from its address: postgate-admin
# answers Thunderbird's autoconfig (by emailaddress, by the Host autoconfig.<domain>, and
# at the .well-known path), Outlook's POX autodiscover request and an Apple configuration
# profile, each read back with an independent parser (Python's ElementTree and plistlib)
# and checked field by field against the autoconfig.* settings. Only hosted domains
# answer: a domain that is not hosted, an unknown one and another tenant's unverified row
# flagged for hosting get 404; a malformed address 400. The parser of Outlook's request
# loads nothing a request names (an external entity is refused, never read) and the
# writer escapes what the request brought. A hosted domain's DNS records name the
# autoconfig and autodiscover hosts and the RFC 6186 services.
#
# Must never: pass when a document carries a value other than the configured one, or
# answers for a domain this host does not serve.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb
cat >>"$HARNESS_CONFIG" <<EOF
autoconfig: { hostname = "mail.provider.test"; imap_port = 993; submission_port = 587; };
EOF
HARNESS_CTL=${HARNESS_CTL:-"$POSTGATE_BUILDDIR/ctl/postgatectl -c $HARNESS_CONFIG"}
out=$($HARNESS_CTL initialize 2>&1) || harness_setup_failed "postgatectl initialize: $out"
harness_start_admin
base=$HARNESS_ADMIN_URL
plan 23

ctl() { $HARNESS_CTL "$@"; }
D=hosted.autoconfig.test
ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name "$D" --verified >/dev/null
zone=$(ctl domain hosting acme/mail "$D" on)
plain_zone=$(ctl domain create --server acme/mail --name plain.autoconfig.test --verified)
ctl org create --name Evil --permalink evil >/dev/null
ctl server create --org evil --name Spy --permalink spy >/dev/null
ctl domain create --server evil/spy --name stolen.autoconfig.test >/dev/null
harness_sql "UPDATE domains SET hosting = 1 WHERE name = 'stolen.autoconfig.test'"

# status PATH [CURL-ARGS...]: "CODE CONTENT-TYPE"; the body in ac.body, the header in ac.headers.
status() {
	local path=$1
	shift
	curl -sS -D "$HARNESS_DIR/ac.headers" -o "$HARNESS_DIR/ac.body" -w '%{http_code} %{content_type}\n' "$@" "$base$path"
}
# get PATH [CURL-ARGS...]: the status line, then the body.
get() {
	status "$@"
	cat "$HARNESS_DIR/ac.body"
}
# thunderbird FILE: the fields a client reads, one "type host port socket user" per server.
thunderbird() {
	/usr/bin/python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
p = root.find('emailProvider')
print(root.tag, root.get('version'), p.get('id'), p.findtext('domain'))
for s in p.findall('incomingServer') + p.findall('outgoingServer'):
    print(s.get('type'), s.findtext('hostname'), s.findtext('port'), s.findtext('socketType'),
          s.findtext('authentication'), s.findtext('username'))
PY
}

# ---- Thunderbird
like "$(status "/mail/config-v1.1.xml?emailaddress=alice@$D")" '^200 application/xml' \
	"Thunderbird's autoconfig for a hosted domain's address: 200 XML"
is "$(thunderbird "$HARNESS_DIR/ac.body")" "clientConfig 1.1 $D $D
imap mail.provider.test 993 SSL password-cleartext %EMAILADDRESS%
pop3 mail.provider.test 995 SSL password-cleartext %EMAILADDRESS%
smtp mail.provider.test 587 STARTTLS password-cleartext %EMAILADDRESS%" \
	"... IMAP, POP3 and submission with the configured host, ports and security"
like "$(status /mail/config-v1.1.xml -H "Host: autoconfig.$D")" '^200 ' \
	"asked at autoconfig.<domain> without an address, it answers for that domain"
like "$(thunderbird "$HARNESS_DIR/ac.body" | head -1)" " $D $D\$" "... naming the domain of the Host"
like "$(status "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=Bob@${D^^}")" '^200 ' \
	"the .well-known path answers too (any case of the address)"
is "$(status "/mail/config-v1.1.xml?emailaddress=alice@plain.autoconfig.test") $(status "/mail/config-v1.1.xml?emailaddress=a@nowhere.test")" \
	"404 application/json; charset=utf-8 404 application/json; charset=utf-8" \
	"a verified domain that is not hosted, and an unknown one, get 404"
is "$(status "/mail/config-v1.1.xml?emailaddress=a@stolen.autoconfig.test")" "404 application/json; charset=utf-8" \
	"another tenant's unverified row flagged for hosting gets 404"
like "$(status "/mail/config-v1.1.xml?emailaddress=%3Cscript%3E@$D") $(status "/mail/config-v1.1.xml?emailaddress=nobody")" \
	'^400 .* 400 ' "a malformed address gets 400"
like "$(cat "$HARNESS_DIR/ac.body")" '"code": *"InvalidAddress"' "... with a JSON error saying so"
is "$(status /mail/config-v1.1.xml -H "Host: admin.example.test")" "400 application/json; charset=utf-8" \
	"neither an address nor an autoconfig.<domain> Host: 400"

# ---- Outlook (POX autodiscover)
outlook_request() {
	printf '<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">\r\n  <Request>\r\n    <EMailAddress>%s</EMailAddress>\r\n    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>\r\n  </Request>\r\n</Autodiscover>\r\n' "$1"
}
# outlook FILE: "type server port login ssl encryption" per protocol.
outlook() {
	/usr/bin/python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {'r': 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006',
      'a': 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'}
root = ET.parse(sys.argv[1]).getroot()
acct = root.find('a:Response/a:Account', ns)
print(acct.findtext('a:AccountType', namespaces=ns), acct.findtext('a:Action', namespaces=ns))
for p in acct.findall('a:Protocol', ns):
    print(*(p.findtext('a:' + f, namespaces=ns) for f in ('Type', 'Server', 'Port', 'LoginName', 'SSL', 'Encryption')))
PY
}
outlook_request "alice@$D" >"$HARNESS_DIR/outlook.xml"
like "$(status /autodiscover/autodiscover.xml -X POST -H 'Content-Type: text/xml' --data-binary "@$HARNESS_DIR/outlook.xml")" \
	'^200 application/xml' "Outlook's autodiscover request for a hosted address: 200 XML"
is "$(outlook "$HARNESS_DIR/ac.body")" "email settings
IMAP mail.provider.test 993 alice@$D on SSL
POP3 mail.provider.test 995 alice@$D on SSL
SMTP mail.provider.test 587 alice@$D on TLS" "... the account's protocols with the address as login"
outlook_request "a&amp;b@$D" >"$HARNESS_DIR/outlook-amp.xml"
status /Autodiscover/Autodiscover.xml -X POST --data-binary "@$HARNESS_DIR/outlook-amp.xml" >/dev/null
is "$(outlook "$HARNESS_DIR/ac.body" | sed -n 2p)" "IMAP mail.provider.test 993 a&b@$D on SSL" \
	"an address with '&' comes back escaped and intact (and /Autodiscover/ answers too)"
{
	printf '<?xml version="1.0"?>\n<!DOCTYPE Autodiscover [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
	printf '<Autodiscover><Request><EMailAddress>&e;@%s</EMailAddress></Request></Autodiscover>\n' "$D"
} >"$HARNESS_DIR/outlook-xxe.xml"
out=$(get /autodiscover/autodiscover.xml -X POST --data-binary "@$HARNESS_DIR/outlook-xxe.xml")
like "$out" '^400 ' "a request declaring an external entity is refused (400)"
unlike "$out" 'root:' "... and nothing of the file it names comes back"
like "$(status /autodiscover/autodiscover.xml -X POST --data-binary 'not xml at all')" '^400 ' \
	"a body that is not an autodiscover request gets 400"
outlook_request "alice@plain.autoconfig.test" >"$HARNESS_DIR/outlook-plain.xml"
like "$(status /autodiscover/autodiscover.xml -X POST --data-binary "@$HARNESS_DIR/outlook-plain.xml")" '^404 ' \
	"... and one for a domain that is not hosted 404"

# ---- Apple
apple() {
	/usr/bin/python3 - "$1" <<'PY'
import plistlib, sys
with open(sys.argv[1], 'rb') as f:
    p = plistlib.load(f)
a = p['PayloadContent'][0]
print(p['PayloadType'], a['PayloadType'], a['EmailAccountType'], a['EmailAddress'])
print(a['IncomingMailServerHostName'], a['IncomingMailServerPortNumber'], a['IncomingMailServerUseSSL'],
      a['IncomingMailServerUsername'], a['IncomingMailServerAuthentication'])
print(a['OutgoingMailServerHostName'], a['OutgoingMailServerPortNumber'], a['OutgoingMailServerUseSSL'],
      a['OutgoingMailServerUsername'], a['OutgoingPasswordSameAsIncomingPassword'])
print(p['PayloadIdentifier'], p['PayloadUUID'])
PY
}
like "$(status "/mail/apple.mobileconfig?emailaddress=alice@$D")" '^200 application/x-apple-aspen-config$' \
	"an Apple configuration profile for a hosted address"
first=$(apple "$HARNESS_DIR/ac.body")
is "$(head -3 <<<"$first")" "Configuration com.apple.mail.managed EmailTypeIMAP alice@$D
mail.provider.test 993 True alice@$D EmailAuthPassword
mail.provider.test 587 True alice@$D True" "... read by plistlib: an IMAP account with the configured servers"
like "$(tr -d '\r' <"$HARNESS_DIR/ac.headers" | grep -i '^Content-Disposition:')" "attachment; filename=\"$D\\.mobileconfig\"" \
	"... offered as a download named after the domain"
status "/mail/apple.mobileconfig?emailaddress=alice@$D" >/dev/null
second=$(apple "$HARNESS_DIR/ac.body")
is "$(tail -1 <<<"$first" | cut -d' ' -f1) $([ "$(tail -1 <<<"$first")" != "$(tail -1 <<<"$second")" ] && echo fresh)" \
	"postgate.mail.alice@$D fresh" "... one identifier per account, a fresh PayloadUUID each time"

# ---- DNS records of a hosted domain
is "$(grep -cE "^(autoconfig\\.$D\\.\\s.*CNAME\\s+mail\\.provider\\.test\\.|autodiscover\\.$D\\.\\s.*CNAME\\s+mail\\.provider\\.test\\.|_autodiscover\\._tcp\\.$D\\.\\s.*SRV\\s+0 0 443 mail\\.provider\\.test\\.|_imaps\\._tcp\\.$D\\.\\s.*SRV\\s+0 1 993 mail\\.provider\\.test\\.|_pop3s\\._tcp\\.$D\\.\\s.*SRV\\s+0 1 995 mail\\.provider\\.test\\.|_submission\\._tcp\\.$D\\.\\s.*SRV\\s+0 1 587 mail\\.provider\\.test\\.)" <<<"$zone" || true)" 6 \
	"switching hosting on prints the DNS records, naming autoconfig, autodiscover and the RFC 6186 services"
is "$(grep -c 'autoconfig\.plain\.autoconfig\.test' <<<"$plain_zone" || true)" 0 "... a domain that is not hosted has none"
