/*
 * twofactor.h -- the second factor of people's sign-in (schema 009): each user's TOTP
 * secret (user_totp), their single-use recovery codes (user_recovery_codes) and whether
 * a second factor is required of them (users.totp_required, or
 * organizations.require_two_factor of an organization they belong to).
 *
 * Contract: the secret is stored only sealed with the installation key (util/seal.h,
 * context "totp:<user id>"), and comes back raw to the caller that checks codes
 * (admin/otp.c); recovery codes arrive here as their keyed hash (twofactor_recovery_hash).
 * A time step is accepted once: twofactor_use_step() moves last_step forward atomically,
 * so two requests with the same code cannot both pass. Callers that change more than one
 * row (a confirmation with its recovery codes) run these inside their own transaction.
 * Must never: store or log a secret or a recovery code, or accept a step that is not
 * later than the last one accepted.
 */
#ifndef PG_TWOFACTOR_H
#define PG_TWOFACTOR_H

#include <stddef.h>

#include "mail/db.h"
#include "util/buf.h"
#include "util/seal.h"

#define TWOFACTOR_RECOVERY_CODES 10

/* Where a user stands. */
typedef struct twofactor_state {
    int enabled;                /* a confirmed secret */
    int pending;                /* an enrolment waiting for its first code */
    char confirmed_at[32];      /* "YYYY-MM-DDTHH:MM:SSZ" or "" */
    int required_user;          /* users.totp_required */
    int required_org;           /* an organization of theirs requires a second factor */
    int recovery_left;          /* unused recovery codes */
} TWOFACTOR_STATE;

/* user_id's state: 1 (*st), 0 no such live user, < 0 database error. */
int twofactor_state(DB *db, unsigned long long user_id, TWOFACTOR_STATE *st);

/* Where a new session of user_id starts (user_sessions.second_factor): "code" when they
 * have a confirmed secret, "enrol" when a second factor is required of them (their own
 * flag or an organization's) and they have none, else "complete". 1 with *state_r (a
 * static string), 0 no such live user, < 0 database error. */
int twofactor_login_state(DB *db, unsigned long long user_id, const char **state_r);

/* Stores secret (raw bytes) sealed as user_id's new, unconfirmed secret, replacing an
 * unconfirmed one: 1 stored, 0 a confirmed secret exists (nothing changed), < 0 database
 * error (DB_ERR_TEMP also when sealing failed). */
int twofactor_begin(DB *db, const SEAL_KEY *seal, unsigned long long user_id, const void *secret, size_t len);

/* user_id's raw secret into out: the confirmed one, or the unconfirmed one when
 * unconfirmed is set. 1 found (*last_step_r: 0 when none yet), 0 none, < 0 database error
 * (DB_ERR_PERM when it does not unseal with this installation's key). */
int twofactor_secret(DB *db, const SEAL_KEY *seal, unsigned long long user_id, int unconfirmed, BUF *out,
                     unsigned long long *last_step_r);

/* Accepts time step step of user_id's confirmed secret when it is later than the last
 * accepted one, atomically: 1 accepted, 0 refused (reused or earlier), < 0 database error. */
int twofactor_use_step(DB *db, unsigned long long user_id, unsigned long long step);

/* Confirms user_id's pending secret with the step of its first code: 1 done, 0 nothing
 * pending, < 0 database error. */
int twofactor_confirm(DB *db, unsigned long long user_id, unsigned long long step);

/* Replaces user_id's recovery codes by n new ones given as hashes: 1, < 0 database error. */
int twofactor_recovery_set(DB *db, unsigned long long user_id, char hashes[][65], size_t n);

/* Uses user_id's recovery code of hash once: 1 used now, 0 no such unused code, < 0. */
int twofactor_recovery_use(DB *db, unsigned long long user_id, const char *hash);

/* The keyed hash of a normalized recovery code of user_id (65 bytes out). */
void twofactor_recovery_hash(const SEAL_KEY *seal, unsigned long long user_id, const char *code, char out[65]);

/* Removes user_id's secret and recovery codes: 1 removed, 0 there were none, < 0. */
int twofactor_remove(DB *db, unsigned long long user_id);

/* Sets users.totp_required of live user user_id: 1 done, 0 no such user, < 0. */
int twofactor_set_required(DB *db, unsigned long long user_id, int required);

#endif
