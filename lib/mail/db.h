/*
 * db.h -- MariaDB access: prepared statements only, transactions, reconnects, and
 * errors that say whether retrying can help.
 *
 * Contract: every function returning int answers
 *     >= 0          success (db_exec: affected rows; db_query: row count)
 *     DB_ERR_TEMP   temporary: the server is unreachable or went away, a lock wait
 *                   timed out, a deadlock, too many connections, a Galera node not
 *                   ready. The caller answers Postfix 4xx / HTTP 503 and retries later.
 *     DB_ERR_PERM   permanent: the statement itself failed (duplicate key,
 *                   constraint, bad data). Retrying the same input fails again.
 * Modules hand rows to their callers as typed structs (DB_ROWS, db_query_rows()): the
 * column list of a query is written once, next to its SQL, so no caller indexes
 * columns or parses numbers. db_error()/db_errno() describe the last failure. A DB handle is used by one thread
 * at a time. SQL text is always a constant: values travel only as parameters.
 *
 * Reconnects: outside a transaction, db_query() is retried once on a fresh connection
 * after a lost connection; db_exec() only when the failure happened before the server
 * could have run it (preparing, or a connection already known dead), so no write is
 * ever applied twice. Outside a transaction a statement that lost a conflict (1213: a
 * deadlock, or a Galera certification failure) was not applied and is run again. Inside
 * a transaction nothing is retried statement by statement: db_transaction() runs the
 * whole transaction again.
 */
#ifndef PG_DB_H
#define PG_DB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mail/conf.h"

#define DB_ERR_TEMP (-1)
#define DB_ERR_PERM (-2)

/* MariaDB error numbers callers test for. */
#define DB_ER_DUP_ENTRY 1062
#define DB_ER_BAD_DB 1049
#define DB_ER_NO_SUCH_TABLE 1146
/* A lost conflict: an InnoDB deadlock, or a Galera certification failure. */
#define DB_ER_LOCK_DEADLOCK 1213

typedef struct db DB;
typedef struct db_result DB_RESULT;

typedef enum { DB_P_NULL, DB_P_STR, DB_P_BLOB, DB_P_INT, DB_P_UINT, DB_P_DOUBLE } DB_PARAM_TYPE;

typedef struct db_param {
    DB_PARAM_TYPE type;
    const void *data;
    size_t len;
    long long i;
    unsigned long long u;
    double d;
} DB_PARAM;

/* Parameter constructors: the compiler checks each value's type. */
static inline DB_PARAM
db_param_str(const char *s)
{
    return (DB_PARAM) {.type = s ? DB_P_STR : DB_P_NULL, .data = s, .len = s ? strlen(s) : 0};
}

#define DB_STR(s) db_param_str(s)
#define DB_BLOB(p, n) ((DB_PARAM) {.type = DB_P_BLOB, .data = (const void *) (p), .len = (n)})
#define DB_INT(v) ((DB_PARAM) {.type = DB_P_INT, .i = (long long) (v)})
#define DB_UINT(v) ((DB_PARAM) {.type = DB_P_UINT, .u = (unsigned long long) (v)})
#define DB_DOUBLE(v) ((DB_PARAM) {.type = DB_P_DOUBLE, .d = (double) (v)})
#define DB_NULL ((DB_PARAM) {.type = DB_P_NULL})
#define DB_ARGS(...) (DB_PARAM[]) {__VA_ARGS__}, sizeof((DB_PARAM[]) {__VA_ARGS__}) / sizeof(DB_PARAM)
#define DB_NOARGS NULL, 0

/* Call once before threads start. */
void db_library_init(void);

/* A handle for cfg's database; connects lazily. cfg must outlive the handle. */
DB *db_new(const PGCONF *cfg);
void db_free(DB *db);
/* Connects now (to no database when without_database, e.g. to create it). */
int db_connect(DB *db, int without_database);
void db_disconnect(DB *db);

int db_exec(DB *db, const char *sql, const DB_PARAM *params, size_t nparams);
int db_query(DB *db, DB_RESULT **result_r, const char *sql, const DB_PARAM *params, size_t nparams);
unsigned long long db_insert_id(const DB *db);

int db_begin(DB *db);
int db_commit(DB *db);
/* Never fails from the caller's point of view: a lost connection rolls back too. */
void db_rollback(DB *db);

