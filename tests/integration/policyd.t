#!/bin/bash
#
# policyd.t -- postgate-policyd behind the real Postfix and MariaDB: SMTP AUTH (PLAIN,
# LOGIN, CRAM-MD5) through the Dovecot auth protocol with keys made by credential.c,
# the failed-login throttle, relay decisions through check_policy_service (SMTP-IP
# credentials, deleted credentials, suspended servers, the rate limit after a SIGHUP),
# 454 rather than 535 while MariaDB is down, malformed input on both sockets, and
# last_used_at written at SIGTERM. Results are read from swaks and Postfix's replies.
#
# Must never: leave postgate-policyd running (the EXIT trap stops it before the
# harness stops MariaDB), or configure a milter or permit_mynetworks (no shortcut may
# let mail relay besides what policyd decides).

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

policyd_bin="$POSTGATE_BUILDDIR/policyd/postgate-policyd"
mkcred="$POSTGATE_BUILDDIR/tests/integration/mkcred"
ctl="$POSTGATE_BUILDDIR/ctl/postgatectl"
for prog in "$policyd_bin" "$mkcred" "$ctl"; do
	[ -x "$prog" ] || { ok 1 "$prog is built (make; make -C tests/integration mkcred)"; exit 1; }
done

policyd_pid=""
# Stops the daemon (SIGTERM, then SIGKILL after 15 s); its exit status in policyd_status.
policyd_stop() {
	policyd_status=""
	[ -n "$policyd_pid" ] || return 0
	if instance_pid_alive "$policyd_pid"; then
		kill -TERM "$policyd_pid" 2>/dev/null || true
		instance_wait_until 15 instance_pid_gone "$policyd_pid" || kill -KILL "$policyd_pid" 2>/dev/null || true
	fi
	policyd_status=0
	wait "$policyd_pid" 2>/dev/null || policyd_status=$?
	policyd_pid=""
}
trap 'rc=$?; policyd_stop; harness_on_exit $rc' EXIT
trap 'policyd_stop; harness_on_signal INT 130' INT
trap 'policyd_stop; harness_on_signal TERM 143' TERM

harness_setup mariadb sink postfix

sockdir="$HARNESS_DIR/policyd"
auth_sock="$sockdir/auth"
policy_sock="$sockdir/policy"
key_file="$HARNESS_DIR/secret.key"   # where harness_write_config's config points
log="$HARNESS_DIR/policyd.log"
mkdir -p "$sockdir" && chmod 755 "$sockdir"
(umask 077 && instance_random_hex 32 >"$key_file")
: >"$log"

# The harness config plus policyd's sections; readable by daemon.user so SIGHUP works.
write_config() {
	local rate_limit=$1 max_clients=${2:-512}
	harness_write_config "$HARNESS_CONFIG"
	cat >>"$HARNESS_CONFIG" <<-EOF
		daemon: { user = "nobody"; };
		credentials: { smtp_ip_allow_loopback = true; };
		milter: { cache_ttl = 1; };
		policyd: {
		  sasl_listen = "unix:$auth_sock";
		  policy_listen = "unix:$policy_sock";
		  auth_failure_limit = 3;
		  auth_failure_window = 3;
		  rate_limit = $rate_limit;
		  rate_limit_window = 60;
		  max_clients = $max_clients;
		};
	EOF
	chgrp "$(id -gn nobody)" "$HARNESS_CONFIG"
	chmod 640 "$HARNESS_CONFIG"
}
write_config 0
"$ctl" -c "$HARNESS_CONFIG" initialize >/dev/null || harness_setup_failed "postgatectl initialize"

# Reloads the configuration and waits until the daemon has logged it.
policyd_reload() {
	local before
	before=$(grep -c 'configuration reloaded' "$log" || true)
	kill -HUP "$policyd_pid"
	reloaded() { [ "$(grep -c 'configuration reloaded' "$log" || true)" -gt "$before" ]; }
	harness_wait_for 10 reloaded
}

# ---------------------------------------------------------------- objects

harness_sql "INSERT INTO organizations (uuid, name, permalink) VALUES (UUID(), 'Acme', 'acme');
	INSERT INTO servers (uuid, organization_id, name, permalink, token)
	  SELECT UUID(), id, 'Mail', 'mail', 'pgtest1' FROM organizations WHERE permalink = 'acme'" ||
	harness_setup_failed "creating the organization and server"
server_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'mail'")
read -r cred_id key <<<"$("$mkcred" -c "$HARNESS_CONFIG" "$server_id" SMTP main)" ||
	harness_setup_failed "mkcred SMTP"
[ -n "$key" ] || harness_setup_failed "mkcred printed no key"
identity="acme/mail/$cred_id"

status=0
out=$("$policyd_bin" -c "$HARNESS_CONFIG" -t 2>&1) || status=$?
like "$status $out" "^0 configuration OK" "postgate-policyd -t accepts the configuration"

