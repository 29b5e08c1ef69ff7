#!/bin/bash
#
# api_v1.t -- Postal's HTTP API v1 served by postgate-admin, end to end: real HTTP (curl)
# against postgate-admin, which submits through the real Postfix's injection service,
# postgate-milter (recording, DKIM) and MariaDB, delivering to smtp-sink. Every v1 error
# code, the HTTP layer's own answers (404, 405, 413), send/message with an attachment
# and To/CC/BCC recipients (delivered once each, BCC hidden, DKIM verified, ids and
# tokens equal to the rows), send/raw, every expansion of messages/message,
# messages/deliveries, the form encoding of `params`, SQL metacharacters and non-ASCII
# text round-tripping, SIGHUP and SIGTERM.
#
# Must never: pass on an answer it did not parse, trust postgate's view of what was
# delivered (the sink's files and the messages table are checked), or leave
# postgate-admin running.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
plan 89

here=$(cd "$(dirname "$0")" && pwd)
ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)

# ---------------------------------------------------------------- postgate-admin

harness_start_admin
admin_pid=$HARNESS_ADMIN_PID admin_log=$HARNESS_ADMIN_LOG base=$HARNESS_ADMIN_URL

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >"$HARNESS_DIR/records.zone"
key=$(ctl credential create --server acme/mail --type API --name api | sed -n 's/^key: //p')

# ---------------------------------------------------------------- helpers

# post PATH JSON [curl args...]: the body of the answer (HTTP status on the last line
# when -w is given by the caller).
post() {
	local path=$1 body=$2
	shift 2
	curl -sS --max-time 60 -H "X-Server-API-Key: $key" -H 'Content-Type: application/json' \
		--data-binary "$body" "$@" "$base$path" 2>&1 || true
}
# code OUT: "status code" of an envelope.
# code (v1): Postal's envelope is always HTTP 200, so this replaces api.sh's code with status, code and message.
code() { j 'd["status"] + " " + d["data"].get("code", "") + " " + str(d["data"].get("message"))' <<<"$1"; }
sink_file() { instance_sink_find "$1"; }
wait_sink() { harness_wait_for 30 sink_file "$1" >/dev/null; }
b64() { base64 -w0; }
verify_py() { /usr/bin/python3 "$here/dkim-verify.py" "$HARNESS_DIR/records.zone" "$1" 2>&1 || true; }
msg() { post /api/v1/send/message "$1"; }
good='"from": "App <app@example.com>", "plain_body": "hi"'

# ---------------------------------------------------------------- 1-9: the HTTP layer

out=$(curl -sS -i --max-time 10 "$base/health" 2>&1 || true)
like "$out" $'^HTTP/1\\.1 200' "GET /health answers 200 while MariaDB is up"
contains "$out" '{"status":"ok"}' "/health says ok"
like "$out" $'[Cc]ontent-[Tt]ype: application/json; charset=utf-8\r' "answers are application/json; charset=utf-8"
like "$out" $'X-Content-Type-Options: nosniff\r' "answers carry X-Content-Type-Options: nosniff"

out=$(curl -sS -i --max-time 10 "$base/api/v1/send/message" 2>&1 || true)
like "$out" $'^HTTP/1\\.1 405.*\r\nAllow: POST\r' "GET on a POST path: 405 with Allow: POST"
contains "$out" '"code":"MethodNotAllowed"' "405 has a JSON body"
out=$(curl -sS -w '\n%{http_code}' --max-time 10 -X POST "$base/api/v1/nothing" 2>&1 || true)
like "$out" $'"code":"NotFound".*\n404$' "an unknown path: 404 with a JSON body"

