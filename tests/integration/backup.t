#!/bin/bash
#
# backup.t -- `postgatectl backup` and `restore` on a loaded instance: a backup taken while
# mail flows completes; a quiesced one, restored after the database and the installation
# key are wiped, gives back every table (CHECKSUM TABLE) and the key byte for byte, and the
# restored installation signs mail again with its old DKIM keys; the hosted mailboxes
# (Dovecot's Maildirs) come back file for file, owned by the mail user, and Dovecot serves
# their mail over IMAP again; a damaged backup and a restore over a database with tables
# or over a mail directory with mailboxes are refused.
#
# Must never: compare a restored database with itself (the checksums are taken before the wipe).

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_dovecot_prepare
harness_start_postgate
harness_start_dovecot
harness_start_worker
plan 17

ctl() { status=0; out=$($HARNESS_CTL "$@" 2>&1) || status=$?; }
here=$(cd "$(dirname "$0")" && pwd)
ctl org create --name Acme --permalink acme
ctl server create --org acme --name Mail --permalink mail
$HARNESS_CTL domain create --server acme/mail --name example.com --verified >"$HARNESS_DIR/records.zone"
ctl credential create --server acme/mail --name app
key=$(sed -n 's/^key: //p' <<<"$out")
send() { # SUBJECT
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail --auth-password "$key" \
		--from app@example.com --to someone@example.net --h-From "App <app@example.com>" --h-Subject "$1" 2>&1 || true
}
# A hosted mailbox with mail in it.
H=hosted.postgate.test
PW='Mailbox-Pass-2024!x'
vmail=$HARNESS_DIR/vmail
$HARNESS_CTL domain create --server acme/mail --name "$H" --verified >/dev/null
ctl domain hosting acme/mail "$H" on
printf '%s\n' "$PW" | $HARNESS_CTL mailbox create acme/mail "bob@$H" --password-stdin >/dev/null
imap_count() { # the number of messages in bob's INBOX, or "login failed"
	/usr/bin/python3 - "$INSTANCE_IMAP_PORT" "bob@$H" "$PW" <<'PY'
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
try:
    m.login(sys.argv[2], sys.argv[3])
except imaplib.IMAP4.error:
    print('login failed'); sys.exit(0)
m.select('INBOX', readonly=True)
print(len(m.search(None, 'ALL')[1][0].split()))
m.logout()
PY
}
for i in 1 2; do
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from sender@example.org --to "bob@$H" \
		--h-Subject "hosted $i" >/dev/null 2>&1 || true
done
harness_wait_for 30 eval '[ "$(imap_count)" = 2 ]' || true
# Every message file (path, owner and content) below the mail directory; Dovecot's own index
# files change whenever a client looks, so only their owner counts.
mailfiles() {
	(cd "$vmail" && find . -type f \( -path '*/new/*' -o -path '*/cur/*' \) -printf '%P %u ' -exec sha256sum {} \; |
		awk '{ print $1, $2, $3 }' | sort)
	echo "not the mail user's: $(find "$vmail" -mindepth 1 ! -user nobody | wc -l)"
}
for i in 1 2 3 4 5; do send "before $i" >/dev/null; done
harness_wait_for 30 eval '[ "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject LIKE '\''before %'\'' AND status = '\''Sent'\''")" = 5 ]' || true

# While mail flows.
( for i in $(seq 1 10); do send "during $i" >/dev/null; done ) &
flow=$!
ctl backup "$HARNESS_DIR/flowing"
is "$status" 0 "a backup taken while mail flows completes"
wait "$flow" || true
like "$(grep -c '^INSERT INTO `messages`' "$HARNESS_DIR/flowing/database.sql")" '^[1-9]' "... with the message log in its dump"

# Quiesced: the reference state.
harness_wait_for 30 eval '[ "$(harness_sql "SELECT COUNT(*) FROM messages WHERE status = '\''Pending'\''")" = 0 ]' || true
ctl backup "$HARNESS_DIR/backup"
is "$status" 0 "a backup of the quiet instance"
is "$(stat -c '%a' "$HARNESS_DIR/backup") $(stat -c '%a' "$HARNESS_DIR/backup/secret.key")" "700 600" \
	"... readable by root only (it holds the keys)"
