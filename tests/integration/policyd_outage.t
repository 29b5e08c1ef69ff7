#!/bin/bash
#
# policyd_outage.t -- an outage of postgate-policyd costs at most its own length (issue 12,
# item 16), with the real Postfix submitting through it. postgate-policyd's supervisor
# (policyd/master.c) owns the listening sockets and forks a new worker at once when one
# dies, so Postfix's connections wait in the kernel's queue instead of finding nobody: no
# smtpd dies with "fatal: no SASL authentication mechanisms", Postfix's master throttles
# nothing, and smtpd is usable the moment the service is back. Outages: the worker killed
# (-9) and re-forked at once; and a 3-second one (the supervisor stopped with SIGSTOP while
# the worker is killed, then let go) with SMTP sessions opened during it. On a build
# without the supervisor the same outage is a kill and a start 3 s later (what systemd's
# restart does), which is how the old failure shows.
#
# Last, socket activation as systemd does it (systemd-socket-activate passes the three
# listening sockets, LISTEN_FDS): policyd takes them by their addresses and answers on them.
#
# Must never: pass without looking at Postfix's own log, or wait without a bound.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
plan 15

ctl() { $HARNESS_CTL "$@"; }
maillog=$(postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" -h maillog_file)
ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
# send SUBJECT: one authenticated submission; its SMTP dialogue.
send() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --timeout 40 --auth PLAIN --auth-user acme/mail \
		--auth-password "$key" --from app@example.com --to someone@example.net --h-Subject "$1" 2>&1 || true
}
master=$(cat "$HARNESS_DIR/policyd.pid")
worker() { pgrep -P "$master" | head -1 || true; }

like "$(send before)" 'queued as' "a submission before any outage is queued"
w=$(worker)
ok "$([ -n "$w" ] && echo 0 || echo 1)" "postgate-policyd runs a supervisor ($master) and a worker (${w:-none})"

# ---------------------------------------------------------------- 3-4: a crash, re-forked at once
if [ -n "$w" ]; then kill -9 "$w"; fi
start=$SECONDS
out=$(send "after a kill")
like "$out" 'queued as' "right after the worker is killed, a submission is queued"
ok "$([ $((SECONDS - start)) -le 10 ] && echo 0 || echo 1)" "... without waiting for anything but the new worker ($((SECONDS - start)) s)"

# ---------------------------------------------------------------- 5-11: a 3-second outage
if [ -n "$(worker)" ]; then
	kill -STOP "$master"
	kill -9 "$(worker)"
else
	kill -9 "$master"
fi
during=()
for i in 1 2 3; do
	send "during $i" >"$HARNESS_DIR/during-$i.out" &
	during+=($!)
	sleep 1
done
if kill -0 "$master" 2>/dev/null; then
	kill -CONT "$master"
else
	rm -f "$HARNESS_DIR/policyd.pid"
	instance_postgate_start "$HARNESS_DIR" policyd "$POSTGATE_BUILDDIR/policyd/postgate-policyd" \
		"$HARNESS_CONFIG" "$HARNESS_QUEUE_DIR/postgate/auth" || true
fi
back=$SECONDS
out=$(send "after the outage")
like "$out" 'queued as' "the moment the service is back, a submission is queued"
ok "$([ $((SECONDS - back)) -le 10 ] && echo 0 || echo 1)" "... at once, not after Postfix's throttle ($((SECONDS - back)) s)"
wait "${during[@]}" || true
good=0
for i in 1 2 3; do
	grep -qE 'queued as|<\*\* 4[0-9][0-9] ' "$HARNESS_DIR/during-$i.out" && good=$((good + 1))
done
is "$good" 3 "each session opened during the outage ended queued or with a 4xx, never cut off"
queued=0
for i in 1 2 3 4 5; do
	send "then $i" | grep -q 'queued as' && queued=$((queued + 1))
