/*
 * conf.c -- the configuration engine behind conf.h.
 *
 * Order of precedence: table default < file < environment. Every value, whatever its
 * source, goes through the same checks. A failure leaves nothing half-applied: the
 * caller gets NULL and one message naming where the bad value came from.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libconfig.h>

#include "mail/conf.h"
#include "util/buf.h"
#include "util/mem.h"

static const CONF_KEY conf_table[CONF_NKEYS] = {
#define CONF_STR(s, k, def, fl, doc) {#s, #k, CONF_TYPE_STR, def, 0, 0, NULL, fl, doc},
#define CONF_INT(s, k, def, mn, mx, fl, doc) {#s, #k, CONF_TYPE_INT, def, mn, mx, NULL, fl, doc},
#define CONF_BOOL(s, k, def, fl, doc) {#s, #k, CONF_TYPE_BOOL, def, 0, 1, NULL, fl, doc},
#define CONF_ENUM(s, k, def, ch, fl, doc) {#s, #k, CONF_TYPE_ENUM, def, 0, 0, ch, fl, doc},
#define CONF_LIST(s, k, def, fl, doc) {#s, #k, CONF_TYPE_LIST, def, 0, 0, NULL, fl, doc},
#include "mail/conf_keys.def"
#undef CONF_STR
#undef CONF_INT
#undef CONF_BOOL
#undef CONF_ENUM
#undef CONF_LIST
};

static const size_t conf_offset[CONF_NKEYS] = {
#define CONF_STR(s, k, ...) offsetof(PGCONF, s##_##k),
#define CONF_INT(s, k, ...) offsetof(PGCONF, s##_##k),
#define CONF_BOOL(s, k, ...) offsetof(PGCONF, s##_##k),
#define CONF_ENUM(s, k, ...) offsetof(PGCONF, s##_##k),
#define CONF_LIST(s, k, ...) offsetof(PGCONF, s##_##k),
#include "mail/conf_keys.def"
#undef CONF_STR
#undef CONF_INT
#undef CONF_BOOL
#undef CONF_ENUM
#undef CONF_LIST
};

/* The default as written in conf_keys.def, for the documentation. */
static const char *const conf_default_source[CONF_NKEYS] = {
#define CONF_STR(s, k, def, ...) #def,
#define CONF_INT(s, k, def, ...) #def,
#define CONF_BOOL(s, k, def, ...) #def,
#define CONF_ENUM(s, k, def, ...) #def,
#define CONF_LIST(s, k, def, ...) #def,
#include "mail/conf_keys.def"
#undef CONF_STR
#undef CONF_INT
#undef CONF_BOOL
#undef CONF_ENUM
#undef CONF_LIST
};

#define FIELD(cfg, i, type) ((type *) ((char *) (cfg) + conf_offset[i]))

const CONF_KEY *
conf_keys(size_t *count_r)
{
    *count_r = CONF_NKEYS;
    return conf_table;
}

const char *
conf_env_name(const CONF_KEY *key)
{
    static char name[128];
    size_t n = 0;
    const char *parts[] = {"POSTGATE_", key->section, "_", key->name};

    for (size_t p = 0; p < 4; p++)
        for (const char *c = parts[p]; *c && n < sizeof(name) - 1; c++)
            name[n++] = (char) toupper((unsigned char) *c);
    name[n] = '\0';
    return name;
}

static void
list_free(CONF_LIST *list)
{
    for (size_t i = 0; i < list->count; i++)
        mem_free(list->items[i]);
    mem_free(list->items);
    list->items = NULL;
    list->count = 0;
}

static void
list_add(CONF_LIST *list, const char *item, size_t len)
{
    list->items = mem_realloc(list->items, (list->count + 2) * sizeof(char *));
    list->items[list->count++] = mem_strndup(item, len);
    list->items[list->count] = NULL;
}

static int
choice_ok(const char *choices, const char *value)
{
    size_t vlen = strlen(value);

    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t) (bar - p) : strlen(p);

        if (len == vlen && strncmp(p, value, len) == 0)
            return 1;
        p += len + (bar ? 1 : 0);
    }
    return 0;
}

static int
parse_bool(const char *text, int *value_r)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *value_r = 1;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *value_r = 0;
            return 0;
        }
    }
    return -1;
}

/* Checks and stores an integer: 0, or -1 with *error_r (mem_free it) saying what is wrong. */
static int
store_int(PGCONF *cfg, size_t i, long long v, char **error_r)
{
    const CONF_KEY *key = &conf_table[i];

    if (v < key->min || v > key->max) {
        *error_r = buf_asprintf("%lld is out of range (%lld..%lld)", v, key->min, key->max);
        return -1;
    }
    *FIELD(cfg, i, long long) = v;
    return 0;
}

