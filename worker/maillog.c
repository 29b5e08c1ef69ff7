/*
 * maillog.c -- the "maillog" task: reads Postfix's maillog_file and records each
 * recipient's delivery result for the messages postgate recorded (deliveries, message
 * status, webhook events), following the file through rotation and truncation.
 *
 * Exactly once: the results of a run of complete lines and the position after them
 * (postfix_log_positions: host, file, inode, byte offset) commit in ONE transaction. A
 * crash, a restart or a MariaDB outage rolls back to the last committed position and
 * the same lines are read again; nothing is skipped, nothing counted twice.
 *
 * Rotation (`postfix logrotate`: rename, reload, compress a second later): when the path
 * names a new inode, the old file (still open) is read to its end and until it stayed
 * quiet for a few seconds (postlogd writes to it until it reopens), then the new
 * file from byte 0. Started with a position in an inode the path no longer names, the
 * reader finds the rotated file by inode in the same directory and finishes it first;
 * if it was compressed meanwhile, what was not yet read of it is logged as lost.
 * A file shorter than the position was truncated: it is read again from 0.
 *
 * sent_with_ssl: Postfix logs "... TLS connection established to PEER" (smtp_tls_loglevel
 * >= 1) from the delivery process before its delivery lines; the last such peer per
 * process is remembered and a delivery by that process to that relay counts as TLS.
 *
 * Must never: advance the position past a line whose result was not committed, block
 * the stop for longer than one batch, or msg_fatal after start().
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logline.h"
#include "logopen.h"
#include "maillog.h"
#include "mail/delivery.h"
#include "mail/logpos.h"
#include "mail/message.h"
#include "stats.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"

#define READ_CHUNK (64 * 1024)          /* bytes per batch (one transaction) */
#define LINE_MAX_BYTES READ_CHUNK       /* a longer "line" is skipped as garbage */
#define IDLE_SECONDS 0.25               /* poll interval at the end of the file */
#define ROTATE_CHECK_SECONDS 1.0
#define ROTATE_GRACE 3.0                /* the old file must stay quiet this long (whole seconds: > 2 s) */
#define BACKOFF_MAX 30.0
#define TLS_SLOTS 64
#define PEER_BYTES 320
#define UNKNOWN_SLOTS 4096              /* queue IDs known not to be postgate's */
#define QID_BYTES 32

typedef struct tls_peer {
    unsigned long pid;
    char service[16];
    char peer[PEER_BYTES];
} TLS_PEER;

struct maillog {
    WORKER_ENV *env;
    LOGOPEN *opener;
    char *path;
    pthread_t thread;
    int running;
    /* Reading state: owned by the thread. */
    int fd;                             /* the file being read, or -1 */
    unsigned long long ino;
    unsigned long long offset;          /* committed: the byte after the last recorded line */
    int rotated;                        /* path names another file than fd */
    double rotated_since, last_growth, last_rotate_check;
    unsigned char *chunk;
    BUF *line;
    TLS_PEER tls[TLS_SLOTS];
    size_t tls_next;
    char unknown[UNKNOWN_SLOTS][QID_BYTES];
    unsigned long long lines_recorded;
};

/* ---------------------------------------------------------------- small caches */

static void
tls_remember(MAILLOG *ml, const LOGLINE *ll)
{
    TLS_PEER *slot = NULL;

    for (size_t i = 0; i < TLS_SLOTS; i++)
        if (ml->tls[i].pid == ll->pid && strcmp(ml->tls[i].service, ll->service) == 0)
            slot = &ml->tls[i];
    if (slot == NULL) {
        slot = &ml->tls[ml->tls_next];
        ml->tls_next = (ml->tls_next + 1) % TLS_SLOTS;
    }
    slot->pid = ll->pid;
    snprintf(slot->service, sizeof(slot->service), "%s", ll->service);
    snprintf(slot->peer, sizeof(slot->peer), "%s", ll->peer);
}

