#!/bin/bash
#
# hosting_inbox.t -- mail from the Internet for hosted mailboxes passes postgate-milter's
# spam and virus checks (SpamAssassin's spamd with GTUBE, ClamAV's clamd with EICAR) before
# the real Postfix hands it to the real Dovecot: a clean message reaches the INBOX byte for
# byte below the verdict fields; spam under the failure threshold is filed into the
# mailbox's Junk folder (\Junk, RFC 6154) by postgate's Sieve rule; a virus and spam at
# the server's failure threshold are refused at SMTP time; an X-Postal-Spam field forged
# by the sender neither files clean mail into Junk nor survives; an organization's hosted
# domain (no server) is judged by a new server's thresholds. ManageSieve (sieve-connect, as
# a mail client) uploads and activates a mailbox's own script, which files the next
# matching message, while spam still goes to Junk first. `dovecot disable` removes the
# compiled spam rule with its source.
#
# Must never: pass when spam reached an INBOX, clean mail reached Junk, or mail was lost.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v spamd >/dev/null || skip_all "spamd missing: run 'packaging/install-deps test' as root"
command -v clamd >/dev/null || skip_all "clamd missing: run 'packaging/install-deps test' as root"
command -v sieve-connect >/dev/null || skip_all "sieve-connect missing: run 'packaging/install-deps test' as root"

harness_setup mariadb sink postfix spamd clamd
cat >>"$HARNESS_CONFIG" <<EOF
spamd: { enabled = true; address = "$INSTANCE_SPAMD_ADDRESS"; timeout = 20; };
clamd: { enabled = true; address = "$INSTANCE_CLAMD_ADDRESS"; timeout = 20; };
EOF
harness_dovecot_prepare
harness_start_postgate
harness_start_dovecot
harness_start_worker
plan 27

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
D=inbox.postgate.test
O=org.postgate.test
PW_A='Alice-Pass-2024!x'

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name "$D" --verified >/dev/null
ctl domain hosting acme/mail "$D" on >/dev/null
printf '%s\n' "$PW_A" | ctl mailbox create acme/mail "alice@$D" --password-stdin >/dev/null
# A webhook for every event (nothing listens: the events stay in the outbox to be read).
harness_sql "INSERT INTO webhooks (uuid, server_id, name, url) SELECT UUID(), id, 'all', 'http://127.0.0.1:9/' FROM servers WHERE permalink = 'mail'"
# GTUBE scores about 1000: the server lets it through to the mailbox's Junk at first.
harness_sql "UPDATE servers SET spam_failure_threshold = 9999 WHERE permalink = 'mail'"
# An organization's own hosted domain (no server) with an alias to alice, made with SQL.
org_id=$(harness_sql "SELECT id FROM organizations WHERE permalink = 'acme'")
harness_sql "INSERT INTO domains (uuid, organization_id, name, verification_token, verified_at, hosting)
	VALUES (UUID(), $org_id, '$O', 'token', UTC_TIMESTAMP(), 1)"
harness_sql "INSERT INTO aliases (uuid, domain_id, local_part) SELECT UUID(), id, 'sales' FROM domains WHERE name = '$O'"
harness_sql "INSERT INTO alias_destinations (alias_id, address) SELECT id, 'alice@$D' FROM aliases WHERE local_part = 'sales'"

gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
ham="The minutes of Tuesday's meeting are on the wiki page; the next one is on Thursday at ten."

