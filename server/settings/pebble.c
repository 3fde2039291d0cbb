#include "settings/pebble.h"

/* Read as Debian's pebble 2.4 reads them (cmd/pebble/main.go, wfe.New,
 * va.New), plus the newer keys retryAfter,
 * profiles, keyAlgorithm and caaIdentities. Where Pebble would silently
 * ignore something (an unknown key, a setting aro cannot honour) aro-server
 * says so on stderr at start; where Pebble would refuse to start (a value
 * of the wrong type) so does aro-server. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("aro-server: pebble config: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool pebble_config_is_pebble(const char *path)
{
    aro_err perr;
    char *text = file_read_all(path, 1 << 20, NULL, &perr);
    yajl_val root = text ? json_parse(text, strlen(text), &perr) : NULL;
    bool yes = root && YAJL_IS_OBJECT(root) && json_member(root, "pebble");
    json_free(root);
    free(text);
    return yes;
}

/* Pebble's own defaults where they differ from aro's, applied before its
 * config file: 5-year certificates (ca.defaultValidityPeriod), RSA 2048
 * roots and intermediates (ca.makeKey; newer Pebble's keyAlgorithm
 * default "rsa"), the CAA identity newer Pebble checks for. Listener and
 * validation ports keep aro's defaults, which are Pebble's example
 * config's apart from binding loopback rather than every interface. */
void pebble_mode_defaults(server_config *c)
{
    /* Pebble has none of Boulder's rate limits: a drop-in replacement
     * must not refuse what Pebble would accept. */
    c->limits.new_orders_per_account.count = 0;
    c->limits.pending_authzs_per_account = 0;
    c->limits.pending_orders_per_account = 0;
    c->limits.certs_per_domain.count = 0;
    c->limits.duplicate_certs.count = 0;
    c->ca.validity_seconds = 157766400;
    c->new_authz = false; /* Pebble offers no newAuthz */
    c->ca.key_type = KEY_RSA2048;
    for (size_t i = 0; i < c->ncaa_identities; i++)
        free(c->caa_identities[i]);
    c->caa_identities = xrealloc(c->caa_identities, sizeof(char *));
    c->caa_identities[0] = xstrdup("pebble.letsencrypt.org");
    c->ncaa_identities = 1;
}

/* Go's net package reads ":14000" as every interface and "-dnsserver
 * :5053" as this host; aro's listener and resolver want a host. */
char *pebble_normalize_addr(const char *addr, const char *empty_host)
{
    if (addr[0] == ':')
        return xasprintf("%s%s", empty_host, addr);
    return xstrdup(addr);
}

/* encoding/json matches keys case-insensitively: "ListenAddress" works in
 * Pebble as well as "listenAddress". */
static bool key_is(const char *k, const char *name)
{
    return strcasecmp(k, name) == 0;
}

/* A JSON null leaves a Go field at its zero value, as if absent. */
static int want_string(yajl_val v, const char *path, const char *k, const char **out, aro_err *err)
{
    if (YAJL_IS_NULL(v)) {
        *out = NULL;
        return 0;
    }
    if (!YAJL_IS_STRING(v)) {
        aro_err_set(err, "config %s: pebble key \"%s\" must be a string", path, k);
        return -1;
    }
    *out = YAJL_GET_STRING(v);
    return 0;
}

static int want_int(yajl_val v, const char *path, const char *k, long min, long max, long *out, aro_err *err)
{
    if (YAJL_IS_NULL(v)) {
        *out = 0;
        return 0;
    }
    if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < min || YAJL_GET_INTEGER(v) > max) {
        aro_err_set(err, "config %s: pebble key \"%s\" must be an integer from %ld to %ld", path, k, min, max);
        return -1;
    }
    *out = (long)YAJL_GET_INTEGER(v);
    return 0;
}

/* Pebble's "profiles": {"name": {"description", "validityPeriod",
 * "promoteCommonName"}}. Replaces aro's list; validityPeriod 0 means the
 * CA's default, as in Pebble. */