static int
tls_used(const MAILLOG *ml, const LOGLINE *ll)
{
    if (ll->relay == NULL)
        return 0;
    for (size_t i = 0; i < TLS_SLOTS; i++)
        if (ml->tls[i].pid == ll->pid && strcmp(ml->tls[i].service, ll->service) == 0)
            return strcmp(ml->tls[i].peer, ll->relay) == 0;
    return 0;
}

static size_t
qid_slot(const char *qid)
{
    unsigned long h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *) qid; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % UNKNOWN_SLOTS;
}

/* Queue IDs postgate did not record stay unknown: the milter commits a message's rows
 * before Postfix can log its delivery, so a miss is final. */
static int
qid_unknown(const MAILLOG *ml, const char *qid)
{
    return strcmp(ml->unknown[qid_slot(qid)], qid) == 0;
}

static void
qid_set_unknown(MAILLOG *ml, const char *qid)
{
    snprintf(ml->unknown[qid_slot(qid)], QID_BYTES, "%s", qid);
}

/* ---------------------------------------------------------------- one line */

static int
real_relay(const char *relay)
{
    return relay && *relay && strcmp(relay, "none") != 0;
}

/* Postal's sentences ("Message for x@y accepted by relay"). */
static char *
details_for(const char *status, const LOGLINE *ll, const char *rcpt)
{
    const char *proto = strcmp(ll->service, "smtp") == 0 ? "SMTP " : strcmp(ll->service, "lmtp") == 0 ? "LMTP " : "";

    if (strcmp(status, DELIVERY_SENT) == 0)
        return real_relay(ll->relay) ? buf_asprintf("Message for %s accepted by %s", rcpt, ll->relay)
            : buf_asprintf("Message for %s delivered by Postfix's %s service", rcpt, ll->service);
    if (strcmp(status, DELIVERY_SOFTFAIL) == 0)
        return real_relay(ll->relay) ? buf_asprintf("Temporary %sdelivery error when sending to %s", proto, ll->relay)
            : buf_asprintf("Temporary delivery error for %s; Postfix will try again", rcpt);
    return real_relay(ll->relay) ? buf_asprintf("Permanent %sdelivery error when sending to %s", proto, ll->relay)
        : buf_asprintf("Permanent delivery error for %s", rcpt);
}

/* The recipients of a queue file that expired: those not yet delivered fail for good. */
static int
record_expiry(MAILLOG *ml, DB *db, const LOGLINE *ll)
{
    DB_RESULT *res = NULL;
    char token[MESSAGE_TOKEN_LEN + 1];
    int ret = delivery_unfinished_rcpts(db, ll->queue_id, &res);

    for (int i = 0; i < ret; i++) {
        const char *rcpt = db_result_get(res, (size_t) i, 0);
        int forced = strcmp(ll->status, "force-expired") == 0;
        char *details = forced ? buf_asprintf("Message for %s was expired in Postfix's queue by its administrator "
                                              "(postsuper -e) and returned to the sender", rcpt)
            : buf_asprintf("Message for %s expired in Postfix's queue after repeated temporary "
                           "failures and was returned to the sender", rcpt);
        DELIVERY_ATTEMPT a = {
            .queue_id = ll->queue_id, .rcpt = rcpt, .status = DELIVERY_HARDFAIL, .details = details,
            .output = forced ? "status=force-expired, returned to sender" : "status=expired, returned to sender",
            .dsn = "5.4.7", .time = -1, .when = ll->when,
            .only_unfinished = 1, .token_r = token, .token_size = sizeof(token),
        };
        int r = delivery_record(db, &a);

        mem_free(details);
        if (r < 0) {
            ret = r;
            break;
        }
        if (r > 0) {
            msg_context_set_token(token);
            msg_info("%s: to=<%s>: HardFail (expired)", ll->queue_id, rcpt);
            ml->lines_recorded++;
        }
    }
    db_result_free(res);
    return ret < 0 ? ret : 0;
}

