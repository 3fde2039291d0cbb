#include "rules/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

authz_status authz_effective_status(const rec_authz *a, time_t now)
{
    authz_status to;
    if (now >= a->expires && authz_transition(a->status, AUTHZ_EV_EXPIRE, &to))
        return to;
    return a->status;
}

order_status order_effective_status(const rec_order *o, time_t now)
{
    order_status to;
    /* A processing order finishes issuance even past expiry. */
    if (now >= o->expires && o->status != ORDER_PROCESSING &&
        order_transition(o->status, ORDER_EV_EXPIRE, &to))
        return to;
    return o->status;
}

bool policy_blocked(const server_config *cfg, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < cfg->nblocklist; i++) {
        const char *b = cfg->blocklist[i];
        size_t bl = strlen(b);
        if (nl == bl && strcasecmp(name, b) == 0)
            return true;
        if (nl > bl && name[nl - bl - 1] == '.' && strcasecmp(name + nl - bl, b) == 0)
            return true;
    }
    return false;
}

static bool valid_dns_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 253)
        return false;
    int labels = 0;
    const char *p = s;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t ll = dot ? (size_t)(dot - p) : strlen(p);
        if (ll == 0 || ll > 63 || p[0] == '-' || p[ll - 1] == '-')
            return false;
        for (size_t i = 0; i < ll; i++)
            if (!(isalnum((unsigned char)p[i]) || p[i] == '-'))
                return false;
        labels++;
        if (!dot)
            break;
        p = dot + 1;
        if (!*p)
            return false; /* trailing dot */
    }
    /* A single label is not a public name; the TLD must not be numeric. */
    const char *tld = strrchr(s, '.');
    if (labels < 2 || !tld)
        return false;
    for (const char *q = tld + 1; *q; q++)
        if (!isdigit((unsigned char)*q))
            return true;
    return false;
}

