/*
 * org.c -- organizations (org.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail/org.h"
#include "util/buf.h"
#include "util/token.h"

/* Words that would collide with paths of the web UI and API. */
static const char *const reserved[] = {
    "admin", "api", "assets", "help", "login", "logout", "new", "org", "orgs",
    "organizations", "settings", "user", "users", "www", NULL
};

int
org_permalink_ok(const char *permalink, const char **why_r)
{
    size_t len = strlen(permalink);

    if (len == 0 || len > 64 || strspn(permalink, "abcdefghijklmnopqrstuvwxyz0123456789-") != len
        || permalink[0] == '-' || permalink[len - 1] == '-') {
        *why_r = "use 1 to 64 lowercase letters, digits and inner hyphens";
        return 0;
    }
    for (int i = 0; reserved[i]; i++) {
        if (strcmp(permalink, reserved[i]) == 0) {
            *why_r = "that word is reserved";
            return 0;
        }
    }
    return 1;
}

int
org_create(DB *db, const char *name, const char *permalink, unsigned long long *id_r, char **error_r)
{
    const char *why;
    char uuid[37];
    int ret;

    if (name == NULL || *name == '\0' || strlen(name) > 255) {
        *error_r = buf_asprintf("an organization needs a name of 1 to 255 characters");
        return 0;
    }
    if (!org_permalink_ok(permalink, &why)) {
        *error_r = buf_asprintf("permalink \"%s\": %s", permalink, why);
        return 0;
    }
    if (token_uuid(uuid) < 0) {
        *error_r = buf_asprintf("random number generator failed");
        return DB_ERR_TEMP;
    }
    ret = db_exec(db, "INSERT INTO organizations (uuid, name, permalink) VALUES (?, ?, ?)",
                  DB_ARGS(DB_STR(uuid), DB_STR(name), DB_STR(permalink)));
    if (ret < 0 && db_errno(db) == DB_ER_DUP_ENTRY) {
        *error_r = buf_asprintf("an organization with permalink \"%s\" exists", permalink);
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
org_find(DB *db, const char *permalink, unsigned long long *id_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT id FROM organizations WHERE permalink = ? AND deleted_at IS NULL",
                       DB_ARGS(DB_STR(permalink)));

    if (ret > 0)
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}
