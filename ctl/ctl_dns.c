/*
 * ctl_dns.c -- `postgatectl dns-records`: the records the installation itself needs in
 * DNS (the return-path domain's MX, SPF and DKIM key), in zone-file syntax. Each
 * sending domain's own records are printed by `domain create`.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "mail/dkim.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

/* Reads a small text file (a PEM key) into a new string. */
static char *
slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    BUF *b;
    char chunk[4096];
    size_t n;

    if (fp == NULL)
        return NULL;
    b = buf_new(4096);
    buf_set_limit(b, 65536);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (buf_append(b, chunk, n) < 0)
            break;
    fclose(fp);
    return buf_steal(b, NULL);
}

int
ctl_dns(CTL_CONTEXT *ctx, int argc, char **argv)
{
    const PGCONF *cfg = ctx->cfg;
    const char *rp = cfg->dns_return_path_domain;
    char *pem, *pub, *txt, *why = NULL;
    DKIM_KEY *key;

    if (argc != 1) {
        msg_error("usage: postgatectl dns-records");
        return EX_USAGE;
    }
    if ((pem = slurp(cfg->security_return_path_dkim_key_file)) == NULL) {
        msg_error("%s: %m (postgatectl initialize creates it)", cfg->security_return_path_dkim_key_file);
        return EX_CONFIG;
    }
    key = dkim_key_load(pem, strlen(pem), &why);
    memset(pem, 0, strlen(pem));
    mem_free(pem);
    if (key == NULL || (pub = dkim_key_public_b64(key)) == NULL) {
        msg_error("%s: %s", cfg->security_return_path_dkim_key_file, key ? "no public key" : why);
        mem_free(why);
        dkim_key_free(key);
        return EX_CONFIG;
    }
    txt = dkim_dns_record(dkim_key_alg(key), pub);
    printf("; DNS records for this postgate installation (zone-file syntax)\n");
    printf("; the return-path domain receives bounces and signs mail whose From domain has no DKIM key\n");
    printf("%s.\t3600\tIN\tMX\t10 %s.\n", rp, cfg->dns_smtp_server_hostname);
    printf("%s.\t3600\tIN\tTXT\t\"v=spf1 a mx include:%s ~all\"\n", rp, cfg->dns_spf_include);
    printf("%s._domainkey.%s.\t3600\tIN\tTXT\t", cfg->dns_dkim_identifier, rp);
    for (size_t off = 0, len = strlen(txt); off < len; off += 255)
        printf("%s\"%.*s\"", off ? " " : "", (int) (len - off > 255 ? 255 : len - off), txt + off);
    printf("\n");
    mem_free(txt);
    mem_free(pub);
    dkim_key_free(key);
    return EX_OK;
}
