# shellcheck shell=bash
#
# harness.sh -- TAP helpers and real-component set-up for postgate's integration tests.
#
# Sourced by every tests/integration/*.t script. Sourcing defines the TAP helpers
# (plan, done_testing, ok, is, isnt, like, unlike, contains, diag, note, skip_all)
# and installs an EXIT/INT/TERM trap that checks the plan and cleans up.
# harness_setup [mariadb] [sink] [postfix] (all three by default) starts private
# instances through packaging/lib/instance.sh under a fresh temp dir and writes the
# postgate config file (`galera` in place of `mariadb`: a three-node Galera cluster, the
# config pointing at node 1; harness_start_host then adds whole postgate hosts):
#   HARNESS_DIR, HARNESS_CONFIG, POSTGATE_SRCDIR, POSTGATE_BUILDDIR, and the
#   INSTANCE_* variables of instance.sh (INSTANCE_DB_SOCKET, INSTANCE_SMTP_PORT, ...).
# Helpers: harness_sql SQL [DB] (as the postgate user), harness_root_sql SQL,
# harness_write_config FILE [DB_NAME], harness_wait_for TIMEOUT CMD...
# Programs are found under $POSTGATE_BUILDDIR, sources under $POSTGATE_SRCDIR
# (both default to the source tree this file is in).
#
# Must never: use the system's MariaDB or Postfix, leave a process running after
# the test (cleanup stops everything by pid and checks), or turn a missing
# requirement into a silent pass (it prints "1..0 # SKIP" loudly; CI counts skips
# as failures, so every requirement is installable with packaging/install-deps).
# Set POSTGATE_KEEP_TMP=1 to keep the temp dir for a post-mortem.

HARNESS_SRCDIR_DEFAULT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export POSTGATE_SRCDIR=${POSTGATE_SRCDIR:-$HARNESS_SRCDIR_DEFAULT}
export POSTGATE_BUILDDIR=${POSTGATE_BUILDDIR:-$POSTGATE_SRCDIR}

# shellcheck source-path=SCRIPTDIR/../.. source=packaging/lib/instance.sh
. "$POSTGATE_SRCDIR/packaging/lib/instance.sh"

HARNESS_RUN=0        # assertions so far
HARNESS_FAILED=0     # failed assertions
HARNESS_PLANNED=""   # number from plan, or "" when none printed yet
HARNESS_DIR=""
HARNESS_STARTED=()   # components started, in start order
HARNESS_CLEANED=""

# ---------------------------------------------------------------- TAP

diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line" >&2
	done <<<"$*"
}

note() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

plan() {
	HARNESS_PLANNED=$1
	printf '1..%s\n' "$1"
}

done_testing() {
	[ -n "$HARNESS_PLANNED" ] || plan "$HARNESS_RUN"
}

# Skip the whole file. Only for a requirement that packaging/install-deps provides.
skip_all() {
	printf '1..0 # SKIP %s\n' "$*"
	printf '#\n# SKIPPED: %s\n#\n' "$*" >&2
	HARNESS_PLANNED=0
	exit 0
}

# Print one TAP result line; PASS is 0 for a pass.
harness_result() {
	local pass=$1 name=${2:-}
	HARNESS_RUN=$((HARNESS_RUN + 1))
	if [ "$pass" = 0 ]; then
		printf 'ok %d - %s\n' "$HARNESS_RUN" "${name//#/\\#}"
		return 0
	fi
	printf 'not ok %d - %s\n' "$HARNESS_RUN" "${name//#/\\#}"
	diag "  Failed test '$name'"
	HARNESS_FAILED=$((HARNESS_FAILED + 1))
}

# ok STATUS NAME: passes when STATUS is 0 (an exit status).
ok() {
	harness_result "$([ "$1" = 0 ] && echo 0 || echo 1)" "${2:-}"
	[ "$1" = 0 ] || diag "  exit status $1"
	return 0
}

is() {
	local got=$1 expected=$2
	[ "$got" = "$expected" ] && { harness_result 0 "${3:-}"; return 0; }
	harness_result 1 "${3:-}"
	diag "         got: '$got'"
	diag "    expected: '$expected'"
}

isnt() {
	local got=$1 unexpected=$2
	[ "$got" != "$unexpected" ] && { harness_result 0 "${3:-}"; return 0; }
	harness_result 1 "${3:-}"
	diag "         got: '$got'"
	diag "    expected: anything else"
}

# like GOT REGEX NAME: bash extended regular expression.
like() {
	local got=$1 regex=$2
	[[ $got =~ $regex ]] && { harness_result 0 "${3:-}"; return 0; }
	harness_result 1 "${3:-}"
	diag "                  '$got'"
	diag "    doesn't match '$regex'"
}

unlike() {
	local got=$1 regex=$2
	[[ $got =~ $regex ]] || { harness_result 0 "${3:-}"; return 0; }
	harness_result 1 "${3:-}"
	diag "                  '$got'"
	diag "          matches '$regex'"
}

