#!/bin/bash
#
# sieve_mail.t -- what a mailbox's own Sieve script sends (issue 13's self-service: vacation
# replies and forwarding) leaves on postgate's outgoing path, with the real Postfix, Dovecot
# (LMTP, Pigeonhole, ManageSieve) and MariaDB. `postgatectl dovecot enable` points Dovecot's
# submission_host at Postfix's loopback service for Dovecot (postfix.dovecot_address, added
# by `postfix enable`), with the mailbox as envelope sender; the milter takes it there as
# the mailbox's outgoing mail. A vacation script uploaded with sieve-connect answers a
# sender from the Internet once (Pigeonhole's :days memory), the reply DKIM-signed for the
# hosted domain (dkimpy) and in the server's history; a redirect with :copy forwards a copy
# (original From kept, signed for the mailbox's domain, return path the mailbox's) and keeps
# one in INBOX. From the outside: the service refuses mail whose sender is no mailbox and
# mail of a disabled mailbox, and a message for the outside sent to it by another tenant's
# mailbox is signed for that tenant's domain only.
#
# Must never: pass on Dovecot's word (every reply is read at the sink and verified), or
# count a reply it did not wait for.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v sieve-connect >/dev/null || skip_all "sieve-connect missing: run 'packaging/install-deps test' as root"
harness_setup mariadb sink postfix
harness_dovecot_prepare
harness_start_postgate
harness_start_dovecot
plan 19

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)
D=hosted.postgate.test
PW_A='Alice-Pass-2024!x'
ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name "$D" --verified >"$HARNESS_DIR/records.zone"
ctl domain hosting acme/mail "$D" on >/dev/null
printf '%s\n' "$PW_A" | ctl mailbox create acme/mail "alice@$D" --password-stdin >/dev/null
printf '%s\n' "$PW_A" | ctl mailbox create acme/mail "carol@$D" --password-stdin >/dev/null
ctl org create --name Other --permalink other >/dev/null
ctl server create --org other --name Mail --permalink omail >/dev/null
ctl domain create --server other/omail --name other.postgate.test --verified >"$HARNESS_DIR/other.zone"
ctl domain hosting other/omail other.postgate.test on >/dev/null
printf '%s\n' "$PW_A" | ctl mailbox create other/omail "olga@other.postgate.test" --password-stdin >/dev/null

like "$(cat "$INSTANCE_DOVECOT_CONFIG_DIR/conf.d/90-postgate.conf")" \
	"submission_host = 127\.0\.0\.1:$HARNESS_SIEVE_SMTP_PORT" \
	"dovecot enable points Dovecot's submission_host at postfix.dovecot_address"
like "$(postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" -M "127.0.0.1:$HARNESS_SIEVE_SMTP_PORT/inet")" \
	'milter_macro_daemon_name=postgate-dovecot' "postfix enable adds the loopback service for Dovecot, with the milter"

