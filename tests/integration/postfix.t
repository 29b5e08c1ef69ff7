#!/bin/bash
#
# postfix.t -- `postgatectl postfix check|enable|disable` against a real private
# Postfix: check reports what is missing, enable wires main.cf and master.cf through
# postconf (relative socket paths under the queue directory, no permit_mynetworks,
# the release service), a second enable changes nothing, the reloaded Postfix refuses
# unauthenticated relay at RCPT with 554 5.7.1 and the release service answers, and
# disable gives back byte-identical `postconf -n` and `postconf -M` output.
#
# postgate-milter and postgate-policyd do not exist yet, and Postfix cannot even greet
# a client whose milter (milter_default_action = tempfail) or Dovecot SASL socket is
# unreachable (smtpd exits: "no SASL authentication mechanisms"). So the SMTP part
# runs minimal stand-ins (a Perl script below: milter that continues, policy service
# that answers DUNNO, Dovecot auth handshake) on the configured sockets. Replace them
# with the real daemons when those land.
#
# Must never: pass without the real Postfix, or leave the stand-ins running.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

CTL=$POSTGATE_BUILDDIR/ctl/postgatectl
EX_NOT_WIRED=1
EX_UNAVAILABLE=69
EX_CONFIG=78

if [ ! -x "$CTL" ]; then
	plan 1
	ok 1 "postgatectl is built at $CTL (run 'make' first, or set POSTGATE_BUILDDIR)"
	exit 1
fi

harness_setup mariadb sink postfix
plan 56

DIR=$INSTANCE_POSTFIX_CONFIG_DIR
QUEUE=$(postconf -c "$DIR" -h queue_directory)
SOCKDIR=$QUEUE/postgate
RELEASE_PORT=$(instance_free_port "$INSTANCE_SMTP_PORT" "$INSTANCE_SINK_PORT")
# Not under the instance's maillog_file_prefixes, so enable must extend them.
MAILLOG_DIR=$HARNESS_DIR/postgate-maillog
MAILLOG=$MAILLOG_DIR/maillog
CONF=$HARNESS_DIR/postfix-wiring.conf
mkdir -p "$MAILLOG_DIR"

cp "$HARNESS_CONFIG" "$CONF"
cat >>"$CONF" <<EOF
milter: { listen = $(instance_libconfig_string "unix:$SOCKDIR/milter"); };
policyd: {
  policy_listen = $(instance_libconfig_string "unix:$SOCKDIR/policy");
  sasl_listen = $(instance_libconfig_string "unix:$SOCKDIR/auth");
  socketmap_listen = $(instance_libconfig_string "unix:$SOCKDIR/socketmap");
};
worker: { lmtp_listen = $(instance_libconfig_string "unix:$SOCKDIR/lmtp"); };
postfix: {
  config_directory = $(instance_libconfig_string "$DIR");
  release_address = "inet:127.0.0.1:$RELEASE_PORT";
  release_daemon_name = "postgate-release";
  maillog_file = $(instance_libconfig_string "$MAILLOG");
};
EOF

# ctl ARGS...: run postgatectl (bounded); exit status in $status, stdout+stderr in $out.
ctl() {
	status=0
	out=$(timeout 60 "$CTL" -c "$CONF" "$@" 2>&1) || status=$?
}

pc() { postconf -c "$DIR" "$@"; }

# The Postfix log after enable moves maillog_file: show it too when something fails.
show_logs() {
	[ -s "$MAILLOG" ] && diag "---- last 30 lines of $MAILLOG ----" && diag "$(tail -n 30 "$MAILLOG")"
	return 0
}

# An explicit, multi-line value that disable must give back (not just remove).
printf 'smtpd_relay_restrictions = permit_mynetworks,\n    permit_sasl_authenticated,\n    defer_unauth_destination\n' \
	>>"$DIR/main.cf"
# An instance's own smtp_header_checks: kept, after postgate's table.
printf 'smtp_header_checks = regexp:{{/^X-Internal-Only:/ IGNORE}}\n' >>"$DIR/main.cf"

before_n=$(pc -n)
before_M=$(pc -M)
cp "$DIR/main.cf" "$HARNESS_DIR/main.cf.before"
cp "$DIR/master.cf" "$HARNESS_DIR/master.cf.before"

