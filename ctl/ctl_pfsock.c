/*
 * ctl_pfsock.c -- ctl_pfsock.h: socket directories and connection tests.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_pfsock.h"
#include "util/mem.h"
#include "util/msg.h"

#define CONNECT_TIMEOUT_MS 2000

int
socket_dir_missing(const PF *pf, int which, char **dir_r)
{
    char *dir;
    struct stat st;

    *dir_r = NULL;
    if (pf->sock_path[which] == NULL)
        return 0;
    dir = dir_of(pf->sock_path[which]);
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        mem_free(dir);
        return 0;
    }
    *dir_r = dir;
    return 1;
}

/* ---------------------------------------------------------------- sockets */

/* Tries to connect to a postgate socket; returns NULL or why it failed (static text). */
const char *
try_connect(const char *spec, char *why, size_t why_len)
{
    int fd = -1;

    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sun;
        struct stat st;

        if (strlen(spec + 5) >= sizeof(sun.sun_path))
            return "path too long for a unix socket";
        if (stat(spec + 5, &st) != 0) {
            snprintf(why, why_len, "%s", strerror(errno));
            return why;
        }
        if (!S_ISSOCK(st.st_mode))
            return "exists but is not a socket";
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, spec + 5, strlen(spec + 5));
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
            || connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
            snprintf(why, why_len, "connect: %s", strerror(errno));
            if (fd >= 0)
                close(fd);
            return why;
        }
        close(fd);
        return NULL;
    } else {
        const char *hostport = spec + 5, *colon = strrchr(hostport, ':');
        char *host = mem_strndup(hostport, (size_t) (colon - hostport));
        struct addrinfo hints, *res = NULL;
        int err, result = -1;

        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            memmove(host, host + 1, strlen(host));
            host[strlen(host) - 1] = '\0';
        }
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        if ((err = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
            snprintf(why, why_len, "%s: %s", host, gai_strerror(err));
            mem_free(host);
            return why;
        }
        mem_free(host);
        snprintf(why, why_len, "no address");
        for (struct addrinfo *ai = res; ai && result != 0; ai = ai->ai_next) {
            struct pollfd pfd;
            int soerr = 0;
            socklen_t slen = sizeof(soerr);

            if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
                continue;
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
                result = 0;
            } else if (errno == EINPROGRESS) {
                pfd.fd = fd;
                pfd.events = POLLOUT;
                if (poll(&pfd, 1, CONNECT_TIMEOUT_MS) == 1
                    && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == 0 && soerr == 0)
                    result = 0;
                else
                    snprintf(why, why_len, "connect: %s", soerr ? strerror(soerr) : "timed out");
            } else {
                snprintf(why, why_len, "connect: %s", strerror(errno));
            }
            close(fd);
        }
        freeaddrinfo(res);
        return result == 0 ? NULL : why;
    }
}

/* Creates a socket directory: mode 0750, owner daemon.user (root when that user does
 * not exist), group of Postfix's mail_owner so smtpd may enter it. */
int
make_socket_dir(const PF *pf, const char *dir)
{
    struct passwd *pw;
    uid_t uid = 0;
    gid_t gid = 0;
    const char *owner = "root", *group = "root";
    struct group *gr;

    if ((pw = getpwnam(pf->cfg->daemon_user)) != NULL) {
        uid = pw->pw_uid;
        owner = pf->cfg->daemon_user;
    }
    if ((pw = getpwnam(pf->mail_owner)) != NULL) {
        gid = pw->pw_gid;
        gr = getgrgid(gid);
        group = gr ? gr->gr_name : pf->mail_owner;
    } else {
        msg_warn("Postfix mail_owner %s does not exist: %s is group root", pf->mail_owner, dir);
    }
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        msg_error("cannot create socket directory %s: %s", dir, strerror(errno));
        return EX_CANTCREAT;
    }
    if (chown(dir, uid, gid) < 0 || chmod(dir, 0750) < 0) {
        msg_error("%s: cannot set owner and mode: %s", dir, strerror(errno));
        return EX_CANTCREAT;
    }
    printf("created socket directory %s (mode 0750, owner %s, group %s)\n", dir, owner, group);
    if (uid == 0)
        printf("  user %s (daemon.user) does not exist: the directory is owned by root; "
               "chown it to %s once that user exists\n", pf->cfg->daemon_user, pf->cfg->daemon_user);
    return 0;
}