static int
store_string(PGCONF *cfg, size_t i, const char *text, char **error_r)
{
    const CONF_KEY *key = &conf_table[i];
    char **field = FIELD(cfg, i, char *);

    if (key->type == CONF_TYPE_ENUM && !choice_ok(key->choices, text)) {
        *error_r = buf_asprintf("\"%s\" is not one of %s", text, key->choices);
        return -1;
    }
    for (const char *c = text; *c; c++) {
        if ((unsigned char) *c < 0x20) {
            *error_r = buf_asprintf("control characters are not allowed");
            return -1;
        }
    }
    mem_free(*field);
    *field = mem_strdup(text);
    return 0;
}

/* Parses text (a default or an environment value) into key i: 0, or -1 with *error_r (mem_free it). */
static int
set_from_text(PGCONF *cfg, size_t i, const char *text, char **error_r)
{
    const CONF_KEY *key = &conf_table[i];

    switch (key->type) {
    case CONF_TYPE_STR:
    case CONF_TYPE_ENUM:
        return store_string(cfg, i, text, error_r);
    case CONF_TYPE_INT: {
        char *end;
        long long v;

        errno = 0;
        v = strtoll(text, &end, 10);
        if (errno || end == text || *end != '\0') {
            *error_r = buf_asprintf("\"%s\" is not a whole number", text);
            return -1;
        }
        return store_int(cfg, i, v, error_r);
    }
    case CONF_TYPE_BOOL: {
        int v;

        if (parse_bool(text, &v) < 0) {
            *error_r = buf_asprintf("\"%s\" is not true or false", text);
            return -1;
        }
        *FIELD(cfg, i, int) = v;
        return 0;
    }
    case CONF_TYPE_LIST: {
        CONF_LIST *list = FIELD(cfg, i, CONF_LIST);

        list_free(list);
        for (const char *p = text; *p;) {
            const char *comma = strchr(p, ',');
            const char *end = comma ? comma : p + strlen(p);
            const char *s = p, *e = end;

            while (s < e && isspace((unsigned char) *s))
                s++;
            while (e > s && isspace((unsigned char) e[-1]))
                e--;
            if (e > s)
                list_add(list, s, (size_t) (e - s));
            p = comma ? comma + 1 : end;
        }
        return 0;
    }
    }
    *error_r = buf_asprintf("internal error: unknown type");
    return -1;
}

static const char *
setting_type_name(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "a number";
    case CONFIG_TYPE_FLOAT: return "a decimal number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "true or false";
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST: return "a list";
    default: return "an unknown type";
    }
}

static const char *const type_expect[] = {
    [CONF_TYPE_STR] = "a string in double quotes",
    [CONF_TYPE_INT] = "a whole number",
    [CONF_TYPE_BOOL] = "true or false",
    [CONF_TYPE_ENUM] = "a string in double quotes",
    [CONF_TYPE_LIST] = "a list of strings like [\"a\", \"b\"]",
};

/* Stores a libconfig setting into key i: 0, or -1 with *error_r (mem_free it). */
static int
set_from_setting(PGCONF *cfg, size_t i, config_setting_t *s, char **error_r)
{
    const CONF_KEY *key = &conf_table[i];
    int type = config_setting_type(s);

    switch (key->type) {
    case CONF_TYPE_STR:
    case CONF_TYPE_ENUM:
        if (type != CONFIG_TYPE_STRING)
            break;
        return store_string(cfg, i, config_setting_get_string(s), error_r);
    case CONF_TYPE_INT:
        if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
            break;
        return store_int(cfg, i, config_setting_get_int64(s), error_r);
    case CONF_TYPE_BOOL:
        if (type != CONFIG_TYPE_BOOL)
            break;
        *FIELD(cfg, i, int) = config_setting_get_bool(s) ? 1 : 0;
        return 0;
    case CONF_TYPE_LIST: {
        CONF_LIST *list = FIELD(cfg, i, CONF_LIST);
        int n;

        if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
            break;
        n = config_setting_length(s);
        for (int j = 0; j < n; j++) {
            if (config_setting_type(config_setting_get_elem(s, (unsigned) j)) != CONFIG_TYPE_STRING) {
                *error_r = buf_asprintf("element %d is not a string; expected %s", j + 1, type_expect[key->type]);
                return -1;
            }
        }
        list_free(list);
        for (int j = 0; j < n; j++) {
            const char *item = config_setting_get_string_elem(s, (unsigned) j);

            list_add(list, item, strlen(item));
        }
        return 0;
    }
    }
    *error_r = buf_asprintf("expected %s, found %s", type_expect[key->type], setting_type_name(type));
    return -1;
}

