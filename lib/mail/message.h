/*
 * message.h -- the message log: one row per recipient, the raw message stored once
 * per submission (raw_messages, partitioned by day), and the release of held rows.
 */
#ifndef PG_MESSAGE_H
#define PG_MESSAGE_H

#include <stddef.h>

#include "mail/db.h"
#include "mail/track.h"

#define MESSAGE_TOKEN_LEN 16

typedef struct message_rcpt {
    const char *address;
    char token[MESSAGE_TOKEN_LEN + 1];  /* filled by message_new_tokens */
    const char *hold_reason;            /* NULL: not held */
    const char *status;                 /* NULL: Pending, or Held with a hold_reason */
    unsigned long long route_id;        /* incoming: the route it came through, else 0 */
    unsigned long long id;              /* filled by message_store */
} MESSAGE_RCPT;

/* What the spam and virus checks found, for one message row (messages.spam_status,
 * spam_score, spam_checks, threat, threat_details, inspected). */
typedef struct message_inspection {
    const char *spam_status;            /* "NotChecked", "NotSpam" or "Spam" */
    double spam_score;
    const char *spam_checks;            /* JSON [{"code": .., "score": ..}] or NULL */
    int threat;
    const char *threat_details;         /* NULL: none */
    int inspected;                      /* a scanner gave a verdict */
} MESSAGE_INSPECTION;

/* The SPF and DKIM results of an incoming message's sender (messages.spf_result,
 * dkim_result, dkim_domain; see senderauth.h). */
typedef struct message_sender_auth {
    const char *spf;                    /* "pass", "fail", ... (the column's values) */
    const char *dkim;
    const char *dkim_domain;            /* NULL: none */
} MESSAGE_SENDER_AUTH;

typedef struct message_submission {
    unsigned long long server_id;
    unsigned long long credential_id;   /* 0: none */
    const char *scope;                  /* "outgoing" or "incoming" */
    const char *mail_from;
    const char *subject;
    const char *message_id;
    const char *tag;                    /* NULL: none */
    const char *queue_id;               /* Postfix queue ID, NULL if none */
    int hold_expiry_days;
    const void *headers;                /* as stored: CRLF line ends */
    size_t headers_len;
    const void *body;
    size_t body_len;
    MESSAGE_RCPT *rcpts;
    size_t nrcpts;
    const TRACK_LINK *links;            /* tracked links, stored against rcpts[0]'s row */
    size_t nlinks;
    const MESSAGE_INSPECTION *inspection;       /* spam/virus verdict for every row; NULL: none */
    unsigned long long forwarded_from_id;       /* a forward: the incoming message it forwards; 0 none */
    const MESSAGE_SENDER_AUTH *sender_auth;     /* incoming: how its sender was authenticated; NULL: unchecked */
    /* Called inside the transaction after every row was inserted (ids filled), for what
     * must commit or fail with the rows (e.g. endpoint delivery queue rows); NULL: none.
     * A negative return rolls everything back and is message_store's result. */
    int (*in_txn)(DB *db, struct message_submission *sub, void *arg);
    void *in_txn_arg;
    /* Outgoing mail of a server with a send limit: the limit (-1 or 0 with no reason: none)
     * and the hold reason to give. Checked inside the transaction, taking turns with every
     * other submission of the server on any host (schema 021), so the last message under
     * the limit passes once: when the hour's volume has reached it, every recipient not
     * held already is held with send_limit_reason (that pointer) and counted in
     * limit_held (set by message_store). */
    long long send_limit;
    const char *send_limit_reason;
    size_t limit_held;
} MESSAGE_SUBMISSION;

/* Gives every recipient a fresh token: 16 lower-case alphanumerics, because a token is
 * also the local part of the message's return path and Postfix folds table lookup keys
 * to lower case. -1 if the CSPRNG fails. */
int message_new_tokens(MESSAGE_RCPT *rcpts, size_t n);
/* The outgoing submission whose return path carries token (any of its rows'): its server,
 * envelope sender (*mail_from_r, mem_free it) and the recipients Postfix delivers (rows
 * not held; rows->v is a const char *[]). 1, 0 no such outgoing row (nothing set), < 0
 * database error (nothing set). */
int message_envelope(DB *db, const char *token, unsigned long long *server_id_r, char **mail_from_r,
                     DB_ROWS *rcpts);
/* Stores the raw message, one row per recipient and the tracked links (against the first
 * recipient's row: one body serves every recipient) in one transaction, queues a
 * MessageHeld webhook event for each held recipient in the same transaction, and counts
 * the recipients that were not held in the server's send volume. 0 ok, < 0 database error. */
int message_store(DB *db, MESSAGE_SUBMISSION *sub);