# contains GOT SUBSTRING NAME: literal substring (no regex metacharacters).
contains() {
	local got=$1 needle=$2
	[[ $got == *"$needle"* ]] && { harness_result 0 "${3:-}"; return 0; }
	harness_result 1 "${3:-}"
	diag "                  '$got'"
	diag "    does not contain '$needle'"
}

# ---------------------------------------------------------------- set-up

# Every tool the harness uses, with the install-deps set that provides it.
harness_require() {
	local missing=() tool
	[ "$(id -u)" = 0 ] ||
		skip_all "integration tests run as root (they start private MariaDB and Postfix instances)"
	for tool in mariadbd mariadb-install-db mariadb mariadb-admin postfix postconf \
		smtp-sink swaks ss ps runuser setsid timeout realpath; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
	done
	[ ${#missing[@]} -eq 0 ] ||
		skip_all "missing ${missing[*]}: run 'packaging/install-deps runtime test' as root"
	if ! id mysql >/dev/null 2>&1 || ! id postfix >/dev/null 2>&1; then
		skip_all "users mysql and postfix missing: run 'packaging/install-deps runtime test' as root"
	fi
}

# A failed set-up is a failed test, never a skip.
harness_setup_failed() {
	ok 1 "harness set-up: $*"
	exit 1
}

harness_start_mariadb() {
	HARNESS_STARTED+=(mariadb)
	instance_mariadb_start "$HARNESS_DIR/mariadb" || harness_setup_failed "MariaDB did not start"
}

# harness_start_galera: a three-node MariaDB Galera cluster (instance_galera_start) in
# $HARNESS_DIR/galera; INSTANCE_DB_SOCKET is node 1's, INSTANCE_GALERA_SOCKETS all three.
# Skips the file when galera-4 or rsync (its state transfer) is missing.
harness_start_galera() {
	[ -r "$INSTANCE_GALERA_PROVIDER" ] ||
		skip_all "$INSTANCE_GALERA_PROVIDER missing: run 'packaging/install-deps test' as root (galera-4)"
	command -v rsync >/dev/null 2>&1 || skip_all "rsync missing: run 'packaging/install-deps test' as root"
	HARNESS_STARTED+=(galera)
	instance_galera_start "$HARNESS_DIR/galera" || harness_setup_failed "the Galera cluster did not start"
	export HARNESS_GALERA_DIR="$HARNESS_DIR/galera"
}

harness_start_sink() {
	local port
	port=$(instance_free_port) || harness_setup_failed "no free port for smtp-sink"
	HARNESS_STARTED+=(sink)
	instance_sink_start "$HARNESS_DIR/sink" "$port" || harness_setup_failed "smtp-sink did not start"
}

harness_start_spamd() {
	local port
	port=$(instance_free_port "${INSTANCE_SINK_PORT:-0}" "${INSTANCE_SMTP_PORT:-0}") ||
		harness_setup_failed "no free port for spamd"
	HARNESS_STARTED+=(spamd)
	instance_spamd_start "$HARNESS_DIR/spamd" "$port" || harness_setup_failed "spamd did not start"
}

# clamd with one signature: the EICAR test string, as Postgate-Test-EICAR (the test
# writes its own database; nothing is downloaded).
harness_start_clamd() {
	local eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
	mkdir -p "$HARNESS_DIR/clamd/db"
	printf 'Postgate-Test-EICAR:0:*:%s\n' "$(printf '%s' "$eicar" | od -An -v -tx1 | tr -d ' \n')" \
		>"$HARNESS_DIR/clamd/db/postgate-test.ndb"
	HARNESS_STARTED+=(clamd)
	instance_clamd_start "$HARNESS_DIR/clamd" "${HARNESS_CLAMD_STREAM_MAX:-10M}" ||
		harness_setup_failed "clamd did not start"
}

harness_start_postfix() {
	local port
	[ -n "${INSTANCE_SINK_PORT:-}" ] || harness_setup_failed "Postfix needs the sink: list sink before postfix"
	port=$(instance_free_port "$INSTANCE_SINK_PORT") || harness_setup_failed "no free port for Postfix"
	instance_postfix_setup "$HARNESS_DIR/postfix" "$port" "$INSTANCE_SINK_PORT" ||
		harness_setup_failed "Postfix set-up failed"
	HARNESS_STARTED+=(postfix)
	instance_postfix_start "$HARNESS_DIR/postfix" || harness_setup_failed "Postfix did not start"
}

# harness_write_config FILE [DB_NAME]: a postgate config for the harness's MariaDB.
harness_write_config() {
	instance_write_postgate_config "$1" "$POSTGATE_SRCDIR/schema" "${2:-}"
}

# harness_monitor_ports: every daemon's /health and /metrics on a free loopback port of
# its own (POSTGATE_<DAEMON>_MONITOR_LISTEN, which wins over the file), exported as
# HARNESS_MONITOR_<DAEMON> (the port), so tests can scrape them and parallel instances
# never share one.
harness_monitor_ports() {
	local d port used=()
	for d in milter policyd worker tracker admin; do
		port=$(instance_free_port "${INSTANCE_SINK_PORT:-0}" "${INSTANCE_SMTP_PORT:-0}" "${used[@]}") ||
			harness_setup_failed "no free port for the $d monitor"
		used+=("$port")
		export "HARNESS_MONITOR_${d^^}=$port" "POSTGATE_${d^^}_MONITOR_LISTEN=inet:127.0.0.1:$port"
	done
}

harness_setup() {
	local component
	harness_require
	[ $# -gt 0 ] || set -- mariadb sink postfix
	HARNESS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postgate-test.XXXXXX") ||
		harness_setup_failed "mktemp failed"
	chmod 755 "$HARNESS_DIR"
	export HARNESS_DIR INSTANCE_PORTS_FILE="$HARNESS_DIR/ports"
	for component in "$@"; do
		case $component in
		mariadb) harness_start_mariadb ;;
		galera) harness_start_galera ;;
		sink) harness_start_sink ;;
		postfix) harness_start_postfix ;;
		spamd) harness_start_spamd ;;
		clamd) harness_start_clamd ;;
		*) harness_setup_failed "unknown component '$component'" ;;
		esac
	done
	harness_monitor_ports
	if [ -n "${INSTANCE_DB_SOCKET:-}" ]; then
		export HARNESS_CONFIG="$HARNESS_DIR/postgate.conf"
		harness_write_config "$HARNESS_CONFIG" || harness_setup_failed "cannot write $HARNESS_CONFIG"
	fi
}

