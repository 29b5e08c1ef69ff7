#!/bin/bash
#
# webmail.t -- webmail for the hosted mailboxes (issue 13): Debian's Roundcube against the
# private Dovecot's IMAP and ManageSieve and the private Postfix's submission (the mailbox
# user's own address and password, postgate-policyd's SASL), its mail on postgate's outgoing
# path. In Chromium (tests/browser/webmail.mjs) an installation administrator adds a domain
# in the web admin, switches hosting on and creates two mailboxes; one user logs into
# Roundcube and sends to the other, who reads it and replies, and the first reads the reply;
# he sets an out-of-office reply with dates, which answers her next message; she changes her
# password in Roundcube's settings.
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
plan 31

ctl() { $HARNESS_CTL "$@"; }
D=webmail.postgate.test
PW1='Ann-Webmail-2024!'
PW2='Ben-Webmail-2024?'
PW1_NEW='Ann-Changed-2025#'
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

if harness_browser webmail.mjs 15 8 BASE_URL="$base" ADMIN_EMAIL=root@example.test ADMIN_PASSWORD='Adm1n-pass-phrase' \
	ORG=acme SERVER=mail DOMAIN="$D" WEBMAIL_URL="$HARNESS_WEBMAIL_URL" PASSWORD_1="$PW1" PASSWORD_2="$PW2" \
	NEW_PASSWORD_1="$PW1_NEW" SUBJECT="$SUBJECT"; then
	if [ -s "$HARNESS_DIR/roundcube/logs/errors.log" ]; then
		diag "Roundcube's errors.log:"
		diag "$(tail -n 20 "$HARNESS_DIR/roundcube/logs/errors.log")"
	fi
	is "$(imap_fetch "ben@$D" "$PW2" INBOX "$SUBJECT")" 1 "imaplib: the message is in ben's INBOX once"
	orig_id=$(header Message-ID)
	like "$(header DKIM-Signature | tr -d ' \t\r\n')" "d=$D;" "... signed with $D's DKIM key on postgate's outgoing path"
	is "$(imap_fetch "ann@$D" "$PW1_NEW" Sent "$SUBJECT")" 1 "... and Roundcube kept ann's copy in her Sent folder"
	is "$(imap_fetch "ann@$D" "$PW1_NEW" INBOX "Re: $SUBJECT")" 1 \
		"imaplib: ben's reply is in ann's INBOX (logging in with the password she set in Roundcube)"
	is "$(header In-Reply-To)" "$orig_id" "... threaded to the message (In-Reply-To its Message-ID)"
	is "$(harness_sql "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT mail_from)) FROM messages
		WHERE scope = 'outgoing' AND subject IN ('$SUBJECT', 'Re: $SUBJECT')")" "2 2" \
		"both are outgoing messages in the server's history, one from each mailbox"
	is "$(imap_fetch "ann@$D" "$PW1" INBOX "Re: $SUBJECT")" "login failed" "... and her old password no longer logs in"
	is "$(imap_fetch "ann@$D" "$PW1_NEW" INBOX "Away $SUBJECT")" 1 "imaplib: ben's out-of-office reply is in ann's INBOX once"
	like "$(header Auto-Submitted) $(header DKIM-Signature | tr -d ' \t\r\n')" "^auto-replied.*d=$D;" \
		"... an automatic reply (Auto-Submitted), DKIM-signed on postgate's outgoing path"
fi

# ---- the password change API itself (what Roundcube's plugin calls), from the outside
# pwchange BODY [curl args]: "HTTP-status error-code [rule]".
pwchange() {
	local out
	out=$(curl -sS --max-time 60 -w '\n%{http_code}' -X POST "$base/api/v2/mailbox/password" "${@:2}" ${1:+--data-binary "$1"})
	printf '%s %s' "${out##*$'\n'}" "$(printf '%s' "${out%$'\n'*}" | j 'd.get("data", {}).get("code", "") + ((" " + d["data"]["rule"]) if d.get("data", {}).get("rule") else "")')"
}
json=(-H 'Content-Type: application/json')
is "$(pwchange "{\"address\": \"ben@$D\", \"current_password\": \"wrong-Pass-1!\", \"new_password\": \"Ben-Other-2025!x\"}" "${json[@]}")" \
	"401 InvalidCredentials" "password API: a wrong current password is 401"
is "$(pwchange "{\"address\": \"nobody@$D\", \"current_password\": \"$PW2\", \"new_password\": \"Ben-Other-2025!x\"}" "${json[@]}")" \
	"401 InvalidCredentials" "... an address with no mailbox gets the same 401 (nothing said about which)"
like "$(pwchange "{\"address\": \"ben@$D\", \"current_password\": \"$PW2\", \"new_password\": \"password123\"}" "${json[@]}")" \
	'^400 ValidationError [a-z_]+' "... a new password against the policy is 400 naming the rule"
is "$(pwchange "" --data-urlencode "address=ben@$D" --data-urlencode "current_password=$PW2" \
	--data-urlencode 'new_password=Ben-Form-2025!zz')" "200 " "... a form body (Roundcube's httpapi driver) changes it"
is "$(imap_fetch "ben@$D" 'Ben-Form-2025!zz' INBOX "$SUBJECT")" 1 "... and Dovecot takes the new password at once"
harness_sql "UPDATE mailboxes SET enabled = 0 WHERE local_part = 'ben'"
is "$(pwchange "{\"address\": \"ben@$D\", \"current_password\": \"Ben-Form-2025!zz\", \"new_password\": \"Ben-Again-2025!q\"}" "${json[@]}")" \
	"401 InvalidCredentials" "... a disabled mailbox cannot change its password"
