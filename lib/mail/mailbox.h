/*
 * mailbox.h -- hosted domains and their mailboxes (DESIGN.md §8): the hosting switch of a
 * domain, and mailboxes created, renamed, given a password or quota, enabled, disabled and
 * deleted. Owns the SQL of mailboxes and of domains.hosting.
 *
 * A mailbox is <local part>@<domain>, the local part lower case (it is a lookup key;
 * Postfix folds keys the same way). Its uuid is its storage key: Dovecot keeps its mail in
 * <dovecot.mail_directory>/<uuid>, so a rename keeps the mail. Its password is an argon2id
 * hash (util/password.h), which Dovecot verifies itself through the dovecot_mailboxes view
 * (schema 010); callers check the password policy (pwpolicy.h) before hashing.
 * A local part names one thing of a domain: a mailbox or an alias (alias.h), never both.
 *
 * Contract: functions answer 1 done, 0 refused (bad input, taken, not found: *error_r says
 * which, the caller mem_frees it) or < 0 (DB_ERR_TEMP / DB_ERR_PERM, *error_r set too).
 * Must never: switch hosting on for a domain that is not verified, or put input in SQL text.
 */
#ifndef PG_MAILBOX_H
#define PG_MAILBOX_H

#include "mail/db.h"

#define MAILBOX_MAX_LOCAL 64

/* A domain a mailbox or alias may be made under. */
typedef struct mailbox_domain {
    unsigned long long id;
    char name[254];
    int verified;
    int hosting;
    unsigned long long alias_of;    /* an alias of that domain (schema 016), else 0 */
} MAILBOX_DOMAIN;

/* Checks and lower-cases a local part: 1..64 of a-z 0-9 . _ - (no leading, trailing or
 * double dot). 1 ok (out), 0 not. allow_star also admits "*" (an alias's catch-all). */
int mailbox_local_normalize(const char *in, char *out, size_t len, int allow_star);

/* The domain name of server_id or of its organization org_id. 1 found, 0 not, < 0 error. */
int mailbox_domain_find(DB *db, unsigned long long server_id, unsigned long long org_id, const char *name,
                        MAILBOX_DOMAIN *d);
/* Switches hosting on or off. On needs a verified domain (0 and *error_r when it is not). */
int mailbox_hosting_set(DB *db, const MAILBOX_DOMAIN *d, int on, char **error_r);
/* Makes d an alias of target (hosting switched on with it), or no alias (target NULL).
 * Both were found for one owner (mailbox_domain_find with the same server and
 * organization). Refused (0, *error_r says why) unless d and target are verified, target
 * hosts mailboxes and is no alias itself, d is not target, d holds no mailboxes or
 * aliases and no domain is an alias of d. 1 done, < 0 database error. */
int mailbox_domain_alias_set(DB *db, const MAILBOX_DOMAIN *d, const MAILBOX_DOMAIN *target, char **error_r);
/* 1 when mailboxes and aliases may be made under d (hosting, no alias); else 0 with why
 * (a sentence naming the domain) in why. */
int mailbox_domain_holds(const MAILBOX_DOMAIN *d, char *why, size_t size);

typedef struct mailbox_new {
    unsigned long long domain_id;
    const char *local_part;         /* normalized */
    const char *name;               /* display name, may be "" */
    const char *password_hash;      /* argon2id encoded */
    unsigned long long quota_bytes; /* 0: unlimited */
    unsigned long quota_messages;   /* 0: unlimited */
} MAILBOX_NEW;

/* Creates a mailbox (uuid_r); 0 when the local part is a mailbox or alias already. */
int mailbox_create(DB *db, const MAILBOX_NEW *m, char uuid_r[37], char **error_r);
/* The mailbox local_part (normalized) of domain_id: 1 (*id_r), 0 none, < 0 error. */
int mailbox_find(DB *db, unsigned long long domain_id, const char *local_part, unsigned long long *id_r);
/* Gives mailbox id the address new_local@new_domain (a domain of the same owner, checked by
 * the caller); its uuid, so its mail, stays. 0 when the new address is taken. */
int mailbox_rename(DB *db, unsigned long long id, unsigned long long new_domain_id, const char *new_local,
                   char **error_r);
int mailbox_set_password(DB *db, unsigned long long id, const char *password_hash, char **error_r);
/* 0 means unlimited for either. */
int mailbox_set_quota(DB *db, unsigned long long id, unsigned long long bytes, unsigned long messages,
                      char **error_r);
int mailbox_set_enabled(DB *db, unsigned long long id, int enabled, char **error_r);
int mailbox_set_name(DB *db, unsigned long long id, const char *name, char **error_r);
/* Deletes the row; its mail directory (by uuid) is the mail store's to remove. */
int mailbox_delete(DB *db, unsigned long long id, char **error_r);
/* Every mailbox's storage key (its uuid, lower case: the name of its directory under
 * dovecot.mail_directory), sorted, disabled ones and those of unhosted domains included
 * (*keys_r: mem_free each and the array). The count, or < 0 (nothing is returned then). */
int mailbox_storage_keys(DB *db, char ***keys_r, size_t *count_r);

/* A mailbox as mailbox_list() gives it. */
typedef struct mailbox_row {
    unsigned long long id;
    const char *uuid;
    const char *address;
    const char *name;
    int enabled;
    const char *quota_bytes;        /* NULL: unlimited */
    const char *quota_messages;     /* NULL: unlimited */
    unsigned long long used_bytes;  /* Dovecot's last copy of the usage (mailbox_usage) */
    unsigned long long used_messages;
    const char *last_login_at;      /* NULL: never */
} MAILBOX_ROW;
/* The mailboxes of domain_id by address as MAILBOX_ROWs (db_rows_free): the count or < 0. */
int mailbox_list(DB *db, unsigned long long domain_id, DB_ROWS *rows);
/* The mailboxes under the domains of server_id and of its organization, by address (only
 * uuid's when not NULL, only id's when not 0): the count or < 0. */
int mailbox_server_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id,
                        DB_ROWS *rows);

#endif
