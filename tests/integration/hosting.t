#!/bin/bash
#
# hosting.t -- mail hosting with the real Postfix, Dovecot and MariaDB: a verified domain
# switched to hosting, mailboxes and aliases made with postgatectl, Postfix asking
# postgate-policyd's socketmap (virtual_mailbox_domains, virtual_mailbox_maps,
# virtual_alias_maps) and delivering to a private Dovecot over LMTP, Dovecot's SQL
# passdb/userdb reading postgate's mailboxes (`postgatectl dovecot enable`). Mail from
# "the Internet" is read back byte for byte over IMAP and POP3 (Python's imaplib and
# poplib); an alias fans out; the catch-all catches but never takes a mailbox's mail; an
# unknown address is refused at RCPT; a disabled mailbox cannot log in; a rename keeps the
# mail; the password policy names the rule it applies; another tenant neither sees nor
# touches the mailboxes, and its unverified row of the same name steers nothing; a domain
# alias delivers local@alias to local@target, and one pointing at another tenant's domain
# steers nothing.
#
# Must never: pass when mail was lost or delivered to the wrong mailbox.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_dovecot_prepare
harness_start_postgate
harness_start_dovecot
harness_start_admin
. "$(dirname "$0")/api.sh"
base=$HARNESS_ADMIN_URL
plan 107

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
D=hosted.postgate.test
PW_A='Alice-Pass-2024!x'
PW_B='Bob-Pass-2024!yz'

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name "$D" --verified >"$HARNESS_DIR/records.zone"
ctl domain create --server acme/mail --name second.postgate.test --verified >/dev/null
ctl domain create --server acme/mail --name pending.postgate.test >/dev/null
ctl org create --name Evil --permalink evil >/dev/null
ctl server create --org evil --name Spy --permalink spy >/dev/null
ctl domain create --server evil/spy --name "$D" >/dev/null

# send_raw FILE RCPT: FILE's bytes over SMTP to the private Postfix, unauthenticated (as from
# the Internet); prints the server's last answer (code and text) or the refusal.
send_raw() {
	/usr/bin/python3 - "$INSTANCE_SMTP_PORT" "$1" "$2" <<'PY'
import smtplib, sys
port, path, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(path, 'rb') as f:
    data = f.read()
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
try:
    s.ehlo('client.example.org')
    s.mail('sender@example.org')
    code, text = s.rcpt(rcpt)
    if code >= 300:
        print(code, text.decode())
        sys.exit(0)
    code, text = s.data(data)
    print(code, text.decode())
finally:
    s.quit()
PY
}
# message SUBJECT FILE: a message with folded, dot-leading and white-space lines, CRLF, and
# a Date (Postfix adds none then: the bytes stay the sender's).
message() {
	printf 'From: Sender <sender@example.org>\r\nTo: someone@%s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\nDate: Sun, 6 Dec 2026 04:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nX-Folded: one\r\n two\r\n\r\nHello %s.\r\n.a line that starts with a dot\r\n\ttabbed   spaces  \r\n\r\nend\r\n' \
		"$D" "$1" "$run_id-$1" "$run_id" >"$2"
}
# imap USER PASS [SUBJECT]: "login ok N" (N messages, or matching SUBJECT), the raw message of
# the first match into $HARNESS_DIR/imap.out; "login failed" when the login is refused.
imap() {
	/usr/bin/python3 - "$INSTANCE_IMAP_PORT" "$HARNESS_DIR/imap.out" "$@" <<'PY'
import imaplib, sys
port, out, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
subject = sys.argv[5] if len(sys.argv) > 5 else None
m = imaplib.IMAP4('127.0.0.1', port)
try:
    m.login(user, pw)
except imaplib.IMAP4.error:
    print('login failed')
    sys.exit(0)
m.select('INBOX', readonly=True)
typ, data = m.search(None, 'SUBJECT', '"%s"' % subject) if subject else m.search(None, 'ALL')
ids = data[0].split()
if ids:
    typ, msg = m.fetch(ids[0], '(BODY.PEEK[])')
    with open(out, 'wb') as f:
        f.write(msg[0][1])
print('login ok', len(ids))
m.logout()
PY
}
# pop3 USER PASS: the first message's bytes into $HARNESS_DIR/pop3.out; "pop3 ok N".
pop3() {
	/usr/bin/python3 - "$INSTANCE_POP3_PORT" "$HARNESS_DIR/pop3.out" "$@" <<'PY'
import poplib, sys
port, out, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
p = poplib.POP3('127.0.0.1', port, timeout=30)
p.user(user)
try:
    p.pass_(pw)
except poplib.error_proto:
    print('pop3 login failed')
    sys.exit(0)
n = len(p.list()[1])
if n:
    resp, lines, octets = p.retr(1)
    with open(out, 'wb') as f:
        f.write(b'\r\n'.join(lines) + b'\r\n')
print('pop3 ok', n)
p.quit()
PY
}
has_mail() { [ "$(imap "$1" "$2" "$3")" = "login ok 1" ]; }
# ends_with BIG SMALL: BIG's last bytes are exactly SMALL (trace headers go on top).
ends_with() {
	local n
	n=$(stat -c %s "$2")
	cmp -s <(tail -c "$n" "$1") "$2"
}

