/*
 * privacy.c -- privacy mode's decisions (privacy.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/credential.h"
#include "mail/hosting.h"
#include "mail/privacy.h"
#include "mail/server.h"

int
privacy_key_parse(const char *key, char kind[8], char *sender, size_t sender_size, const char **rest_r)
{
    const char *p = strchr(key, ' '), *q;

    if (p == NULL || (size_t) (p - key) >= 8)
        return 0;
    memcpy(kind, key, (size_t) (p - key));
    kind[p - key] = '\0';
    if (strcmp(kind, "login") != 0 && strcmp(kind, "client") != 0)
        return 0;
    p++;
    if ((q = strchr(p, ' ')) == NULL || q == p || (size_t) (q - p) >= sender_size || strncmp(q + 1, "by ", 3) != 0)
        return 0;
    memcpy(sender, p, (size_t) (q - p));
    sender[q - p] = '\0';
    *rest_r = q + 1;
    return 1;
}

int
privacy_of_sender(DB *db, const PGCONF *cfg, const char *kind, const char *sender)
{
    unsigned long long server_id = 0, id;
    SERVER server;
    int ret;

    if (strcmp(kind, "client") == 0) {
        CREDENTIAL cred;

        /* smtpd writes an IPv6 client as [IPv6:address]. */
        if (strncasecmp(sender, "IPv6:", 5) == 0)
            sender += 5;
        ret = credential_by_ip(db, cfg, sender, &cred);
        if (ret == CREDENTIAL_ERR_AMBIGUOUS)
            return 0;           /* policyd refuses such a client: nobody's mail */
        if (ret <= 0)
            return ret;
        server_id = cred.server_id;
    } else if (strchr(sender, '@') != NULL) {
        HOSTING_LOGIN login;

        if ((ret = hosting_login(db, sender, &login, NULL)) <= 0)
            return ret;
        server_id = login.server_id;        /* 0: an organization's domain, no server */
    } else {
        CREDENTIAL cred;

        if (credential_id_from_identity(sender, &id) < 0)
            return 0;
        if ((ret = credential_by_id(db, id, &cred)) <= 0)
            return ret;
        server_id = cred.server_id;
    }
    if (server_id == 0)
        return 0;
    ret = server_by_id(db, server_id, &server);
    return ret > 0 ? server.privacy_mode != 0 : ret;
}
