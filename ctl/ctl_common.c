/*
 * ctl_common.c -- helpers every postgatectl command family uses (see ctl_common.h).
 */
#include "config.h"

#include "ctl_common.h"
#include "util/mem.h"
#include "util/msg.h"

int
ctl_db_status(int db_ret)
{
    return db_ret == -1 ? EX_TEMPFAIL : EX_DATAERR;
}

int
ctl_report(int ret, char *error)
{
    if (ret > 0)
        return EX_OK;
    msg_error("%s", error ? error : "failed");
    mem_free(error);
    return ret == 0 ? EX_DATAERR : ctl_db_status(ret);
}

int
ctl_find_server(DB *db, const char *path, SERVER *server)
{
    int ret = path ? server_by_path(db, path, server) : 0;

    if (ret < 0) {
        msg_error("database unavailable: %s", db_error(db));
        return ctl_db_status(ret);
    }
    if (ret == 0) {
        msg_error("no server \"%s\" (write it as org/server)", path ? path : "");
        return EX_DATAERR;
    }
    return EX_OK;
}

SEAL_KEY *
ctl_load_seal(const PGCONF *cfg)
{
    char *error = NULL;
    SEAL_KEY *seal = seal_key_load(cfg->security_secret_key_file, &error);

    if (seal == NULL) {
        msg_error("%s", error);
        mem_free(error);
    }
    return seal;
}
