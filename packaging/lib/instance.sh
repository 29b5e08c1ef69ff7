# shellcheck shell=bash
#
# instance.sh -- run PRIVATE MariaDB, smtp-sink and Postfix instances on loopback.
#
# Sourced by tests/integration/harness.sh, packaging/demo and bench/. Every instance lives
# in a directory the caller names (data, sockets, pid files, logs), listens only on
# 127.0.0.1 or a unix socket, and is started and stopped by pid.
#
# Contract: sourcing this file defines functions and nothing else (no side effects,
# no `set` options). Functions report errors on stderr and return non-zero; they
# never exit the caller. Every wait is bounded (INSTANCE_TIMEOUT seconds, default 30).
#
# Must never: start, stop or touch the system's services or their data
# (/etc/postfix, /var/spool/postfix, /var/lib/mysql), kill a process it did not
# start (everything is stopped by a pid it recorded), or listen beyond loopback.
#
# Functions (exports in brackets):
#   instance_mariadb_start DIR   [INSTANCE_DB_SOCKET INSTANCE_DB_NAME INSTANCE_DB_USER
#                                 INSTANCE_DB_PASSWORD]
#   instance_mariadb_stop DIR
#   instance_mariadb_root DIR [mariadb args...]      run the client as root (unix_socket auth)
#   instance_galera_start DIR    3-node Galera cluster [as instance_mariadb_start, for node 1,
#                                 and INSTANCE_GALERA_SOCKETS]; node N's socket DIR/nodeN/mysqld.sock
#   instance_galera_stop DIR, instance_galera_kill DIR N (kill -9), instance_galera_rejoin DIR N,
#   instance_galera_synced DIR [SIZE], instance_galera_status DIR/nodeN VARIABLE
#   instance_sink_start DIR PORT  [INSTANCE_SINK_PORT INSTANCE_SINK_DIR]
#   instance_sink_stop DIR
#   instance_sink_find TEXT, instance_sink_count TEXT   messages the sink saved
#   instance_postfix_setup DIR SMTP_PORT SINK_PORT
#                                [INSTANCE_POSTFIX_CONFIG_DIR INSTANCE_SMTP_PORT INSTANCE_MAILLOG]
#   instance_postfix_start DIR, instance_postfix_stop DIR, instance_postfix_pid DIR
#   instance_write_postgate_config FILE MIGRATIONS_DIR [DB_NAME]
#   instance_dns_start DIR PORT DNSMASQ_ARGS... [INSTANCE_DNS_RESOLVER], instance_dns_stop DIR
#   instance_roundcube_start DIR PORT IMAP_PORT SMTP_PORT SIEVE_PORT [ADMIN_URL] [INSTANCE_WEBMAIL_URL],
#   instance_roundcube_stop DIR
#   instance_spamd_start DIR PORT [INSTANCE_SPAMD_ADDRESS], instance_spamd_stop DIR
#   instance_clamd_start DIR      [INSTANCE_CLAMD_ADDRESS], instance_clamd_stop DIR
#   instance_free_port [EXCLUDED_PORT...], instance_wait_port PORT [TIMEOUT [PID]]
#   instance_peak_rss DIR NAME...   peak resident memory of postgate daemons (benchmarks)
#   instance_postgate_host_start DIR CONFIG SOCKET SINK_PORT BUILDDIR, instance_postgate_host_stop DIR
#                                 a whole postgate host (Postfix, milter, policyd, worker)
#   instance_wait_until TIMEOUT CMD..., instance_pid_alive PID,
#   instance_pidfile_pid FILE COMM, instance_pidfile_alive FILE COMM

instance_error() {
	printf 'instance: %s\n' "$*" >&2
	return 1
}

# Print the last lines of a log file to stderr, indented, when it exists.
instance_log_tail() {
	local file=$1 lines=${2:-20}
	[ -s "$file" ] || return 0
	printf 'instance: last %s lines of %s:\n' "$lines" "$file" >&2
	tail -n "$lines" "$file" | sed 's/^/    /' >&2
}

