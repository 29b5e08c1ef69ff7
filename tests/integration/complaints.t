#!/bin/bash
#
# complaints.t -- spam complaints (RFC 5965 feedback reports) through the real Postfix and
# postgate-worker's LMTP server: a mailbox provider's abuse report about a sent message,
# delivered to the message's return path, suppresses the message's recipient (kept until
# removed), links the stored report to the message and queues MessageComplained, which
# a webhook receiver gets; the same report again changes nothing; a report to Postal's
# per-server return path is matched by the X-Postal-MsgID it quotes; a report quoting
# another tenant's message does nothing to that tenant; the report's Original-Rcpt-To is
# never what gets suppressed; a not-spam report is no complaint.
#
# Must never: suppress or notify for another server's message, or trust the reporter's
# words for the address it suppresses.

# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_start_postgate
plan 19

here=$(cd "$(dirname "$0")" && pwd)
data="$POSTGATE_SRCDIR/tests/data/arf"
ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)

instance_spawn "$HARNESS_DIR/recv.pid" "$HARNESS_DIR/recv.log" /usr/bin/python3 "$here/webhook-receiver.py" \
	--log "$HARNESS_DIR/hooks.jsonl" --port-file "$HARNESS_DIR/hooks.port" ||
	harness_setup_failed "the webhook receiver did not start"
trap 'rc=$?; instance_postgate_stop "$HARNESS_DIR" recv; harness_on_exit $rc' EXIT
harness_wait_for 10 test -s "$HARNESS_DIR/hooks.port" || harness_setup_failed "the webhook receiver has no port"
touch "$HARNESS_DIR/hooks.jsonl"

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
sid=$(harness_sql "SELECT id FROM servers WHERE permalink = 'mail'")
server_token=$(harness_sql "SELECT token FROM servers WHERE id = $sid")
harness_sql "INSERT INTO webhooks (uuid, server_id, name, url, all_events, enabled, sign)
	VALUES (UUID(), $sid, 'all', 'http://127.0.0.1:$(cat "$HARNESS_DIR/hooks.port")/hooks', 1, 1, 0)"
# A second tenant, a stranger to the first.
ctl org create --name Other --permalink other >/dev/null
ctl server create --org other --name Bulk --permalink bulk >/dev/null
ctl domain create --server other/bulk --name other.example --verified >/dev/null
key2=$(ctl credential create --server other/bulk --name app | sed -n 's/^key: //p')
sid2=$(harness_sql "SELECT id FROM servers WHERE permalink = 'bulk'")
harness_start_worker

