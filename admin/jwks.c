/*
 * jwks.c -- GET /.well-known/jwks.json (jwks.h). Answers 503 while MariaDB is unreachable,
 * never an empty key set that a consumer might cache.
 */
#include "config.h"

#include <microhttpd.h>

#include "jwks.h"
#include "mail/dbpool.h"
#include "mail/signkey.h"
#include "util/msg.h"

void
jwks_get(HTTP_REQUEST *req, void *arg)
{
    DBPOOL *pool = *(DBPOOL **) arg;
    DB *db = dbpool_get(pool);
    json_t *doc = NULL;
    int ret = signkey_jwks(db, &doc);

    if (ret < 0) {
        msg_warn("jwks: database: %s", db_error(db));
        http_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure", "The database cannot be reached.");
    } else {
        http_reply_json(req, MHD_HTTP_OK, doc);
    }
    dbpool_put(pool, db);
}
