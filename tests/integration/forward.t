#!/bin/bash
#
# forward.t -- issue 12 item 2 with the real Postfix, milter and worker: an Address
# endpoint's forward leaves as an outgoing message of the route's server (its own row,
# linked to the incoming one; envelope sender <token>@rp.postgate.test, not the original
# sender; a DKIM signature d=rp.postgate.test that dkimpy verifies; no postgate header or
# borrowed verdict on it), a bounce to that return path comes back to the forwarded row,
# the server's send limit defers a forward without failing it and its suppression list
# refuses one; the forward service refuses (5.7.1) and stores nothing for a client
# without a valid X-Postgate-Forward header; and a report after a failed endpoint delivery
# goes only to a sender that passed SPF or has an aligned DKIM signature (dnsmasq answers
# SPF and DKIM lookups through dns.resolver), never to a forged one, nor on a DNS failure
# (temperror: the mail is taken, no report).
#
# Must never: pass when the sink got nothing, or when a forged sender got a report.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import dkim' 2>/dev/null ||
	skip_all "python3-dkim missing: run 'packaging/install-deps test' as root"
command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"
signer="$POSTGATE_BUILDDIR/tests/integration/dkimsign"
[ -x "$signer" ] || { echo "1..1"; echo "not ok 1 - dkimsign is built (make -C tests/integration dkimsign)"; exit 1; }

harness_setup mariadb sink postfix
# A key for signed.example, a sender domain without SPF that signs its mail (DKIM only).
dkim_txt=$("$signer" --generate rsa "$HARNESS_DIR/signed.key") || harness_setup_failed "dkimsign --generate"
# dnsmasq takes one TXT record as comma-separated character-strings of at most 255 octets.
dkim_txt_strings=$(/usr/bin/python3 -c 'import sys; t = sys.argv[1]; print(",".join(t[i:i + 200] for i in range(0, len(t), 200)))' "$dkim_txt")
harness_start_dns --local=/example.org/ --local=/forged.example/ --local=/signed.example/ \
	--txt-record=example.org,"v=spf1 ip4:127.0.0.1 -all" \
	--txt-record=forged.example,"v=spf1 -all" \
	--txt-record=sel._domainkey.signed.example,"$dkim_txt_strings"
export POSTGATE_WORKER_ENDPOINT_RETRY_DELAY=1
harness_start_postgate
harness_start_admin
harness_start_worker
plan 51

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
base=$HARNESS_ADMIN_URL
check() {
	local name=$1
	shift
	if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi
}

# ---------------------------------------------------------------- objects

gone_dir="$HARNESS_DIR/gone"
touch "$HARNESS_DIR/gone.jsonl"
instance_spawn "$HARNESS_DIR/recv-gone.pid" "$HARNESS_DIR/recv-gone.log" /usr/bin/python3 "$here/webhook-receiver.py" \
	--log "$HARNESS_DIR/gone.jsonl" --port-file "$HARNESS_DIR/gone.port" --status 404 ||
	harness_setup_failed "the 404 receiver did not start"
trap 'rc=$?; instance_postgate_stop "$HARNESS_DIR" recv-gone; harness_on_exit $rc' EXIT
harness_wait_for 10 test -s "$HARNESS_DIR/gone.port" || harness_setup_failed "the 404 receiver has no port"
gone_port=$(cat "$HARNESS_DIR/gone.port")
: "$gone_dir"

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Inbox --permalink inbox >/dev/null
ctl domain create --server acme/inbox --name in.postgate.test --verified >/dev/null
server_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'inbox'")
domain_id=$(harness_sql "SELECT id FROM domains WHERE name = 'in.postgate.test'")
address() { # NAME ADDRESS: an Address endpoint and a route NAME@ to it
	harness_sql "INSERT INTO address_endpoints (uuid, server_id, address) VALUES (UUID(), $server_id, '$2')"
	harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, address_endpoint_id)
		SELECT UUID(), $server_id, $domain_id, '$1', '$(instance_random_hex 4)', 'Endpoint', id FROM address_endpoints WHERE address = '$2'"
}
address fwd "elsewhere-$run_id@example.net"
address limited "limited-$run_id@example.net"
address blocked "blocked-$run_id@example.net"
harness_sql "INSERT INTO http_endpoints (uuid, server_id, name, url, format, encoding, strip_replies, include_attachments)
	VALUES (UUID(), $server_id, 'gone', 'http://127.0.0.1:$gone_port/gone', 'Hash', 'BodyAsJSON', 0, 0)"
harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, http_endpoint_id)
	SELECT UUID(), $server_id, $domain_id, 'gone', '$(instance_random_hex 4)', 'Endpoint', id FROM http_endpoints WHERE name = 'gone'"
ctl dns-records >"$HARNESS_DIR/records.zone"

# send FROM TO SUBJECT [FILE]: a message through the MX port (FILE: its data, else a short one).
send() {
	local data=${4:-}
	if [ -z "$data" ]; then
		data="$HARNESS_DIR/msg-$(instance_random_hex 4).eml"
		printf '%s\r\n' "From: Sender <$1>" "To: $2" "Subject: $3" "Message-ID: <$(instance_random_hex 8)@${1#*@}>" \
			"X-Postal-Spam: no" "X-Postal-Spam-Score: -50.0" \
			"Authentication-Results: postgate.test; dkim=pass header.d=bank.example" "" "Hello $3." >"$data"
	fi
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from "$1" --to "$2" --data "@$data" 2>&1 || true
}
row() { harness_sql "SELECT $2 FROM messages WHERE subject = '$1' AND scope = '${3:-incoming}' ORDER BY id LIMIT 1"; }
status_is() { [ "$(row "$1" status)" = "$2" ]; }
sink_file() { instance_sink_find "$1"; }
sink_has() { instance_sink_find "$1" >/dev/null; }
verify_py() { /usr/bin/python3 "$here/dkim-verify.py" "$HARNESS_DIR/records.zone" "$1" 2>&1 || true; }

# ---------------------------------------------------------------- 1-12: a forward
subject="forward $run_id"
out=$(send sender@example.org fwd@in.postgate.test "$subject")
like "$out" '<-  250 2\.0\.0 Ok: queued' "mail to a route with an Address endpoint is accepted"
check "the forward arrives at the sink" harness_wait_for 40 sink_has "$subject"
f=$(sink_file "$subject" || echo /dev/null)
in_id=$(row "$subject" id)
fw_token=$(row "$subject" token outgoing)
is "$(harness_sql "SELECT CONCAT_WS(' ', scope, rcpt_to, forwarded_from_id, IFNULL(credential_id, '-')) FROM messages WHERE token = '$fw_token'")" \
	"outgoing elsewhere-$run_id@example.net $in_id -" \
	"the forward is an outgoing message of the server, linked to the incoming one, with no credential"
like "$fw_token" '^[a-z0-9]{16}$' "... with its own token"
contains "$(grep '^X-Mail-Args:' "$f")" "<$fw_token@rp.postgate.test>" "its envelope sender is the forward's own return path"
unlike "$(grep '^X-Mail-Args:' "$f")" "sender@example\.org" "... not the original sender"
is "$(verify_py "$f")" "pass a=rsa-sha256 d=rp.postgate.test" "it is DKIM-signed for the return-path domain (dkimpy verifies)"
hdrs=$(tr -d '\r' <"$f" | sed '/^$/q')
unlike "$hdrs" '(^|\n)(X-Postgate-Forward|X-Postgate-Inspection|X-Postal-Spam|X-Postal-Threat)' \
	"no forward header, no verdict header (the sender's forged one neither) leaves"
contains "$hdrs" "From: Sender <sender@example.org>" "the From is the original sender's"
is "$(grep -c '^Authentication-Results:' <<<"$hdrs") $(grep -A2 '^Authentication-Results:' <<<"$hdrs" | tr -d '\n\t')" \
	"1 Authentication-Results: postgate.test;spf=pass smtp.mailfrom=sender@example.org;dkim=none" \
	"the results of the checks on arrival are in one Authentication-Results field (the sender's fake one removed)"
check "the endpoint delivery is Processed" harness_wait_for 20 status_is "$subject" Processed
like "$(grep "forward of message $in_id to <elsewhere-$run_id@example.net>" "$HARNESS_DIR/milter.log")" \
	"token $fw_token, return path $fw_token@rp\.postgate\.test" "the milter logs the forward"

# 13-14: the management API shows the link and the sender's results.
mkuser root@example.test 'Adm1n-pass-phrase' --admin
a=$(call POST /api/v2/session '{"email": "root@example.test", "password": "Adm1n-pass-phrase"}' -c "$(jar root)")
csrf_root=$(body "$a" | j 'd["data"]["csrf_token"]')
export csrf_root
fw_id=$(harness_sql "SELECT id FROM messages WHERE token = '$fw_token'")
a=$(as root GET "/api/v2/organizations/acme/servers/inbox/messages/$fw_id")
is "$(body "$a" | j '"%s %s %s" % (d["data"]["message"]["scope"], d["data"]["message"]["forwarded_from_id"], d["data"]["message"]["token"])')" \
	"outgoing $in_id $fw_token" "the management API shows the forward as outgoing, with forwarded_from_id"
