#!/bin/bash
#
# db.t -- lib/mail/db.c against the real MariaDB: every parameter type survives a
# round trip; a killed connection is replaced without the caller seeing it for a
# query and without a write ever being applied twice; lock wait timeouts and a
# stopped server are temporary (Postfix would get 4xx), a duplicate key permanent.
# Driven through tests/integration/dbprobe (built by `make -C tests/integration dbprobe`).
#
# Must never: accept a classification it did not observe from the real server.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

probe="$POSTGATE_BUILDDIR/tests/integration/dbprobe"
[ -x "$probe" ] || { ok 1 "dbprobe is built ($probe missing: make -C tests/integration dbprobe)"; exit 1; }

harness_setup mariadb
plan 15

session() { "$probe" -c "$HARNESS_CONFIG" session; }
T=$'\t'

# 1: round trip of text with quotes and UTF-8, blob with NULs, 64-bit ints, NULL, 300 kB.
out=$("$probe" -c "$HARNESS_CONFIG" roundtrip 2>&1) || true
is "$out" "roundtrip ok" "every parameter type survives a round trip"

harness_sql "CREATE TABLE probe (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB; INSERT INTO probe VALUES (1, 0)"

# 2: a duplicate key is permanent (1062).
out=$(printf 'exec\tINSERT INTO probe VALUES (?, ?)\t1\t5\n' | session)
like "$out" "^perm 1062 " "a duplicate key is a permanent failure"

# 3-5: kill the connection between two queries: the next query reconnects transparently.
coproc PROBE { session 2>&1; }
echo "query${T}SELECT CONNECTION_ID()" >&"${PROBE[1]}"
read -r -t 10 line <&"${PROBE[0]}"; read -r -t 10 id1 <&"${PROBE[0]}"
is "$line" "rows 1" "first query answers"
harness_root_sql "KILL CONNECTION $id1"
echo "query${T}SELECT CONNECTION_ID()" >&"${PROBE[1]}"
read -r -t 10 line <&"${PROBE[0]}"; read -r -t 10 id2 <&"${PROBE[0]}"
is "$line" "rows 1" "a query after the connection was killed succeeds on a new connection"
isnt "$id2" "$id1" "it really is a new connection"

# 6-7: kill it again, then write: the write either succeeds once or reports a temporary
# failure, and is never applied twice.
harness_root_sql "KILL CONNECTION $id2"
echo "exec${T}UPDATE probe SET v = v + 1 WHERE id = ?${T}1" >&"${PROBE[1]}"
read -r -t 10 wrote <&"${PROBE[0]}"
like "$wrote" "^(ok 1|temp (2006|2013|1927) )" "a write on a killed connection succeeds or fails temporarily"
v=$(harness_sql "SELECT v FROM probe WHERE id = 1")
if [[ $wrote == ok* ]]; then expect=1; else expect=0; fi
is "$v" "$expect" "the write was applied exactly as often as reported ($wrote)"
fd=${PROBE[1]}; exec {fd}>&-
wait "$PROBE_PID" || true

# 8-9: a lock wait timeout is temporary (1205) and the transaction can be retried.
harness_sql "SELECT 1" >/dev/null
(harness_sql "START TRANSACTION; SELECT v FROM probe WHERE id = 1 FOR UPDATE; SELECT SLEEP(4); COMMIT" >/dev/null) &
locker=$!
sleep 0.5
out=$(printf 'exec\tSET SESSION innodb_lock_wait_timeout = 1\nbegin\nexec\tUPDATE probe SET v = 100 WHERE id = ?\t1\nrollback\n' | session)
like "$out" $'temp 1205 ' "a lock wait timeout is a temporary failure"
wait "$locker"
out=$(printf 'begin\nexec\tUPDATE probe SET v = 100 WHERE id = ?\t1\ncommit\n' | session)
is "$(harness_sql "SELECT v FROM probe WHERE id = 1")" "100" "the retried transaction commits once the lock is gone"

# 10-11: a transaction interrupted by a lost connection is reported, not half-applied.
coproc PROBE { session 2>&1; }
printf 'begin\nexec\tUPDATE probe SET v = 7 WHERE id = ?\t1\nquery\tSELECT CONNECTION_ID()\n' >&"${PROBE[1]}"
read -r -t 10 _ <&"${PROBE[0]}"; read -r -t 10 _ <&"${PROBE[0]}"; read -r -t 10 _ <&"${PROBE[0]}"; read -r -t 10 id3 <&"${PROBE[0]}"
harness_root_sql "KILL CONNECTION $id3"
printf 'commit\n' >&"${PROBE[1]}"
read -r -t 10 out <&"${PROBE[0]}"
like "$out" "^temp " "commit after the connection died inside a transaction is a temporary failure"
fd=${PROBE[1]}; exec {fd}>&-
wait "$PROBE_PID" || true
is "$(harness_sql "SELECT v FROM probe WHERE id = 1")" "100" "nothing of the lost transaction was applied"

# 12-15: MariaDB stopped: temporary (Postfix would answer 4xx); started again: works.
instance_mariadb_stop "$HARNESS_DIR/mariadb"
out=$(printf 'query\tSELECT v FROM probe WHERE id = ?\t1\n' | session)
like "$out" "^temp 200[26] " "a stopped server is a temporary failure"
instance_mariadb_start "$HARNESS_DIR/mariadb" || true
out=$(printf 'query\tSELECT v FROM probe WHERE id = ?\t1\n' | session)
is "$out" $'rows 1\n100' "the same query works once the server is back"
status=0
out=$("$POSTGATE_BUILDDIR/ctl/postgatectl" -c "$HARNESS_CONFIG" initialize 2>&1) || status=$?
like "$status $out" "^65 .*already holds tables that postgate did not create" \
	"initialize refuses a database holding tables it did not create"
harness_sql "DROP TABLE probe"
out=$("$POSTGATE_BUILDDIR/ctl/postgatectl" -c "$HARNESS_CONFIG" initialize 2>&1)
like "$out" "initialized at schema version" "postgatectl initializes the emptied database on the restarted server"