# mkmsg FILE SUBJECT BODY [HEADER...]: an RFC 5322 message with CRLF line ends and a Date.
mkmsg() {
	local file=$1 subject=$2 body=$3 h
	shift 3
	{
		printf 'From: Sender <sender@example.org>\r\nTo: alice@%s\r\n' "$D"
		printf 'Subject: %s\r\nDate: Sun, 6 Dec 2026 04:00:00 +0000\r\nMessage-ID: <%s@example.org>\r\n' "$subject" \
			"$(instance_random_hex 8)"
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf '\r\n%s\r\n' "$body"
	} >"$file"
}
# send FILE RCPT: unauthenticated, as from the Internet; the server's last answer.
send() {
	/usr/bin/python3 - "$INSTANCE_SMTP_PORT" "$1" "$2" <<'PY'
import smtplib, sys
port, path, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(path, 'rb') as f:
    data = f.read()
s = smtplib.SMTP('127.0.0.1', port, timeout=90)
try:
    s.ehlo('client.example.org')
    s.mail('sender@example.org')
    code, text = s.rcpt(rcpt)
    if code < 300:
        code, text = s.data(data)
    print(code, text.decode())
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
finally:
    s.quit()
PY
}
# folder USER PASS FOLDER SUBJECT: the number of messages with SUBJECT in FOLDER (0 when the
# folder does not exist), the first one's bytes into $HARNESS_DIR/imap.out.
folder() {
	/usr/bin/python3 - "$INSTANCE_IMAP_PORT" "$HARNESS_DIR/imap.out" "$@" <<'PY'
import imaplib, sys
port, out, user, pw, box, subject = int(sys.argv[1]), sys.argv[2], *sys.argv[3:7]
m = imaplib.IMAP4('127.0.0.1', port)
m.login(user, pw)
typ, _ = m.select('"%s"' % box, readonly=True)
if typ != 'OK':
    print(0)
    sys.exit(0)
typ, data = m.search(None, 'SUBJECT', '"%s"' % subject)
ids = data[0].split()
if ids:
    typ, msg = m.fetch(ids[0], '(BODY.PEEK[])')
    with open(out, 'wb') as f:
        f.write(msg[0][1])
print(len(ids))
m.logout()
PY
}
# special_use USER PASS: the folders' names with their RFC 6154 attributes, one per line.
special_use() {
	/usr/bin/python3 - "$INSTANCE_IMAP_PORT" "$@" <<'PY'
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
typ, data = m.list()
for line in data:
    print(line.decode())
m.logout()
PY
}
arrived() { [ "$(folder "alice@$D" "$PW_A" "$1" "$2")" = 1 ]; }
# ends_with BIG SMALL: BIG's last bytes are exactly SMALL (trace and verdict fields go on top).
ends_with() {
	local n
	n=$(stat -c %s "$2")
	cmp -s <(tail -c "$n" "$1") "$2"
}

# ---- clean mail: INBOX, byte for byte below the fields the milter put on top
mkmsg "$HARNESS_DIR/ham.eml" "ham-$run_id" "$ham"
like "$(send "$HARNESS_DIR/ham.eml" "alice@$D")" '^250 ' "a clean message for a mailbox is accepted"
harness_wait_for 60 arrived INBOX "ham-$run_id" || true
is "$(folder "alice@$D" "$PW_A" INBOX "ham-$run_id")" 1 "... and delivered to the INBOX"
like "$(tr -d '\r' <"$HARNESS_DIR/imap.out")" $'(^|\n)X-Postal-Spam: no\n' "... marked X-Postal-Spam: no by the milter"
ends_with "$HARNESS_DIR/imap.out" "$HARNESS_DIR/ham.eml" && st=0 || st=$?
is "$st" 0 "... with the sender's bytes intact at the end (the verdict fields are on top)"

# ---- spam: Junk, never the INBOX
mkmsg "$HARNESS_DIR/spam.eml" "spam-$run_id" "$gtube"
like "$(send "$HARNESS_DIR/spam.eml" "alice@$D")" '^250 ' "GTUBE under the server's failure threshold is accepted"
harness_wait_for 60 arrived Junk "spam-$run_id" || true
is "$(folder "alice@$D" "$PW_A" Junk "spam-$run_id") $(folder "alice@$D" "$PW_A" INBOX "spam-$run_id")" "1 0" \
	"... and filed into Junk by Sieve, not the INBOX"