static int
record_delivery(MAILLOG *ml, DB *db, const LOGLINE *ll)
{
    const char *status, *reply;
    char *details, *output, token[MESSAGE_TOKEN_LEN + 1];
    size_t reply_len;
    int ret;

    if (strcmp(ll->status, "sent") == 0)
        status = DELIVERY_SENT;
    else if (strcmp(ll->status, "deferred") == 0 || strcmp(ll->status, "SOFTBOUNCE") == 0)
        status = DELIVERY_SOFTFAIL;
    else if (strcmp(ll->status, "bounced") == 0)
        status = DELIVERY_HARDFAIL;
    else
        return 0;                       /* address probes (deliverable/undeliverable) and the like */
    details = details_for(status, ll, ll->to);
    reply = logline_reply(ll->text, &reply_len);
    output = mem_strndup(reply, reply_len);
    DELIVERY_ATTEMPT a = {
        .queue_id = ll->queue_id, .rcpt = ll->to, .orig_rcpt = ll->orig_to, .status = status,
        .details = details, .output = output, .dsn = ll->dsn, .relay = real_relay(ll->relay) ? ll->relay : NULL,
        .sent_with_ssl = tls_used(ml, ll), .time = ll->delay, .when = ll->when,
        .token_r = token, .token_size = sizeof(token),
    };
    ret = delivery_record(db, &a);
    mem_free(details);
    mem_free(output);
    if (ret > 0) {
        msg_context_set_token(token);
        msg_info("%s: to=<%s>: %s (dsn %s)", ll->queue_id, ll->to, status, ll->dsn ? ll->dsn : "-");
        ml->lines_recorded++;
        return 0;
    }
    if (ret < 0)
        return ret;
    if ((ret = delivery_queue_id_known(db, ll->queue_id)) < 0)
        return ret;
    if (ret == 0)
        qid_set_unknown(ml, ll->queue_id);
    else
        msg_warn("%s: to=<%s>: no recorded recipient matches this delivery", ll->queue_id, ll->to);
    return 0;
}

/* Records one parsed line; < 0 database error. */
static int
handle_parsed(MAILLOG *ml, DB *db, LOGLINE_KIND kind, const LOGLINE *ll)
{
    int ret;

    switch (kind) {
    case LOGLINE_TLS:
        tls_remember(ml, ll);
        return 0;
    case LOGLINE_DELIVERY:
        if (qid_unknown(ml, ll->queue_id))
            return 0;
        return record_delivery(ml, db, ll);
    case LOGLINE_REFUSED:
        if (qid_unknown(ml, ll->queue_id))
            return 0;
        if ((ret = delivery_forget_refused(db, ll->queue_id)) < 0)
            return ret;
        if (ret > 0) {
            msg_info("%s: refused by Postfix after the milter recorded it: %d message row(s) and the raw copy "
                     "removed", ll->queue_id, ret);
            ml->lines_recorded++;
        }
        return 0;
    case LOGLINE_EXPIRED:
        if (qid_unknown(ml, ll->queue_id))
            return 0;
        if ((ret = record_expiry(ml, db, ll)) < 0)
            return ret;
        return 0;
    default:
        return 0;
    }
}

/* Parses and records one line, its lines logged with its queue ID (and the token of the
 * row it changed) in the log context; < 0 database error. */
static int
handle_line(MAILLOG *ml, DB *db, const char *text, size_t len)
{
    LOGLINE ll;
    LOGLINE_KIND kind;
    int ret;

    buf_reset(ml->line);
    buf_append(ml->line, text, len);
    kind = logline_parse((char *) buf_cstr(ml->line), time(NULL), &ll);
    if (kind == LOGLINE_DELIVERY || kind == LOGLINE_REFUSED || kind == LOGLINE_EXPIRED)
        msg_context_set_queue_id(ll.queue_id);
    ret = handle_parsed(ml, db, kind, &ll);
    msg_context_clear();
    return ret;
}

