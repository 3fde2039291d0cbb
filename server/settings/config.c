#include "settings/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64url.h"
#include "ca/channel.h"
#include "json.h"
#include "strv.h"

void config_defaults(server_config *c)
{
    memset(c, 0, sizeof(*c));
    c->listen = xstrdup("127.0.0.1:14000");
    c->manage = xstrdup("127.0.0.1:15000");
    c->data_dir = xstrdup("./aro-data");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = cores > 0 ? (int)cores : 1;
    c->log_level = 1;
    c->retry_options = true;
    c->pending_hold = true;
    c->new_authz = true;
    c->failure_mode = FAILURE_RFC8555;
    c->group_commit = true;
    c->store_map_mib = 16384;
    c->order_lifetime = 3600;
    c->authz_pending_lifetime = 3600;
    c->authz_valid_lifetime = 30 * 86400;
    c->reuse_valid_authz = true;
    c->reuse_pending_authz = false;
    c->failed_validation_limit = 5;
    /* Boulder's kinds, with room enough that no demo, test or benchmark
     * meets them unless it sets them low (docs/configuration.md). */
    c->limits.identifiers_per_order = 100;
    c->limits.new_orders_per_account = (rate_limit_cfg){100000, 3 * 3600};
    c->limits.pending_authzs_per_account = 10000;
    c->limits.pending_orders_per_account = 5000;
    c->limits.certs_per_domain = (rate_limit_cfg){1000000, 7 * 86400};
    c->limits.duplicate_certs = (rate_limit_cfg){10000, 7 * 86400};
    c->failed_validation_window = 3600;
    c->retry_attempts = 3;
    c->retry_min_backoff = 5;
    c->retry_max_backoff = 3600;
    c->retry_same_type = true;
    c->terms_of_service = xstrdup("https://aro.test/terms-of-service");
    c->website = xstrdup("https://aro.test/");
    c->orders_per_page = 50;
    c->retry_after_pending = 1;
    c->retry_after_order = 1;
    c->reuse_valid_pct = 100;
    c->va.http_port = 5002;
    c->va.tls_port = 5001;
    c->va.timeout_ms = 10000;
    c->va.http_max_body = 8192;
    c->va.http_max_redirects = 10;
    c->va_workers = 8;
    c->va_same_challenge_retry_delay_ms = 2000;
    c->perspective_timeout_ms = 15000;

    c->caa_identities = xcalloc(1, sizeof(char *));
    c->caa_identities[0] = xstrdup("aro.test");
    c->ncaa_identities = 1;
    ca_config_defaults(&c->ca);
}

void config_free(server_config *c)
{
    free(c->listen);
    free(c->manage);
    free(c->data_dir);
    free((char *)c->va.dns_server);
    strv_free(c->retry_never, c->nretry_never);
    strv_free(c->caa_identities, c->ncaa_identities);
    free(c->terms_of_service);
    free(c->website);
    for (size_t i = 0; i < c->neab_keys; i++) {
        free(c->eab_keys[i].kid);
        free(c->eab_keys[i].key);
    }
    free(c->eab_keys);
    strv_free(c->blocklist, c->nblocklist);
    for (size_t i = 0; i < c->nprofiles; i++) {
        free(c->profiles[i].name);
        free(c->profiles[i].description);
    }
    free(c->profiles);
    free((char *)c->ca.https_cert);
    free((char *)c->ca.https_key);
    for (size_t i = 0; i < c->nperspectives; i++) {
        free(c->perspectives[i].name);
        free(c->perspectives[i].address);
    }
    free(c->perspectives);
    free(c->perspective_listen);
    free(c->issue_perspective);
    memset(c, 0, sizeof(*c));
}

/* ---- JSON config ---- */

typedef struct {
    const char *file;
    aro_err *err;
    bool failed;
} cfg_ctx;

static bool bad(cfg_ctx *x, const char *key, const char *what)
{
    if (!x->failed)
        aro_err_set(x->err, "%s: \"%s\" %s", x->file, key, what);
    x->failed = true;
    return false;
}