# ---- errors
ctl postfix check -C "$HARNESS_DIR"
is "$status" "$EX_CONFIG" "check on a directory without main.cf exits $EX_CONFIG"
contains "$out" "$HARNESS_DIR is not a Postfix configuration directory" "... and names the directory"

status=0
out=$(timeout 60 env PATH=/nonexistent "$CTL" -c "$CONF" postfix check 2>&1) || status=$?
is "$status" "$EX_UNAVAILABLE" "check without postconf in PATH exits $EX_UNAVAILABLE"
contains "$out" "postconf not found in PATH" "... and says postconf is missing"

# ---- check before enable
ctl postfix check
is "$status" "$EX_NOT_WIRED" "check before enable exits $EX_NOT_WIRED"
contains "$out" 'main.cf: smtpd_milters is "", expected "unix:postgate/milter"' \
	"check reports smtpd_milters as missing, in the relative form"
contains "$out" "master.cf: release service 127.0.0.1:$RELEASE_PORT/inet is missing" \
	"check reports the missing release service"

# ---- a service postgate did not add is never taken over
pc -M "127.0.0.1:$RELEASE_PORT/inet=127.0.0.1:$RELEASE_PORT inet n - n - - smtpd"
ctl postfix enable
is "$status" "$EX_CONFIG" "enable refuses when master.cf has a foreign service at release_address"
contains "$out" "that postgate did not add" "... and says why"
ok "$([ ! -e "$DIR/postgate.state" ] && [ ! -e "$DIR/main.cf.postgate-backup" ] && echo 0 || echo 1)" \
	"... before writing a state file or backup"
is "$(pc -n)" "$before_n" "... and main.cf is unchanged"
pc -MX "127.0.0.1:$RELEASE_PORT/inet"

# ---- enable
ctl postfix enable
is "$status" 0 "enable exits 0"
[ "$status" = 0 ] || diag "$out"
contains "$out" "postfix -c $DIR reload" "enable reminds to reload"
is "$(pc -h smtpd_milters)" "unix:postgate/milter" "smtpd_milters is relative to the queue directory"
is "$(pc -h non_smtpd_milters)" "unix:postgate/milter" "non_smtpd_milters likewise"
is "$(pc -h milter_default_action)" "tempfail" "milter_default_action = tempfail"
relay=$(pc -h smtpd_relay_restrictions)
unlike "$relay" "permit_mynetworks" "smtpd_relay_restrictions has no permit_mynetworks ($relay)"
like "$relay" "^check_policy_service unix:postgate/policy, permit_sasl_authenticated, reject_unauth_destination$" \
	"smtpd_relay_restrictions: SASL, policy service, then reject_unauth_destination last"
is "$(pc -h smtpd_sasl_auth_enable smtpd_sasl_type smtpd_sasl_path | tr '\n' ' ')" "yes dovecot postgate/auth " \
	"SASL: enabled, type dovecot, path relative to the queue directory"
is "$(pc -h enable_long_queue_ids)" "yes" "enable_long_queue_ids = yes"
hc=$(pc -h smtp_header_checks)
like "$hc" '^regexp:\{\{/\^X-\(Postal-\(Spam\|Threat\)\|Postgate-Inspection\).* IGNORE\}\}, regexp:\{\{/\^X-Internal-Only:/ IGNORE\}\}$' \
	"smtp_header_checks: postgate's verdict headers never leave by SMTP, before the instance's own table"
is "$(postmap -c "$DIR" -q 'X-Postal-Spam-Score: 3.1' "${hc%%, *}"),$(postmap -c "$DIR" -q 'X-Postal-MsgID: abc' "${hc%%, *}" || true)" \
	"IGNORE," "... which matches the verdict headers and nothing else of postgate's"
is "$(pc -h maillog_file)" "$MAILLOG" "maillog_file is postfix.maillog_file"
contains "$(pc -h maillog_file_prefixes)" ", $MAILLOG_DIR" "maillog_file_prefixes gained the maillog directory"
release=$(pc -M "127.0.0.1:$RELEASE_PORT/inet")
contains "$release" "-o milter_macro_daemon_name=postgate-release" \
	"master.cf has the release service with milter_macro_daemon_name"
contains "$release" "-o syslog_name=postfix/postgate-release" "... marked by its syslog_name"
contains "$(pc -M | grep -F 'syslog_name=postfix/postgate-forward')" "-o smtpd_milters=$(pc -h smtpd_milters)" \
	"the forward service runs the milter (a forward is outgoing mail of the route's server)"
