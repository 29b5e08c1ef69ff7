#!/bin/bash
#
# notices.t -- postgate's notices by mail to the people who run an organization (issue 15's
# system mailer), read at the sink through the private Postfix: a server at its send limit
# (postgate-worker's send_limits job, beside SendLimitExceeded) and a server or an
# organization suspended by an installation administrator, each to the organization's
# owners and admins only, once (again only after a change), with the reason given.
#
# Must never: count a notice the sink did not receive, or miss one sent to a member.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_sysmail
harness_start_admin
base=$HARNESS_ADMIN_URL
export POSTGATE_WORKER_JOBS_INTERVAL=1
harness_start_worker
plan 8

mkuser root@example.test 'R00t-pass-phrase!' --admin
mkuser ora@example.test 'Ora-pass-phrase-1'
for who in adam mel; do mkuser "$who@example.test" "${who^}-pass-phrase-1"; done
login root root@example.test 'R00t-pass-phrase!'
login ora ora@example.test 'Ora-pass-phrase-1'
as ora POST /api/v2/organizations '{"name": "Acme Mail", "permalink": "acme"}' >/dev/null
as ora POST /api/v2/organizations/acme/servers '{"name": "Outbound", "permalink": "out"}' >/dev/null
member_of acme adam@example.test admin
member_of acme mel@example.test member
sid=$(sql "SELECT id FROM servers WHERE permalink = 'out'")

# to WHO SUBJECT: how many mails with SUBJECT reached WHO at the sink.
to() { grep -lF -- "Subject: $2" "$INSTANCE_SINK_DIR"/* 2>/dev/null | xargs -r grep -l "^To: $1@example.test" | wc -l; }
all() { printf '%s %s %s' "$(to ora "$1")" "$(to adam "$1")" "$(to mel "$1")"; }

# ---- the send limit reached (the volume set directly: counting it is maillog.t's)
sql "INSERT INTO send_volume (server_id, scope, minute, shard, count) VALUES ($sid, 'outgoing', DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:00'), 0, 10)"
sql "UPDATE servers SET send_limit = 10 WHERE id = $sid"
harness_wait_for 30 eval '[ "$(to adam "Outbound: send limit reached")" -ge 1 ]' || true
is "$(all "Outbound: send limit reached")" "1 1 0" "the send limit reached: the owner and the admin are mailed, the member not"
f=$(grep -lF -- "Subject: Outbound: send limit reached" "$INSTANCE_SINK_DIR"/* | head -1 || echo /dev/null)
like "$(tr -d '\r' <"$f" | tr '\n' ' ')" 'has sent 10 messages in the last hour; its send limit is 10 an hour\..*held' \
	"... saying the volume, the limit and that further mail is held"
sleep 3   # three more runs of the job
is "$(grep -c "send_limits: server $sid: SendLimitExceeded" "$HARNESS_WORKER_LOG" || true) $(grep -c "send_limits: server $sid: notice mailed to 2 owners and admins" "$HARNESS_WORKER_LOG" || true) $(to adam "Outbound: send limit reached")" \
	"1 1 1" "... once, with the SendLimitExceeded event (postgate-worker's log), not at every run"

# ---- suspensions by the installation administrator
as root PATCH /api/v2/organizations/acme/servers/out '{"suspended": true}' >/dev/null
harness_wait_for 30 eval '[ "$(to adam "Outbound: mail server suspended")" -ge 1 ]' || true
is "$(all "Outbound: mail server suspended")" "1 1 0" "a server suspended: its organization's owner and admin are mailed"
as root PATCH /api/v2/organizations/acme/servers/out '{"suspended": true}' >/dev/null
as root PATCH /api/v2/organizations/acme '{"suspended": true, "suspension_reason": "Spam complaints from your recipients"}' >/dev/null
harness_wait_for 30 eval '[ "$(to adam "Acme Mail: organization suspended")" -ge 1 ]' || true
is "$(all "Outbound: mail server suspended")" "1 1 0" "... not again for a server already suspended"
is "$(all "Acme Mail: organization suspended")" "1 1 0" "an organization suspended: its owner and admin are mailed"
f=$(grep -lF -- "Subject: Acme Mail: organization suspended" "$INSTANCE_SINK_DIR"/* | head -1 || echo /dev/null)
like "$(tr -d '\r' <"$f" | tr '\n' ' ')" 'The reason given: Spam complaints from your recipients' "... with the reason given"
like "$(grep -c 'notice mailed to 2 owners and admins' "$HARNESS_ADMIN_LOG" || true)" '^2$' \
	"postgate-admin logs each notice and how many it reached"