static int load_profiles(server_config *c, yajl_val v, const char *path, aro_err *err)
{
    if (YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_OBJECT(v)) {
        aro_err_set(err, "config %s: pebble key \"profiles\" must be an object", path);
        return -1;
    }
    for (size_t i = 0; i < c->nprofiles; i++) {
        free(c->profiles[i].name);
        free(c->profiles[i].description);
    }
    free(c->profiles);
    c->profiles = NULL;
    c->nprofiles = 0;
    for (size_t i = 0; i < v->u.object.len; i++) {
        const char *name = v->u.object.keys[i];
        yajl_val p = v->u.object.values[i];
        const char *desc = NULL;
        long validity = 0;
        if (!YAJL_IS_OBJECT(p)) {
            aro_err_set(err, "config %s: profile \"%s\" must be an object", path, name);
            return -1;
        }
        for (size_t j = 0; j < p->u.object.len; j++) {
            const char *k = p->u.object.keys[j];
            yajl_val pv = p->u.object.values[j];
            if (key_is(k, "description")) {
                if (want_string(pv, path, "profiles.description", &desc, err) < 0)
                    return -1;
            } else if (key_is(k, "validityPeriod")) {
                if (want_int(pv, path, "profiles.validityPeriod", 0, 10L * 365 * 86400, &validity, err) < 0)
                    return -1;
            } else if (key_is(k, "promoteCommonName")) {
                /* aro puts the first name in the CN whenever it fits: the
                 * same as true; false cannot be honoured. */
                if (YAJL_IS_FALSE(pv))
                    note("profile \"%s\": promoteCommonName false is not honoured%s: aro-server always puts the "
                         "first DNS name in the subject CN",
                         name, "");
            } else {
                note("profile \"%s\": key \"%s\" is unknown to aro-server and ignored", name, k);
            }
        }
        if (validity > 0 && validity < 60) {
            aro_err_set(err, "config %s: profile \"%s\": aro-server needs a validityPeriod of 60 s or more", path,
                        name);
            return -1;
        }
        c->profiles = xrealloc(c->profiles, (c->nprofiles + 1) * sizeof(*c->profiles));
        profile_cfg *pc = &c->profiles[c->nprofiles++];
        pc->name = xstrdup(name);
        pc->description = xstrdup(desc ? desc : name);
        pc->validity_seconds = validity;
    }
    return 0;
}

/* Keys whose meaning aro's own settings share exactly: hand them to that
 * parser under aro's name. */
static int shared_key(server_config *c, const char *path, const char *aro_name, yajl_val v, aro_err *err)
{
    if (YAJL_IS_NULL(v))
        return 0;
    return config_apply_key(c, path, aro_name, v, err);
}

