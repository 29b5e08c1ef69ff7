#!/bin/bash
#
# ippool.t -- IP pools in Postfix's delivery path (postfix.ip_pools): `postgatectl postfix
# enable` / `postfix pools` write one smtp transport per pool address and point
# sender_dependent_default_transport_maps at postgate-policyd, whose socketmap chooses the
# address per message (server rules, organization rules, the server's pool; priorities as
# weights). The sink (smtp-sink on 127.0.0.1) records each client's address and HELO, so
# mail of each rule is seen leaving from its loopback address (127.0.0.2 ... 127.0.0.6 need
# no set-up on Linux) and HELO name; the weights are checked over 1000 messages at the
# socketmap (end to end they would take minutes) and on a smaller count end to end;
# removing an address moves its traffic; another tenant's rule never moves the mail;
# an address warming up (postfix.warmup_plan) takes at most its day's share and keeps each
# message it took, the rest going to the pool's other address, and is warm past the plan;
# `postfix disable` removes it all.
#
# Must never: pass when mail left from the host's default address instead of its pool's.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"
[ -x /usr/bin/python3 ] || skip_all "python3 missing: run 'packaging/install-deps test' as root"

export POSTGATE_POSTFIX_IP_POOLS=true
# The warm-up plan of the last section: 5 messages on an address's first day, 10 on its second.
export POSTGATE_POSTFIX_WARMUP_PLAN=5,10
harness_setup mariadb sink postfix
harness_start_postgate
harness_start_worker
plan 33

ctl() { $HARNESS_CTL "$@"; }
sql() { harness_sql "$@"; }
pf() { postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" "$@"; }
check() {
	local name=$1
	shift
	if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi
}

like "$(pf -h sender_dependent_default_transport_maps)" '^socketmap:unix:.*:transport$' \
	"enable points sender_dependent_default_transport_maps at policyd's transport map"

# Two tenants. acme: pool A (two addresses, priorities 100 and 50) as the server's pool, a
# server rule (to vip.example.net -> pool R), an organization rule (from news@example.com ->
# pool O). other: its own pool X and a rule that claims acme's domain.
ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
ctl org create --name Other --permalink other >/dev/null
ctl server create --org other --name Mail --permalink mail >/dev/null
ctl domain create --server other/mail --name other.example --verified >/dev/null
okey=$(ctl credential create --server other/mail --name app | sed -n 's/^key: //p')
pool() { # NAME ORG: the pool's id
	sql "INSERT INTO ip_pools (uuid, name) VALUES (UUID(), '$1')"
	sql "INSERT INTO organization_ip_pools (organization_id, ip_pool_id) SELECT o.id, p.id FROM organizations o, ip_pools p
		WHERE o.permalink = '$2' AND p.name = '$1'"
	sql "SELECT id FROM ip_pools WHERE name = '$1'"
}
address() { # POOL IPV4 HOSTNAME PRIORITY: the address's id
	sql "INSERT INTO ip_addresses (ip_pool_id, ipv4, hostname, priority) VALUES ($1, '$2', '$3', $4)"
	sql "SELECT id FROM ip_addresses WHERE ipv4 = '$2'"
}
A=$(pool A acme); R=$(pool R acme); O=$(pool O acme); X=$(pool X other)
a1=$(address "$A" 127.0.0.2 a1.pool.test 100)
a2=$(address "$A" 127.0.0.3 a2.pool.test 50)
r1=$(address "$R" 127.0.0.4 r.pool.test 100)
o1=$(address "$O" 127.0.0.5 o.pool.test 100)
x1=$(address "$X" 127.0.0.6 x.pool.test 100)
sql "UPDATE servers s JOIN organizations o ON o.id = s.organization_id SET s.ip_pool_id = $A WHERE o.permalink = 'acme'"
sql "INSERT INTO ip_pool_rules (uuid, server_id, ip_pool_id, to_text) SELECT UUID(), s.id, $R, 'vip.example.net'
	FROM servers s JOIN organizations o ON o.id = s.organization_id WHERE o.permalink = 'acme'"
sql "INSERT INTO ip_pool_rules (uuid, organization_id, ip_pool_id, from_text) SELECT UUID(), id, $O, 'news@example.com'
	FROM organizations WHERE permalink = 'acme'"
sql "INSERT INTO ip_pool_rules (uuid, organization_id, ip_pool_id, from_text, to_text) SELECT UUID(), id, $X,
	'example.com', 'example.net' FROM organizations WHERE permalink = 'other'"
sql "UPDATE ip_pools SET destination_concurrency_limit = 3, destination_rate_delay = 1 WHERE id = $O"

is "$(sql "SELECT SUM(transport_ready) FROM ip_addresses")" 0 "new addresses are not ready before their transports exist"
out=$(ctl postfix pools --reload 2>&1) || true
like "$out" "IP pools: 5 transports" "postfix pools writes a transport per address"
like "$(pf -M "pgpool-$a1/unix")" "smtp_bind_address=127.0.0.2 .*-o inet_protocols=ipv4" \
	"... binding the address, IPv4 only"
like "$(pf -M "pgpool-$a1/unix")" "smtp_helo_name=a1.pool.test" "... saying its host name in HELO"
is "$(pf -h "pgpool-${o1}_destination_concurrency_limit") $(pf -h "pgpool-${o1}_destination_rate_delay")" "3 1s" \
	"the pool's per-destination limits are the transport's"
is "$(sql "SELECT SUM(transport_ready) FROM ip_addresses")" 5 "... and every address is ready"
out=$(ctl postfix pools 2>&1) || true
like "$out" "up to date: nothing changed" "run again, pools changes nothing"
rc=0
out=$(ctl postfix check 2>&1) || rc=$?
is "$rc" 0 "postfix check: the instance and its pool transports are wired"

# send KEY FROM TO SUBJECT
send() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user x --auth-password "$1" \
		--from "$2" --to "$3" --h-From "<$2>" --h-Subject "$4" >"$HARNESS_DIR/swaks.out" 2>&1 || true
}
sink_file() { instance_sink_find "$1"; }
wait_sink() { harness_wait_for 60 sink_file "$1" >/dev/null; }
# peer SUBJECT: "address helo" the sink recorded for the message
peer() {
	local f
	wait_sink "$1" || { echo "not delivered"; return; }
	f=$(sink_file "$1")
	printf '%s %s\n' "$(sed -n 's/^X-Client-Addr: //p' "$f" | head -1)" "$(sed -n 's/^X-Helo-Args: //p' "$f" | head -1)"
}

