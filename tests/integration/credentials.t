#!/bin/bash
#
# credentials.t -- what an SMTP-IP credential may claim (issue 12, item 3), tried as a
# tenant attacking another would. Through the management API and postgatectl: networks
# wider than credentials.smtp_ip_min_prefix_ipv4/_ipv6 (0.0.0.0/0, ::/0, an IPv6 network
# spanning the IPv4-mapped range), loopback and unspecified ranges (unless
# credentials.smtp_ip_allow_loopback) are refused; a network inside or around another
# server's gets 409 NetworkConflict naming the network, never its owner; a server may nest
# its own. Through the real Postfix: rows written before the checks existed (inserted with
# SQL) capture nothing: a too-wide one is ignored, and an address inside networks of two
# servers gets 4xx (neither takes the mail) until one is deleted.
#
# Must never: pass on an answer it did not parse, or believe a refusal the database contradicts.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"
command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
plan 32

# The harness allows loopback networks (its clients are all on 127.0.0.1); the API and
# postgatectl here run with the installation default.
export POSTGATE_CREDENTIALS_SMTP_IP_ALLOW_LOOPBACK=false
harness_start_admin
base=$HARNESS_ADMIN_URL
ctl() { $HARNESS_CTL "$@"; }

mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser mallory@example.test 'Mall0ry-pass-phrase'
login() { # NAME EMAIL PASSWORD
	local a
	a=$(call POST /api/v2/session "{\"email\": \"$2\", \"password\": \"$3\"}" -c "$(jar "$1")")
	printf -v "csrf_$1" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]')"
}
login alice alice@example.test 'Al1ce-pass-phrase'
login mallory mallory@example.test 'Mall0ry-pass-phrase'
as alice POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}' >/dev/null
as alice POST /api/v2/organizations/acme/servers '{"name": "Mail", "permalink": "mail"}' >/dev/null
as mallory POST /api/v2/organizations '{"name": "Evil", "permalink": "evil"}' >/dev/null
as mallory POST /api/v2/organizations/evil/servers '{"name": "Grab", "permalink": "grab"}' >/dev/null
A=/api/v2/organizations/acme/servers/mail/credentials
M=/api/v2/organizations/evil/servers/grab/credentials
ipcred() { # NAME PATH NETWORK: the answer to creating an SMTP-IP credential
	as "$1" POST "$2" "{\"type\": \"SMTP-IP\", \"name\": \"n\", \"network\": \"$3\"}"
}
refused() { # ANSWER: "HTTP-status code" and the network error's first words
	printf '%s: %s' "$(code "$1")" "$(body "$1" | j 'd["data"]["errors"]["network"][0]' | sed 's/: .*//')"
}

# ---------------------------------------------------------------- 1-8: too wide, loopback, unspecified
is "$(refused "$(ipcred mallory $M 0.0.0.0/0)")" "400 ValidationError: network 0.0.0.0/0 is too wide for an SMTP-IP credential" \
	"0.0.0.0/0 (every IPv4 client) is refused"
is "$(refused "$(ipcred mallory $M ::/0)")" "400 ValidationError: network ::/0 is too wide for an SMTP-IP credential" \
	"::/0 is refused (it spans the IPv4-mapped range, so it counts as IPv4 /0)"
is "$(refused "$(ipcred mallory $M ::/64)")" "400 ValidationError: network ::/64 is too wide for an SMTP-IP credential" \
	"::/64 is refused: it would hold every IPv4 client as ::ffff:a.b.c.d"
is "$(refused "$(ipcred mallory $M 2001:db8::/32)")" "400 ValidationError: network 2001:db8::/32 is too wide for an SMTP-IP credential" \
	"an IPv6 /32 is refused (default minimum /48)"
is "$(refused "$(ipcred mallory $M 10.0.0.0/16)")" "400 ValidationError: network 10.0.0.0/16 is too wide for an SMTP-IP credential" \
	"an IPv4 /16 is refused (default minimum /24)"
for net in 127.0.0.1 ::1 0.0.0.0; do
	a=$(ipcred mallory $M "$net")
	like "$(refused "$a")" "^400 ValidationError: network [^ ]+ holds (loopback|unspecified) addresses" "$net is refused (loopback/unspecified)"
done
is "$(sql "SELECT COUNT(*) FROM credentials WHERE type = 'SMTP-IP'")" 0 "none of them was stored"

# ---------------------------------------------------------------- 10-19: overlaps between servers
is "$(code "$(ipcred alice $A 192.0.2.0/24)")" "201 " "alice's server claims 192.0.2.0/24"
a=$(ipcred mallory $M 192.0.2.7)
is "$(code "$a")" "409 NetworkConflict" "a /32 inside it for another server: 409 NetworkConflict"
is "$(body "$a" | j 'd["data"]["message"]')" \
	"network 192.0.2.7/32 overlaps 192.0.2.0/24, which another mail server's SMTP-IP credential holds: SMTP-IP networks of different servers may not contain each other" \
	"the message names the conflicting network"
unlike "$(body "$a")" 'acme|Acme|alice|"Mail"' "... and not whose it is"
is "$(code "$(ipcred alice $A 198.51.100.128/25)")" "201 " "alice's server claims 198.51.100.128/25"
is "$(code "$(ipcred mallory $M 198.51.100.0/24)")" "409 NetworkConflict" "a network around it for another server: 409"
is "$(code "$(ipcred alice $A 192.0.2.128/25)")" "201 " "a server may nest networks of its own"
is "$(code "$(ipcred alice $A 2001:db8:1::/48)") $(code "$(ipcred mallory $M 2001:db8:1:2::1)")" "201  409 NetworkConflict" \
	"IPv6 alike: a /128 inside another server's /48 is refused"