static void set_str(cfg_ctx *x, yajl_val v, const char *key, char **out)
{
    if (!YAJL_IS_STRING(v)) {
        bad(x, key, "must be a string");
        return;
    }
    free(*out);
    *out = xstrdup(YAJL_GET_STRING(v));
}

static long get_long(cfg_ctx *x, yajl_val v, const char *key, long min, long max)
{
    if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < min || YAJL_GET_INTEGER(v) > max) {
        char what[96];
        snprintf(what, sizeof(what), "must be an integer from %ld to %ld", min, max);
        bad(x, key, what);
        return min;
    }
    return (long)YAJL_GET_INTEGER(v);
}

static bool get_bool(cfg_ctx *x, yajl_val v, const char *key)
{
    if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
        return bad(x, key, "must be true or false");
    return YAJL_IS_TRUE(v);
}

static double get_rate(cfg_ctx *x, yajl_val v, const char *key)
{
    if (!YAJL_IS_NUMBER(v) || YAJL_GET_DOUBLE(v) < 0 || YAJL_GET_DOUBLE(v) > 1) {
        bad(x, key, "must be a number from 0 to 1");
        return 0;
    }
    return YAJL_GET_DOUBLE(v);
}

static void set_strv(cfg_ctx *x, yajl_val v, const char *key, char ***out, size_t *n)
{
    if (!YAJL_IS_ARRAY(v)) {
        bad(x, key, "must be an array of strings");
        return;
    }
    strv_free(*out, *n);
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < v->u.array.len; i++) {
        if (!YAJL_IS_STRING(v->u.array.values[i])) {
            bad(x, key, "must be an array of strings");
            return;
        }
        strv_push(out, n, YAJL_GET_STRING(v->u.array.values[i]));
    }
}

static void set_eab_keys(cfg_ctx *x, server_config *c, yajl_val v, const char *key)
{
    if (!YAJL_IS_OBJECT(v)) {
        bad(x, key, "must be an object of key id to base64url HMAC key");
        return;
    }
    for (size_t i = 0; i < v->u.object.len; i++) {
        yajl_val k = v->u.object.values[i];
        unsigned char *raw = NULL;
        size_t len = 0;
        const char *s = YAJL_IS_STRING(k) ? YAJL_GET_STRING(k) : NULL;
        /* Pebble's keys are base64url; tolerate padding some configs carry. */
        char *trim = s ? xstrdup(s) : NULL;
        if (trim)
            trim[strcspn(trim, "=")] = 0;
        if (!trim || b64url_decode(trim, strlen(trim), &raw, &len) < 0 || len < 16) {
            free(trim);
            bad(x, key, "holds a key that is not base64url of at least 16 bytes");
            return;
        }
        free(trim);
        c->eab_keys = xrealloc(c->eab_keys, (c->neab_keys + 1) * sizeof(*c->eab_keys));
        c->eab_keys[c->neab_keys].kid = xstrdup(v->u.object.keys[i]);
        c->eab_keys[c->neab_keys].key = raw;
        c->eab_keys[c->neab_keys].keylen = len;
        c->neab_keys++;
    }
}

static void set_profiles(cfg_ctx *x, server_config *c, yajl_val v, const char *key)
{
    if (!YAJL_IS_OBJECT(v)) {
        bad(x, key, "must be an object of profile name to {description, validityPeriod}");
        return;
    }
    for (size_t i = 0; i < v->u.object.len; i++) {
        yajl_val p = v->u.object.values[i];
        const char *desc = json_str(p, "description");
        yajl_val vp = json_member(p, "validityPeriod");
        c->profiles = xrealloc(c->profiles, (c->nprofiles + 1) * sizeof(*c->profiles));
        profile_cfg *pc = &c->profiles[c->nprofiles++];
        pc->name = xstrdup(v->u.object.keys[i]);
        pc->description = xstrdup(desc ? desc : v->u.object.keys[i]);
        pc->validity_seconds = vp ? get_long(x, vp, "validityPeriod", 60, 10L * 365 * 86400) : 0;
    }
}

