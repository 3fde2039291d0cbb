#include "rules/limits.h"

#include <arpa/inet.h>
#include <libpsl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/repo.h"
#include "strv.h"

#define US 1000000LL

/* ---- failed validations ---- */

acme_problem *limit_failed_validations(const server_config *cfg, store_txn *t, const char *account_id,
                                       const acme_identifier *id, time_t now, long *retry_after)
{
    time_t oldest = 0;
    int n = repo_failures_since(t, account_id, id, now - cfg->failed_validation_window, &oldest);
    if (n < cfg->failed_validation_limit)
        return NULL;
    long wait = (long)(oldest + cfg->failed_validation_window - now);
    *retry_after = wait > 0 ? wait : 1;
    return problem_new("rateLimited", 429,
                       "failedValidations: too many failed validations for \"%s\" in the last %ld s "
                       "(at most %d)",
                       id->value, cfg->failed_validation_window, cfg->failed_validation_limit);
}

int limit_failed_validation_record(const server_config *cfg, store_txn *t, const char *account_id,
                                   const acme_identifier *id, time_t now)
{
    return repo_failure_record(t, account_id, id, now, now - cfg->failed_validation_window);
}

/* ---- identifiers per order ---- */

acme_problem *limit_identifiers_per_order(const server_config *cfg, size_t n)
{
    if (n <= (size_t)cfg->limits.identifiers_per_order)
        return NULL;
    /* Not rateLimited: no wait lifts it (Boulder answers malformed). */
    return problem_new("rejectedIdentifier", 400, "identifiersPerOrder: at most %d identifiers per order",
                       cfg->limits.identifiers_per_order);
}

/* ---- GCRA buckets ---- */

/* Whether one more event fits the bucket at now; when it does and spend
 * is set, it is counted. 1 allowed, 0 refused (*retry_after set), -1 store
 * error. The bucket holds the time at which it would be empty again
 * ("theoretical arrival time"): each event moves it window/count later;
 * an event is allowed while that stays within one window of now. */
static int gcra(store_txn *t, const char *limit, const char *bucket, const rate_limit_cfg *rl, time_t now,
                bool spend, long *retry_after)
{
    if (rl->count <= 0)
        return 1;
    int64_t now_us = (int64_t)now * US, window_us = (int64_t)rl->window * US;
    int64_t emission = window_us / rl->count, tat = 0;
    if (emission < 1)
        emission = 1;
    int rc = repo_limit_tat(t, limit, bucket, &tat);
    if (rc < 0)
        return -1;
    if (rc == 1 || tat < now_us)
        tat = now_us;
    int64_t next = tat + emission, allow_at = next - window_us;
    if (now_us < allow_at) {
        long wait = (long)((allow_at - now_us + US - 1) / US);
        *retry_after = wait > 0 ? wait : 1;
        return 0;
    }
    if (spend && repo_limit_tat_save(t, limit, bucket, next) < 0)
        return -1;
    return 1;
}

/* A store error, told apart from refusals (status 500: never sent as
 * such; the caller answers with response_store_error, which knows a full
 * store from a broken one). */
static acme_problem *store_problem(void)
{
    return problem_new("serverInternal", 500, "the store failed");
}

static acme_problem *rate_refusal(const char *limit, const char *what, const rate_limit_cfg *rl, long retry)
{
    return problem_new("rateLimited", 429, "%s: at most %ld %s per %ld s; retry after %ld s", limit, rl->count,
                       what, rl->window, retry);
}

/* ---- registered domains ---- */

static const psl_ctx_t *psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

/* Debian's publicsuffix package, or the list built into libpsl. */
static void psl_init(void)
{
    psl = psl_load_file("/usr/share/publicsuffix/public_suffix_list.dat");
    if (!psl)
        psl = psl_builtin();
}

void limits_load_public_suffixes(void)
{
    pthread_once(&psl_once, psl_init);
}

/* The bucket of certificatesPerDomain for an identifier: the registered
 * domain of a DNS name (the name itself when it has none, e.g. a public
 * suffix), an IPv4 address, or the /64 of an IPv6 address (one
 * subscriber's usual allocation, as Boulder counts). */
