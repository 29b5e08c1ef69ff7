#!/bin/bash
#
# smuggling.t -- SMTP smuggling through the real Postfix as `postgatectl postfix enable`
# wires it (issue 12, item 12). A raw-socket client (smuggle.py) ends a message's data with
# "\n.\n", "\r\n.\n" or "\n.\r\n" and pipelines a second, forged transaction (MAIL FROM a
# tenant's own domain) behind it, on a submission port (authenticated, outgoing to the
# sink) and on an MX port (unauthenticated, incoming to an Accept route stored by the
# worker). With smtpd_forbid_bare_newline only <CR><LF>.<CR><LF> ends DATA, so each
# attempt leaves exactly one message, and no "forged" one is stored or delivered. The
# client connects from 127.0.0.2, outside mynetworks (127.0.0.1/32 here), as the Internet
# does: Postfix exempts mynetworks (smtpd_forbid_bare_newline_exclusions = $mynetworks).
# Also: check reports the setting when it is off, enable sets it, disable restores it.
#
# Must never: pass when the forged message was queued, or count a message it did not see.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_worker
plan 23

here=$(cd "$(dirname "$0")" && pwd)
ctl() { $HARNESS_CTL "$@"; }
pc() { postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" "$@"; }
run_id=$(instance_random_hex 4)

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
ctl domain create --server acme/mail --name in.postgate.test --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
server_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'mail'")
harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode)
	VALUES (UUID(), $server_id, (SELECT id FROM domains WHERE name = 'in.postgate.test'), 'support', 'smug1234', 'Accept')"

# A second smtpd as the MX port; the harness's own is the submission port. Loopback
# clients other than 127.0.0.1 are "the Internet".
mx_port=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT" "$HARNESS_RELEASE_PORT" \
	"$HARNESS_INJECTION_PORT" "$HARNESS_FORWARD_PORT")
pc -M "127.0.0.1:$mx_port/inet=127.0.0.1:$mx_port inet n - n - - smtpd"
pc -e "mynetworks = 127.0.0.1/32"
postfix -c "$INSTANCE_POSTFIX_CONFIG_DIR" reload >/dev/null 2>&1
instance_wait_port "$mx_port" 30

is "$(pc -h smtpd_forbid_bare_newline)" "normalize" "enable set smtpd_forbid_bare_newline = normalize"
is "$(pc -h smtpd_forbid_bare_newline_exclusions)" '$mynetworks' "... exempting mynetworks, as Postfix recommends"

smuggle() { # PORT SEQUENCE TAG MAIL_FROM RCPT FORGED_FROM FORGED_RCPT [USER PASS]
	local port=$1
	shift
	timeout 60 /usr/bin/python3 "$here/smuggle.py" 127.0.0.1 "$port" 127.0.0.2 "$@" 2>&1 || true
}
count() { harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$1'"; }
stored() { [ "$(count "$1")" -ge 1 ]; }

for seq in lf crlf-lf lf-crlf; do
	tag="sub-$seq-$run_id"
	out=$(smuggle "$INSTANCE_SMTP_PORT" "$seq" "$tag" app@example.com someone@example.net \
		ceo@example.com victim@example.net acme/mail "$key")
	like "$out" '235 2\.7\.0' "submission, $seq: the client authenticated"
	harness_wait_for 30 instance_sink_find "Subject: first $tag" >/dev/null || true
	sleep 2 # a forged message would be queued right behind the first
	is "$(instance_sink_count "Subject: first $tag") $(count "first $tag")" "1 1" \
		"submission, $seq: the first message was delivered and recorded once"
	is "$(instance_sink_count "$tag") $(count "forged $tag")" "1 0" \
		"submission, $seq: no second, forged message was recorded or delivered"
	contains "$(cat "$(instance_sink_find "Subject: first $tag")")" "MAIL FROM:<ceo@example.com>" \
		"submission, $seq: the would-be commands stayed in the first message's body"

	tag="mx-$seq-$run_id"
	out=$(smuggle "$mx_port" "$seq" "$tag" sender@example.org support@in.postgate.test \
		ceo@example.com support@in.postgate.test)
	like "$out" '354 ' "MX, $seq: the message was accepted for data"
	harness_wait_for 30 stored "first $tag" || true
	sleep 2
	is "$(count "first $tag") $(count "forged $tag")" "1 0" \
		"MX, $seq: one incoming message stored, no forged one"
done

# check, enable and disable own the setting.
pc -e "smtpd_forbid_bare_newline = no"
out=$(ctl postfix check 2>&1 || true)
contains "$out" 'main.cf: smtpd_forbid_bare_newline is "no", expected "normalize"' \
	"check reports smtpd_forbid_bare_newline when it is off"
out=$(ctl postfix enable 2>&1 || true)
is "$(pc -h smtpd_forbid_bare_newline)" "normalize" "enable sets it again"
ctl postfix disable >/dev/null 2>&1 || true
is "$(pc -n smtpd_forbid_bare_newline)" "" "disable restores it exactly (it was unset before the first enable)"
