/*
 * static.c -- the web admin's static files (static.h): path checks, realpath
 * containment, content types, validators (ETag, Last-Modified) and the security
 * headers of the UI.
 *
 * The root is resolved once when postgate-admin starts; each request resolves its file
 * again (a symlink inside the tree may point anywhere, so the check is on the resolved
 * path, not the requested one) and opens it O_NOFOLLOW. Files are handed to the HTTP
 * layer as descriptors, so nothing is read into memory.
 *
 * Must never: serve a file outside the root, follow a request into a directory
 * listing, or put request text into a header.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "static.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define STATIC_MAX_PATH 1024
#define ASSETS_PREFIX "/assets/"
#define PATH_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~@+-/"
#define TEXT_TYPE "text/plain; charset=utf-8"

struct static_site {
    char *root;                 /* resolved; NULL when the UI is not installed */
    size_t root_len;
};

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"txt", TEXT_TYPE},
    {"woff2", "font/woff2"},
    {"webmanifest", "application/manifest+json"},
};

STATIC_SITE *
static_site_new(const char *dir, char **error_r)
{
    STATIC_SITE *site = mem_zalloc(sizeof(*site));
    char resolved[PATH_MAX];
    struct stat st;

    *error_r = NULL;
    if (realpath(dir, resolved) == NULL)
        *error_r = buf_asprintf("%s: %s", dir, strerror(errno));
    else if (stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode))
        *error_r = buf_asprintf("%s: not a directory", dir);
    else if (access(resolved, R_OK | X_OK) < 0)
        *error_r = buf_asprintf("%s: %s", dir, strerror(errno));
    else {
        site->root = mem_strdup(resolved);
        site->root_len = strlen(resolved);
    }
    return site;
}

void
static_site_free(STATIC_SITE *site)
{
    if (site == NULL)
        return;
    mem_free(site->root);
    mem_free(site);
}

static const char *
content_type(const char *path)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

    if (dot && (slash == NULL || dot > slash))
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* 0 when every segment of path is made of allowed characters and none is "." or "..". */
static int
path_ok(const char *path)
{
    if (path[0] != '/' || strlen(path) > STATIC_MAX_PATH || strspn(path, PATH_CHARS) != strlen(path))
        return -1;
    for (const char *seg = path + 1;; ) {
        size_t n = strcspn(seg, "/");

        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return -1;
        if (seg[n] == '\0')
            return 0;
        seg += n + 1;
    }
}

/* Headers of every answer of the UI: what the browser may load and show. */
static void
security_headers(HTTP_REQUEST *req)
{
    http_add_header(req, "Content-Security-Policy", STATIC_CSP);
    http_add_header(req, "Referrer-Policy", "no-referrer");
    http_add_header(req, "X-Frame-Options", "DENY");
    http_add_header(req, "Cross-Origin-Opener-Policy", "same-origin");
    http_add_header(req, "Cross-Origin-Resource-Policy", "same-origin");
    http_add_header(req, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
}

static void
reply_text(HTTP_REQUEST *req, unsigned status, const char *text)
{
    security_headers(req);
    http_reply_bytes(req, status, TEXT_TYPE, text, strlen(text));
}

/* Does the If-None-Match list name etag (or "*")? Weak validators compare as strong. */
static int
etag_matches(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);

    while (*inm) {
        size_t n;

        inm += strspn(inm, " \t,");
        if (strncmp(inm, "W/", 2) == 0)
            inm += 2;
        n = strcspn(inm, " \t,");
        if ((n == 1 && inm[0] == '*') || (n == elen && memcmp(inm, etag, n) == 0))
            return 1;
        inm += n;
    }
    return 0;
}

/* Serves rel (relative to the root, no leading '/'); 404 when it is not a regular file
 * inside the root. */
static void
serve_file(HTTP_REQUEST *req, const STATIC_SITE *site, const char *rel)
{
    char *full = buf_asprintf("%s/%s", site->root, rel);
    char resolved[PATH_MAX], etag[96], modified[64];
    const char *inm;
    struct stat st;
    struct tm tm;
    int fd = -1;

    if (realpath(full, resolved) == NULL) {
        if (errno != ENOENT && errno != ENOTDIR)
            msg_warn("%s: %s", full, strerror(errno));
    } else if (strncmp(resolved, site->root, site->root_len) != 0 || resolved[site->root_len] != '/') {
        msg_warn("%s: leads out of admin.www_dir (to %s): not served", full, resolved);
    } else if ((fd = open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        msg_warn("%s: %s", resolved, strerror(errno));
    } else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        mem_free(full);
        reply_text(req, MHD_HTTP_NOT_FOUND, "Not found.\n");
        return;
    }
    mem_free(full);
    snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx.%lx\"", (unsigned long long) st.st_ino,
             (unsigned long long) st.st_size, (unsigned long long) st.st_mtim.tv_sec, (long) st.st_mtim.tv_nsec);
    gmtime_r(&st.st_mtim.tv_sec, &tm);
    strftime(modified, sizeof(modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    security_headers(req);
    http_add_header(req, MHD_HTTP_HEADER_ETAG, etag);
    http_add_header(req, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
    inm = http_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && etag_matches(inm, etag)) {
        close(fd);
        http_reply_bytes(req, MHD_HTTP_NOT_MODIFIED, NULL, "", 0);
        return;
    }
    http_reply_fd(req, MHD_HTTP_OK, content_type(resolved), fd, (size_t) st.st_size);
}

void
static_serve(HTTP_REQUEST *req, void *arg)
{
    const STATIC_SITE *site = arg;
    const char *path = req->path;

    /* The API's and /health's unknown paths stay JSON, whatever the UI does. */
    if (strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0 || strncmp(path, "/health", 7) == 0) {
        http_reply_error(req, MHD_HTTP_NOT_FOUND, "NotFound", "There is nothing at this path.");
        return;
    }
    if (site->root == NULL) {
        http_reply_error(req, MHD_HTTP_NOT_FOUND, "NotFound",
                         "The web UI is not installed here (admin.www_dir).");
        return;
    }
    if (path_ok(path) < 0) {
        reply_text(req, MHD_HTTP_BAD_REQUEST, "Bad path.\n");
        return;
    }
    if (strncmp(path, ASSETS_PREFIX, strlen(ASSETS_PREFIX)) == 0)
        serve_file(req, site, path + 1);
    else
        serve_file(req, site, "index.html");
}
