#!/bin/bash
#
# incoming.t -- incoming mail through the real Postfix: postgate-policyd's socketmap
# says which domains and recipients exist (unknown ones are refused at RCPT, never
# accepted and bounced later), Postfix hands the mail to postgate-worker over LMTP, and
# the worker answers per recipient only once the message is stored: route modes
# (Accept, Hold, Endpoint with its delivery queue, Reject at RCPT, Bounce returned to
# the sender by Postfix), name+tag@, the * route, route token addresses, return paths,
# and MariaDB down (4xx, nothing lost). Routes are made with SQL until the management
# API for routes lands.
#
# Must never: count a message as stored that the database does not hold.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_worker
plan 25

ctl() { $HARNESS_CTL "$@"; }
run_id=$(instance_random_hex 4)

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Inbox --permalink inbox >/dev/null
ctl server create --org acme --name Other --permalink other >/dev/null
ctl domain create --server acme/inbox --name in.postgate.test --verified >/dev/null
ctl domain create --server acme/inbox --name any.postgate.test --verified >/dev/null
ctl domain create --server acme/other --name other.postgate.test --verified >/dev/null
server_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'inbox'")
other_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'other'")
dom() { harness_sql "SELECT id FROM domains WHERE name = '$1'"; }
route() { # NAME DOMAIN MODE SERVER_ID [TOKEN] [HTTP_ENDPOINT_ID]
	harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, http_endpoint_id)
		VALUES (UUID(), $4, $(dom "$2"), '$1', '${5:-$(instance_random_hex 4)}', '$3', ${6:-NULL})"
}
harness_sql "INSERT INTO http_endpoints (uuid, server_id, name, url) VALUES (UUID(), $server_id, 'hook', 'http://127.0.0.1:9/hook')"
endpoint_id=$(harness_sql "SELECT id FROM http_endpoints WHERE name = 'hook'")
route support in.postgate.test Accept "$server_id" tok3nabc
route held in.postgate.test Hold "$server_id"
route hook in.postgate.test Endpoint "$server_id" "" "$endpoint_id"
route nohook in.postgate.test Endpoint "$server_id"
route closed in.postgate.test Reject "$server_id"
route returns in.postgate.test Bounce "$server_id"
route '*' any.postgate.test Accept "$server_id"
route sales other.postgate.test Accept "$other_id"

# send SUBJECT RCPT...: unauthenticated, as the Internet would; the SMTP dialogue.
send() {
	local subject=$1 to
	shift
	to=$(IFS=,; echo "$*")
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from sender@example.org --to "$to" \
		--h-Subject "$subject" --body "incoming test $run_id" 2>&1 || true
}
row() { harness_sql "SELECT CONCAT_WS(' ', status, scope, IFNULL(route_id, '-'), IFNULL(hold_reason, '-')) FROM messages WHERE subject = '$1' AND rcpt_to = '$2'"; }
stored() { [ -n "$(row "$1" "$2")" ]; }
route_id() { harness_sql "SELECT id FROM routes WHERE name = '$1'"; }

out=$(send "unknown $run_id" nobody@in.postgate.test)
like "$out" '<\*\* 550 5\.1\.1 <nobody@in\.postgate\.test>: Recipient address rejected' \
	"an unknown recipient of a route domain is refused at RCPT with 550 5.1.1"
out=$(send "closed $run_id" closed@in.postgate.test)
like "$out" '<\*\* 550 5\.1\.1 <closed@in\.postgate\.test>' "a route in Reject mode is refused at RCPT"
out=$(send "foreign $run_id" someone@example.net)
like "$out" '<\*\* 554 5\.7\.1 .*Relay access denied' "a domain without routes is not relayed for strangers"

subject="accept $run_id"
out=$(send "$subject" support@in.postgate.test)
like "$out" '<-  250 2\.0\.0 Ok: queued' "mail for an Accept route is accepted"
harness_wait_for 30 stored "$subject" support@in.postgate.test || true
is "$(row "$subject" support@in.postgate.test)" "Processed incoming $(route_id support) -" \
	"the worker stored it as an incoming message of the route, Processed"
like "$(grep "lmtp.*to=<support@in.postgate.test>" "$HARNESS_WORKER_LOG" | tail -1)" "server $server_id route $(route_id support): message [0-9]+ Processed" \
	"the worker logged where it went"
raw=$(harness_sql "SELECT CONCAT(CAST(r.headers AS CHAR), '|', CAST(r.body AS CHAR)) FROM messages m JOIN raw_messages r ON r.id = m.raw_message_id AND r.created_day = m.raw_message_day WHERE m.subject = '$subject'")
like "$raw" "Subject: $subject" "the raw message's headers are stored"
like "$raw" "\|incoming test $run_id" "... and its body"
like "$(grep "to=<support@in.postgate.test>.*relay=" "$INSTANCE_MAILLOG" | tail -1)" 'status=sent \(250 2\.0\.0 <support@in\.postgate\.test> stored as message [0-9]+\)' \
	"Postfix logged the LMTP 250 with the stored message id"

subject="tagged $run_id"
send "$subject" Support+Orders@in.postgate.test >/dev/null
harness_wait_for 30 stored "$subject" Support+Orders@in.postgate.test || true
is "$(row "$subject" Support+Orders@in.postgate.test)" "Processed incoming $(route_id support) -" \
	"name+tag@ (any case) reaches the route name@"