/* Release: the held row for (token of any row of the submission, recipient address).
 * 1 found (*id_r, *server_id_r), 0 none, < 0 database error. */
int message_find_held(DB *db, const char *token, const char *rcpt, unsigned long long *id_r,
                      unsigned long long *server_id_r);
/* How the sender of incoming message id of server_id was authenticated: 1 found (the
 * strings, each possibly empty for "not checked", in out fields of size 32, 32, 254), 0 no such
 * message, < 0 database error. */
int message_sender_auth(DB *db, unsigned long long server_id, unsigned long long id, char spf[32], char dkim[32],
                        char dkim_domain[254]);
/* Whether a forward of incoming message id of server_id with row token token may be
 * recorded: 1 yes, 0 no (*why_r: not an incoming message of that server, or the token
 * is taken: a replay), < 0 database error. */
int message_forward_admissible(DB *db, unsigned long long server_id, unsigned long long id, const char *token,
                               const char **why_r);
/* Marks outgoing row id of server_id as a bounce (the send API's `bounce`). */
int message_mark_bounce(DB *db, unsigned long long server_id, unsigned long long id);
/* The Postfix queue ID ("" when none) and status of the row with token: 1 found, 0 none,
 * < 0 database error. */
int message_queue_state(DB *db, const char *token, char queue_id[33], char status[32]);
/* Marks a released row as queued again under queue_id. */
int message_mark_released(DB *db, unsigned long long id, const char *queue_id);

/*
 * Reading the log (the send API's messages/message and deliveries; later the management
 * API). Each returns the row count (0: none) or < 0, and leaves a DB_RESULT whose columns
 * are as documented; every lookup is confined to server_id.
 */
enum message_col {
    MESSAGE_COL_ID, MESSAGE_COL_TOKEN, MESSAGE_COL_STATUS, MESSAGE_COL_HOLD_EXPIRY, MESSAGE_COL_LAST_ATTEMPT,
    MESSAGE_COL_RCPT_TO, MESSAGE_COL_MAIL_FROM, MESSAGE_COL_SUBJECT, MESSAGE_COL_MESSAGE_ID, MESSAGE_COL_CREATED,
    MESSAGE_COL_SCOPE, MESSAGE_COL_SIZE, MESSAGE_COL_BOUNCE, MESSAGE_COL_BOUNCE_FOR, MESSAGE_COL_TAG,
    MESSAGE_COL_SSL, MESSAGE_COL_INSPECTED, MESSAGE_COL_SPAM_STATUS, MESSAGE_COL_SPAM_SCORE, MESSAGE_COL_THREAT,
    MESSAGE_COL_THREAT_DETAILS, MESSAGE_COL_RAW_ID, MESSAGE_COL_RAW_DAY, MESSAGE_COL_FORWARDED_FROM,
    MESSAGE_COL_SPF, MESSAGE_COL_DKIM, MESSAGE_COL_DKIM_DOMAIN,
};
/* One message row in enum message_col order (times as UNIX timestamps). */
int message_get(DB *db, unsigned long long server_id, unsigned long long id, DB_RESULT **res_r);
/* A message as both APIs show it (message_get_row(), message_search()): the same columns
 * as enum message_col, typed. Times are UNIX timestamps with microseconds, NAN when not set. */
typedef struct message_row {
    unsigned long long id;
    const char *token;
    const char *status;
    double hold_expiry;
    double last_attempt;            /* the newest delivery attempt */
    const char *rcpt_to;
    const char *mail_from;
    const char *subject;            /* as stored: MIME encoded words undecoded */
    const char *message_id;         /* as stored: angle brackets included */
    double created;
    const char *scope;
    long long size;
    int bounce;
    unsigned long long bounce_for;  /* 0: none */
    const char *tag;
    int ssl;                        /* received with TLS: 1, 0, or -1 not known */
    int inspected;
    const char *spam_status;
    double spam_score;
    int threat;
    const char *threat_details;
    unsigned long long raw_id;      /* 0 and raw_day NULL: no raw copy recorded */
    const char *raw_day;
    unsigned long long forwarded_from;  /* a forward: the incoming message it forwards; 0 none */
    const char *spf;                    /* incoming: the sender's SPF result on arrival, NULL not checked */
    const char *dkim;                   /* ... its DKIM result, NULL not checked */
    const char *dkim_domain;            /* ... the d= of the signature that counted, NULL none */
} MESSAGE_ROW;
/* Message id of server_id as one MESSAGE_ROW into *rows (db_rows_free it): 1 found, 0 none,
 * < 0 database error. */
