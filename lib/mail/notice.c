/*
 * notice.c -- notice.h: who runs an organization, and what they are told.
 */
#include "config.h"

#include <stdlib.h>

#include "mail/notice.h"
#include "mail/sysmail.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

/* Mails subject and body to every owner and admin of org_id: the number mailed, < 0 error. */
static int
mail_admins(DB *db, const PGCONF *cfg, unsigned long long org_id, const char *subject, const char *body)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT u.email FROM organization_users ou JOIN users u ON u.id = ou.user_id "
                       "WHERE ou.organization_id = ? AND ou.role IN ('owner', 'admin') AND u.deleted_at IS NULL "
                       "ORDER BY u.id", DB_ARGS(DB_UINT(org_id))), sent = 0;

    for (int i = 0; i < ret; i++) {
        const char *to = db_result_get(res, (size_t) i, 0);
        char *why = NULL;

        if (sysmail_send(cfg, to, subject, body, &why) == 0) {
            sent++;
        } else {
            msg_warn("notice \"%s\" to %s: not mailed: %s", subject, to, why);
            mem_free(why);
        }
    }
    db_result_free(res);
    return ret < 0 ? ret : sent;
}

/* The organization (id and name) and, when server_id is not 0, the server's name. 1 found. */
static int
names(DB *db, unsigned long long org_id, unsigned long long server_id, unsigned long long *org_r, char **org_name_r,
      char **server_name_r)
{
    DB_RESULT *res = NULL;
    int ret = server_id
        ? db_query(db, &res, "SELECT o.id, o.name, s.name FROM servers s JOIN organizations o ON o.id = s.organization_id "
                   "WHERE s.id = ?", DB_ARGS(DB_UINT(server_id)))
        : db_query(db, &res, "SELECT o.id, o.name, '' FROM organizations o WHERE o.id = ?", DB_ARGS(DB_UINT(org_id)));

    if (ret > 0) {
        *org_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
        *org_name_r = mem_strdup(db_result_get(res, 0, 1));
        *server_name_r = mem_strdup(db_result_get(res, 0, 2));
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

/* Mails subject and body (both taken) to org_id's owners and admins; frees the names too. */
static int
mail_and_free(DB *db, const PGCONF *cfg, unsigned long long org_id, char *subject, char *body, char *org,
              char *server)
{
    int ret = mail_admins(db, cfg, org_id, subject, body);

    mem_free(subject);
    mem_free(body);
    mem_free(org);
    mem_free(server);
    return ret;
}

int
notice_send_limit(DB *db, const PGCONF *cfg, unsigned long long server_id, int exceeded, long long volume,
                  long long limit)
{
    unsigned long long org_id = 0;
    char *org = NULL, *server = NULL, *subject, *body;
    int ret = names(db, 0, server_id, &org_id, &org, &server);

    if (ret <= 0)
        return ret;
    subject = buf_asprintf("%s: send limit %s", server, exceeded ? "reached" : "nearly reached");
    body = buf_asprintf("The mail server %s of the organization %s on %s has sent %lld messages in the last hour;\n"
                        "its send limit is %lld an hour.\n\n%s\n", server, org, cfg->dns_smtp_server_hostname, volume,
                        limit, exceeded
                        ? "Further messages are held, not sent and not lost: release them from the server's Held\n"
                          "page once the hour's volume is below the limit (or raise the limit in its settings);\n"
                          "held messages nobody releases expire after a few days."
                        : "At the limit, further messages will be held (the server's Held page) instead of sent.");
    return mail_and_free(db, cfg, org_id, subject, body, org, server);
}

int
notice_suspension(DB *db, const PGCONF *cfg, unsigned long long org_id, unsigned long long server_id,
                  const char *reason)
{
    char *org = NULL, *server = NULL, *subject, *body;
    int ret = names(db, org_id, server_id, &org_id, &org, &server);

    if (ret <= 0)
        return ret;
    if (server_id) {
        subject = buf_asprintf("%s: mail server suspended", server);
        body = buf_asprintf("An administrator of %s suspended the mail server %s of the organization %s.\n"
                            "It sends no mail until the suspension is lifted.%s%s\n", cfg->dns_smtp_server_hostname,
                            server, org, reason && *reason ? "\n\nThe reason given: " : "", reason ? reason : "");
    } else {
        subject = buf_asprintf("%s: organization suspended", org);
        body = buf_asprintf("An administrator of %s suspended the organization %s.\n"
                            "Its mail servers send no mail until the suspension is lifted.%s%s\n",
                            cfg->dns_smtp_server_hostname, org, reason && *reason ? "\n\nThe reason given: " : "",
                            reason ? reason : "");
    }
    return mail_and_free(db, cfg, org_id, subject, body, org, server);
}