head -c $((40 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$HARNESS_DIR/big.json"
out=$(curl -sS -w '\n%{http_code}' --max-time 60 -H "X-Server-API-Key: $key" -H 'Content-Type: application/json' \
	--data-binary @"$HARNESS_DIR/big.json" "$base/api/v1/send/message" 2>&1 || true)
like "$out" $'"code":"PayloadTooLarge".*\n413$' "a 40 MB body: 413 with a JSON body"
out=$(head -c $((40 * 1024 * 1024)) "$HARNESS_DIR/big.json" | curl -sS -w '\n%{http_code}' --max-time 60 \
	-H "X-Server-API-Key: $key" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
	--data-binary @- "$base/api/v1/send/message" 2>&1 || true)
like "$out" $'"code":"PayloadTooLarge".*\n413$' "a 40 MB chunked body (no Content-Length): 413 too"
rm -f "$HARNESS_DIR/big.json"

# ---------------------------------------------------------------- 10-15: authentication, parsing

out=$(curl -sS -w '\n%{http_code}' --max-time 10 -H 'Content-Type: application/json' --data-binary '{}' \
	"$base/api/v1/send/message" 2>&1 || true)
like "$out" $'\n200$' "Postal's errors are HTTP 200"
is "$(code "${out%$'\n'*}")" "error AccessDenied Must be authenticated as a server." "no X-Server-API-Key: AccessDenied"
out=$(curl -sS --max-time 10 -H "X-Server-API-Key: x$key" --data-binary '{}' "$base/api/v1/send/message" 2>&1 || true)
is "$(code "$out")" "error InvalidServerAPIKey The API token provided in X-Server-API-Key was not valid." \
	"an unknown key: InvalidServerAPIKey"
out=$(post /api/v1/send/message '{"to": ["a@example.net"')
like "$(code "$out")" '^parameter-error  The parameters are not valid JSON' "bad JSON: parameter-error"
out=$(post /api/v1/send/message "$(printf '{"to": ["a@example.net"], "subject": "\xff\xfe"}')")
like "$(code "$out")" '^parameter-error  .*UTF-8' "bad UTF-8: parameter-error naming UTF-8"
like "$(j 'd["time"]' <<<"$out")" '^[0-9]+(\.[0-9]+)?$' "the envelope carries the time in seconds"

# ---------------------------------------------------------------- 16-28: send/message errors

many() { local i s=""; for i in $(seq 1 "$1"); do s+="\"r$i@example.net\","; done; printf '[%s]' "${s%,}"; }
is "$(code "$(msg "{$good}")")" "error NoRecipients There are no recipients defined to receive this message" \
	"no recipients: NoRecipients"
is "$(code "$(msg '{"to": ["a@example.net"], "from": "app@example.com"}')")" \
	"error NoContent There is no content defined for this e-mail" "no body: NoContent"
is "$(code "$(msg "{\"to\": $(many 51), $good}")")" \
	"error TooManyToAddresses The maximum number of To addresses has been reached (maximum 50)" "51 To: TooManyToAddresses"
is "$(code "$(msg "{\"to\": [\"a@example.net\"], \"cc\": $(many 51), $good}")")" \
	"error TooManyCCAddresses The maximum number of CC addresses has been reached (maximum 50)" "51 CC: TooManyCCAddresses"
is "$(code "$(msg "{\"to\": [\"a@example.net\"], \"bcc\": $(many 51), $good}")")" \
	"error TooManyBCCAddresses The maximum number of BCC addresses has been reached (maximum 50)" \
	"51 BCC: TooManyBCCAddresses"
is "$(code "$(msg '{"to": ["a@example.net"], "plain_body": "hi"}')")" \
	"error FromAddressMissing The From address is missing and is required" "no from: FromAddressMissing"
is "$(code "$(msg '{"to": ["a@example.net"], "from": "ceo@bank.example", "plain_body": "hi"}')")" \
	"error UnauthenticatedFromAddress The From address is not authorised to send mail from this server" \
	"a From domain the server does not own: UnauthenticatedFromAddress"
is "$(code "$(msg '{"to": ["a@example.net"], "from": "app@example.com@bank.example", "plain_body": "hi"}')")" \
	"error UnauthenticatedFromAddress The From address is not authorised to send mail from this server" \
	"a From that reads two ways (app@example.com@bank.example): UnauthenticatedFromAddress"
is "$(code "$(msg "{\"to\": [\"a@example.net\"], $good, \"attachments\": [{\"data\": \"aGk=\"}]}")")" \
	"error AttachmentMissingName An attachment is missing a name" "an attachment without a name: AttachmentMissingName"
is "$(code "$(msg "{\"to\": [\"a@example.net\"], $good, \"attachments\": [{\"name\": \"a.txt\"}]}")")" \
	"error AttachmentMissingData An attachment is missing data" "an attachment without data: AttachmentMissingData"
is "$(code "$(post /api/v1/send/raw '{"mail_from": "app@example.com", "data": "eA=="}')")" \
	"parameter-error  \`rcpt_to\` parameter is required but is missing" "send/raw without rcpt_to: parameter-error"
is "$(code "$(post /api/v1/send/raw '{"rcpt_to": ["a@example.net"], "data": "eA=="}')")" \
	"parameter-error  \`mail_from\` parameter is required but is missing" "send/raw without mail_from: parameter-error"
out=$(post /api/v1/messages/message '{"id": 987654321}')
is "$(code "$out")|$(j 'd["data"]["id"]' <<<"$out")" "error MessageNotFound No message found matching provided ID|987654321" \
	"an unknown id: MessageNotFound"
is "$(harness_sql "SELECT COUNT(*) FROM messages")" 0 "none of the refused requests made a message row"

# ---------------------------------------------------------------- 29-45: a full send/message

subject="full $run_id"
attachment=$(printf 'attached bytes %s\n\001\002\377' "$run_id" | b64)
body=$(cat <<EOF
{"to": ["To One <to1@example.net>", "to2@example.net"], "cc": ["cc1@example.org"], "bcc": ["hidden@example.org"],
 "from": "App <app@example.com>", "reply_to": "replies@example.com", "subject": "$subject",
 "plain_body": "plain text $run_id\nsecond line", "html_body": "<p>html $run_id</p>", "tag": "welcome",
 "headers": {"X-Custom": "custom $run_id"},
 "attachments": [{"name": "report.bin", "content_type": "application/octet-stream", "data": "$attachment"}]}
EOF
)
out=$(msg "$body")
is "$(j 'd["status"]' <<<"$out")" success "send/message with To, CC, BCC and an attachment: success"
mid=$(j 'd["data"]["message_id"]' <<<"$out")
like "$mid" '^[0-9a-f-]{36}@rp\.postgate\.test$' "message_id is <uuid>@<return path domain>, without brackets"
is "$(j '" ".join(sorted(d["data"]["messages"]))' <<<"$out")" \
	"cc1@example.org hidden@example.org to1@example.net to2@example.net" "one entry per recipient, names stripped"
# pairs: "address=id:token ..." in id order, from an answer on stdin.
pairs() { j '" ".join("%s=%s:%s" % (a, m["id"], m["token"]) for a, m in sorted(d["data"]["messages"].items(), key=lambda i: i[1]["id"]))'; }
# table_pairs WHERE: the same from the messages table.
table_pairs() { harness_sql "SELECT GROUP_CONCAT(CONCAT(rcpt_to, '=', id, ':', token) ORDER BY id SEPARATOR ' ') FROM messages WHERE $1"; }
answer_pairs=$(pairs <<<"$out")
like "$answer_pairs" '^([^ ]+=[0-9]+:[A-Za-z0-9]{16}( |$)){4}$' "each entry has a numeric id and a 16-character token"
is "$answer_pairs" "$(table_pairs "message_id = '<$mid>'")" "the ids and tokens are the messages table's"
is "$(harness_sql "SELECT GROUP_CONCAT(DISTINCT CONCAT(tag, ' ', credential_id IS NOT NULL)) FROM messages WHERE message_id = '<$mid>'")" \
	"welcome 1" "the tag and the API credential are recorded"
full_rcpts="to1@example.net to2@example.net cc1@example.org hidden@example.org"
# rcpt_count ADDRESS: envelope deliveries of the full message to ADDRESS in the sink.
rcpt_count() {
	local files
	files=$(grep -lF -- "$subject" "$INSTANCE_SINK_DIR"/* 2>/dev/null || true)
	# shellcheck disable=SC2086 # a list of file names without spaces
	cat $files /dev/null | grep -c "^X-Rcpt-Args: <$1>" || true
}
all_arrived() {
	local r
	for r in $full_rcpts; do [ "$(rcpt_count "$r")" -ge 1 ] || return 1; done
}
harness_wait_for 30 all_arrived || true
sleep 1
once=0
for r in $full_rcpts; do
	n=$(rcpt_count "$r")
	[ "$n" = 1 ] || { once=1; diag "$r delivered $n times"; }
done
ok "$once" "every recipient (To, CC, BCC) reached the sink exactly once"
f=$(sink_file "$subject") || f=/dev/null
hdrs=$(sed -n '/^\r\?$/q;p' "$f" | grep -v '^X-Rcpt-Args:' || true)
unlike "$hdrs" 'hidden@example\.org|^Bcc:' "the BCC recipient is not in the delivered headers"
like "$hdrs" $'\nTo: To One <to1@example\\.net>, to2@example\\.net\r?\n' "the To header lists both To recipients"
like "$hdrs" $'\nCc: cc1@example\\.org\r?\n' "the Cc header"
like "$hdrs" $'\nReply-To: replies@example\\.com\r?\n' "Reply-To"
like "$hdrs" $'\nX-Custom: custom '"$run_id" "custom headers are added"
unlike "$hdrs" 'X-Postal-Tag|X-Postgate-Submission' "the tag and submission headers are removed before delivery"
like "$hdrs" $'\nMIME-Version: 1\\.0\r?\n' "MIME-Version"
like "$hdrs" $'\nContent-Type: multipart/mixed' "an attachment makes the message multipart/mixed"
contains "$(cat "$f")" "multipart/alternative" "plain and HTML bodies are multipart/alternative"
is "$(verify_py "$f")" "pass a=rsa-sha256 d=example.com" "the delivered message carries a DKIM signature that verifies"

# ---------------------------------------------------------------- 46-60: messages/message, deliveries

to1=$(j 'str(d["data"]["messages"]["to1@example.net"]["id"])' <<<"$out")
to1_token=$(j 'd["data"]["messages"]["to1@example.net"]["token"]' <<<"$out")
all_match=0
for r in to1@example.net to2@example.net cc1@example.org hidden@example.org; do
	id=$(j "str(d['data']['messages']['$r']['id'])" <<<"$out")
	tok=$(j "d['data']['messages']['$r']['token']" <<<"$out")
	got=$(post /api/v1/messages/message "{\"id\": $id, \"_expansions\": [\"details\"]}")
	[ "$(j '"%s %s %s" % (d["data"]["id"], d["data"]["token"], d["data"]["details"]["rcpt_to"])' <<<"$got")" = "$id $tok $r" ] ||
		{ all_match=1; diag "$r: $got"; }
done
ok "$all_match" "messages/message returns each recipient's id, token and rcpt_to as send/message did"
x=$(post /api/v1/messages/message "{\"id\": \"$to1\", \"_expansions\": true}")
is "$(j '" ".join(sorted(d["data"]))' <<<"$x")" \
	"activity_entries attachments details headers html_body id inspection plain_body raw_message status token" \
	"_expansions true returns every expansion"
is "$(j 'sorted(d["data"]["status"])' <<<"$x")|$(j 'd["data"]["status"]["held"]' <<<"$x")" \
	'["held", "hold_expiry", "last_delivery_attempt", "status"]|false' "status: Postal's fields, not held"
is "$(j '"%(subject)s|%(message_id)s|%(direction)s|%(tag)s|%(mail_from)s" % d["data"]["details"]' <<<"$x")" \
	"$subject|$mid|outgoing|welcome|app@example.com" "details: subject, message_id, direction, tag, mail_from"
is "$(j 'sorted(d["data"]["details"])' <<<"$x")" \
	'["bounce", "bounce_for_id", "direction", "mail_from", "message_id", "rcpt_to", "received_with_ssl", "size", "subject", "tag", "timestamp"]' \
	"details: Postal's fields"
is "$(j 'sorted(d["data"]["inspection"])' <<<"$x")" '["inspected", "spam", "spam_score", "threat", "threat_details"]' \
	"inspection: Postal's fields"
is "$(j 'd["data"]["plain_body"]' <<<"$x")" "plain text $run_id
second line" "plain_body is the text part"
is "$(j 'd["data"]["html_body"]' <<<"$x")" "<p>html $run_id</p>" "html_body is the HTML part"
is "$(j '"%(filename)s %(content_type)s %(size)d %(hash)s " % d["data"]["attachments"][0] + str(len(d["data"]["attachments"]))' <<<"$x")" \
	"report.bin application/octet-stream $(base64 -d <<<"$attachment" | wc -c) $(base64 -d <<<"$attachment" | sha1sum | cut -d' ' -f1) 1" \
	"attachments: filename, content type, size and SHA-1"
is "$(j 'd["data"]["attachments"][0]["data"]' <<<"$x" | base64 -d | b64)" "$attachment" \
	"the attachment's data is its content in base64"
is "$(j '"%s|%s|%s" % (json.dumps(d["data"]["headers"]["subject"]), json.dumps(d["data"]["headers"]["x-custom"]), "bcc" in d["data"]["headers"])' <<<"$x")" \
	"[\"$subject\"]|[\"custom $run_id\"]|False" "headers: lower-case names, lists of values, no Bcc"
raw=$(j 'd["data"]["raw_message"]' <<<"$x" | base64 -d 2>/dev/null || true)
like "$raw" "Subject: $subject" "raw_message decodes to the message with its subject"
is "$(j 'd["data"]["activity_entries"]' <<<"$x")" '{"clicks": [], "loads": []}' "activity_entries: no loads or clicks yet"
x=$(post /api/v1/messages/message "{\"id\": $to1, \"_expansions\": [\"plain_body\"]}")
is "$(j '" ".join(sorted(d["data"]))' <<<"$x")" "id plain_body token" "a list of expansions returns just those"
is "$(j '"%s %s" % (d["status"], d["data"])' <<<"$(post /api/v1/messages/deliveries "{\"id\": $to1}")")" "success []" \
	"messages/deliveries: an empty list until deliveries are recorded"

# ---------------------------------------------------------------- 61-64: the params form encoding, SQL metacharacters

form=$(curl -sS --max-time 30 -H "X-Server-API-Key: $key" --data-urlencode "params={\"id\": $to1}" \
	"$base/api/v1/messages/message" 2>&1 || true)
is "$(j '"%s %s" % (d["status"], d["data"]["token"])' <<<"$form")" "success $to1_token" \
	"params as an urlencoded form field"
form=$(curl -sS --max-time 30 -H "X-Server-API-Key: $key" -F "params={\"id\": \"$to1\"}" \
	"$base/api/v1/messages/message" 2>&1 || true)
is "$(j '"%s %s" % (d["status"], d["data"]["token"])' <<<"$form")" "success $to1_token" \
	"params as a multipart form field"
form=$(curl -sS --max-time 30 -H "X-Server-API-Key: $key" --data-urlencode 'params={"id": ' \
	"$base/api/v1/messages/message" 2>&1 || true)
like "$(code "$form")" '^parameter-error  The parameters are not valid JSON' "bad JSON in the params field: parameter-error"
tricky="x'); DROP TABLE messages; -- \\\"q\\\" \\\\ % _ $run_id"
out=$(msg "{\"to\": [\"sql@example.net\"], $good, \"subject\": \"$tricky\"}")
id=$(j 'str(d["data"]["messages"]["sql@example.net"]["id"])' <<<"$out")
is "$(j 'd["data"]["details"]["subject"]' <<<"$(post /api/v1/messages/message "{\"id\": $id, \"_expansions\": [\"details\"]}")")" \
	"x'); DROP TABLE messages; -- \"q\" \\ % _ $run_id" "SQL metacharacters in a subject round-trip unharmed"

# ---------------------------------------------------------------- 65-74: send/raw, non-ASCII

subject="raw $run_id"
data=$(printf 'From: App <app@example.com>\r\nTo: raw@example.net\r\nSubject: %s\r\n\r\nraw body\r\n' "$subject" | b64)
out=$(post /api/v1/send/raw "{\"rcpt_to\": [\"raw@example.net\", \"raw2@example.net\"], \"mail_from\": \"app@example.com\", \"data\": \"$data\"}")
rmid=$(j 'd["data"]["message_id"]' <<<"$out")
like "$rmid" '^[0-9a-f-]{36}@rp\.postgate\.test$' "send/raw gives a message without a Message-ID one"
like "$(pairs <<<"$out")" '^raw@example\.net=[0-9]+:[A-Za-z0-9]{16} raw2@example\.net=' "send/raw: one entry per rcpt_to"
is "$(pairs <<<"$out")" "$(table_pairs "message_id = '<$rmid>'")" "send/raw: the ids and tokens are the rows'"
if wait_sink "$subject"; then ok 0 "send/raw: delivered to the sink"; else ok 1 "send/raw: delivered to the sink"; fi
data=$(printf 'From: ceo@bank.example\r\nTo: raw@example.net\r\nSubject: raw foreign\r\n\r\nx\r\n' | b64)
is "$(code "$(post /api/v1/send/raw "{\"rcpt_to\": [\"raw@example.net\"], \"mail_from\": \"app@example.com\", \"data\": \"$data\"}")")" \
	"error UnauthenticatedFromAddress The From address is not authorised to send mail from this server" \
	"send/raw with a foreign From: the milter's 530 becomes UnauthenticatedFromAddress"
data=$(printf 'From: victim<@bank.example>, app@example.com\r\nTo: raw@example.net\r\nSubject: raw ambiguous\r\n\r\nx\r\n' | b64)
is "$(code "$(post /api/v1/send/raw "{\"rcpt_to\": [\"raw@example.net\"], \"mail_from\": \"app@example.com\", \"data\": \"$data\"}")")" \
	"error UnauthenticatedFromAddress The From address is not authorised to send mail from this server" \
	"send/raw with an ambiguous From (victim<@bank.example>, app@...): the milter refuses it too"
out=$(msg "{\"to\": [\"bounced@example.net\"], $good, \"subject\": \"bounce flag $run_id\", \"bounce\": true}")
bid=$(j 'str(d["data"]["messages"]["bounced@example.net"]["id"])' <<<"$out")
x=$(post /api/v1/messages/message "{\"id\": $bid, \"_expansions\": [\"details\"]}")
is "$(j 'str(d["data"]["details"]["bounce"])' <<<"$x")" "True" "send/message with bounce: true: the message is recorded as a bounce"
is "$(code "$(msg "{\"to\": [\"x@example.net\"], $good, \"bounce\": \"maybe\"}")")" \
	"parameter-error  \`bounce\` must be true or false" "a bounce that is not a boolean: parameter-error"
out=$(msg "{\"to\": [\"Jörg Ü <utf@example.net>\"], \"from\": \"Äpp <app@example.com>\", \"plain_body\": \"Grüße ✓\", \"subject\": \"Grüße ✓ $run_id\"}")
id=$(j 'str(d["data"]["messages"]["utf@example.net"]["id"])' <<<"$out")
x=$(post /api/v1/messages/message "{\"id\": $id, \"_expansions\": [\"details\", \"plain_body\", \"headers\"]}")
is "$(j '"%s|%s|%s" % (d["data"]["details"]["subject"], d["data"]["plain_body"], d["data"]["headers"]["to"][0])' <<<"$x")" \
	"Grüße ✓ $run_id|Grüße ✓|Jörg Ü <utf@example.net>" "non-ASCII subject, body and names round-trip (encoded-words)"

# ---------------------------------------------------------------- 75-77: privacy mode
# The Received field send/message writes names the API client; with the server's
# privacy_mode only this host.
api_received() { # SUBJECT: the delivered copy's Received field written by postgate-admin
	local f
	harness_wait_for 30 sink_file "$1" >/dev/null || true
	f=$(sink_file "$1") || f=/dev/null
	perl -0777 -ne 's/\r//g; ($h) = split /\n\n/, $_, 2; $h =~ s/\n[ \t]+/ /g; print grep { /^Received:.*\(postgate\) with HTTP/ } map { "$_\n" } split /\n/, $h' "$f"
}
msg "{\"to\": [\"seen@example.net\"], $good, \"subject\": \"public $run_id\"}" >/dev/null
like "$(api_received "public $run_id")" '^Received: from api \(\[127\.0\.0\.1\]\) by [^ ]+ \(postgate\) with HTTP; ' \
	"the API's Received field names the client's address"
ctl server set acme/mail privacy_mode true >/dev/null
sleep 2.1   # the send API caches the server for admin.cache_ttl (1 s in the harness)
msg "{\"to\": [\"unseen@example.net\"], $good, \"subject\": \"private $run_id\"}" >/dev/null
r=$(api_received "private $run_id")
like "$r" '^Received: by [^ ]+ \(postgate\) with HTTP; ' "privacy mode: it names this host only"
unlike "$r" '127\.0\.0\.1|from api' "... not the API client"
ctl server set acme/mail privacy_mode false >/dev/null

# ---------------------------------------------------------------- 78-79: kept injection sessions

# Each postgate-admin thread keeps its SMTP session to the injection service: messages in a
# row open fewer sessions than messages. A milter restart breaks those sessions' milter
# connections (Postfix answers 451 on them): the next messages still go, on new sessions.
injection_connects() { grep -c 'postgate-injection/smtpd\[[0-9]*\]: connect from' "$HARNESS_DIR/postfix/log/maillog" || true; }
before=$(injection_connects)
sent=0
for i in 1 2 3 4 5 6 7 8; do
	[ "$(code "$(msg "{\"to\": [\"kept$i@example.net\"], $good, \"subject\": \"kept $i $run_id\"}")")" = "success  None" ] &&
		sent=$((sent + 1))
done
after=$(injection_connects)
ok $((sent == 8 && after > 0 && after - before < 8 ? 0 : 1)) \
	"8 messages in a row: all sent, over $((after - before)) new injection sessions (fewer than 8: sessions are kept)"
instance_postgate_stop "$HARNESS_DIR" milter
instance_postgate_start "$HARNESS_DIR" milter "$POSTGATE_BUILDDIR/milter/postgate-milter" "$HARNESS_CONFIG" \
	"$HARNESS_QUEUE_DIR/postgate/milter" || diag "the milter did not start again"
sent=0
for i in 1 2 3 4 5 6 7 8; do
	[ "$(code "$(msg "{\"to\": [\"restart$i@example.net\"], $good, \"subject\": \"restart $i $run_id\"}")")" = "success  None" ] &&
		sent=$((sent + 1))
done
delivered=0
for i in 1 2 3 4 5 6 7 8; do wait_sink "restart $i $run_id" && delivered=$((delivered + 1)); done
is "$sent/$delivered" "8/8" "after a milter restart, the next 8 messages are sent and delivered (a broken kept session is retried once, on a new one)"

# ---------------------------------------------------------------- 80: a slow request holds up no other connection

# A send that waits (here: the milter waits for the server's send-limit turn, a row another
# transaction holds for 6 s) must not hold up requests on other, already open connections:
# each connection has its own thread. 8 keep-alive connections are opened first; while the
# send waits, each asks for /health twice, and every answer must come within 2 s.
ctl server set acme/mail send_limit 100000 >/dev/null
sleep 2.1   # the milter's and the send API's caches (cache_ttl 1 s in the harness)
server_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'mail'")
harness_sql "BEGIN; INSERT INTO turns (scope, id, seq) VALUES ('send_limit', $server_id, 1)
	ON DUPLICATE KEY UPDATE seq = seq + 1; SELECT SLEEP(6); ROLLBACK;" >/dev/null &
locker=$!
out=$(ADMIN_URL=$base KEY=$key GOOD="$good" RUN_ID=$run_id /usr/bin/python3 - <<'PY' 2>&1 || true
import http.client, json, os, threading, time, urllib.parse
u = urllib.parse.urlparse(os.environ["ADMIN_URL"])
conns = [http.client.HTTPConnection(u.hostname, u.port, timeout=30) for _ in range(8)]
for c in conns:
    c.request("GET", "/health"); c.getresponse().read()
result = {}
def slow():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    body = '{"to": ["slow@example.net"], %s, "subject": "slow %s"}' % (os.environ["GOOD"], os.environ["RUN_ID"])
    t0 = time.monotonic()
    c.request("POST", "/api/v1/send/message", body, {"X-Server-API-Key": os.environ["KEY"],
                                                      "Content-Type": "application/json"})
    result["status"] = json.loads(c.getresponse().read())["status"]
    result["seconds"] = time.monotonic() - t0
time.sleep(0.5)                 # the locker holds the row
t = threading.Thread(target=slow); t.start()
time.sleep(1.0)                 # the send is waiting now
worst = 0.0
for _ in range(2):
    for c in conns:
        t0 = time.monotonic(); c.request("GET", "/health"); c.getresponse().read()
        worst = max(worst, time.monotonic() - t0)
t.join()
print("slowest /health %.2f s; the send took %.1f s (%s)" % (worst, result.get("seconds", -1), result.get("status")))
PY
)
wait "$locker" 2>/dev/null || true
ctl server set acme/mail send_limit none >/dev/null
like "$out" '^slowest /health (0|1)\.[0-9]+ s; the send took ([4-9]|[1-9][0-9])\.[0-9] s \(success\)$' \
	"while a send waits ${out#*the send took } for a lock, 8 open connections are answered at once ($out)"

# ---------------------------------------------------------------- 81-89: outage, suspension, logs, proxies, signals

# MariaDB stops: /health and the API answer 503 (clients retry), and recover after.
instance_mariadb_stop "$HARNESS_DIR/mariadb"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$base/health" || true)" 503 "/health answers 503 while MariaDB is down"
out=$(post /api/v1/send/message "{\"to\": [\"a@example.net\"], $good}" -w '\n%{http_code}')
like "$out" $'"code":"TemporaryFailure".*\n503$' "the API answers 503 TemporaryFailure while MariaDB is down"
instance_mariadb_start "$HARNESS_DIR/mariadb" >/dev/null
if harness_wait_for 30 harness_admin_healthy; then ok 0 "/health recovers when MariaDB is back"; else ok 1 "/health recovers when MariaDB is back"; fi
ctl server set acme/mail suspended true >/dev/null
sleep 2
is "$(code "$(msg "{\"to\": [\"a@example.net\"], $good}")")" "error ServerSuspended The mail server has been suspended." \
	"a suspended server: ServerSuspended"
ctl server set acme/mail suspended false >/dev/null
like "$(grep -c "POST /api/v1/send/message 200 .* credential [0-9]" "$admin_log")" '^[1-9]' \
	"one log line per request with the credential id"
is "$(grep -cF -- "$key" "$admin_log" || true)" 0 "the API key never appears in the log"
curl -s -o /dev/null --max-time 10 -H 'X-Forwarded-For: 198.51.100.1, 203.0.113.9' "$base/health" || true
like "$(tail -n 1 "$admin_log")" 'GET /health 200 .* client 203\.0\.113\.9$' \
	"behind a trusted proxy the client is X-Forwarded-For's last hop"
# After dropping privileges the daemon rereads the file as daemon.user (as in production, root:postgate 0640).
chgrp postgate "$HARNESS_CONFIG" && chmod 640 "$HARNESS_CONFIG"
kill -HUP "$admin_pid"
harness_wait_for 10 grep -q "configuration reloaded" "$admin_log" || true
is "$(grep -c "configuration reloaded" "$admin_log" || true)|$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$base/health" || true)" \
	"1|200" "SIGHUP reloads the configuration and the service goes on"
kill -TERM "$admin_pid"
if harness_wait_for 15 instance_pid_gone "$admin_pid" && grep -q "stopped" "$admin_log"; then
	ok 0 "SIGTERM: postgate-admin drains and exits"
	admin_pid=""
else
	ok 1 "SIGTERM: postgate-admin drains and exits"
fi