static void set_failure_mode(cfg_ctx *x, server_config *c, yajl_val v, const char *key)
{
    static const char *const names[] = {"rfc8555", "erratum", "processing"};
    const char *s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
    for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(s, names[i])) {
            c->failure_mode = (failure_mode)i;
            return;
        }
    bad(x, key, "must be \"rfc8555\", \"erratum\" or \"processing\"");
}

/* [{"name": "p1", "address": "10.0.0.2:4430"}, ...]: the remote
 * perspectives (server/mpic/), each name unique and usable in a
 * certificate (ca/channel.h). */
static void set_perspectives(cfg_ctx *x, server_config *c, yajl_val v, const char *key)
{
    if (!YAJL_IS_ARRAY(v) || v->u.array.len > 16) {
        bad(x, key, "must be an array of at most 16 {\"name\", \"address\"} objects");
        return;
    }
    for (size_t i = 0; i < v->u.array.len && !x->failed; i++) {
        const char *name = json_str(v->u.array.values[i], "name");
        const char *addr = json_str(v->u.array.values[i], "address");
        if (!YAJL_IS_OBJECT(v->u.array.values[i]) || v->u.array.values[i]->u.object.len != 2 || !name || !addr ||
            !strrchr(addr, ':')) {
            bad(x, key, "must hold {\"name\": NAME, \"address\": \"HOST:PORT\"} objects");
            return;
        }
        if (!channel_name_ok(name)) {
            bad(x, key, "names must be DNS labels of a-z, 0-9 and '-' (at most 32, not \"primary\")");
            return;
        }
        for (size_t j = 0; j < c->nperspectives; j++)
            if (strcmp(c->perspectives[j].name, name) == 0) {
                bad(x, key, "names a perspective twice");
                return;
            }
        c->perspectives = xrealloc(c->perspectives, (c->nperspectives + 1) * sizeof(*c->perspectives));
        c->perspectives[c->nperspectives].name = xstrdup(name);
        c->perspectives[c->nperspectives++].address = xstrdup(addr);
    }
}