ok "$(cmp -s "$DIR/main.cf.postgate-backup" "$HARNESS_DIR/main.cf.before" &&
	cmp -s "$DIR/master.cf.postgate-backup" "$HARNESS_DIR/master.cf.before" && echo 0 || echo 1)" \
	"main.cf.postgate-backup and master.cf.postgate-backup are the files before enable"
state=$(cat "$DIR/postgate.state" 2>/dev/null || true)
contains "$state" "unset smtpd_milters" "the state file records that smtpd_milters was unset"
contains "$state" "set maillog_file = $HARNESS_DIR/postfix/log/maillog" "... and the old maillog_file"
contains "$state" "set smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination" \
	"... and the old smtpd_relay_restrictions"
is "$(stat -c '%a %G' "$SOCKDIR" 2>/dev/null || true)" "750 postfix" \
	"enable created the socket directory, mode 750, group postfix"
status=0
pfcheck=$(postfix -c "$DIR" check 2>&1) || status=$?
is "$status:$pfcheck" "0:" "postfix -c DIR check passes without a word"

# ---- enable again
after_n=$(pc -n)
after_M=$(pc -M)
ctl postfix enable
is "$status" 0 "a second enable exits 0"
contains "$out" "already" "... and says it is already wired"
is "$(pc -n)" "$after_n" "... postconf -n is unchanged"
is "$(pc -M)" "$after_M" "... postconf -M is unchanged"