done
is "$queued" 5 "five submissions in a row afterwards are all queued"
unlike "$(cat "$maillog")" 'fatal: no SASL authentication mechanisms' "no smtpd died for want of the SASL socket"
is "$(grep -ci 'throttl' "$maillog" || true)" 0 "Postfix's master throttled no service"
like "$(cat "$HARNESS_DIR/policyd.log")" 'supervisor: worker [0-9]+ killed by signal 9; starting another' \
	"the supervisor logged the dead worker and started another"

# ---------------------------------------------------------------- 12-14: sockets passed by systemd
sa="$HARNESS_DIR/sa"
mkdir -p "$sa" && chmod 755 "$sa"
# (It passes on only the environment named with -E.)
systemd-socket-activate -l "$sa/auth" -l "$sa/policy" -l "$sa/socketmap" -E POSTGATE_POLICYD_SASL_LISTEN="unix:$sa/auth" \
	-E POSTGATE_POLICYD_POLICY_LISTEN="unix:$sa/policy" -E POSTGATE_POLICYD_SOCKETMAP_LISTEN="unix:$sa/socketmap" \
	"$POSTGATE_BUILDDIR/policyd/postgate-policyd" -c "$HARNESS_CONFIG" >"$sa/log" 2>&1 &
sapid=$!
# systemd-socket-activate binds the sockets itself, a moment after it starts: connect once
# they are there (on a loaded machine the first try could come before the bind).
harness_wait_for 10 test -S "$sa/socketmap" || diag "systemd-socket-activate made no sockets: $(cat "$sa/log")"
greeting=$(/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(b"VERSION\t1\t1\nCPID\t4242\n")
data = b""
while b"DONE" not in data:
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
print(data.decode("latin-1"))' "$sa/auth" 2>&1 || true)
# (systemd-socket-activate starts the program at the first connection, as systemd may.)
is "$(grep -c 'socket passed by systemd' "$sa/log" || true)" 3 "socket activation: policyd takes the three sockets systemd passed"
like "$greeting" $'MECH\tPLAIN' "... and answers SASL on the passed socket, the first connection having waited for it"
# This policyd has not loaded its domain lists yet: lookups arriving together while the
# first loads wait for it instead of answering TEMP (Postfix's 451 "Temporary lookup
# failure" to the first clients after every start).
harness_sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode) SELECT UUID(), s.id, d.id, 'inbox',
	'outage01', 'Accept' FROM servers s JOIN domains d ON d.server_id = s.id WHERE s.permalink = 'mail'"
answers=$(/usr/bin/python3 - "$sa/socketmap" <<'PY' 2>&1 || true
import socket, sys, threading
n = 24
barrier = threading.Barrier(n)
out = [None] * n
def ask(i):
    try:
        s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])
        q = b"domain example.com"
        barrier.wait()
        s.sendall(b"%d:%s," % (len(q), q))
        data = b""
        while not data.endswith(b","):
            chunk = s.recv(4096)
            if not chunk: break
            data += chunk
        out[i] = data.decode("latin-1")
    except Exception as e:
        out[i] = "error: %s" % e
threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print("\n".join(sorted(set(out))))
PY
)
is "$answers" "6:OK yes," "24 lookups at once on a policyd that has no domain list yet: all OK, none TEMP"
kill "$sapid" 2>/dev/null || true
wait "$sapid" 2>/dev/null || true

# ---------------------------------------------------------------- 15: the supervisor killed
# The worker runs as daemon.user; dropping privileges clears the kernel's parent-death
# signal, so the worker arms it again: killed with its supervisor, it must not live on
# holding the sockets (it drains, at most 10 s, and exits).
master=$(cat "$HARNESS_DIR/policyd.pid")
w=$(worker)
kill -9 "$master"
gone=1
for i in $(seq 1 30); do
	if [ -n "$w" ] && ! kill -0 "$w" 2>/dev/null; then gone=0; break; fi
	sleep 0.5
done
ok "$gone" "with its supervisor killed by SIGKILL, the worker (${w:-none}) exits too"
