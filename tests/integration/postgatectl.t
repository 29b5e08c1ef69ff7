#!/bin/bash
#
# postgatectl.t -- postgatectl against a private MariaDB: initialize, upgrade-db,
# make-user, config check/dump, version, and the temporary failure (exit 75) when
# the database is down.
#
# Must never: skip because postgatectl is not built (that is a failure: run make),
# or pass without the real MariaDB.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

CTL=$POSTGATE_BUILDDIR/ctl/postgatectl
EX_TEMPFAIL=75

if [ ! -x "$CTL" ]; then
	plan 1
	ok 1 "postgatectl is built at $CTL (run 'make' first, or set POSTGATE_BUILDDIR)"
	exit 1
fi

harness_setup mariadb
plan 38

# ctl ARGS...: run postgatectl (bounded), leaving its exit status in $status and
# stdout+stderr in $out.
ctl() {
	status=0
	out=$(timeout 60 "$CTL" "$@" 2>&1) || status=$?
}

# ctl_stdin INPUT ARGS...: the same with INPUT on standard input.
ctl_stdin() {
	local input=$1
	shift
	status=0
	out=$(printf '%s\n' "$input" | timeout 60 "$CTL" "$@" 2>&1) || status=$?
}

# The state upgrade-db must not change: applied migrations and every table's DDL.
schema_state() {
	local table
	harness_sql "SELECT version, applied_at FROM schema_migrations ORDER BY version"
	for table in $(harness_sql "SHOW TABLES"); do
		harness_sql "SHOW CREATE TABLE \`$table\`"
	done
}

migration_files=$(find "$POSTGATE_SRCDIR/schema" -maxdepth 1 -name '[0-9][0-9][0-9]_*.sql' 2>/dev/null | wc -l)

# ---- initialize and upgrade-db
ctl -c "$HARNESS_CONFIG" initialize
is "$status" 0 "initialize exits 0"
[ "$status" = 0 ] || diag "$out"
ok "$([ "$migration_files" -gt 0 ] && echo 0 || echo 1)" \
	"schema/ has NNN_*.sql migrations ($migration_files)"
is "$(harness_sql "SELECT COUNT(*) FROM schema_migrations" 2>&1 || true)" "$migration_files" \
	"schema_migrations has one row per schema/NNN_*.sql file"
for table in organizations servers messages users; do
	is "$(harness_sql "SELECT COUNT(*) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '$table'" 2>&1 || true)" 1 \
		"initialize created table $table"
done

before=$(schema_state 2>&1 | sha256sum)
ctl -c "$HARNESS_CONFIG" upgrade-db
is "$status" 0 "upgrade-db right after initialize exits 0"
like "$out" '[Uu]p[ -]to[ -]date' "upgrade-db says the schema is up to date"
after=$(schema_state 2>&1 | sha256sum)
is "$after" "$before" "upgrade-db changed neither schema_migrations nor any table definition"

# ---- upgrade-db on an empty database
harness_root_sql "CREATE DATABASE postgate2;
	GRANT ALL PRIVILEGES ON postgate2.* TO '$INSTANCE_DB_USER'@'localhost';" ||
	diag "creating database postgate2 failed"
harness_write_config "$HARNESS_DIR/postgate2.conf" postgate2
ctl -c "$HARNESS_DIR/postgate2.conf" upgrade-db
isnt "$status" 0 "upgrade-db on an empty database fails"
like "$out" 'initiali[sz]e' "upgrade-db on an empty database says to run initialize"
is "$(harness_sql "SHOW TABLES" postgate2 2>&1 || true)" "" \
	"upgrade-db on an empty database creates no table"

# ---- make-user
password="Correct-Horse-9-$(instance_random_hex 4)"
ctl_stdin "$password" -c "$HARNESS_CONFIG" make-user --email admin@example.com \
	--first-name Ada --last-name Admin --admin --password-stdin