static ssize_t
key_lookup(const char *section, const char *name)
{
    for (size_t i = 0; i < CONF_NKEYS; i++)
        if (strcmp(conf_table[i].section, section) == 0 && strcmp(conf_table[i].name, name) == 0)
            return (ssize_t) i;
    return -1;
}

static int
section_known(const char *section)
{
    for (size_t i = 0; i < CONF_NKEYS; i++)
        if (strcmp(conf_table[i].section, section) == 0)
            return 1;
    return 0;
}

static void
set_origin(PGCONF *cfg, size_t i, char *origin)
{
    mem_free(cfg->origin[i]);
    cfg->origin[i] = origin;
}

static int
load_file(PGCONF *cfg, const char *path, char **error_r)
{
    config_t lc;
    config_setting_t *root;
    int ret = -1;

    config_init(&lc);
    if (config_read_file(&lc, path) != CONFIG_TRUE) {
        if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
            *error_r = buf_asprintf("%s: cannot read: %s", path, strerror(errno));
        else
            *error_r = buf_asprintf("%s:%d: %s", config_error_file(&lc) ? config_error_file(&lc) : path,
                                 config_error_line(&lc), config_error_text(&lc));
        goto out;
    }
    root = config_root_setting(&lc);
    for (int si = 0; si < config_setting_length(root); si++) {
        config_setting_t *sec = config_setting_get_elem(root, (unsigned) si);
        const char *sname = config_setting_name(sec);
        const char *sfile = config_setting_source_file(sec) ? config_setting_source_file(sec) : path;

        if (!section_known(sname)) {
            *error_r = buf_asprintf("%s:%d: unknown section '%s'", sfile,
                                 config_setting_source_line(sec), sname);
            goto out;
        }
        if (config_setting_type(sec) != CONFIG_TYPE_GROUP) {
            *error_r = buf_asprintf("%s:%d: '%s' must be a group: %s: { key = value; };", sfile,
                                 config_setting_source_line(sec), sname, sname);
            goto out;
        }
        for (int ki = 0; ki < config_setting_length(sec); ki++) {
            config_setting_t *s = config_setting_get_elem(sec, (unsigned) ki);
            const char *kname = config_setting_name(s);
            const char *kfile = config_setting_source_file(s) ? config_setting_source_file(s) : path;
            int line = config_setting_source_line(s);
            ssize_t i = key_lookup(sname, kname);
            char *why = NULL;

            if (i < 0) {
                *error_r = buf_asprintf("%s:%d: unknown key '%s.%s'", kfile, line, sname, kname);
                goto out;
            }
            if (set_from_setting(cfg, (size_t) i, s, &why) < 0) {
                *error_r = buf_asprintf("%s:%d: %s.%s: %s", kfile, line, sname, kname, why);
                mem_free(why);
                goto out;
            }
            set_origin(cfg, (size_t) i, buf_asprintf("%s:%d", kfile, line));
        }
    }
    ret = 0;
out:
    config_destroy(&lc);
    return ret;
}

PGCONF *
conf_load(const char *path, int allow_missing, char **error_r)
{
    PGCONF *cfg = mem_zalloc(sizeof(*cfg));
    char *why = NULL;

    cfg->refcount = 1;
    for (size_t i = 0; i < CONF_NKEYS; i++) {
        if (set_from_text(cfg, i, conf_table[i].def, &why) < 0) {
            *error_r = buf_asprintf("built-in default of %s.%s: %s", conf_table[i].section,
                                 conf_table[i].name, why);
            mem_free(why);
            conf_unref(cfg);
            return NULL;
        }
        cfg->origin[i] = mem_strdup("default");
    }
    if (path != NULL && !(allow_missing && access(path, F_OK) != 0 && errno == ENOENT)) {
        if (load_file(cfg, path, error_r) < 0) {
            conf_unref(cfg);
            return NULL;
        }
        cfg->path = mem_strdup(path);
    }
    for (size_t i = 0; i < CONF_NKEYS; i++) {
        const char *env = conf_env_name(&conf_table[i]);
        const char *value = getenv(env);

        if (value == NULL)
            continue;
        if (set_from_text(cfg, i, value, &why) < 0) {
            *error_r = buf_asprintf("environment %s: %s.%s: %s", env, conf_table[i].section,
                                 conf_table[i].name, why);
            mem_free(why);
            conf_unref(cfg);
            return NULL;
        }
        set_origin(cfg, i, buf_asprintf("env %s", env));
    }
    return cfg;
}

PGCONF *
conf_ref(PGCONF *cfg)
{
    __atomic_add_fetch(&cfg->refcount, 1, __ATOMIC_RELAXED);
    return cfg;
}