# ---- the hosting switch and mailboxes
out=$(ctl domain hosting acme/mail pending.postgate.test on 2>&1) && st=0 || st=$?
like "$st $out" '^65 .*not verified' "an unverified domain cannot be switched to hosting"
out=$(ctl domain hosting acme/mail "$D" on 2>&1)
like "$out" "hosts mailboxes now" "a verified domain is switched to hosting"
ctl domain hosting acme/mail second.postgate.test on >/dev/null

out=$(printf 'password123\n' | ctl mailbox create acme/mail "alice@$D" --password-stdin 2>&1) && st=0 || st=$?
like "$st $out" '^65 .*rule (upper|symbol|breached)' "password123 is refused, naming the rule"
is "$(harness_sql "SELECT COUNT(*) FROM mailboxes")" 0 "... and no mailbox is made"
out=$(printf '%s\n' "$PW_A" | ctl mailbox create acme/mail "Alice@$D" --name 'Alice A.' --password-stdin 2>&1)
like "$out" "created mailbox alice@$D" "a mailbox is created (address lower-cased)"
printf '%s\n' "$PW_B" | ctl mailbox create acme/mail "bob@$D" --password-stdin >/dev/null
printf '%s\n' "$PW_B" | ctl mailbox create acme/mail "carol@second.postgate.test" --password-stdin >/dev/null
like "$(harness_sql "SELECT password_hash FROM mailboxes WHERE local_part = 'alice'")" '^\$argon2id\$v=19\$' \
	"its password is stored as an argon2id hash"
out=$(printf '%s\n' "$PW_B" | ctl mailbox create acme/mail "x@pending.postgate.test" --password-stdin 2>&1) && st=0 || st=$?
like "$st $out" '^65 .*does not host mailboxes' "no mailbox under a domain that is not hosted"

ctl dovecot check -c "$INSTANCE_DOVECOT_CONFIG_DIR" >/dev/null && st=0 || st=$?
is "$st" 0 "dovecot check: the private Dovecot is wired"
is "$(stat -c %a "$INSTANCE_DOVECOT_CONFIG_DIR/postgate-sql.conf.ext") $(stat -c %a "$INSTANCE_DOVECOT_CONFIG_DIR/postgate-dict.conf.ext")" \
	"640 640" "the SQL and dict connect files are mode 0640"
like "$(postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" -h virtual_transport)" "^lmtp:inet:127\.0\.0\.1:$INSTANCE_LMTP_PORT\$" \
	"postfix enable pointed virtual_transport at Dovecot's LMTP"

# ---- mail from the Internet, read back over IMAP and POP3
message first "$HARNESS_DIR/first.eml"
like "$(send_raw "$HARNESS_DIR/first.eml" "alice@$D")" '^250 ' "mail for a mailbox is accepted"
harness_wait_for 30 has_mail "alice@$D" "$PW_A" first || true
is "$(imap "alice@$D" "$PW_A" first)" "login ok 1" "it is in the mailbox's INBOX over IMAP"
ends_with "$HARNESS_DIR/imap.out" "$HARNESS_DIR/first.eml" && st=0 || st=$?
is "$st" 0 "IMAP gives the message back byte for byte (below the trace headers)"
is "$(pop3 "alice@$D" "$PW_A")" "pop3 ok 1" "POP3 sees the one message"
ends_with "$HARNESS_DIR/pop3.out" "$HARNESS_DIR/first.eml" && st=0 || st=$?
is "$st" 0 "POP3 gives it back byte for byte too"
is "$(imap "alice@$D" 'Wrong-Pass-2024!')" "login failed" "a wrong password is refused"