is "$(code "$(ipcred mallory $M 192.0.3.0/24)")" "201 " "a network of its own elsewhere is fine"
is "$(sql "SELECT COUNT(*) FROM credentials c JOIN servers s ON s.id = c.server_id WHERE s.permalink = 'grab'")" 1 \
	"the database holds only that one for mallory's server"

# ---------------------------------------------------------------- 20-22: postgatectl, same rules
out=$(ctl credential create --server evil/grab --type SMTP-IP --name x --network 0.0.0.0/0 2>&1) && rc=0 || rc=$?
is "$rc $(grep -o 'too wide' <<<"$out")" "65 too wide" "postgatectl credential create refuses 0.0.0.0/0 (exit 65)"
out=$(ctl credential create --server evil/grab --type SMTP-IP --name x --network 192.0.2.64/26 2>&1) && rc=0 || rc=$?
is "$rc $(grep -o 'overlaps 192.0.2.0/24' <<<"$out")" "65 overlaps 192.0.2.0/24" "... and an overlap with another server's network"
out=$(ctl credential create --server evil/grab --type SMTP-IP --name x --network 127.0.0.0/24 2>&1) && rc=0 || rc=$?
is "$rc $(grep -o 'loopback' <<<"$out" | head -1)" "65 loopback" "... and loopback when the installation does not allow it"
unset POSTGATE_CREDENTIALS_SMTP_IP_ALLOW_LOOPBACK

# ---------------------------------------------------------------- 23-33: rows written before the checks
ctl domain create --server acme/mail --name example.org --verified >/dev/null
alice_server=$(sql "SELECT id FROM servers WHERE permalink = 'mail'")
evil_server=$(sql "SELECT id FROM servers WHERE permalink = 'grab'")
sql "DELETE FROM credentials WHERE type = 'SMTP-IP'"
raw_row() { # SERVER_ID START_HEX END_HEX PREFIX
	sql "INSERT INTO credentials (uuid, server_id, type, name, ip_start, ip_end, prefix_len)
		VALUES (UUID(), $1, 'SMTP-IP', 'old', UNHEX('$2'), UNHEX('$3'), $4)"
}
v4() { printf '00000000000000000000FFFF%02X%02X%02X%02X' ${1//./ }; }
# relay: a client on 127.0.0.1 without AUTH sends to the Internet; the SMTP dialogue.
relay() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from app@example.org --to someone@example.net \
		--h-Subject "$1" 2>&1 || true
}
settle() { sleep 2.1; }  # the milter's cache_ttl is 1 s here

raw_row "$evil_server" "$(v4 0.0.0.0)" "$(v4 255.255.255.255)" 96
settle
out=$(relay "wide")
like "$out" '<\*\* 554 5\.7\.1 .*Relay access denied' "a stored 0.0.0.0/0 of another tenant does not relay everyone's mail"
unlike "$out" 'queued as' "... nothing was queued"
is "$(sql "SELECT COUNT(*) FROM messages WHERE subject = 'wide'")" 0 "... or recorded for that tenant"

sql "DELETE FROM credentials WHERE type = 'SMTP-IP'"
raw_row "$alice_server" "$(v4 127.0.0.0)" "$(v4 127.0.0.255)" 120
raw_row "$evil_server" "$(v4 127.0.0.1)" "$(v4 127.0.0.1)" 128
settle
out=$(relay "captured")
like "$out" '<\*\* 4[0-9][0-9] ' "a stored /32 of another tenant inside alice's network: 4xx, not mallory's mail"
unlike "$out" 'queued as' "... nothing was queued"
is "$(sql "SELECT COUNT(*) FROM messages WHERE subject = 'captured'")" 0 "... or recorded for either"
like "$(cat "$HARNESS_DIR/policyd.log" "$HARNESS_DIR/milter.log")" 'SMTP-IP credentials [0-9]+ \(server [0-9]+\) and [0-9]+ \(server [0-9]+\) both contain it' \
	"the overlap is logged for the admin"

sql "DELETE FROM credentials WHERE server_id = $evil_server"
settle
out=$(relay "alice's own")
like "$out" 'queued as' "with the other tenant's row gone, alice's network relays again"
is "$(sql "SELECT COUNT(*) FROM messages m JOIN servers s ON s.id = m.server_id WHERE m.subject = 'alice''s own' AND s.permalink = 'mail'")" 1 \
	"... recorded for alice's server"

# The loopback rule applies at lookup too: off in policyd's configuration, the row no longer relays.
# (The admin section harness_start_admin appended is a restart-only change for policyd: gone
# again, so the reload is accepted.)
sed -i -e 's/smtp_ip_allow_loopback = true/smtp_ip_allow_loopback = false/' -e '/^admin: {/d' "$HARNESS_CONFIG"
kill -HUP "$(cat "$HARNESS_DIR/policyd.pid")"
harness_wait_for 10 grep -q 'configuration reloaded' "$HARNESS_DIR/policyd.log" || diag "policyd did not reload"
settle
like "$(relay "loopback off")" '<\*\* 554 5\.7\.1 .*Relay access denied' \
	"with smtp_ip_allow_loopback off (reloaded), a stored loopback network relays nothing"