void
conf_unref(PGCONF *cfg)
{
    if (cfg == NULL || __atomic_sub_fetch(&cfg->refcount, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (size_t i = 0; i < CONF_NKEYS; i++) {
        switch (conf_table[i].type) {
        case CONF_TYPE_STR:
        case CONF_TYPE_ENUM:
            mem_free(*FIELD(cfg, i, char *));
            break;
        case CONF_TYPE_LIST:
            list_free(FIELD(cfg, i, CONF_LIST));
            break;
        default:
            break;
        }
        mem_free(cfg->origin[i]);
    }
    mem_free(cfg->path);
    mem_free(cfg);
}

static int
value_equal(const PGCONF *a, const PGCONF *b, size_t i)
{
    switch (conf_table[i].type) {
    case CONF_TYPE_STR:
    case CONF_TYPE_ENUM:
        return strcmp(*FIELD(a, i, char *), *FIELD(b, i, char *)) == 0;
    case CONF_TYPE_INT:
        return *FIELD(a, i, long long) == *FIELD(b, i, long long);
    case CONF_TYPE_BOOL:
        return *FIELD(a, i, int) == *FIELD(b, i, int);
    case CONF_TYPE_LIST: {
        const CONF_LIST *la = FIELD(a, i, CONF_LIST), *lb = FIELD(b, i, CONF_LIST);

        if (la->count != lb->count)
            return 0;
        for (size_t j = 0; j < la->count; j++)
            if (strcmp(la->items[j], lb->items[j]) != 0)
                return 0;
        return 1;
    }
    }
    return 0;
}

void
conf_holder_init(CONF_HOLDER *h, PGCONF *cfg)
{
    pthread_mutex_init(&h->lock, NULL);
    h->cfg = cfg;
}

PGCONF *
conf_holder_get(CONF_HOLDER *h)
{
    PGCONF *cfg;

    pthread_mutex_lock(&h->lock);
    cfg = conf_ref(h->cfg);
    pthread_mutex_unlock(&h->lock);
    return cfg;
}

void
conf_holder_swap(CONF_HOLDER *h, PGCONF *cfg)
{
    PGCONF *old;

    pthread_mutex_lock(&h->lock);
    old = h->cfg;
    h->cfg = cfg;
    pthread_mutex_unlock(&h->lock);
    conf_unref(old);
}

void
conf_holder_destroy(CONF_HOLDER *h)
{
    conf_unref(h->cfg);
    h->cfg = NULL;
    pthread_mutex_destroy(&h->lock);
}

int
conf_reload_check(const PGCONF *old_cfg, const PGCONF *new_cfg, char **error_r)
{
    for (size_t i = 0; i < CONF_NKEYS; i++) {
        if ((conf_table[i].flags & CONF_RELOAD) || value_equal(old_cfg, new_cfg, i))
            continue;
        *error_r = buf_asprintf("%s: %s.%s cannot be changed by a reload; restart the program",
                             new_cfg->origin[i], conf_table[i].section, conf_table[i].name);
        return -1;
    }
    return 0;
}

void
conf_format_value(const PGCONF *cfg, size_t i, char *out, size_t len)
{
    const CONF_KEY *key = &conf_table[i];
    BUF *b = buf_new(64);

    switch (key->type) {
    case CONF_TYPE_STR:
    case CONF_TYPE_ENUM: {
        const char *s = *FIELD(cfg, i, char *);

        if (key->flags & CONF_SECRET)
            buf_append_str(b, *s ? "(set)" : "(empty)");
        else
            buf_printf(b, "\"%s\"", s);
        break;
    }
    case CONF_TYPE_INT:
        buf_printf(b, "%lld", *FIELD(cfg, i, long long));
        break;
    case CONF_TYPE_BOOL:
        buf_append_str(b, *FIELD(cfg, i, int) ? "true" : "false");
        break;
    case CONF_TYPE_LIST: {
        const CONF_LIST *l = FIELD(cfg, i, CONF_LIST);

        buf_append_char(b, '[');
        for (size_t j = 0; j < l->count; j++)
            buf_printf(b, "%s\"%s\"", j ? ", " : "", l->items[j]);
        buf_append_char(b, ']');
        break;
    }
    }
    snprintf(out, len, "%s", buf_cstr(b));
    buf_free(b);
}

void
conf_dump(const PGCONF *cfg, FILE *fp)
{
    char value[4096];

    for (size_t i = 0; i < CONF_NKEYS; i++) {
        conf_format_value(cfg, i, value, sizeof(value));
        fprintf(fp, "%s.%s = %s  # %s\n", conf_table[i].section, conf_table[i].name, value,
                cfg->origin[i]);
    }
}

/* The default as written in conf_keys.def (confdoc.c documents it). */
const char *
conf_default_source_of(size_t index)
{
    return index < CONF_NKEYS ? conf_default_source[index] : NULL;
}