/* ---------------------------------------------------------------- batches */

/* Records lines data[0..len) (complete lines) and the position after them in one
 * transaction. 0 ok, < 0 database error (nothing changed). */
typedef struct lines_txn {
    MAILLOG *ml;
    const unsigned char *data;
    size_t len;
} LINES_TXN;

/* The batch's statements; the caches it fills (TLS peers, queue IDs not ours) hold what
 * a run again finds the same. */
static int
lines_txn(DB *db, void *arg)
{
    const LINES_TXN *t = arg;
    size_t start = 0;
    int ret;

    while (start < t->len) {
        const unsigned char *nl = memchr(t->data + start, '\n', t->len - start);
        size_t end = nl ? (size_t) (nl - t->data) : t->len;

        if ((ret = handle_line(t->ml, db, (const char *) t->data + start, end - start)) < 0)
            return ret;
        start = end + 1;
    }
    ret = logpos_set(db, t->ml->env->host, t->ml->path, t->ml->ino, t->ml->offset + t->len);
    return ret < 0 ? ret : 0;
}

static int
commit_lines(MAILLOG *ml, DB *db, const unsigned char *data, size_t len)
{
    LINES_TXN t = {.ml = ml, .data = data, .len = len};
    int ret = db_transaction(db, lines_txn, &t);

    if (ret < 0)
        return ret;
    ml->offset += len;
    return 0;
}

/* A batch failed permanently (a statement that can never succeed): record its lines one
 * by one and skip, with an error, only the line that fails. */
static int
commit_lines_singly(MAILLOG *ml, DB *db, const unsigned char *data, size_t len)
{
    size_t start = 0;

    while (start < len) {
        const unsigned char *nl = memchr(data + start, '\n', len - start);
        size_t end = nl ? (size_t) (nl - data) + 1 : len;
        int ret = commit_lines(ml, db, data + start, end - start);

        if (ret == DB_ERR_PERM) {
            msg_error("%s: byte %llu: skipping a line that cannot be recorded (%s): %.*s", ml->path, ml->offset,
                      db_error(db), (int) (end - start > 300 ? 300 : end - start), (const char *) data + start);
            if ((ret = logpos_set(db, ml->env->host, ml->path, ml->ino, ml->offset + (end - start))) < 0)
                return ret;
            ml->offset += end - start;
        } else if (ret < 0) {
            return ret;
        }
        start = end;
    }
    return 0;
}

static int
store_position(MAILLOG *ml, DB *db, unsigned long long ino, unsigned long long offset)
{
    int ret = logpos_set(db, ml->env->host, ml->path, ino, offset);

    if (ret < 0)
        msg_warn("%s: recording the read position: %s", ml->path, db_error(db));
    return ret;
}

/* ---------------------------------------------------------------- the file */

static void
close_file(MAILLOG *ml)
{
    if (ml->fd >= 0)
        close(ml->fd);
    ml->fd = -1;
    ml->rotated = 0;
}

static unsigned long long
inode_of(int fd, off_t *size_r)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return 0;
    if (size_r)
        *size_r = st.st_size;
    return (unsigned long long) st.st_ino;
}

