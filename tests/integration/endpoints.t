#!/bin/bash
#
# endpoints.t -- postgate-worker's endpoint delivery with the real Postfix: incoming mail
# to a route reaches local receivers with Postal's payloads (Hash and RawMessage, JSON and
# form, attachments, reply stripping, signatures that verify against the JWKS); a 500 is
# retried and then delivered; a 404 ends HardFail with an RFC 3464 report to the sender
# (whose SPF passes; from <>, through Postfix to the sink); a 429 ends HardFail without one; an SMTP
# endpoint (smtp-receiver.py: STARTTLS and AUTH) gets the stored message; an Address
# endpoint re-delivers through Postfix's forward service; a forwarding loop is stopped.
#
# Must never: pass when a receiver got nothing, or bounce a message twice.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import cryptography' 2>/dev/null ||
	skip_all "python3-cryptography missing: run 'packaging/install-deps test' as root"
command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
# The sender's domain passes SPF from 127.0.0.1: reports go only to authenticated senders
# (forward.t tests the other side).
harness_start_dns --local=/example.org/ --txt-record=example.org,"v=spf1 ip4:127.0.0.1 -all"
harness_start_postgate
# Retries after about 1.3 s, 1.7 s, ... instead of Postal's 6.5 minutes and more.
export POSTGATE_WORKER_ENDPOINT_RETRY_DELAY=1
harness_start_admin
harness_start_worker
plan 46

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
base=$HARNESS_ADMIN_URL

# ---------------------------------------------------------------- receivers

stop_receivers() {
	local f
	for f in "$HARNESS_DIR"/recv-*.pid; do
		[ -e "$f" ] || continue
		f=${f##*/}
		instance_postgate_stop "$HARNESS_DIR" "${f%.pid}"
	done
}
trap 'rc=$?; stop_receivers; harness_on_exit $rc' EXIT

# receiver NAME PROGRAM [args]: starts a receiver; it logs to $HARNESS_DIR/NAME.jsonl; prints its port.
receiver() {
	local name=$1 program=$2
	shift 2
	touch "$HARNESS_DIR/$name.jsonl"
	instance_spawn "$HARNESS_DIR/recv-$name.pid" "$HARNESS_DIR/recv-$name.log" /usr/bin/python3 \
		"$here/$program" --log "$HARNESS_DIR/$name.jsonl" --port-file "$HARNESS_DIR/$name.port" "$@" ||
		harness_setup_failed "receiver $name did not start"
	harness_wait_for 10 test -s "$HARNESS_DIR/$name.port" || harness_setup_failed "receiver $name has no port"
	cat "$HARNESS_DIR/$name.port"
}
requests() { wc -l <"$HARNESS_DIR/$1.jsonl"; }
at_least() { [ "$(requests "$1")" -ge "$2" ]; }
# request NAME PATH: the first request a receiver logged for PATH.
request() { grep -F "\"path\": \"$2\"" "$HARNESS_DIR/$1.jsonl" | head -1; }
has_request() { [ -n "$(request "$1" "$2")" ]; }
check() {
	local name=$1
	shift
	if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi
}

ok_port=$(receiver ok webhook-receiver.py)
flaky_port=$(receiver flaky webhook-receiver.py --status 500,200)
gone_port=$(receiver gone webhook-receiver.py --status 404)
busy_port=$(receiver busy webhook-receiver.py --status 429)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=receiver.test -keyout "$HARNESS_DIR/smtp.key" \
	-out "$HARNESS_DIR/smtp.crt" >/dev/null 2>&1 || harness_setup_failed "openssl req failed"
smtp_port=$(receiver smtp smtp-receiver.py --user relay --password 'S3cret-relay-pw' \
	--tls-cert "$HARNESS_DIR/smtp.crt" --tls-key "$HARNESS_DIR/smtp.key")

# ---------------------------------------------------------------- objects

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Inbox --permalink inbox >/dev/null
ctl domain create --server acme/inbox --name in.postgate.test --verified >/dev/null
server_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'inbox'")
domain_id=$(harness_sql "SELECT id FROM domains WHERE name = 'in.postgate.test'")
http() { # NAME URL FORMAT ENCODING STRIP ATTACH: an HTTP endpoint and a route NAME@ to it
	harness_sql "INSERT INTO http_endpoints (uuid, server_id, name, url, format, encoding, strip_replies, include_attachments)
		VALUES (UUID(), $server_id, '$1', '$2', '$3', '$4', $5, $6)"
	harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, http_endpoint_id)
		SELECT UUID(), $server_id, $domain_id, '$1', '$(instance_random_hex 4)', 'Endpoint', id FROM http_endpoints WHERE name = '$1'"
}
address() { # NAME ADDRESS: an Address endpoint and a route NAME@ to it
	harness_sql "INSERT INTO address_endpoints (uuid, server_id, address) VALUES (UUID(), $server_id, '$2')"
	harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, address_endpoint_id)
		SELECT UUID(), $server_id, $domain_id, '$1', '$(instance_random_hex 4)', 'Endpoint', id FROM address_endpoints WHERE address = '$2'"
}
http hashjson "http://127.0.0.1:$ok_port/hashjson" Hash BodyAsJSON 1 1
http hashform "http://127.0.0.1:$ok_port/hashform" Hash FormData 0 1
http rawjson "http://127.0.0.1:$ok_port/rawjson" RawMessage BodyAsJSON 0 0
http rawform "http://127.0.0.1:$ok_port/rawform" RawMessage FormData 0 0
http flaky "http://127.0.0.1:$flaky_port/flaky" Hash BodyAsJSON 0 0
http gone "http://127.0.0.1:$gone_port/gone" Hash BodyAsJSON 0 0
http busy "http://127.0.0.1:$busy_port/busy" Hash BodyAsJSON 0 0
address fwd "elsewhere-$run_id@example.net"
address loopa "loopb@in.postgate.test"
address loopb "loopa@in.postgate.test"

