#!/bin/bash
#
# package.t -- the Debian package: built from the tree with dpkg-buildpackage, lintian
# without errors, installed on this machine (the system user, a configuration with a
# password of its own, services installed but neither enabled nor started, Postfix
# untouched), then the installed programs run against a private MariaDB and Postfix:
# postgatectl initialize, postfix enable, the daemons, one message delivered with a valid
# DKIM signature; finally postfix disable and dpkg --purge leave none of its files.
#
# Must never: leave the package installed (the exit trap purges it), or touch the
# machine's own Postfix (the private instance's directory is named everywhere).

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v dpkg-buildpackage >/dev/null || skip_all "dpkg-buildpackage missing: run 'packaging/install-deps test' as root"
command -v lintian >/dev/null || skip_all "lintian missing: run 'packaging/install-deps test' as root"
if dpkg -s postgate >/dev/null 2>&1; then
	skip_all "a postgate package is installed on this machine: this test would replace it"
fi

harness_setup mariadb sink postfix
plan 13

here=$(cd "$(dirname "$0")" && pwd)
purge() { dpkg --purge postgate >/dev/null 2>&1 || true; }
trap 'purge; harness_on_exit $?' EXIT

# Build from the tracked and unignored files, as a checkout would have them.
src=$HARNESS_DIR/pkg/postgate
mkdir -p "$src"
(cd "$POSTGATE_SRCDIR" && git ls-files -co --exclude-standard -z | xargs -0 cp -p --parents -t "$src")
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) >"$HARNESS_DIR/pkg/build.log" 2>&1 &&
	st=0 || st=$?
is "$st" 0 "dpkg-buildpackage builds the package"
[ "$st" = 0 ] || diag "$(tail -20 "$HARNESS_DIR/pkg/build.log")"
deb=$(ls "$HARNESS_DIR"/pkg/postgate_*_*.deb 2>/dev/null | head -1)
lint=$(lintian --tag-display-limit 0 "$HARNESS_DIR"/pkg/postgate_*.changes 2>&1 | grep -E '^E: ' || true)
is "$lint" "" "lintian reports no error"

pf_before=$(postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" -n)
dpkg -i "$deb" >"$HARNESS_DIR/pkg/install.log" 2>&1 && st=0 || st=$?
is "$st" 0 "dpkg -i installs it"
conf=/etc/postgate/postgate.conf
is "$(stat -c '%a %U:%G' "$conf" 2>/dev/null)" "640 root:postgate" "... a configuration readable by the postgate group only"
like "$(grep -c 'password = "[0-9a-f]\{36\}";' "$conf" 2>/dev/null)" '^1$' "... with a database password generated for this host"
ok "$([ -x /usr/sbin/postgate-milter ] && [ -x /usr/sbin/postgatectl ] && [ -f /usr/share/man/man8/postgatectl.8.gz ] &&
	[ -f /lib/systemd/system/postgate-milter.service ] && [ -f /usr/share/postgate/schema/001_initial.sql ] && echo 0 || echo 1)" \
	"... the programs, manual pages, units and migrations in place"
ls /etc/systemd/system/*.wants/postgate-* >/dev/null 2>&1 && enabled=1 || enabled=0
is "$enabled" 0 "... no service enabled (they need a database first)"
is "$(postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" -n)" "$pf_before" "... and Postfix is untouched"

# The installed programs against the private MariaDB and Postfix.
password=$(sed -n 's/^ *password = "\([0-9a-f]*\)";/\1/p' "$conf")
# As the administrator would, as MariaDB's root (unix socket authentication); the private
# MariaDB has a postgate user already: it takes the installed file's password.
mariadb --no-defaults -S "$INSTANCE_DB_SOCKET" -u root -e "CREATE USER IF NOT EXISTS 'postgate'@'localhost';
	ALTER USER 'postgate'@'localhost' IDENTIFIED BY '$password';
	GRANT ALL ON postgate.* TO 'postgate'@'localhost'" 2>"$HARNESS_DIR/pkg/grant.log" || diag "$(cat "$HARNESS_DIR/pkg/grant.log")"
export POSTGATE_DATABASE_SOCKET="$INSTANCE_DB_SOCKET" POSTGATE_DATABASE_NAME=postgate
cfg=$HARNESS_DIR/pkg/postgate.conf
# The installed file as it is, less its daemon group: the test's own settings (the
# private Postfix's sockets, the postgate user) are appended below.
sed '/^daemon:/d' "$conf" >"$cfg"
release=$(instance_free_port) && injection=$(instance_free_port) || diag "no ports"
instance_postgate_config "$cfg" "$HARNESS_DIR/postfix" "$release" "$injection" || diag "cannot write $cfg"
ctl() { /usr/sbin/postgatectl -c "$cfg" "$@"; }
ctl initialize >"$HARNESS_DIR/pkg/initialize.log" 2>&1 && st=0 || st=$?
is "$st" 0 "the installed postgatectl initializes the database and the keys"
[ "$st" = 0 ] || diag "$(cat "$HARNESS_DIR/pkg/grant.log" "$HARNESS_DIR/pkg/initialize.log")"
queue=$(postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" -h queue_directory)
HARNESS_STARTED+=(postgate)
instance_postgate_start "$HARNESS_DIR" policyd /usr/sbin/postgate-policyd "$cfg" "$queue/postgate/auth" || diag "policyd"
instance_postgate_start "$HARNESS_DIR" milter /usr/sbin/postgate-milter "$cfg" "$queue/postgate/milter" || diag "milter"
ctl postfix enable --reload >"$HARNESS_DIR/pkg/enable.log" 2>&1 || diag "$(cat "$HARNESS_DIR/pkg/enable.log")"
instance_wait_port "$INSTANCE_SMTP_PORT" 30 || diag "Postfix did not answer"
ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >"$HARNESS_DIR/records.zone"
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
out=$(timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail --auth-password "$key" \
	--from app@example.com --to someone@example.net --h-From "App <app@example.com>" --h-Subject "packaged" 2>&1 || true)
like "$out" '250 2\.0\.0 Ok: queued' "a message through the installed daemons is accepted"
harness_wait_for 30 instance_sink_find packaged >/dev/null || true
f=$(instance_sink_find packaged || echo /dev/null)
like "$(/usr/bin/python3 "$here/dkim-verify.py" "$HARNESS_DIR/records.zone" "$f" 2>&1 | head -1)" '^pass' \
	"... and delivered DKIM-signed (dkimpy: pass)"

instance_postgate_stop "$HARNESS_DIR" milter
instance_postgate_stop "$HARNESS_DIR" policyd
ctl postfix disable --reload >/dev/null 2>&1 || true
dpkg --purge postgate >"$HARNESS_DIR/pkg/purge.log" 2>&1 && st=0 || st=$?
left=$(ls -d /etc/postgate /var/lib/postgate /usr/sbin/postgate* /usr/share/postgate /lib/systemd/system/postgate-* 2>/dev/null || true)
is "$st|$left" "0|" "dpkg --purge leaves none of its files, its configuration or its keys"
is "$(postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" -n)" "$pf_before" "postfix disable gave Postfix back as it was"