/* Opens the file at the committed position (see the header). 1 open, 0 no file yet, < 0. */
static int
open_at_position(MAILLOG *ml, DB *db)
{
    unsigned long long ino = 0, offset = 0;
    int cur = -1, old = -1, ret, found;
    off_t size = 0;

    if ((found = logpos_get(db, ml->env->host, ml->path, &ino, &offset)) < 0) {
        msg_warn("%s: reading the position: %s", ml->path, db_error(db));
        return found;
    }
    if ((ret = logopen_current(ml->opener, &cur)) < 0)
        return DB_ERR_TEMP;
    if (found && (ret == 0 || inode_of(cur, NULL) != ino)) {
        if ((ret = logopen_rotated(ml->opener, ino, &old)) < 0) {
            if (cur >= 0)
                close(cur);
            return DB_ERR_TEMP;
        }
        if (ret == 0)
            msg_warn("%s: the rotated file (inode %llu) is gone (compressed or removed): results logged in it "
                     "after byte %llu are not recorded", ml->path, ino, offset);
    }
    if (old >= 0) {
        if (cur >= 0)
            close(cur);
        ml->fd = old;
        ml->rotated = 1;
        ml->rotated_since = (double) clock_mono_seconds();
        msg_info("%s: finishing the rotated file (inode %llu) from byte %llu", ml->path, ino, offset);
    } else if (cur >= 0) {
        ml->fd = cur;
        if (!found || inode_of(cur, NULL) != ino)
            offset = 0;
    } else {
        return 0;                       /* no log file yet */
    }
    ml->ino = inode_of(ml->fd, &size);
    if ((off_t) offset > size) {
        msg_warn("%s: the file is shorter than the recorded position %llu: it was truncated; reading it "
                 "from the start", ml->path, offset);
        offset = 0;
    }
    ml->offset = offset;
    ml->last_growth = (double) clock_mono_seconds();
    if (!found || offset == 0)
        msg_info("%s: reading from byte %llu (inode %llu)", ml->path, offset, ml->ino);
    else
        msg_info("%s: resuming at byte %llu (inode %llu)", ml->path, offset, ml->ino);
    return 1;
}

/* At the end of the file: truncation, rotation. 1 something changed, 0 idle, < 0. */
static int
at_end(MAILLOG *ml, DB *db)
{
    double now = (double) clock_mono_seconds();
    off_t size = 0;
    int cur = -1, ret;

    inode_of(ml->fd, &size);
    if (size < (off_t) ml->offset && !ml->rotated) {
        msg_warn("%s: truncated (now %lld bytes, read up to %llu): reading it from the start", ml->path,
                 (long long) size, ml->offset);
        if ((ret = store_position(ml, db, ml->ino, 0)) < 0)
            return ret;
        ml->offset = 0;
        return 1;
    }
    if (!ml->rotated) {
        if (now - ml->last_rotate_check < ROTATE_CHECK_SECONDS)
            return 0;
        ml->last_rotate_check = now;
        if ((ret = logopen_current(ml->opener, &cur)) <= 0)
            return ret < 0 ? DB_ERR_TEMP : 0;  /* renamed, new one not there yet */
        ret = inode_of(cur, NULL) != ml->ino;
        close(cur);
        if (!ret)
            return 0;
        ml->rotated = 1;
        ml->rotated_since = now;
        msg_info("%s: rotated; finishing the old file (inode %llu) first", ml->path, ml->ino);
    }
    if (now - ml->rotated_since < ROTATE_GRACE || now - ml->last_growth < ROTATE_GRACE)
        return 0;
    if ((ret = logopen_current(ml->opener, &cur)) <= 0)
        return ret < 0 ? DB_ERR_TEMP : 0;
    if ((ret = store_position(ml, db, inode_of(cur, NULL), 0)) < 0) {
        close(cur);
        return ret;
    }
    msg_info("%s: done with inode %llu at byte %llu; now reading inode %llu", ml->path, ml->ino, ml->offset,
             inode_of(cur, NULL));
    close(ml->fd);
    ml->fd = cur;
    ml->ino = inode_of(cur, NULL);
    ml->offset = 0;
    ml->rotated = 0;
    ml->last_growth = now;
    return 1;
}