static char *domain_bucket(const acme_identifier *id)
{
    if (strcmp(id->type, "ip") == 0) {
        unsigned char b[16];
        char out[INET6_ADDRSTRLEN];
        if (inet_pton(AF_INET6, id->value, b) == 1) {
            memset(b + 8, 0, 8);
            if (inet_ntop(AF_INET6, b, out, sizeof(out)))
                return xasprintf("ip:%s/64", out);
        }
        return xasprintf("ip:%s", id->value);
    }
    limits_load_public_suffixes();
    const char *name = strncmp(id->value, "*.", 2) == 0 ? id->value + 2 : id->value;
    const char *reg = psl ? psl_registrable_domain(psl, name) : NULL;
    return xstrdup(reg ? reg : name);
}

/* The distinct registered domains of the order. */
static void order_domains(const rec_order *o, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < o->nidentifiers; i++) {
        char *d = domain_bucket(&o->identifiers[i]);
        bool seen = false;
        for (size_t j = 0; j < *n && !seen; j++)
            seen = strcmp((*out)[j], d) == 0;
        if (!seen)
            strv_push(out, n, d);
        free(d);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The bucket of duplicateCertificates: SHA-256 (hex) of the order's
 * identifiers, sorted, as "type:value" joined by ",". */
static char *identifier_set_bucket(const rec_order *o)
{
    char **ids = xcalloc(o->nidentifiers + 1, sizeof(*ids));
    size_t total = 1;
    for (size_t i = 0; i < o->nidentifiers; i++) {
        ids[i] = xasprintf("%s:%s", o->identifiers[i].type, o->identifiers[i].value);
        total += strlen(ids[i]) + 1;
    }
    qsort(ids, o->nidentifiers, sizeof(*ids), cmp_str);
    char *joined = xcalloc(1, total);
    for (size_t i = 0; i < o->nidentifiers; i++) {
        if (i)
            strcat(joined, ",");
        strcat(joined, ids[i]);
        free(ids[i]);
    }
    free(ids);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(joined, strlen(joined), md, &mdlen, EVP_sha256(), NULL);
    free(joined);
    return hex_lower(md, mdlen);
}

/* A renewal: the same set was issued within duplicateCertificates'
 * window. Boulder exempts renewals from certificatesPerDomain. */
static bool is_renewal(const server_config *cfg, store_txn *t, const char *set_bucket, time_t now)
{
    int64_t tat = 0;
    const rate_limit_cfg *rl = &cfg->limits.duplicate_certs;
    return rl->count > 0 && repo_limit_tat(t, "duplicateCertificates", set_bucket, &tat) == 0 &&
           tat > ((int64_t)now - rl->window) * US;
}

/* Checks (spend false) or counts (spend true) the certificate of o. */
static acme_problem *certificate_limits(const server_config *cfg, store_txn *t, const rec_order *o, time_t now,
                                        bool spend, long *retry_after)
{
    const limits_cfg *l = &cfg->limits;
    if (l->certs_per_domain.count <= 0 && l->duplicate_certs.count <= 0)
        return NULL;
    acme_problem *p = NULL;
    char *set = identifier_set_bucket(o);
    bool renewal = is_renewal(cfg, t, set, now);
    int rc = gcra(t, "duplicateCertificates", set, &l->duplicate_certs, now, spend, retry_after);
    if (rc == 0)
        p = rate_refusal("duplicateCertificates", "certificates for this exact set of identifiers",
                         &l->duplicate_certs, *retry_after);
    char **domains = NULL;
    size_t nd = 0;
    /* Counting goes on past a full bucket: every bucket hears of it. */
    if ((rc == 1 || (spend && rc == 0)) && !renewal && l->certs_per_domain.count > 0) {
        order_domains(o, &domains, &nd);
        for (size_t i = 0; i < nd && (rc == 1 || (spend && rc == 0)); i++) {
            rc = gcra(t, "certificatesPerDomain", domains[i], &l->certs_per_domain, now, spend, retry_after);
            if (rc == 0 && !p)
                p = problem_new("rateLimited", 429,
                                "certificatesPerDomain: at most %ld certificates per registered domain "
                                "(\"%s\") per %ld s; retry after %ld s",
                                l->certs_per_domain.count, domains[i], l->certs_per_domain.window, *retry_after);
        }
    }
    if (rc < 0) {
        problem_free(p);
        p = store_problem();
    }
    strv_free(domains, nd);
    free(set);
    return p;
}

/* ---- new orders ---- */

static acme_problem *pending_refusal(const char *limit, const char *what, long max, time_t next, time_t now,
                                     long *retry_after)
{
    *retry_after = next > now ? (long)(next - now) : 1;
    return problem_new("rateLimited", 429,
                       "%s: at most %ld %s per account at once; one expires in %ld s (or finish or "
                       "deactivate one)",
                       limit, max, what, *retry_after);
}

/* pendingAuthorizationsPerAccount, after the new authorizations entered
 * the index. NULL, or the refusal. */
static acme_problem *pending_authzs_refusal(const server_config *cfg, store_txn *t, const char *account_id,
                                            time_t now, long *retry_after)
{
    const limits_cfg *l = &cfg->limits;
    long n = 0;
    time_t next = 0;
    if (l->pending_authzs_per_account <= 0)
        return NULL;
    if (repo_pending_authzs(t, account_id, now, &n, &next) < 0)
        return store_problem();
    if (n > l->pending_authzs_per_account)
        return pending_refusal("pendingAuthorizationsPerAccount", "pending authorizations",
                               l->pending_authzs_per_account, next, now, retry_after);
    return NULL;
}

int limit_new_authz(const server_config *cfg, store_txn *t, const char *account_id, time_t now,
                    acme_problem **refusal, long *retry_after)
{
    *refusal = pending_authzs_refusal(cfg, t, account_id, now, retry_after);
    return *refusal && (*refusal)->status == 500 ? -1 : 0;
}

static acme_problem *new_order_refusal(const server_config *cfg, store_txn *t, const rec_order *o, time_t now,
                                       long *retry_after)
{
    const limits_cfg *l = &cfg->limits;
    long n = 0;
    time_t next = 0;
    if (l->pending_orders_per_account > 0) {
        if (repo_unfinished_orders(t, o->account_id, now, &n, &next) < 0)
            return store_problem();
        if (n + 1 > l->pending_orders_per_account)
            return pending_refusal("pendingOrdersPerAccount", "unfinished (pending or ready) orders",
                                   l->pending_orders_per_account, next, now, retry_after);
    }
    /* The order's new authorizations are in the index already. */
    acme_problem *p = pending_authzs_refusal(cfg, t, o->account_id, now, retry_after);
    if (p)
        return p;
    p = certificate_limits(cfg, t, o, now, false, retry_after);
    if (p)
        return p;
    int rc = gcra(t, "newOrdersPerAccount", o->account_id, &l->new_orders_per_account, now, true, retry_after);
    if (rc < 0)
        return store_problem();
    if (rc == 0)
        return rate_refusal("newOrdersPerAccount", "new orders per account", &l->new_orders_per_account,
                            *retry_after);
    return NULL;
}

int limit_new_order(const server_config *cfg, store_txn *t, const rec_order *o, time_t now,
                    acme_problem **refusal, long *retry_after)
{
    *refusal = new_order_refusal(cfg, t, o, now, retry_after);
    if (*refusal && (*refusal)->status == 500) {
        problem_free(*refusal);
        *refusal = NULL;
        return -1;
    }
    return 0;
}

int limit_certificate_issued(const server_config *cfg, store_txn *t, const rec_order *o, time_t now)
{
    long retry = 0;
    /* Counted even past the limit (the certificate exists): a refusal
     * here only means the bucket was already full. */
    acme_problem *p = certificate_limits(cfg, t, o, now, true, &retry);
    int rc = p && p->status == 500 ? -1 : 0;
    problem_free(p);
    return rc;
}

void limit_each(const server_config *cfg, void (*fn)(const char *, long, long, void *), void *arg)
{
    const limits_cfg *l = &cfg->limits;
    fn("failedValidations", cfg->failed_validation_limit, cfg->failed_validation_window, arg);
    fn("identifiersPerOrder", l->identifiers_per_order, 0, arg);
    fn("newOrdersPerAccount", l->new_orders_per_account.count, l->new_orders_per_account.window, arg);
    fn("pendingAuthorizationsPerAccount", l->pending_authzs_per_account, 0, arg);
    fn("pendingOrdersPerAccount", l->pending_orders_per_account, 0, arg);
    fn("certificatesPerDomain", l->certs_per_domain.count, l->certs_per_domain.window, arg);
    fn("duplicateCertificates", l->duplicate_certs.count, l->duplicate_certs.window, arg);
}
