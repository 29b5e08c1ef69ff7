/*
 * db.c -- MariaDB Connector/C behind db.h: a per-handle cache of prepared statements,
 * reconnect rules, temporary/permanent error classification, and results turned into
 * the modules' typed row structs (db_query_rows()).
 * Never builds SQL from input: the only text sent outside prepared statements is
 * constant (transactions, session set-up) or a trusted script (migrations).
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "mail/db.h"
#include "util/mem.h"
#include "util/metrics.h"
#include "util/msg.h"

#define DB_STMT_CACHE 64

struct db_result {
    size_t rows, cols;
    char **vals;        /* rows * cols, NULL for SQL NULL */
    size_t *lens;
};

struct stmt_slot {
    const char *sql;    /* the caller's constant */
    MYSQL_STMT *stmt;
};

struct db {
    const PGCONF *cfg;
    MYSQL *conn;
    int in_txn;
    unsigned err;
    char error[512];
    unsigned long long insert_id;
    unsigned long long changes;     /* db_changes() */
    struct stmt_slot cache[DB_STMT_CACHE];
    size_t cache_next;
};

void
db_library_init(void)
{
    if (mysql_library_init(0, NULL, NULL) != 0)
        msg_fatal("cannot initialize the MariaDB client library");
}

int
db_errno_is_temporary(unsigned err)
{
    switch (err) {
    case ER_CON_COUNT_ERROR:            /* 1040 too many connections */
    case ER_TOO_MANY_USER_CONNECTIONS:  /* 1203 */
    case ER_SERVER_SHUTDOWN:            /* 1053 */
    case ER_LOCK_WAIT_TIMEOUT:          /* 1205 */
    case ER_LOCK_DEADLOCK:              /* 1213 */
    case ER_QUERY_INTERRUPTED:          /* 1317 */
    case ER_UNKNOWN_COM_ERROR:          /* 1047 Galera: node not ready */
    case ER_OPTION_PREVENTS_STATEMENT:  /* 1290 read-only during fail-over */
    case ER_DISK_FULL:                  /* 1021 */
    case ER_RECORD_FILE_FULL:           /* 1114 */
    case ER_OUT_OF_RESOURCES:           /* 1041 */
    case ER_OUTOFMEMORY:                /* 1037 */
    case ER_LOCK_TABLE_FULL:            /* 1206 */
    case ER_CONNECTION_KILLED:          /* 1927 */
    case 4031:                          /* ER_CLIENT_INTERACTION_TIMEOUT */
        return 1;
    default:
        /* Every client-side (2xxx) error is about the connection, not the statement. */
        return err >= CR_MIN_ERROR && err <= CR_MAX_ERROR;
    }
}

/* Errors that mean the connection is unusable and must be replaced. */
static int
errno_is_connection_lost(unsigned err)
{
    return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONNECTION_ERROR
        || err == CR_CONN_HOST_ERROR || err == ER_CONNECTION_KILLED || err == ER_SERVER_SHUTDOWN
        || err == CR_SERVER_LOST_EXTENDED || err == 4031 || err == CR_COMMANDS_OUT_OF_SYNC;
}

/* postgate_db_errors_total by kind: connect, temporary (retried or tempfailed), permanent. */
static METRIC *errors_connect, *errors_temporary, *errors_permanent;
static pthread_once_t errors_once = PTHREAD_ONCE_INIT;

static void
errors_init(void)
{
    static const char help[] = "MariaDB errors by kind (connect, temporary, permanent)";

    errors_connect = metrics_counter("postgate_db_errors_total", help, "kind=\"connect\"");
    errors_temporary = metrics_counter("postgate_db_errors_total", help, "kind=\"temporary\"");
    errors_permanent = metrics_counter("postgate_db_errors_total", help, "kind=\"permanent\"");
}

static void
count_error(METRIC **which)
{
    pthread_once(&errors_once, errors_init);
    metrics_inc(*which);
}

