#!/bin/bash
#
# retention.t -- postgate-worker's retention job on real MariaDB: a server's message rows
# older than message_retention_days go (with their deliveries), raw messages older than
# raw_message_retention_days go, and the oldest raw messages go while the server is over
# raw_message_retention_size, keeping the newest; young data and another server's data
# stay untouched; the message view then says the raw copy expired.
#
# Must never: pass on counts taken before the job ran (each wait names the state it needs).

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_start_postgate
plan 9

ctl() { $HARNESS_CTL "$@"; }
sql() { harness_sql "$@"; }
ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl server create --org acme --name Other --permalink other >/dev/null
sid=$(sql "SELECT id FROM servers WHERE permalink = 'mail'")
oid=$(sql "SELECT id FROM servers WHERE permalink = 'other'")
sql "UPDATE servers SET raw_message_retention_days = 2, message_retention_days = 5, raw_message_retention_size = 1 WHERE id = $sid"

# Raw messages: 3 of 3 days ago, 15 of today at 100 kB each (1.5 MB: over the 1 MB cap).
raw() { # SERVER DAYS_AGO COUNT
	local i
	for i in $(seq 1 "$3"); do
		sql "INSERT INTO raw_messages (created_day, server_id, size_bytes, headers, body, created_at)
			VALUES (UTC_DATE() - INTERVAL $2 DAY, $1, 102400, 'Subject: r', 'x', UTC_TIMESTAMP(6) - INTERVAL $2 DAY)"
	done
}
raw "$sid" 3 3
raw "$sid" 0 15
raw "$oid" 3 3
newest=$(sql "SELECT GROUP_CONCAT(id ORDER BY id) FROM (SELECT id FROM raw_messages WHERE server_id = $sid AND created_day = UTC_DATE() ORDER BY id DESC LIMIT 10) t")
# Message rows: 5 of 6 days ago (each with a delivery), 5 of yesterday; the same old ones for the other server.
msg() { # SERVER DAYS_AGO COUNT TAG
	local i
	for i in $(seq 1 "$3"); do
		sql "INSERT INTO messages (server_id, token, scope, rcpt_to, mail_from, subject, tag, created_at)
			VALUES ($1, '$(instance_random_hex 8)', 'outgoing', 'x@example.net', 'a@example.com', 's', '$4',
			UTC_TIMESTAMP(6) - INTERVAL $2 DAY);
			INSERT INTO deliveries (message_id, status, details) VALUES (LAST_INSERT_ID(), 'Sent', 'ok')"
	done
}
msg "$sid" 6 5 old
msg "$sid" 1 5 young
msg "$oid" 6 5 old
# A young message whose raw copy is an old one (it goes with the days rule).
old_raw=$(sql "SELECT MIN(id) FROM raw_messages WHERE server_id = $sid")
sql "UPDATE messages SET raw_message_id = $old_raw, raw_message_day = UTC_DATE() - INTERVAL 3 DAY WHERE server_id = $sid AND tag = 'young' ORDER BY id LIMIT 1"
expired_id=$(sql "SELECT id FROM messages WHERE raw_message_id = $old_raw")

export POSTGATE_WORKER_JOBS_INTERVAL=1 POSTGATE_WORKER_RETENTION_INTERVAL=1
harness_start_worker
count() { sql "SELECT COUNT(*) FROM $1"; }
harness_wait_for 60 eval '[ "$(count "messages WHERE server_id = $sid AND tag = '\''old'\''")" = 0 ]' || true
harness_wait_for 30 eval '[ "$(count "raw_messages WHERE server_id = $sid")" = 10 ]' || true

is "$(count "messages WHERE server_id = $sid AND tag = 'old'")" 0 "message rows past message_retention_days are gone"
is "$(count "messages WHERE server_id = $sid AND tag = 'young'")" 5 "... the younger ones stay"
is "$(count "deliveries d LEFT JOIN messages m ON m.id = d.message_id WHERE m.id IS NULL")" 0 "... and no delivery is left without its message"
is "$(count "raw_messages WHERE server_id = $sid AND created_day < UTC_DATE()")" 0 "raw messages past raw_message_retention_days are gone"
is "$(sql "SELECT GROUP_CONCAT(id ORDER BY id) FROM raw_messages WHERE server_id = $sid")" "$newest" \
	"over raw_message_retention_size (1 MB) the oldest go: the 10 newest (1000 kB) stay"
is "$(count "raw_messages WHERE server_id = $oid") $(count "messages WHERE server_id = $oid")" "3 5" \
	"another server's raw messages and rows (default retention) are untouched"
like "$(grep 'retention:' "$HARNESS_WORKER_LOG" | head -1)" 'message rows past message_retention_days' "the worker logs what it removed"

# The message whose raw copy went: the API says so.
harness_start_admin
base=$HARNESS_ADMIN_URL
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"
mkuser root@example.test 'Adm1n-pass-phrase!9' --admin
a=$(call POST /api/v2/session '{"email": "root@example.test", "password": "Adm1n-pass-phrase!9"}' -c "$(jar root)")
csrf_root=$(body "$a" | j 'd["data"]["csrf_token"]')
is "$(code "$(as root GET "/api/v2/organizations/acme/servers/mail/messages/$expired_id/raw")")" "410 RawMessageExpired" \
	"the message view answers 410 RawMessageExpired for the raw copy that went"
is "$(count "messages WHERE id = $expired_id")" 1 "... and keeps the message row (the log outlives the raw copy)"
