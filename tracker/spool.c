/*
 * spool.c -- postgate-tracker's write-ahead spool (tracker.spool_directory): every click
 * and load is appended to a local file before its request is answered, and what earlier
 * runs left there is replayed when the tracker starts, so a crash (kill -9, the OOM
 * killer, a bug) loses none that a browser got its answer for.
 *
 * Layout: the directory holds a lock file (one tracker per directory) and the files of
 * each run, KEY-NNNNNNNN.spool, KEY a random name per run. One line per record:
 *   SEQ TAB c|l TAB server_id TAB message_id TAB link_id TAB time TAB url TAB token
 *   TAB server_token TAB ip TAB user_agent LF
 * strings percent-encoded (bytes <= 0x20, >= 0x7f and '%'), "-" for none. SEQ numbers
 * the records of a run in the order they are queued. The recorder starts a new file
 * each time it takes the queue, flushes the old one to disk (fdatasync), and the old
 * file is removed once every record in it is written or dropped for good. Records
 * written to MariaDB before a crash are recognised by tracker_spools (tracking.h), so
 * a replay writes each exactly once.
 *
 * Appending: the WINDOW bytes of the file after its last record are allocated
 * (fallocate) and mapped shared, so a record is a memcpy into the page cache rather than
 * a write() system call per request. A record that does not fit in the window goes in
 * with pwritev() and the window moves past it; a file whose window could not be
 * allocated or mapped (a full disk, a file system without fallocate) takes every record
 * with pwritev(). When the file is done it is cut to the records' size. A file left by a
 * crash may end in NUL bytes (the unused allocation): reading stops there.
 *
 * What a record survives: the tracker's crash, always (the mapped page, or the data of a
 * pwritev(), is in the kernel's page cache before the answer goes out); a crash of the
 * whole machine, once its file was flushed, i.e. after at most one
 * tracker.flush_interval_ms.
 *
 * Must never: remove a file holding a record that is not written, answer a request
 * before its record is appended, or replay a record it cannot parse (logged, skipped).
 */
/* fallocate() is a Linux (GNU) interface. */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tracker.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

#define KEY_LEN 16
#define SUFFIX ".spool"
#define FIELDS 11
#define LOG_EVERY_SECONDS 30
/* Bytes mapped at a time (about 13,000 records; a multiple of the page size): moving
 * the window costs four system calls, and the mapped pages count in the resident size. */
#define WINDOW (2 << 20)

struct spool_seg {
    char key[KEY_LEN + 1];
    char *path;
    int fd;                     /* -1 once closed */
    char *win;                  /* WINDOW bytes of the file from win_off, or NULL */
    off_t win_off;
    int closed;                 /* no more appends: removed when refs drops to 0 */
    off_t size;                 /* bytes of whole records appended */
    size_t records;             /* appended by this run */
    size_t refs;                /* records not yet written or dropped */
    struct spool_seg *next;
};

static struct {
    pthread_mutex_t lock;
    char *dir;                  /* NULL: no spool */
    int lock_fd;
    char key[KEY_LEN + 1];      /* this run's */
    unsigned segno;
    unsigned long long seq;
    SPOOL_SEG *cur, *segs;
    char **forgotten;           /* keys without a file left, for tracker_spools */
    size_t nforgotten;
    double last_fail_log;
} sp = {.lock = PTHREAD_MUTEX_INITIALIZER, .lock_fd = -1};

int
spool_enabled(void)
{
    return sp.dir != NULL;
}

const char *
spool_key(const SPOOL_SEG *seg)
{
    return seg->key;
}

/* mkdir -p, each missing level with mode. */
static int
make_dirs(const char *path, mode_t mode)
{
    char *p = mem_strdup(path);
    int ret = 0;

    for (char *s = p + 1; ret == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        {
            char c = *s;

            *s = '\0';
            if (mkdir(p, mode) < 0 && errno != EEXIST)
                ret = -1;
            *s = c;
            if (c == '\0')
                break;
        }
    }
    mem_free(p);
    return ret;
}