static int apply_one(server_config *c, const char *path, const char *k, yajl_val v, aro_err *err)
{
    const char *s = NULL;
    long n = 0;
    if (key_is(k, "listenAddress") || key_is(k, "managementListenAddress")) {
        bool manage = key_is(k, "managementListenAddress");
        if (want_string(v, path, k, &s, err) < 0)
            return -1;
        if (!s || !*s) {
            if (!manage) {
                /* Go would listen on ":https", port 443 of every interface:
                 * no test setup wants that. */
                note("listenAddress is empty: aro-server listens on its default %s%s", c->listen, "");
                return 0;
            }
            /* Pebble disables its management interface: so does aro-server
             * (and with it /metrics). */
            note("managementListenAddress is empty: the management API (and /metrics) is off%s", "");
            free(c->manage);
            c->manage = xstrdup("");
            return 0;
        }
        char **dst = manage ? &c->manage : &c->listen;
        free(*dst);
        *dst = pebble_normalize_addr(s, "0.0.0.0");
    } else if (key_is(k, "certificate") || key_is(k, "privateKey")) {
        if (want_string(v, path, k, &s, err) < 0)
            return -1;
        const char **dst = key_is(k, "certificate") ? &c->ca.https_cert : &c->ca.https_key;
        free((char *)*dst);
        *dst = s && *s ? xstrdup(s) : NULL;
    } else if (key_is(k, "httpPort") || key_is(k, "tlsPort")) {
        if (want_int(v, path, k, 0, 65535, &n, err) < 0)
            return -1;
        /* 0 (absent in Go) keeps Pebble's documented 5002/5001. */
        if (n > 0)
            *(key_is(k, "httpPort") ? &c->va.http_port : &c->va.tls_port) = (int)n;
    } else if (key_is(k, "ocspResponderURL")) {
        if (want_string(v, path, k, &s, err) < 0)
            return -1;
        if (s && *s)
            note("ocspResponderURL \"%s\" is not honoured%s: aro-server puts no OCSP URL in certificates", s, "");
    } else if (key_is(k, "externalAccountBindingRequired")) {
        return shared_key(c, path, "externalAccountBindingRequired", v, err);
    } else if (key_is(k, "externalAccountMACKeys")) {
        return shared_key(c, path, "externalAccountMACKeys", v, err);
    } else if (key_is(k, "domainBlocklist")) {
        return shared_key(c, path, "domainBlocklist", v, err);
    } else if (key_is(k, "caaIdentities")) {
        if (YAJL_IS_ARRAY(v) && v->u.array.len == 0)
            return 0; /* Pebble falls back to its default identity */
        return shared_key(c, path, "caaIdentities", v, err);
    } else if (key_is(k, "certificateValidityPeriod")) {
        if (want_int(v, path, k, 0, LONG_MAX, &n, err) < 0)
            return -1;
        /* Pebble: 0, or a value too large for a Go duration, keeps the
         * 5-year default. */
        if (n == 0 || n >= 9223372038L)
            return 0;
        if (n < 60 || n > 10L * 365 * 86400) {
            aro_err_set(err, "config %s: certificateValidityPeriod %ld is outside what aro-server issues "
                             "(60 s to 10 years)", path, n);
            return -1;
        }
        c->ca.validity_seconds = n;
    } else if (key_is(k, "keyAlgorithm")) {
        if (want_string(v, path, k, &s, err) < 0)
            return -1;
        if (!s || !*s || !strcmp(s, "rsa"))
            c->ca.key_type = KEY_RSA2048;
        else if (!strcmp(s, "ecdsa"))
            c->ca.key_type = KEY_EC256;
        else {
            aro_err_set(err, "config %s: keyAlgorithm \"%s\" is not one of \"rsa\", \"ecdsa\"", path, s);
            return -1;
        }
    } else if (key_is(k, "profiles")) {
        return load_profiles(c, v, path, err);
    } else if (key_is(k, "retryAfter")) {
        if (YAJL_IS_NULL(v))
            return 0;
        if (!YAJL_IS_OBJECT(v)) {
            aro_err_set(err, "config %s: pebble key \"retryAfter\" must be {\"authz\": N, \"order\": N}", path);
            return -1;
        }
        long authz = 0, order = 0;
        for (size_t i = 0; i < v->u.object.len; i++) {
            const char *rk = v->u.object.keys[i];
            long *dst = key_is(rk, "authz") ? &authz : key_is(rk, "order") ? &order : NULL;
            if (!dst) {
                note("retryAfter key \"%s\" is unknown to aro-server and ignored%s", rk, "");
                continue;
            }
            if (want_int(v->u.object.values[i], path, "retryAfter", 0, 86400, dst, err) < 0)
                return -1;
        }
        /* As Pebble: "authz" on pending authorizations and challenges,
         * "order" on pending and processing orders. */
        if (authz > 0)
            c->retry_after_pending = authz;
        if (order > 0)
            c->retry_after_order = order;
    } else {
        /* Pebble (encoding/json) would ignore it without a word. */
        note("key \"%s\" is unknown to aro-server and ignored%s", k, " (Pebble ignores it silently)");
    }
    return 0;
}

int pebble_load_config(server_config *c, const char *path, aro_err *err)
{
    aro_err perr;
    int ret = -1;
    yajl_val root = NULL;
    char *text = file_read_all(path, 1 << 20, NULL, &perr);
    if (!text) {
        aro_err_set(err, "cannot read config %s: %s", path, perr.msg);
        goto out;
    }
    root = json_parse(text, strlen(text), &perr);
    yajl_val p = root ? json_member(root, "pebble") : NULL;
    if (!p || !YAJL_IS_OBJECT(p)) {
        aro_err_set(err, "config %s: expected {\"pebble\": {...}}%s%s", path, root ? "" : ": ",
                    root ? "" : perr.msg);
        goto out;
    }
    for (size_t i = 0; i < root->u.object.len; i++)
        if (strcmp(root->u.object.keys[i], "pebble") != 0)
            note("top-level key \"%s\" is not read by Pebble or aro-server%s", root->u.object.keys[i], "");
    for (size_t i = 0; i < p->u.object.len; i++)
        if (apply_one(c, path, p->u.object.keys[i], p->u.object.values[i], err) < 0)
            goto out;
    if (!c->ca.https_cert != !c->ca.https_key) {
        aro_err_set(err, "config %s: \"certificate\" and \"privateKey\" go together", path);
        goto out;
    }
    if (!c->ca.https_cert)
        note("no certificate/privateKey: aro-server makes its own HTTPS certificate (in its data directory)%s%s",
             "", "");
    /* Pebble mode keeps Pebble's throwaway nature: main.c gives it a fresh
     * temporary data directory unless --data was given. */
    ret = 0;
out:
    json_free(root);
    free(text);
    return ret;
}