# The SMTP endpoint through the management API, which seals its password.
mkuser root@example.test 'Adm1n-pass-phrase' --admin
a=$(call POST /api/v2/session '{"email": "root@example.test", "password": "Adm1n-pass-phrase"}' -c "$(jar root)")
csrf_root=$(body "$a" | j 'd["data"]["csrf_token"]')
export csrf_root
a=$(as root POST /api/v2/organizations/acme/servers/inbox/smtp-endpoints \
	"{\"name\": \"relay\", \"hostname\": \"127.0.0.1\", \"port\": $smtp_port, \"ssl_mode\": \"Auto\", \"username\": \"relay\", \"password\": \"S3cret-relay-pw\"}")
[ "$(status "$a")" = 201 ] || harness_setup_failed "creating the SMTP endpoint: $a"
harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, smtp_endpoint_id)
	SELECT UUID(), $server_id, $domain_id, 'smtp', '$(instance_random_hex 4)', 'Endpoint', id FROM smtp_endpoints WHERE name = 'relay'"

# ---------------------------------------------------------------- mail

attachment_b64=$(printf 'attachment %s\n' "$run_id" | base64)
# send NAME: a multipart message (plain with a quoted reply, HTML, an attachment) to NAME@in.postgate.test.
send() {
	local name=$1 file="$HARNESS_DIR/$1.eml"
	cat >"$file" <<-EOF
		From: Sender <sender@example.org>
		To: $name@in.postgate.test
		Cc: copy@example.org
		Reply-To: replies@example.org
		Subject: $name $run_id
		Message-ID: <$name-$run_id@example.org>
		In-Reply-To: <question-$run_id@example.org>
		Date: Mon, 01 Jan 2024 10:00:00 +0000
		MIME-Version: 1.0
		Content-Type: multipart/mixed; boundary="outer"

		--outer
		Content-Type: multipart/alternative; boundary="inner"

		--inner
		Content-Type: text/plain; charset=utf-8

		Thanks, that works.

		On Mon, 1 Jan 2024 at 09:00, Bob <bob@example.org> wrote:
		> Does it work?
		--inner
		Content-Type: text/html; charset=utf-8

		<p>Thanks, that works.</p>
		--inner--
		--outer
		Content-Type: text/plain; name="notes.txt"
		Content-Disposition: attachment; filename="notes.txt"
		Content-Transfer-Encoding: base64

		$attachment_b64
		--outer--
	EOF
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from sender@example.org \
		--to "$name@in.postgate.test" --data "@$file" 2>&1 || true
}
msg() { harness_sql "SELECT $2 FROM messages WHERE subject = '$1 $run_id' ORDER BY id LIMIT 1"; }
status_is() { [ "$(msg "$1" status)" = "$2" ]; }
deliveries() { # NAME COLUMNS
	harness_sql "SELECT $2 FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.subject = '$1 $run_id' ORDER BY d.id"
}
for name in hashjson hashform rawjson rawform flaky gone busy smtp fwd; do
	out=$(send "$name")
	[[ $out == *"250 2.0.0 Ok: queued"* ]] || diag "sending to $name: $out"
