/*
 * server.c -- mail servers (server.h).
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/address.h"
#include "mail/domain.h"
#include "mail/org.h"
#include "mail/server.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

#define SERVER_SELECT \
    "SELECT s.id, s.organization_id, s.permalink, o.permalink, s.name, s.token, s.mode = 'Development', " \
    "COALESCE(s.send_limit, -1), s.allow_sender, (s.suspended_at IS NOT NULL OR o.suspended_at IS NOT NULL), " \
    "s.spam_threshold, s.spam_failure_threshold, s.outbound_spam_threshold, s.privacy_mode " \
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
        out->spam_threshold = strtod(db_result_get(res, 0, 10), NULL);
        out->spam_failure_threshold = strtod(db_result_get(res, 0, 11), NULL);
        out->has_outbound_spam_threshold = db_result_get(res, 0, 12) != NULL;
        if (out->has_outbound_spam_threshold)
            out->outbound_spam_threshold = strtod(db_result_get(res, 0, 12), NULL);
        out->privacy_mode = atoi(db_result_get(res, 0, 13));
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
    char *why = NULL;
    char uuid[37], token[7];
    int ret;

    if (s->name == NULL || *s->name == '\0' || strlen(s->name) > 255) {
        *error_r = buf_asprintf("a server needs a name of 1 to 255 characters");
        return 0;
    }
    if (!org_permalink_ok(s->permalink, &why)) {
        *error_r = buf_asprintf("permalink \"%s\": %s", s->permalink, why);
        mem_free(why);
        return 0;
    }
    if (token_uuid(uuid) < 0 || token_generate(token, 6, TOKEN_LOWER_ALNUM) < 0) {
        *error_r = buf_asprintf("random number generator failed");
        return DB_ERR_TEMP;
    }
    ret = db_exec(db, "INSERT INTO servers (uuid, organization_id, name, permalink, mode, token, send_limit, "
                  "allow_sender, privacy_mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  DB_ARGS(DB_STR(uuid), DB_UINT(org_id), DB_STR(s->name), DB_STR(s->permalink),
                          DB_STR(s->development ? "Development" : "Live"), DB_STR(token),
                          s->send_limit >= 0 ? DB_INT(s->send_limit) : DB_NULL, DB_INT(s->allow_sender != 0),
                          DB_INT(s->privacy_mode != 0)));
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
    } else if (strcmp(setting, "allow_sender") == 0 || strcmp(setting, "privacy_mode") == 0
               || strcmp(setting, "suspended") == 0) {
        int on = strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0;

        if (!on && strcmp(value, "false") != 0 && strcmp(value, "no") != 0 && strcmp(value, "0") != 0) {
            *error_r = buf_asprintf("%s must be true or false", setting);
            return 0;
        }
        if (strcmp(setting, "allow_sender") == 0)
            ret = db_exec(db, "UPDATE servers SET allow_sender = ? WHERE id = ?", DB_ARGS(DB_INT(on), DB_UINT(id)));
        else if (strcmp(setting, "privacy_mode") == 0)
            ret = db_exec(db, "UPDATE servers SET privacy_mode = ? WHERE id = ?", DB_ARGS(DB_INT(on), DB_UINT(id)));
        else
            ret = db_exec(db, "UPDATE servers SET suspended_at = IF(?, UTC_TIMESTAMP(6), NULL) WHERE id = ?",
                          DB_ARGS(DB_INT(on), DB_UINT(id)));
    } else {
        *error_r = buf_asprintf("unknown server setting \"%s\" (mode, send_limit, allow_sender, privacy_mode, "
                                "suspended)",
                                setting);
        return 0;
    }
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    return 1;
}

#define DETAILS_SELECT \
    "SELECT s.id, s.uuid, s.name, s.permalink, s.mode, s.token, COALESCE(s.send_limit, -1), s.allow_sender, " \
    "s.spam_threshold, s.spam_failure_threshold, s.outbound_spam_threshold, s.raw_message_retention_days, " \
    "s.raw_message_retention_size, s.message_retention_days, " \
    "COALESCE(DATE_FORMAT(s.suspended_at, '%Y-%m-%dT%H:%i:%sZ'), ''), DATE_FORMAT(s.created_at, '%Y-%m-%dT%H:%i:%sZ'), " \
    "DATE_FORMAT(s.updated_at, '%Y-%m-%dT%H:%i:%sZ'), COALESCE(s.postmaster_address, ''), s.privacy_mode " \
    "FROM servers s WHERE s.deleted_at IS NULL AND s.organization_id = ? "

int
server_details_list(DB *db, unsigned long long org_id, const char *permalink, SERVER_DETAILS **list_r)
{
    DB_RESULT *res = NULL;
    SERVER_DETAILS *list;
    int ret;

    *list_r = NULL;
    if (permalink)
        ret = db_query(db, &res, DETAILS_SELECT "AND s.permalink = ?", DB_ARGS(DB_UINT(org_id), DB_STR(permalink)));
    else
        ret = db_query(db, &res, DETAILS_SELECT "ORDER BY s.name, s.id", DB_ARGS(DB_UINT(org_id)));
    if (ret < 0) {
        db_result_free(res);
        return ret;
    }
    list = mem_zalloc((db_result_rows(res) + 1) * sizeof(*list));
    for (size_t i = 0; i < db_result_rows(res); i++) {
        SERVER_DETAILS *d = &list[i];
        const char *outbound = db_result_get(res, i, 10);

        d->id = strtoull(db_result_get(res, i, 0), NULL, 10);
        snprintf(d->uuid, sizeof(d->uuid), "%s", db_result_get(res, i, 1));
        snprintf(d->name, sizeof(d->name), "%s", db_result_get(res, i, 2));
        snprintf(d->permalink, sizeof(d->permalink), "%s", db_result_get(res, i, 3));
        snprintf(d->mode, sizeof(d->mode), "%s", db_result_get(res, i, 4));
        snprintf(d->token, sizeof(d->token), "%s", db_result_get(res, i, 5));
        d->send_limit = atoll(db_result_get(res, i, 6));
        d->allow_sender = atoi(db_result_get(res, i, 7));
        d->spam_threshold = strtod(db_result_get(res, i, 8), NULL);
        d->spam_failure_threshold = strtod(db_result_get(res, i, 9), NULL);
        d->has_outbound_spam_threshold = outbound != NULL;
        d->outbound_spam_threshold = outbound ? strtod(outbound, NULL) : 0.0;
        d->raw_message_retention_days = atoll(db_result_get(res, i, 11));
        d->raw_message_retention_size = atoll(db_result_get(res, i, 12));
        d->message_retention_days = atoll(db_result_get(res, i, 13));
        snprintf(d->suspended_at, sizeof(d->suspended_at), "%s", db_result_get(res, i, 14));
        snprintf(d->created_at, sizeof(d->created_at), "%s", db_result_get(res, i, 15));
        snprintf(d->updated_at, sizeof(d->updated_at), "%s", db_result_get(res, i, 16));
        snprintf(d->postmaster_address, sizeof(d->postmaster_address), "%s", db_result_get(res, i, 17));
        d->privacy_mode = atoi(db_result_get(res, i, 18));
    }
    db_result_free(res);
    *list_r = list;
    return ret;
}

/* A whole number in [min, max] as text; 0 when value is not one. */
static int
whole_number(const char *value, long long min, long long max, long long *out)
{
    char *end;

    if (*value == '\0')
        return 0;
    *out = strtoll(value, &end, 10);
    return *end == '\0' && *out >= min && *out <= max;
}