send "$key" app@example.com someone@vip.example.net "pool-rule-server-$$"
is "$(peer "pool-rule-server-$$")" "127.0.0.4 r.pool.test" "a server rule's mail leaves from its pool's address and HELO"
rule_status() {
	sql "SELECT m.status FROM messages m WHERE m.rcpt_to = 'someone@vip.example.net' AND m.subject = 'pool-rule-server-$$'"
}
sent() { [ "$(rule_status)" = Sent ]; }
harness_wait_for 60 sent || true
is "$(rule_status)" Sent "postgate-worker records the pool transport's delivery as Sent (its log line is read)"
send "$key" news@example.com someone@example.net "pool-rule-org-$$"
is "$(peer "pool-rule-org-$$")" "127.0.0.5 o.pool.test" "an organization rule's mail leaves from its pool"
send "$key" app@example.com someone@example.net "pool-default-$$"
like "$(peer "pool-default-$$")" '^127\.0\.0\.[23] a[12]\.pool\.test$' "other mail leaves from the server's pool"
send "$okey" app@other.example someone@example.net "pool-other-$$"
is "$(peer "pool-other-$$")" "127.0.0.6 x.pool.test" "the other tenant's rule moves its own mail"
# acme's app@example.com to example.net matches the other tenant's rule text: it must not apply.
n=0
for i in $(seq 1 20); do
	send "$key" app@example.com "p$i@example.net" "pool-e2e-$$-$i"
done
for i in $(seq 1 20); do
	case "$(peer "pool-e2e-$$-$i")" in
	"127.0.0.2 a1.pool.test"|"127.0.0.3 a2.pool.test") n=$((n + 1)) ;;
	*) peer "pool-e2e-$$-$i" | sed 's/^/# unexpected: /' ;;
	esac
done
is "$n" 20 "another tenant's rule never moves acme's mail: 20 of 20 from acme's pool"
seen=$(for i in $(seq 1 20); do peer "pool-e2e-$$-$i"; done | sort -u | wc -l)
is "$seen" 2 "end to end both addresses of the pool are used"