int
spool_open(const char *dir, const char *user, char **error_r)
{
    struct passwd *pw = geteuid() == 0 ? getpwnam(user) : NULL;
    char *path;

    if (*dir == '\0')
        return 0;
    if (make_dirs(dir, 0750) < 0) {
        *error_r = buf_asprintf("cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (pw && chown(dir, pw->pw_uid, pw->pw_gid) < 0) {
        *error_r = buf_asprintf("cannot hand %s to %s: %s", dir, user, strerror(errno));
        return -1;
    }
    path = buf_asprintf("%s/lock", dir);
    sp.lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (sp.lock_fd < 0 || flock(sp.lock_fd, LOCK_EX | LOCK_NB) < 0) {
        *error_r = errno == EWOULDBLOCK ? buf_asprintf("%s is in use by another postgate-tracker", dir)
            : buf_asprintf("%s: %s", path, strerror(errno));
        mem_free(path);
        return -1;
    }
    mem_free(path);
    if (token_generate(sp.key, KEY_LEN, TOKEN_LOWER_ALNUM) < 0) {
        *error_r = mem_strdup("no random bytes for the spool's name");
        return -1;
    }
    sp.dir = mem_strdup(dir);
    return 0;
}

/* ---------------------------------------------------------------- records */

/* Appends TAB and s percent-encoded: runs of plain bytes in one append each. */
static void
put_str(BUF *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p, *run;

    buf_append_char(b, '\t');
    if (s == NULL) {
        buf_append_char(b, '-');
        return;
    }
    if (strcmp(s, "-") == 0) {
        buf_append_str(b, "%2D");
        return;
    }
    for (p = run = (const unsigned char *) s; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '%') {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};

            buf_append(b, run, (size_t) (p - run));
            buf_append(b, esc, sizeof(esc));
            run = p + 1;
        }
    }
    buf_append(b, run, (size_t) (p - run));
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A field back to its string: NULL for "-", *bad set on a broken escape. */
static char *
get_str(const char *f, int *bad)
{
    BUF *b;

    if (strcmp(f, "-") == 0)
        return NULL;
    b = buf_new(strlen(f) + 1);
    for (const char *p = f; *p; p++) {
        if (*p != '%') {
            buf_append_char(b, *p);
        } else if (hexval(p[1]) < 0 || hexval(p[2]) < 0 || (p[1] == '0' && p[2] == '0')) {
            *bad = 1;
            break;
        } else {
            buf_append_char(b, (char) (hexval(p[1]) * 16 + hexval(p[2])));
            p += 2;
        }
    }
    return buf_steal(b, NULL);
}

static int
get_ull(const char *f, unsigned long long *v)
{
    char *end;

    errno = 0;
    *v = strtoull(f, &end, 10);
    return *f && *end == '\0' && errno == 0 ? 0 : -1;
}

/* One line (without its LF) to an item; NULL when it does not parse. */
static RECORDER_ITEM *
parse_record(char *line)
{
    char *f[FIELDS], *rest = line, *t, *end;
    RECORDER_ITEM *it;
    int n = 0, bad = 0;

    while ((t = strsep(&rest, "\t")) != NULL && n <= FIELDS) {
        if (n < FIELDS)
            f[n] = t;
        n++;
    }
    if (n != FIELDS || (strcmp(f[1], "c") != 0 && strcmp(f[1], "l") != 0))
        return NULL;
    it = mem_zalloc(sizeof(*it));
    it->kind = f[1][0] == 'c' ? TRACKING_CLICK : TRACKING_LOAD;
    if (get_ull(f[0], &it->seq) < 0 || get_ull(f[2], &it->server_id) < 0 || get_ull(f[3], &it->message_id) < 0
        || get_ull(f[4], &it->link_id) < 0)
        bad = 1;
    it->time = strtod(f[5], &end);
    if (*end != '\0')
        bad = 1;
    it->url = get_str(f[6], &bad);
    it->token = get_str(f[7], &bad);
    it->server_token = get_str(f[8], &bad);
    it->ip = get_str(f[9], &bad);
    it->user_agent = get_str(f[10], &bad);
    if (it->kind == TRACKING_CLICK ? it->url == NULL || it->message_id == 0
        : it->message_id == 0 && (it->token == NULL || it->server_token == NULL))
        bad = 1;
    if (bad) {
        recorder_item_free(it);
        return NULL;
    }
    return it;
}

static void
unmap(SPOOL_SEG *seg)
{
    if (seg->win)
        munmap(seg->win, WINDOW);
    seg->win = NULL;
}