is "$(cd "$HARNESS_DIR/backup" && grep -v '^#' MANIFEST | sha256sum -c --quiet 2>&1; echo $?)" 0 \
	"... and sha256sum -c agrees with its MANIFEST"
is "$(awk '{ print $2 }' "$HARNESS_DIR/backup/MANIFEST" | grep -c '^mail\.tar$') $(imap_count)" "1 2" \
	"... which names the mailboxes' archive (the mailbox holds 2 messages)"
ls -A "$HARNESS_DIR/backup" | grep -q '^\.client\.cnf$' && leaked=1 || leaked=0
is "$leaked" 0 "... no file with the database password is left behind"
tables=$(harness_sql "SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables WHERE table_schema = DATABASE()")
checksums() { harness_sql "CHECKSUM TABLE ${tables//,/, }" | awk '{ print $NF }' | tr '\n' ' '; }
before=$(checksums)
keyfile=$(sed -n 's/^ *secret_key_file = "\(.*\)";/\1/p' "$HARNESS_CONFIG" | head -1)
key_before=$(sha256sum <"$keyfile")
mail_before=$(mailfiles)

ctl restore "$HARNESS_DIR/backup"
like "$status $out" '^73 .*has [0-9]+ tables' "restore over a database with tables is refused without --force"

cp -a "$HARNESS_DIR/backup" "$HARNESS_DIR/damaged"
printf -- '-- changed\n' >>"$HARNESS_DIR/damaged/database.sql"
ctl restore --force "$HARNESS_DIR/damaged"
like "$status $out" '^65 .*checksum mismatch' "a damaged backup is refused before anything changes"

# Wipe: the database and the installation key.
instance_postgate_stop "$HARNESS_DIR" milter
instance_postgate_stop "$HARNESS_DIR" policyd
kill "$HARNESS_WORKER_PID" 2>/dev/null || true
dbname=$(harness_sql 'SELECT DATABASE()')
harness_sql "DROP DATABASE \`$dbname\`; CREATE DATABASE \`$dbname\`"
rm -f "$keyfile"
ctl restore "$HARNESS_DIR/backup"
like "$status $out" '^73 .*holds mailboxes' "restore over a mail directory with mailboxes is refused without --force"
is "$(harness_sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()")" 0 \
	"... before anything is loaded"
find "$vmail" -mindepth 1 -delete
ctl restore "$HARNESS_DIR/backup"
is "$status" 0 "restore into the wiped instance exits 0"
[ "$status" = 0 ] || diag "$out"
is "$(checksums)" "$before" "every table is back as it was (CHECKSUM TABLE of all $(tr ',' '\n' <<<"$tables" | wc -l) tables)"
is "$(sha256sum <"$keyfile")" "$key_before" "the installation key is back byte for byte"
is "$(mailfiles)" "$mail_before" "every message file is back: same path, owner (nobody) and content ($(grep -c /Maildir/ <<<"$mail_before") files)"
is "$(imap_count)" 2 "Dovecot serves the restored mailbox over IMAP: both messages"

# The restored installation works: sealed DKIM keys open with the restored key.
rm -f "$HARNESS_QUEUE_DIR/postgate/milter" "$HARNESS_QUEUE_DIR/postgate/auth"
instance_postgate_start "$HARNESS_DIR" policyd "$POSTGATE_BUILDDIR/policyd/postgate-policyd" "$HARNESS_CONFIG" \
	"$HARNESS_QUEUE_DIR/postgate/auth" || diag "policyd did not start"
instance_postgate_start "$HARNESS_DIR" milter "$POSTGATE_BUILDDIR/milter/postgate-milter" "$HARNESS_CONFIG" \
	"$HARNESS_QUEUE_DIR/postgate/milter" || diag "the milter did not start"
send "after restore" >/dev/null
harness_wait_for 30 instance_sink_find "after restore" >/dev/null || true
f=$(instance_sink_find "after restore" || echo /dev/null)
like "$(/usr/bin/python3 "$here/dkim-verify.py" "$HARNESS_DIR/records.zone" "$f" 2>&1 | head -1)" '^pass' \
	"after the restore, mail is accepted and DKIM-signed with the old keys (dkimpy: pass)"