like "$(tr -d '\r' <"$HARNESS_DIR/imap.out")" $'(^|\n)X-Postal-Spam: yes\n' "... with X-Postal-Spam: yes"
like "$(special_use "alice@$D" "$PW_A")" '\\Junk\) "[^"]*" "?Junk"?' "Junk carries the \\Junk special-use attribute"

# ---- a forged verdict from outside counts for nothing
mkmsg "$HARNESS_DIR/forged.eml" "forged-$run_id" "$ham" "X-Postal-Spam: yes" "X-Postal-Spam-Score: 999.0"
like "$(send "$HARNESS_DIR/forged.eml" "alice@$D")" '^250 ' "clean mail carrying a forged X-Postal-Spam: yes is accepted"
harness_wait_for 60 arrived INBOX "forged-$run_id" || true
is "$(folder "alice@$D" "$PW_A" INBOX "forged-$run_id") $(folder "alice@$D" "$PW_A" Junk "forged-$run_id")" "1 0" \
	"... into the INBOX, not Junk"
is "$(tr -d '\r' <"$HARNESS_DIR/imap.out" | grep -ci '^X-Postal-Spam: yes' || true)" 0 "... and the forged field is gone"

# ---- refused at SMTP time: a virus, spam at the failure threshold
mkmsg "$HARNESS_DIR/virus.eml" "virus-$run_id" "$eicar"
like "$(send "$HARNESS_DIR/virus.eml" "alice@$D")" '^554 .*virus found' "EICAR for a mailbox is refused: 554 naming the virus"
harness_sql "UPDATE servers SET spam_failure_threshold = 20 WHERE permalink = 'mail'"
sleep 2 # the milter's server cache (milter.cache_ttl = 1 in the harness)
mkmsg "$HARNESS_DIR/fail.eml" "fail-$run_id" "$gtube"
like "$(send "$HARNESS_DIR/fail.eml" "alice@$D")" '^550 .*failure threshold' \
	"GTUBE at the server's failure threshold is refused: 550"
is "$(folder "alice@$D" "$PW_A" INBOX "virus-$run_id")$(folder "alice@$D" "$PW_A" Junk "fail-$run_id")" "00" \
	"... and neither reaches the mailbox"

# ---- an organization's hosted domain: a new server's thresholds (spam over 5, refused from 20)
harness_wait_for 30 bash -c "postmap -c '$INSTANCE_POSTFIX_CONFIG_DIR' -q 'sales@$O' \
	\"\$(postconf -c '$INSTANCE_POSTFIX_CONFIG_DIR' -h virtual_alias_maps)\" | grep -q alice" || true
mkmsg "$HARNESS_DIR/orgham.eml" "orgham-$run_id" "$ham"
like "$(send "$HARNESS_DIR/orgham.eml" "sales@$O")" '^250 ' "clean mail for an organization's hosted domain is accepted"
mkmsg "$HARNESS_DIR/orgspam.eml" "orgspam-$run_id" "$gtube"
like "$(send "$HARNESS_DIR/orgspam.eml" "sales@$O")" '^550 .*failure threshold 20\.0' \
	"... GTUBE for it is refused at the default failure threshold (20)"
harness_wait_for 60 arrived INBOX "orgham-$run_id" || true
is "$(folder "alice@$D" "$PW_A" INBOX "orgham-$run_id")" 1 "... and the clean one reaches the alias's mailbox"

# ---- the server's message history: incoming rows, Sent once Postfix's log says Dovecot took them
row() { harness_sql "SELECT CONCAT_WS(' ', scope, status, spam_status, IFNULL(route_id, '-')) FROM messages WHERE subject = '$1'"; }
sent() { [ "$(harness_sql "SELECT status FROM messages WHERE subject = '$1'")" = Sent ]; }
harness_wait_for 60 sent "ham-$run_id" || true
harness_wait_for 60 sent "spam-$run_id" || true
is "$(row "ham-$run_id") / $(row "spam-$run_id")" "incoming Sent NotSpam - / incoming Sent Spam -" \
	"mail for mailboxes is in the server's history: incoming, Sent, with the spam verdict"
