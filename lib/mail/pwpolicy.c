/*
 * pwpolicy.c -- the password policy (pwpolicy.h): rules checked in one pass over the
 * password, then the breached list searched with bsearch() over its folded, sorted entries.
 * The list file is read whole (bounded by PWPOLICY_LIST_MAX_BYTES) into one buffer split in
 * place, so a policy is two allocations for the list however long it is.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/pwpolicy.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/password.h"

#define PWPOLICY_STR_(x) #x
#define PWPOLICY_STR(x) PWPOLICY_STR_(x)

struct pwpolicy {
    PWPOLICY_RULES rules;
    char *text;                 /* the list file, its lines NUL-terminated and folded */
    char **entries;             /* sorted, distinct, into text */
    size_t n;
    char *too_short;            /* "password must be at least N characters" */
    char *describe;
};

/* ASCII-only folding: the list and the passwords are compared byte for byte otherwise, so
 * a locale never changes what matches. */
static char
fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static int
entry_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Reads path whole into a NUL-terminated buffer: 0 with *text_r, -1 with *error_r. */
static int
read_list(const char *path, char **text_r, size_t *len_r, char **error_r)
{
    struct stat st;
    size_t got = 0;
    char *text;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        *error_r = buf_asprintf("%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PWPOLICY_LIST_MAX_BYTES) {
        int e = errno;

        *error_r = buf_asprintf("%s: %s", path, fstat(fd, &st) < 0 ? strerror(e) : !S_ISREG(st.st_mode)
                                ? "not a regular file" : "larger than the 64 MB a breached-password list may be");
        close(fd);
        return -1;
    }
    text = mem_alloc((size_t) st.st_size + 1);
    while (got < (size_t) st.st_size) {
        ssize_t r = read(fd, text + got, (size_t) st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            *error_r = buf_asprintf("%s: %s", path, r < 0 ? strerror(errno) : "file shrank while read");
            mem_free(text);
            close(fd);
            return -1;
        }
        got += (size_t) r;
    }
    close(fd);
    text[got] = '\0';
    *text_r = text;
    *len_r = got;
    return 0;
}

/* Splits text into folded lines, skipping empty ones and '#' comments, then sorts and
 * removes duplicates. A password the policy can never take (over PASSWORD_MAX_LENGTH) is
 * dropped: it cannot match. */
static void
index_list(PWPOLICY *p, size_t len)
{
    size_t cap = 0, n = 0;
    char *line = p->text, *end = p->text + len;

    for (char *s = p->text; s < end; s++)
        cap += *s == '\n';
    p->entries = mem_alloc((cap + 1) * sizeof(*p->entries));
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t) (end - line));
        size_t l;

        if (nl == NULL)
            nl = end;
        *nl = '\0';
        l = (size_t) (nl - line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (l > 0 && l <= PASSWORD_MAX_LENGTH && line[0] != '#' && strlen(line) == l) {
            for (size_t i = 0; i < l; i++)
                line[i] = fold(line[i]);
            p->entries[n++] = line;
        }
        line = nl + 1;
    }
    qsort(p->entries, n, sizeof(*p->entries), entry_cmp);
    p->n = 0;
    for (size_t i = 0; i < n; i++)
        if (p->n == 0 || strcmp(p->entries[p->n - 1], p->entries[i]) != 0)
            p->entries[p->n++] = p->entries[i];
}

static void
describe(PWPOLICY *p)
{
    const PWPOLICY_RULES *r = &p->rules;
    const char *need[4];
    int k = 0;
    BUF *b = buf_new(128);

    if (r->require_upper)
        need[k++] = "upper case";
    if (r->require_lower)
        need[k++] = "lower case";
    if (r->require_digit)
        need[k++] = "digits";
    if (r->require_symbol)
        need[k++] = "symbols";
    buf_printf(b, "at least %d characters", r->min_length);
    for (int i = 0; i < k; i++)
        buf_printf(b, "%s%s", i == 0 ? " mixing " : i == k - 1 ? " and " : ", ", need[i]);
    if (p->entries)
        buf_append_str(b, ", not on the list of breached passwords");
    p->describe = mem_strdup(buf_cstr(b));
    buf_free(b);
}

PWPOLICY *
pwpolicy_new(const PWPOLICY_RULES *rules, const char *breached_list, char **error_r)
{
    PWPOLICY *p;
    char *text = NULL;
    size_t len = 0;

    if (rules->min_length < 1 || rules->min_length > PASSWORD_MAX_LENGTH) {
        *error_r = buf_asprintf("the least password length must be 1 to %d characters", PASSWORD_MAX_LENGTH);
        return NULL;
    }
    if (breached_list && *breached_list && read_list(breached_list, &text, &len, error_r) < 0)
        return NULL;
    p = mem_zalloc(sizeof(*p));
    p->rules = *rules;
    p->text = text;
    if (text)
        index_list(p, len);
    p->too_short = buf_asprintf("password must be at least %d characters", rules->min_length);
    describe(p);
    return p;
}