# send USER KEY FROM SUBJECT RCPT: submit with SMTP AUTH, as an application would.
send() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user "$1" \
		--auth-password "$2" --from "$3" --to "$5" --h-From "App <$3>" \
		--h-Subject "$4 $run_id" >/dev/null 2>&1 || true
}
# inject FROM RCPT FILE: unauthenticated, as a mailbox provider's feedback loop sends.
inject() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from "$1" --to "$2" --data "$3" 2>&1 || true
}
row() { harness_sql "SELECT id FROM messages WHERE subject = '$1 $run_id' AND rcpt_to = '$2'"; }
token_of() { harness_sql "SELECT token FROM messages WHERE id = $1"; }
status_of() { harness_sql "SELECT status FROM messages WHERE id = $1"; }
has_status() { [ "$(status_of "$1")" = "$2" ]; }
reports_of() { harness_sql "SELECT COUNT(*) FROM messages WHERE complaint_for_id = $1"; }
nevents() { harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE event = 'MessageComplained' AND JSON_VALUE(payload, '\$.original_message.id') = $1"; }
event_of() { harness_sql "SELECT payload FROM webhook_outbox WHERE event = 'MessageComplained' AND JSON_VALUE(payload, '\$.original_message.id') = $1 ORDER BY id DESC LIMIT 1"; }
suppression() { harness_sql "SELECT CONCAT_WS('|', source, reason, IFNULL(keep_until, 'kept')) FROM suppressions WHERE server_id = $1 AND address = '$2'"; }
# arf_from TOKEN RCPT OUT [TYPE]: the sample report about the message with TOKEN to RCPT.
arf_from() {
	sed -e "s/ab12cd34ef56gh78/$1/Ig" -e "s/reader@mailbox-provider\.test/$2/g" \
		-e "s/^Feedback-Type: abuse/Feedback-Type: ${4:-abuse}/" \
		-e "s/^Message-ID: <fbl-7731@/Message-ID: <fbl-$(instance_random_hex 6)@/" "$data/abuse.eml" >"$3"
}

# ---------------------------------------------------------------- a report to the message's return path
send acme/mail "$key" app@example.com sale reader@example.net
m=$(row sale reader@example.net)
harness_wait_for 40 has_status "$m" Sent || true
is "$(status_of "$m")" Sent "an outgoing message is Sent"
arf_from "$(token_of "$m")" reader@example.net "$HARNESS_DIR/arf.eml"
out=$(inject feedback@mailbox-provider.test "$(token_of "$m")@rp.postgate.test" "$HARNESS_DIR/arf.eml")
like "$out" '<-  250 2\.0\.0 Ok: queued' "a feedback report is accepted for the message's return path"
harness_wait_for 30 test "$(reports_of "$m")" -ge 1 || true
r=$(harness_sql "SELECT id FROM messages WHERE complaint_for_id = $m LIMIT 1")
is "$(harness_sql "SELECT CONCAT_WS(' ', scope, status, bounce, IFNULL(route_id, '-')) FROM messages WHERE id = ${r:-0}")" \
	"incoming Processed 0 -" "the report is stored, linked to the message (complaint_for_id), not a bounce, not routed"
is "$(suppression "$sid" reader@example.net)" \
	"complaint|Spam complaint (abuse) reported by fbl.mailbox-provider.test (MailboxProviderFBL/2.1)|kept" \
	"the recipient goes on the server's suppression list until removed, with who reported it"
is "$(status_of "$m")" Sent "the message itself stays Sent"
p=$(event_of "$m")
is "$(harness_jv original_message.id <<<"$p") $(harness_jv original_message.direction <<<"$p") $(harness_jv complaint.id <<<"$p") $(harness_jv complaint.direction <<<"$p")" \
	"$m outgoing ${r:-0} incoming" "MessageComplained is queued with {original_message, complaint}"
is "$(harness_jv feedback.type <<<"$p")|$(harness_jv feedback.user_agent <<<"$p")|$(harness_jv feedback.reporting_mta <<<"$p")|$(harness_jv feedback.source_ip <<<"$p")|$(harness_jv feedback.original_rcpt_to <<<"$p")" \
	"abuse|MailboxProviderFBL/2.1|fbl.mailbox-provider.test|198.51.100.20|reader@example.net" \
	"... and the report's feedback fields"
harness_wait_for 30 grep -q '"event": "MessageComplained"' "$HARNESS_DIR/hooks.jsonl" || true
hook=$(grep '"event": "MessageComplained"' "$HARNESS_DIR/hooks.jsonl" | tail -1)
is "$(/usr/bin/python3 -c 'import json,sys; b=json.loads(sys.stdin.read())["body"]; print(b["event"], b["payload"]["original_message"]["token"], b["payload"]["feedback"]["type"])' <<<"$hook" 2>/dev/null)" \
	"MessageComplained $(token_of "$m") abuse" "the webhook receiver gets MessageComplained"
like "$(grep "to=<$(token_of "$m")@rp.postgate.test>" "$HARNESS_WORKER_LOG" | tail -1)" \
	"is a complaint \(abuse, from fbl\.mailbox-provider\.test\) of message $m: recipient suppressed" \
	"the worker logs the complaint and what it did"

inject feedback@mailbox-provider.test "$(token_of "$m")@rp.postgate.test" "$HARNESS_DIR/arf.eml" >/dev/null
harness_wait_for 30 test "$(reports_of "$m")" -ge 2 || true
is "$(reports_of "$m") $(nevents "$m")" "2 1" "the same report again is stored and linked, without a second MessageComplained"

send acme/mail "$key" app@example.com again reader@example.net
m2=$(row again reader@example.net)
harness_wait_for 30 has_status "$m2" Held || true
like "$(harness_sql "SELECT CONCAT_WS('|', status, hold_reason) FROM messages WHERE id = ${m2:-0}")" \
	'^Held\|Recipient is on the suppression list \(Spam complaint \(abuse\)' "the next message to the complainer is held by the suppression list"

# ---------------------------------------------------------------- Postal's per-server return path
send acme/mail "$key" app@example.com news fan@example.net
m=$(row news fan@example.net)
harness_wait_for 40 has_status "$m" Sent || true
arf_from "$(token_of "$m")" fan@example.net "$HARNESS_DIR/arf2.eml"
inject feedback@mailbox-provider.test "$server_token@rp.postgate.test" "$HARNESS_DIR/arf2.eml" >/dev/null
harness_wait_for 30 test "$(nevents "$m")" -ge 1 || true
is "$(nevents "$m") $(reports_of "$m")" "1 1" "a report to <server token>@<return path domain> is matched by the X-Postal-MsgID it quotes"
like "$(suppression "$sid" fan@example.net)" '^complaint\|' "... and suppresses that message's recipient"

# ---------------------------------------------------------------- the reporter's words are not trusted
send acme/mail "$key" app@example.com promo buyer@example.net
m=$(row promo buyer@example.net)
harness_wait_for 40 has_status "$m" Sent || true
arf_from "$(token_of "$m")" victim@example.net "$HARNESS_DIR/arf3.eml"
inject feedback@mailbox-provider.test "$(token_of "$m")@rp.postgate.test" "$HARNESS_DIR/arf3.eml" >/dev/null
harness_wait_for 30 test "$(nevents "$m")" -ge 1 || true
is "$(suppression "$sid" victim@example.net)|$(suppression "$sid" buyer@example.net | cut -d'|' -f1)" "|complaint" \
	"a report naming another Original-Rcpt-To suppresses the message's own recipient, not the named one"
is "$(harness_jv feedback.original_rcpt_to <<<"$(event_of "$m")")" victim@example.net "... the event passes the reporter's words on as they are"

# ---------------------------------------------------------------- another tenant's message
send other/bulk "$key2" app@other.example offer target@example.net
mo=$(row offer target@example.net)
harness_wait_for 40 has_status "$mo" Sent || true
is "$(status_of "$mo")" Sent "the other tenant's message is Sent"
arf_from "$(token_of "$mo")" target@example.net "$HARNESS_DIR/arf4.eml"
inject feedback@mailbox-provider.test "$server_token@rp.postgate.test" "$HARNESS_DIR/arf4.eml" >/dev/null
harness_wait_for 30 test -n "$(harness_sql "SELECT id FROM messages WHERE server_id = $sid AND scope = 'incoming' AND rcpt_to = '$server_token@rp.postgate.test' AND complaint_for_id IS NULL")" || true
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE server_id = $sid AND scope = 'incoming' AND rcpt_to = '$server_token@rp.postgate.test' AND complaint_for_id IS NULL")" 1 \
	"a report quoting another tenant's message, sent to this server's return path, is stored for this server only"
is "$(nevents "$mo") $(reports_of "$mo") $(harness_sql "SELECT COUNT(*) FROM suppressions WHERE server_id = $sid2")|$(suppression "$sid" target@example.net)" \
	"0 0 0|" "... and does nothing to the other tenant's message or lists (nor to this server's)"

# ---------------------------------------------------------------- not complaints
send acme/mail "$key" app@example.com digest happy@example.net
m=$(row digest happy@example.net)
harness_wait_for 40 has_status "$m" Sent || true
arf_from "$(token_of "$m")" happy@example.net "$HARNESS_DIR/arf5.eml" not-spam
inject feedback@mailbox-provider.test "$(token_of "$m")@rp.postgate.test" "$HARNESS_DIR/arf5.eml" >/dev/null
harness_wait_for 30 test -n "$(harness_sql "SELECT id FROM messages WHERE rcpt_to = '$(token_of "$m")@rp.postgate.test'")" || true
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE rcpt_to = '$(token_of "$m")@rp.postgate.test'") $(nevents "$m") $(reports_of "$m")|$(suppression "$sid" happy@example.net)" \
	"1 0 0|" "a not-spam feedback report is stored, and is no complaint: no event, no suppression"