a=$(as root GET "/api/v2/organizations/acme/servers/inbox/messages/$in_id")
is "$(body "$a" | j '"%(spf)s %(dkim)s %(dkim_domain)s" % d["data"]["message"]["sender_authentication"]')" "pass none None" \
	"... and the incoming message's sender_authentication"

# ---------------------------------------------------------------- 15-17: a bounce to the forward's return path
harness_wait_for 30 test "$(harness_sql "SELECT status FROM messages WHERE id = $fw_id")" = Sent || true
sed -e "s/xyzrp0123456789[a-z]/$fw_token/Ig" -e "s/nobody@corp\.example\.net/elsewhere-$run_id@example.net/g" \
	-e "s/^Message-ID: <8f2d1c0b-aaaa-4bbb-8ccc-ddddeeee0001/Message-ID: <$(instance_random_hex 8)/" \
	"$POSTGATE_SRCDIR/tests/data/dsn/exchange.eml" >"$HARNESS_DIR/bounce.eml"
out=$(timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from '<>' --to "$fw_token@rp.postgate.test" \
	--data "@$HARNESS_DIR/bounce.eml" 2>&1 || true)
like "$out" '<-  250 2\.0\.0 Ok: queued' "a bounce to the forward's return path is accepted"
bounced() { [ "$(harness_sql "SELECT status FROM messages WHERE id = $fw_id")" = Bounced ]; }
check "... and the forwarded message becomes Bounced" harness_wait_for 30 bounced
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE bounce_for_id = $fw_id")" 1 "the bounce is stored against the forward"

# ---------------------------------------------------------------- 18-23: the send limit defers, then lets it go
harness_sql "UPDATE servers SET send_limit = 0 WHERE id = $server_id"
sleep 2     # milter.cache_ttl = 1 in the tests
subject="limited $run_id"
send sender@example.org limited@in.postgate.test "$subject" >/dev/null
deferred() { [ -n "$(harness_sql "SELECT id FROM deliveries WHERE message_id = '$(row "$subject" id)' AND details LIKE '%send limit is reached%'")" ]; }
check "over the send limit the forward is deferred" harness_wait_for 30 deferred
is "$(row "$subject" status)" SoftFail "... the message is waiting (SoftFail), not failed"
is "$(harness_sql "SELECT attempts FROM queued_messages WHERE message_id = $(row "$subject" id)")" 0 \
	"... and the deferral does not count as an attempt"
is "$(instance_sink_count "$subject")" 0 "... nothing was sent"
harness_sql "UPDATE servers SET send_limit = NULL WHERE id = $server_id"
check "once the limit allows, the forward is sent" harness_wait_for 40 sink_has "$subject"
check "... and the endpoint delivery is Processed" harness_wait_for 20 status_is "$subject" Processed

# ---------------------------------------------------------------- 24-27: a suppressed recipient
harness_sql "INSERT INTO suppressions (server_id, address, reason, source) VALUES ($server_id, 'blocked-$run_id@example.net', 'test', 'manual')"
sleep 2
subject="blocked $run_id"
send sender@example.org blocked@in.postgate.test "$subject" >/dev/null
check "a forward to a suppressed recipient ends HardFail" harness_wait_for 30 status_is "$subject" HardFail
like "$(harness_sql "SELECT details FROM deliveries WHERE message_id = $(row "$subject" id) ORDER BY id DESC LIMIT 1")" \
	"^Not forwarded to blocked-$run_id@example.net: .*suppression list" "the delivery says why"
is "$(instance_sink_count "$subject")" 0 "nothing was sent (no forward, no report)"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$subject' AND scope = 'outgoing'")" 0 "no outgoing row"