# send FROM RCPT SUBJECT: one message from "the Internet" to the MX port; the last reply code.
send() {
	/usr/bin/python3 - "$INSTANCE_SMTP_PORT" "$@" <<'PY'
import smtplib, sys
port, frm, rcpt, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
msg = ('From: Someone <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n'
       'Date: Mon, 7 Dec 2026 04:00:00 +0000\r\n\r\nHello, are you there?\r\n') % (frm, rcpt, subject, subject.replace(' ', '.'))
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
try:
    s.sendmail(frm, [rcpt], msg)
    print(250)
except smtplib.SMTPException as e:
    print(getattr(e, 'smtp_code', '') or e)
finally:
    s.quit()
PY
}
sieve() {
	sieve-connect --server 127.0.0.1 --port "$INSTANCE_SIEVE_PORT" --user "alice@$D" --authmech PLAIN \
		--clearchan --notlsverify --passwordfd 3 "$@" 3<<<"$PW_A" 2>&1
}
sink_count() { grep -l -- "$1" "$INSTANCE_SINK_DIR"/* 2>/dev/null | wc -l; }
sink_has() { [ "$(sink_count "$1")" -ge "${2:-1}" ]; }
header_of() { /usr/bin/python3 -c 'import email, sys; print(email.message_from_binary_file(open(sys.argv[1], "rb")).get(sys.argv[2], ""))' "$1" "$2"; }

# ---- vacation: one reply per sender
cat >"$HARNESS_DIR/away.sieve" <<EOF
require ["vacation"];
vacation :days 7 :subject "Away $run_id" :addresses ["alice@$D"] "I am away until Monday.";
EOF
sieve --upload --localsieve "$HARNESS_DIR/away.sieve" --remotesieve away >/dev/null || true
sieve --activate --remotesieve away >/dev/null || true
like "$(sieve --list)" 'away.*ACTIVE|away +<-' "sieve-connect uploads and activates a vacation script"
is "$(send "someone@example.org" "alice@$D" "first $run_id")" 250 "mail from the Internet for the mailbox is taken"
harness_wait_for 60 sink_has "Subject: Away $run_id" || true
f=$(grep -l -- "Subject: Away $run_id" "$INSTANCE_SINK_DIR"/* 2>/dev/null | head -1 || true)
f=${f:-/dev/null}
like "$(header_of "$f" To)" "someone@example\.org" "the vacation reply reaches the sender at the sink"
like "$(/usr/bin/python3 "$(dirname "$0")/dkim-verify.py" "$HARNESS_DIR/records.zone" "$f" 2>&1 | head -1)" "^pass .*d=$D" \
	"... DKIM-signed for the hosted domain on postgate's outgoing path (dkimpy: pass)"
like "$(header_of "$f" Auto-Submitted)" "^auto-replied" "... marked Auto-Submitted: auto-replied (RFC 3834)"
is "$(header_of "$f" X-Mail-Args | cut -d" " -f1)" "<alice@$D>" "... its envelope sender the mailbox (a bounce of it comes back to alice), not a return path"
is "$(harness_sql "SELECT CONCAT(m.scope, ' ', m.mail_from, ' ', s.permalink) FROM messages m JOIN servers s ON s.id = m.server_id
	WHERE m.subject = 'Away $run_id'")" "outgoing alice@$D mail" "... and in the mailbox's server's history as outgoing mail from alice"
is "$(send "someone@example.org" "alice@$D" "second $run_id")" 250 "a second message from the same sender is taken"
# A third sender's reply, sent after it, marks the moment a second reply would have come.
send "other@example.org" "alice@$D" "third $run_id" >/dev/null
harness_wait_for 60 sink_has "Subject: Away $run_id" 2 || true
is "$(grep -l -- "Subject: Away $run_id" "$INSTANCE_SINK_DIR"/* 2>/dev/null | xargs -r grep -l '^To: .*someone@example.org' | wc -l) $(sink_count "Subject: Away $run_id")" \
	"1 2" "... and gets no second reply within the :days period (a later sender got the next one)"

# ---- forwarding: redirect :copy keeps one and forwards one
cat >"$HARNESS_DIR/fwd.sieve" <<'EOF'
require ["copy"];
redirect :copy "elsewhere@example.net";
EOF
sieve --upload --localsieve "$HARNESS_DIR/fwd.sieve" --remotesieve fwd >/dev/null || true
sieve --activate --remotesieve fwd >/dev/null || true
send "friend@example.org" "alice@$D" "forward $run_id" >/dev/null
harness_wait_for 60 sink_has "Subject: forward $run_id" || true
f=$(grep -l -- "Subject: forward $run_id" "$INSTANCE_SINK_DIR"/* 2>/dev/null | head -1 || true)
f=${f:-/dev/null}
is "$(header_of "$f" From)" "Someone <friend@example.org>" "a redirect reaches the new address with the original From"
like "$(/usr/bin/python3 "$(dirname "$0")/dkim-verify.py" "$HARNESS_DIR/records.zone" "$f" 2>&1 | head -1)" "^pass .*d=$D" \
	"... signed for the mailbox's own domain, not the sender's (dkimpy: pass)"
imap_count() {
	/usr/bin/python3 - "$INSTANCE_IMAP_PORT" "alice@$D" "$PW_A" "$1" <<'PY'
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); m.login(sys.argv[2], sys.argv[3]); m.select('INBOX', readonly=True)
print(len(m.search(None, 'SUBJECT', '"%s"' % sys.argv[4])[1][0].split()))
PY
}
is "$(imap_count "forward $run_id")" 1 "... and :copy keeps one in the INBOX"

# ---- the service from the outside: only mailboxes, only their own domain's signature
# direct FROM FROM-HEADER: a message handed straight to the service; its last reply code.
direct() {
	/usr/bin/python3 - "$HARNESS_SIEVE_SMTP_PORT" "$@" <<'PY'
import smtplib, sys
port, frm, hdr = int(sys.argv[1]), sys.argv[2], sys.argv[3]
msg = 'From: %s\r\nTo: x@example.net\r\nSubject: direct\r\n\r\nhi\r\n' % hdr
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
try:
    s.sendmail(frm, ['x@example.net'], msg)
    print(250)
except smtplib.SMTPRecipientsRefused as e:
    print(list(e.recipients.values())[0][0])
except smtplib.SMTPResponseException as e:
    print(e.smtp_code)
except smtplib.SMTPException as e:
    print(e)
finally:
    try: s.quit()
    except Exception: pass
PY
}
like "$(direct "someone@example.org" "someone@example.org")" '^5[0-9][0-9]' "the service refuses mail whose sender is no hosted mailbox"
like "$(direct "" "alice@$D")" '^5[0-9][0-9]' "... and mail with an empty sender"
harness_sql "UPDATE mailboxes SET enabled = 0 WHERE local_part = 'carol'"
like "$(direct "carol@$D" "carol@$D")" '^5[0-9][0-9]' "... and mail of a disabled mailbox"
# Another tenant's mailbox hands it mail "from" alice: it leaves signed for its own domain only.
is "$(direct "olga@other.postgate.test" "Alice <alice@$D>")" 250 "another tenant's mailbox may hand it mail with a foreign From ..."
harness_wait_for 30 sink_has "Subject: direct" || true
f=$(grep -l -- "Subject: direct" "$INSTANCE_SINK_DIR"/* 2>/dev/null | head -1 || true)
f=${f:-/dev/null}
is "$(grep -io '^DKIM-Signature:.*' "$f" | head -1 | grep -o 'd=[a-z.]*' || true) $(grep -ciE "d=$D" "$f" || true)" \
	"d=other.postgate.test 0" "... but it leaves signed for that tenant's domain, never for alice's"