/* Allocates and maps the WINDOW bytes from the page seg's end is in; without a window
 * (no space, no fallocate) appends use pwritev(). Allocated, not sparse: a page of a
 * shared mapping that the file system cannot back when it is first written is a SIGBUS,
 * where pwritev() says ENOSPC. */
static void
map_window(SPOOL_SEG *seg)
{
    off_t off = seg->size & ~(off_t) (sysconf(_SC_PAGESIZE) - 1);
    void *m;

    unmap(seg);
    if (fallocate(seg->fd, 0, off, WINDOW) < 0)
        return;
    m = mmap(NULL, WINDOW, PROT_READ | PROT_WRITE, MAP_SHARED, seg->fd, off);
    if (m == MAP_FAILED) {
        if (ftruncate(seg->fd, seg->size) < 0)
            msg_warn("%s: cannot cut the allocation: %s", seg->path, strerror(errno));
        return;
    }
    seg->win = m;
    seg->win_off = off;
}

/* Appends TAB and v in decimal (buf_printf's cost showed in the tracker's profile). */
static void
put_ull(BUF *b, unsigned long long v)
{
    char digits[24], *p = digits + sizeof(digits);

    do
        *--p = (char) ('0' + v % 10);
    while ((v /= 10) != 0);
    *--p = '\t';
    buf_append(b, p, (size_t) (digits + sizeof(digits) - p));
}

BUF *
spool_record(const RECORDER_ITEM *it)
{
    BUF *b = buf_new(256);
    double t = it->time > 0 ? it->time : 0;
    unsigned long long sec = (unsigned long long) t, usec = (unsigned long long) ((t - (double) sec) * 1e6 + 0.5);
    char frac[8];

    if (usec >= 1000000) {
        sec++;
        usec -= 1000000;
    }
    buf_append_str(b, it->kind == TRACKING_CLICK ? "\tc" : "\tl");
    put_ull(b, it->server_id);
    put_ull(b, it->message_id);
    put_ull(b, it->link_id);
    put_ull(b, sec);
    /* the time as "%.6f" wrote it: seconds, a dot, six digits of microseconds */
    frac[0] = '.';
    for (int i = 6; i >= 1; i--, usec /= 10)
        frac[i] = (char) ('0' + usec % 10);
    buf_append(b, frac, 7);
    put_str(b, it->url);
    put_str(b, it->token);
    put_str(b, it->server_token);
    put_str(b, it->ip);
    put_str(b, it->user_agent);
    buf_append_char(b, '\n');
    return b;
}

int
spool_append(RECORDER_ITEM *it, const BUF *record)
{
    SPOOL_SEG *seg = sp.cur;
    char seq[24];
    struct iovec iov[2];
    size_t left, total;
    int n, ret = 0;

    if (seg == NULL)
        return -1;
    n = snprintf(seq, sizeof(seq), "%llu", sp.seq + 1);
    iov[0].iov_base = seq;
    iov[0].iov_len = (size_t) n;
    iov[1].iov_base = (void *) buf_data(record);
    iov[1].iov_len = buf_len(record);
    total = left = iov[0].iov_len + iov[1].iov_len;
    if (seg->win && seg->size >= seg->win_off && seg->size + (off_t) total <= seg->win_off + WINDOW) {
        char *p = seg->win + (seg->size - seg->win_off);

        memcpy(p, seq, iov[0].iov_len);
        memcpy(p + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
        left = 0;
    }
    while (left > 0) {
        ssize_t w = pwritev(seg->fd, iov, 2, seg->size + (off_t) (total - left));

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            double now = clock_mono_seconds();

            if (now - sp.last_fail_log >= LOG_EVERY_SECONDS) {
                msg_error("%s: cannot append a click or load (%s): it is kept in memory only",
                          seg->path, w < 0 ? strerror(errno) : "nothing written");
                sp.last_fail_log = now;
            }
            /* No partial line may stay: the next record would be lost with it. (The
             * window goes first: a mapped page past the end of the file is a SIGBUS.) */
            unmap(seg);
            if (ftruncate(seg->fd, seg->size) < 0)
                msg_error("%s: cannot cut a partial record: %s", seg->path, strerror(errno));
            ret = -1;
            break;
        }
        left -= (size_t) w;
        /* A short write (rare: a full disk, a signal): skip what went out, go on. */
        for (int i = 0; i < 2 && w > 0; i++) {
            size_t used = (size_t) w < iov[i].iov_len ? (size_t) w : iov[i].iov_len;

            iov[i].iov_base = (char *) iov[i].iov_base + used;
            iov[i].iov_len -= used;
            w -= (ssize_t) used;
        }
    }
    if (ret == 0) {
        int moved = seg->win && seg->size + (off_t) total > seg->win_off + WINDOW;

        seg->size += (off_t) total;
        if (moved)
            map_window(seg);
        it->seq = ++sp.seq;
        it->seg = seg;
        pthread_mutex_lock(&sp.lock);
        seg->records++;
        seg->refs++;
        pthread_mutex_unlock(&sp.lock);
    }
    return ret;
}