/* One unit of work. 1 progress, 0 nothing to do, < 0 temporary failure (back off). */
static int
step(MAILLOG *ml, DB *db)
{
    ssize_t n;
    size_t len;
    int ret;

    if (ml->fd < 0 && (ret = open_at_position(ml, db)) <= 0)
        return ret;
    n = pread(ml->fd, ml->chunk, READ_CHUNK, (off_t) ml->offset);
    if (n < 0) {
        msg_warn("%s: read: %s; reopening", ml->path, strerror(errno));
        close_file(ml);
        return DB_ERR_TEMP;
    }
    if (n == 0)
        return at_end(ml, db);
    ml->last_growth = (double) clock_mono_seconds();
    /* Only complete lines: postlogd writes a line and its newline in one write(). */
    for (len = (size_t) n; len > 0 && ml->chunk[len - 1] != '\n'; len--)
        ;
    if (len == 0) {
        if (n < LINE_MAX_BYTES)
            return 0;                   /* a line still being written */
        msg_warn("%s: byte %llu: a line longer than %d bytes; skipping it", ml->path, ml->offset, LINE_MAX_BYTES);
        len = (size_t) n;
    }
    ret = commit_lines(ml, db, ml->chunk, len);
    if (ret == DB_ERR_PERM)
        ret = commit_lines_singly(ml, db, ml->chunk, len);
    if (ret < 0) {
        msg_warn("%s: recording results from byte %llu failed (%s); will retry from the committed position",
                 ml->path, ml->offset, db_error(db));
        /* A connection lost at COMMIT may have committed the batch, position and all: only
         * the position in the database says where to go on from, so the file is reopened
         * there rather than read again from the offset in memory. */
        close_file(ml);
        return ret;
    }
    return 1;
}

static void *
run(void *arg)
{
    MAILLOG *ml = arg;
    double backoff = 1;

    while (!atomic_load(&ml->env->stopping)) {
        DB *db = dbpool_get(ml->env->pool);
        int ret = step(ml, db);
        off_t size = 0;

        dbpool_put(ml->env->pool, db);
        if (ml->fd >= 0 && inode_of(ml->fd, &size) && (unsigned long long) size >= ml->offset)
            stats_maillog_unread((unsigned long long) size - ml->offset);
        if (ret < 0) {
            worker_sleep(ml->env, backoff);
            backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
        } else {
            backoff = 1;
            if (ret == 0)
                worker_sleep(ml->env, IDLE_SECONDS);
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- the task */

int
maillog_prepare(WORKER_ENV *env, void **task_r)
{
    PGCONF *cfg = conf_holder_get(&env->conf);
    MAILLOG *ml = mem_zalloc(sizeof(*ml));

    ml->env = env;
    ml->fd = -1;
    ml->path = mem_strdup(cfg->postfix_maillog_file);
    conf_unref(cfg);
    if (ml->path[0] != '/') {
        msg_error("postfix.maillog_file: \"%s\" is not an absolute path", ml->path);
        goto fail;
    }
    if ((ml->opener = logopen_start(ml->path)) == NULL)
        goto fail;
    *task_r = ml;
    return 0;
fail:
    mem_free(ml->path);
    mem_free(ml);
    return -1;
}

int
maillog_start(WORKER_ENV *env, void **task_r)
{
    MAILLOG *ml = *task_r;
    int err;

    ml->chunk = mem_alloc(READ_CHUNK);
    ml->line = buf_new(512);
    if ((err = pthread_create(&ml->thread, NULL, run, ml)) != 0) {
        msg_error("maillog: pthread_create: %s", strerror(err));
        return -1;
    }
    ml->running = 1;
    (void) env;
    return 0;
}

void
maillog_stop(void *task)
{
    MAILLOG *ml = task;

    if (ml == NULL)
        return;
    if (ml->running)
        pthread_join(ml->thread, NULL);
    close_file(ml);
    logopen_stop(ml->opener);
    msg_info("maillog: %llu delivery result(s) recorded in this run", ml->lines_recorded);
    mem_free(ml->chunk);
    buf_free(ml->line);
    mem_free(ml->path);
    mem_free(ml);
}