# harness_start_postgate: the database initialized, postgate-milter and postgate-policyd
# running beside the private Postfix, and that Postfix wired to them by
# `postgatectl postfix enable`. Needs mariadb, sink and postfix started first.
# Exports HARNESS_CTL (postgatectl with the config), HARNESS_QUEUE_DIR, HARNESS_RELEASE_PORT,
# HARNESS_INJECTION_PORT, HARNESS_FORWARD_PORT, HARNESS_SIEVE_SMTP_PORT (postfix.dovecot_address).
harness_start_postgate() {
	local out
	[ -n "${INSTANCE_POSTFIX_CONFIG_DIR:-}" ] || harness_setup_failed "start postfix before postgate"
	HARNESS_RELEASE_PORT=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT") ||
		harness_setup_failed "no free port for the release service"
	HARNESS_INJECTION_PORT=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT" "$HARNESS_RELEASE_PORT") ||
		harness_setup_failed "no free port for the injection service"
	HARNESS_FORWARD_PORT=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT" "$HARNESS_RELEASE_PORT" \
		"$HARNESS_INJECTION_PORT") || harness_setup_failed "no free port for the forward service"
	HARNESS_SIEVE_SMTP_PORT=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT" "$HARNESS_RELEASE_PORT" \
		"$HARNESS_INJECTION_PORT" "$HARNESS_FORWARD_PORT" ${INSTANCE_LMTP_PORT:+"$INSTANCE_LMTP_PORT"} \
		${INSTANCE_IMAP_PORT:+"$INSTANCE_IMAP_PORT"} ${INSTANCE_POP3_PORT:+"$INSTANCE_POP3_PORT"} \
		${INSTANCE_SIEVE_PORT:+"$INSTANCE_SIEVE_PORT"}) || harness_setup_failed "no free port for the Dovecot service"
	HARNESS_QUEUE_DIR=$(postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" -h queue_directory)
	HARNESS_CTL="$POSTGATE_BUILDDIR/ctl/postgatectl -c $HARNESS_CONFIG"
	export HARNESS_RELEASE_PORT HARNESS_INJECTION_PORT HARNESS_FORWARD_PORT HARNESS_SIEVE_SMTP_PORT HARNESS_QUEUE_DIR \
		HARNESS_CTL
	instance_postgate_config "$HARNESS_CONFIG" "$HARNESS_DIR/postfix" "$HARNESS_RELEASE_PORT" "$HARNESS_INJECTION_PORT" \
		"$HARNESS_FORWARD_PORT" "$HARNESS_SIEVE_SMTP_PORT" ||
		harness_setup_failed "cannot write the daemons' configuration"
	out=$($HARNESS_CTL initialize 2>&1) || harness_setup_failed "postgatectl initialize: $out"
	HARNESS_STARTED+=(postgate)
	instance_postgate_start "$HARNESS_DIR" policyd "$POSTGATE_BUILDDIR/policyd/postgate-policyd" \
		"$HARNESS_CONFIG" "$HARNESS_QUEUE_DIR/postgate/auth" || harness_setup_failed "postgate-policyd did not start"
	instance_postgate_start "$HARNESS_DIR" milter "$POSTGATE_BUILDDIR/milter/postgate-milter" \
		"$HARNESS_CONFIG" "$HARNESS_QUEUE_DIR/postgate/milter" || harness_setup_failed "postgate-milter did not start"
	out=$($HARNESS_CTL postfix enable --reload 2>&1) || harness_setup_failed "postgatectl postfix enable: $out"
	instance_wait_port "$HARNESS_RELEASE_PORT" 30 || harness_setup_failed "the release service did not answer"
	instance_wait_port "$HARNESS_INJECTION_PORT" 30 || harness_setup_failed "the injection service did not answer"
	instance_wait_port "$HARNESS_FORWARD_PORT" 30 || harness_setup_failed "the forward service did not answer"
	instance_wait_port "$HARNESS_SIEVE_SMTP_PORT" 30 || harness_setup_failed "Postfix's service for Dovecot did not answer"
	instance_wait_port "$INSTANCE_SMTP_PORT" 30 || harness_setup_failed "Postfix did not answer after the reload"
}

# harness_start_host NAME NODE: one whole postgate host beside the harness's Galera
# cluster (harness_setup galera sink ...): a Postfix instance of its own in
# $HARNESS_DIR/NAME/postfix relaying to the shared sink, its own postgate-policyd,
# -milter and -worker whose config ($HARNESS_DIR/NAME/postgate.conf: the harness's
# config with the socket of Galera node NODE, 1-3) has every listener under that
# Postfix's queue directory, and that Postfix wired to them by `postgatectl postfix
# enable`. The database is initialized through this host (a no-op once done). Hosts
# share the secret keys beside $HARNESS_CONFIG, as hosts of one site must. Exports, with
# N the upper-case NAME: HARNESS_N_DIR, HARNESS_N_CONFIG, HARNESS_N_CTL, HARNESS_N_SMTP_PORT,
# HARNESS_N_MAILLOG; harness cleanup stops all of it.
harness_start_host() {
	local name=$1 node=$2 dir socket u
	[ -n "${INSTANCE_GALERA_SOCKETS:-}" ] || harness_setup_failed "harness_start_host needs harness_setup galera"
	[ -n "${INSTANCE_SINK_PORT:-}" ] || harness_setup_failed "harness_start_host needs the sink"
	socket=$(printf '%s\n' $INSTANCE_GALERA_SOCKETS | sed -n "${node}p")
	[ -S "$socket" ] || harness_setup_failed "host $name: Galera node $node has no socket"
	dir="$HARNESS_DIR/$name"
	u=${name^^}
	HARNESS_STARTED+=("host:$name")
	instance_postgate_host_start "$dir" "$HARNESS_CONFIG" "$socket" "$INSTANCE_SINK_PORT" "$POSTGATE_BUILDDIR" ||
		harness_setup_failed "host $name did not start"
	export "HARNESS_${u}_DIR=$dir" "HARNESS_${u}_CONFIG=$dir/postgate.conf" \
		"HARNESS_${u}_SMTP_PORT=$(instance_postfix_smtp_port "$dir/postfix")" \
		"HARNESS_${u}_CTL=$POSTGATE_BUILDDIR/ctl/postgatectl -c $dir/postgate.conf" \
		"HARNESS_${u}_MAILLOG=$dir/postfix/log/maillog"
}

# harness_browser SCRIPT CHECKS AFTER [NAME=VALUE...]: runs tests/browser/SCRIPT in Debian's
# headless Chromium (playwright-core) with the environment given (plus TMPDIR and
# SCREENSHOT_DIR), turns its PASS/FAIL lines into results ("browser: ..."), then checks
# that it ran to its DONE with exactly CHECKS checks. Returns 0 after a run. Where node,
# Chromium or playwright-core is missing it skips CHECKS + 1 + AFTER results (AFTER: the
# checks the caller makes after a run), saying why, and returns 1: the caller then makes
# none of its own.
harness_browser() {
	local script=$1 checks=$2 after=$3 dir="$POSTGATE_SRCDIR/tests/browser" why= out n=0 done_seen=0 kind name reason
	shift 3
	command -v node >/dev/null 2>&1 || why="node missing: run 'packaging/install-deps test' as root"
	[ -x /usr/bin/chromium ] || why="/usr/bin/chromium missing: run 'packaging/install-deps test' as root"
	[ -f "$dir/node_modules/playwright-core/package.json" ] ||
		why="playwright-core missing: run 'npm ci' in tests/browser (tests/run does)"
	if [ -n "$why" ]; then
		for _ in $(seq $((checks + 1 + after))); do
			HARNESS_RUN=$((HARNESS_RUN + 1))
			printf 'ok %d # SKIP %s\n' "$HARNESS_RUN" "$why"
		done
		return 1
	fi
	mkdir -p "$HARNESS_DIR/tmp"
	out=$(cd "$dir" && env TMPDIR="$HARNESS_DIR/tmp" SCREENSHOT_DIR="$POSTGATE_SRCDIR/tests/artifacts/screenshots" "$@" \
		timeout 300 node "$script" 2>&1) || diag "$script exited with $?"
	while IFS=$'\t' read -r kind name reason; do
		case $kind in
		PASS) harness_result 0 "browser: $name"; n=$((n + 1)) ;;
		FAIL) harness_result 1 "browser: $name"; diag "  $reason"; n=$((n + 1)) ;;
		DONE) done_seen=1 ;;
		'') ;;
		*) diag "$kind $name $reason" ;;
		esac
	done <<<"$out"
	is "$n:$done_seen" "$checks:1" "the browser scenario ($script) ran to its end with its $checks checks"
	return 0
}