/* ---------------------------------------------------------------- files */

/* A new file of this run, made current. 0 or -1 (logged). */
static int
new_segment(void)
{
    SPOOL_SEG *seg = mem_zalloc(sizeof(*seg));

    memcpy(seg->key, sp.key, sizeof(seg->key));
    seg->path = buf_asprintf("%s/%s-%08u%s", sp.dir, sp.key, ++sp.segno, SUFFIX);
    seg->fd = open(seg->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (seg->fd < 0) {
        double now = clock_mono_seconds();

        if (now - sp.last_fail_log >= LOG_EVERY_SECONDS) {
            msg_error("%s: %s", seg->path, strerror(errno));
            sp.last_fail_log = now;
        }
        mem_free(seg->path);
        mem_free(seg);
        return -1;
    }
    map_window(seg);
    pthread_mutex_lock(&sp.lock);
    seg->next = sp.segs;
    sp.segs = seg;
    pthread_mutex_unlock(&sp.lock);
    sp.cur = seg;
    return 0;
}

/* Removes seg when it is closed and holds nothing unwritten (sp.lock held); a key with
 * no file left is noted for tracker_spools. */
static void
maybe_remove(SPOOL_SEG *seg)
{
    SPOOL_SEG **pp;
    int others = 0;

    if (!seg->closed || seg->refs > 0 || seg->fd >= 0)
        return;
    if (unlink(seg->path) < 0 && errno != ENOENT)
        msg_warn("%s: cannot remove: %s", seg->path, strerror(errno));
    for (pp = &sp.segs; *pp && *pp != seg; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = seg->next;
    for (SPOOL_SEG *s = sp.segs; s; s = s->next)
        others += strcmp(s->key, seg->key) == 0;
    if (!others && (strcmp(seg->key, sp.key) != 0 || sp.cur == NULL)) {
        sp.forgotten = mem_realloc(sp.forgotten, (sp.nforgotten + 2) * sizeof(char *));
        sp.forgotten[sp.nforgotten++] = mem_strdup(seg->key);
        sp.forgotten[sp.nforgotten] = NULL;
    }
    mem_free(seg->path);
    mem_free(seg);
}

void
spool_release(SPOOL_SEG *seg)
{
    pthread_mutex_lock(&sp.lock);
    if (seg->refs > 0)
        seg->refs--;
    maybe_remove(seg);
    pthread_mutex_unlock(&sp.lock);
}

SPOOL_SEG *
spool_rotate(void)
{
    SPOOL_SEG *old = sp.cur;

    if (old == NULL || old->records == 0 || new_segment() < 0)
        return NULL;
    pthread_mutex_lock(&sp.lock);
    old->closed = 1;
    pthread_mutex_unlock(&sp.lock);
    return old;
}

/* Unmaps seg, cuts off the unused allocation and flushes it to disk (the file's size
 * with it). */
static void
finish(SPOOL_SEG *seg)
{
    if (seg->win) {
        unmap(seg);
        if (ftruncate(seg->fd, seg->size) < 0)
            msg_warn("%s: cannot cut the unused allocation: %s", seg->path, strerror(errno));
    }
    if (fdatasync(seg->fd) < 0)
        msg_warn("%s: fdatasync: %s", seg->path, strerror(errno));
}

void
spool_sync(SPOOL_SEG *seg)
{
    finish(seg);
    close(seg->fd);
    pthread_mutex_lock(&sp.lock);
    seg->fd = -1;
    maybe_remove(seg);
    pthread_mutex_unlock(&sp.lock);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int
spool_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    return n == KEY_LEN + 1 + 8 + strlen(SUFFIX) && d->d_name[KEY_LEN] == '-'
        && strcmp(d->d_name + n - strlen(SUFFIX), SUFFIX) == 0;
}

/* Reads one file of an earlier run into add(); returns its segment (closed). */
static SPOOL_SEG *
replay_file(const char *name, void (*add)(RECORDER_ITEM *), size_t *records, size_t *bad)
{
    SPOOL_SEG *seg = mem_zalloc(sizeof(*seg));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    FILE *fp;

    memcpy(seg->key, name, KEY_LEN);
    seg->path = buf_asprintf("%s/%s", sp.dir, name);
    seg->fd = -1;
    seg->closed = 1;
    if ((fp = fopen(seg->path, "re")) == NULL) {
        msg_error("%s: %s; left in place", seg->path, strerror(errno));
        seg->refs = 1;          /* never removed by this run */
        return seg;
    }
    while ((len = getline(&line, &cap, fp)) > 0) {
        RECORDER_ITEM *it;

        if (line[0] == '\0')
            break;              /* the unused allocation of a file the crash left */
        if (line[len - 1] != '\n' || memchr(line, '\0', (size_t) len) != NULL) {
            (*bad)++;           /* cut off by a crash mid-write: never answered */
            break;
        }
        line[len - 1] = '\0';
        if ((it = parse_record(line)) == NULL) {
            (*bad)++;
            continue;
        }
        it->seg = seg;
        seg->refs++;
        (*records)++;
        add(it);
    }
    free(line);
    fclose(fp);
    return seg;
}

size_t
spool_start(void (*add)(RECORDER_ITEM *))
{
    struct dirent **names;
    size_t records = 0, bad = 0, files = 0;
    int n;

    if (sp.dir == NULL)
        return 0;
    n = scandir(sp.dir, &names, spool_file, by_name);
    if (n < 0)
        msg_fatal("%s: %s", sp.dir, strerror(errno));
    for (int i = 0; i < n; i++) {
        SPOOL_SEG *seg = replay_file(names[i]->d_name, add, &records, &bad);

        pthread_mutex_lock(&sp.lock);
        seg->next = sp.segs;
        sp.segs = seg;
        maybe_remove(seg);
        pthread_mutex_unlock(&sp.lock);
        free(names[i]);
        files++;
    }
    free(names);
    if (files)
        msg_info("spool %s: replaying %zu clicks and loads left by an earlier run (%zu files%s)", sp.dir, records,
                 files, bad ? ", some unreadable lines skipped" : "");
    if (bad)
        msg_warn("spool %s: %zu lines could not be read and are skipped", sp.dir, bad);
    if (new_segment() < 0)
        msg_fatal("spool %s: cannot start a file", sp.dir);
    return records;
}

char **
spool_take_forgotten(void)
{
    char **keys;

    pthread_mutex_lock(&sp.lock);
    keys = sp.forgotten;
    sp.forgotten = NULL;
    sp.nforgotten = 0;
    pthread_mutex_unlock(&sp.lock);
    return keys;
}

void
spool_close(void)
{
    SPOOL_SEG *cur = sp.cur;

    if (sp.dir == NULL)
        return;
    sp.cur = NULL;
    if (cur) {
        finish(cur);
        close(cur->fd);
        pthread_mutex_lock(&sp.lock);
        cur->fd = -1;
        cur->closed = 1;
        maybe_remove(cur);
        pthread_mutex_unlock(&sp.lock);
    }
}

void
spool_free(void)
{
    pthread_mutex_lock(&sp.lock);
    while (sp.segs) {
        SPOOL_SEG *s = sp.segs;

        sp.segs = s->next;
        unmap(s);
        if (s->fd >= 0)
            close(s->fd);
        mem_free(s->path);
        mem_free(s);
    }
    for (size_t i = 0; i < sp.nforgotten; i++)
        mem_free(sp.forgotten[i]);
    mem_free(sp.forgotten);
    sp.forgotten = NULL;
    sp.nforgotten = 0;
    pthread_mutex_unlock(&sp.lock);
    if (sp.lock_fd >= 0)
        close(sp.lock_fd);
    sp.lock_fd = -1;
    mem_free(sp.dir);
    sp.dir = NULL;
    sp.cur = NULL;
    sp.segno = 0;
    sp.seq = 0;
}
