/*
 * ctl_common.h -- what every postgatectl command shares: the command context, the
 * mapping of database errors to sysexits(3) statuses, and the lookups and keys several
 * command families need. Commands report through msg_error() and return a status;
 * nothing here exits.
 */
#ifndef PG_CTL_COMMON_H
#define PG_CTL_COMMON_H

#include <sysexits.h>

#include "mail/conf.h"
#include "mail/db.h"
#include "mail/server.h"
#include "util/seal.h"

typedef struct ctl_context {
    const char *config_path;     /* as given with -c, or the default */
    int config_explicit;         /* -c was given */
    PGCONF *cfg;
} CTL_CONTEXT;

/* Maps a db.h error to an exit status: temporary -> EX_TEMPFAIL, else EX_DATAERR. */
int ctl_db_status(int db_ret);

/*
 * Maps a create/change result (1 done, 0 refused as invalid, < 0 database error) to an
 * exit status; reports error (or "failed") unless done. Frees error.
 */
int ctl_report(int ret, char *error);

/*
 * Finds the server written as "org/server" into *server. Returns EX_OK, or reports why
 * not (no such server, database unavailable) and returns the exit status to give.
 */
int ctl_find_server(DB *db, const char *path, SERVER *server);

/* The installation key (security.secret_key_file), or NULL after reporting why not. */
SEAL_KEY *ctl_load_seal(const PGCONF *cfg);

#endif
