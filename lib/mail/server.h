/*
 * server.h -- mail servers of organizations: mode, send limit, sender rules,
 * suspension. A server is named "org/server" by its permalinks.
 */
#ifndef PG_SERVER_H
#define PG_SERVER_H

#include "mail/db.h"

typedef struct server {
    unsigned long long id;
    unsigned long long org_id;
    char permalink[65];
    char org_permalink[65];
    char name[256];
    char token[17];
    int development;            /* mode Development: every message is held */
    long long send_limit;       /* messages per rolling hour; -1 = none */
    int allow_sender;
    int suspended;              /* the server or its organization */
    double spam_threshold;      /* incoming: spam when the score is above it */
    double spam_failure_threshold;      /* incoming: refused when the score reaches it */
    int has_outbound_spam_threshold;
    double outbound_spam_threshold;     /* outgoing: refused when the score reaches it */
    int privacy_mode;           /* its outgoing mail's Received fields name no client */
} SERVER;

/* A new server's spam thresholds (the schema's column defaults, Postal's); they also judge mail
 * for the mailboxes of an organization's hosted domain, which has no server. */
#define SERVER_DEFAULT_SPAM_THRESHOLD 5.0
#define SERVER_DEFAULT_SPAM_FAILURE_THRESHOLD 20.0

int server_by_id(DB *db, unsigned long long id, SERVER *out);
/* path is "org/server"; 1 found, 0 not found or malformed, < 0 database error. */
int server_by_path(DB *db, const char *path, SERVER *out);

typedef struct server_settings {
    const char *name;
    const char *permalink;
    int development;
    long long send_limit;       /* -1 = none */
    int allow_sender;
    int privacy_mode;
} SERVER_SETTINGS;

/* 1 created (*id_r), 0 invalid or taken, < 0 database error (DB_ERR_TEMP / DB_ERR_PERM);
 * *error_r (mem_free it) on 0 and < 0. */
int server_create(DB *db, unsigned long long org_id, const SERVER_SETTINGS *s, unsigned long long *id_r,
                  char **error_r);
/* Changes one setting by name ("mode", "send_limit", "allow_sender", "privacy_mode", "suspended");
 * value as text.
 * 1 changed, 0 bad name or value (*error_r, mem_free it), < 0 database error. */
int server_set(DB *db, unsigned long long id, const char *setting, const char *value, char **error_r);

/* What the management API shows of a server (its own suspension, not its organization's). */
typedef struct server_details {
    unsigned long long id;
    char uuid[37];
    char name[256];
    char permalink[65];
    char mode[12];              /* "Live" or "Development" */
    char token[17];
    long long send_limit;       /* -1 = none */
    int allow_sender;
    int privacy_mode;
    double spam_threshold;
    double spam_failure_threshold;
    int has_outbound_spam_threshold;
    double outbound_spam_threshold;
    long long raw_message_retention_days;
    long long raw_message_retention_size;       /* MB */
    long long message_retention_days;
    char suspended_at[32];      /* "" when not suspended; else "YYYY-MM-DDTHH:MM:SSZ" */
    char created_at[32];
    char updated_at[32];
    char postmaster_address[321];       /* "" when none (reports from MAILER-DAEMON) */
} SERVER_DETAILS;

/* The live servers of org_id (only permalink's when not NULL), by name, into a mem_alloc'd
 * *list_r (mem_free it). The count, or < 0 database error. */
int server_details_list(DB *db, unsigned long long org_id, const char *permalink, SERVER_DETAILS **list_r);
/* Changes one of the settings server_set does not know, by name, value as text:
 * "name", "spam_threshold", "spam_failure_threshold", "outbound_spam_threshold" ("none"
 * clears it), "raw_message_retention_days", "raw_message_retention_size" (MB),
 * "message_retention_days", "postmaster_address" ("none" clears it; an address at a
 * verified domain of the server or its organization). 1 changed, 0 bad name or value
 * (*error_r, mem_free it), < 0 database error. */
int server_set_more(DB *db, unsigned long long id, const char *setting, const char *value, char **error_r);

/* The postmaster address of server id (reports come from it): 1 into out, 0 none set,
 * < 0 database error. */
int server_postmaster_address(DB *db, unsigned long long id, char out[321]);

/* Deletes server id: marked deleted (its permalink free again at once), its domains'
 * verification released (their names can be verified by their next owner; its routes and
 * mailboxes receive nothing), in one transaction of its own. Its credentials, mailboxes and
 * every lookup of it stop at once (they all require deleted_at IS NULL); its data goes in
 * bounded steps (purge_deleted_server_step, postgate-worker's job server_purge). 1 done,
 * 0 no such live server, < 0 database error. */
int server_delete(DB *db, unsigned long long id);

/* The longest raw_message_retention_days and message_retention_days of the servers not
 * deleted (the schema's defaults, 30 and 60, when there are none). 0 or < 0. */
int server_longest_retention(DB *db, long long *raw_days_r, long long *message_days_r);

#endif
