#!/bin/bash
#
# harness.t -- proves the integration harness: a message sent with swaks through
# the private Postfix reaches smtp-sink ("the Internet"), Postfix logs its
# delivery, and the private MariaDB answers as the postgate user.
#
# Must never: pass without the real components (no mocks, no skipped checks) or
# leave a process running (harness.sh stops everything).

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
plan 9

subject="harness-$$-$(instance_random_hex 6)"

# The message file smtp-sink wrote for our subject, if any.
sink_file() { instance_sink_find "Subject: $subject" || true; }
sink_has_message() { [ -n "$(sink_file)" ]; }

status=0
out=$(timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" \
	--from a@postgate.test --to someone@example.net \
	--header "Subject: $subject" --body "harness test body" 2>&1) || status=$?
is "$status" 0 "swaks submits a message to the private Postfix on 127.0.0.1:$INSTANCE_SMTP_PORT"
queue_id=$(sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$out" | tail -n 1)
# Long queue id: 10 base-52 characters of time (no vowels), 'z', the inode in base 51.
like "$queue_id" '^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+$' \
	"Postfix answers with a long queue id ($queue_id)"

harness_wait_for 30 sink_has_message || true
file=$(sink_file)
isnt "$file" "" "the message arrives in the sink directory within 30 s"
contains "$(cat "${file:-/dev/null}")" "X-Rcpt-Args: <someone@example.net>" \
	"the sink saw envelope recipient someone@example.net"
contains "$(cat "${file:-/dev/null}")" "X-Mail-Args: <a@postgate.test>" \
	"the sink saw envelope sender a@postgate.test"

maillog_sent() {
	[ -n "$queue_id" ] && grep -qE -- "$queue_id: to=<someone@example\\.net>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:$INSTANCE_SINK_PORT, .*status=sent" \
		"$INSTANCE_MAILLOG" 2>/dev/null
}
harness_wait_for 30 maillog_sent || true
ok "$(maillog_sent && echo 0 || echo 1)" "the Postfix maillog records status=sent via the sink for $queue_id"

contains "$(grep -m1 'daemon started' "$INSTANCE_MAILLOG" 2>/dev/null || true)" \
	"configuration $INSTANCE_POSTFIX_CONFIG_DIR" "the Postfix that delivered is the private instance"

status=0
answer=$(harness_sql "SELECT 1" 2>&1) || status=$?
is "$answer" 1 "MariaDB answers SELECT 1 as the postgate user (status $status)"
is "$(harness_sql "SELECT @@socket" 2>&1 || true)" "$INSTANCE_DB_SOCKET" \
	"the MariaDB that answered is the private instance"