done

ctl signing-key jwks >"$HARNESS_DIR/jwks.json"
verify() { /usr/bin/python3 "$here/webhook-verify.py" "$HARNESS_DIR/jwks.json" <<<"$1"; }
# pj LINE EXPR: EXPR over a receiver log line e (body b, form f: parse_qs of the raw body).
pj() {
	/usr/bin/python3 -c '
import base64, json, sys, urllib.parse
e = json.loads(sys.stdin.readline())
b = e["body"]
f = urllib.parse.parse_qs(e["raw"], keep_blank_values=True)
h = {k.lower(): v for k, v in e["headers"].items()}
try:
    v = eval(sys.argv[1])
except Exception as x:
    v = "ERROR %r" % x
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$1" <<<"$2"
}

# 1-9: Hash, JSON, reply stripping and attachments.
check "the Hash/JSON endpoint got a request" harness_wait_for 30 has_request ok /hashjson
r=$(request ok /hashjson)
is "$(pj 'sorted(b)' "$r")" '["attachment_quantity", "attachments", "auto_submitted", "bounce", "cc", "date", "from", "html_body", "id", "in_reply_to", "mail_from", "message_id", "plain_body", "rcpt_to", "received_with_ssl", "references", "replies_from_plain_body", "reply_to", "size", "spam_status", "subject", "timestamp", "to", "token"]' \
	"the Hash payload has Postal's fields, replies_from_plain_body and attachments"
is "$(pj '"%s %s %s %s" % (b["id"], b["token"], b["rcpt_to"], b["mail_from"])' "$r")" \
	"$(msg hashjson "CONCAT_WS(' ', id, token, rcpt_to, mail_from)")" "id, token, rcpt_to and mail_from are the message row's"
is "$(pj '"|".join([b["subject"], b["message_id"], b["cc"], b["reply_to"], b["in_reply_to"], b["from"], b["to"], str(b["bounce"]), b["spam_status"]])' "$r")" \
	"hashjson $run_id|<hashjson-$run_id@example.org>|copy@example.org|replies@example.org|<question-$run_id@example.org>|Sender <sender@example.org>|hashjson@in.postgate.test|False|NotChecked" \
	"subject, message_id and the header fields"
is "$(pj 'b["plain_body"]' "$r")" "Thanks, that works." "strip_replies: plain_body is the new text only"
like "$(pj 'b["replies_from_plain_body"]' "$r")" "^On Mon, 1 Jan 2024 at 09:00, Bob <bob@example.org> wrote:.> Does it work\?" \
	"... and replies_from_plain_body holds the quoted reply"
is "$(pj '"%s %s" % (b["html_body"].strip(), b["attachment_quantity"])' "$r")" "<p>Thanks, that works.</p> 1" "html_body and attachment_quantity"
is "$(pj '"%(filename)s %(content_type)s %(size)s " % b["attachments"][0] + base64.b64decode(b["attachments"][0]["data"]).decode().strip()' "$r")" \
	"notes.txt text/plain $(printf 'attachment %s\n' "$run_id" | wc -c) attachment $run_id" "the attachment: filename, content_type, size and base64 data"
is "$(pj 'h["content-type"]' "$r") $(verify "$r")" "application/json kid=found sha1=pass sha256=pass" \
	"BodyAsJSON is application/json, signed like webhooks (X-Postal-Signature, -256, -KID verify)"

# 10-12: Hash as a form.
check "the Hash/FormData endpoint got a request" harness_wait_for 30 has_request ok /hashform
r=$(request ok /hashform)
is "$(pj 'h["content-type"]' "$r") $(verify "$r")" "application/x-www-form-urlencoded kid=found sha1=pass sha256=pass" \
	"FormData is a signed form"