# True when PID is a live process; a zombie (exited, not yet reaped) counts as dead.
instance_pid_alive() {
	local pid=$1 stat
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Print the pid stored in FILE (whitespace trimmed); fails when there is none.
instance_pidfile_read() {
	local file=$1 pid
	[ -r "$file" ] || return 1
	pid=$(tr -dc '0-9' <"$file")
	[ -n "$pid" ] || return 1
	printf '%s\n' "$pid"
}

# Print the pid in FILE when that process is alive and runs program COMM (as in
# /proc/PID/comm), so a stale pid file whose number was reused never makes us
# trust, or kill, somebody else's process.
instance_pidfile_pid() {
	local file=$1 comm=$2 pid
	pid=$(instance_pidfile_read "$file") || return 1
	instance_pid_alive "$pid" || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
	printf '%s\n' "$pid"
}

instance_pidfile_alive() {
	instance_pidfile_pid "$1" "$2" >/dev/null
}

# Run CMD every 0.1 s until it succeeds or TIMEOUT seconds pass.
instance_wait_until() {
	local timeout=$1 deadline
	shift
	deadline=$((SECONDS + timeout))
	while ! "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

instance_pid_gone() { ! instance_pid_alive "$1"; }

# Send SIGTERM to PID, wait, then SIGKILL if it is still alive. PID must be ours.
instance_kill_pid() {
	local pid=$1 timeout=${2:-${INSTANCE_TIMEOUT:-30}}
	instance_pid_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	instance_wait_until "$timeout" instance_pid_gone "$pid" && return 0
	instance_error "pid $pid ignored SIGTERM for ${timeout}s; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null
	instance_wait_until 5 instance_pid_gone "$pid" ||
		instance_error "pid $pid survived SIGKILL"
}

# True once PID has exec'd its command (it no longer runs as sh) or has exited.
instance_spawned() {
	! instance_pid_alive "$1" || [ "$(cat "/proc/$1/comm" 2>/dev/null)" != sh ]
}

# Start CMD in its own session, detached from the terminal, stdio to LOG, and
# write its pid to PIDFILE (the shell writes $$ and then execs CMD, so the pid is
# CMD's even when setsid has to fork). CMD must not itself be an sh script.
instance_spawn() {
	local pidfile=$1 log=$2 pid
	shift 2
	rm -f "$pidfile"
	# shellcheck disable=SC2016 # $$ and $0 belong to the inner sh
	setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$log" 2>&1 &
	instance_wait_until 5 test -s "$pidfile" ||
		{ instance_error "could not start $1 (no pid file $pidfile)"; return 1; }
	pid=$(instance_pidfile_read "$pidfile") || return 1
	instance_wait_until 5 instance_spawned "$pid"
}

# True when user USER can enter (and with a third argument "w", write) DIR.
instance_user_can() {
	local user=$1 dir=$2 mode=${3:-x}
	runuser -u "$user" -- test -x "$dir" -a -"$mode" "$dir" 2>/dev/null
}

instance_require_user_access() {
	local user=$1 dir=$2 mode=${3:-x}
	instance_user_can "$user" "$dir" "$mode" && return 0
	instance_error "user $user cannot $([ "$mode" = w ] && echo write || echo enter) $dir" \
		"(every parent directory must be searchable by others: chmod 755)"
}

# Absolute path of DIR (which need not exist yet).
instance_abspath() {
	realpath -m -- "$1"
}

instance_random_hex() {
	od -An -tx1 -N"${1:-16}" /dev/urandom | tr -d ' \n'
}

# A TCP port on loopback that nothing uses. Ports are drawn from 20000-32767, below
# Linux's ephemeral range (32768+), so an outgoing connection cannot take it later.
# With INSTANCE_PORTS_FILE set, a port handed out once is not handed out again (it may
# not be listening yet).
instance_free_port() {
	local used port try excluded
	used=" $(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); printf "%s ", a[n] }') " ||
		used=" "
	for try in $(seq 1 200); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
		[[ $used == *" $port "* ]] && continue
		for excluded in "$@"; do
			[ "$port" = "$excluded" ] && continue 2
		done
		# Ports handed out before but not listening yet (INSTANCE_PORTS_FILE, when set).
		if [ -n "${INSTANCE_PORTS_FILE:-}" ]; then
			[ -f "$INSTANCE_PORTS_FILE" ] && grep -qx "$port" "$INSTANCE_PORTS_FILE" && continue
			printf '%s\n' "$port" >>"$INSTANCE_PORTS_FILE"
		fi
		printf '%s\n' "$port"
		return 0
	done
	instance_error "no free TCP port found in 20000-32767 after $try tries"
}

# Fails, saying so, when something already listens on TCP PORT (any address).
instance_require_port_free() {
	[ -n "$1" ] || return 0
	[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
	instance_error "TCP port $1 is already in use: $(ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1)"
}

# True when 127.0.0.1:PORT accepts a connection and greets with 220.
instance_port_greets() {
	local port=$1
	(
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
		IFS= read -r -t 5 line <&3 || exit 1
		printf 'QUIT\r\n' >&3
		[[ $line == 220* ]]
	) 2>/dev/null
}

# Wait until 127.0.0.1:PORT answers 220; with PID, give up as soon as PID dies.
instance_wait_port() {
	local port=$1 timeout=${2:-${INSTANCE_TIMEOUT:-30}} pid=${3:-} deadline
	deadline=$((SECONDS + timeout))
	until instance_port_greets "$port"; do
		if [ -n "$pid" ] && ! instance_pid_alive "$pid"; then
			instance_error "process $pid died before 127.0.0.1:$port answered"
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			instance_error "127.0.0.1:$port did not answer 220 within ${timeout}s"
			return 1
		fi
		sleep 0.1
	done
}

# ---------------------------------------------------------------- Dovecot

# instance_dovecot_setup DIR LMTP_PORT IMAP_PORT POP3_PORT SIEVE_PORT: a private Dovecot 2.3
# in DIR (run as root like the private Postfix, its own base_dir, state_dir and log, LMTP,
# IMAP, POP3 and ManageSieve on loopback only, no TLS, plain-text logins allowed: loopback
# only). Its
# DIR/etc/dovecot.conf includes DIR/etc/conf.d/*.conf, where `postgatectl dovecot enable
# -c DIR/etc` writes postgate's snippet; the LMTP listener is the snippet's
# (dovecot.lmtp_listen = inet:127.0.0.1:LMTP_PORT). Exports INSTANCE_DOVECOT_CONFIG_DIR,
# INSTANCE_LMTP_PORT, INSTANCE_IMAP_PORT, INSTANCE_POP3_PORT, INSTANCE_SIEVE_PORT.
instance_dovecot_setup() {
	local dir
	[ $# -eq 5 ] || {
		instance_error "usage: instance_dovecot_setup DIR LMTP_PORT IMAP_PORT POP3_PORT SIEVE_PORT"
		return 1
	}
	command -v dovecot >/dev/null 2>&1 || { instance_error "dovecot missing: install dovecot-core"; return 1; }
	dir=$(instance_abspath "$1")
	mkdir -p "$dir/etc/conf.d" "$dir/run" "$dir/state" "$dir/log" && chmod 755 "$dir" "$dir/etc" "$dir/run" ||
		return 1
	cat >"$dir/etc/dovecot.conf" <<-EOF || return 1
		# A private Dovecot of postgate's tests and demo (packaging/lib/instance.sh).
		instance_name = postgate-$(basename "$(dirname "$dir")")
		base_dir = $dir/run
		state_dir = $dir/state
		log_path = $dir/log/dovecot.log
		protocols = imap pop3 lmtp sieve
		listen = 127.0.0.1
		ssl = no
		disable_plaintext_auth = no
		auth_mechanisms = plain login
		default_login_user = dovenull
		default_internal_user = dovecot
		default_internal_group = dovecot
		service imap-login {
		  inet_listener imap {
		    address = 127.0.0.1
		    port = $3
		  }
		  inet_listener imaps {
		    port = 0
		  }
		}
		service pop3-login {
		  inet_listener pop3 {
		    address = 127.0.0.1
		    port = $4
		  }
		  inet_listener pop3s {
		    port = 0
		  }
		}
		service managesieve-login {
		  inet_listener sieve {
		    address = 127.0.0.1
		    port = $5
		  }
		}
		!include_try conf.d/*.conf
	EOF
	export INSTANCE_DOVECOT_CONFIG_DIR="$dir/etc" INSTANCE_LMTP_PORT=$2 INSTANCE_IMAP_PORT=$3 INSTANCE_POP3_PORT=$4 \
		INSTANCE_SIEVE_PORT=$5
}

# instance_dovecot_start DIR: Dovecot in the foreground (its pid in DIR/dovecot.pid), ready
# when its LMTP port greets.
instance_dovecot_start() {
	local dir pid
	dir=$(instance_abspath "$1")
	if ! doveconf -c "$dir/etc/dovecot.conf" -n >"$dir/log/doveconf.out" 2>&1; then
		instance_log_tail "$dir/log/doveconf.out"
		instance_error "doveconf -c $dir/etc/dovecot.conf refused the configuration"
		return 1
	fi
	instance_spawn "$dir/dovecot.pid" "$dir/log/dovecot.out" dovecot -F -c "$dir/etc/dovecot.conf" || return 1
	pid=$(instance_pidfile_read "$dir/dovecot.pid") || return 1
	if ! instance_wait_port "$INSTANCE_LMTP_PORT" 30 "$pid"; then
		instance_log_tail "$dir/log/dovecot.log"
		return 1
	fi
}

instance_dovecot_reload() {
	doveadm -c "$(instance_abspath "$1")/etc/dovecot.conf" reload
}

instance_dovecot_stop() {
	local dir pid
	dir=$(instance_abspath "$1")
	pid=$(instance_pidfile_read "$dir/dovecot.pid") || return 0
	instance_kill_pid "$pid" 20
	rm -f "$dir/dovecot.pid"
}

# ---------------------------------------------------------------- Roundcube

# instance_roundcube_start DIR PORT IMAP_PORT SMTP_PORT SIEVE_PORT: Debian's Roundcube
# (roundcube-core, -sqlite3, -plugins) served by PHP's built-in web server on
# 127.0.0.1:PORT with four workers, as www-data, against the IMAP, SMTP submission (AUTH
# with the mailbox's own address and password) and ManageSieve of this host's loopback
# ports. With ADMIN_URL (postgate-admin's), the password plugin changes the mailbox's
# password there (POST /api/v2/mailbox/password, proven by the current one). Its
# configuration, SQLite database, logs and temporary files live in DIR
# (ROUNDCUBE_CONFIG_DIR); /etc/roundcube is neither read nor touched. A production host
# serves the same package through its own web server (doc/manual.md, "Webmail").
# Exports INSTANCE_WEBMAIL_URL.
instance_roundcube_start() {
	local dir port pid key admin=${6:-} plugins="'managesieve', 'markasjunk'"
	[ $# -eq 5 ] || [ $# -eq 6 ] || {
		instance_error "usage: instance_roundcube_start DIR PORT IMAP_PORT SMTP_PORT SIEVE_PORT [ADMIN_URL]"
		return 1
	}
	[ -z "$admin" ] || plugins+=", 'password'"
	[ -f /usr/share/roundcube/index.php ] && command -v php >/dev/null 2>&1 || {
		instance_error "Roundcube missing: run 'packaging/install-deps demo' (or test) as root"
		return 1
	}
	dir=$(instance_abspath "$1")
	port=$2
	mkdir -p "$dir/config" "$dir/db" "$dir/logs" "$dir/temp" || return 1
	chmod 755 "$dir" "$dir/config"
	# The package's defaults (Debian keeps them in /etc/roundcube, read-only here).
	ln -sf /etc/roundcube/defaults.inc.php "$dir/config/defaults.inc.php" || return 1
	if [ -e /etc/roundcube/mimetypes.php ]; then ln -sf /etc/roundcube/mimetypes.php "$dir/config/mimetypes.php"; fi
	key=$(head -c 18 /dev/urandom | base64 | tr -d '\n')
	cat >"$dir/config/config.inc.php" <<-EOF || return 1
		<?php
		// A private Roundcube of postgate's tests and demo (packaging/lib/instance.sh).
		\$config = [];
		\$config['db_dsnw'] = 'sqlite:///$dir/db/roundcube.sqlite?mode=0640';
		\$config['imap_host'] = '127.0.0.1:$3';
		\$config['smtp_host'] = '127.0.0.1:$4';
		\$config['smtp_user'] = '%u';
		\$config['smtp_pass'] = '%p';
		// Mailbox passwords are kept as argon2id hashes, which CRAM-MD5 cannot check (it is
		// for the servers' SMTP credentials): Roundcube would otherwise pick it, advertised.
		\$config['smtp_auth_type'] = 'PLAIN';
		\$config['managesieve_host'] = '127.0.0.1:$5';
		\$config['managesieve_vacation'] = 1;
		\$config['managesieve_forward'] = 1;
		\$config['plugins'] = [$plugins];
		\$config['log_dir'] = '$dir/logs/';
		\$config['temp_dir'] = '$dir/temp/';
		\$config['des_key'] = '$key';
		\$config['product_name'] = 'postgate webmail';
		\$config['support_url'] = '';
		\$config['skin'] = 'elastic';
		\$config['enable_installer'] = false;
		\$config['enable_spellcheck'] = false;
		\$config['login_autocomplete'] = 0;
		// The user's identity is the address they logged in with: no domain is added.
		\$config['username_domain'] = '';
		\$config['mail_domain'] = '';
		// Loopback only, plain-text IMAP and SMTP (the private Dovecot and Postfix have no TLS).
		\$config['use_https'] = false;
	EOF
	if [ -n "$admin" ]; then
		cat >>"$dir/config/config.inc.php" <<-EOF || return 1
			// Settings > Password: postgate-admin checks the current password and the policy.
			\$config['password_driver'] = 'httpapi';
			\$config['password_httpapi_url'] = '${admin%/}/api/v2/mailbox/password';
			\$config['password_httpapi_var_user'] = 'address';
			\$config['password_httpapi_var_curpass'] = 'current_password';
			\$config['password_httpapi_var_newpass'] = 'new_password';
			\$config['password_httpapi_expect'] = '/"status": *"success"/';
			\$config['password_confirm_current'] = true;
			\$config['password_minimum_length'] = 10;
			\$config['password_require_nonalpha'] = true;
		EOF
	fi
	if [ ! -s "$dir/db/roundcube.sqlite" ]; then
		php -r '$db = new PDO("sqlite:" . $argv[1]); $db->exec(file_get_contents($argv[2])) !== false or exit(1);' \
			"$dir/db/roundcube.sqlite" /usr/share/roundcube/SQL/sqlite.initial.sql ||
			{ instance_error "could not create Roundcube's SQLite database"; return 1; }
	fi
	chown -R www-data:www-data "$dir/db" "$dir/logs" "$dir/temp" || return 1
	chgrp www-data "$dir/config/config.inc.php" && chmod 640 "$dir/config/config.inc.php" || return 1
	instance_require_port_free "$port" || return 1
	instance_spawn "$dir/roundcube.pid" "$dir/logs/server.log" env -i PATH=/usr/bin:/bin \
		ROUNDCUBE_CONFIG_DIR="$dir/config" PHP_CLI_SERVER_WORKERS=4 \
		setpriv --reuid=www-data --regid=www-data --init-groups \
		php -S "127.0.0.1:$port" -t /var/lib/roundcube/public_html || return 1
	pid=$(instance_pidfile_read "$dir/roundcube.pid") || return 1
	if ! instance_wait_until "${INSTANCE_TIMEOUT:-30}" instance_http_answers "$port" "$pid"; then
		instance_log_tail "$dir/logs/server.log"
		instance_log_tail "$dir/logs/errors.log"
		instance_error "Roundcube did not answer on 127.0.0.1:$port"
		return 1
	fi
	instance_pid_alive "$pid" || { instance_log_tail "$dir/logs/server.log"; instance_error "Roundcube exited"; return 1; }
	export INSTANCE_WEBMAIL_URL="http://127.0.0.1:$port/"
}

# True once 127.0.0.1:PORT answers an HTTP request with 200 (or PID has died: the wait ends).
instance_http_answers() {
	instance_pid_alive "$2" || return 0
	curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$1/" 2>/dev/null
}

# PHP's server forks its workers into its process group (setsid made it the leader): stop
# them all, not only the parent.
instance_roundcube_stop() {
	local dir pid
	dir=$(instance_abspath "$1")
	pid=$(instance_pidfile_read "$dir/roundcube.pid") || return 0
	kill -TERM -- "-$pid" 2>/dev/null
	if ! instance_wait_until 10 instance_pgroup_empty "$pid"; then
		instance_error "Roundcube's web server (process group $pid) ignored SIGTERM; killing it"
		kill -KILL -- "-$pid" 2>/dev/null
		instance_wait_until 5 instance_pgroup_empty "$pid"
	fi
	rm -f "$dir/roundcube.pid"
}

# ---------------------------------------------------------------- MariaDB

instance_mariadb_root() {
	local dir
	dir=$(instance_abspath "$1")
	shift
	mariadb --no-defaults --protocol=socket -S "$dir/mysqld.sock" -u root "$@"
}

instance_mariadb_ping() {
	mariadb-admin --no-defaults --protocol=socket -S "$1/mysqld.sock" -u root \
		--connect-timeout=2 ping >/dev/null 2>&1
}

# Create the data directory once; later starts reuse it (the demo keeps its data).
instance_mariadb_install() {
	local dir=$1
	[ -d "$dir/data/mysql" ] && return 0
	# Its own temporary directory: /tmp is shared with every other process on the host.
	mkdir -p "$dir/data" "$dir/tmp" && chown mysql:mysql "$dir/data" "$dir/tmp" && chmod 750 "$dir/data" "$dir/tmp" ||
		return 1
	if ! mariadb-install-db --no-defaults --datadir="$dir/data" --user=mysql --tmpdir="$dir/tmp" \
		--auth-root-authentication-method=socket --skip-test-db \
		>"$dir/install.log" 2>&1; then
		instance_log_tail "$dir/install.log"
		# The reason comes early; the tail is mariadb-install-db's general advice.
		grep -m 10 -iE 'error|fatal|cannot|can.t' "$dir/install.log" >&2
		instance_error "mariadb-install-db failed for $dir/data"
		return 1
	fi
}

instance_mariadb_launch() {
	local dir=$1 pid
	rm -f "$dir/mysqld.sock" "$dir/mysqld.sock.lock"
	mkdir -p "$dir/tmp" && chown mysql:mysql "$dir/tmp" && chmod 750 "$dir/tmp" || return 1
	instance_spawn "$dir/mariadbd.pid" "$dir/mariadbd.out" \
		mariadbd --no-defaults --user=mysql --datadir="$dir/data" --tmpdir="$dir/tmp" \
		--socket="$dir/mysqld.sock" --skip-networking \
		--pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
		--innodb-buffer-pool-size=64M || return 1
	pid=$(instance_pidfile_read "$dir/mariadbd.pid") || return 1
	local timeout=${INSTANCE_TIMEOUT:-30} deadline
	deadline=$((SECONDS + timeout))
	until instance_mariadb_ping "$dir"; do
		if ! instance_pid_alive "$pid"; then
			instance_log_tail "$dir/error.log"
			instance_log_tail "$dir/mariadbd.out"
			instance_error "MariaDB in $dir exited during start-up"
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			instance_log_tail "$dir/error.log"
			instance_kill_pid "$pid" 5
			instance_error "MariaDB in $dir did not become ready within ${timeout}s"
			return 1
		fi
		sleep 0.1
	done
}

# The postgate user's password is kept in DIR so a restarted instance keeps it.
instance_mariadb_password() {
	local file=$1/postgate.password
	if [ ! -s "$file" ]; then
		(umask 077 && instance_random_hex 16 >"$file") || return 1
	fi
	tr -dc '0-9a-f' <"$file"
}

instance_mariadb_start() {
	local dir password
	[ -n "${1:-}" ] || { instance_error "usage: instance_mariadb_start DIR"; return 1; }
	dir=$(instance_abspath "$1")
	mkdir -p "$dir" && chown mysql:mysql "$dir" && chmod 755 "$dir" || return 1
	instance_require_user_access mysql "$dir" w || return 1
	instance_mariadb_install "$dir" || return 1
	if instance_pidfile_alive "$dir/mariadbd.pid" mariadbd && instance_mariadb_ping "$dir"; then
		: # already running (the demo's second start)
	else
		instance_mariadb_launch "$dir" || return 1
	fi
	password=$(instance_mariadb_password "$dir") || return 1
	instance_mariadb_root "$dir" <<-EOF || { instance_error "creating database postgate failed"; return 1; }
		CREATE DATABASE IF NOT EXISTS postgate CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER IF NOT EXISTS 'postgate'@'localhost' IDENTIFIED BY '$password';
		ALTER USER 'postgate'@'localhost' IDENTIFIED BY '$password';
		GRANT ALL PRIVILEGES ON postgate.* TO 'postgate'@'localhost';
	EOF
	export INSTANCE_DB_SOCKET="$dir/mysqld.sock" INSTANCE_DB_NAME=postgate \
		INSTANCE_DB_USER=postgate INSTANCE_DB_PASSWORD="$password"
}

instance_mariadb_stop() {
	local dir pid
	dir=$(instance_abspath "$1")
	if pid=$(instance_pidfile_pid "$dir/mariadbd.pid" mariadbd); then
		timeout "${INSTANCE_TIMEOUT:-30}" mariadb-admin --no-defaults --protocol=socket \
			-S "$dir/mysqld.sock" -u root shutdown >/dev/null 2>&1
		if ! instance_wait_until "${INSTANCE_TIMEOUT:-30}" instance_pid_gone "$pid"; then
			instance_error "MariaDB (pid $pid) did not shut down cleanly; killing it"
			instance_kill_pid "$pid" 10 || return 1
		fi
	fi
	rm -f "$dir/mariadbd.pid"
}

# ---------------------------------------------------------------- MariaDB Galera

# A three-node MariaDB Galera cluster on loopback (Debian's galera-4), for the tests
# and benchmarks of several postgate hosts on one cluster. Node N (1-3) lives in
# DIR/nodeN: its own datadir, socket (DIR/nodeN/mysqld.sock, as for instance_mariadb_*),
# SQL port, group communication port, IST and SST (rsync) ports, all on 127.0.0.1. The
# ports are chosen once and kept in DIR/ports, so a node restarted later finds its peers.

INSTANCE_GALERA_PROVIDER=${INSTANCE_GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}

# Choose the 12 ports (SQL, gcomm, IST, SST for each node) once; print "N SQL GCOMM IST SST" lines.
instance_galera_ports() {
	local dir=$1 n taken=() p q r s
	if [ ! -s "$dir/ports" ]; then
		: >"$dir/ports.new" || return 1
		for n in 1 2 3; do
			p=$(instance_free_port "${taken[@]}") && taken+=("$p") &&
				q=$(instance_free_port "${taken[@]}") && taken+=("$q") &&
				r=$(instance_free_port "${taken[@]}") && taken+=("$r") &&
				s=$(instance_free_port "${taken[@]}") && taken+=("$s") || return 1
			printf '%s %s %s %s %s\n' "$n" "$p" "$q" "$r" "$s" >>"$dir/ports.new"
		done
		mv "$dir/ports.new" "$dir/ports" || return 1
	fi
	cat "$dir/ports"
}

# instance_galera_port DIR N FIELD: node N's port (FIELD: sql, gcomm, ist, sst).
instance_galera_port() {
	local col
	case $3 in sql) col=2 ;; gcomm) col=3 ;; ist) col=4 ;; sst) col=5 ;; *) return 1 ;; esac
	awk -v n="$2" -v c="$col" '$1 == n { print $c }' "$1/ports"
}

# The wsrep status variable NAME on node DIR/nodeN ("" when it does not answer).
instance_galera_status() {
	instance_mariadb_root "$1" --connect-timeout=2 --batch --skip-column-names \
		-e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | awk '{ print $2 }'
}

# True when node DIR/nodeN is Synced in a primary component of SIZE nodes.
instance_galera_node_synced() {
	local node=$1 size=$2
	[ "$(instance_galera_status "$node" wsrep_local_state_comment)" = Synced ] &&
		[ "$(instance_galera_status "$node" wsrep_cluster_status)" = Primary ] &&
		[ "$(instance_galera_status "$node" wsrep_cluster_size)" = "$size" ]
}

# True when every running node of the cluster in DIR is Synced and the cluster has SIZE (default 3).
instance_galera_synced() {
	local dir=$1 size=${2:-3} n
	for n in 1 2 3; do
		instance_pidfile_alive "$dir/node$n/mariadbd.pid" mariadbd || continue
		instance_galera_node_synced "$dir/node$n" "$size" || return 1
	done
}

# Start node N of the cluster in DIR; with "new", bootstrap a new cluster from it
# (--wsrep-new-cluster). Waits until it answers on its socket and is Synced.
instance_galera_launch() {
	local dir=$1 n=$2 mode=${3:-} node sql gcomm ist sst peers="" i pid bootstrap=()
	node="$dir/node$n"
	sql=$(instance_galera_port "$dir" "$n" sql) && gcomm=$(instance_galera_port "$dir" "$n" gcomm) &&
		ist=$(instance_galera_port "$dir" "$n" ist) && sst=$(instance_galera_port "$dir" "$n" sst) ||
		{ instance_error "no ports for Galera node $n in $dir/ports"; return 1; }
	for i in 1 2 3; do
		peers="$peers${peers:+,}127.0.0.1:$(instance_galera_port "$dir" "$i" gcomm)"
	done
	[ "$mode" = new ] && bootstrap=(--wsrep-new-cluster)
	# A node killed with -9 leaves its grastate marked unsafe; the bootstrap node must be
	# allowed to start a cluster from it (the others rejoin and get IST or SST).
	[ "$mode" = new ] && [ -f "$node/data/grastate.dat" ] &&
		sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$node/data/grastate.dat"
	instance_require_port_free "$sql" && instance_require_port_free "$gcomm" || return 1
	rm -f "$node/mysqld.sock" "$node/mysqld.sock.lock"
	# Its own temporary directory: /tmp is shared with every other process on the host.
	mkdir -p "$node/tmp" && chown mysql:mysql "$node/tmp" && chmod 750 "$node/tmp" || return 1
	# After a crash grastate.dat does not say where the node stopped (seqno -1): recover the
	# position from InnoDB, as Debian's galera_recovery does, so the node rejoins by IST.
	local position=()
	if [ "$mode" != new ] && grep -q '^seqno: *-1' "$node/data/grastate.dat" 2>/dev/null; then
		local recovered
		rm -f "$node/recover.log"
		mariadbd --no-defaults --user=mysql --datadir="$node/data" --tmpdir="$node/tmp" --log-error="$node/recover.log" \
			--innodb-buffer-pool-size=64M --innodb-log-file-size=48M --binlog-format=ROW \
			--innodb-autoinc-lock-mode=2 --wsrep-on=ON --wsrep-provider="$INSTANCE_GALERA_PROVIDER" \
			--wsrep-cluster-address="gcomm://$peers" --wsrep-sst-method=rsync \
			--skip-networking --socket="$node/recover.sock" --pid-file="$node/recover.pid" \
			--wsrep-recover >/dev/null 2>&1
		recovered=$(sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' \
			"$node/recover.log" 2>/dev/null | tail -n 1)
		[ -n "$recovered" ] && position=(--wsrep-start-position="$recovered")
	fi
	instance_spawn "$node/mariadbd.pid" "$node/mariadbd.out" \
		mariadbd --no-defaults --user=mysql --datadir="$node/data" --tmpdir="$node/tmp" \
		--socket="$node/mysqld.sock" --port="$sql" --bind-address=127.0.0.1 \
		--pid-file="$node/mysqld.pid" --log-error="$node/error.log" \
		--innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
		--binlog-format=ROW --innodb-autoinc-lock-mode=2 --default-storage-engine=InnoDB \
		--innodb-flush-log-at-trx-commit=0 \
		--wsrep-on=ON --wsrep-provider="$INSTANCE_GALERA_PROVIDER" \
		--wsrep-cluster-name=postgate-test --wsrep-cluster-address="gcomm://$peers" \
		--wsrep-node-name="node$n" --wsrep-node-address="127.0.0.1:$gcomm" \
		--wsrep-node-incoming-address="127.0.0.1:$sql" \
		--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$gcomm;ist.recv_addr=127.0.0.1:$ist;gcache.size=128M;evs.inactive_timeout=PT5S;evs.suspect_timeout=PT3S;evs.install_timeout=PT5S" \
		--wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$sst" \
		--wsrep-slave-threads=2 "${bootstrap[@]}" "${position[@]}" || return 1
	pid=$(instance_pidfile_read "$node/mariadbd.pid") || return 1
	local timeout=${INSTANCE_GALERA_TIMEOUT:-120} deadline
	deadline=$((SECONDS + timeout))
	until instance_mariadb_ping "$node" &&
		[ "$(instance_galera_status "$node" wsrep_local_state_comment)" = Synced ]; do
		if ! instance_pid_alive "$pid"; then
			instance_log_tail "$node/error.log" 40
			instance_error "Galera node $n in $node exited during start-up"
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			instance_log_tail "$node/error.log" 40
			instance_kill_pid "$pid" 10
			instance_error "Galera node $n in $node was not Synced within ${timeout}s"
			return 1
		fi
		sleep 0.2
	done
}

# instance_galera_start DIR: install and start the three nodes (node 1 bootstraps the
# cluster, 2 and 3 join it by SST), wait until the cluster has 3 nodes, all Synced, and
# create the postgate database and user (through node 1; Galera replicates both).
# Exports what instance_mariadb_start does, for node 1 (INSTANCE_DB_SOCKET ...), and
# INSTANCE_GALERA_SOCKETS: the three nodes' sockets, space-separated.
instance_galera_start() {
	local dir n password sockets=""
	[ -n "${1:-}" ] || { instance_error "usage: instance_galera_start DIR"; return 1; }
	[ -r "$INSTANCE_GALERA_PROVIDER" ] ||
		{ instance_error "$INSTANCE_GALERA_PROVIDER missing: install galera-4"; return 1; }
	command -v rsync >/dev/null 2>&1 || { instance_error "rsync missing (Galera's SST): install rsync"; return 1; }
	dir=$(instance_abspath "$1")
	mkdir -p "$dir" && chmod 755 "$dir" || return 1
	instance_galera_ports "$dir" >/dev/null || { instance_error "no free ports for the Galera cluster"; return 1; }
	for n in 1 2 3; do
		mkdir -p "$dir/node$n" && chown mysql:mysql "$dir/node$n" && chmod 755 "$dir/node$n" || return 1
		instance_require_user_access mysql "$dir/node$n" w || return 1
	done
	# Only node 1 needs system tables: the others receive node 1's data by SST.
	instance_mariadb_install "$dir/node1" || return 1
	for n in 2 3; do
		mkdir -p "$dir/node$n/data" && chown mysql:mysql "$dir/node$n/data" && chmod 750 "$dir/node$n/data" ||
			return 1
	done
	if ! instance_pidfile_alive "$dir/node1/mariadbd.pid" mariadbd; then
		instance_galera_launch "$dir" 1 new || return 1
	fi
	for n in 2 3; do
		instance_pidfile_alive "$dir/node$n/mariadbd.pid" mariadbd && continue
		instance_galera_launch "$dir" "$n" || return 1
	done
	if ! instance_wait_until "${INSTANCE_GALERA_TIMEOUT:-120}" instance_galera_synced "$dir" 3; then
		instance_error "the Galera cluster in $dir did not reach 3 Synced nodes"
		return 1
	fi
	password=$(instance_mariadb_password "$dir") || return 1
	instance_mariadb_root "$dir/node1" <<-EOF || { instance_error "creating database postgate failed"; return 1; }
		CREATE DATABASE IF NOT EXISTS postgate CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER IF NOT EXISTS 'postgate'@'localhost' IDENTIFIED BY '$password';
		ALTER USER 'postgate'@'localhost' IDENTIFIED BY '$password';
		GRANT ALL PRIVILEGES ON postgate.* TO 'postgate'@'localhost';
	EOF
	for n in 1 2 3; do
		sockets="$sockets${sockets:+ }$dir/node$n/mysqld.sock"
	done
	export INSTANCE_DB_SOCKET="$dir/node1/mysqld.sock" INSTANCE_DB_NAME=postgate \
		INSTANCE_DB_USER=postgate INSTANCE_DB_PASSWORD="$password" INSTANCE_GALERA_SOCKETS="$sockets"
}

# instance_galera_kill DIR N: kill -9 node N (a crash: no shutdown, grastate left unsafe).
instance_galera_kill() {
	local dir pid
	dir=$(instance_abspath "$1")
	pid=$(instance_pidfile_pid "$dir/node$2/mariadbd.pid" mariadbd) ||
		{ instance_error "Galera node $2 in $dir is not running"; return 1; }
	kill -KILL "$pid" 2>/dev/null
	instance_wait_until 10 instance_pid_gone "$pid" || { instance_error "node $2 (pid $pid) survived SIGKILL"; return 1; }
	rm -f "$dir/node$2/mariadbd.pid"
}

# instance_galera_rejoin DIR N: start node N again after a stop or a kill; it rejoins the
# running cluster (by IST when the donor's gcache still holds what it missed), and the
# cluster is waited for until all three nodes are Synced again.
instance_galera_rejoin() {
	local dir
	dir=$(instance_abspath "$1")
	instance_galera_launch "$dir" "$2" || return 1
	instance_wait_until "${INSTANCE_GALERA_TIMEOUT:-120}" instance_galera_synced "$dir" 3 ||
		{ instance_error "node $2 rejoined but the cluster in $dir is not 3 Synced nodes"; return 1; }
}

# instance_galera_stop DIR: stop every node it started (last joined first, node 1 last,
# so it is the one safe to bootstrap from next time); a node that does not shut down in
# time is killed.
instance_galera_stop() {
	local dir n pid
	dir=$(instance_abspath "$1")
	for n in 3 2 1; do
		pid=$(instance_pidfile_pid "$dir/node$n/mariadbd.pid" mariadbd) || { rm -f "$dir/node$n/mariadbd.pid"; continue; }
		timeout "${INSTANCE_TIMEOUT:-30}" mariadb-admin --no-defaults --protocol=socket \
			-S "$dir/node$n/mysqld.sock" -u root shutdown >/dev/null 2>&1
		if ! instance_wait_until "${INSTANCE_TIMEOUT:-30}" instance_pid_gone "$pid"; then
			instance_error "Galera node $n (pid $pid) did not shut down cleanly; killing it"
			kill -KILL "$pid" 2>/dev/null
			instance_wait_until 10 instance_pid_gone "$pid"
		fi
		rm -f "$dir/node$n/mariadbd.pid"
	done
	# The SST script's rsync daemons are the nodes' children; none may outlive them.
	for pid in $(pgrep -f -- "$dir/node" 2>/dev/null); do
		instance_kill_pid "$pid" 5
	done
}

# ---------------------------------------------------------------- smtp-sink

# smtp-sink stands in for the Internet: every message becomes one file in DIR/mail.
instance_sink_start() {
	local dir port pid
	[ $# -eq 2 ] || { instance_error "usage: instance_sink_start DIR PORT"; return 1; }
	dir=$(instance_abspath "$1")
	port=$2
	mkdir -p "$dir/mail" && chmod 755 "$dir" && chown postfix "$dir/mail" || return 1
	instance_require_user_access postfix "$dir/mail" w || return 1
	if ! instance_pidfile_alive "$dir/smtp-sink.pid" smtp-sink; then
		instance_require_port_free "$port" || return 1
		# -u: drop to postfix after binding; -d: one file per message, named by
		# time plus a random suffix; 64: listen backlog.
		instance_spawn "$dir/smtp-sink.pid" "$dir/smtp-sink.log" \
			smtp-sink -u postfix -h sink.test -d "$dir/mail/%Y%m%d-%H%M%S." \
			"127.0.0.1:$port" 64 || return 1
	fi
	pid=$(instance_pidfile_pid "$dir/smtp-sink.pid" smtp-sink) ||
		{ instance_log_tail "$dir/smtp-sink.log"; instance_error "smtp-sink exited at once"; return 1; }
	if ! instance_wait_port "$port" "${INSTANCE_TIMEOUT:-30}" "$pid"; then
		instance_log_tail "$dir/smtp-sink.log"
		instance_kill_pid "$pid" 5
		return 1
	fi
	export INSTANCE_SINK_PORT="$port" INSTANCE_SINK_DIR="$dir/mail"
}

instance_sink_stop() {
	local dir pid
	dir=$(instance_abspath "$1")
	if pid=$(instance_pidfile_pid "$dir/smtp-sink.pid" smtp-sink); then
		instance_kill_pid "$pid" 10 || return 1
	fi
	rm -f "$dir/smtp-sink.pid"
}

# ---------------------------------------------------------------- DNS

# A private resolver for names the caller decides: dnsmasq on 127.0.0.1:PORT answering
# only from its command line (--txt-record=NAME,TEXT, --host-record=NAME,ADDR,
# --local=/DOMAIN/ for NXDOMAIN; no resolv.conf, no hosts file, no upstream), so the
# daemons' lookups (dns.resolver) depend neither on this machine's resolver nor on the
# network. Exports INSTANCE_DNS_RESOLVER (the dns.resolver value, 127.0.0.1:PORT).
instance_dns_start() {
	local dir port pid
	[ $# -ge 2 ] || { instance_error "usage: instance_dns_start DIR PORT [DNSMASQ_ARGS...]"; return 1; }
	command -v dnsmasq >/dev/null 2>&1 ||
		{ instance_error "dnsmasq missing: run 'packaging/install-deps test' as root"; return 1; }
	dir=$(instance_abspath "$1")
	port=$2
	shift 2
	mkdir -p "$dir" || return 1
	instance_require_port_free "$port" || return 1
	instance_spawn "$dir/dns.pid" "$dir/dns.log" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--no-poll --bind-interfaces --listen-address=127.0.0.1 --port="$port" --user=root --pid-file= \
		--log-facility="$dir/dnsmasq.log" "$@" || return 1
	pid=$(instance_pidfile_read "$dir/dns.pid") || return 1
	if ! instance_wait_until "${INSTANCE_TIMEOUT:-30}" instance_dns_answers "$port"; then
		instance_log_tail "$dir/dnsmasq.log"
		instance_kill_pid "$pid" 5
		instance_error "dnsmasq did not answer on 127.0.0.1:$port"
		return 1
	fi
	export INSTANCE_DNS_RESOLVER="127.0.0.1:$port"
}

# True once something answers a DNS query over UDP on 127.0.0.1:PORT.
instance_dns_answers() {
	/usr/bin/python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)
s.sendto(b'\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04test\x00\x00\x10\x00\x01', ('127.0.0.1', int(sys.argv[1])))
s.recvfrom(512)
PY
}

instance_dns_stop() {
	local dir pid
	dir=$(instance_abspath "$1")
	if pid=$(instance_pidfile_read "$dir/dns.pid"); then
		instance_kill_pid "$pid" 10 || return 1
	fi
	rm -f "$dir/dns.pid"
}

# ---------------------------------------------------------------- spamd and clamd

# SpamAssassin's spamd on 127.0.0.1:PORT with the rules Debian ships (no network
# tests, no user preferences), two children, as nobody. Its first start compiles the
# rules: allow a minute.
instance_spamd_start() {
	local dir port pid
	[ $# -eq 2 ] || { instance_error "usage: instance_spamd_start DIR PORT"; return 1; }
	dir=$(instance_abspath "$1")
	port=$2
	mkdir -p "$dir" || return 1
	if ! instance_pidfile_alive "$dir/spamd.pid" spamd; then
		instance_require_port_free "$port" || return 1
		instance_spawn "$dir/spamd.pid" "$dir/spamd.log" spamd -i 127.0.0.1 -p "$port" -A 127.0.0.1 \
			-L -x -m 2 -u nobody -s stderr || return 1
	fi
	pid=$(instance_pidfile_pid "$dir/spamd.pid" spamd) ||
		{ instance_log_tail "$dir/spamd.log"; instance_error "spamd exited at once"; return 1; }
	if ! instance_wait_until 60 grep -q 'child states: I' "$dir/spamd.log"; then
		instance_log_tail "$dir/spamd.log"
		instance_error "spamd did not get ready within 60s"
		instance_kill_pid "$pid" 5
		return 1
	fi
	export INSTANCE_SPAMD_ADDRESS="inet:127.0.0.1:$port"
}

instance_spamd_stop() {
	local dir pid
	dir=$(instance_abspath "$1")
	if pid=$(instance_pidfile_pid "$dir/spamd.pid" spamd); then
		instance_kill_pid "$pid" 15 || return 1
	fi
	rm -f "$dir/spamd.pid"
}

# ClamAV's clamd on the unix socket DIR/clamd.sock with only the signatures in DIR/db
# (the caller writes them, e.g. an .ndb line for the EICAR test string); nothing is
# downloaded. STREAM_MAX (default 10M) is clamd's StreamMaxLength.
instance_clamd_start() {
	local dir pid stream_max=${2:-10M}
	[ $# -ge 1 ] || { instance_error "usage: instance_clamd_start DIR [STREAM_MAX]"; return 1; }
	dir=$(instance_abspath "$1")
	mkdir -p "$dir/db" || return 1
	ls "$dir"/db/*.[hn]db >/dev/null 2>&1 || { instance_error "no signatures in $dir/db"; return 1; }
	cat >"$dir/clamd.conf" <<-EOF || return 1
		LocalSocket $dir/clamd.sock
		Foreground yes
		DatabaseDirectory $dir/db
		LogFile $dir/clamd.log
		TemporaryDirectory $dir
		StreamMaxLength $stream_max
		User root
	EOF
	if ! instance_pidfile_alive "$dir/clamd.pid" clamd; then
		rm -f "$dir/clamd.sock"
		instance_spawn "$dir/clamd.pid" "$dir/clamd.out" clamd -c "$dir/clamd.conf" || return 1
	fi
	pid=$(instance_pidfile_pid "$dir/clamd.pid" clamd) ||
		{ instance_log_tail "$dir/clamd.out"; instance_error "clamd exited at once"; return 1; }
	if ! instance_wait_until 60 test -S "$dir/clamd.sock"; then
		instance_log_tail "$dir/clamd.out"
		instance_error "clamd did not create its socket within 60s"
		instance_kill_pid "$pid" 5
		return 1
	fi
	export INSTANCE_CLAMD_ADDRESS="unix:$dir/clamd.sock"
}

instance_clamd_stop() {
	local dir pid
	dir=$(instance_abspath "$1")
	if pid=$(instance_pidfile_pid "$dir/clamd.pid" clamd); then
		instance_kill_pid "$pid" 15 || return 1
	fi
	rm -f "$dir/clamd.pid" "$dir/clamd.sock"
}

# ---------------------------------------------------------------- Postfix

# main.cf for a private instance. Written from scratch, so nothing of the
# system's /etc/postfix/main.cf leaks in.
instance_postfix_main_cf() {
	local dir=$1 sink_port=$2
	: >"$dir/etc/main.cf" || return 1
	postconf -c "$dir/etc" -e \
		"compatibility_level = 3.6" \
		"queue_directory = $dir/spool" \
		"data_directory = $dir/data" \
		"maillog_file = $dir/log/maillog" \
		"maillog_file_prefixes = $dir/log" \
		"myhostname = postgate.test" \
		"mydomain = postgate.test" \
		"inet_interfaces = loopback-only" \
		"inet_protocols = ipv4" \
		"mydestination =" \
		"local_recipient_maps =" \
		"local_transport = error:local delivery is disabled" \
		"alias_maps =" \
		"alias_database =" \
		"mynetworks = 127.0.0.0/8" \
		"relayhost = [127.0.0.1]:$sink_port" \
		"smtp_dns_support_level = disabled" \
		"smtputf8_enable = no" \
		"enable_long_queue_ids = yes" \
		"biff = no" \
		"queue_run_delay = 1s" \
		"minimal_backoff_time = 1s" \
		"maximal_backoff_time = 5s" \
		"maximal_queue_lifetime = 1h" \
		"bounce_queue_lifetime = 1h" \
		"in_flow_delay = 0" \
		"smtpd_banner = \$myhostname ESMTP \$mail_name (postgate private instance)"
}

# master.cf: Debian's default services, chroot off everywhere (a chroot would need
# copies of system files in the queue directory), no port 25, the pipe(8)
# examples removed, and one smtpd on 127.0.0.1:SMTP_PORT.
instance_postfix_master_cf() {
	local dir=$1 smtp_port=$2 service
	cp /usr/share/postfix/master.cf.dist "$dir/etc/master.cf" || return 1
	postconf -c "$dir/etc" -MX smtp/inet || return 1
	for service in maildrop uucp ifmail bsmtp scalemail-backend mailman; do
		postconf -c "$dir/etc" -MX "$service/unix" 2>/dev/null
	done
	postconf -c "$dir/etc" -M \
		"127.0.0.1:$smtp_port/inet = 127.0.0.1:$smtp_port inet n - n - - smtpd" || return 1
	postconf -c "$dir/etc" -F '*/*/chroot = n'
}

# Regenerates main.cf and master.cf on every call (so the result does not depend
# on history); the queue and data directories are kept.
instance_postfix_setup() {
	local dir
	[ $# -eq 3 ] || { instance_error "usage: instance_postfix_setup DIR SMTP_PORT SINK_PORT"; return 1; }
	dir=$(instance_abspath "$1")
	[ -r /usr/share/postfix/master.cf.dist ] ||
		{ instance_error "/usr/share/postfix/master.cf.dist missing: install postfix"; return 1; }
	mkdir -p "$dir/etc" "$dir/spool" "$dir/log" && chmod 755 "$dir" "$dir/etc" "$dir/spool" "$dir/log" ||
		return 1
	instance_require_user_access postfix "$dir/spool" || return 1
	instance_postfix_main_cf "$dir" "$3" || { instance_error "writing $dir/etc/main.cf failed"; return 1; }
	instance_postfix_master_cf "$dir" "$2" || { instance_error "writing $dir/etc/master.cf failed"; return 1; }
	# Postfix will not read a file changed within the last second (it waits up to
	# 2 s for it to settle); these were written completely just now.
	touch -d '2 seconds ago' "$dir/etc/main.cf" "$dir/etc/master.cf"
	# Creates the queue directories with the owners and modes Postfix wants.
	if ! postfix -c "$dir/etc" check; then
		instance_log_tail "$dir/log/maillog"
		instance_error "postfix -c $dir/etc check failed"
		return 1
	fi
	export INSTANCE_POSTFIX_CONFIG_DIR="$dir/etc" INSTANCE_SMTP_PORT="$2" \
		INSTANCE_MAILLOG="$dir/log/maillog"
}

# Pid of the instance's master process, if it runs.
instance_postfix_pid() {
	local dir pid
	dir=$(instance_abspath "$1")
	instance_pidfile_pid "$dir/spool/pid/master.pid" master
}

instance_postfix_smtp_port() {
	postconf -c "$1/etc" -M 2>/dev/null | awk '$NF == "smtpd" && $2 == "inet" { split($1, a, ":"); print a[2]; exit }'
}

# Start (or, when it already runs, reload) the instance and wait for its smtpd.
instance_postfix_start() {
	local dir port pid
	dir=$(instance_abspath "$1")
	[ -f "$dir/etc/main.cf" ] || { instance_error "no $dir/etc/main.cf: run instance_postfix_setup first"; return 1; }
	if instance_postfix_pid "$dir" >/dev/null; then
		postfix -c "$dir/etc" reload >/dev/null 2>&1 ||
			{ instance_error "postfix -c $dir/etc reload failed"; return 1; }
	elif ! instance_require_port_free "$(instance_postfix_smtp_port "$dir")"; then
		return 1
	elif ! postfix -c "$dir/etc" start </dev/null >"$dir/log/start.out" 2>&1; then
		instance_log_tail "$dir/log/start.out"
		instance_log_tail "$dir/log/maillog"
		instance_error "postfix -c $dir/etc start failed"
		return 1
	fi
	pid=$(instance_postfix_pid "$dir") || { instance_error "Postfix master in $dir is not running"; return 1; }
	port=$(instance_postfix_smtp_port "$dir")
	[ -n "$port" ] || return 0
	if ! instance_wait_port "$port" "${INSTANCE_TIMEOUT:-30}" "$pid"; then
		instance_log_tail "$dir/log/maillog"
		return 1
	fi
}

# instance_sysmail_service CONFIG_DIR PORT: a loopback smtpd of a running instance for
# local mail (postgate's system mailer through sendmail-smtp.py, beside this file): like
# pickup, it takes mail from 127.0.0.1 past the relay rules and with the
# non_smtpd_milters, so postgate-milter sees it as it sees sendmail's mail.
# Added with postconf -M (postgatectl postfix disable leaves it), then a reload.
instance_sysmail_service() {
	local config=$1 port=$2
	postconf -c "$config" -M "127.0.0.1:$port/inet=127.0.0.1:$port inet n - n - - smtpd \
		-o smtpd_sasl_auth_enable=no -o smtpd_relay_restrictions=permit_mynetworks,reject \
		-o smtpd_recipient_restrictions=permit_mynetworks,reject -o smtpd_milters=\$non_smtpd_milters" ||
		{ instance_error "postconf -M for the local-mail smtpd on 127.0.0.1:$port failed"; return 1; }
	postfix -c "$config" reload >/dev/null 2>&1 || { instance_error "postfix -c $config reload failed"; return 1; }
	instance_wait_port "$port" 30 || { instance_error "the local-mail smtpd on 127.0.0.1:$port does not answer"; return 1; }
}

# Pids of live processes in process group PGID (the master leads its group).
instance_pgroup_pids() {
	ps -eo pid=,pgid=,stat= | awk -v g="$1" '$2 == g && $3 !~ /^Z/ { print $1 }'
}

instance_pgroup_empty() { [ -z "$(instance_pgroup_pids "$1")" ]; }

instance_postfix_stop() {
	local dir pid
	dir=$(instance_abspath "$1")
	pid=$(instance_postfix_pid "$dir") || return 0
	postfix -c "$dir/etc" stop >/dev/null 2>&1
	if ! instance_wait_until "${INSTANCE_TIMEOUT:-30}" instance_pid_gone "$pid"; then
		instance_error "Postfix master (pid $pid) did not stop; killing its process group"
		kill -KILL -- "-$pid" 2>/dev/null
	fi
	# The master's children notice it is gone and exit on their own.
	instance_wait_until 10 instance_pgroup_empty "$pid" && return 0
	instance_error "Postfix processes of $dir outlived the master; killing process group $pid"
	kill -KILL -- "-$pid" 2>/dev/null
	instance_wait_until 5 instance_pgroup_empty "$pid"
}

# ---------------------------------------------------------------- postgate

# Quote a string for libconfig: backslash and double quote escaped.
instance_libconfig_string() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# Write the postgate configuration for the running MariaDB instance. Readable by
# root and the group of the daemons' user (postgate), so that they can re-read it on
# SIGHUP after dropping privileges; nobody else: it holds the database password.
instance_write_postgate_config() {
	local file=$1 migrations=$2 name=${3:-${INSTANCE_DB_NAME:-postgate}} key
	key="$(dirname "$file")/secret.key"
	[ -n "${INSTANCE_DB_SOCKET:-}" ] ||
		{ instance_error "instance_write_postgate_config: start MariaDB first"; return 1; }
	(
		umask 077
		cat >"$file" <<-EOF
			database: {
			  socket = $(instance_libconfig_string "$INSTANCE_DB_SOCKET");
			  name = $(instance_libconfig_string "$name");
			  user = $(instance_libconfig_string "$INSTANCE_DB_USER");
			  password = $(instance_libconfig_string "$INSTANCE_DB_PASSWORD");
			  migrations_dir = $(instance_libconfig_string "$migrations");
			};
			logging: { destination = "stderr"; level = "info"; };
			security: {
			  secret_key_file = $(instance_libconfig_string "$key");
			  return_path_dkim_key_file = $(instance_libconfig_string "$(dirname "$key")/return-path-dkim.key");
			  # The receivers of this instance (tests, demo) listen on loopback.
			  outbound_allowed_networks = ["127.0.0.0/8", "::1"];
			};
		EOF
		# The password policy's breached list from the tree the migrations come from
		# (data/ beside schema/); an installed postgate uses its own by default.
		if [ -f "$(dirname "$migrations")/data/breached-passwords.txt" ]; then
			printf 'passwords: { breached_list = %s; };\n' \
				"$(instance_libconfig_string "$(dirname "$migrations")/data/breached-passwords.txt")" >>"$file"
		fi
	)
	if getent group postgate >/dev/null; then
		chgrp postgate "$file" && chmod 640 "$file"
	fi
}

# instance_sink_find TEXT: print the first message file in INSTANCE_SINK_DIR containing
# TEXT (a literal string); false when there is none.
instance_sink_find() {
	local f
	for f in "$INSTANCE_SINK_DIR"/*; do
		[ -f "$f" ] && grep -qF -- "$1" "$f" && { printf '%s\n' "$f"; return 0; }
	done
	return 1
}

# instance_sink_count TEXT: how many message files in INSTANCE_SINK_DIR contain TEXT.
instance_sink_count() {
	grep -lF -- "$1" "$INSTANCE_SINK_DIR"/* 2>/dev/null | wc -l
}

# ---------------------------------------------------------------- postgate daemons

# instance_postgate_config FILE POSTFIX_DIR RELEASE_PORT INJECTION_PORT [FORWARD_PORT]
# Append to FILE (written by instance_write_postgate_config) what the daemons need
# to run beside the private Postfix in POSTFIX_DIR: sockets under its queue
# directory (reachable by a chrooted smtpd), the release service on RELEASE_PORT,
# the send API's injection service on INJECTION_PORT, and Postfix's log. (The secret
# keys live beside FILE: see instance_write_postgate_config.) The forward service
# (Address endpoints, delivery reports) listens on FORWARD_PORT, or a free port.
# INSTANCE_MONITOR_PORTS, when set, gives the milter, policyd and worker monitor ports.
instance_postgate_config() {
	local file=$1 postfix_dir=$2 release_port=$3 injection_port=$4 forward_port=${5:-} dovecot_port=${6:-} queue
	queue=$(postconf -c "$postfix_dir/etc" -h queue_directory) || return 1
	[ -n "$forward_port" ] || forward_port=$(instance_free_port "$release_port" "$injection_port") || return 1
	[ -n "$dovecot_port" ] ||
		dovecot_port=$(instance_free_port "$release_port" "$injection_port" "$forward_port") || return 1
	mkdir -p "$queue/postgate" && chmod 755 "$queue/postgate" || return 1
	# INSTANCE_MONITOR_PORTS="MILTER POLICYD WORKER": their /health and /metrics ports.
	local monitor=("" "" "") i=0 port
	for port in ${INSTANCE_MONITOR_PORTS:-}; do
		monitor[i]=" monitor_listen = \"inet:127.0.0.1:$port\";"
		i=$((i + 1))
	done
	cat >>"$file" <<-EOF
		daemon: { user = "postgate"; };
		milter: {
		  listen = $(instance_libconfig_string "unix:$queue/postgate/milter");
		  cache_ttl = 1;${monitor[0]}
		};
		policyd: {
		  sasl_listen = $(instance_libconfig_string "unix:$queue/postgate/auth");
		  policy_listen = $(instance_libconfig_string "unix:$queue/postgate/policy");
		  socketmap_listen = $(instance_libconfig_string "unix:$queue/postgate/socketmap");${monitor[1]}
		};
		worker: {
		  lmtp_listen = $(instance_libconfig_string "unix:$queue/postgate/lmtp");${monitor[2]}
		};
		postfix: {
		  config_directory = $(instance_libconfig_string "$postfix_dir/etc");
		  release_address = "inet:127.0.0.1:$release_port";
		  injection_address = "inet:127.0.0.1:$injection_port";
		  forward_address = "inet:127.0.0.1:$forward_port";
		  dovecot_address = "inet:127.0.0.1:$dovecot_port";
		  maillog_file = $(instance_libconfig_string "$postfix_dir/log/maillog");
		};
		dns: { return_path_domain = "rp.postgate.test"; route_domain = "routes.postgate.test"; };
		# Every client of a private instance is on loopback: SMTP-IP credentials for it allowed.
		credentials: { smtp_ip_allow_loopback = true; };
	EOF
}

# instance_peak_rss DIR NAME...: "NAME N.N MB" for each daemon started with
# instance_postgate_start DIR NAME (or whose pid is in DIR/NAME.pid): the largest peak
# resident set (VmHWM) among the processes of its process group, so a supervisor's workers
# count (postgate-policyd). For the benchmarks, which print it against issue 18's 30 MB.
instance_peak_rss() {
	local dir=$1 name pid kb p v
	shift
	for name in "$@"; do
		pid=$(instance_pidfile_read "$dir/$name.pid" 2>/dev/null) || { printf '%s - ' "$name"; continue; }
		kb=0
		for p in $(instance_pgroup_pids "$pid") "$pid"; do
			v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
			[ -n "$v" ] && [ "$v" -gt "$kb" ] && kb=$v
		done
		awk -v n="$name" -v k="$kb" 'BEGIN { printf "%s %.1f MB  ", n, k / 1024 }'
	done
	echo
}

# instance_postgate_start STATE_DIR NAME PROGRAM CONFIG SOCKET: run one daemon in the
# foreground under setsid, log in STATE_DIR/NAME.log, wait for its unix SOCKET.
instance_postgate_start() {
	local dir=$1 name=$2 program=$3 config=$4 socket=$5 pid
	if instance_pidfile_alive "$dir/$name.pid" "$(basename "$program" | cut -c1-15)"; then
		return 0
	fi
	instance_spawn "$dir/$name.pid" "$dir/$name.log" "$program" -c "$config" || return 1
	pid=$(instance_pidfile_read "$dir/$name.pid") || return 1
	if ! instance_wait_until "${INSTANCE_TIMEOUT:-30}" test -S "$socket"; then
		instance_error "$name did not create $socket"
		instance_log_tail "$dir/$name.log"
		return 1
	fi
	instance_pid_alive "$pid" || { instance_error "$name exited"; instance_log_tail "$dir/$name.log"; return 1; }
}

instance_postgate_stop() {
	local dir=$1 name=$2 pid
	pid=$(instance_pidfile_read "$dir/$name.pid") || return 0
	instance_kill_pid "$pid" 10
	rm -f "$dir/$name.pid"
}

# instance_postgate_host_start DIR CONFIG SOCKET SINK_PORT BUILDDIR: one whole postgate
# host in DIR, as one machine of a site on a Galera cluster is: a Postfix instance of its
# own in DIR/postfix relaying to the smtp-sink on SINK_PORT, its own postgate-policyd,
# -milter and -worker (programs under BUILDDIR), and that Postfix wired to them by
# `postgatectl postfix enable`. Their config DIR/postgate.conf is CONFIG (written by
# instance_write_postgate_config) with the database socket SOCKET (e.g. one Galera node's)
# and every listener under that Postfix's queue directory, on ports of its own (SMTP,
# release, injection, forward, Dovecot-facing service, three monitor ports). Hosts made
# from one CONFIG share the secret keys beside it, as hosts of one site must. The database
# is initialized through this host (a no-op once done). Waits until every port answers and
# the worker has started its tasks. The host's SMTP port: instance_postfix_smtp_port
# DIR/postfix. Runs in a subshell: it exports nothing and leaves the caller's environment
# as it was. Stop it with instance_postgate_host_stop DIR (also after a failed start).
instance_postgate_host_start() (
	dir=$(instance_abspath "$1") base=$2 socket=$3 sink_port=$4 build=$5
	conf="$dir/postgate.conf" ports=()
	[ $# -eq 5 ] || { instance_error "usage: instance_postgate_host_start DIR CONFIG SOCKET SINK_PORT BUILDDIR"; exit 1; }
	[ -S "$socket" ] || { instance_error "host $dir: no database socket $socket"; exit 1; }
	mkdir -p "$dir" && chmod 755 "$dir" || exit 1
	for _ in 1 2 3 4 5 6 7 8; do
		port=$(instance_free_port "$sink_port" "${ports[@]}") || exit 1
		ports+=("$port")
	done
	instance_postfix_setup "$dir/postfix" "${ports[0]}" "$sink_port" &&
		instance_postfix_start "$dir/postfix" || { instance_error "host $dir: Postfix did not start"; exit 1; }
	# CONFIG up to its database section's socket, which becomes SOCKET.
	sed "0,/^[[:space:]]*socket = .*/s||  socket = $(instance_libconfig_string "$socket");|" "$base" >"$conf" &&
		chmod --reference="$base" "$conf" && chown --reference="$base" "$conf" || exit 1
	INSTANCE_MONITOR_PORTS="${ports[5]} ${ports[6]} ${ports[7]}" instance_postgate_config "$conf" "$dir/postfix" \
		"${ports[1]}" "${ports[2]}" "${ports[3]}" "${ports[4]}" || { instance_error "host $dir: daemons' config"; exit 1; }
	queue=$(postconf -c "$dir/postfix/etc" -h queue_directory) || exit 1
	out=$("$build/ctl/postgatectl" -c "$conf" initialize 2>&1) ||
		{ instance_error "host $dir: postgatectl initialize: $out"; exit 1; }
	# Monitor listeners set in the environment (a caller's own daemons) would win over this host's.
	unset POSTGATE_MILTER_MONITOR_LISTEN POSTGATE_POLICYD_MONITOR_LISTEN POSTGATE_WORKER_MONITOR_LISTEN
	instance_postgate_start "$dir" policyd "$build/policyd/postgate-policyd" "$conf" "$queue/postgate/auth" &&
		instance_postgate_start "$dir" milter "$build/milter/postgate-milter" "$conf" "$queue/postgate/milter" &&
		instance_postgate_start "$dir" worker "$build/worker/postgate-worker" "$conf" "$queue/postgate/lmtp" ||
		{ instance_error "host $dir: a postgate daemon did not start"; exit 1; }
	out=$("$build/ctl/postgatectl" -c "$conf" postfix enable --reload 2>&1) ||
		{ instance_error "host $dir: postgatectl postfix enable: $out"; exit 1; }
	for port in "${ports[@]:0:5}"; do
		instance_wait_port "$port" 30 || { instance_error "host $dir: 127.0.0.1:$port did not answer"; exit 1; }
	done
	instance_wait_until 20 grep -q 'started on ' "$dir/worker.log" ||
		{ instance_log_tail "$dir/worker.log"; instance_error "host $dir: postgate-worker did not start its tasks"; exit 1; }
)

# instance_postgate_host_stop DIR: stop what instance_postgate_host_start DIR started.
instance_postgate_host_stop() {
	local dir
	dir=$(instance_abspath "$1")
	instance_postfix_stop "$dir/postfix"
	instance_postgate_stop "$dir" worker
	instance_postgate_stop "$dir" milter
	instance_postgate_stop "$dir" policyd
}