# ---- the wired Postfix, with stand-ins on the sockets
STANDIN=$HARNESS_DIR/standin.pl
POLICY_LOG=$HARNESS_DIR/standin-policy.log
cat >"$STANDIN" <<'EOF'
# Stand-ins for postgate-milter (continue everything), postgate-policyd's policy
# service (DUNNO, each request logged), its Dovecot auth handshake, its socketmap
# (NOTFOUND for every lookup: no incoming domains) and postgate-worker's LMTP socket.
use strict; use warnings;
use IO::Socket::UNIX; use IO::Select; use Socket qw(SOCK_STREAM);
my ($milter, $policy, $auth, $log, $socketmap, $lmtp) = @ARGV;
my (%kind, %buf);
my $sel = IO::Select->new;
umask 0;    # smtpd runs as postfix: the sockets must be writable by others
for my $pair ([$milter, 'milter'], [$policy, 'policy'], [$auth, 'auth'], [$socketmap, 'socketmap'], [$lmtp, 'lmtp']) {
	my ($path, $k) = @$pair;
	unlink $path;
	my $l = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path, Listen => 64)
		or die "listen $path: $!\n";
	$kind{$l} = "listen-$k";
	$sel->add($l);
}
$SIG{PIPE} = 'IGNORE';
$SIG{TERM} = sub { unlink $milter, $policy, $auth, $socketmap, $lmtp; exit 0 };
sub done { my $c = shift; $sel->remove($c); delete $kind{$c}; delete $buf{$c}; close $c }
while (1) {
	for my $s ($sel->can_read) {
		my $k = $kind{$s};
		if ($k =~ /^listen-(.*)/) {
			my $c = $s->accept or next;
			($kind{$c}, $buf{$c}) = ($1, '');
			$sel->add($c);
			syswrite $c, "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t$$\nCUID\t1\nCOOKIE\t"
				. ('0' x 32) . "\nDONE\n" if $1 eq 'auth';
			syswrite $c, "220 lmtp stand-in\r\n" if $1 eq 'lmtp';
			next;
		}
		my $n = sysread($s, my $data, 65536);
		if (!$n) { done($s); next }
		$buf{$s} .= $data;
		if ($k eq 'policy') {
			while ($buf{$s} =~ s/^(.*?)\n\n//s) {
				my ($rcpt) = $1 =~ /^recipient=(.*)$/m;
				open my $fh, '>>', $log or die; print $fh "request recipient=", $rcpt // '', "\n"; close $fh;
				syswrite $s, "action=DUNNO\n\n";
			}
		} elsif ($k eq 'socketmap') {
			while ($buf{$s} =~ s/^(\d+):(.*?),//s) { syswrite $s, "9:NOTFOUND ," }
		} elsif ($k eq 'milter') {
			while (length($buf{$s}) >= 4) {
				my $len = unpack('N', $buf{$s});
				last if length($buf{$s}) < 4 + $len;
				my $cmd = substr($buf{$s}, 4, 1);
				substr($buf{$s}, 0, 4 + $len) = '';
				if ($cmd eq 'O') { syswrite $s, pack('N', 13) . 'O' . pack('NNN', 6, 0, 0) }
				elsif ($cmd eq 'Q') { done($s); last }
				elsif ($cmd !~ /^[DAK]$/) { syswrite $s, pack('N', 1) . 'c' }  # D, A, K: no reply
			}
		}
	}
}
EOF
instance_spawn "$HARNESS_DIR/standin.pid" "$HARNESS_DIR/standin.out" \
	perl "$STANDIN" "$SOCKDIR/milter" "$SOCKDIR/policy" "$SOCKDIR/auth" "$POLICY_LOG" \
	"$SOCKDIR/socketmap" "$SOCKDIR/lmtp" ||
	harness_setup_failed "the stand-in daemons did not start"
standin_pid=$(instance_pidfile_read "$HARNESS_DIR/standin.pid")
standin_ready() { [ -S "$SOCKDIR/milter" ] && [ -S "$SOCKDIR/policy" ] && [ -S "$SOCKDIR/auth" ] && [ -S "$SOCKDIR/socketmap" ] && [ -S "$SOCKDIR/lmtp" ]; }
harness_wait_for 10 standin_ready || harness_setup_failed "the stand-ins made no sockets: $(cat "$HARNESS_DIR/standin.out")"

ok "$(postfix -c "$DIR" reload >/dev/null 2>&1 && echo 0 || echo 1)" "postfix -c DIR reload"
harness_wait_for 30 instance_port_greets "$RELEASE_PORT" || true
ok "$(instance_port_greets "$RELEASE_PORT" && echo 0 || echo 1)" \
	"the release service on 127.0.0.1:$RELEASE_PORT answers 220"

status=0
smtp=$(timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from a@postgate.test \
	--to someone@example.net --quit-after RCPT 2>&1) || status=$?
contains "$smtp" "<** 554 5.7.1 <someone@example.net>: Relay access denied" \
	"unauthenticated relay from 127.0.0.1 (in mynetworks) is refused at RCPT with 554 5.7.1"
[[ $smtp == *"Relay access denied"* ]] || { diag "$smtp"; show_logs; }
contains "$smtp" "250-AUTH PLAIN" "the main smtpd offers SASL from the (stand-in) Dovecot auth socket"
contains "$(cat "$POLICY_LOG" 2>/dev/null || true)" "request recipient=someone@example.net" \
	"smtpd asked the policy service about the recipient before refusing"

status=0
smtp=$(timeout 60 swaks --server "127.0.0.1:$RELEASE_PORT" --from a@postgate.test \
	--to someone@example.net --quit-after RCPT 2>&1) || status=$?
contains "$smtp" "<-  250 2.1.5 Ok" "the release service accepts a loopback client's recipient without AUTH"
unlike "$smtp" "AUTH PLAIN" "... and offers no SASL"

# ---- check when wired
ctl postfix check
is "$status" 0 "check exits 0 once enabled"
contains "$out" "is wired to postgate" "... and says so"
unlike "$out" "does not accept connections" "... with no socket warning while the sockets answer"
instance_kill_pid "$standin_pid" 10
ctl postfix check
is "$status" 0 "check still exits 0 when the daemons are down"
contains "$out" "warning: milter.listen: unix:$SOCKDIR/milter does not accept connections" \
	"... but warns that the milter socket does not answer"

# ---- disable
ctl postfix disable
is "$status" 0 "disable exits 0"
[ "$status" = 0 ] || diag "$out"
is "$(pc -n)" "$before_n" "after disable, postconf -n is byte-identical to before enable"
is "$(pc -M)" "$before_M" "after disable, postconf -M is byte-identical to before enable"
ok "$([ ! -e "$DIR/postgate.state" ] && echo 0 || echo 1)" "the state file is gone"
ok "$([ -e "$DIR/main.cf.postgate-backup" ] && [ -e "$DIR/master.cf.postgate-backup" ] && echo 0 || echo 1)" \
	"the backups stay"
ctl postfix disable
is "$status" 0 "a second disable exits 0"
contains "$out" "nothing changed" "... and changes nothing"