# harness_dovecot_prepare: ports for a private Dovecot and the dovecot section of the
# postgate config (its LMTP listener, a mail directory in the test dir owned by nobody, the
# harness's MariaDB through its socket). Call it before harness_start_postgate, so that
# `postfix enable` points virtual_transport at that LMTP port. Only tests that need Dovecot
# call it.
harness_dovecot_prepare() {
	local lmtp imap pop3 sieve
	command -v dovecot >/dev/null 2>&1 ||
		skip_all "dovecot missing: run 'packaging/install-deps runtime' as root"
	lmtp=$(instance_free_port "${INSTANCE_SINK_PORT:-0}" "${INSTANCE_SMTP_PORT:-0}") ||
		harness_setup_failed "no free port for Dovecot's LMTP"
	imap=$(instance_free_port "${INSTANCE_SINK_PORT:-0}" "${INSTANCE_SMTP_PORT:-0}" "$lmtp") ||
		harness_setup_failed "no free port for Dovecot's IMAP"
	pop3=$(instance_free_port "${INSTANCE_SINK_PORT:-0}" "${INSTANCE_SMTP_PORT:-0}" "$lmtp" "$imap") ||
		harness_setup_failed "no free port for Dovecot's POP3"
	sieve=$(instance_free_port "${INSTANCE_SINK_PORT:-0}" "${INSTANCE_SMTP_PORT:-0}" "$lmtp" "$imap" "$pop3") ||
		harness_setup_failed "no free port for Dovecot's ManageSieve"
	instance_dovecot_setup "$HARNESS_DIR/dovecot" "$lmtp" "$imap" "$pop3" "$sieve" ||
		harness_setup_failed "Dovecot set-up failed"
	mkdir -p "$HARNESS_DIR/vmail" && chown nobody:nogroup "$HARNESS_DIR/vmail" ||
		harness_setup_failed "cannot make $HARNESS_DIR/vmail"
	cat >>"$HARNESS_CONFIG" <<-EOF
		dovecot: {
		  config_directory = "$INSTANCE_DOVECOT_CONFIG_DIR";
		  lmtp_listen = "inet:127.0.0.1:$lmtp";
		  mail_directory = "$HARNESS_DIR/vmail";
		  mail_user = "nobody";
		};
	EOF
}