policyd_start() {
	local before
	before=$(grep -c ': started' "$log" || true)
	setsid "$policyd_bin" -c "$HARNESS_CONFIG" </dev/null >>"$log" 2>&1 &
	policyd_pid=$!
	started() { [ "$(grep -c ': started' "$log" || true)" -gt "$before" ]; }
	harness_wait_for 10 started
}
policyd_start || { diag "$(cat "$log")"; harness_setup_failed "postgate-policyd did not start"; }
is "$(stat -c '%U:%G %a' "$auth_sock" "$policy_sock" | sort -u)" "nobody:postfix 660" \
	"both sockets belong to daemon.user and group postfix, mode 0660"

postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" -e \
	"smtpd_sasl_auth_enable = yes" \
	"smtpd_sasl_type = dovecot" \
	"smtpd_sasl_path = $auth_sock" \
	"smtpd_relay_restrictions = check_policy_service unix:$policy_sock, permit_sasl_authenticated, reject_unauth_destination" \
	"smtpd_recipient_restrictions ="
touch -d '2 seconds ago' "$INSTANCE_POSTFIX_CONFIG_DIR/main.cf"
instance_postfix_start "$HARNESS_DIR/postfix" || harness_setup_failed "Postfix reload"

# ---------------------------------------------------------------- helpers

# swaks against the private Postfix; the transcript lands in $out.
swaks_run() {
	out=$(timeout 30 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from a@postgate.test \
		--to someone@example.net --quit-after RCPT "$@" 2>&1) || true
}
# The AUTH outcome in $out: the first 235/535/454 reply.
auth_reply() {
	grep -m1 -oE '^ *<[-~*]+ +(235|535|454) .*' <<<"$out" | sed -E 's/^ *<[-~*]+ +//' || true
}
# The reply to RCPT TO:<$1> in $out.
rcpt_reply() {
	awk -v cmd="RCPT TO:<$1>" 'found { sub(/^ *<[-~*]+ +/, ""); print; exit } index($0, cmd) { found = 1 }' <<<"$out"
}
auth_plain() { swaks_run --auth PLAIN --auth-user ignored --auth-password "$1" "${@:2}"; }

advertises_auth() {
	out=$(timeout 10 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --quit-after EHLO 2>&1) || true
	grep -q 'AUTH PLAIN LOGIN CRAM-MD5' <<<"$out"
}
harness_wait_for 20 advertises_auth || { diag "$out"; harness_setup_failed "Postfix does not offer AUTH through policyd"; }

# One SMTP session by hand: EHLO, AUTH PLAIN with key $1, then SQL $2, then MAIL and
# RCPT; prints the RCPT reply.
session_auth_sql_rcpt() {
	local key=$1 sql=$2 fd line reply
	exec {fd}<>"/dev/tcp/127.0.0.1/$INSTANCE_SMTP_PORT"
	smtp_read() {
		while IFS= read -r -t 10 line <&"$fd"; do
			line=${line%$'\r'}
			[[ $line == [0-9][0-9][0-9]-* ]] && continue
			printf '%s\n' "$line"
			return 0
		done
		printf 'timeout\n'
	}
	smtp_read >/dev/null
	printf 'EHLO policyd.test\r\n' >&"$fd"
	smtp_read >/dev/null
	printf 'AUTH PLAIN %s\r\n' "$(printf '\0ignored\0%s' "$key" | base64 -w0)" >&"$fd"
	reply=$(smtp_read)
	if [[ $reply == 235* ]]; then
		harness_sql "$sql"
		printf 'MAIL FROM:<a@postgate.test>\r\n' >&"$fd"
		smtp_read >/dev/null
		printf 'RCPT TO:<someone@example.net>\r\n' >&"$fd"
		reply=$(smtp_read)
	fi
	printf 'QUIT\r\n' >&"$fd"
	exec {fd}>&-
	printf '%s\n' "$reply"
}

# Sends stdin to unix socket $1 (then half-closes) and prints what comes back until
# the daemon closes the connection (at most 10 s).
sock_talk() {
	perl -MIO::Socket::UNIX -MIO::Select -MSocket -e '
		$SIG{PIPE} = "IGNORE";
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0], Type => SOCK_STREAM) or die "connect $ARGV[0]: $!\n";
		local $/; my $in = <STDIN>; $in = "" unless defined $in;
		my $off = 0;
		while ($off < length $in) {
			my $n = syswrite($s, $in, length($in) - $off, $off);
			last unless defined $n;
			$off += $n;
		}
		shutdown($s, 1);
		my $sel = IO::Select->new($s); my $out = ""; my $end = time + 10;
		while (time < $end && $sel->can_read(5)) {
			my $n = sysread($s, my $buf, 65536);
			last unless $n;
			$out .= $buf;
		}
		print $out;' "$1"
}
policy_request() { # CLIENT_ADDRESS [SASL_USERNAME]
	printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=%s\nclient_name=unknown\nsasl_method=%s\nsasl_username=%s\nsender=a@postgate.test\nrecipient=someone@example.net\n\n' \
		"$1" "${2:+PLAIN}" "${2:-}"
}
sasl_hello=$'VERSION\t1\t0\nCPID\t4242\n'

