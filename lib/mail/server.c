/*
 * server.c -- mail servers (server.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/org.h"
#include "mail/server.h"
#include "util/buf.h"
#include "util/token.h"

#define SERVER_SELECT \
    "SELECT s.id, s.organization_id, s.permalink, o.permalink, s.name, s.token, s.mode = 'Development', " \
    "COALESCE(s.send_limit, -1), s.allow_sender, (s.suspended_at IS NOT NULL OR o.suspended_at IS NOT NULL) " \
    "FROM servers s JOIN organizations o ON o.id = s.organization_id AND o.deleted_at IS NULL " \
    "WHERE s.deleted_at IS NULL "

static int
server_one(DB *db, const char *sql, const DB_PARAM *params, size_t n, SERVER *out)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, sql, params, n);

    if (ret > 0) {
        memset(out, 0, sizeof(*out));
        out->id = strtoull(db_result_get(res, 0, 0), NULL, 10);
        out->org_id = strtoull(db_result_get(res, 0, 1), NULL, 10);
        snprintf(out->permalink, sizeof(out->permalink), "%s", db_result_get(res, 0, 2));
        snprintf(out->org_permalink, sizeof(out->org_permalink), "%s", db_result_get(res, 0, 3));
        snprintf(out->name, sizeof(out->name), "%s", db_result_get(res, 0, 4));
        snprintf(out->token, sizeof(out->token), "%s", db_result_get(res, 0, 5));
        out->development = atoi(db_result_get(res, 0, 6));
        out->send_limit = atoll(db_result_get(res, 0, 7));
        out->allow_sender = atoi(db_result_get(res, 0, 8));
        out->suspended = atoi(db_result_get(res, 0, 9));
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
server_by_id(DB *db, unsigned long long id, SERVER *out)
{
    return server_one(db, SERVER_SELECT "AND s.id = ?", DB_ARGS(DB_UINT(id)), out);
}

int
server_by_path(DB *db, const char *path, SERVER *out)
{
    char org[65];
    const char *slash = strchr(path, '/');

    if (slash == NULL || slash == path || (size_t) (slash - path) >= sizeof(org) || strchr(slash + 1, '/'))
        return 0;
    memcpy(org, path, (size_t) (slash - path));
    org[slash - path] = '\0';
    return server_one(db, SERVER_SELECT "AND o.permalink = ? AND s.permalink = ?",
                      DB_ARGS(DB_STR(org), DB_STR(slash + 1)), out);
}

int
server_create(DB *db, unsigned long long org_id, const SERVER_SETTINGS *s, unsigned long long *id_r,
              char **error_r)
{
    const char *why;
    char uuid[37], token[7];
    int ret;

    if (s->name == NULL || *s->name == '\0' || strlen(s->name) > 255) {
        *error_r = buf_asprintf("a server needs a name of 1 to 255 characters");
        return 0;
    }
    if (!org_permalink_ok(s->permalink, &why)) {
        *error_r = buf_asprintf("permalink \"%s\": %s", s->permalink, why);
        return 0;
    }
    if (token_uuid(uuid) < 0 || token_generate(token, 6, TOKEN_LOWER_ALNUM) < 0) {
        *error_r = buf_asprintf("random number generator failed");
        return DB_ERR_TEMP;
    }
    ret = db_exec(db, "INSERT INTO servers (uuid, organization_id, name, permalink, mode, token, send_limit, "
                  "allow_sender) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  DB_ARGS(DB_STR(uuid), DB_UINT(org_id), DB_STR(s->name), DB_STR(s->permalink),
                          DB_STR(s->development ? "Development" : "Live"), DB_STR(token),
                          s->send_limit >= 0 ? DB_INT(s->send_limit) : DB_NULL, DB_INT(s->allow_sender != 0)));
    if (ret < 0 && db_errno(db) == DB_ER_DUP_ENTRY) {
        *error_r = buf_asprintf("the organization already has a server \"%s\" (or the token collided: retry)",
                                s->permalink);
        return 0;
    }
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    *id_r = db_insert_id(db);
    return 1;
}

int
server_set(DB *db, unsigned long long id, const char *setting, const char *value, char **error_r)
{
    int ret;

    if (strcmp(setting, "mode") == 0) {
        if (strcmp(value, "Live") != 0 && strcmp(value, "Development") != 0) {
            *error_r = buf_asprintf("mode must be Live or Development");
            return 0;
        }
        ret = db_exec(db, "UPDATE servers SET mode = ? WHERE id = ?", DB_ARGS(DB_STR(value), DB_UINT(id)));
    } else if (strcmp(setting, "send_limit") == 0) {
        char *end;
        long long v = strtoll(value, &end, 10);

        if (strcmp(value, "none") == 0) {
            ret = db_exec(db, "UPDATE servers SET send_limit = NULL WHERE id = ?", DB_ARGS(DB_UINT(id)));
        } else if (*value == '\0' || *end != '\0' || v < 0 || v > 4294967295LL) {
            *error_r = buf_asprintf("send_limit must be a whole number of messages per hour or \"none\"");
            return 0;
        } else {
            ret = db_exec(db, "UPDATE servers SET send_limit = ? WHERE id = ?", DB_ARGS(DB_INT(v), DB_UINT(id)));
        }
    } else if (strcmp(setting, "allow_sender") == 0 || strcmp(setting, "suspended") == 0) {
        int on = strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0;

        if (!on && strcmp(value, "false") != 0 && strcmp(value, "no") != 0 && strcmp(value, "0") != 0) {
            *error_r = buf_asprintf("%s must be true or false", setting);
            return 0;
        }
        if (strcmp(setting, "allow_sender") == 0)
            ret = db_exec(db, "UPDATE servers SET allow_sender = ? WHERE id = ?", DB_ARGS(DB_INT(on), DB_UINT(id)));
        else
            ret = db_exec(db, "UPDATE servers SET suspended_at = IF(?, UTC_TIMESTAMP(6), NULL) WHERE id = ?",
                          DB_ARGS(DB_INT(on), DB_UINT(id)));
    } else {
        *error_r = buf_asprintf("unknown server setting \"%s\" (mode, send_limit, allow_sender, suspended)",
                                setting);
        return 0;
    }
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    return 1;
}
