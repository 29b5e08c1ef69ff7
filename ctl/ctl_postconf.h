/*
 * ctl_postconf.h -- `postgatectl postfix`'s view of a Postfix instance, read only through
 * postconf(1): running it (an argv, never a shell; its output captured and shown when it
 * fails), parsing its "name = value" answers, and the instance model PF that enable,
 * disable and check work from: main.cf parameters as they are and as enable wants them,
 * postgate's sockets as Postfix must name them, and the master.cf services
 * (ctl_mastercf.c fills those in).
 *
 * Must never: edit main.cf or master.cf text itself.
 */
#ifndef PG_CTL_POSTCONF_H
#define PG_CTL_POSTCONF_H

#include <stddef.h>

#include "ctl_common.h"
#include "mail/forward.h"
#include "util/buf.h"

#define RUN_TIMEOUT_SECONDS 60
#define RUN_OUTPUT_LIMIT (4u * 1024 * 1024)
/* smtp_header_checks' first table: postgate's verdict headers (X-Postal-Spam*,
 * X-Postal-Threat*, X-Postgate-Inspection) never leave by SMTP. An inline table
 * (Postfix 3.7 and later), so there is no file to install. */
#define PF_VERDICT_STRIP "regexp:{{/^X-(Postal-(Spam|Threat)|Postgate-Inspection)(-[A-Za-z-]+)?:/ IGNORE}}"

/*
 * header_checks' first tables: the Received field Postfix's smtpd writes, for privacy
 * mode (a server's setting) and so that no SASL login name leaves. With
 * smtpd_sasl_authenticated_header = yes the field names the login; the pipemap's regexp
 * turns Postfix's own field (one word of HELO name, reverse name, [address], optional
 * comments such as TLS's, then "by host (mail_name) with PROTO id QUEUEID") into a
 * socketmap key "login NAME by ..." or "client ADDRESS by ...", and policyd's "received"
 * map answers REPLACE with "Received: by ..." when that sender's server has privacy mode.
 * Otherwise the second table only removes the "(Authenticated sender: ...)" comment.
 * Inline tables, "$" doubled for main.cf. PF_RECEIVED_CHECKS(socketmap) is the value.
 */
#define PF_RECEIVED_FROM "^Received: from [^ ()]+ \\([^ ()]* ?\\[([^]]+)\\]\\)"
#define PF_RECEIVED_COMMENTS "([[:space:]]+\\([^()]*(\\([^()]*\\)[^()]*)*\\))*"
#define PF_RECEIVED_BY "(by [^ ()]+ \\([^()]+\\) with "
#define PF_RECEIVED_LOGIN "{/" PF_RECEIVED_FROM PF_RECEIVED_COMMENTS \
    "[[:space:]]+\\(Authenticated sender: ([^ ()]+)\\)[[:space:]]+" PF_RECEIVED_BY \
    "ESMTPS?A id [0-9A-Za-z]+.*)$$/ login $$4 $$5}"
#define PF_RECEIVED_CLIENT "{/" PF_RECEIVED_FROM PF_RECEIVED_COMMENTS "[[:space:]]+" PF_RECEIVED_BY \
    "E?SMTPS? id [0-9A-Za-z]+.*)$$/ client $$1 $$4}"
#define PF_RECEIVED_STRIP "regexp:{{/^(Received: from .*[^[:space:]])[[:space:]]+" \
    "\\(Authenticated sender: [^()]*\\)([[:space:]]+by .*)$$/ REPLACE $$1$$2}}"

typedef struct kv {
    char *name;
    char *value;
} KV;

typedef struct kv_list {
    KV *items;
    size_t count;
} KV_LIST;

/* One main.cf parameter enable sets. */
typedef struct setting {
    const char *name;
    char *want;
    const char *now;            /* effective value (explicit or default) */
    int optional;               /* left out, with a warning, when this Postfix does not know it */
} SETTING;

enum { SOCK_MILTER, SOCK_POLICY, SOCK_SASL, SOCK_SOCKETMAP, SOCK_LMTP, SOCK_COUNT };