PWPOLICY *
pwpolicy_from_config(const PGCONF *cfg, char **error_r)
{
    PWPOLICY_RULES r = {.min_length = (int) cfg->passwords_min_length,
                        .require_upper = cfg->passwords_require_upper,
                        .require_lower = cfg->passwords_require_lower,
                        .require_digit = cfg->passwords_require_digit,
                        .require_symbol = cfg->passwords_require_symbol};
    char *why = NULL;
    PWPOLICY *p = pwpolicy_new(&r, cfg->passwords_breached_list, &why);

    if (p == NULL) {
        *error_r = buf_asprintf("passwords.breached_list (set at %s): %s",
                                cfg->origin[CONF_K_passwords_breached_list], why);
        mem_free(why);
    }
    return p;
}

void
pwpolicy_free(PWPOLICY *p)
{
    if (p == NULL)
        return;
    mem_free(p->entries);
    mem_free(p->text);
    mem_free(p->too_short);
    mem_free(p->describe);
    mem_free(p);
}

static int
letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
listed(const PWPOLICY *p, const char *key)
{
    return bsearch(&key, p->entries, p->n, sizeof(*p->entries), entry_cmp) != NULL;
}

/* 1 when password, folded, is on the list; 2 when it is a listed password with digits or
 * symbols added before or after it (its core, from the first to the last letter, is on the
 * list: "Password123!" is "password" dressed up to pass the character-class rules); else
 * 0. The folded copy is wiped before it is freed. */
static int
breached(const PWPOLICY *p, const char *password, size_t len)
{
    size_t first = 0, last = len;
    char *folded;
    int found = 0;

    if (p->n == 0)
        return 0;
    folded = mem_alloc(len + 1);
    for (size_t i = 0; i < len; i++)
        folded[i] = fold(password[i]);
    folded[len] = '\0';
    if (listed(p, folded)) {
        found = 1;
    } else {
        while (first < len && !letter(folded[first]))
            first++;
        while (last > first && !letter(folded[last - 1]))
            last--;
        if (last > first && (first > 0 || last < len)) {
            folded[last] = '\0';
            found = listed(p, folded + first) ? 2 : 0;
        }
    }
    explicit_bzero(folded, len);
    mem_free(folded);
    return found;
}

int
pwpolicy_check(const PWPOLICY *p, const char *password, const char **rule_r, const char **reason_r)
{
    size_t bytes = strlen(password), chars = 0;
    int upper = 0, lower = 0, digit = 0, symbol = 0;

    for (const unsigned char *s = (const unsigned char *) password; *s; s++) {
        if ((*s & 0xc0) != 0x80)        /* not a UTF-8 continuation byte: a new character */
            chars++;
        if (*s >= 'A' && *s <= 'Z')
            upper = 1;
        else if (*s >= 'a' && *s <= 'z')
            lower = 1;
        else if (*s >= '0' && *s <= '9')
            digit = 1;
        else
            symbol = 1;
    }
#define REFUSE(rule, reason) do { *rule_r = (rule); *reason_r = (reason); return -1; } while (0)
    if (chars < (size_t) p->rules.min_length)
        REFUSE(PWPOLICY_RULE_MIN_LENGTH, p->too_short);
    if (bytes > PASSWORD_MAX_LENGTH)
        REFUSE(PWPOLICY_RULE_MAX_LENGTH, "password must be at most " PWPOLICY_STR(PASSWORD_MAX_LENGTH) " bytes");
    if (p->rules.require_upper && !upper)
        REFUSE(PWPOLICY_RULE_UPPER, "password must contain an upper-case letter");
    if (p->rules.require_lower && !lower)
        REFUSE(PWPOLICY_RULE_LOWER, "password must contain a lower-case letter");
    if (p->rules.require_digit && !digit)
        REFUSE(PWPOLICY_RULE_DIGIT, "password must contain a digit");
    if (p->rules.require_symbol && !symbol)
        REFUSE(PWPOLICY_RULE_SYMBOL, "password must contain a symbol (a character other than a letter or digit)");
    switch (breached(p, password, bytes)) {
    case 1:
        REFUSE(PWPOLICY_RULE_BREACHED, "password is on the list of breached passwords");
    case 2:
        REFUSE(PWPOLICY_RULE_BREACHED, "password is on the list of breached passwords, with digits or symbols "
               "added around it");
    }
#undef REFUSE
    return 0;
}

size_t
pwpolicy_breached_count(const PWPOLICY *p)
{
    return p->n;
}

const char *
pwpolicy_describe(const PWPOLICY *p)
{
    return p->describe;
}