# ---------------------------------------------------------------- 28-35: outsiders on the forward service
before=$(harness_sql "SELECT COUNT(*) FROM messages")
outsider() { # DATA-FILE: a client on the forward service
	timeout 60 swaks --server "127.0.0.1:$HARNESS_FORWARD_PORT" --from attacker@forged.example \
		--to "victim-$run_id@example.net" --data "@$1" 2>&1 || true
}
printf '%s\r\n' "From: <attacker@forged.example>" "Subject: outsider $run_id" "" "relay me" >"$HARNESS_DIR/out1.eml"
like "$(outsider "$HARNESS_DIR/out1.eml")" '<\*\* 550 5\.7\.1' "without a forward header: 550 5.7.1"
printf '%s\r\n' "X-Postgate-Forward: v=1; kind=forward; server=$server_id; message=$in_id; rcpt=victim-$run_id@example.net; token=abcdefghij123456; time=$(date +%s); mac=$(printf '%064d' 0)" \
	"From: <attacker@forged.example>" "Subject: outsider $run_id" "" "relay me" >"$HARNESS_DIR/out2.eml"
like "$(outsider "$HARNESS_DIR/out2.eml")" '<\*\* 550 5\.7\.1' "with a forged header (a real server and message, a made-up MAC): 550 5.7.1"
# Genuine headers (made here with the installation key, as only a postgate program can)
# that are replayed or point elsewhere.
ctl org create --name Other --permalink other >/dev/null
ctl server create --org other --name Mail --permalink mail >/dev/null
other_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'mail'")
genuine() { # SERVER MESSAGE RCPT TOKEN: an X-Postgate-Forward field under the installation key
	/usr/bin/python3 - "$HARNESS_DIR/secret.key" "$@" <<'PY'
import hashlib, hmac, sys, time
key = bytes.fromhex(open(sys.argv[1]).read().strip())
sub = hmac.new(key, b"forward", hashlib.sha256).digest()
f = "v=1; kind=forward; server=%s; message=%s; rcpt=%s; token=%s; time=%d" % (sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], time.time())
print("X-Postgate-Forward: %s; mac=%s" % (f, hmac.new(sub, f.encode(), hashlib.sha256).hexdigest()))
PY
}
with_header() { # FILE HEADER-LINE SUBJECT
	printf '%s\r\n' "$2" "From: <attacker@forged.example>" "Subject: $3" "" "relay me" >"$1"
}
with_header "$HARNESS_DIR/out3.eml" "$(genuine "$server_id" "$in_id" "victim-$run_id@example.net" "$fw_token")" "outsider $run_id"
like "$(outsider "$HARNESS_DIR/out3.eml")" '<\*\* 550 5\.7\.1' "a genuine header replayed (its token already used): 550 5.7.1"
with_header "$HARNESS_DIR/out4.eml" "$(genuine "$other_id" "$in_id" "victim-$run_id@example.net" "$(instance_random_hex 8)")" "outsider $run_id"
like "$(outsider "$HARNESS_DIR/out4.eml")" '<\*\* 550 5\.7\.1' "a genuine header naming another server than the message's: 550 5.7.1"
with_header "$HARNESS_DIR/out5.eml" "$(genuine "$server_id" "$in_id" "other-$run_id@example.net" "$(instance_random_hex 8)")" "outsider $run_id"
like "$(outsider "$HARNESS_DIR/out5.eml")" '<\*\* 550 5\.7\.1' "a genuine header made for another recipient: 550 5.7.1"
is "$(harness_sql "SELECT COUNT(*) FROM messages")" "$before" "nothing was stored"
is "$(instance_sink_count "outsider $run_id")" 0 "nothing was relayed"
# The control: the same maker's fresh header for this recipient is taken, so the refusals
# above are the milter's checks, not a broken header.
with_header "$HARNESS_DIR/out6.eml" "$(genuine "$server_id" "$in_id" "victim-$run_id@example.net" "$(instance_random_hex 8)")" "control $run_id"
like "$(outsider "$HARNESS_DIR/out6.eml")" '<-  250 2\.0\.0 Ok: queued' "control: a fresh genuine header is accepted"

