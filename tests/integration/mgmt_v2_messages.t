#!/bin/bash
#
# mgmt_v2_messages.t -- the management API v2 for a server's message log, holds, the
# Postfix queue, domain verification and DNS checks, DKIM rotation, invitations and
# passwords, end to end: postgate-admin against a private MariaDB, postgate-milter and
# postgate-policyd beside the private Postfix (real mail submitted with swaks and SMTP
# AUTH, delivered to smtp-sink), and dnsmasq answering DNS on a high loopback port.
# Search by every filter and keyset pages (no duplicate, no gap, compared with the
# messages table), one message with headers, bodies and attachments, the raw message,
# release through the API (the sink's copy has a DKIM signature that verifies), cancel,
# bulk release, a deferred message in `postqueue -j`, roles (readonly 403, outsiders
# 404) and bad input.
#
# Must never: believe an answer about a change without looking at the database or the
# sink, pass on an answer it did not parse, or leave dnsmasq or postgate-admin running.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"
command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"
command -v dnsmasq >/dev/null 2>&1 || skip_all "dnsmasq missing: run 'packaging/install-deps test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
plan 92

here=$(cd "$(dirname "$0")" && pwd)
ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)

# postqueue is set-group-ID postdrop, and Postfix lets an unprivileged caller of a
# set-group-ID postqueue name a configuration directory only when the system's
# /etc/postfix/main.cf lists it (alternate_config_directories), which a test must not
# change. A copy without the set-group-ID bit may name any directory; it reaches the
# private instance's showq once the public directory may be entered.
cp /usr/sbin/postqueue "$HARNESS_DIR/postqueue"
chmod 755 "$HARNESS_DIR/postqueue"
chmod o+x "$HARNESS_QUEUE_DIR/public"
export POSTGATE_POSTFIX_POSTQUEUE_PATH="$HARNESS_DIR/postqueue"

# dnsmasq on a free loopback port answers the DNS checks; started later (its records
# depend on the domain's tokens), stopped by the trap below.
DNS_PORT=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT" "$HARNESS_RELEASE_PORT" "$HARNESS_INJECTION_PORT")
export POSTGATE_DNS_RESOLVER="127.0.0.1:$DNS_PORT"
# The private resolver, restarted with other records as the test goes on (same port).
dns_stop() { instance_dns_stop "$HARNESS_DIR/dns"; }
trap 'dns_stop; harness_on_exit $?' EXIT
dns_start() {
	dns_stop
	instance_dns_start "$HARNESS_DIR/dns" "$DNS_PORT" "$@" || diag "dnsmasq did not start on port $DNS_PORT"
}

harness_start_admin
base=$HARNESS_ADMIN_URL

mkuser root@example.test 'Adm1n-pass-phrase' --admin
mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser bob@example.test 'B0b-pass-phrase!'
mkuser carol@example.test 'Car0l-pass-phrase'
mkuser eve@example.test 'Ev3-pass-phrase!'

login alice alice@example.test 'Al1ce-pass-phrase'
login bob bob@example.test 'B0b-pass-phrase!'
login carol carol@example.test 'Car0l-pass-phrase'
login eve eve@example.test 'Ev3-pass-phrase!'
login root root@example.test 'Adm1n-pass-phrase'
# shellcheck disable=SC2154 # login() sets csrf_NAME with printf -v
if [ "${#csrf_alice}" != 64 ] || [ "${#csrf_bob}" != 64 ] || [ "${#csrf_carol}" != 64 ] || [ "${#csrf_root}" != 64 ]; then
	harness_setup_failed "logins failed"
fi

# ---------------------------------------------------------------- set-up