int message_get_row(DB *db, unsigned long long server_id, unsigned long long id, DB_ROWS *rows);
/* The stored raw message: headers, body. */
int message_raw(DB *db, unsigned long long server_id, unsigned long long raw_id, const char *raw_day,
                DB_RESULT **res_r);
/* Opens: ip, user_agent, country, city, time. */
int message_loads(DB *db, unsigned long long server_id, unsigned long long message_id, DB_RESULT **res_r);
/* Clicks: url, ip, user_agent, country, city, time. */
int message_clicks(DB *db, unsigned long long server_id, unsigned long long message_id, DB_RESULT **res_r);
/* Delivery attempts: id, status, details, output, sent_with_ssl, log_id, time, timestamp. */
int message_deliveries(DB *db, unsigned long long message_id, DB_RESULT **res_r);

/* A search of one server's log (the management API): every field but server_id and
 * limit may be NULL/0 for "any". Newest first by (created_at, id); before_created and
 * before_id (both or neither) continue after an earlier page's last row. */
typedef struct message_query {
    unsigned long long server_id;
    const char *rcpt_to;            /* exact (the column's collation ignores case) */
    const char *mail_from;          /* exact */
    const char *subject;            /* substring */
    const char *tag;
    const char *status;             /* one of the status values */
    const char *scope;              /* "incoming" or "outgoing" */
    const char *message_id;         /* with or without angle brackets */
    const char *since;              /* "YYYY-MM-DD HH:MM:SS" UTC, inclusive */
    const char *until;              /* exclusive */
    const char *before_created;     /* the cursor row's created_at ("YYYY-MM-DD HH:MM:SS.ffffff") */
    unsigned long long before_id;
    unsigned limit;                 /* rows wanted (ask one more to know whether a page follows) */
} MESSAGE_QUERY;
/* MESSAGE_ROWs into *rows (db_rows_free it). The row count, < 0 database error. */
int message_search(DB *db, const MESSAGE_QUERY *q, DB_ROWS *rows);
/* The created_at of message id of server_id as "YYYY-MM-DD HH:MM:SS.ffffff" (a search
 * cursor): 1 found, 0 none, < 0 database error. */
int message_created_at(DB *db, unsigned long long server_id, unsigned long long id, char out[32]);
/* Cancels the hold of message id of server_id (status HoldCancelled, a delivery row with
 * details): 1 cancelled, 0 not a held message of that server, < 0 database error. Runs
 * its own transaction. */
int message_cancel_hold(DB *db, unsigned long long server_id, unsigned long long id, const char *details);

/* Why message_delete() refused: the message is still on its way. */
typedef enum {
    MESSAGE_BUSY_NONE = 0,
    MESSAGE_BUSY_PENDING,       /* Pending or SoftFail: Postfix (or the endpoint delivery) has not finished */
    MESSAGE_BUSY_QUEUED,        /* queued (or leased) for delivery to an endpoint */
    MESSAGE_BUSY_HELD,          /* Held: release or cancel it first */
} MESSAGE_BUSY;
/* Deletes message id of server_id for good, in one transaction: its row with its
 * deliveries (and links, unless another recipient row of the same submission still uses
 * them: they move to that row, so its tracked links keep working), its clicks and loads,
 * and the raw copy when no other row of the submission shares it. References to it from
 * other rows of the server (bounce_for_id, forwarded_from_id, suppressions.message_id)
 * become NULL. Webhook events already queued keep their own copy (no foreign key).
 * 1 deleted, 0 no such message of that server, 2 refused because it is in flight (*busy_r
 * says why; nothing changed), < 0 database error. */
int message_delete(DB *db, unsigned long long server_id, unsigned long long id, MESSAGE_BUSY *busy_r);

/* One bucket of message_statistics(): start "YYYY-MM-DD HH:00:00" (UTC); incoming
 * (incoming rows that are not bounces), outgoing, bounced (outgoing rows now HardFail or
 * Bounced, plus bounce messages received), held (rows Held now or whose hold was
 * cancelled; a released row is Pending or Sent again and counts as outgoing only). */
typedef struct message_stats_row {
    const char *start;
    long long incoming;
    long long outgoing;
    long long bounced;
    long long held;
} MESSAGE_STATS_ROW;
/* Volume of one server by UTC hour (hourly != 0) or UTC day from since ("YYYY-MM-DD
 * HH:MM:SS" UTC, inclusive) on: one MESSAGE_STATS_ROW per bucket that has messages, oldest
 * first, into *rows (db_rows_free it). Counted from the message log itself
 * (ix_messages_server_created), so it agrees with the message list. The row count, < 0
 * database error. */
int message_statistics(DB *db, unsigned long long server_id, int hourly, const char *since, DB_ROWS *rows);

#endif
