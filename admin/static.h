/*
 * static.h -- the web admin's static files (admin/www/, installed under admin.www_dir),
 * served by postgate-admin as the HTTP layer's fallback for GET and HEAD.
 *
 * Contract: "/" and every path outside "/assets/" answer index.html (the UI routes in
 * the browser with the History API); "/assets/..." answers that file or 404. Paths
 * under "/api/" and "/health" never reach the UI: they get the JSON 404. A path with a
 * "." or ".." segment, a backslash, or a character outside [A-Za-z0-9._~@+-/] is 400.
 * Files are found with realpath() and must be regular files inside the resolved
 * admin.www_dir (a symlink leading out of it is 404). Every answer carries a strict
 * Content-Security-Policy (nothing inline, nothing remote, no framing by others),
 * Referrer-Policy no-referrer, X-Frame-Options DENY, Cache-Control no-cache (files are
 * not fingerprinted, so the browser revalidates), and for files an ETag and
 * Last-Modified; a matching If-None-Match answers 304.
 *
 * Must never: serve a file outside admin.www_dir, list a directory, or answer HTML for
 * a path under /api/.
 */
#ifndef PG_ADMIN_STATIC_H
#define PG_ADMIN_STATIC_H

#include "http.h"

typedef struct static_site STATIC_SITE;

/* The site rooted at dir (resolved now). When dir cannot be used the site still
 * answers, with 404 "the web UI is not installed", and *error_r says why (mem_free it). */
STATIC_SITE *static_site_new(const char *dir, char **error_r);
void static_site_free(STATIC_SITE *site);

/* The HTTP handler; arg is the STATIC_SITE. */
void static_serve(HTTP_REQUEST *req, void *arg);

/* The Content-Security-Policy of the UI (also documented in doc/manual.md). */
#define STATIC_CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
    "connect-src 'self'; font-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; " \
    "form-action 'self'; frame-ancestors 'none'"

#endif