[ "$(code "$(as alice POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}')")" = "201 " ] &&
	[ "$(code "$(as alice POST /api/v2/organizations/acme/servers '{"name": "Mail", "permalink": "mail"}')")" = "201 " ] &&
	[ "$(code "$(as alice POST /api/v2/organizations/acme/members '{"email": "bob@example.test", "role": "readonly"}')")" = "201 " ] &&
	[ "$(code "$(as alice POST /api/v2/organizations/acme/members '{"email": "carol@example.test", "role": "member"}')")" = "201 " ] &&
	[ "$(code "$(as eve POST /api/v2/organizations '{"name": "Evil", "permalink": "evil"}')")" = "201 " ] ||
	harness_setup_failed "organizations, servers and members"
S=/api/v2/organizations/acme/servers/mail
ctl domain create --server acme/mail --name example.com --verified >"$HARNESS_DIR/records.zone" ||
	harness_setup_failed "domain create"
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
[ -n "$key" ] || harness_setup_failed "credential create"

# send TO SUBJECT [swaks args...]: one message through the private Postfix with AUTH PLAIN.
send() {
	local to=$1 subject=$2
	shift 2
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user x --auth-password "$key" \
		--from app@example.com --to "$to" --h-From "App <app@example.com>" --h-Subject "$subject" "$@" 2>&1 || true
}
sink_file() { instance_sink_find "$1"; }
wait_sink() { harness_wait_for 30 sink_file "$1" >/dev/null; }
verify_py() { /usr/bin/python3 "$here/dkim-verify.py" "$HARNESS_DIR/records.zone" "$1" 2>&1 || true; }
# ids_sql WHERE: the ids of the server's matching messages, newest first, space-separated.
ids_sql() { sql "SELECT GROUP_CONCAT(id ORDER BY created_at DESC, id DESC SEPARATOR ' ') FROM messages WHERE $1"; }
ids() { j '" ".join(str(m["id"]) for m in d["data"]["messages"])'; }
# search QUERY: the ids a search answers (as alice), or the error.
search() {
	local a
	a=$(as alice GET "$S/messages?$1")
	if [ "$(status "$a")" = 200 ]; then body "$a" | ids; else code "$a"; fi
}

for i in 1 2 3 4 5 6; do
	send "user$i@example.net" "bulk $i $run_id" --add-header "X-Postal-Tag: tag$((i % 2))" >/dev/null
done
send "special@example.net" "100% off_sale $run_id" >/dev/null
# A multipart message with plain and HTML bodies and an attachment.
cat >"$HARNESS_DIR/rich.eml" <<EOF
From: App <app@example.com>
To: rich@example.net
Subject: rich $run_id
Message-ID: <rich-$run_id@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

Hello plain $run_id
--inner
Content-Type: text/html; charset=utf-8

<p>Hello html $run_id</p>
--inner--
--outer
Content-Type: text/csv; name="report.csv"
Content-Disposition: attachment; filename="report.csv"
Content-Transfer-Encoding: base64

$(printf 'a,b\n1,2\n' | base64)
--outer--
EOF
timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user x --auth-password "$key" \
	--from app@example.com --to rich@example.net --data "$HARNESS_DIR/rich.eml" >/dev/null 2>&1 || true
wait_sink "rich $run_id" || true
[ "$(sql "SELECT COUNT(*) FROM messages")" = 8 ] || harness_setup_failed "8 messages recorded ($(sql "SELECT COUNT(*) FROM messages"))"

# ---------------------------------------------------------------- 1-13: search

is "$(search '')" "$(ids_sql 1)" "GET messages: every message, newest first"
is "$(search 'to=USER3@example.net')" "$(ids_sql "rcpt_to = 'user3@example.net'")" "to= finds the recipient (any case)"
is "$(search 'from=app%40example.com&limit=100' | wc -w)" 8 "from= finds the sender's messages"
is "$(search "subject=bulk%204%20$run_id")" "$(ids_sql "subject LIKE 'bulk 4 %'")" "subject= finds a substring"
is "$(search 'subject=100%25%20off_')" "$(ids_sql "rcpt_to = 'special@example.net'")" \
	"subject= takes % and _ literally (only the message that has them)"
is "$(search 'tag=tag1')" "$(ids_sql "tag = 'tag1'")" "tag= (X-Postal-Tag recorded as the tag)"
like "$(search 'tag=tag1')" '^[0-9]+ [0-9]+ [0-9]+$' "three messages carry tag1"
is "$(search 'status=Pending&limit=100' | wc -w)" "$(sql "SELECT COUNT(*) FROM messages WHERE status = 'Pending'")" "status= filters"
is "$(search 'scope=outgoing&limit=100' | wc -w) $(search 'scope=incoming')" "8 " "scope=outgoing has all, incoming none"
is "$(search "message_id=rich-$run_id@example.com")" "$(ids_sql "rcpt_to = 'rich@example.net'")" \
	"message_id= finds the message (without angle brackets)"
is "$(search "message_id=%3Crich-$run_id@example.com%3E")" "$(ids_sql "rcpt_to = 'rich@example.net'")" "... and with them"
now=$(date -u +%s)
is "$(search "since=$((now + 3600))")|$(search "until=2000-01-01T00:00:00Z")|$(search "since=2000-01-01T00:00:00Z&until=$((now + 3600))&limit=100" | wc -w)" \
	"||8" "since/until: none in the future, none before 2000, all between"

# ---------------------------------------------------------------- 14-17: pages

pages=() cursor= n=0
while :; do
	a=$(as alice GET "$S/messages?limit=3${cursor:+&before=$cursor}")
	pages+=("$(body "$a" | ids)")
	cursor=$(body "$a" | j 'd["data"]["next_before"] or ""')
	n=$((n + 1))
	[ -n "$cursor" ] && [ "$n" -lt 10 ] || break
done
is "${#pages[@]}" 3 "8 messages in pages of 3: three pages, the last without next_before"
is "${pages[*]}" "$(ids_sql 1)" "the pages together are every message once, in order: no duplicate, no gap"
is "$(search "before=abc")" "400 ValidationError" "a cursor that is not a message id: 400"
a=$(as alice GET "$S/messages?before=999999999")
is "$(code "$a") $(body "$a" | j 'd["data"]["errors"]["before"][0]')" "400 ValidationError is not a message of this server" \
	"a cursor that is no message of this server: 400 naming before"
a=$(as alice GET "$S/messages?status=Bogus&scope=sideways&limit=1000&since=yesterday")
is "$(code "$a") $(body "$a" | j '" ".join(sorted(d["data"]["errors"]))')" "400 ValidationError limit scope since status" \
	"a bad status, scope, limit and time: one error each"

# ---------------------------------------------------------------- 18-22: SQL metacharacters, roles

is "$(search "subject=%27%20OR%201%3D1%20--%20")|$(search "to=x%27%20OR%20%271%27%3D%271")" "|" \
	"SQL metacharacters in search terms find nothing and break nothing"
is "$(code "$(as bob GET "$S/messages")")" "200 " "readonly bob may search"
is "$(code "$(as eve GET "$S/messages")")" "404 NotFound" "outsider eve: 404"
rich=$(sql "SELECT id FROM messages WHERE rcpt_to = 'rich@example.net'")
is "$(code "$(as eve GET "$S/messages/$rich")")|$(code "$(as eve GET "$S/messages/$rich/raw")")" "404 NotFound|404 NotFound" \
	"outsider eve: 404 for a message and its raw copy"
eve_server=$(as eve POST /api/v2/organizations/evil/servers '{"name": "Evil", "permalink": "mail"}')
is "$(code "$(as eve GET "/api/v2/organizations/evil/servers/mail/messages/$rich")")" "404 NotFound" \
	"a message id of another server is not found through one's own server"

# ---------------------------------------------------------------- 23-31: one message

a=$(as bob GET "$S/messages/$rich")
is "$(code "$a")" "200 " "GET one message"
is "$(body "$a" | j '"%s|%s|%s" % (d["data"]["message"]["subject"], d["data"]["message"]["message_id"], d["data"]["message"]["rcpt_to"])')" \
	"rich $run_id|rich-$run_id@example.com|rich@example.net" "subject, Message-ID (bare) and recipient"
is "$(body "$a" | j 'd["data"]["message"]["headers"]["subject"][0] + "|" + d["data"]["message"]["headers"]["to"][0]')" \
	"rich $run_id|rich@example.net" "headers by lower-case name"
is "$(body "$a" | j 'd["data"]["message"]["plain_body"].strip() + "|" + d["data"]["message"]["html_body"].strip()')" \
	"Hello plain $run_id|<p>Hello html $run_id</p>" "plain and HTML bodies"
is "$(body "$a" | j '"%s" % [(x["filename"], x["content_type"], x["size"], "data" in x) for x in d["data"]["message"]["attachments"]]')" \
	"[('report.csv', 'text/csv', 8, False)]" "the attachment list: name, type, size, no data"
is "$(body "$a" | j '"%s %s %s" % (type(d["data"]["message"]["deliveries"]).__name__, d["data"]["message"]["loads"], d["data"]["message"]["clicks"])')" \
	"list [] []" "deliveries, loads and clicks are lists"
a=$(as bob GET "$S/messages/$rich/attachments/0")
is "$(body "$a" | j 'd["data"]["attachment"]["filename"]')|$(body "$a" | j 'd["data"]["attachment"]["data"]' | base64 -d | tr '\n' ' ')" \
	"report.csv|a,b 1,2 " "attachment 0 with its data in base64"
is "$(code "$(as bob GET "$S/messages/$rich/attachments/1")")|$(code "$(as bob GET "$S/messages/$rich/attachments/x")")|$(code "$(as bob GET "$S/messages/99999999")")" \
	"404 NotFound|404 NotFound|404 NotFound" "no such attachment or message: 404"
a=$(as bob GET "$S/messages/$rich/raw")
raw_db=$(sql "SELECT SHA2(CONCAT(r.headers, '\r\n', r.body), 256) FROM raw_messages r JOIN messages m ON m.raw_message_id = r.id WHERE m.id = $rich")
is "$(body "$a" | j 'd["data"]["raw_message"]' | base64 -d | sha256sum | cut -d' ' -f1)" "$raw_db" \
	"raw: base64 of exactly the stored message"

# ---------------------------------------------------------------- 32-47: holds

is "$(code "$(as alice PATCH "$S" '{"mode": "Development"}')")" "200 " "alice puts the server in development mode"
sleep 2.1
for i in 1 2 3 4; do send "held$i@example.net" "held $i $run_id" >/dev/null; done
held() { sql "SELECT id FROM messages WHERE rcpt_to = 'held$1@example.net'"; }
is "$(search 'status=Held' | wc -w)" 4 "four held messages (status=Held)"
h1=$(held 1) h2=$(held 2) h3=$(held 3) h4=$(held 4)
is "$(code "$(as bob POST "$S/messages/$h1/release")")" "403 Forbidden" "readonly bob may not release: 403"
is "$(code "$(as eve POST "$S/messages/$h1/release")")" "404 NotFound" "outsider eve: 404"
is "$(sql "SELECT status FROM messages WHERE id = $h1")" Held "still held"
a=$(as carol POST "$S/messages/$h1/release")
is "$(code "$a")" "200 " "member carol releases it"
wait_sink "held 1 $run_id" && f=$(sink_file "held 1 $run_id") || f=/dev/null
contains "$(grep '^X-Rcpt-Args:' "$f" || true)" "<held1@example.net>" "the released message reaches the sink"
like "$(verify_py "$f")" '^pass a=rsa-sha256 d=example.com' "with a DKIM signature that verifies"
is "$(sql "SELECT CONCAT(status, ' ', postfix_queue_id IS NOT NULL) FROM messages WHERE id = $h1")" "Pending 1" \
	"the row is queued again"
is "$(code "$(as carol POST "$S/messages/$h1/release")")" "409 NotHeld" "releasing it again: 409 NotHeld"
a=$(as carol POST "$S/messages/$h2/cancel")
is "$(code "$a") $(body "$a" | j 'd["data"]["message"]["status"]')" "200  HoldCancelled" "carol cancels another hold"
is "$(sql "SELECT CONCAT(m.status, ' ', d.status) FROM messages m JOIN deliveries d ON d.message_id = m.id WHERE m.id = $h2")" \
	"HoldCancelled HoldCancelled" "HoldCancelled in the database, with a delivery row saying so"
a=$(as carol POST "$S/messages/held/release" "{\"ids\": [$h3, $h4, $h2, 99999999]}")
is "$(code "$a") $(body "$a" | j '" ".join("%s" % r["result"] for r in d["data"]["results"])')" \
	"200  released released not_held not_found" "bulk release: a result per id"
harness_wait_for 30 sink_file "held 4 $run_id" >/dev/null || true
is "$(instance_sink_count "held 3 $run_id")$(instance_sink_count "held 4 $run_id")$(instance_sink_count "held 2 $run_id")" "110" \
	"both released messages reach the sink, the cancelled one does not"
a=$(as carol POST "$S/messages/held/cancel" '{"ids": "all"}')
is "$(code "$a") $(body "$a" | j '" ".join(sorted(d["data"]["errors"]))')" "400 ValidationError ids" "bulk with a bad ids list: 400"
is "$(code "$(as bob POST "$S/messages/held/cancel" "{\"ids\": [$h3]}")")" "403 Forbidden" "readonly bob may not cancel in bulk"
is "$(code "$(as alice PATCH "$S" '{"mode": "Live"}')")" "200 " "back to live mode"
sleep 2.1

# ---------------------------------------------------------------- domains: verification and DNS checks

a=$(as alice POST "$S/domains" '{"name": "verify.example"}')
zone=$(body "$a" | j 'd["data"]["domain"]["dns_records"]')
vtxt=$(sed -n 's/^verify\.example\.\t3600\tIN\tTXT\t"\(postal-verification [A-Za-z0-9]*\)"$/\1/p' <<<"$zone")
dkim_sel=$(sed -n 's/^\([a-z0-9-]*\)\._domainkey\.verify\.example\..*/\1/p' <<<"$zone")
dkim_txt=$(grep '_domainkey\.verify\.example\.' <<<"$zone" | sed 's/^[^"]*//' | tr -d '"' | tr -d ' ')
like "$vtxt|$dkim_sel" '^postal-verification [A-Za-z0-9]{32}\|postgate-[a-z0-9]{6}$' "the records to publish: verification TXT and DKIM selector"
# Only these names are answered (NXDOMAIN for anything else under them).
dns_base=(--local=/verify.example/ --local=/postgate.test/ --host-record=rp.postgate.test,127.0.0.1)
dns_start "${dns_base[@]}" --txt-record=verify.example,"v=spf1 -all"
a=$(as carol POST "$S/domains/verify.example/verify")
is "$(code "$a") $(body "$a" | j 'd["data"]["message"]')" \
	"422 VerificationFailed No TXT record \"$vtxt\" exists at verify.example (1 other TXT record found)." \
	"verify without the TXT record: 422 saying what is missing"
out=$(send x@example.net "unverified $run_id" --from app@verify.example --h-From "App <app@verify.example>")
like "$out" '<\*\* 530 ' "mail from the unverified domain is refused (530)"
a=$(as carol POST "$S/domains/verify.example/check")
is "$(body "$a" | j '"|".join("%s:%s" % (d["data"]["domain"]["dns_check"][k + "_status"], d["data"]["domain"]["dns_check"][k + "_error"]) for k in ("spf", "dkim", "return_path", "mx"))')" \
	"Invalid:The SPF record of verify.example does not include spf.postgate.example.com: \"v=spf1 -all\".|Missing:No DKIM record exists at $dkim_sel._domainkey.verify.example.|Missing:No CNAME record exists at psrp.verify.example.|Missing:No MX records exist for verify.example." \
	"check: a wrong SPF record, no DKIM, return-path or MX record, each with its error text"
is "$(sql "SELECT CONCAT_WS('|', spf_status, dkim_status, return_path_status, mx_status, dns_checked_at IS NOT NULL) FROM domains WHERE name = 'verify.example'")" \
	"Invalid|Missing|Missing|Missing|1" "the statuses are recorded in the domains row"
# Publish everything (the DKIM value split in 255-character strings, as zone files do).
dkim_args=$(fold -w 255 <<<"$dkim_txt" | paste -sd, -)
dns_start "${dns_base[@]}" --txt-record=verify.example,"$vtxt" --txt-record=verify.example,"v=spf1 a mx include:spf.postgate.example.com ~all" \
	--txt-record="$dkim_sel._domainkey.verify.example,$dkim_args" --cname=psrp.verify.example,rp.postgate.test \
	--mx-host=verify.example,mx.postgate.example.com,10
a=$(as carol POST "$S/domains/verify.example/verify")
is "$(code "$a") $(body "$a" | j '"%s %s" % (d["data"]["domain"]["verified"], d["data"]["domain"]["verification_method"])')" "200  True DNS" \
	"verify with the TXT record published: verified by DNS"
is "$(sql "SELECT verified_at IS NOT NULL FROM domains WHERE name = 'verify.example'")" 1 "verified_at is set"
a=$(as carol POST "$S/domains/verify.example/check")
is "$(body "$a" | j '"|".join("%s:%s" % (d["data"]["domain"]["dns_check"][k + "_status"], d["data"]["domain"]["dns_check"][k + "_error"]) for k in ("spf", "dkim", "return_path", "mx"))')" \
	"OK:None|OK:None|OK:None|OK:None" "check with every record right: all OK"
sleep 2.1
out=$(send x@example.net "verified $run_id" --from app@verify.example --h-From "App <app@verify.example>")
like "$out" '250 2\.0\.0 Ok' "mail from the now verified domain is accepted"
dns_stop
a=$(as carol POST "$S/domains/verify.example/check")
like "$(body "$a" | j 'd["data"]["domain"]["dns_check"]["spf_error"]')" 'TXT lookup of verify.example failed' \
	"with the DNS server gone: the check records the lookup failure"
is "$(code "$(as bob POST "$S/domains/verify.example/verify")")|$(code "$(as eve POST "$S/domains/verify.example/check")")" \
	"403 Forbidden|404 NotFound" "readonly bob may not verify (403), outsider eve gets 404"

# ---------------------------------------------------------------- DKIM rotation

rsa_keys() { as alice GET "$S/domains/example.com" | body "$(cat)" | j '" ".join("%s:%s:%s" % (k["selector"], k["state"], k["signing"]) for k in d["data"]["domain"]["dkim_keys"] if k["algorithm"] == "rsa-sha256")'; }
old_sel=$(sql "SELECT k.selector FROM domain_dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'example.com' AND k.state = 'active'")
a=$(as carol POST "$S/domains/example.com/dkim/rotate")
new_sel=$(body "$a" | j '[k["selector"] for k in d["data"]["domain"]["dkim_keys"] if k["state"] == "pending"][0]')
is "$(code "$a") $(body "$a" | j '" ".join("%s:%s" % (k["state"], k["signing"]) for k in d["data"]["domain"]["dkim_keys"])')" \
	"201  active:True pending:False" "rotate: a new pending key, the old one still signs"
contains "$(body "$a" | j 'd["data"]["domain"]["dns_records"]')" "$new_sel._domainkey.example.com." "the new key is in the records to publish at once"
body "$a" | j 'd["data"]["domain"]["dns_records"]' >"$HARNESS_DIR/records.zone"
is "$(code "$(as carol POST "$S/domains/example.com/dkim/rotate")")" "409 RotationPending" "a second rotation while one is pending: 409"
send x@example.net "before activate $run_id" >/dev/null
wait_sink "before activate $run_id" && f=$(sink_file "before activate $run_id") || f=/dev/null
like "$(grep -A3 '^DKIM-Signature' "$f" | tr -d '\r\n\t ')" "s=$old_sel;" "until activated, mail is signed with the old key"
a=$(as carol POST "$S/domains/example.com/dkim/activate" "{\"selector\": \"$new_sel\"}")
is "$(code "$a") $(body "$a" | j '" ".join("%s:%s" % (k["state"], k["signing"]) for k in d["data"]["domain"]["dkim_keys"])')" \
	"200  retiring:False active:True" "activate: the new key signs, the old one is retiring (still published)"
sleep 2.1
send x@example.net "after activate $run_id" >/dev/null
wait_sink "after activate $run_id" && f=$(sink_file "after activate $run_id") || f=/dev/null
like "$(grep -A3 '^DKIM-Signature' "$f" | tr -d '\r\n\t ')" "s=$new_sel;" "then mail is signed with the new key"
like "$(verify_py "$f")" '^pass a=rsa-sha256 d=example.com' "and verifies against the published records"
a=$(as carol POST "$S/domains/example.com/dkim/rotate" '{"activate_after": 0}')
is "$(body "$a" | j '" ".join("%s:%s" % (k["state"], k["signing"]) for k in d["data"]["domain"]["dkim_keys"])')" \
	"retiring:False active:False pending:True" "activate_after 0: the new pending key signs at once"
a=$(as carol POST "$S/domains/example.com/dkim/rotate" '{"algorithm": "dsa", "activate_after": -1, "x": 1}')
is "$(code "$a") $(body "$a" | j '" ".join(sorted(d["data"]["errors"]))')" "400 ValidationError activate_after algorithm x" \
	"rotate with bad fields: one error each"
is "$(code "$(as bob POST "$S/domains/example.com/dkim/rotate")")" "403 Forbidden" "readonly bob may not rotate"

# ---------------------------------------------------------------- invitations, profile, passwords

a=$(as alice POST /api/v2/organizations/acme/invitations '{"email": "New.Person@example.test", "role": "member"}')
itoken=$(body "$a" | j 'd["data"]["invitation"]["token"]')
is "$(code "$a") $(body "$a" | j '"%s %s" % (d["data"]["invitation"]["email"], d["data"]["invitation"]["role"])')" \
	"201  new.person@example.test member" "alice invites a new person as member: 201"
like "$itoken" '^[A-Za-z0-9]{40}$' "the answer shows the invitation token once"
is "$(sql "SELECT COUNT(*) FROM user_invites WHERE token_hash = SHA2('$itoken', 256)")|$(body "$(as alice GET /api/v2/organizations/acme/invitations)" | grep -c "$itoken" || true)" \
	"1|0" "stored as its SHA-256; the list never shows it"
is "$(code "$(as bob POST /api/v2/organizations/acme/invitations '{"email": "x@example.test", "role": "member"}')")|$(code "$(as alice POST /api/v2/organizations/acme/invitations '{"email": "bob@example.test", "role": "admin"}')")|$(code "$(as eve GET /api/v2/organizations/acme/invitations)")" \
	"403 Forbidden|409 AlreadyMember|404 NotFound" "readonly bob may not invite, a member cannot be invited, eve sees nothing"
a=$(call POST "/api/v2/invitations/$itoken/accept" '{"password": "short"}')
is "$(code "$a") $(body "$a" | j '" ".join(sorted(d["data"]["errors"]))')" "400 ValidationError password" "accepting with a weak password: 400"
a=$(call POST "/api/v2/invitations/$itoken/accept" '{"password": "N3w-person-pass!", "first_name": "New"}')
is "$(code "$a") $(body "$a" | j '"%s %s %s %s" % (d["data"]["user"]["email"], d["data"]["organization"], d["data"]["role"], d["data"]["created"])')" \
	"201  new.person@example.test acme member True" "accepting creates the account and the membership"
is "$(sql "SELECT CONCAT(o.role, ' ', (SELECT COUNT(*) FROM user_invites)) FROM organization_users o JOIN users u ON u.id = o.user_id WHERE u.email = 'new.person@example.test'")" \
	"member 0" "the member row exists and the invitation is gone"
is "$(code "$(call POST "/api/v2/invitations/$itoken/accept" '{"password": "N3w-person-pass!"}')")" "404 NotFound" "the token works once"
login newp new.person@example.test 'N3w-person-pass!'
is "$(code "$(as newp GET "$S/messages?limit=1")")" "200 " "the new member logs in and reads the server's messages"
# An invitation for an existing account needs that account's password.
itoken=$(body "$(as eve POST /api/v2/organizations/evil/invitations '{"email": "carol@example.test", "role": "readonly"}')" | j 'd["data"]["invitation"]["token"]')
is "$(code "$(call POST "/api/v2/invitations/$itoken/accept" '{"password": "Takeover-pass-123"}')")" "401 InvalidCredentials" \
	"an invitation cannot take over an existing account: 401 without its password"
is "$(code "$(call POST "/api/v2/invitations/$itoken/accept" '{"password": "Car0l-pass-phrase"}')")" "200 " "with it, carol joins evil"

a=$(as carol GET /api/v2/user)
is "$(body "$a" | j 'd["data"]["user"]["email"] + " " + d["data"]["user"]["first_name"]')" "carol@example.test carol" "GET /api/v2/user"
a=$(as carol PATCH /api/v2/user '{"first_name": "Carol", "last_name": "Jones"}')
is "$(code "$a") $(sql "SELECT CONCAT(first_name, ' ', last_name) FROM users WHERE email = 'carol@example.test'")" "200  Carol Jones" \
	"PATCH /api/v2/user changes one's names"
login carol2 carol@example.test 'Car0l-pass-phrase'
a=$(as carol POST /api/v2/user/password '{"current_password": "wrong", "new_password": "Car0l-new-phrase"}')
is "$(code "$a") $(body "$a" | j '" ".join(sorted(d["data"]["errors"]))')" "400 ValidationError current_password" \
	"a wrong current password: 400 on current_password"
a=$(as carol POST /api/v2/user/password '{"current_password": "Car0l-pass-phrase", "new_password": "Car0l-new-phrase"}')
is "$(code "$a") $(body "$a" | j 'd["data"]["sessions_ended"]')" "200  1" "password changed; the other session ended"
is "$(code "$(as carol2 GET /api/v2/session)")|$(code "$(as carol GET /api/v2/session)")" "401 AuthenticationRequired|200 " \
	"the other session is revoked, this one continues"
is "$(code "$(call POST /api/v2/session '{"email": "carol@example.test", "password": "Car0l-pass-phrase"}')")|$(code "$(call POST /api/v2/session '{"email": "carol@example.test", "password": "Car0l-new-phrase"}')")" \
	"401 InvalidCredentials|200 " "the old password fails, the new one works"
is "$(code "$(as alice POST /api/v2/users/carol@example.test/password '{"password": "Res3t-by-alice"}')")" "403 Forbidden" \
	"an organization owner may not set someone's password"
a=$(as root POST /api/v2/users/carol@example.test/password '{"password": "Res3t-by-admin!"}')
is "$(code "$a") $(body "$a" | j 'd["data"]["user"]["email"]')" "200  carol@example.test" "the installation admin sets carol's password"
is "$(code "$(as carol GET /api/v2/session)")|$(code "$(call POST /api/v2/session '{"email": "carol@example.test", "password": "Res3t-by-admin!"}')")" \
	"401 AuthenticationRequired|200 " "every session of carol ended; the new password works"

# ---------------------------------------------------------------- postqueue

instance_sink_stop "$HARNESS_DIR/sink"
send deferred@example.net "deferred $run_id" >/dev/null
has_deferred() { as root GET /api/v2/postfix/queue | grep -q 'deferred@example.net'; }
harness_wait_for 20 has_deferred || true
a=$(as root GET /api/v2/postfix/queue)
is "$(code "$a")" "200 " "GET /api/v2/postfix/queue as the installation admin"
qid=$(sql "SELECT postfix_queue_id FROM messages WHERE rcpt_to = 'deferred@example.net'")
is "$(body "$a" | j '" ".join("%s:%s" % (e["queue_id"], e["recipients"][0]["address"]) for e in d["data"]["entries"] if e["recipients"][0]["address"] == "deferred@example.net")')" \
	"$qid:deferred@example.net" "the deferred message is listed with its queue ID and recipient"
is "$(code "$(as alice GET /api/v2/postfix/queue)")" "403 Forbidden" "an organization owner may not see the queue"