# harness_start_dovecot: `postgatectl dovecot enable` on the private Dovecot's configuration
# directory, then Dovecot itself. Needs harness_dovecot_prepare and harness_start_postgate
# first. Exports HARNESS_DOVECOT_DIR; harness cleanup stops it.
harness_start_dovecot() {
	local out
	out=$($HARNESS_CTL dovecot enable -c "$INSTANCE_DOVECOT_CONFIG_DIR" 2>&1) ||
		harness_setup_failed "postgatectl dovecot enable: $out"
	HARNESS_STARTED+=(dovecot)
	HARNESS_DOVECOT_DIR="$HARNESS_DIR/dovecot"
	export HARNESS_DOVECOT_DIR
	instance_dovecot_start "$HARNESS_DOVECOT_DIR" || harness_setup_failed "Dovecot did not start"
}

# harness_start_sysmail: postgate's own mail (sysmail.*) through the private Postfix: the
# system mailer runs packaging/lib/sendmail-smtp.py instead of Postfix's sendmail (its
# header says why), which hands the message to a loopback smtpd of the private Postfix
# that, like pickup, takes local mail past the relay rules with the non_smtpd_milters
# (instance_sysmail_service). Needs postfix and harness_start_postgate; call before the
# daemon that mails. Exports SENDMAIL_LOG (one JSON line of arguments per run),
# SENDMAIL_FAIL (a file that, while it exists, makes the stand-in fail as sendmail does
# when the queue cannot be written), SENDMAIL_SMTP_PORT and POSTGATE_SYSMAIL_SENDMAIL_PATH,
# POSTGATE_SYSMAIL_FROM.
harness_start_sysmail() {
	local port
	port=$(instance_free_port "$INSTANCE_SINK_PORT" "$INSTANCE_SMTP_PORT" "$HARNESS_RELEASE_PORT" \
		"$HARNESS_INJECTION_PORT" "$HARNESS_FORWARD_PORT" "$HARNESS_SIEVE_SMTP_PORT") ||
		harness_setup_failed "no free port for the system mailer's smtpd"
	instance_sysmail_service "$INSTANCE_POSTFIX_CONFIG_DIR" "$port" ||
		harness_setup_failed "the system mailer's smtpd did not start"
	mkdir -p "$HARNESS_DIR/sysmail" && chmod 777 "$HARNESS_DIR/sysmail"
	export SENDMAIL_LOG="$HARNESS_DIR/sysmail/args.jsonl" SENDMAIL_FAIL="$HARNESS_DIR/sysmail/fail"
	export SENDMAIL_SMTP_PORT=$port POSTGATE_SYSMAIL_SENDMAIL_PATH="$POSTGATE_SRCDIR/packaging/lib/sendmail-smtp.py"
	export POSTGATE_SYSMAIL_FROM=postgate@postgate.test
}