/*
 * A transaction's body: its statements on db, inside the transaction db_transaction()
 * opened. It answers >= 0 to commit (the value is handed back) or < 0 to roll back (a
 * DB_ERR_* from a statement, passed on as is). It may run more than once, so it must
 * read what it decides on inside itself and set every output afresh each run.
 */
typedef int DB_TXN_BODY(DB *db, void *arg);

/*
 * Runs body in a transaction and commits it. When the transaction loses a conflict with
 * another (error 1213: an InnoDB deadlock, or on Galera a certification failure, at any
 * statement or at COMMIT) nothing of it was applied, so it is rolled back and run whole
 * again after a short random pause, up to DB_TXN_ATTEMPTS times. Any other failure is
 * returned at once. Returns body's value after the commit, or < 0 (rolled back).
 * The one way multi-statement writes are run, so none of them is retried piecemeal.
 */
#define DB_TXN_ATTEMPTS 6
int db_transaction(DB *db, DB_TXN_BODY *body, void *arg);

/* Runs a trusted multi-statement SQL script (migrations); *failed_stmt_r = 1-based index. */
int db_run_script(DB *db, const char *sql, size_t len, int *failed_stmt_r);

const char *db_error(const DB *db);
unsigned db_errno(const DB *db);
/* How many times db has changed data so far: committed transactions and autocommit
 * statements that changed rows. A caller that reads it before and after some work knows
 * whether any of that work took effect (a request that lost a conflict before anything
 * took effect may run again whole). */
unsigned long long db_changes(const DB *db);
/* 1 when MariaDB/Connector error number err is worth retrying later. */
int db_errno_is_temporary(unsigned err);

/* For monitoring: sql selects COUNT(*) and the age in microseconds of the oldest row
 * (no parameters); into *count_r and *oldest_seconds_r. 0, or < 0. */
int db_count_and_age(DB *db, const char *sql, unsigned long long *count_r, double *oldest_seconds_r);

size_t db_result_rows(const DB_RESULT *res);
size_t db_result_cols(const DB_RESULT *res);
/* The value as text (NUL-terminated, may contain NULs for blobs) or NULL for SQL NULL. */
const char *db_result_get(const DB_RESULT *res, size_t row, size_t col);
size_t db_result_len(const DB_RESULT *res, size_t row, size_t col);
void db_result_free(DB_RESULT *res);

/* ---- typed rows: a result as an array of a module's row struct (CREDENTIAL_ROW, ...),
 * converted once where the SQL is, so callers never index columns or parse numbers. */

/* What a column becomes: a string (NULL for SQL NULL, pointing into the result), an id
 * (0 for NULL), a boolean int (0/1), a whole number (-1 for NULL: for counters that
 * cannot be negative, and flags that may be unknown), or a double (NAN for NULL: scores,
 * UNIX timestamps with microseconds). */
typedef enum { DB_COL_STR, DB_COL_ID, DB_COL_BOOL, DB_COL_NUM, DB_COL_REAL } DB_COL_KIND;

/* Column i of a result goes to the field at offset of the row struct. */
typedef struct db_col {
    DB_COL_KIND kind;
    size_t offset;
} DB_COL;

#define DB_COL_AT(kind, type, field) {kind, offsetof(type, field)}

/* Rows of a query: v is an array of n row structs whose strings live in res. */
typedef struct db_rows {
    void *v;
    size_t n;
    DB_RESULT *res;
} DB_ROWS;

/* Turns res (taken over; ncols columns, as cols says) into rows of size bytes each. */
void db_rows_take(DB_ROWS *rows, DB_RESULT *res, const DB_COL *cols, size_t ncols, size_t size);

/* db_query() straight into typed rows: the row count, < 0 database error (rows empty). */
int db_query_rows(DB *db, DB_ROWS *rows, const DB_COL *cols, size_t ncols, size_t size, const char *sql,
                  const DB_PARAM *params, size_t nparams);

/* Frees the rows and the result behind them; rows is empty afterwards. */
void db_rows_free(DB_ROWS *rows);

/* db_query() of one column into a NULL-terminated array of copies (*values_r: mem_free each
 * and the array; a NULL value becomes ""): the row count, < 0 database error (nothing returned). */
int db_query_strings(DB *db, char ***values_r, size_t *count_r, const char *sql, const DB_PARAM *params,
                     size_t nparams);

#endif
