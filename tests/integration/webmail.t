#!/bin/bash
#
# webmail.t -- webmail for the hosted mailboxes (issue 13): Debian's Roundcube against the
# private Dovecot's IMAP and ManageSieve and the private Postfix's submission (the mailbox
# user's own address and password, postgate-policyd's SASL), its mail on postgate's outgoing
# path. In Chromium (tests/browser/webmail.mjs) an installation administrator adds a domain
# in the web admin, switches hosting on and creates two mailboxes; one user logs into
# Roundcube and sends to the other, who reads it and replies, and the first reads the reply.
# Then, independently of the browser, imaplib reads both mailboxes: the message and the
# reply where they belong (INBOX and Sent), the reply threaded to the message, both signed
# with the new domain's DKIM key on the way, and both in the server's message history.
#
# Must never: pass on what the browser says alone, or use an address the browser did not make.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_dovecot_prepare
harness_start_postgate
harness_start_dovecot
harness_start_admin
harness_start_webmail
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"
base=$HARNESS_ADMIN_URL
plan 18

ctl() { $HARNESS_CTL "$@"; }
D=webmail.postgate.test
PW1='Ann-Webmail-2024!'
PW2='Ben-Webmail-2024?'
SUBJECT="Lunch $(instance_random_hex 4)"
ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
mkuser root@example.test 'Adm1n-pass-phrase' --admin

# imap_fetch USER PASS FOLDER SUBJECT: "N" messages with exactly that subject in FOLDER, the
# first one's bytes in $HARNESS_DIR/imap.out; "login failed" when refused.
imap_fetch() {
	/usr/bin/python3 - "$INSTANCE_IMAP_PORT" "$HARNESS_DIR/imap.out" "$@" <<'PY'
import email, imaplib, sys
port, out, user, pw, folder, subject = int(sys.argv[1]), sys.argv[2], *sys.argv[3:7]
m = imaplib.IMAP4('127.0.0.1', port)
try:
    m.login(user, pw)
except imaplib.IMAP4.error:
    print('login failed'); sys.exit(0)
if m.select(folder, readonly=True)[0] != 'OK':
    print('no folder', folder); sys.exit(0)
found = []
for i in m.search(None, 'SUBJECT', '"%s"' % subject)[1][0].split():
    raw = m.fetch(i, '(BODY.PEEK[])')[1][0][1]
    if email.message_from_bytes(raw)['Subject'] == subject:
        found.append(raw)
if found:
    with open(out, 'wb') as f:
        f.write(found[0])
print(len(found))
m.logout()
PY
}
# header NAME: that field of the message imap_fetch saved last (empty when there is none).
header() {
	[ -f "$HARNESS_DIR/imap.out" ] || return 0
	/usr/bin/python3 -c 'import email, sys; print(email.message_from_binary_file(open(sys.argv[1], "rb")).get(sys.argv[2], ""))' \
		"$HARNESS_DIR/imap.out" "$1"
}

if harness_browser webmail.mjs 11 6 BASE_URL="$base" ADMIN_EMAIL=root@example.test ADMIN_PASSWORD='Adm1n-pass-phrase' \
	ORG=acme SERVER=mail DOMAIN="$D" WEBMAIL_URL="$HARNESS_WEBMAIL_URL" PASSWORD_1="$PW1" PASSWORD_2="$PW2" \
	SUBJECT="$SUBJECT"; then
	if [ -s "$HARNESS_DIR/roundcube/logs/errors.log" ]; then
		diag "Roundcube's errors.log:"
		diag "$(tail -n 20 "$HARNESS_DIR/roundcube/logs/errors.log")"
	fi
	is "$(imap_fetch "ben@$D" "$PW2" INBOX "$SUBJECT")" 1 "imaplib: the message is in ben's INBOX once"
	orig_id=$(header Message-ID)
	like "$(header DKIM-Signature | tr -d ' \t\r\n')" "d=$D;" "... signed with $D's DKIM key on postgate's outgoing path"
	is "$(imap_fetch "ann@$D" "$PW1" Sent "$SUBJECT")" 1 "... and Roundcube kept ann's copy in her Sent folder"
	is "$(imap_fetch "ann@$D" "$PW1" INBOX "Re: $SUBJECT")" 1 "imaplib: ben's reply is in ann's INBOX"
	is "$(header In-Reply-To)" "$orig_id" "... threaded to the message (In-Reply-To its Message-ID)"
	is "$(harness_sql "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT mail_from)) FROM messages
		WHERE scope = 'outgoing' AND subject IN ('$SUBJECT', 'Re: $SUBJECT')")" "2 2" \
		"both are outgoing messages in the server's history, one from each mailbox"
fi