is "$status" 0 "make-user --admin --password-stdin exits 0"
[ "$status" = 0 ] || diag "$out"
email_column=$(harness_sql "SELECT COLUMN_NAME FROM information_schema.COLUMNS
	WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users'
	AND COLUMN_NAME IN ('email_address', 'email') ORDER BY COLUMN_NAME DESC LIMIT 1" 2>&1 || true)
like "$email_column" '^email(_address)?$' "users has an email column ($email_column)"
user_where="WHERE \`${email_column:-email}\` = 'admin@example.com'"
is "$(harness_sql "SELECT admin FROM users $user_where" 2>&1 || true)" 1 "the user is an admin"
hash=$(harness_sql "SELECT password_hash FROM users $user_where" 2>&1 || true)
# shellcheck disable=SC2016 # a literal $ in the regex
like "$hash" '^\$argon2id\$' "password_hash is an argon2id hash"
ok "$([[ -n $hash && $hash != *"$password"* ]] && echo 0 || echo 1)" \
	"password_hash does not contain the password"
is "$(harness_sql "SELECT CONCAT(first_name, ' ', last_name) FROM users $user_where" 2>&1 || true)" \
	"Ada Admin" "first and last name are stored"

ctl_stdin "$password" -c "$HARNESS_CONFIG" make-user --email admin@example.com \
	--first-name Ada --last-name Admin --admin --password-stdin
isnt "$status" 0 "make-user with an existing email fails"
like "$out" '[Ee]xist' "make-user says the user exists"
is "$(harness_sql "SELECT COUNT(*) FROM users" 2>&1 || true)" 1 "no second user row"

# ---- config check
ctl -c "$HARNESS_CONFIG" config check
is "$status" 0 "config check accepts the harness config"
[ "$status" = 0 ] || diag "$out"

bad=$HARNESS_DIR/unknown-key.conf
{
	sed -n 1,2p "$HARNESS_CONFIG"
	printf '  frobnicate_level = 7;\n'
	sed -n '3,$p' "$HARNESS_CONFIG"
} >"$bad"
ctl -c "$bad" config check
isnt "$status" 0 "config check rejects an unknown key"
contains "$out" "$(basename "$bad")" "the error names the file"
contains "$out" ":3" "the error names line 3"
contains "$out" "frobnicate_level" "the error names the key"

bad=$HARNESS_DIR/bad-port.conf
sed 's|^\(  socket = .*\)$|\1\n  port = 99999;|' "$HARNESS_CONFIG" >"$bad"
ctl -c "$bad" config check
isnt "$status" 0 "config check rejects database.port = 99999"
contains "$out" "database.port" "the error names database.port"

# ---- config dump
ctl -c "$HARNESS_CONFIG" config dump
is "$status" 0 "config dump exits 0"
line=$(grep -F 'database.socket' <<<"$out" || true)
contains "$line" "$INSTANCE_DB_SOCKET" "config dump shows the socket from the file"
contains "$line" "$(basename "$HARNESS_CONFIG"):2" "config dump says the socket came from the file's line 2"

status=0
out=$(POSTGATE_DATABASE_NAME=other timeout 60 "$CTL" -c "$HARNESS_CONFIG" config dump 2>&1) || status=$?
line=$(grep -F 'database.name' <<<"$out" || true)
contains "$line" "other" "config dump shows database.name from the environment"
contains "$line" "env POSTGATE_DATABASE_NAME" "config dump says it came from env POSTGATE_DATABASE_NAME"

# ---- version
ctl version
is "$status" 0 "version exits 0"
like "$out" '[0-9]+\.[0-9]+' "version prints a version number"

# ---- MariaDB down: a temporary failure, not a crash or a hang
instance_mariadb_stop "$HARNESS_DIR/mariadb"
ctl -c "$HARNESS_CONFIG" initialize
is "$status" "$EX_TEMPFAIL" "initialize with MariaDB stopped exits 75 (EX_TEMPFAIL)"
like "$out" '([Dd]atabase|MariaDB).*(unavailable|connect|reach)|(unavailable|connect|reach).*([Dd]atabase|MariaDB)' \
	"initialize says the database is unavailable"