int
server_postmaster_address(DB *db, unsigned long long id, char out[321])
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT postmaster_address FROM servers WHERE id = ? AND postmaster_address IS NOT NULL",
                       DB_ARGS(DB_UINT(id)));

    out[0] = '\0';
    if (ret > 0)
        snprintf(out, 321, "%s", db_result_get(res, 0, 0));
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
server_set_more(DB *db, unsigned long long id, const char *setting, const char *value, char **error_r)
{
    static const struct {
        const char *name;
        const char *sql;
        long long max;
    } days[] = {
        {"raw_message_retention_days", "UPDATE servers SET raw_message_retention_days = ? WHERE id = ?", 65535},
        {"raw_message_retention_size", "UPDATE servers SET raw_message_retention_size = ? WHERE id = ?", 4294967295LL},
        {"message_retention_days", "UPDATE servers SET message_retention_days = ? WHERE id = ?", 65535},
    };
    static const struct {
        const char *name;
        const char *sql;
    } thresholds[] = {
        {"spam_threshold", "UPDATE servers SET spam_threshold = ? WHERE id = ?"},
        {"spam_failure_threshold", "UPDATE servers SET spam_failure_threshold = ? WHERE id = ?"},
        {"outbound_spam_threshold", "UPDATE servers SET outbound_spam_threshold = ? WHERE id = ?"},
    };
    int ret;

    if (strcmp(setting, "postmaster_address") == 0) {
        const char *at = strrchr(value, '@');
        unsigned long long domain_id;

        if (strcmp(value, "none") == 0) {
            ret = db_exec(db, "UPDATE servers SET postmaster_address = NULL WHERE id = ?", DB_ARGS(DB_UINT(id)));
            goto done;
        }
        if (!address_email_ok(value) || at == NULL) {
            *error_r = buf_asprintf("postmaster_address must be an e-mail address, or null");
            return 0;
        }
        /* Reports come from it: it must be a name this server may send as. */
        {
            char *lower = mem_strdup(at + 1);

            for (char *p = lower; *p; p++)
                *p = (char) tolower((unsigned char) *p);
            SERVER server;

            /* The milter's own rule for From (a verified sending domain of the server or its
             * organization). */
            if ((ret = server_by_id(db, id, &server)) > 0)
                ret = domain_for_sending(db, &server, lower, &domain_id);
            mem_free(lower);
        }
        if (ret < 0)
            return ret;
        if (ret == 0) {
            *error_r = buf_asprintf("postmaster_address must be at a verified domain of the server or its "
                                    "organization (%s is not)", at + 1);
            return 0;
        }
        ret = db_exec(db, "UPDATE servers SET postmaster_address = ? WHERE id = ?", DB_ARGS(DB_STR(value), DB_UINT(id)));
        goto done;
    }
    if (strcmp(setting, "name") == 0) {
        if (*value == '\0' || strlen(value) > 255) {
            *error_r = buf_asprintf("a server needs a name of 1 to 255 characters");
            return 0;
        }
        ret = db_exec(db, "UPDATE servers SET name = ? WHERE id = ?", DB_ARGS(DB_STR(value), DB_UINT(id)));
        goto done;
    }
    for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
        long long v;

        if (strcmp(setting, days[i].name) != 0)
            continue;
        if (!whole_number(value, 1, days[i].max, &v)) {
            *error_r = buf_asprintf("%s must be a whole number from 1 to %lld", setting, days[i].max);
            return 0;
        }
        ret = db_exec(db, days[i].sql, DB_ARGS(DB_INT(v), DB_UINT(id)));
        goto done;
    }
    for (size_t i = 0; i < sizeof(thresholds) / sizeof(thresholds[0]); i++) {
        char *end;
        double v;

        if (strcmp(setting, thresholds[i].name) != 0)
            continue;
        if (i == 2 && strcmp(value, "none") == 0) {
            ret = db_exec(db, thresholds[i].sql, DB_ARGS(DB_NULL, DB_UINT(id)));
            goto done;
        }
        v = strtod(value, &end);
        /* DECIMAL(6,2): two decimals are kept. */
        if (*value == '\0' || *end != '\0' || !isfinite(v) || v < 0 || v > 9999.99) {
            *error_r = buf_asprintf("%s must be a number from 0 to 9999.99%s", setting, i == 2 ? " or \"none\"" : "");
            return 0;
        }
        ret = db_exec(db, thresholds[i].sql, DB_ARGS(DB_DOUBLE(v), DB_UINT(id)));
        goto done;
    }
    *error_r = buf_asprintf("unknown server setting \"%s\"", setting);
    return 0;
done:
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    return 1;
}

int
server_longest_retention(DB *db, long long *raw_days_r, long long *message_days_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT COALESCE(MAX(raw_message_retention_days), 30), "
                       "COALESCE(MAX(message_retention_days), 60) FROM servers WHERE deleted_at IS NULL",
                       DB_NOARGS);

    if (ret < 0)
        return ret;
    *raw_days_r = atoll(db_result_get(res, 0, 0));
    *message_days_r = atoll(db_result_get(res, 0, 1));
    db_result_free(res);
    return 0;
}

static int
delete_txn(DB *db, void *arg)
{
    const unsigned long long *id = arg;
    int ret = db_exec(db, "UPDATE servers SET deleted_at = UTC_TIMESTAMP(6) WHERE id = ? AND deleted_at IS NULL",
                      DB_ARGS(DB_UINT(*id)));

    if (ret <= 0)
        return ret;
    ret = db_exec(db, "UPDATE domains SET verified_at = NULL WHERE server_id = ? AND verified_at IS NOT NULL",
                  DB_ARGS(DB_UINT(*id)));
    return ret < 0 ? ret : 1;
}

int
server_delete(DB *db, unsigned long long id)
{
    return db_transaction(db, delete_txn, &id);
}