# harness_start_webmail: Debian's Roundcube on a free loopback port (instance.sh) against the
# private Dovecot's IMAP and ManageSieve and the private Postfix's SMTP port (the mailbox
# user's AUTH); after harness_start_admin, its password plugin changes passwords there.
# Needs harness_start_dovecot. Exports HARNESS_WEBMAIL_URL.
harness_start_webmail() {
	local port admin=${HARNESS_ADMIN_URL:-:0}
	[ -f /usr/share/roundcube/index.php ] && command -v php >/dev/null 2>&1 ||
		skip_all "Roundcube missing: run 'packaging/install-deps test' as root"
	port=$(instance_free_port "${INSTANCE_SINK_PORT:-0}" "${INSTANCE_SMTP_PORT:-0}" "${INSTANCE_IMAP_PORT:-0}" \
		"${INSTANCE_SIEVE_PORT:-0}" "${admin##*:}") || harness_setup_failed "no free port for Roundcube"
	HARNESS_STARTED+=(webmail)
	instance_roundcube_start "$HARNESS_DIR/roundcube" "$port" "$INSTANCE_IMAP_PORT" "$INSTANCE_SMTP_PORT" \
		"$INSTANCE_SIEVE_PORT" ${HARNESS_ADMIN_URL:+"$HARNESS_ADMIN_URL"} || harness_setup_failed "Roundcube did not start"
	HARNESS_WEBMAIL_URL=$INSTANCE_WEBMAIL_URL
	export HARNESS_WEBMAIL_URL
}

# harness_start_dns ARGS...: dnsmasq on a free loopback port, answering only from its
# command line (--txt-record=NAME,TEXT, --host-record=NAME,ADDR, --local=/DOMAIN/; no
# resolv.conf, no hosts, no upstream), and POSTGATE_DNS_RESOLVER exported so that the
# daemons started afterwards look names up there (dns.resolver): call it before
# harness_start_postgate. Exports HARNESS_DNS_PORT; stopped with everything else.
harness_start_dns() {
	command -v dnsmasq >/dev/null 2>&1 || skip_all "dnsmasq missing: run 'packaging/install-deps test' as root"
	HARNESS_DNS_PORT=$(instance_free_port "${INSTANCE_SINK_PORT:-0}" "${INSTANCE_SMTP_PORT:-0}") ||
		harness_setup_failed "no free port for dnsmasq"
	HARNESS_STARTED+=(dns)
	instance_dns_start "$HARNESS_DIR" "$HARNESS_DNS_PORT" "$@" || harness_setup_failed "dnsmasq did not start"
	export HARNESS_DNS_PORT POSTGATE_DNS_RESOLVER="$INSTANCE_DNS_RESOLVER"
}