/*
 * The loopback smtpd services enable adds to master.cf: the release service (held
 * mail re-injected by postgate), the injection service (the send API's submissions),
 * the forward service (postgate-worker's Address endpoints and delivery reports) and the
 * Dovecot service (Sieve's vacation replies and redirects). All run the milter, which
 * tells them apart by milter_macro_daemon_name and takes on the first three only
 * messages with postgate's signed header (forward.h for the forward service; its and the
 * Dovecot service's daemon names come from there), on the last only mail of a mailbox.
 */
#define LOOPBACKS 4

typedef struct loopback {
    const char *what;           /* "release", "injection" */
    const char *key;            /* the configuration key of its address */
    char *service;              /* "127.0.0.1:10026/inet" */
    char *line;                 /* its whole master.cf entry */
    char *now;                  /* postconf -M of it, "" when missing */
    int ours;                   /* it carries the marker */
} LOOPBACK;

typedef struct pf {
    const PGCONF *cfg;
    const char *dir;            /* Postfix configuration directory */
    char *postconf;             /* path of postconf(1) */
    char *queue_dir;
    char *mail_owner;
    const char *sock_key[SOCK_COUNT];
    const char *sock_spec[SOCK_COUNT];
    char *sock_postfix[SOCK_COUNT];     /* as Postfix must be told */
    char *sock_path[SOCK_COUNT];        /* absolute unix socket path, or NULL (inet) */
    SETTING settings[40];
    size_t nsettings;
    KV_LIST effective;          /* postconf NAME... */
    KV_LIST explicit;           /* postconf -n */
    KV_LIST marked;             /* services with the marker: name "svc/type", value its syslog_name */
    LOOPBACK loop[LOOPBACKS];   /* the release, injection, forward and Dovecot services */
    int postlog_present;
} PF;

/* ---------------------------------------------------------------- small helpers */

void kv_add(KV_LIST *list, const char *name, size_t name_len, const char *value);
void kv_free(KV_LIST *list);
const char *kv_get(const KV_LIST *list, const char *name);
/* Parses postconf's "name = value" / "name =" lines; other lines are ignored. */
void kv_parse(KV_LIST *list, const char *text);
/* Postfix lists are separated by commas and/or white space: compare the words. */
int same_value(const char *a, const char *b);
/* dir/name (mem_free it). */
char *path_join(const char *dir, const char *name);
/* The directory part of an absolute path ("/" for "/x"; mem_free it). */
char *dir_of(const char *path);
/* The absolute path of an executable found in $PATH (mem_free it), or NULL. */
char *find_program(const char *name);

/* ---------------------------------------------------------------- running postconf */

/* Shows a failed command's stderr and stdout, line by line, with msg_error. */
void show_output(const BUF *out, const BUF *err);
/*
 * Runs postconf -c DIR ARGS... (args NULL-terminated). Returns 0 with its stdout in
 * out (when not NULL), or EX_CONFIG after showing what it said.
 */
int postconf_v(PF *pf, BUF *out, const char *const *args);
#define POSTCONF(pf, out, ...) postconf_v((pf), (out), (const char *const[]) {__VA_ARGS__, NULL})
/* Runs postconf with a variable list: fixed leading args then list[0..n); as postconf_v. */
int postconf_list(PF *pf, BUF *out, const char *a, const char *b, char **list, size_t n);

/* ---------------------------------------------------------------- reading the instance */

/* Checks that DIR is a Postfix configuration directory and finds postconf: 0, or an
 * exit status after saying why not. pf_close() it either way. */
int pf_open(PF *pf, const PGCONF *cfg, const char *dir);
void pf_close(PF *pf);
/* Parses "inet:host:port" (host may be [v6]); returns 1 when well formed. */
int inet_spec_ok(const char *rest);
/* Reads the queue directory and mail_owner and translates postgate's socket addresses
 * (the first step of reading the instance): 0, or an exit status after saying why not. */
int pf_load(PF *pf);
/* Works out every main.cf parameter enable sets, reads their values now and the explicit
 * main.cf settings (after pf_load): 0, or an exit status after saying why not. */
int pf_load_settings(PF *pf);

/* After a change (changed): `postfix reload` when asked (reload) and Postfix runs, else a
 * reminder. 0, or EX_UNAVAILABLE when the reload failed (said why). */
int pf_maybe_reload(const PF *pf, int reload, int changed);

#endif
