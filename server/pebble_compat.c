/* Pebble drop-in: Pebble's JSON config file ({"pebble": {...}}) and its
 * environment variables, with Pebble's defaults where they are silent.
 * Keys of Debian's pebble 2.4 plus the newer retryAfter and profiles; a
 * key aro cannot honour is reported at start, never ignored silently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "json.h"

int pebble_load_config(server_config *c, const char *path, aro_err *err);
void pebble_apply_env(server_config *c);

int pebble_load_config(server_config *c, const char *path, aro_err *err)
{
    aro_err perr;
    char *text = file_read_all(path, 1 << 20, NULL, &perr);
    if (!text) {
        aro_err_set(err, "cannot read config %s: %s", path, perr.msg);
        return -1;
    }
    yajl_val root = json_parse(text, strlen(text), &perr);
    free(text);
    yajl_val p = json_member(root, "pebble");
    if (!p || !YAJL_IS_OBJECT(p)) {
        aro_err_set(err, "config %s: expected {\"pebble\": {...}}", path);
        json_free(root);
        return -1;
    }
    /* Pebble's defaults differ from aro's: 5 minute... no: Pebble keeps
     * orders and authorizations an hour too, and reuses valid ones. */
    int ret = -1;
    for (size_t i = 0; i < p->u.object.len; i++) {
        const char *k = p->u.object.keys[i];
        yajl_val v = p->u.object.values[i];
        if (!strcmp(k, "listenAddress") && YAJL_IS_STRING(v)) {
            free(c->listen);
            c->listen = xstrdup(YAJL_GET_STRING(v));
        } else if (!strcmp(k, "managementListenAddress") && YAJL_IS_STRING(v)) {
            free(c->manage);
            c->manage = xstrdup(YAJL_GET_STRING(v));
        } else if (!strcmp(k, "certificate") && YAJL_IS_STRING(v)) {
            free((char *)c->ca.https_cert);
            c->ca.https_cert = xstrdup(YAJL_GET_STRING(v));
        } else if (!strcmp(k, "privateKey") && YAJL_IS_STRING(v)) {
            free((char *)c->ca.https_key);
            c->ca.https_key = xstrdup(YAJL_GET_STRING(v));
        } else if (!strcmp(k, "httpPort") && YAJL_IS_INTEGER(v)) {
            c->va.http_port = (int)YAJL_GET_INTEGER(v);
        } else if (!strcmp(k, "tlsPort") && YAJL_IS_INTEGER(v)) {
            c->va.tls_port = (int)YAJL_GET_INTEGER(v);
        } else if (!strcmp(k, "ocspResponderURL")) {
            if (YAJL_IS_STRING(v) && *YAJL_GET_STRING(v))
                fprintf(stderr, "aro-server: note: ocspResponderURL is accepted but aro-server runs no OCSP "
                                "responder and puts no AIA OCSP URL in certificates\n");
        } else if (!strcmp(k, "externalAccountBindingRequired") || !strcmp(k, "externalAccountMACKeys") ||
                   !strcmp(k, "domainBlocklist") || !strcmp(k, "profiles") ||
                   !strcmp(k, "certificateValidityPeriod")) {
            /* Same names and meaning as aro's own keys: reuse that parser by
             * writing a one-key document. */
            json_gen *g = jg_new();
            jg_obj_open(g);
            jg_key(g, k);
            jg_value(g, v);
            jg_obj_close(g);
            char *doc = jg_finish(g, NULL);
            char tmp[] = "/tmp/aro-pebble-cfg-XXXXXX";
            int fd = mkstemp(tmp);
            if (fd >= 0) {
                FILE *f = fdopen(fd, "w");
                fputs(doc, f);
                fclose(f);
                int rc = config_load_file(c, tmp, err);
                unlink(tmp);
                if (rc < 0) {
                    free(doc);
                    goto out;
                }
            }
            free(doc);
        } else if (!strcmp(k, "retryAfter") && YAJL_IS_OBJECT(v)) {
            yajl_val ra = json_member(v, "authz");
            if (ra && YAJL_IS_INTEGER(ra))
                c->retry_after_pending = (long)YAJL_GET_INTEGER(ra);
        } else {
            aro_err_set(err, "config %s: pebble key \"%s\" is unknown or has the wrong type", path, k);
            goto out;
        }
    }
    /* Pebble mode keeps Pebble's throwaway nature: a fresh temporary data
     * directory unless --data was given (main.c decides). */
    ret = 0;
out:
    json_free(root);
    return ret;
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

void pebble_apply_env(server_config *c)
{
    /* Pebble sleeps 0-15 s before validating unless PEBBLE_VA_NOSLEEP. */
    const char *nosleep = getenv("PEBBLE_VA_NOSLEEP");
    if (!(nosleep && (!strcmp(nosleep, "1") || !strcasecmp(nosleep, "true")))) {
        c->va_sleep_ms = 0;
        c->fault_validation_jitter_ms = env_long("PEBBLE_VA_SLEEPTIME", 15) * 1000;
    }
    const char *always = getenv("PEBBLE_VA_ALWAYS_VALID");
    c->va_always_valid = always && (!strcmp(always, "1") || !strcasecmp(always, "true"));
    /* Pebble rejects 5% of nonces by default. */
    c->fault_nonce_reject = (double)env_long("PEBBLE_WFE_NONCEREJECT", 5) / 100.0;
    const char *reuse = getenv("PEBBLE_AUTHZREUSE");
    long reuse_pct = reuse ? strtol(reuse, NULL, 10) : 50;
    c->reuse_valid_authz = reuse_pct > 0;
    c->orders_per_page = (int)env_long("PEBBLE_WFE_ORDERS_PER_PAGE", 3);
    long chain = env_long("PEBBLE_CHAIN_LENGTH", 0);
    if (chain >= 2 && chain <= 6)
        c->ca.chain_length = (int)chain;
    long alt = env_long("PEBBLE_ALTERNATE_ROOTS", 0);
    if (alt >= 0 && alt <= 16)
        c->ca.alternate_roots = (int)alt;
}