static int
db_fail(DB *db, unsigned err, const char *what, const char *detail)
{
    int temporary = db_errno_is_temporary(err);

    db->err = err;
    snprintf(db->error, sizeof(db->error), "%s: %s (%u)", what, detail, err);
    count_error(temporary ? &errors_temporary : &errors_permanent);
    return temporary ? DB_ERR_TEMP : DB_ERR_PERM;
}

DB *
db_new(const PGCONF *cfg)
{
    DB *db = mem_zalloc(sizeof(*db));

    db->cfg = cfg;
    return db;
}

static void
cache_clear(DB *db)
{
    for (size_t i = 0; i < DB_STMT_CACHE; i++) {
        if (db->cache[i].stmt)
            mysql_stmt_close(db->cache[i].stmt);
        db->cache[i].stmt = NULL;
        db->cache[i].sql = NULL;
    }
    db->cache_next = 0;
}

void
db_disconnect(DB *db)
{
    cache_clear(db);
    if (db->conn)
        mysql_close(db->conn);
    db->conn = NULL;
    db->in_txn = 0;
}

void
db_free(DB *db)
{
    if (db == NULL)
        return;
    db_disconnect(db);
    mem_free(db);
}

int
db_connect(DB *db, int without_database)
{
    const PGCONF *cfg = db->cfg;
    unsigned int connect_timeout = (unsigned) cfg->database_connect_timeout;
    unsigned int rw_timeout = (unsigned) cfg->database_read_timeout;
    unsigned int local_infile = 0;
    const char *socket = *cfg->database_socket ? cfg->database_socket : NULL;
    MYSQL *conn;

    db_disconnect(db);
    conn = mysql_init(NULL);
    if (conn == NULL)
        return db_fail(db, CR_OUT_OF_MEMORY, "database", "mysql_init failed");
    mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
    mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
    mysql_options(conn, MYSQL_OPT_LOCAL_INFILE, &local_infile);
    mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* All times are stored and compared in UTC. */
    mysql_options(conn, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
    if (mysql_real_connect(conn, socket ? NULL : cfg->database_host, cfg->database_user,
                           cfg->database_password, without_database ? NULL : cfg->database_name,
                           socket ? 0 : (unsigned) cfg->database_port, socket, 0) == NULL) {
        unsigned err = mysql_errno(conn);
        char where[300];

        snprintf(where, sizeof(where), "cannot connect to MariaDB at %s as %s",
                 socket ? socket : cfg->database_host, cfg->database_user);
        db->err = err;
        snprintf(db->error, sizeof(db->error), "%s: %s (%u)", where, mysql_error(conn), err);
        mysql_close(conn);
        count_error(&errors_connect);
        /* Access denied or an unknown database is a configuration error, but mail
         * must still be tempfailed, never bounced: any failure to connect is temporary. */
        return DB_ERR_TEMP;
    }
    db->conn = conn;
    db->err = 0;
    db->error[0] = '\0';
    return 0;
}

/* Returns the cached prepared statement for sql, preparing it on first use. */
static int
stmt_get(DB *db, const char *sql, MYSQL_STMT **stmt_r)
{
    struct stmt_slot *slot;
    MYSQL_STMT *stmt;

    for (size_t i = 0; i < DB_STMT_CACHE; i++) {
        if (db->cache[i].sql && (db->cache[i].sql == sql || strcmp(db->cache[i].sql, sql) == 0)) {
            *stmt_r = db->cache[i].stmt;
            return 0;
        }
    }
    stmt = mysql_stmt_init(db->conn);
    if (stmt == NULL)
        return db_fail(db, mysql_errno(db->conn), "prepare", mysql_error(db->conn));
    if (mysql_stmt_prepare(stmt, sql, strlen(sql)) != 0) {
        int ret = db_fail(db, mysql_stmt_errno(stmt), "prepare", mysql_stmt_error(stmt));

        mysql_stmt_close(stmt);
        return ret;
    }
    slot = &db->cache[db->cache_next];
    if (slot->stmt)
        mysql_stmt_close(slot->stmt);
    slot->sql = sql;
    slot->stmt = stmt;
    db->cache_next = (db->cache_next + 1) % DB_STMT_CACHE;
    *stmt_r = stmt;
    return 0;
}

static void
bind_params(MYSQL_BIND *bind, const DB_PARAM *params, size_t n, my_bool *is_null)
{
    for (size_t i = 0; i < n; i++) {
        MYSQL_BIND *b = &bind[i];
        const DB_PARAM *p = &params[i];

        memset(b, 0, sizeof(*b));
        is_null[i] = 0;
        switch (p->type) {
        case DB_P_NULL:
            b->buffer_type = MYSQL_TYPE_NULL;
            is_null[i] = 1;
            b->is_null = &is_null[i];
            break;
        case DB_P_STR:
        case DB_P_BLOB:
            /* Text binds as a string so typed columns (UUID, INET6, DATETIME) convert it. */
            b->buffer_type = p->type == DB_P_STR ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            b->buffer = (void *) p->data;
            b->buffer_length = (unsigned long) p->len;
            b->length_value = (unsigned long) p->len;
            break;
        case DB_P_INT:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = (void *) &p->i;
            break;
        case DB_P_UINT:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = (void *) &p->u;
            b->is_unsigned = 1;
            break;
        case DB_P_DOUBLE:
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = (void *) &p->d;
            break;
        }
    }
}

static int
stmt_fail(DB *db, MYSQL_STMT *stmt, const char *what)
{
    return db_fail(db, mysql_stmt_errno(stmt), what, mysql_stmt_error(stmt));
}

/* Reads every row of an executed statement into a DB_RESULT. */
static int
fetch_all(DB *db, MYSQL_STMT *stmt, DB_RESULT **result_r)
{
    my_bool update_max = 1;
    MYSQL_RES *meta;
    MYSQL_FIELD *fields;
    DB_RESULT *res;
    MYSQL_BIND *bind;
    unsigned long *lengths;
    my_bool *nulls, *errors;
    char **bufs;
    size_t cols, cap = 16;
    int ret = 0;

    mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
    if (mysql_stmt_store_result(stmt) != 0)
        return stmt_fail(db, stmt, "store result");
    meta = mysql_stmt_result_metadata(stmt);
    if (meta == NULL) {
        mysql_stmt_free_result(stmt);
        return db_fail(db, CR_UNKNOWN_ERROR, "query", "statement returns no result set");
    }
    cols = mysql_num_fields(meta);
    fields = mysql_fetch_fields(meta);
    bind = mem_zalloc(cols * sizeof(*bind));
    lengths = mem_zalloc(cols * sizeof(*lengths));
    nulls = mem_zalloc(cols * sizeof(*nulls));
    errors = mem_zalloc(cols * sizeof(*errors));
    bufs = mem_zalloc(cols * sizeof(*bufs));
    for (size_t c = 0; c < cols; c++) {
        unsigned long size = fields[c].max_length > 64 ? fields[c].max_length : 64;

        bufs[c] = mem_alloc(size + 1);
        bind[c].buffer_type = MYSQL_TYPE_STRING;
        bind[c].buffer = bufs[c];
        bind[c].buffer_length = size + 1;
        bind[c].length = &lengths[c];
        bind[c].is_null = &nulls[c];
        bind[c].error = &errors[c];
    }
    res = mem_zalloc(sizeof(*res));
    res->cols = cols;
    res->vals = mem_alloc(cap * cols * sizeof(char *));
    res->lens = mem_alloc(cap * cols * sizeof(size_t));
    if (mysql_stmt_bind_result(stmt, bind) != 0) {
        ret = stmt_fail(db, stmt, "bind result");
        goto done;
    }
    for (;;) {
        int rc = mysql_stmt_fetch(stmt);

        if (rc == MYSQL_NO_DATA)
            break;
        if (rc == 1) {
            ret = stmt_fail(db, stmt, "fetch");
            goto done;
        }
        if (res->rows == cap) {
            cap *= 2;
            res->vals = mem_realloc(res->vals, cap * cols * sizeof(char *));
            res->lens = mem_realloc(res->lens, cap * cols * sizeof(size_t));
        }
        for (size_t c = 0; c < cols; c++) {
            size_t k = res->rows * cols + c;

            if (nulls[c]) {
                res->vals[k] = NULL;
                res->lens[k] = 0;
            } else if (lengths[c] >= bind[c].buffer_length) {
                /* Truncated (max_length was not known for this type): fetch it whole. */
                MYSQL_BIND one;
                char *full = mem_alloc(lengths[c] + 1);
                unsigned long flen = 0;

                memset(&one, 0, sizeof(one));
                one.buffer_type = MYSQL_TYPE_STRING;
                one.buffer = full;
                one.buffer_length = lengths[c] + 1;
                one.length = &flen;
                if (mysql_stmt_fetch_column(stmt, &one, (unsigned) c, 0) != 0) {
                    mem_free(full);
                    res->rows++;
                    for (size_t r = c; r < cols; r++)
                        res->vals[res->rows * cols - cols + r] = NULL;
                    ret = stmt_fail(db, stmt, "fetch column");
                    goto done;
                }
                full[flen] = '\0';
                res->vals[k] = full;
                res->lens[k] = flen;
            } else {
                res->vals[k] = mem_strndup(bufs[c], lengths[c]);
                res->lens[k] = lengths[c];
            }
        }
        res->rows++;
    }
done:
    for (size_t c = 0; c < cols; c++)
        mem_free(bufs[c]);
    mem_free(bufs);
    mem_free(bind);
    mem_free(lengths);
    mem_free(nulls);
    mem_free(errors);
    mysql_free_result(meta);
    mysql_stmt_free_result(stmt);
    if (ret < 0) {
        db_result_free(res);
        return ret;
    }
    *result_r = res;
    return (int) res->rows;
}

/* Prepares (cached), binds and executes; retries once on a fresh connection when safe. */
static int
db_run(DB *db, const char *sql, const DB_PARAM *params, size_t nparams, DB_RESULT **result_r)
{
    int deadlocks = 0;

    for (int attempt = 0; attempt < 2; attempt++) {
        MYSQL_STMT *stmt = NULL;
        MYSQL_BIND *bind;
        my_bool *is_null;
        int ret;

        if (db->conn == NULL) {
            if (db->in_txn)
                return db_fail(db, CR_SERVER_LOST, "transaction", "connection lost during the transaction");
            if ((ret = db_connect(db, 0)) < 0)
                return ret;
        }
        if ((ret = stmt_get(db, sql, &stmt)) < 0) {
            /* Nothing ran yet: a dead connection may be replaced and the statement retried. */
            if (errno_is_connection_lost(db->err)) {
                int was_txn = db->in_txn;

                db_disconnect(db);
                if (!was_txn && attempt == 0)
                    continue;
            }
            return ret;
        }
        if (mysql_stmt_param_count(stmt) != nparams) {
            msg_error("database: statement expects %lu parameters, given %zu: %s",
                      mysql_stmt_param_count(stmt), nparams, sql);
            return db_fail(db, CR_UNKNOWN_ERROR, "bind", "wrong number of parameters");
        }
        bind = mem_zalloc((nparams ? nparams : 1) * sizeof(*bind));
        is_null = mem_zalloc((nparams ? nparams : 1) * sizeof(*is_null));
        bind_params(bind, params, nparams, is_null);
        if (nparams && mysql_stmt_bind_param(stmt, bind) != 0) {
            ret = stmt_fail(db, stmt, "bind");
        } else if (mysql_stmt_execute(stmt) != 0) {
            ret = stmt_fail(db, stmt, "execute");
        } else if (result_r) {
            ret = fetch_all(db, stmt, result_r);
        } else {
            my_ulonglong affected = mysql_stmt_affected_rows(stmt);

            db->insert_id = mysql_stmt_insert_id(stmt);
            ret = affected == (my_ulonglong) -1 ? 0 : (int) affected;
            if (ret > 0 && !db->in_txn)
                db->changes++;
        }
        mem_free(bind);
        mem_free(is_null);
        if (ret == DB_ERR_TEMP && db->err == ER_LOCK_DEADLOCK && !db->in_txn && deadlocks++ < 3) {
            /* An autocommit statement that lost a conflict was not applied: run it again. */
            attempt--;
            continue;
        }
        if (ret < 0 && errno_is_connection_lost(db->err)) {
            /* The server may or may not have run it: report, never re-run. */
            int was_txn = db->in_txn;

            db_disconnect(db);
            db->in_txn = was_txn;
            /* A write may have run before the connection died; a query may be re-run. */
            if ((db->err == CR_SERVER_GONE_ERROR || result_r != NULL) && !was_txn && attempt == 0)
                continue;
            db->in_txn = 0;
        }
        return ret;
    }
    return DB_ERR_TEMP;
}

int
db_exec(DB *db, const char *sql, const DB_PARAM *params, size_t nparams)
{
    return db_run(db, sql, params, nparams, NULL);
}

int
db_query(DB *db, DB_RESULT **result_r, const char *sql, const DB_PARAM *params, size_t nparams)
{
    *result_r = NULL;
    return db_run(db, sql, params, nparams, result_r);
}

unsigned long long
db_insert_id(const DB *db)
{
    return db->insert_id;
}

unsigned long long
db_changes(const DB *db)
{
    return db->changes;
}

/* A constant statement outside the prepared-statement path. */
static int
db_simple(DB *db, const char *sql)
{
    if (db->conn == NULL) {
        int ret = db_connect(db, 0);

        if (ret < 0)
            return ret;
    }
    if (mysql_real_query(db->conn, sql, strlen(sql)) != 0) {
        int ret = db_fail(db, mysql_errno(db->conn), sql, mysql_error(db->conn));

        if (errno_is_connection_lost(db->err))
            db_disconnect(db);
        return ret;
    }
    return 0;
}

int
db_begin(DB *db)
{
    int ret;

    if (db->in_txn)
        msg_panic("db_begin: transaction already open");
    if ((ret = db_simple(db, "START TRANSACTION")) < 0)
        return ret;
    db->in_txn = 1;
    return 0;
}

int
db_commit(DB *db)
{
    int ret;

    if (!db->in_txn)
        msg_panic("db_commit: no transaction open");
    if (db->conn == NULL) {
        db->in_txn = 0;
        return db_fail(db, CR_SERVER_LOST, "commit", "connection lost during the transaction");
    }
    ret = db_simple(db, "COMMIT");
    db->in_txn = 0;
    if (ret == 0)
        db->changes++;
    return ret;
}

void
db_rollback(DB *db)
{
    if (db->in_txn && db->conn && mysql_real_query(db->conn, "ROLLBACK", 8) != 0)
        db_disconnect(db);      /* the server rolls back a dropped connection's transaction */
    db->in_txn = 0;
}

int
db_run_script(DB *db, const char *sql, size_t len, int *failed_stmt_r)
{
    int index = 1;
    int status;
    int ret = 0;

    *failed_stmt_r = 0;
    if (db->conn == NULL && (ret = db_connect(db, 0)) < 0)
        return ret;
    mysql_set_server_option(db->conn, MYSQL_OPTION_MULTI_STATEMENTS_ON);
    status = mysql_real_query(db->conn, sql, (unsigned long) len);
    for (;;) {
        if (status != 0) {
            *failed_stmt_r = index;
            ret = db_fail(db, mysql_errno(db->conn), "script", mysql_error(db->conn));
            break;
        }
        MYSQL_RES *r = mysql_store_result(db->conn);

        if (r)
            mysql_free_result(r);
        status = mysql_next_result(db->conn);
        if (status == -1) {
            status = 0;
            break;
        }
        index++;
    }
    if (db->conn) {
        if (ret < 0 && errno_is_connection_lost(db->err))
            db_disconnect(db);
        else
            mysql_set_server_option(db->conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
    }
    return ret;
}

const char *
db_error(const DB *db)
{
    return db->error;
}

unsigned
db_errno(const DB *db)
{
    return db->err;
}

size_t
db_result_rows(const DB_RESULT *res)
{
    return res ? res->rows : 0;
}

size_t
db_result_cols(const DB_RESULT *res)
{
    return res ? res->cols : 0;
}

const char *
db_result_get(const DB_RESULT *res, size_t row, size_t col)
{
    if (res == NULL || row >= res->rows || col >= res->cols)
        msg_panic("db_result_get: row %zu col %zu out of range", row, col);
    return res->vals[row * res->cols + col];
}

size_t
db_result_len(const DB_RESULT *res, size_t row, size_t col)
{
    if (res == NULL || row >= res->rows || col >= res->cols)
        msg_panic("db_result_len: row %zu col %zu out of range", row, col);
    return res->lens[row * res->cols + col];
}

void
db_result_free(DB_RESULT *res)
{
    if (res == NULL)
        return;
    for (size_t i = 0; i < res->rows * res->cols; i++)
        mem_free(res->vals[i]);
    mem_free(res->vals);
    mem_free(res->lens);
    mem_free(res);
}

/* ---------------------------------------------------------------- typed rows */

void
db_rows_take(DB_ROWS *rows, DB_RESULT *res, const DB_COL *cols, size_t ncols, size_t size)
{
    rows->n = db_result_rows(res);
    rows->res = res;
    rows->v = mem_zalloc((rows->n ? rows->n : 1) * size);
    if (res && res->cols < ncols)
        msg_panic("db_rows_take: %zu columns, %zu expected", res->cols, ncols);
    for (size_t i = 0; i < rows->n; i++) {
        char *row = (char *) rows->v + i * size;

        for (size_t k = 0; k < ncols; k++) {
            const char *v = res->vals[i * res->cols + k];
            void *at = row + cols[k].offset;

            switch (cols[k].kind) {
            case DB_COL_STR:
                *(const char **) at = v;
                break;
            case DB_COL_ID:
                *(unsigned long long *) at = v ? strtoull(v, NULL, 10) : 0;
                break;
            case DB_COL_BOOL:
                *(int *) at = v && atoi(v) != 0;
                break;
            case DB_COL_NUM:
                *(long long *) at = v ? strtoll(v, NULL, 10) : -1;
                break;
            case DB_COL_REAL:
                *(double *) at = v ? strtod(v, NULL) : NAN;
                break;
            }
        }
    }
}

int
db_query_rows(DB *db, DB_ROWS *rows, const DB_COL *cols, size_t ncols, size_t size, const char *sql,
              const DB_PARAM *params, size_t nparams)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, sql, params, nparams);

    memset(rows, 0, sizeof(*rows));
    if (ret < 0) {
        db_result_free(res);
        return ret;
    }
    db_rows_take(rows, res, cols, ncols, size);
    return (int) rows->n;
}