# harness_start_admin: postgate-admin on a free loopback port (loopback is its trusted
# proxy, so tests may set X-Forwarded-For), serving the web UI from $HARNESS_WWW_DIR
# (default: the source tree's admin/www). Exports HARNESS_ADMIN_URL, HARNESS_ADMIN_PID
# and HARNESS_ADMIN_LOG; harness cleanup stops it.
harness_start_admin() {
	local port
	port=$(instance_free_port "${INSTANCE_SINK_PORT:-0}" "${INSTANCE_SMTP_PORT:-0}" "${HARNESS_RELEASE_PORT:-0}" \
		"${HARNESS_INJECTION_PORT:-0}") || harness_setup_failed "no free port for postgate-admin"
	HARNESS_ADMIN_URL="http://127.0.0.1:$port"
	HARNESS_ADMIN_LOG="$HARNESS_DIR/admin.log"
	# One admin section only: when the config already has one, the environment overrides it.
	if grep -q '^[[:space:]]*admin[[:space:]]*:' "$HARNESS_CONFIG"; then
		export POSTGATE_ADMIN_LISTEN="inet:127.0.0.1:$port"
	else
		printf 'admin: { listen = "inet:127.0.0.1:%s"; threads = 4; };\n' "$port" >>"$HARNESS_CONFIG"
	fi
	HARNESS_STARTED+=(admin)
	# The send API caches for 1 s here, as the milter does (milter.cache_ttl).
	instance_spawn "$HARNESS_DIR/admin.pid" "$HARNESS_ADMIN_LOG" env POSTGATE_ADMIN_TRUSTED_PROXIES=127.0.0.0/8 \
		POSTGATE_ADMIN_CACHE_TTL=1 \
		POSTGATE_ADMIN_WWW_DIR="${HARNESS_WWW_DIR:-$POSTGATE_SRCDIR/admin/www}" \
		"$POSTGATE_BUILDDIR/admin/postgate-admin" -c "$HARNESS_CONFIG" ||
		harness_setup_failed "postgate-admin did not start"
	HARNESS_ADMIN_PID=$(instance_pidfile_read "$HARNESS_DIR/admin.pid")
	export HARNESS_ADMIN_URL HARNESS_ADMIN_PID HARNESS_ADMIN_LOG
	if ! harness_wait_for 20 harness_admin_healthy; then
		diag "$(tail -n 20 "$HARNESS_ADMIN_LOG")"
		harness_setup_failed "postgate-admin did not answer"
	fi
}
# harness_start_worker: postgate-worker with the harness configuration (it reads the private
# Postfix's maillog). Exports HARNESS_WORKER_PID and HARNESS_WORKER_LOG; harness cleanup
# stops it.
harness_start_worker() {
	HARNESS_WORKER_LOG="$HARNESS_DIR/worker.log"
	HARNESS_STARTED+=(worker)
	instance_spawn "$HARNESS_DIR/worker.pid" "$HARNESS_WORKER_LOG" \
		"$POSTGATE_BUILDDIR/worker/postgate-worker" -c "$HARNESS_CONFIG" ||
		harness_setup_failed "postgate-worker did not start"
	HARNESS_WORKER_PID=$(instance_pidfile_read "$HARNESS_DIR/worker.pid")
	export HARNESS_WORKER_PID HARNESS_WORKER_LOG
	if ! harness_wait_for 20 grep -q 'started on ' "$HARNESS_WORKER_LOG"; then
		diag "$(tail -n 20 "$HARNESS_WORKER_LOG")"
		harness_setup_failed "postgate-worker did not start its tasks"
	fi
}
# harness_start_tracker: postgate-tracker on a free loopback port, loopback as its trusted
# proxy, writing every 100 ms (HARNESS_TRACKER_FLUSH_MS), its spool in
# $HARNESS_DIR/tracker-spool, kept across restarts (HARNESS_TRACKER_SPOOL= turns it off).
# Exports HARNESS_TRACKER_URL, HARNESS_TRACKER_PID and HARNESS_TRACKER_LOG; harness
# cleanup stops it.
harness_start_tracker() {
	local port admin=${HARNESS_ADMIN_URL:-:0}
	port=$(instance_free_port "${INSTANCE_SINK_PORT:-0}" "${INSTANCE_SMTP_PORT:-0}" "${HARNESS_RELEASE_PORT:-0}" \
		"${HARNESS_INJECTION_PORT:-0}" "${admin##*:}") || harness_setup_failed "no free port for postgate-tracker"
	HARNESS_TRACKER_URL="http://127.0.0.1:$port"
	HARNESS_TRACKER_LOG="$HARNESS_DIR/tracker.log"
	HARNESS_STARTED+=(tracker)
	instance_spawn "$HARNESS_DIR/tracker.pid" "$HARNESS_TRACKER_LOG" env POSTGATE_TRACKER_LISTEN="inet:127.0.0.1:$port" \
		POSTGATE_TRACKER_TRUSTED_PROXIES=127.0.0.0/8 POSTGATE_TRACKER_FLUSH_INTERVAL_MS="${HARNESS_TRACKER_FLUSH_MS:-100}" \
		POSTGATE_TRACKER_SPOOL_DIRECTORY="${HARNESS_TRACKER_SPOOL-$HARNESS_DIR/tracker-spool}" \
		"$POSTGATE_BUILDDIR/tracker/postgate-tracker" -c "$HARNESS_CONFIG" ||
		harness_setup_failed "postgate-tracker did not start"
	HARNESS_TRACKER_PID=$(instance_pidfile_read "$HARNESS_DIR/tracker.pid")
	export HARNESS_TRACKER_URL HARNESS_TRACKER_PID HARNESS_TRACKER_LOG
	if ! harness_wait_for 20 harness_tracker_healthy; then
		diag "$(tail -n 20 "$HARNESS_TRACKER_LOG")"
		harness_setup_failed "postgate-tracker did not answer"
	fi
}

harness_tracker_healthy() {
	curl -s --max-time 2 -H 'X-Postal-Track-Host: 1' "$HARNESS_TRACKER_URL/" 2>/dev/null | grep -qx 'Hello.'
}

harness_admin_healthy() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$HARNESS_ADMIN_URL/health" 2>/dev/null | grep -qx 200
}

# Run CMD every 0.1 s until it succeeds, at most TIMEOUT seconds.
harness_wait_for() {
	instance_wait_until "$@"
}

# SQL as the postgate user against DB (default: the harness database); tab-separated.
harness_sql() {
	local db=${2:-$INSTANCE_DB_NAME}
	MYSQL_PWD=$INSTANCE_DB_PASSWORD mariadb --no-defaults --protocol=socket \
		-S "$INSTANCE_DB_SOCKET" -u "$INSTANCE_DB_USER" --batch --skip-column-names \
		-e "$1" "$db"
}

# harness_jv PATH <JSON: the value at the dotted PATH of the JSON on stdin (a string as
# it is, anything else as JSON).
harness_jv() {
	/usr/bin/python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[k]
print(json.dumps(v) if not isinstance(v, str) else v)' "$1"
}

# SQL as root (socket authentication).
harness_root_sql() {
	local dir="$HARNESS_DIR/mariadb"
	[ -d "$dir" ] || dir="$HARNESS_DIR/galera/node1"
	instance_mariadb_root "$dir" --batch --skip-column-names -e "$1"
}

# ---------------------------------------------------------------- clean-up

