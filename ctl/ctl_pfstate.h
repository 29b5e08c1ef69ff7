/*
 * ctl_pfstate.h -- what `postgatectl postfix disable` needs to undo enable exactly: the
 * state file DIR/postgate.state (for every main.cf parameter enable changed, its previous
 * explicit value or that it was unset) and the full backups DIR/main.cf.postgate-backup and
 * DIR/master.cf.postgate-backup made before the first change.
 *
 * Must never: overwrite a backup, or leave a half-written state file (writes are atomic).
 */
#ifndef PG_CTL_PFSTATE_H
#define PG_CTL_PFSTATE_H

#include <stddef.h>

#include "ctl_postconf.h"

#define STATE_FILE "postgate.state"
#define BACKUP_SUFFIX ".postgate-backup"

typedef struct state_entry {
    char *name;
    int was_set;
    char *value;
} STATE_ENTRY;

typedef struct state {
    STATE_ENTRY *items;
    size_t count;
    int exists;
} STATE;

void state_free(STATE *st);
const STATE_ENTRY *state_get(const STATE *st, const char *name);
void state_add(STATE *st, const char *name, size_t name_len, int was_set, const char *value);
/*
 * Reads DIR/postgate.state: "set NAME = VALUE" or "unset NAME" per line, '#' comments.
 * A missing file is an empty state. Returns 0, EX_DATAERR (malformed) or EX_IOERR.
 */
int state_load(const PF *pf, STATE *st);
/* Writes DIR/postgate.state atomically: 0, or EX_CANTCREAT after saying why not. */
int state_save(const PF *pf, const STATE *st);
/* Copies src to dst unless dst exists (a backup is never overwritten); *made_r says
 * whether it did. 0, or an exit status after saying why not. */
int backup_file(const char *src, const char *dst, int *made_r);

#endif