like "$(harness_sql "SELECT d.details FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.subject = 'ham-$run_id'")" \
	"^Message for alice@$D accepted by 127\.0\.0\.1\[127\.0\.0\.1\]:$INSTANCE_LMTP_PORT\$" \
	"... its delivery names Dovecot's LMTP, read from Postfix's log"
like "$(harness_sql "SELECT CONCAT(h.size_bytes > 0, ' ', m.postfix_queue_id IS NOT NULL) FROM messages m JOIN raw_messages h ON h.id = m.raw_message_id AND h.created_day = m.raw_message_day WHERE m.subject = 'ham-$run_id'")" \
	'^1 1$' "... with its raw copy and Postfix's queue ID"
is "$(harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE event = 'MessageSent' AND JSON_VALUE(payload, '\$.message.subject') = 'ham-$run_id'")" 1 \
	"... and a MessageSent event, as Postal sends for a delivered message"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject IN ('virus-$run_id', 'fail-$run_id', 'orgham-$run_id', 'orgspam-$run_id')")" 0 \
	"refused mail leaves no row, nor does mail for an organization's domain (no server)"
is "$(harness_sql "SELECT COUNT(*) FROM suppressions")" 0 "... and no mailbox lands on a suppression list"
is "$(harness_sql "SELECT COUNT(*) FROM send_volume")" 0 "incoming mail counts nothing against the send limit"

# ---- ManageSieve: the mailbox's own script, after postgate's spam rule
cat >"$HARNESS_DIR/lists.sieve" <<'EOF'
require ["fileinto", "mailbox"];
if header :contains "Subject" "[lists]" {
  fileinto :create "Lists";
}
EOF
sieve() {
	sieve-connect --server 127.0.0.1 --port "$INSTANCE_SIEVE_PORT" --user "alice@$D" --authmech PLAIN \
		--clearchan --notlsverify --passwordfd 3 "$@" 3<<<"$PW_A" 2>&1
}
sieve --upload --localsieve "$HARNESS_DIR/lists.sieve" --remotesieve lists >/dev/null || true
sieve --activate --remotesieve lists >/dev/null || true
like "$(sieve --list)" 'lists.*ACTIVE|lists +<-' "sieve-connect uploads and activates a script over ManageSieve"
mkmsg "$HARNESS_DIR/list.eml" "[lists] news $run_id" "$ham"
send "$HARNESS_DIR/list.eml" "alice@$D" >/dev/null
mkmsg "$HARNESS_DIR/listspam.eml" "[lists] spam $run_id" "$gtube"
harness_sql "UPDATE servers SET spam_failure_threshold = 9999 WHERE permalink = 'mail'"
sleep 2
send "$HARNESS_DIR/listspam.eml" "alice@$D" >/dev/null
harness_wait_for 60 arrived Lists "news $run_id" || true
harness_wait_for 60 arrived Junk "spam $run_id" || true
is "$(folder "alice@$D" "$PW_A" Lists "news $run_id") $(folder "alice@$D" "$PW_A" Junk "spam $run_id") $(folder "alice@$D" "$PW_A" Lists "spam $run_id")" \
	"1 1 0" "the user's script files its mail; spam matching it still goes to Junk"

# ---- disable removes the compiled rule with its source
ctl dovecot disable -c "$INSTANCE_DOVECOT_CONFIG_DIR" >/dev/null
is "$(ls "$INSTANCE_DOVECOT_CONFIG_DIR" | grep -c '^postgate-spam' || true)" 0 \
	"dovecot disable removes postgate-spam.sieve and its compiled postgate-spam.svbin"
