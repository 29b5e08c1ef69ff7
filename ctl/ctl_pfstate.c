/*
 * ctl_pfstate.c -- ctl_pfstate.h: the state file and the backups of main.cf and master.cf.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl_pfstate.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define STATE_SIZE_LIMIT (1024 * 1024)

void
state_free(STATE *st)
{
    for (size_t i = 0; i < st->count; i++) {
        mem_free(st->items[i].name);
        mem_free(st->items[i].value);
    }
    mem_free(st->items);
    memset(st, 0, sizeof(*st));
}

const STATE_ENTRY *
state_get(const STATE *st, const char *name)
{
    for (size_t i = 0; i < st->count; i++)
        if (strcmp(st->items[i].name, name) == 0)
            return &st->items[i];
    return NULL;
}

void
state_add(STATE *st, const char *name, size_t name_len, int was_set, const char *value)
{
    st->items = mem_realloc(st->items, (st->count + 1) * sizeof(STATE_ENTRY));
    st->items[st->count].name = mem_strndup(name, name_len);
    st->items[st->count].was_set = was_set;
    st->items[st->count].value = mem_strdup(was_set ? value : "");
    st->count++;
}

static int
name_ok(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/*
 * Reads DIR/postgate.state: "set NAME = VALUE" or "unset NAME" per line, '#' comments.
 * A missing file is an empty state. Returns 0, EX_DATAERR (malformed) or EX_IOERR.
 */
int
state_load(const PF *pf, STATE *st)
{
    char *path = path_join(pf->dir, STATE_FILE);
    BUF *text = buf_new(4096);
    char chunk[4096];
    ssize_t n;
    int fd, status = 0, lineno = 0;
    const char *line;

    memset(st, 0, sizeof(*st));
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno != ENOENT) {
            msg_error("%s: %s", path, strerror(errno));
            status = EX_IOERR;
        }
        goto done;
    }
    st->exists = 1;
    buf_set_limit(text, STATE_SIZE_LIMIT);
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || buf_append(text, chunk, (size_t) n) < 0) {
            msg_error("%s: %s", path, n < 0 ? strerror(errno) : "larger than 1 MB: not a postgate state file");
            status = n < 0 ? EX_IOERR : EX_DATAERR;
            close(fd);
            goto done;
        }
    }
    close(fd);
    if (memchr(buf_data(text), '\0', buf_len(text)) != NULL) {
        msg_error("%s: contains a NUL byte: not a postgate state file", path);
        status = EX_DATAERR;
        goto done;
    }
    for (line = buf_cstr(text); *line;) {
        size_t len = strcspn(line, "\n");
        const char *next = line[len] ? line + len + 1 : line + len;

        lineno++;
        if (len == 0 || line[0] == '#') {
            line = next;
            continue;
        }
        if (strncmp(line, "unset ", 6) == 0 && name_ok(line + 6, len - 6)) {
            state_add(st, line + 6, len - 6, 0, NULL);
        } else if (strncmp(line, "set ", 4) == 0) {
            const char *name = line + 4, *eq = memchr(name, '=', len - 4);
            size_t name_len = eq ? (size_t) (eq - name) : 0;
            char *value;

            if (name_len < 2 || name[name_len - 1] != ' ' || !name_ok(name, name_len - 1)) {
                msg_error("%s:%d: malformed line", path, lineno);
                status = EX_DATAERR;
                goto done;
            }
            value = mem_strndup(eq + 1, len - (size_t) (eq + 1 - line));
            state_add(st, name, name_len - 1, 1, value[0] == ' ' ? value + 1 : value);
            mem_free(value);
        } else {
            msg_error("%s:%d: malformed line (expected \"set NAME = VALUE\" or \"unset NAME\")", path, lineno);
            status = EX_DATAERR;
            goto done;
        }
        line = next;
    }
done:
    if (status != 0)
        state_free(st);
    buf_free(text);
    mem_free(path);
    return status;
}

/* Writes text to path atomically (temporary file, fsync, rename). */
static int
write_file_atomic(const char *path, const char *text, mode_t mode)
{
    char *tmp = buf_asprintf("%s.tmp", path);
    size_t len = strlen(text), done = 0;
    int fd, ok = 1;

    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0) {
        msg_error("cannot create %s: %s", tmp, strerror(errno));
        mem_free(tmp);
        return EX_CANTCREAT;
    }
    while (ok && done < len) {
        ssize_t n = write(fd, text + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            ok = 0;
        else
            done += (size_t) n;
    }
    if (!ok || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
        msg_error("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        mem_free(tmp);
        return EX_CANTCREAT;
    }
    mem_free(tmp);
    return 0;
}

int
state_save(const PF *pf, const STATE *st)
{
    char *path = path_join(pf->dir, STATE_FILE);
    BUF *b = buf_new(1024);
    time_t now = time(NULL);
    char when[64];
    int status;

    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    buf_printf(b, "# %s -- written by postgatectl postfix enable (%s).\n"
               "# main.cf parameters as they were before postgate changed them;\n"
               "# postgatectl postfix disable restores them and removes this file. Do not edit.\n",
               STATE_FILE, when);
    for (size_t i = 0; i < st->count; i++) {
        if (st->items[i].was_set)
            buf_printf(b, "set %s = %s\n", st->items[i].name, st->items[i].value);
        else
            buf_printf(b, "unset %s\n", st->items[i].name);
    }
    status = write_file_atomic(path, buf_cstr(b), 0644);
    buf_free(b);
    mem_free(path);
    return status;
}

/* Copies src to dst unless dst exists (a backup is never overwritten). */
int
backup_file(const char *src, const char *dst, int *made_r)
{
    char chunk[8192];
    struct stat st;
    int in, out, status = 0;
    ssize_t n;

    *made_r = 0;
    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0 || fstat(in, &st) < 0) {
        msg_error("cannot read %s: %s", src, strerror(errno));
        if (in >= 0)
            close(in);
        return EX_IOERR;
    }
    if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0644)) < 0) {
        close(in);
        if (errno == EEXIST)
            return 0;
        msg_error("cannot create %s: %s", dst, strerror(errno));
        return EX_CANTCREAT;
    }
    while (status == 0 && (n = read(in, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        for (ssize_t done = 0; n > 0 && done < n;) {
            ssize_t w = write(out, chunk + done, (size_t) (n - done));

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                n = -1;
                break;
            }
            done += w;
        }
        if (n < 0)
            status = EX_CANTCREAT;
    }
    if (status != 0 || fsync(out) < 0 || close(out) < 0) {
        msg_error("cannot write %s: %s", dst, strerror(errno));
        unlink(dst);
        close(in);
        return EX_CANTCREAT;
    }
    close(in);
    *made_r = 1;
    return 0;
}