# ---------------------------------------------------------------- logins

is "$(harness_sql "SELECT IFNULL(last_used_at, 'never') FROM credentials WHERE id = $cred_id")" never \
	"a new credential has never been used"

auth_plain "$key"
is "$(auth_reply)" "235 2.7.0 Authentication successful" "AUTH PLAIN with the credential key succeeds"
is "$(rcpt_reply someone@example.net)" "250 2.1.5 Ok" "the PLAIN-authenticated client may relay"
maillog_identity() { grep -qF "sasl_method=PLAIN, sasl_username=$identity" "$INSTANCE_MAILLOG"; }
harness_wait_for 5 maillog_identity || true
ok "$(maillog_identity && echo 0 || echo 1)" "Postfix knows the login as $identity"

swaks_run --auth LOGIN --auth-user ignored --auth-password "$key"
is "$(auth_reply)" "235 2.7.0 Authentication successful" "AUTH LOGIN with the credential key succeeds"
is "$(rcpt_reply someone@example.net)" "250 2.1.5 Ok" "the LOGIN-authenticated client may relay"

swaks_run --auth CRAM-MD5 --auth-user acme/mail --auth-password "$key"
is "$(auth_reply)" "235 2.7.0 Authentication successful" "AUTH CRAM-MD5 as acme/mail succeeds"
swaks_run --auth CRAM-MD5 --auth-user acme_mail --auth-password "$key"
is "$(auth_reply)" "235 2.7.0 Authentication successful" "AUTH CRAM-MD5 as acme_mail succeeds"

# ---------------------------------------------------------------- failures and throttle

auth_plain "wrong-${key:6}"
like "$(auth_reply)" "^535 5\.7\.8 " "AUTH PLAIN with a wrong key: 535"
swaks_run --auth LOGIN --auth-user ignored --auth-password "wrong-${key:6}"
like "$(auth_reply)" "^535 5\.7\.8 " "AUTH LOGIN with a wrong key: 535"
swaks_run --auth CRAM-MD5 --auth-user acme/mail --auth-password "wrong-${key:6}"
like "$(auth_reply)" "^535 5\.7\.8 " "AUTH CRAM-MD5 with a wrong key: 535"
auth_plain "$key"
like "$(auth_reply)" "^535 5\.7\.8 .*Too many failed logins" \
	"after auth_failure_limit (3) failures even the right key is refused"
contains "$(cat "$log")" "client 127.0.0.1: 3 failed logins within 3 s; refusing" "policyd logs the block"
sleep 4
auth_plain "$key"
is "$(auth_reply)" "235 2.7.0 Authentication successful" "once auth_failure_window has passed the right key works again"

# ---------------------------------------------------------------- relay policy

swaks_run
like "$(rcpt_reply someone@example.net)" "^554 5\.7\.1 .*Relay access denied" \
	"an unauthenticated client may not relay"
# The SMTP-IP lookup is kept for milter.cache_ttl (1 s here, whole seconds: up to 2), found or not, as the milter keeps
# it: a change counts once that has passed.
ip_cred=$("$mkcred" -c "$HARNESS_CONFIG" "$server_id" SMTP-IP loopback 127.0.0.1)
sleep 2.1
swaks_run
is "$(rcpt_reply someone@example.net)" "250 2.1.5 Ok" "with an SMTP-IP credential for 127.0.0.1 it may (after milter.cache_ttl)"
harness_sql "DELETE FROM credentials WHERE id = $ip_cred"
sleep 2.1
swaks_run
like "$(rcpt_reply someone@example.net)" "^554 5\.7\.1 .*Relay access denied" \
	"with that credential deleted it may not any more"

read -r gone_id gone_key <<<"$("$mkcred" -c "$HARNESS_CONFIG" "$server_id" SMTP doomed)"
like "$(session_auth_sql_rcpt "$gone_key" "DELETE FROM credentials WHERE id = $gone_id")" \
	"^554 5\.7\.8 .*Credential no longer valid" "a credential deleted after the login may not relay"

write_config 2
policyd_reload || true
swaks_run --auth PLAIN --auth-user ignored --auth-password "$key" --to r1@example.net,r2@example.net,r3@example.net
is "$(rcpt_reply r2@example.net)" "250 2.1.5 Ok" "rate_limit = 2 (after SIGHUP): the second recipient is accepted"
like "$(rcpt_reply r3@example.net)" "^450 4\.7\.1 .*Rate limit reached" "the third recipient in the window is deferred"
write_config 0
policyd_reload || true

