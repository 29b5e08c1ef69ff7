/*
 * mgmt_password.c -- a new password in a management API body (mgmt.h), one way for every
 * endpoint that sets one (people's accounts, mailboxes, a mailbox user's own change, a
 * reset): the field read, the password policy (passwords.*) applied with its refusal
 * named for mgmt_reply_invalid(), and the argon2id hash made.
 *
 * Must never: log a password, or keep one past the request.
 */
#include "config.h"

#include "mail/pwpolicy.h"
#include "mgmt.h"
#include "util/mem.h"
#include "util/msg.h"

const char *
mgmt_field_new_password(MGMT_CALL *c, const char *name, int required)
{
    const char *pw = mgmt_field_string(c, name, required, MGMT_PASSWORD_MAX), *rule, *reason;

    if (pw && pwpolicy_check(c->m->pwpolicy, pw, &rule, &reason) < 0) {
        mgmt_field_error(c, name, "%s", reason);
        c->password_rule = rule;
        c->password_reason = reason;
        return NULL;
    }
    return pw;
}

int
mgmt_password_hash(MGMT_CALL *c, const char *pw, char hash[PASSWORD_HASH_MAX])
{
    char *why = NULL;

    if (password_hash(pw, hash, PASSWORD_HASH_MAX, &why) == 0)
        return 0;
    msg_error("%s %s: password hashing failed: %s", c->req->method, c->req->path, why);
    mem_free(why);
    return -1;
}