acme_problem *policy_check_identifier(const server_config *cfg, const char *type, const char *value,
                                      char **canonical, bool *wildcard)
{
    acme_problem *p = NULL;
    *canonical = NULL;
    *wildcard = false;
    if (strcmp(type, "dns") == 0) {
        char *v = xstrdup(value);
        for (char *c = v; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        const char *name = v;
        if (strncmp(v, "*.", 2) == 0) {
            *wildcard = true;
            name = v + 2;
        }
        unsigned char buf[16];
        if (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1)
            p = problem_new("rejectedIdentifier", 400, "\"%s\" is an IP address: use an \"ip\" identifier", value);
        else if (!valid_dns_name(name))
            p = problem_new("rejectedIdentifier", 400, "\"%s\" is not a valid DNS name", value);
        else if (policy_blocked(cfg, name))
            p = problem_new("rejectedIdentifier", 400, "\"%s\" is refused by policy (blocklist)", value);
        if (!p)
            *canonical = xstrdup(name);
        free(v);
    } else if (strcmp(type, "ip") == 0) {
        unsigned char buf[16];
        char out[INET6_ADDRSTRLEN];
        if (inet_pton(AF_INET, value, buf) == 1 && inet_ntop(AF_INET, buf, out, sizeof(out)))
            *canonical = xstrdup(out);
        else if (inet_pton(AF_INET6, value, buf) == 1 && inet_ntop(AF_INET6, buf, out, sizeof(out)))
            *canonical = xstrdup(out);
        else
            p = problem_new("malformed", 400, "\"%s\" is not an IP address", value);
    } else {
        p = problem_new("unsupportedIdentifier", 400, "identifier type \"%s\" is not supported", type);
    }
    if (p) {
        p->identifier.type = xstrdup(type);
        p->identifier.value = xstrdup(value);
    }
    return p;
}

/* ---- failed-validation limit ---- */

static char *limit_key(const char *account_id, const acme_identifier *id)
{
    return xasprintf("fv/%s/%s:%s", account_id, id->type, id->value);
}

/* Timestamps still inside the window, oldest first. */
static size_t load_window(store_txn *t, const char *key, time_t since, long long *out, size_t max)
{
    const char *v;
    size_t len, n = 0;
    if (store_get(t, TBL_LIMITS, key, &v, &len) != 0)
        return 0;
    aro_err err;
    yajl_val arr = json_parse(v, len, &err);
    if (arr && YAJL_IS_ARRAY(arr))
        for (size_t i = 0; i < arr->u.array.len && n < max; i++)
            if (YAJL_IS_INTEGER(arr->u.array.values[i]) &&
                YAJL_GET_INTEGER(arr->u.array.values[i]) > since)
                out[n++] = YAJL_GET_INTEGER(arr->u.array.values[i]);
    json_free(arr);
    return n;
}

#define LIMIT_MAX_KEEP 64

int limit_failed_count(store_txn *t, const server_config *cfg, const char *account_id,
                       const acme_identifier *id, time_t now, long *retry_after)
{
    long long ts[LIMIT_MAX_KEEP];
    char *key = limit_key(account_id, id);
    size_t n = load_window(t, key, now - cfg->failed_validation_window, ts, LIMIT_MAX_KEEP);
    free(key);
    if (retry_after)
        *retry_after = n ? (long)(ts[0] + cfg->failed_validation_window - now) : 0;
    return (int)n;
}

int limit_failed_record(store_txn *t, const server_config *cfg, const char *account_id,
                        const acme_identifier *id, time_t now)
{
    long long ts[LIMIT_MAX_KEEP];
    char *key = limit_key(account_id, id);
    size_t n = load_window(t, key, now - cfg->failed_validation_window, ts, LIMIT_MAX_KEEP);
    if (n == LIMIT_MAX_KEEP) {
        memmove(ts, ts + 1, (n - 1) * sizeof(ts[0]));
        n--;
    }
    ts[n++] = now;
    json_gen *g = jg_new();
    jg_arr_open(g);
    for (size_t i = 0; i < n; i++)
        jg_int(g, ts[i]);
    jg_arr_close(g);
    size_t len;
    char *doc = jg_finish(g, &len);
    int rc = store_put(t, TBL_LIMITS, key, doc, len);
    free(doc);
    free(key);
    return rc;
}

/* ---- retry-options ---- */

static bool never_retried(const server_config *cfg, const char *problem_type)
{
    for (size_t i = 0; i < cfg->nretry_never; i++)
        if (strcmp(cfg->retry_never[i], problem_type) == 0)
            return true;
    return false;
}

long policy_attempts_remaining(const server_config *cfg, const rec_authz *a)
{
    long left = (long)cfg->retry_attempts - (long)a->attempts;
    return left > 0 ? left : 0;
}

bool policy_offer_retry(const server_config *cfg, const rec_authz *a, const char *problem_type,
                        time_t now, const char **reason)
{
    /* Under --no-retry-options no offer is made and nothing is created, so
     * a failure made then stays without an offer if the switch flips. */
    if (!cfg->retry_options) {
        *reason = "retry-options disabled";
        return false;
    }
    /* Never after a refusal that another attempt cannot change. */
    if (strcmp(problem_type, "caa") == 0 || strcmp(problem_type, "rejectedIdentifier") == 0 ||
        strcmp(problem_type, "unsupportedIdentifier") == 0 || never_retried(cfg, problem_type)) {
        *reason = "failure is not retryable";
        return false;
    }
    if (policy_blocked(cfg, a->identifier.value)) {
        *reason = "identifier refused by policy";
        return false;
    }
    if (policy_attempts_remaining(cfg, a) == 0) {
        *reason = "no attempts left";
        return false;
    }
    if (policy_retry_not_before(cfg, a) >= a->expires || now >= a->expires) {
        *reason = "authorization expires before the next attempt";
        return false;
    }
    *reason = NULL;
    return true;
}

time_t policy_retry_not_before(const server_config *cfg, const rec_authz *a)
{
    if (a->nfailures == 0)
        return 0;
    const rec_failure *last = &a->failures[a->nfailures - 1];
    long backoff = cfg->retry_min_backoff;
    for (size_t i = 1; i < a->nfailures && backoff < cfg->retry_max_backoff; i++)
        backoff *= 2;
    /* A dns-01 retry before the resolver's negative cache expires meets
     * the cached NXDOMAIN/NODATA again (RFC 2308). */
    if (strcmp(last->chall_type, "dns-01") == 0 && last->dns_negative_ttl > backoff)
        backoff = last->dns_negative_ttl;
    if (backoff > cfg->retry_max_backoff)
        backoff = cfg->retry_max_backoff;
    return last->at + backoff;
}