# ---- unknown recipients, aliases, the catch-all
message unknown "$HARNESS_DIR/unknown.eml"
like "$(send_raw "$HARNESS_DIR/unknown.eml" "nobody@$D")" '^550 5\.1\.1 ' \
	"an unknown address at a hosted domain is refused at RCPT with 550 5.1.1"
out=$(ctl alias create acme/mail "team@$D" "alice@$D" "bob@$D" 2>&1)
like "$out" "created alias team@$D" "an alias with two destinations is made"
out=$(ctl alias create acme/mail "bob@$D" "alice@$D" 2>&1) && st=0 || st=$?
like "$st $out" '^65 .*already' "an alias cannot take a mailbox's address"
message team "$HARNESS_DIR/team.eml"
like "$(send_raw "$HARNESS_DIR/team.eml" "team@$D")" '^250 ' "mail for the alias is accepted"
harness_wait_for 30 has_mail "bob@$D" "$PW_B" team || true
is "$(imap "alice@$D" "$PW_A" team) / $(imap "bob@$D" "$PW_B" team)" "login ok 1 / login ok 1" \
	"the alias fans out to both mailboxes"
out=$(ctl alias create acme/mail "*@$D" "bob@$D" 2>&1)
like "$out" "created alias \*@$D" "a catch-all is made"
message catch "$HARNESS_DIR/catch.eml"
like "$(send_raw "$HARNESS_DIR/catch.eml" "whoever-$run_id@$D")" '^250 ' "with a catch-all, any address is accepted"
message mine "$HARNESS_DIR/mine.eml"
send_raw "$HARNESS_DIR/mine.eml" "alice@$D" >/dev/null
harness_wait_for 30 has_mail "bob@$D" "$PW_B" catch || true
harness_wait_for 30 has_mail "alice@$D" "$PW_A" mine || true
is "$(imap "bob@$D" "$PW_B" catch) / $(imap "bob@$D" "$PW_B" mine) / $(imap "alice@$D" "$PW_A" mine)" \
	"login ok 1 / login ok 0 / login ok 1" "the catch-all catches, and a mailbox's mail stays its own"