is "$(pj '"|".join([f["subject"][0], f["rcpt_to"][0], f["bounce"][0], f["attachments[][filename]"][0], f["attachments[][content_type]"][0], base64.b64decode(f["attachments[][data]"][0]).decode().strip(), f["plain_body"][0].splitlines()[0], str("replies_from_plain_body" in f)])' "$r")" \
	"hashform $run_id|hashform@in.postgate.test|false|notes.txt|text/plain|attachment $run_id|Thanks, that works.|False" \
	"the form has the fields, nested attachments the Rails way (attachments[][filename]), no stripping when off"

# 13-18: RawMessage, and the deliveries rows.
check "the RawMessage/JSON endpoint got a request" harness_wait_for 30 has_request ok /rawjson
r=$(request ok /rawjson)
is "$(pj '(lambda m: "%s %s %s %s" % (json.dumps(sorted(b)), b["base64"], b["size"] == len(m), (b"Subject: rawjson '"$run_id"'") in m and b"\r\n\r\n" in m))(base64.b64decode(b["message"]))' "$r")" \
	'["base64", "id", "mail_from", "message", "rcpt_to", "size"] True True True' \
	"RawMessage/JSON: id, rcpt_to, mail_from, message (base64 of the stored message), base64: true, its size"
check "the RawMessage/FormData endpoint got a request" harness_wait_for 30 has_request ok /rawform
r=$(request ok /rawform)
is "$(pj '(lambda m: "%s %s %s" % (f["base64"][0], int(f["size"][0]) == len(m), (b"Subject: rawform '"$run_id"'") in m))(base64.b64decode(f["message"][0]))' "$r") $(verify "$r")" \
	"true True True kid=found sha1=pass sha256=pass" "RawMessage/FormData: the message as a signed form"
check "each of the four messages was delivered once, Processed" harness_wait_for 30 \
	eval '[ "$(for n in hashjson hashform rawjson rawform; do msg $n status; done | sort -u)" = Processed ]'
is "$(deliveries hashjson "CONCAT_WS(' ', d.status, LEFT(d.output, 4), d.details)")" "Sent 200  Received a 200 from http://127.0.0.1:$ok_port/hashjson" \
	"the attempt is a deliveries row: Sent, the HTTP status as output"

# 19-23: 500, then 200.
check "the flaky endpoint's message ends Processed" harness_wait_for 40 status_is flaky Processed
is "$(requests flaky)" 2 "the flaky receiver got two requests"
is "$(deliveries flaky "CONCAT_WS(' ', d.status, LEFT(d.output, 3))" | tr '\n' ' ')" "SoftFail 500 Sent 200 " \
	"the deliveries: SoftFail with the 500, then Sent"
is "$(/usr/bin/python3 -c 'import json, sys; t = [json.loads(l)["time"] for l in open(sys.argv[1])]; print(t[1] - t[0] >= 1.0)' "$HARNESS_DIR/flaky.jsonl")" \
	True "the retry waited for worker.endpoint_retry_delay x 1.3"
# The five messages above are Processed: their queue rows went in the same transaction (the
# other endpoints' messages may still be queued at this point).
is "$(harness_sql "SELECT COUNT(*) FROM queued_messages q JOIN messages m ON m.id = q.message_id
	WHERE m.subject IN ('hashjson $run_id', 'hashform $run_id', 'rawjson $run_id', 'rawform $run_id', 'flaky $run_id')")" 0 \
	"delivered messages leave the queue"

# 24-31: 404: HardFail and a report to the sender.
check "the 404 endpoint's message ends HardFail" harness_wait_for 40 status_is gone HardFail
is "$(requests gone)" 1 "a 404 is not retried"
like "$(deliveries gone "CONCAT_WS(' ', d.status, d.details)")" "^HardFail Received a 404 from http://127.0.0.1:$gone_port/gone A delivery status notification was sent to sender@example.org\.$" \
	"the deliveries row says HardFail, the 404 and the report"