int
db_query_strings(DB *db, char ***values_r, size_t *count_r, const char *sql, const DB_PARAM *params,
                 size_t nparams)
{
    DB_RESULT *res = NULL;
    char **values;
    size_t n;
    int ret = db_query(db, &res, sql, params, nparams);

    *values_r = NULL;
    *count_r = 0;
    if (ret < 0) {
        db_result_free(res);
        return ret;
    }
    n = db_result_rows(res);
    values = mem_zalloc((n + 1) * sizeof(*values));
    for (size_t i = 0; i < n; i++) {
        const char *v = db_result_get(res, i, 0);

        values[i] = mem_strdup(v ? v : "");
    }
    db_result_free(res);
    *values_r = values;
    *count_r = n;
    return (int) n;
}

void
db_rows_free(DB_ROWS *rows)
{
    if (rows == NULL)
        return;
    mem_free(rows->v);
    db_result_free(rows->res);
    memset(rows, 0, sizeof(*rows));
}

int
db_count_and_age(DB *db, const char *sql, unsigned long long *count_r, double *oldest_seconds_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, sql, DB_NOARGS);

    if (ret > 0) {
        *count_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
        *oldest_seconds_r = strtod(db_result_get(res, 0, 1), NULL) / 1e6;
    }
    db_result_free(res);
    return ret < 0 ? ret : 0;
}