/* Go's strconv.ParseInt(s, 10, 0): optional sign, decimal digits, nothing
 * else (no spaces, no "5%"). false when unset or not a number. */
static bool env_int(const char *name, long *out)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return false;
    const char *d = (*v == '+' || *v == '-') ? v + 1 : v;
    if (!*d)
        return false;
    for (const char *q = d; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    errno = 0;
    long n = strtol(v, NULL, 10);
    if (errno)
        return false;
    *out = n;
    return true;
}

/* The spellings Pebble's VA switches on. */
static bool env_truthy(const char *name)
{
    const char *v = getenv(name);
    return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"));
}

int pebble_apply_env(server_config *c, aro_err *err)
{
    long n;
    /* va.New: sleep 0..N-1 whole seconds before each validation, N = 5
     * unless PEBBLE_VA_SLEEPTIME >= 1; none with PEBBLE_VA_NOSLEEP. aro's
     * jitter draws milliseconds from the same range. */
    if (env_truthy("PEBBLE_VA_NOSLEEP")) {
        c->fault_validation_jitter_ms = 0;
    } else {
        long secs = env_int("PEBBLE_VA_SLEEPTIME", &n) && n >= 1 ? n : 5;
        if (secs > 600) {
            aro_err_set(err, "PEBBLE_VA_SLEEPTIME=%ld: aro-server sleeps at most 600 s", secs);
            return -1;
        }
        c->fault_validation_jitter_ms = secs * 1000;
    }
    c->va_always_valid = env_truthy("PEBBLE_VA_ALWAYS_VALID");
    /* wfe.New: 5 % by default; below 0 is 0, above 100 is 99 (sic). */
    long pct = 5;
    if (env_int("PEBBLE_WFE_NONCEREJECT", &n))
        pct = n < 0 ? 0 : n > 100 ? 99 : n;
    c->fault_nonce_reject = (double)pct / 100.0;
    /* Pebble reuses a valid authorization with a probability of
     * PEBBLE_AUTHZREUSE % (default 50, only 0..100 read). */
    long reuse = env_int("PEBBLE_AUTHZREUSE", &n) && n >= 0 && n <= 100 ? n : 50;
    c->reuse_valid_authz = reuse > 0;
    c->reuse_valid_pct = (int)reuse;
    c->orders_per_page = env_int("PEBBLE_WFE_ORDERS_PER_PAGE", &n) && n > 0 ? (int)(n > 1000 ? 1000 : n) : 3;
    /* PEBBLE_CHAIN_LENGTH counts intermediates (default 1); aro counts the
     * whole chain from leaf to root. */
    long inter = env_int("PEBBLE_CHAIN_LENGTH", &n) && n >= 0 ? n : 1;
    if (inter < 1 || inter > 4) {
        aro_err_set(err, "PEBBLE_CHAIN_LENGTH=%ld: aro-server builds chains with 1 to 4 intermediates%s", inter,
                    inter < 1 ? " (Pebble 2.4 panics on 0)" : "");
        return -1;
    }
    c->ca.chain_length = (int)inter + 2;
    long alt = env_int("PEBBLE_ALTERNATE_ROOTS", &n) && n >= 0 ? n : 0;
    if (alt > 16) {
        aro_err_set(err, "PEBBLE_ALTERNATE_ROOTS=%ld: aro-server makes at most 16 alternate roots", alt);
        return -1;
    }
    c->ca.alternate_roots = (int)alt;
    fprintf(stderr, "aro-server: Pebble mode: reject %ld%% of good nonces, VA sleep %s, authz reuse %s, %d orders "
                    "per page, %ld intermediate(s), %ld alternate root(s)%s\n",
            pct, c->fault_validation_jitter_ms ? "random up to the limit" : "off", c->reuse_valid_authz ? "on" : "off",
            c->orders_per_page, inter, alt, c->va_always_valid ? ", VA always valid" : "");
    return 0;
}
