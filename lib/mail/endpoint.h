/*
 * endpoint.h -- the endpoints of a server's incoming routes (REFERENCE.md "Endpoints"):
 * HTTP (url, encoding, format, reply stripping, attachments, timeout), SMTP (hostname,
 * port, TLS mode, optional authentication) and Address (one address).
 *
 * Contract: the tables http_endpoints, smtp_endpoints and address_endpoints are this
 * module's. Values are checked by the caller (the management API) and again by the
 * schema; functions return >= 0 on success or DB_ERR_TEMP / DB_ERR_PERM (db.h). An SMTP
 * endpoint's password is sealed at rest (seal.h, context "smtp-endpoint") and only
 * endpoint_smtp_password() opens it, for the delivery code.
 *
 * Must never: return a password (sealed or not) in a listing, or change an endpoint of
 * another server than the one named.
 */
#ifndef PG_ENDPOINT_H
#define PG_ENDPOINT_H

#include "mail/db.h"
#include "util/buf.h"
#include "util/seal.h"

typedef enum { EP_TYPE_HTTP = 0, EP_TYPE_SMTP, EP_TYPE_ADDRESS } ENDPOINT_TYPE;
#define ENDPOINT_TYPES 3

/* "HTTPEndpoint", "SMTPEndpoint", "AddressEndpoint" (Postal's names, the messages ENUM's). */
const char *endpoint_type_name(ENDPOINT_TYPE type);
/* 0 with *type_r for one of those names, else -1. */
int endpoint_type_parse(const char *name, ENDPOINT_TYPE *type_r);

/* An HTTP endpoint's settings. For an update NULL strings, and -1 for numbers and
 * flags, mean "unchanged"; a create fills in the defaults for them. */
typedef struct endpoint_http {
    const char *name;
    const char *url;
    const char *encoding;       /* "BodyAsJSON" (default) or "FormData" */
    const char *format;         /* "Hash" (default) or "RawMessage" */
    int strip_replies;          /* default 0 */
    int include_attachments;    /* default 1 */
    int timeout;                /* 5..60 seconds, default 5 */
} ENDPOINT_HTTP;

/* An SMTP endpoint's settings, with the same "unchanged" rules; the username and the
 * password change only when their set_ flag is on (then NULL clears them). */
typedef struct endpoint_smtp {
    const char *name;
    const char *hostname;
    int port;                   /* default 25 */
    const char *ssl_mode;       /* "None", "Auto" (default), "STARTTLS", "TLS" */
    int set_username;
    const char *username;
    int set_password;
    const char *password;
} ENDPOINT_SMTP;

/* Columns of endpoint_list()'s rows; times "YYYY-MM-DDTHH:MM:SSZ" or NULL. Every type
 * starts with id, uuid, name (an Address endpoint's name is its address) and ends with
 * last_used_at, created_at, updated_at; the columns between are the type's own. */
enum { EP_COL_ID, EP_COL_UUID, EP_COL_NAME };
enum endpoint_http_col {
    EP_HTTP_COL_URL = 3, EP_HTTP_COL_ENCODING, EP_HTTP_COL_FORMAT, EP_HTTP_COL_STRIP_REPLIES,
    EP_HTTP_COL_INCLUDE_ATTACHMENTS, EP_HTTP_COL_TIMEOUT, EP_HTTP_COL_LAST_USED, EP_HTTP_COL_CREATED, EP_HTTP_COL_UPDATED
};
enum endpoint_smtp_col {
    EP_SMTP_COL_HOSTNAME = 3, EP_SMTP_COL_PORT, EP_SMTP_COL_SSL_MODE, EP_SMTP_COL_USERNAME, EP_SMTP_COL_HAS_PASSWORD,
    EP_SMTP_COL_LAST_USED, EP_SMTP_COL_CREATED, EP_SMTP_COL_UPDATED
};
enum endpoint_address_col {
    EP_ADDRESS_COL_LAST_USED = 3, EP_ADDRESS_COL_CREATED, EP_ADDRESS_COL_UPDATED
};

/* The endpoints of type of server_id (only uuid's when not NULL, only id's when not 0),
 * by name and id, into *res_r (db_result_free it): the row count, < 0 database error. */
int endpoint_list(DB *db, ENDPOINT_TYPE type, unsigned long long server_id, const char *uuid, unsigned long long id,
                  DB_RESULT **res_r);

/* An endpoint of any type as endpoint_rows() gives it; times "YYYY-MM-DDTHH:MM:SSZ" or
 * NULL. An Address endpoint's name is its address; the fields of other types are NULL/0. */
typedef struct endpoint_row {
    unsigned long long id;
    const char *uuid;
    const char *name;
    /* HTTP */
    const char *url;
    const char *encoding;
    const char *format;
    int strip_replies;
    int include_attachments;
    long long timeout;
    /* SMTP */
    const char *hostname;
    long long port;
    const char *ssl_mode;
    const char *username;
    int has_password;
    const char *last_used_at;
    const char *created_at;
    const char *updated_at;
} ENDPOINT_ROW;
/* endpoint_list() as ENDPOINT_ROWs into *rows (db_rows_free it): the count, < 0 database error. */
int endpoint_rows(DB *db, ENDPOINT_TYPE type, unsigned long long server_id, const char *uuid, unsigned long long id,
                  DB_ROWS *rows);

/* Finds an endpoint of type by uuid in any server: 1 with *id_r and *server_id_r, 0 none,
 * < 0 database error (so the caller can tell "unknown" from "another server's"). */
int endpoint_find(DB *db, ENDPOINT_TYPE type, const char *uuid, unsigned long long *id_r,
                  unsigned long long *server_id_r);

/* Create: 1 (*id_r), < 0 database error (DB_ERR_TEMP also when the CSPRNG or the cipher fails). */
int endpoint_http_create(DB *db, unsigned long long server_id, const ENDPOINT_HTTP *e, unsigned long long *id_r);
int endpoint_smtp_create(DB *db, const SEAL_KEY *seal, unsigned long long server_id, const ENDPOINT_SMTP *e,
                         unsigned long long *id_r);
int endpoint_address_create(DB *db, unsigned long long server_id, const char *address, unsigned long long *id_r);

/* Update endpoint id of server_id: 0 done (also when nothing changed), < 0 database error. */
int endpoint_http_update(DB *db, unsigned long long server_id, unsigned long long id, const ENDPOINT_HTTP *e);
int endpoint_smtp_update(DB *db, const SEAL_KEY *seal, unsigned long long server_id, unsigned long long id,
                         const ENDPOINT_SMTP *e);
int endpoint_address_update(DB *db, unsigned long long server_id, unsigned long long id, const char *address);

/* Deletes endpoint id of type of server_id: 1 deleted, 0 none, < 0 database error. The
 * caller makes sure no route uses it (route_using_endpoint()). */
int endpoint_delete(DB *db, ENDPOINT_TYPE type, unsigned long long server_id, unsigned long long id);

/* The password of SMTP endpoint id appended to out: 1, 0 none set, DB_ERR_PERM when it
 * does not open with this key (logged), DB_ERR_TEMP database error. For the delivery code only. */
int endpoint_smtp_password(DB *db, const SEAL_KEY *seal, unsigned long long id, BUF *out);

#endif