# ---------------------------------------------------------------- 36-48: reports only to authenticated senders
report_count() { grep -lF "Final-Recipient: rfc822; gone@in.postgate.test" "$INSTANCE_SINK_DIR"/* 2>/dev/null | xargs -r grep -lF "Subject: $1" | wc -l; }
# A forged sender (SPF -all for 127.0.0.1, no signature).
subject="forged $run_id"
send mallory@forged.example gone@in.postgate.test "$subject" >/dev/null
check "a forged sender's message to a refusing endpoint ends HardFail" harness_wait_for 40 status_is "$subject" HardFail
is "$(row "$subject" "CONCAT_WS(' ', spf_result, dkim_result)")" "fail none" "its SPF fail and missing DKIM were recorded on arrival"
like "$(harness_sql "SELECT details FROM deliveries WHERE message_id = $(row "$subject" id) ORDER BY id DESC LIMIT 1")" \
	'\(no report: the sender was not authenticated \(SPF fail, DKIM none\)\)$' "the delivery says why no report was sent"
# A sender whose SPF passes.
subject2="spf $run_id"
send sender@example.org gone@in.postgate.test "$subject2" >/dev/null
check "a sender that passed SPF gets the report" harness_wait_for 40 eval '[ "$(report_count "$subject2")" -ge 1 ]'
is "$(row "$subject2" spf_result)" pass "... its SPF pass was recorded"
report_from() { grep -lF "Final-Recipient: rfc822; gone@in.postgate.test" "$INSTANCE_SINK_DIR"/* 2>/dev/null | xargs -r grep -lF "Subject: $1" | head -1 | xargs -r sed -n 's/^From: //p' | head -1; }
is "$(report_from "$subject2")" "Mail Delivery System <MAILER-DAEMON@in.postgate.test>" \
	"... from MAILER-DAEMON at the route's domain while the server has no postmaster address"
like "$(ctl server set acme/inbox postmaster_address postmaster@elsewhere.example 2>&1 || true)" 'must be at a verified domain of the server' \
	"a postmaster address at a domain the server cannot send from is refused"
ctl server set acme/inbox postmaster_address Postmaster@In.Postgate.Test >/dev/null
subject2b="spf-postmaster $run_id"
send sender@example.org gone@in.postgate.test "$subject2b" >/dev/null
harness_wait_for 40 eval '[ "$(report_count "$subject2b")" -ge 1 ]' || true
is "$(report_from "$subject2b")" "Mail Delivery System <Postmaster@In.Postgate.Test>" "with one set, the report comes from it (Postal's postmaster address)"
# A sender without SPF whose message carries a valid DKIM signature of its domain.
subject3="dkim $run_id"
printf '%s\r\n' "From: Signed <someone@signed.example>" "To: gone@in.postgate.test" "Subject: $subject3" \
	"Message-ID: <$(instance_random_hex 8)@signed.example>" "Date: Mon, 01 Jan 2024 10:00:00 +0000" "" "Signed mail." \
	>"$HARNESS_DIR/dkim.eml"
"$signer" "$HARNESS_DIR/signed.key" signed.example sel <"$HARNESS_DIR/dkim.eml" >"$HARNESS_DIR/dkim.signed" ||
	diag "dkimsign failed"
send someone@signed.example gone@in.postgate.test "$subject3" "$HARNESS_DIR/dkim.signed" >/dev/null
check "a sender with a valid DKIM signature of its domain gets the report" \
	harness_wait_for 40 eval '[ "$(report_count "$subject3")" -ge 1 ]'
is "$(row "$subject3" "CONCAT_WS(' ', spf_result, dkim_result, dkim_domain)")" "none pass signed.example" \
	"... SPF none and DKIM pass d=signed.example were recorded"
# A sender domain whose DNS fails (dnsmasq has no upstream: REFUSED): the mail is still
# taken, the failure recorded as temperror, and no report goes out on a guess.
subject4="nodns $run_id"
out=$(send someone@nodns.example gone@in.postgate.test "$subject4")
like "$out" '<-  250 2\.0\.0 Ok: queued' "a DNS failure during the checks does not refuse the mail"
check "... it reaches the endpoint (HardFail: the endpoint refuses it)" harness_wait_for 40 status_is "$subject4" HardFail
like "$(row "$subject4" spf_result) $(harness_sql "SELECT details FROM deliveries WHERE message_id = $(row "$subject4" id) ORDER BY id DESC LIMIT 1")" \
	'^temperror .*\(no report: the sender was not authenticated \(SPF temperror, DKIM none\)\)$' \
	"... SPF temperror was recorded and no report was sent"
# Checked last, after the authenticated senders' reports arrived: the others got none.
is "$(report_count "$subject") $(report_count "$subject4")" "0 0" "the forged sender got no report (no backscatter), nor the unverifiable one"
is "$(grep -c "to=<mallory@forged.example>" "$INSTANCE_MAILLOG" || true)" 0 "... Postfix never had mail for it"
like "$(grep 'incoming from=<mallory@forged.example>' "$HARNESS_DIR/milter.log" | tail -1)" 'spf fail; dkim none queue_id=[0-9A-Za-z]+$' \
	"the milter logs the results"