report_arrived() { [ "$(instance_sink_count "Final-Recipient: rfc822; gone@in.postgate.test")" -ge 1 ]; }
check "the sender's report arrives in the sink (through Postfix)" harness_wait_for 30 report_arrived
report=$(grep -lF "Final-Recipient: rfc822; gone@in.postgate.test" "$INSTANCE_SINK_DIR"/* | head -1)
report_text=$(tr -d '\r' <"$report")
like "$report_text" "Content-Type: multipart/report; report-type=delivery-status" "it is a multipart/report"
ok "$(grep -q '^Content-Type: message/delivery-status' <<<"$report_text" && grep -q '^Action: failed' <<<"$report_text" &&
	grep -q '^Status: 5\.0\.0' <<<"$report_text" && grep -q '^Content-Type: text/rfc822-headers' <<<"$report_text" &&
	grep -q "^Subject: gone $run_id" <<<"$report_text" && ! grep -q 'Thanks, that works' <<<"$report_text"; echo $?)" \
	"... with message/delivery-status (Action: failed, Status: 5.0.0) and the original's header, not its body"
like "$(grep -F "to=<sender@example.org>" "$INSTANCE_MAILLOG" | grep -c 'status=sent')" '^[1-9]' "Postfix delivered it to the sender"
like "$(grep -E 'qmgr.*from=<>' "$INSTANCE_MAILLOG" | head -1)" 'from=<>' "... from the null sender"

# 32-34: 429: HardFail without a report.
check "the 429 endpoint's message ends HardFail" harness_wait_for 40 status_is busy HardFail
like "$(deliveries busy "CONCAT_WS(' ', d.status, d.details)")" "^HardFail Received a 429 from [^ ]+$" "no retry and no report is mentioned"
sleep 2
is "$(instance_sink_count "Final-Recipient: rfc822; busy@in.postgate.test")" 0 "no report was sent for the 429"

# 35-39: an SMTP endpoint with STARTTLS (Auto) and AUTH.
check "the SMTP endpoint received the message" harness_wait_for 30 at_least smtp 1
s=$(head -1 "$HARNESS_DIR/smtp.jsonl")
is "$(/usr/bin/python3 -c 'import json, sys; e = json.loads(sys.argv[1]); print(e["auth"], e["tls"], e["mail_from"], e["rcpt_to"])' "$s")" \
	"relay True sender@example.org ['smtp@in.postgate.test']" "over STARTTLS (ssl_mode Auto), authenticated with the sealed password, the message's envelope"
like "$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["data"].count("Subject: smtp '"$run_id"'"))' "$s")" '^1$' "the stored message as received"
check "the SMTP endpoint's message is Processed" harness_wait_for 20 status_is smtp Processed
is "$(deliveries smtp "CONCAT_WS(' ', d.status, d.sent_with_ssl, d.output)")" "Sent 1 250 2.0.0 Ok: queued as R$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["data"].count("\r\n"))' "$s")" \
	"the deliveries row: Sent, sent_with_ssl, the server's last reply"

# 40-42: an Address endpoint re-delivers through Postfix.
forwarded() { [ "$(instance_sink_count "Subject: fwd $run_id")" -ge 1 ]; }
check "the Address endpoint's message arrives in the sink" harness_wait_for 30 forwarded
fwd_file=$(grep -lF "Subject: fwd $run_id" "$INSTANCE_SINK_DIR"/* | head -1)
like "$(tr -d '\r' <"$fwd_file")" "X-Postgate-Forwarded-For: <fwd@in.postgate.test>" "it carries the route address it came through"
like "$(grep -F "to=<elsewhere-$run_id@example.net>" "$INSTANCE_MAILLOG" | grep -F 'status=sent' | head -1)" 'status=sent' \
	"Postfix delivered it to the endpoint's address"

# 43-46: a forwarding loop between two routes is stopped.
send loopa >/dev/null
loop_stopped() { [ "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject = 'loopa $run_id' AND status = 'HardFail'")" -ge 1 ]; }
check "a loop loopa -> loopb -> loopa ends HardFail" harness_wait_for 60 loop_stopped
like "$(harness_sql "SELECT d.details FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.subject = 'loopa $run_id' AND d.status = 'HardFail'")" \
	"^Mail loop: the message already went through loopa@in.postgate.test" "the delivery says why"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject = 'loopa $run_id' AND scope = 'incoming'")" 3 \
	"the message went round once (loopa, loopb, loopa) and stopped"
like "$(harness_sql "SELECT d.details FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.subject = 'loopa $run_id' AND d.status = 'HardFail'")" \
	'A delivery status notification was sent to [a-z0-9]{16}@rp\.postgate\.test\.$' \
	"the report goes to the forward's own return path (it came from postgate), not to the original sender"