/* aro's own keys; Pebble's are handled by pebble.c. */
static void apply_key(cfg_ctx *x, server_config *c, const char *k, yajl_val v)
{
    if (!strcmp(k, "listen")) set_str(x, v, k, &c->listen);
    else if (!strcmp(k, "manage")) set_str(x, v, k, &c->manage);
    else if (!strcmp(k, "data")) set_str(x, v, k, &c->data_dir);
    else if (!strcmp(k, "httpPort")) c->va.http_port = (int)get_long(x, v, k, 1, 65535);
    else if (!strcmp(k, "tlsPort")) c->va.tls_port = (int)get_long(x, v, k, 1, 65535);
    else if (!strcmp(k, "dns")) { char *s = NULL; set_str(x, v, k, &s); free((char *)c->va.dns_server); c->va.dns_server = s; }
    else if (!strcmp(k, "threads")) c->threads = (int)get_long(x, v, k, 1, 256);
    else if (!strcmp(k, "logLevel")) c->log_level = (int)get_long(x, v, k, 0, 2);
    else if (!strcmp(k, "retryOptions")) c->retry_options = get_bool(x, v, k);
    else if (!strcmp(k, "retryAttemptsPerAuthorization")) c->retry_attempts = (int)get_long(x, v, k, 1, 100);
    else if (!strcmp(k, "retryMinBackoffSeconds")) c->retry_min_backoff = get_long(x, v, k, 0, 86400);
    else if (!strcmp(k, "retryMaxBackoffSeconds")) c->retry_max_backoff = get_long(x, v, k, 0, 86400);
    else if (!strcmp(k, "retrySameType")) c->retry_same_type = get_bool(x, v, k);
    else if (!strcmp(k, "pendingHold")) c->pending_hold = get_bool(x, v, k);
    else if (!strcmp(k, "newAuthz")) c->new_authz = get_bool(x, v, k);
    else if (!strcmp(k, "failureMode")) set_failure_mode(x, c, v, k);
    else if (!strcmp(k, "retryNever")) set_strv(x, v, k, &c->retry_never, &c->nretry_never);
    else if (!strcmp(k, "orderLifetimeSeconds")) c->order_lifetime = get_long(x, v, k, 60, 30L * 86400);
    else if (!strcmp(k, "authzPendingLifetimeSeconds")) c->authz_pending_lifetime = get_long(x, v, k, 60, 30L * 86400);
    else if (!strcmp(k, "authzValidLifetimeSeconds")) c->authz_valid_lifetime = get_long(x, v, k, 60, 400L * 86400);
    else if (!strcmp(k, "reuseValidAuthz")) c->reuse_valid_authz = get_bool(x, v, k);
    else if (!strcmp(k, "reusePendingAuthz")) c->reuse_pending_authz = get_bool(x, v, k);
    else if (!strcmp(k, "failedValidationLimit")) c->failed_validation_limit = (int)get_long(x, v, k, 1, 100000);
    else if (!strcmp(k, "failedValidationWindowSeconds")) c->failed_validation_window = get_long(x, v, k, 1, 30L * 86400);
    else if (!strcmp(k, "identifiersPerOrder")) c->limits.identifiers_per_order = (int)get_long(x, v, k, 1, 100);
    else if (!strcmp(k, "newOrdersPerAccount")) c->limits.new_orders_per_account.count = get_long(x, v, k, 0, 100000000);
    else if (!strcmp(k, "newOrdersPerAccountWindowSeconds")) c->limits.new_orders_per_account.window = get_long(x, v, k, 1, 365L * 86400);
    else if (!strcmp(k, "pendingAuthorizationsPerAccount")) c->limits.pending_authzs_per_account = get_long(x, v, k, 0, 100000000);
    else if (!strcmp(k, "pendingOrdersPerAccount")) c->limits.pending_orders_per_account = get_long(x, v, k, 0, 100000000);
    else if (!strcmp(k, "certificatesPerDomain")) c->limits.certs_per_domain.count = get_long(x, v, k, 0, 100000000);
    else if (!strcmp(k, "certificatesPerDomainWindowSeconds")) c->limits.certs_per_domain.window = get_long(x, v, k, 1, 365L * 86400);
    else if (!strcmp(k, "duplicateCertificates")) c->limits.duplicate_certs.count = get_long(x, v, k, 0, 100000000);
    else if (!strcmp(k, "duplicateCertificatesWindowSeconds")) c->limits.duplicate_certs.window = get_long(x, v, k, 1, 365L * 86400);
    else if (!strcmp(k, "caaIdentities")) set_strv(x, v, k, &c->caa_identities, &c->ncaa_identities);
    else if (!strcmp(k, "termsOfService")) set_str(x, v, k, &c->terms_of_service);
    else if (!strcmp(k, "website")) set_str(x, v, k, &c->website);
    else if (!strcmp(k, "externalAccountBindingRequired")) c->eab_required = get_bool(x, v, k);
    else if (!strcmp(k, "externalAccountMACKeys")) set_eab_keys(x, c, v, k);
    else if (!strcmp(k, "domainBlocklist")) set_strv(x, v, k, &c->blocklist, &c->nblocklist);
    else if (!strcmp(k, "profiles")) set_profiles(x, c, v, k);
    else if (!strcmp(k, "certificateValidityPeriod")) c->ca.validity_seconds = get_long(x, v, k, 60, 10L * 365 * 86400);
    else if (!strcmp(k, "ordersPerPage")) c->orders_per_page = (int)get_long(x, v, k, 1, 1000);
    else if (!strcmp(k, "allowPrivateTargets")) c->va.deny_private_targets = !get_bool(x, v, k);
    else if (!strcmp(k, "validationTimeoutSeconds")) c->va.timeout_ms = (int)get_long(x, v, k, 1, 120) * 1000;
    else if (!strcmp(k, "validationWorkers")) c->va_workers = (int)get_long(x, v, k, 1, 256);
    else if (!strcmp(k, "validationWorkersPerAccount")) c->va_workers_per_account = (int)get_long(x, v, k, 1, 256);
    else if (!strcmp(k, "validationSleepMs")) c->va_sleep_ms = get_long(x, v, k, 0, 60000);
    else if (!strcmp(k, "groupCommit")) c->group_commit = get_bool(x, v, k);
    else if (!strcmp(k, "storeMapSizeMiB")) c->store_map_mib = get_long(x, v, k, 1, 1L << 20);
    else if (!strcmp(k, "serverRetries")) c->va_same_challenge_retries = (int)get_long(x, v, k, 0, 10);
    else if (!strcmp(k, "serverRetryDelayMs")) c->va_same_challenge_retry_delay_ms = get_long(x, v, k, 0, 600000);
    else if (!strcmp(k, "chainLength")) c->ca.chain_length = (int)get_long(x, v, k, 2, 6);
    else if (!strcmp(k, "alternateRoots")) c->ca.alternate_roots = (int)get_long(x, v, k, 0, 16);
    else if (!strcmp(k, "caKeyType")) {
        char *s = NULL;
        set_str(x, v, k, &s);
        if (s && key_type_from_name(s, &c->ca.key_type) < 0)
            bad(x, k, "must be ec256, ec384 or rsa2048");
        free(s);
    }
    else if (!strcmp(k, "perspectives")) set_perspectives(x, c, v, k);
    else if (!strcmp(k, "perspectiveTimeoutMs")) c->perspective_timeout_ms = get_long(x, v, k, 100, 120000);
    else if (!strcmp(k, "perspectiveListen")) set_str(x, v, k, &c->perspective_listen);
    else if (!strcmp(k, "faultNonceRejectRate")) c->fault_nonce_reject = get_rate(x, v, k);
    else if (!strcmp(k, "faultRateLimitedRate")) c->fault_rate_limited = get_rate(x, v, k);
    else if (!strcmp(k, "faultServerInternalRate")) c->fault_server_internal = get_rate(x, v, k);
    else if (!strcmp(k, "faultFinalizeDelayMs")) c->fault_finalize_delay_ms = get_long(x, v, k, 0, 600000);
    else if (!strcmp(k, "faultValidationJitterMs")) c->fault_validation_jitter_ms = get_long(x, v, k, 0, 600000);
    else bad(x, k, "is not a known setting");
}