subject="wild $run_id"
send "$subject" whoever@any.postgate.test >/dev/null
harness_wait_for 30 stored "$subject" whoever@any.postgate.test || true
is "$(row "$subject" whoever@any.postgate.test)" "Processed incoming $(route_id '*') -" "the * route takes any local part"
# One transaction with more recipients than the worker's first recipient table holds (it grows).
subject="many $run_id"
many=()
for i in $(seq 1 11); do many+=("r$i@any.postgate.test"); done
send "$subject" "${many[@]}" >/dev/null
all_stored() { [ "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$subject' AND status = 'Processed'")" = 11 ]; }
harness_wait_for 30 all_stored || true
is "$(harness_sql "SELECT COUNT(DISTINCT rcpt_to) FROM messages WHERE subject = '$subject' AND status = 'Processed'")" 11 \
	"a message for 11 recipients is stored once for each"

subject="token $run_id"
send "$subject" Tok3nAbc@routes.postgate.test >/dev/null
harness_wait_for 30 stored "$subject" Tok3nAbc@routes.postgate.test || true
is "$(row "$subject" Tok3nAbc@routes.postgate.test)" "Processed incoming $(route_id support) -" \
	"<route token>@<route domain> reaches that route"

subject="hold $run_id"
send "$subject" held@in.postgate.test >/dev/null
harness_wait_for 30 stored "$subject" held@in.postgate.test || true
is "$(row "$subject" held@in.postgate.test)" "Held incoming $(route_id held) Route is in Hold mode" "a Hold route holds the message"

subject="endpoint $run_id"
send "$subject" hook@in.postgate.test >/dev/null
harness_wait_for 30 stored "$subject" hook@in.postgate.test || true
is "$(row "$subject" hook@in.postgate.test)" "Pending incoming $(route_id hook) -" "an Endpoint route's message waits for delivery"
is "$(harness_sql "SELECT CONCAT(q.endpoint_type, ' ', q.endpoint_id) FROM queued_messages q JOIN messages m ON m.id = q.message_id WHERE m.subject = '$subject'")" \
	"HTTPEndpoint $endpoint_id" "... queued for its HTTP endpoint in the same transaction"
subject="no endpoint $run_id"
send "$subject" nohook@in.postgate.test >/dev/null
harness_wait_for 30 stored "$subject" nohook@in.postgate.test || true
is "$(row "$subject" nohook@in.postgate.test)" "Held incoming $(route_id nohook) Route has no endpoint" \
	"an Endpoint route without an endpoint holds its mail, losing nothing"

subject="two servers $run_id"
out=$(send "$subject" support@in.postgate.test sales@other.postgate.test)
harness_wait_for 30 stored "$subject" sales@other.postgate.test || true
is "$(harness_sql "SELECT COUNT(*), COUNT(DISTINCT raw_message_id), COUNT(DISTINCT server_id) FROM messages WHERE subject = '$subject'" | tr '\t' ' ')" \
	"2 2 2" "one message for two servers: a row and a raw copy per server"

subject="bounce route $run_id"
out=$(send "$subject" returns@in.postgate.test)
like "$out" '<-  250 2\.0\.0 Ok: queued' "a Bounce route's recipient exists at RCPT"
harness_wait_for 30 grep -q "to=<returns@in.postgate.test>.*status=bounced" "$INSTANCE_MAILLOG" || true
like "$(grep "to=<returns@in.postgate.test>" "$INSTANCE_MAILLOG" | tail -1)" 'status=bounced \(host .* said: 550 5\.1\.1 <returns@in\.postgate\.test>: this address returns all mail' \
	"... and the worker refuses it so Postfix returns it to the sender"
is "$(harness_sql "SELECT COUNT(*) FROM messages WHERE subject = '$subject'")" 0 "... without storing it"

# A return path: <token of an outgoing message>@<return path domain>.
token=rp$(instance_random_hex 7)
harness_sql "INSERT INTO messages (server_id, token, scope, rcpt_to, mail_from, subject) VALUES ($server_id, '$token', 'outgoing', 'x@example.net', 'app@in.postgate.test', 'original $run_id')"
subject="dsn $run_id"
send "$subject" "$token@rp.postgate.test" >/dev/null
harness_wait_for 30 stored "$subject" "$token@rp.postgate.test" || true
is "$(row "$subject" "$token@rp.postgate.test")" "Processed incoming - -" "mail to a message's return path is stored for its server"
out=$(send "dsn unknown $run_id" "Zz$(instance_random_hex 7)@rp.postgate.test")
like "$out" '<\*\* 550 5\.1\.1 ' "a return path no message has is refused at RCPT"

# MariaDB down: the lookup says TEMP, Postfix answers 4xx; nothing is refused for good.
instance_mariadb_stop "$HARNESS_DIR/mariadb"
out=$(send "outage $run_id" support@in.postgate.test)
instance_mariadb_start "$HARNESS_DIR/mariadb" >/dev/null
like "$out" '<\*\* 4[0-9][0-9] 4\.' "MariaDB down: the recipient gets a 4xx, never a 5xx"
harness_wait_for 30 harness_sql "SELECT 1" >/dev/null 2>&1 || true
subject="after outage $run_id"
send "$subject" support@in.postgate.test >/dev/null
harness_wait_for 30 stored "$subject" support@in.postgate.test || true
is "$(row "$subject" support@in.postgate.test)" "Processed incoming $(route_id support) -" "MariaDB back: the retried mail is stored"