like "$(session_auth_sql_rcpt "$key" "UPDATE servers SET suspended_at = NOW(6) WHERE id = $server_id")" \
	"^554 5\.7\.1 .*Mail server suspended" "a server suspended after the login may not relay"
auth_plain "$key"
like "$(auth_reply)" "^535 5\.7\.8 .*server suspended" "a suspended server's credential cannot log in"
harness_sql "UPDATE servers SET suspended_at = NULL WHERE id = $server_id"

# ---------------------------------------------------------------- MariaDB down

instance_mariadb_stop "$HARNESS_DIR/mariadb"
auth_plain "$key"
like "$(auth_reply)" "^454 4\.7\.0 " "MariaDB stopped: AUTH answers 454 (try later), not 535"
contains "$(policy_request 127.0.0.1 "$identity" | sock_talk "$policy_sock")" \
	"action=DEFER_IF_PERMIT 4.3.0 Temporary lookup failure" "MariaDB stopped: a logged-in client is deferred"
contains "$(policy_request 192.0.2.7 | sock_talk "$policy_sock")" "action=DEFER 4.3.0 Temporary lookup failure" \
	"MariaDB stopped: a client without login is deferred, never permitted"
instance_mariadb_start "$HARNESS_DIR/mariadb" || true
auth_plain "$key"
is "$(auth_reply)" "235 2.7.0 Authentication successful" "MariaDB back: AUTH works again"

# ---------------------------------------------------------------- malformed input

printf 'VERSION\t1\t0\ngar\0bage\tAUTH\n' | sock_talk "$auth_sock" >/dev/null
contains "$(cat "$log")" "NUL byte in a protocol line; closing" "a NUL byte on the auth socket is logged"
{ printf '%s' "$sasl_hello"; head -c 20480 /dev/zero | tr '\0' A; printf '\n'; } | sock_talk "$auth_sock" >/dev/null
contains "$(cat "$log")" "line longer than 8192 bytes; closing" "a 20 KB line on the auth socket is logged"
out=$(printf '%sAUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.9\tresp=a!b=c\n' "$sasl_hello" |
	sock_talk "$auth_sock")
contains "$out" $'FAIL\t7\treason=Invalid base64 data in initial response' "AUTH with invalid base64 fails cleanly"
out=$({ for i in $(seq 1 200); do printf 'x%d=%d\n' "$i" "$i"; done; printf '\n'; } | sock_talk "$policy_sock")
is "$out" "" "a policy request of 200 attributes gets no answer"
contains "$(cat "$log")" "more than 100 attributes in a request; closing" "and is logged"
printf 'this is not a policy request\n\n' | sock_talk "$policy_sock" >/dev/null
contains "$(policy_request 192.0.2.7 | sock_talk "$policy_sock")" "action=DUNNO" \
	"after all that the policy socket still answers a valid request"
out=$(printf '%sAUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.10\tresp=%s\n' "$sasl_hello" \
	"$(printf '\0ignored\0%s' "$key" | base64 -w0)" | sock_talk "$auth_sock")
contains "$out" $'OK\t1\tuser='"$identity" "and the auth socket a valid login"
ok "$(instance_pid_alive "$policyd_pid" && echo 0 || echo 1)" "postgate-policyd is still running"

# ---------------------------------------------------------------- shutdown

read -r last_id last_key <<<"$("$mkcred" -c "$HARNESS_CONFIG" "$server_id" SMTP last)"
auth_plain "$last_key"
is "$(auth_reply)" "235 2.7.0 Authentication successful" "a fresh credential logs in"
policyd_stop
is "$policyd_status" 0 "SIGTERM: postgate-policyd exits 0"
isnt "$(harness_sql "SELECT IFNULL(last_used_at, 'never') FROM credentials WHERE id = $last_id")" never \
	"the login's last_used_at is written at shutdown"

# ---------------------------------------------------------------- max_clients

write_config 0 1
policyd_start || true
perl -MIO::Socket::UNIX -e 'my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!\n"; sleep 3' \
	"$policy_sock" &
holder=$!
sleep 0.5
is "$(policy_request 192.0.2.7 | sock_talk "$policy_sock")" "" \
	"max_clients = 1: a second connection is closed unanswered while the first is open"
contains "$(cat "$log")" "1 connections already served (policyd.max_clients); closing a new one" "and that is logged"
wait "$holder" || true
contains "$(policy_request 192.0.2.7 | sock_talk "$policy_sock")" "action=DUNNO" "once the first is gone it is served"
policyd_stop
is "$policyd_status" 0 "postgate-policyd exits 0 again"

done_testing