int config_apply_key(server_config *c, const char *file, const char *key, yajl_val v, aro_err *err)
{
    cfg_ctx x = {.file = file, .err = err};
    apply_key(&x, c, key, v);
    return x.failed ? -1 : 0;
}

int config_load_file(server_config *c, const char *path, aro_err *err)
{
    aro_err perr;
    char *text = file_read_all(path, 1 << 20, NULL, &perr);
    if (!text) {
        aro_err_set(err, "cannot read config %s: %s", path, perr.msg);
        return -1;
    }
    yajl_val root = json_parse(text, strlen(text), &perr);
    free(text);
    if (!root || !YAJL_IS_OBJECT(root)) {
        aro_err_set(err, "config %s: %s", path, root ? "must be a JSON object" : perr.msg);
        json_free(root);
        return -1;
    }
    cfg_ctx x = {.file = path, .err = err};
    for (size_t i = 0; i < root->u.object.len && !x.failed; i++)
        apply_key(&x, c, root->u.object.keys[i], root->u.object.values[i]);
    json_free(root);
    return x.failed ? -1 : 0;
}

const profile_cfg *config_profile(const server_config *cfg, const char *name)
{
    for (size_t i = 0; name && i < cfg->nprofiles; i++)
        if (strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    return NULL;
}