# The weights, at the socketmap, over 1000 messages of acme's server (rows as the milter writes them).
rpd=$(ctl config dump 2>/dev/null | sed -n 's/^dns\.return_path_domain *= *"\{0,1\}\([^" ]*\).*/\1/p' | head -1)
[ -n "$rpd" ] || rpd=$(sed -n 's/^Return-Path: <[a-z0-9]*@\(.*\)>$/\1/p' "$(sink_file "pool-default-$$")" | head -1)
sql "INSERT INTO messages (server_id, token, scope, rcpt_to, mail_from)
	SELECT s.id, LOWER(LEFT(REPLACE(UUID(), '-', ''), 16)), 'outgoing', CONCAT('w', seq, '@example.org'), 'app@example.com'
	FROM seq_1_to_1000 JOIN servers s JOIN organizations o ON o.id = s.organization_id AND o.permalink = 'acme'"
sql "SELECT CONCAT(token, '@', '$rpd') FROM messages WHERE rcpt_to LIKE 'w%@example.org'" >"$HARNESS_DIR/keys"
sock=$(pf -h sender_dependent_default_transport_maps | sed 's/^socketmap:unix://; s/:transport$//')
case $sock in /*) ;; *) sock="$HARNESS_QUEUE_DIR/$sock" ;; esac
lookups() { # answers to every key of $HARNESS_DIR/keys, one a line
	/usr/bin/python3 - "$sock" "$HARNESS_DIR/keys" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rb")
for key in open(sys.argv[2]).read().split():
    q = ("transport " + key).encode()
    s.sendall(b"%d:%s," % (len(q), q))
    n = int(b"".join(iter(lambda: f.read(1), b":")))
    print(f.read(n).decode()); f.read(1)
PY
}
lookups >"$HARNESS_DIR/answers"
n1=$(grep -cx "OK pgpool-$a1" "$HARNESS_DIR/answers" || true)
n2=$(grep -cx "OK pgpool-$a2" "$HARNESS_DIR/answers" || true)
is "$((n1 + n2))" 1000 "1000 lookups all answer one of the pool's two transports"
# Expected 2/3 and 1/3: within +-50 (5 % of 1000; about 3.4 standard deviations).
check "priorities 100:50 hold as weights: $n1:$n2 (expected 667:333 +-50)" test "$n1" -ge 617 -a "$n1" -le 717
lookups >"$HARNESS_DIR/answers2"
check "the choice is fixed per message: the same 1000 answers again" cmp -s "$HARNESS_DIR/answers" "$HARNESS_DIR/answers2"

# Removing an address moves its traffic at once (policyd reads the pool), before any sync.
sql "DELETE FROM ip_addresses WHERE id = $a2"
lookups >"$HARNESS_DIR/answers"
is "$(grep -cx "OK pgpool-$a1" "$HARNESS_DIR/answers" || true)" 1000 "after removing 127.0.0.3 all 1000 go to 127.0.0.2"
out=$(ctl postfix pools --reload 2>&1) || true
like "$out" "removed IP pool transport pgpool-$a2/unix" "postfix pools removes its transport"
for i in 1 2 3; do send "$key" app@example.com "moved$i@example.net" "pool-moved-$$-$i"; done
is "$(for i in 1 2 3; do peer "pool-moved-$$-$i"; done | sort -u)" "127.0.0.2 a1.pool.test" \
	"end to end the mail now leaves from the remaining address"
# An address added later is not chosen until its transport exists.
a3=$(address "$A" 127.0.0.7 a3.pool.test 100)
sql "UPDATE ip_addresses SET priority = 0 WHERE id = $a1"
lookups >"$HARNESS_DIR/answers"
is "$(sort -u "$HARNESS_DIR/answers")" "OK pgpool-$a1" "a new address is not chosen before postfix pools wrote its transport"
rc=0
out=$(ctl postfix check 2>&1) || rc=$?
like "$rc $out" "^1 .*IP pool transport pgpool-$a3/unix is missing or different" \
	"postfix check reports the transport postfix pools has still to write, and exits 1"

# ---- IP warm-up: a new address gets at most its day's share; the pool's other one the rest
ctl org create --name Warm --permalink warm >/dev/null
ctl server create --org warm --name Mail --permalink mail >/dev/null
W=$(pool W warm)
w1=$(address "$W" 127.0.0.8 w1.pool.test 100)
w2=$(address "$W" 127.0.0.9 w2.pool.test 100)
sql "UPDATE ip_addresses SET warmup_started_on = UTC_DATE() WHERE id = $w1"
sql "UPDATE servers s JOIN organizations o ON o.id = s.organization_id SET s.ip_pool_id = $W WHERE o.permalink = 'warm'"
ctl postfix pools --reload >/dev/null 2>&1 || true
# warm_batch N: N new messages of warm's server; their keys in $HARNESS_DIR/keys.
warm_batch() {
	sql "DELETE FROM messages WHERE rcpt_to LIKE 'warm%@example.org'"
	sql "INSERT INTO messages (server_id, token, scope, rcpt_to, mail_from)
		SELECT s.id, LOWER(LEFT(REPLACE(UUID(), '-', ''), 16)), 'outgoing', CONCAT('warm', seq, '@example.org'), 'app@example.com'
		FROM seq_1_to_$1 JOIN servers s JOIN organizations o ON o.id = s.organization_id AND o.permalink = 'warm'"
	sql "SELECT CONCAT(token, '@', '$rpd') FROM messages WHERE rcpt_to LIKE 'warm%@example.org'" >"$HARNESS_DIR/keys"
}
counts() { printf '%s %s' "$(grep -cx "OK pgpool-$w1" "$HARNESS_DIR/answers" || true)" "$(grep -cx "OK pgpool-$w2" "$HARNESS_DIR/answers" || true)"; }
warm_batch 100
lookups >"$HARNESS_DIR/answers"
is "$(counts)" "5 95" "day 1 of the plan: the warming address takes its share (5), the pool's other address the rest"
lookups >"$HARNESS_DIR/answers2"
check "... and each message keeps its address when asked again (retries)" cmp -s "$HARNESS_DIR/answers" "$HARNESS_DIR/answers2"
is "$(sql "SELECT count FROM ip_address_volume WHERE ip_address_id = $w1 AND day = UTC_DATE()")" 5 \
	"... counted once per message (5 today)"
sql "UPDATE ip_addresses SET warmup_started_on = UTC_DATE() - INTERVAL 1 DAY WHERE id = $w1"
warm_batch 100
lookups >"$HARNESS_DIR/answers"
is "$(counts)" "5 95" "day 2 (share 10, 5 of it used today): 5 more, the rest to the other address"
sql "UPDATE ip_addresses SET warmup_started_on = UTC_DATE() - INTERVAL 5 DAY WHERE id = $w1"
warm_batch 200
lookups >"$HARNESS_DIR/answers"
read -r n1 n2 <<<"$(counts)"
check "past the plan the address is warm: the priorities alone share 200 messages ($n1:$n2, expected 100:100 +-30)" \
	test "$n1" -ge 70 -a "$n1" -le 130 -a $((n1 + n2)) -eq 200
sql "UPDATE ip_addresses SET warmup_started_on = UTC_DATE() WHERE id = $w2"
sql "UPDATE ip_address_volume SET count = 5 WHERE ip_address_id = $w1 AND day = UTC_DATE()"
sql "UPDATE ip_addresses SET warmup_started_on = UTC_DATE() WHERE id = $w1"
sql "INSERT INTO ip_address_volume (ip_address_id, day, count) VALUES ($w2, UTC_DATE(), 5) ON DUPLICATE KEY UPDATE count = 5"
warm_batch 20
lookups >"$HARNESS_DIR/answers"
read -r n1 n2 <<<"$(counts)"
is "$((n1 + n2))" 20 "every address at its share: mail still goes (among all of them), none refused"

# Unknown senders and keys that are not return paths fall through to default_transport.
printf '%s\n' "0123456789abcdef@$rpd" "app@example.com" "@$rpd" >"$HARNESS_DIR/keys"
is "$(lookups | tr '\n' '|')" "NOTFOUND |NOTFOUND |NOTFOUND |" "other senders: NOTFOUND (Postfix's default transport)"

out=$(ctl postfix disable --reload 2>&1) || true
is "$(pf -M 2>/dev/null | grep -c '^pgpool-' || true) $(pf -n | grep -c '^pgpool-' || true)" "0 0" \
	"disable removes every pool transport and parameter"
is "$(pf -n sender_dependent_default_transport_maps 2>/dev/null)" "" "... and the map"
