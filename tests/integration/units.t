#!/bin/bash
#
# units.t -- the systemd units of the daemons (packaging/systemd), as `make install`
# installs them (and the daily mail purge's service and timer): every unit is installed,
# names the installed program, and passes
# `systemd-analyze verify` (an independent parser that also checks the executables) with
# nothing to say; a mistake planted in a copy is reported, so the check can fail. The
# programs the units start accept -t (what ExecStartPre runs) and refuse a bad
# configuration with a reason.
#
# Must never: install outside its own temporary DESTDIR, or enable or start a unit.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v systemd-analyze >/dev/null 2>&1 || skip_all "systemd-analyze missing: install the Debian package systemd"
daemons=(milter policyd worker tracker admin)
plan $((2 * ${#daemons[@]} + 7))

HARNESS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postgate-units.XXXXXX")
dest=$HARNESS_DIR/dest
out=$(make -C "$POSTGATE_BUILDDIR" install DESTDIR="$dest" 2>&1) && st=0 || st=$?
is "$st" 0 "make install DESTDIR=... puts the programs and units in place"
[ "$st" = 0 ] || diag "$(tail -20 <<<"$out")"
units=$(dirname "$(find "$dest" -name postgate-admin.service | head -1)")
sbindir=$(dirname "$(find "$dest" -type f -name postgate-admin | head -1)")
sbindir=${sbindir#"$dest"}

# systemd-analyze checks that ExecStart names an executable: point the units at the
# installed copies (DESTDIR is not where they would run).
mkdir -p "$HARNESS_DIR/verify"
for d in "${daemons[@]}"; do
	u=$units/postgate-$d.service
	is "$(sed -n 's/^ExecStart=//p' "$u" 2>/dev/null)" "$sbindir/postgate-$d" "postgate-$d.service starts the installed postgate-$d"
	sed "s|$sbindir/|$dest$sbindir/|g" "$u" >"$HARNESS_DIR/verify/postgate-$d.service" 2>/dev/null || true
done
cp "$units/postgate-policyd.socket" "$units/postgate-mail-purge.timer" "$HARNESS_DIR/verify/" 2>/dev/null || true
# The daily mail purge: a oneshot of postgatectl, started by its timer.
is "$(sed -n 's/^ExecStart=//p' "$units/postgate-mail-purge.service" 2>/dev/null)" "$sbindir/postgatectl dovecot purge" \
	"postgate-mail-purge.service runs the installed postgatectl dovecot purge"
sed "s|$sbindir/|$dest$sbindir/|g" "$units/postgate-mail-purge.service" >"$HARNESS_DIR/verify/postgate-mail-purge.service" 2>/dev/null || true
out=$(systemd-analyze verify --man=no "$HARNESS_DIR"/verify/*.service "$HARNESS_DIR"/verify/*.socket \
	"$HARNESS_DIR"/verify/*.timer 2>&1) && st=0 || st=$?
is "$st:$out" "0:" "systemd-analyze verify accepts every unit and has nothing to say"
# postgate-policyd's sockets outlive the service (a restart queues Postfix's connections).
is "$(grep -c '^ListenStream=/var/spool/postfix/postgate/' "$units/postgate-policyd.socket" 2>/dev/null || true)" 3 \
	"postgate-policyd.socket holds the SASL, policy and socketmap sockets"
is "$(sed -n 's/^Requires=//p' "$units/postgate-policyd.service")" "postgate-policyd.socket" \
	"postgate-policyd.service requires its socket unit"
sed -i 's/^Restart=on-failure$/Restart=sometimes/' "$HARNESS_DIR/verify/postgate-admin.service"
out=$(systemd-analyze verify --man=no "$HARNESS_DIR/verify/postgate-admin.service" 2>&1 || true)
like "$out" 'restart specifier' "a planted mistake is reported (the check can fail)"

printf 'database: { port = 99999; };\n' >"$HARNESS_DIR/bad.conf"
for d in "${daemons[@]}"; do
	out=$("$dest$sbindir/postgate-$d" -t -c "$HARNESS_DIR/bad.conf" 2>&1) && st=0 || st=$?
	like "$st $out" '^78 .*bad\.conf:1: database\.port: 99999 is out of range' \
		"postgate-$d -t (ExecStartPre) refuses a bad configuration with file, line and key (EX_CONFIG)"
done
is "$(grep -c '^ExecReload=' "$units/postgate-milter.service" || true)" 0 \
	"the milter's unit has no ExecReload (libmilter owns the signals: a change needs a restart)"