harness_dump_logs() {
	local file
	for file in "$HARNESS_DIR/mariadb/error.log" "$HARNESS_DIR/postfix/log/maillog" \
		"$HARNESS_DIR/sink/smtp-sink.log" "$HARNESS_DIR/milter.log" "$HARNESS_DIR/policyd.log" \
		"$HARNESS_DIR/admin.log" "$HARNESS_DIR/tracker.log" "$HARNESS_DIR/worker.log" \
		"$HARNESS_DIR/dovecot/log/dovecot.log" "$HARNESS_DIR"/galera/node?/error.log \
		"$HARNESS_DIR"/*/postfix/log/maillog "$HARNESS_DIR"/*/milter.log "$HARNESS_DIR"/*/policyd.log \
		"$HARNESS_DIR"/*/worker.log; do
		[ -s "$file" ] || continue
		diag "---- last 40 lines of $file ----"
		diag "$(tail -n 40 "$file")"
	done
}

harness_stop_all() {
	local i
	for ((i = ${#HARNESS_STARTED[@]} - 1; i >= 0; i--)); do
		case ${HARNESS_STARTED[i]} in
		postfix) instance_postfix_stop "$HARNESS_DIR/postfix" ;;
		dovecot) instance_dovecot_stop "$HARNESS_DIR/dovecot" ;;
		admin) instance_postgate_stop "$HARNESS_DIR" admin ;;
		worker) instance_postgate_stop "$HARNESS_DIR" worker ;;
		tracker) instance_postgate_stop "$HARNESS_DIR" tracker ;;
		postgate)
			instance_postgate_stop "$HARNESS_DIR" milter
			instance_postgate_stop "$HARNESS_DIR" policyd
			;;
		sink) instance_sink_stop "$HARNESS_DIR/sink" ;;
		spamd) instance_spamd_stop "$HARNESS_DIR/spamd" ;;
		clamd) instance_clamd_stop "$HARNESS_DIR/clamd" ;;
		dns) instance_dns_stop "$HARNESS_DIR" ;;
		webmail) instance_roundcube_stop "$HARNESS_DIR/roundcube" ;;
		oidc-provider) instance_postgate_stop "$HARNESS_DIR" oidc-provider ;;
		mariadb) instance_mariadb_stop "$HARNESS_DIR/mariadb" ;;
		galera) instance_galera_stop "$HARNESS_DIR/galera" ;;
		host:*) instance_postgate_host_stop "$HARNESS_DIR/${HARNESS_STARTED[i]#host:}" ;;
		esac
	done
}

# Pids of live processes whose command line mentions the harness dir: anything
# left after harness_stop_all (the Postfix master's children are checked by
# instance_postfix_stop through its process group).
harness_leftovers() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "$HARNESS_DIR/" || continue
		instance_pid_alive "$pid" && printf '%s\n' "$pid"
	done
}

harness_cleanup() {
	local leftovers pid
	[ -z "$HARNESS_CLEANED" ] || return 0
	HARNESS_CLEANED=1
	[ -n "$HARNESS_DIR" ] || return 0
	if [ "$1" != 0 ] || [ "$HARNESS_FAILED" != 0 ]; then
		harness_dump_logs
	fi
	harness_stop_all
	leftovers=$(harness_leftovers)
	if [ -n "$leftovers" ]; then
		diag "processes left behind by the test (killed now):"
		for pid in $leftovers; do
			diag "$(ps -o pid=,user=,args= -p "$pid")"
			instance_kill_pid "$pid" 5
		done
		HARNESS_FAILED=$((HARNESS_FAILED + 1))
	fi
	if [ "${POSTGATE_KEEP_TMP:-0}" = 1 ]; then
		diag "kept $HARNESS_DIR (POSTGATE_KEEP_TMP=1)"
	else
		rm -rf -- "$HARNESS_DIR"
	fi
}

harness_on_exit() {
	local rc=$1
	trap - EXIT INT TERM
	harness_cleanup "$rc"
	if [ -z "$HARNESS_PLANNED" ]; then
		# Died before its plan or forgot done_testing: record a failure and hand
		# prove a plan ("1..0" alone would read as a skip).
		harness_result 1 "the test script ran to its end (it stopped with status $rc, no plan printed)"
		printf '1..%s\n' "$HARNESS_RUN"
		[ "$rc" != 0 ] || rc=255
	elif [ "$HARNESS_PLANNED" != "$HARNESS_RUN" ]; then
		diag "Looks like you planned $HARNESS_PLANNED tests but ran $HARNESS_RUN."
		[ "$rc" != 0 ] || rc=255
	fi
	if [ "$rc" = 0 ] && [ "$HARNESS_FAILED" != 0 ]; then
		diag "Looks like you failed $HARNESS_FAILED test(s) of $HARNESS_RUN."
		rc=$((HARNESS_FAILED > 254 ? 254 : HARNESS_FAILED))
	fi
	exit "$rc"
}

harness_on_signal() {
	diag "interrupted by SIG$1"
	harness_on_exit "$2"
}

trap 'harness_on_exit $?' EXIT
trap 'harness_on_signal INT 130' INT
trap 'harness_on_signal TERM 143' TERM
