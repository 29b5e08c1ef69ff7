/*
 * tracking.h -- the rows click and open tracking keeps: links (written with the message,
 * in message_store's transaction), clicks and loads (written by postgate-tracker), the
 * messages' clicked_at/loaded_at, the MessageLinkClicked / MessageLoaded events, and how
 * far each of the tracker's spools is written (tracker_spools).
 *
 * Contract: the lookups answer only for the server the token names, so a link token
 * never reaches another server's message. tracking_record() writes in the caller's
 * transaction: the row, the message's timestamp and the event commit together or not
 * at all. Following Postal, clicked_at is the latest click and loaded_at the first load.
 * Must never: run its own transaction, or build SQL from input.
 */
#ifndef PG_TRACKING_H
#define PG_TRACKING_H

#include "mail/db.h"
#include "mail/track.h"

/* Stores the links of a message row (in the caller's transaction). 0 or < 0. */
int tracking_store_links(DB *db, unsigned long long message_id, const TRACK_LINK *links, size_t n);
/* Message message_id of server_id is being deleted (in the caller's transaction): its
 * clicks and loads go; its links move to heir (another row of the same submission, whose
 * recipients got the same links) when heir is not 0, else they are left for the message
 * row's ON DELETE CASCADE. The rows deleted or moved, or < 0. */
int tracking_forget_message(DB *db, unsigned long long server_id, unsigned long long message_id,
                            unsigned long long heir);

typedef struct tracking_link {
    unsigned long long id;
    unsigned long long message_id;
    unsigned long long server_id;
    char *url;                  /* mem_free it */
} TRACKING_LINK;

/* The link with link_token of the server with server_token. 1 found, 0 none, < 0 error. */
int tracking_find_link(DB *db, const char *server_token, const char *link_token, TRACKING_LINK *out);
/* The server with server_token. 1 found, 0 none, < 0 error. */
int tracking_find_server(DB *db, const char *server_token, unsigned long long *server_id_r);
/* Message row message_token of server_id. 1 found, 0 none, < 0 error. */
int tracking_find_message(DB *db, unsigned long long server_id, const char *message_token,
                          unsigned long long *message_id_r);

typedef enum { TRACKING_CLICK, TRACKING_LOAD } TRACKING_KIND;

/* One click or load as it happened. */
typedef struct tracking_hit {
    TRACKING_KIND kind;
    unsigned long long server_id;
    unsigned long long message_id;
    unsigned long long link_id;         /* clicks */
    const char *url;                    /* clicks: the link's target */
    const char *link_token;             /* clicks */
    const char *ip;                     /* NULL: unknown */
    const char *user_agent;             /* NULL: none */
    const char *country;                /* ISO 3166 code or NULL */
    const char *city;                   /* NULL: unknown */
    double time;                        /* UNIX time of the request */
} TRACKING_HIT;

/* Records hit with its message timestamp and webhook event, in the caller's transaction.
 * 0 ok, < 0 database error. */
int tracking_record(DB *db, const TRACKING_HIT *hit);
/* The same for n hits at once (multi-row inserts, one timestamp update per message, the
 * message object read once per message, no event work for a server nobody listens to). */
int tracking_record_batch(DB *db, const TRACKING_HIT *hits, size_t n);

/* postgate-tracker's spools (tracker_spools): every record of spool key up to written_seq
 * is in the database. In the caller's transaction. */
/* The key's written_seq, locking its row (0 when it has none). 0 ok, < 0 error. */
int tracking_spool_written(DB *db, const char *key, unsigned long long *seq_r);
/* Raises the key's written_seq to seq. 0 or < 0. */
int tracking_spool_mark(DB *db, const char *key, unsigned long long seq);
/* Forgets the key (no spool file of it is left). 0 or < 0. */
int tracking_spool_forget(DB *db, const char *key);

#endif