# ---- disable, rename
ctl mailbox disable acme/mail "bob@$D" >/dev/null
is "$(imap "bob@$D" "$PW_B")" "login failed" "a disabled mailbox cannot log in over IMAP"
is "$(pop3 "bob@$D" "$PW_B")" "pop3 login failed" "... nor over POP3"
ctl mailbox enable acme/mail "bob@$D" >/dev/null
is "$(imap "bob@$D" "$PW_B")" "login ok 2" "enabled again, it logs in and has its mail"
# ---- quota: a full mailbox gets 452 4.2.2 at RCPT, and the mail arrives once it is raised.
# policyd's hosted_quota map answers the check from the quota and Dovecot's copy of the usage
# (mailbox_usage); Postfix's own postmap asks it the way smtpd does.
pf() { postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" "$@"; }
like "$(pf -h smtpd_recipient_restrictions)" 'check_recipient_access socketmap:unix:[^ ,]*:hosted_quota$' \
	"enable adds the hosted_quota check last to smtpd_recipient_restrictions"
qsock=$(pf -h smtpd_recipient_restrictions | sed 's/.*socketmap:\(unix:[^ ,]*\):hosted_quota$/\1/')
case $qsock in unix:/*) ;; unix:*) qsock="unix:$HARNESS_QUEUE_DIR/${qsock#unix:}" ;; esac
hq() { postmap -c "$INSTANCE_POSTFIX_CONFIG_DIR" -q "$1" "socketmap:$qsock:hosted_quota" 2>&1 || echo "(none)"; }
is "$(hq "bob@$D") / $(hq "Nobody@$D") / $(hq "$D")" "(none) / (none) / (none)" \
	"hosted_quota passes a mailbox under its quota, an unknown address (refused earlier) and a bare domain"
ctl mailbox quota acme/mail "bob@$D" --bytes 0 --messages 2 >/dev/null
is "$(hq "bob@$D") / $(hq "BOB@${D^^}") / $(hq "alice@$D")" \
	"452 4.2.2 Mailbox is full / 452 4.2.2 Mailbox is full / (none)" \
	"at 2 messages of 2 the map answers 452 4.2.2 for bob, in any case, and nothing for alice"
message full "$HARNESS_DIR/full.eml"
like "$(send_raw "$HARNESS_DIR/full.eml" "bob@$D")" '^452 4\.2\.2 ' "a full mailbox gets 452 4.2.2 at RCPT"
like "$(send_raw "$HARNESS_DIR/full.eml" "alice@$D")" '^250 ' "... while another mailbox still takes mail"
ctl mailbox quota acme/mail "bob@$D" --bytes 100000000 --messages 0 >/dev/null
like "$(send_raw "$HARNESS_DIR/full.eml" "bob@$D")" '^250 ' "once the quota is raised the retry is accepted"
harness_wait_for 30 has_mail "bob@$D" "$PW_B" full || true
is "$(imap "bob@$D" "$PW_B" full)" "login ok 1" "... and the mail arrives"
bytes=$(harness_sql "SELECT u.bytes FROM mailbox_usage u WHERE u.username = 'bob@$D'")
ctl mailbox quota acme/mail "bob@$D" --bytes "$bytes" --messages 0 >/dev/null
is "$(hq "bob@$D")" "452 4.2.2 Mailbox is full" "a mailbox whose bytes reached their quota is full too ($bytes bytes)"
ctl mailbox quota acme/mail "bob@$D" --bytes 100000000 --messages 0 >/dev/null
ctl domain create --server acme/mail --name relay.postgate.test --verified >/dev/null
is "$(hq "someone@example.org") / $(hq "bob@pending.postgate.test") / $(hq "bob@relay.postgate.test")" "(none) / (none) / (none)" \
	"... and nothing for other, unverified or unhosted domains"
# Another tenant's unverified row of the same name changes nothing (checked below with the
# mailbox maps); the old restriction class of Dovecot's quota-status is gone from the snippet.
unlike "$(cat "$INSTANCE_DOVECOT_CONFIG_DIR/conf.d/90-postgate.conf")" 'quota-status|quota_status' \
	"the Dovecot snippet has no quota-status service: nothing but policyd answers at RCPT"
# Usage flows back: Dovecot's quota_clone writes what its count backend knows to mailbox_usage,
# which postgatectl and the API show; it matches the messages IMAP lists.
bob_count=$(imap "bob@$D" "$PW_B" | sed -n 's/^login ok //p')
usage() { ctl mailbox list acme/mail "$D" | awk -v a="bob@$D" '$2 == a { for (i = 3; i <= NF; i++) if ($i ~ /^used_/) printf "%s ", $i }'; }
harness_wait_for 20 eval '[[ "$(usage)" == *"used_messages=$bob_count "* ]]' || true
like "$(usage)" "^used_bytes=[1-9][0-9]* used_messages=$bob_count \$" \
	"Dovecot's usage flows back: bob's $bob_count messages and their bytes, in postgatectl mailbox list"
# ---- submission by mailbox users: AUTH with the address and the mailbox's password
# submit USER PASS MAIL-FROM FROM-HEADER SUBJECT [MECH]: swaks's last server answer before QUIT.
submit() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth "${6:-PLAIN}" --auth-user "$1" --auth-password "$2" \
		--from "$3" --h-From "$4" --to someone@example.net --h-Subject "$5" 2>&1 | grep -E '^<[-~*]* +[0-9]{3}[ -]' |
		grep -v '^<- *221 ' | tail -1
}
like "$(submit "bob@$D" "$PW_B" "bob@$D" "Bob <bob@$D>" "mbox-$run_id")" '^<- +250 ' \
	"a mailbox user submits with their address and password (PLAIN)"
harness_wait_for 30 instance_sink_find "mbox-$run_id" >/dev/null || true
f=$(instance_sink_find "mbox-$run_id" || echo /dev/null)
like "$(/usr/bin/python3 "$(dirname "$0")/dkim-verify.py" "$HARNESS_DIR/records.zone" "$f" 2>&1 | head -1)" '^pass' \
	"... the copy at the sink is DKIM-signed for the hosted domain (dkimpy: pass)"
is "$(sed -n 's/^X-Mail-Args: //p' "$f" | head -1 | cut -d' ' -f1)" "<bob@$D>" \
	"... and keeps bob as its envelope sender, so bounces and automatic replies reach him"
is "$(harness_sql "SELECT CONCAT(m.scope, ' ', IFNULL(m.credential_id, 'none'), ' ', s.permalink) FROM messages m JOIN servers s ON s.id = m.server_id WHERE m.subject = 'mbox-$run_id'")" \
	"outgoing none mail" "... and recorded as the server's outgoing mail, with no credential"
like "$(submit "bob@$D" "$PW_B" "team@$D" "Team <team@$D>" "mbox-team-$run_id" LOGIN)" '^<- +250 ' \
	"... as an alias that delivers to them too (LOGIN)"
like "$(submit "bob@$D" "$PW_B" "bob@$D" "Alice <alice@$D>" "mbox-forged-$run_id")" '^<\*\* +553 5\.7\.1 ' \
	"sending with another mailbox's From is refused: 553 5.7.1"
like "$(submit "bob@$D" "$PW_B" "alice@$D" "Bob <bob@$D>" "mbox-forged2-$run_id")" '^<\*\* +553 5\.7\.1 ' \
	"... and with another mailbox's envelope sender"
like "$(submit "bob@$D" 'Wrong-Pass-2024!x' "bob@$D" "Bob <bob@$D>" "mbox-wrong-$run_id") $(submit "bob@$D" "$PW_B" "bob@$D" "Bob <bob@$D>" "mbox-cram-$run_id" CRAM-MD5)" \
	'^<\*\* +535 .*<\*\* +535 ' "a wrong password is refused (535), and CRAM-MD5 cannot log a mailbox in"
ctl mailbox disable acme/mail "bob@$D" >/dev/null
like "$(submit "bob@$D" "$PW_B" "bob@$D" "Bob <bob@$D>" "mbox-disabled-$run_id")" '^<\*\* +535 ' \
	"a disabled mailbox cannot submit either"
ctl mailbox enable acme/mail "bob@$D" >/dev/null
is "$(harness_sql "SELECT CONCAT(quota_bytes, '/', IFNULL(quota_messages, 'unlimited')) FROM mailboxes WHERE local_part = 'bob'")" \
	"100000000/unlimited" "the quota is stored (0 messages: unlimited)"

out=$(ctl mailbox rename acme/mail "alice@$D" "alicia@$D" 2>&1)
like "$out" "renamed" "a mailbox is renamed"
is "$(imap "alicia@$D" "$PW_A" first)" "login ok 1" "the renamed mailbox logs in with its new address and keeps its mail"
is "$(imap "alice@$D" "$PW_A")" "login failed" "the old address no longer logs in"

# ---- another tenant
out=$(ctl mailbox list evil/spy "$D" 2>&1)
is "$out" "" "another organization's row of the same name lists none of the mailboxes"
out=$(ctl mailbox disable evil/spy "alicia@$D" 2>&1) && st=0 || st=$?
like "$st $out" '^65 .*no mailbox' "... and cannot touch one"
out=$(ctl domain hosting evil/spy "$D" on 2>&1) && st=0 || st=$?
like "$st $out" '^65 .*not verified' "... nor switch its unverified row to hosting"
harness_sql "UPDATE domains SET hosting = 1 WHERE server_id = (SELECT id FROM servers WHERE permalink = 'spy')"
printf '%s\n' "$PW_B" | ctl mailbox create evil/spy "alicia@$D" --password-stdin >/dev/null
printf '%s\n' "$PW_B" | ctl mailbox create evil/spy "spy@$D" --password-stdin >/dev/null
message spy "$HARNESS_DIR/spy.eml"
send_raw "$HARNESS_DIR/spy.eml" "alicia@$D" >/dev/null
harness_wait_for 30 has_mail "alicia@$D" "$PW_A" spy || true
is "$(imap "alicia@$D" "$PW_A" spy)" "login ok 1" "mail goes to the verified owner's mailbox, whatever the other row says"
is "$(imap "spy@$D" "$PW_B")" "login failed" "a mailbox under the unverified row cannot log in"

# ---- domain aliases: any address @alias is the same address @target
hosted_now() { (cd "$(pf -h queue_directory)" && postmap -c "$INSTANCE_POSTFIX_CONFIG_DIR" -q "$1" "$(pf -h virtual_mailbox_domains)" >/dev/null 2>&1); }
A=alias.postgate.test
ctl domain create --server acme/mail --name "$A" --verified >/dev/null
out=$(ctl domain alias acme/mail "$A" "$D" 2>&1)
like "$out" "domain $A is an alias of $D now" "a verified domain is made an alias of a hosted one"
harness_wait_for 30 hosted_now "$A" || true
message aliasdom "$HARNESS_DIR/aliasdom.eml"
like "$(send_raw "$HARNESS_DIR/aliasdom.eml" "alicia@$A")" '^250 ' "mail for alicia@$A is accepted"
harness_wait_for 30 has_mail "alicia@$D" "$PW_A" aliasdom || true
is "$(imap "alicia@$D" "$PW_A" aliasdom)" "login ok 1" "... and delivered to alicia@$D's mailbox"
out=$(printf '%s\n' "$PW_B" | ctl mailbox create acme/mail "x@$A" --password-stdin 2>&1) && st=0 || st=$?
like "$st $out" '^65 .*is an alias of another domain' "no mailbox can be made under an alias domain"
out=$(ctl domain alias acme/mail pending.postgate.test "$D" 2>&1) && st=0 || st=$?
like "$st $out" '^65 .*not verified' "an unverified domain cannot be an alias"
ctl domain create --server acme/mail --name "chain.postgate.test" --verified >/dev/null
out=$(ctl domain alias acme/mail chain.postgate.test "$A" 2>&1) && st=0 || st=$?
like "$st $out" '^65 .*is an alias itself' "no chains: an alias of an alias is refused"
like "$(submit "bob@$D" "$PW_B" "bob@$A" "Bob <bob@$A>" "alias-from-$run_id")" '^<- +250 ' \
	"a mailbox user may send as the same address at the alias domain"
# From the outsider's side: another organization's verified domain pointed at ours (as a bug or
# a hand-made row would) steers nothing.
ctl domain create --server evil/spy --name evilalias.postgate.test --verified >/dev/null
out=$(ctl domain alias evil/spy evilalias.postgate.test "$D" 2>&1) && st=0 || st=$?
like "$st $out" '^65 .*does not host mailboxes' "another organization cannot alias our domain (its own row is unverified)"
harness_sql "UPDATE domains e JOIN domains t ON t.verified_name = '$D' SET e.hosting = 1, e.alias_of = t.id
	WHERE e.name = 'evilalias.postgate.test'"
harness_wait_for 30 hosted_now evilalias.postgate.test || true
like "$(send_raw "$HARNESS_DIR/aliasdom.eml" "alicia@evilalias.postgate.test")" '^550 5\.1\.1 ' \
	"... and a row forged to point at it gets 550: the lookup checks the owner"
ctl domain alias acme/mail "$A" none >/dev/null
like "$(send_raw "$HARNESS_DIR/aliasdom.eml" "alicia@$A")" '^550 5\.1\.1 ' "no alias any more: its addresses are unknown"
ctl domain alias acme/mail "$A" "$D" >/dev/null

# ---- the management API: readonly sees, member manages, another organization gets 404
mkuser mem@example.test 'Mem-pass-phrase-1!'
mkuser ro@example.test 'Ro-pass-phrase-1!'
mkuser eve@example.test 'Eve-pass-phrase-1!'
member_of acme mem@example.test member
member_of acme ro@example.test readonly
member_of evil eve@example.test admin
login() { # NAME EMAIL PASSWORD
	local a
	a=$(call POST /api/v2/session "{\"email\": \"$2\", \"password\": \"$3\"}" -c "$(jar "$1")")
	printf -v "csrf_$1" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]')"
}
login mem mem@example.test 'Mem-pass-phrase-1!'
login ro ro@example.test 'Ro-pass-phrase-1!'
login eve eve@example.test 'Eve-pass-phrase-1!'
# The hosting switch in the API: members only, verified domains only, another tenant gets 404.
dm=/api/v2/organizations/acme/servers/mail/domains
is "$(code "$(as ro PATCH "$dm/second.postgate.test" '{"hosting": false}')") $(code "$(as eve PATCH "$dm/second.postgate.test" '{"hosting": false}')")" \
	"403 Forbidden 404 NotFound" "the hosting switch: readonly gets 403, another organization 404"
a=$(as mem PATCH "$dm/pending.postgate.test" '{"hosting": true}')
is "$(code "$a") $(body "$a" | j 'd["data"]["errors"]["hosting"][0]')" \
	"400 ValidationError domain pending.postgate.test is not verified: only a verified domain can host mailboxes" \
	"... an unverified domain is refused, naming why"
a=$(as mem PATCH "$dm/chain.postgate.test" "{\"alias_of\": \"$D\"}")
is "$(status "$a") $(body "$a" | j 'd["data"]["domain"]["alias_of"] + " " + str(d["data"]["domain"]["hosting"])')" "200 $D True" \
	"a member makes a domain an alias through the API (hosting on with it)"
is "$(code "$(as eve PATCH "$dm/chain.postgate.test" '{"alias_of": null}')") $(body "$(as mem PATCH "$dm/chain.postgate.test" '{"alias_of": null}')" | j 'd["data"]["domain"]["alias_of"]')" \
	"404 NotFound null" "... another organization gets 404; null makes it no alias"
a=$(as mem PATCH "$dm/second.postgate.test" '{"hosting": false}')
b=$(as mem PATCH "$dm/second.postgate.test" '{"hosting": true}')
is "$(status "$a") $(body "$a" | j 'd["data"]["domain"]["hosting"]') $(status "$b") $(body "$b" | j 'd["data"]["domain"]["hosting"]') $(harness_sql "SELECT hosting FROM domains WHERE name = 'second.postgate.test'")" \
	"200 false 200 true 1" "... a member switches a verified domain off and on again"
mb=/api/v2/organizations/acme/servers/mail/mailboxes
a=$(as ro GET "$mb")
is "$(status "$a") $(body "$a" | j '" ".join(m["address"] for m in d["data"]["mailboxes"])')" \
	"200 alicia@$D bob@$D carol@second.postgate.test" "a readonly member lists the server's mailboxes (no foreign row's)"
uuid=$(body "$a" | j '[m["uuid"] for m in d["data"]["mailboxes"] if m["address"].startswith("alicia@")][0]')
is "$(body "$a" | j '" ".join("%s %s" % (m["used_messages"], m["used_bytes"] > 0) for m in d["data"]["mailboxes"] if m["address"].startswith("bob@"))')" \
	"$bob_count True" "... with the usage Dovecot reported (bob's $bob_count messages)"
like "$(body "$a")" '^[^$]*$' "... and no answer carries a password hash"
is "$(status "$(as eve GET "$mb")") $(status "$(as eve GET "$mb/$uuid")") $(status "$(as eve PATCH "$mb/$uuid" '{"enabled": false}')") $(status "$(as eve DELETE "$mb/$uuid")")" \
	"404 404 404 404" "another organization cannot see or touch the mailbox (404)"
is "$(code "$(as ro POST "$mb" "{\"address\": \"dave@$D\", \"password\": \"Dave-pass-2024!\"}")")" "403 Forbidden" \
	"a readonly member cannot create one"
a=$(as mem POST "$mb" "{\"address\": \"dave@$D\", \"password\": \"password123\"}")
is "$(code "$a") $(body "$a" | j 'd["data"].get("rule", "")')" "400 ValidationError upper" \
	"password123 is refused through the API too, naming the rule"
a=$(as mem POST "$mb" "{\"address\": \"Dave@$D\", \"password\": \"Dave-pass-2024!\", \"quota_bytes\": 1000000}")
is "$(status "$a") $(body "$a" | j 'd["data"]["mailbox"]["address"] + " " + str(d["data"]["mailbox"]["quota_bytes"])')" \
	"201 dave@$D 1000000" "a member creates a mailbox"
dave=$(body "$a" | j 'd["data"]["mailbox"]["uuid"]')
is "$(imap "dave@$D" 'Dave-pass-2024!')" "login ok 0" "it logs in over IMAP at once"
a=$(as mem PATCH "$mb/$dave" '{"enabled": false}')
is "$(status "$a") $(imap "dave@$D" 'Dave-pass-2024!')" "200 login failed" "disabled through the API, it cannot log in"
a=$(as mem POST /api/v2/organizations/acme/servers/mail/aliases "{\"address\": \"sales@$D\", \"destinations\": [\"dave@$D\", \"bob@$D\"]}")
is "$(status "$a") $(body "$a" | j '",".join(d["data"]["alias"]["destinations"])')" "201 bob@$D,dave@$D" \
	"a member creates an alias with two destinations"
is "$(status "$(as mem DELETE "$mb/$dave")") $(harness_sql "SELECT COUNT(*) FROM mailboxes WHERE local_part = 'dave'")" "200 0" \
	"a member deletes the mailbox"
# Its mail goes with `dovecot purge` (root), once the grace period has passed; the others' stays.
vdirs() { (cd "$HARNESS_DIR/vmail" && find . -mindepth 1 -maxdepth 1 -type d -printf '%P\n' | sort | tr '\n' ' '); }
before=$(vdirs)
out=$(ctl dovecot purge 2>&1)
like "$out" "kept $HARNESS_DIR/vmail/$dave: no mailbox since 0 s ago, removed after 604800 s" \
	"dovecot purge keeps a deleted mailbox's directory for the grace period (7 days)"
out=$(ctl dovecot purge --grace 0 --dry-run 2>&1)
is "$(grep -c '^would remove' <<<"$out") $(vdirs)" "1 $before" "... --dry-run names it and removes nothing"
out=$(ctl dovecot purge --grace 0 2>&1)
is "$(grep '^removed' <<<"$out" | sed 's/ (.*//') | $(vdirs)" "removed $HARNESS_DIR/vmail/$dave | ${before/$dave /}" \
	"... after it, the directory goes and every other mailbox's stays"

# ---- the web admin's mailboxes page (tests/browser/hosting.mjs), where Chromium is installed
if harness_browser hosting.mjs 16 2 BASE_URL="$base" USER_EMAIL=mem@example.test USER_PASSWORD='Mem-pass-phrase-1!' \
	ORG=acme SERVER=mail DOMAIN="$D" NEW_PASSWORD='Erin-pass-2024!' SWITCH_DOMAIN=chain.postgate.test ALIAS_DOMAIN="$A"; then
	is "$(imap "erin@$D" 'Erin-pass-2024!')" "login ok 0" "... and the mailbox made in the browser logs in over IMAP"
	is "$(harness_sql "SELECT hosting FROM domains WHERE name = 'chain.postgate.test'")" 0 \
		"... and the domain page's switch reached the database"
fi

# ---- a domain that loses its verification steers nothing
harness_sql "UPDATE domains SET verified_at = NULL WHERE name = 'second.postgate.test'"
message lost "$HARNESS_DIR/lost.eml"
refused_lost() { [[ "$(send_raw "$HARNESS_DIR/lost.eml" "carol@second.postgate.test")" == 5* ]]; }
harness_wait_for 30 refused_lost && st=0 || st=$?
is "$st" 0 "mail for a domain that lost its verification is refused"

# ---- disable removes exactly what enable wrote
out=$(ctl dovecot disable -c "$INSTANCE_DOVECOT_CONFIG_DIR" 2>&1)
like "$out" "no longer wired" "dovecot disable"
is "$(cd "$INSTANCE_DOVECOT_CONFIG_DIR" && find . -type f | sort | tr '\n' ' ')" "./dovecot.conf " \
	"... leaves only the instance's own dovecot.conf"
