/* The limits of rules/limits.c and the indexes behind them, on a real
 * store in a temporary directory: GCRA buckets (bursts up to the limit,
 * Retry-After until the next one fits, a refusal writes nothing), the
 * pending index (counts pending objects, forgets those that left pending
 * or expired), the registered domain of the public suffix list, and
 * reuse of a valid authorization: O(1), its record never grows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules/limits.h"
#include "settings/config.h"
#include "store/repo.h"
#include "testlib.h"

static store *st;

static rec_order order_of(const char *id, const char *account, const char *const *names, size_t n, time_t now)
{
    rec_order o = {0};
    snprintf(o.id, sizeof(o.id), "%s", id);
    snprintf(o.account_id, sizeof(o.account_id), "%s", account);
    o.identifiers = calloc(n, sizeof(*o.identifiers));
    for (size_t i = 0; i < n; i++) {
        o.identifiers[i].type = strdup("dns");
        o.identifiers[i].value = strdup(names[i]);
    }
    o.nidentifiers = n;
    o.status = ORDER_PENDING;
    o.created = now;
    o.expires = now + 3600;
    return o;
}

/* limit_new_order in a transaction of its own, committed when allowed. */
static acme_problem *try_order(const server_config *cfg, const rec_order *o, time_t now, long *retry)
{
    store_txn *t = store_begin(st, true);
    acme_problem *p = NULL;
    CHECK_INT_EQ(limit_new_order(cfg, t, o, now, &p, retry), 0);
    if (p)
        store_abort(t);
    else
        CHECK_INT_EQ(store_commit(t, NULL), 0);
    return p;
}

static void test_new_orders_gcra(void)
{
    server_config cfg;
    config_defaults(&cfg);
    cfg.limits.new_orders_per_account = (rate_limit_cfg){3, 3600};
    const char *names[] = {"a.example.com"};
    time_t now = 1700000000;
    long retry = 0;
    for (int i = 0; i < 3; i++) { /* a burst up to the limit */
        rec_order o = order_of("o", "acct1", names, 1, now);
        CHECK(try_order(&cfg, &o, now, &retry) == NULL);
        rec_order_clear(&o);
    }
    rec_order o = order_of("o", "acct1", names, 1, now);
    acme_problem *p = try_order(&cfg, &o, now, &retry);
    CHECK(p && p->status == 429 && strstr(p->detail, "newOrdersPerAccount"));
    CHECK_INT_EQ(retry, 1200); /* one more fits every 3600/3 s */
    problem_free(p);
    /* Another account has a bucket of its own. */
    rec_order other = order_of("o", "acct2", names, 1, now);
    CHECK(try_order(&cfg, &other, now, &retry) == NULL);
    rec_order_clear(&other);
    /* Refused again a second before the next fits; allowed at it. */
    p = try_order(&cfg, &o, now + 1199, &retry);
    CHECK(p && retry == 1);
    problem_free(p);
    CHECK(try_order(&cfg, &o, now + 1200, &retry) == NULL);
    rec_order_clear(&o);
    config_free(&cfg);
}

static void test_pending_index(void)
{
    time_t now = 1700000000;
    store_txn *t = store_begin(st, true);
    rec_authz a[3];
    const char *types[] = {"http-01"};
    for (int i = 0; i < 3; i++) {
        memset(&a[i], 0, sizeof(a[i]));
        snprintf(a[i].account_id, sizeof(a[i].account_id), "pend");
        a[i].identifier.type = strdup("dns");
        a[i].identifier.value = strdup("p.example.com");
        a[i].status = AUTHZ_PENDING;
        a[i].expires = now + 100 * (i + 1);
        CHECK_INT_EQ(repo_authz_create(t, &a[i], types, 1), 0);
    }
    long n = 0;
    time_t next = 0;
    CHECK_INT_EQ(repo_pending_authzs(t, "pend", now, &n, &next), 0);
    CHECK_INT_EQ(n, 3);
    CHECK_INT_EQ(next, now + 100);
    /* One becomes valid: it leaves the index. */
    a[1].status = AUTHZ_VALID;
    CHECK_INT_EQ(repo_authz_save(t, &a[1]), 0);
    CHECK_INT_EQ(repo_pending_authzs(t, "pend", now, &n, &next), 0);
    CHECK_INT_EQ(n, 2);
    /* Past the first one's expiry it is dropped. */
    CHECK_INT_EQ(repo_pending_authzs(t, "pend", now + 150, &n, &next), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(next, now + 300);
    CHECK_INT_EQ(repo_pending_authzs(t, "other", now, &n, &next), 0);
    CHECK_INT_EQ(n, 0);
    CHECK_INT_EQ(store_commit(t, NULL), 0);
    for (int i = 0; i < 3; i++)
        rec_authz_clear(&a[i]);

    /* Orders: pending and ready count, processing does not. */
    t = store_begin(st, true);
    const char *names[] = {"q.example.com"};
    rec_order o1 = order_of("ord1", "pend", names, 1, now), o2 = order_of("ord2", "pend", names, 1, now);
    o2.status = ORDER_READY;
    CHECK_INT_EQ(repo_order_create(t, &o1), 0);
    CHECK_INT_EQ(repo_order_create(t, &o2), 0);
    CHECK_INT_EQ(repo_unfinished_orders(t, "pend", now, &n, NULL), 0);
    CHECK_INT_EQ(n, 2);
    o2.status = ORDER_PROCESSING;
    CHECK_INT_EQ(repo_order_save(t, &o2), 0);
    CHECK_INT_EQ(repo_unfinished_orders(t, "pend", now, &n, NULL), 0);
    CHECK_INT_EQ(n, 1);
    store_abort(t);
    rec_order_clear(&o1);
    rec_order_clear(&o2);
}

static void test_certificates_per_domain(void)
{
    server_config cfg;
    config_defaults(&cfg);
    cfg.limits.certs_per_domain = (rate_limit_cfg){1, 86400};
    cfg.limits.duplicate_certs = (rate_limit_cfg){0, 86400};
    time_t now = 1700000000;
    const char *first[] = {"www.example.co.uk"}, *same_domain[] = {"mail.example.co.uk"},
               *other_domain[] = {"www.other.co.uk"};
    rec_order o = order_of("c1", "acct", first, 1, now);
    store_txn *t = store_begin(st, true);
    CHECK_INT_EQ(limit_certificate_issued(&cfg, t, &o, now), 0);
    CHECK_INT_EQ(store_commit(t, NULL), 0);
    rec_order_clear(&o);
    long retry = 0;
    o = order_of("c2", "acct", same_domain, 1, now);
    acme_problem *p = try_order(&cfg, &o, now, &retry);
    CHECK(p && strstr(p->detail, "\"example.co.uk\""));
    problem_free(p);
    rec_order_clear(&o);
    /* co.uk is a public suffix: other.co.uk is another registered domain. */
    o = order_of("c3", "acct", other_domain, 1, now);
    CHECK(try_order(&cfg, &o, now, &retry) == NULL);
    rec_order_clear(&o);
    config_free(&cfg);
}

static void test_reuse_is_constant(void)
{
    time_t now = 1700000000;
    store_txn *t = store_begin(st, true);
    rec_authz a = {0};
    snprintf(a.account_id, sizeof(a.account_id), "reuse");
    a.identifier.type = strdup("dns");
    a.identifier.value = strdup("r.example.com");
    a.status = AUTHZ_VALID;
    a.expires = now + 86400;
    const char *types[] = {"http-01"};
    CHECK_INT_EQ(repo_authz_create(t, &a, types, 1), 0);
    CHECK_INT_EQ(store_commit(t, NULL), 0);
    size_t before = 0, after = 0;
    const char *v;
    t = store_begin(st, false);
    CHECK_INT_EQ(store_get(t, TBL_AUTHZS, a.id, &v, &before), 0);
    store_abort(t);
    const char *names[] = {"r.example.com"};
    for (int i = 0; i < 500; i++) {
        char id[16];
        snprintf(id, sizeof(id), "reuse%03d", i);
        rec_order o = order_of(id, "reuse", names, 1, now);
        strv_push(&o.authz_ids, &o.nauthz, a.id);
        t = store_begin(st, true);
        CHECK_INT_EQ(repo_order_create(t, &o), 0);
        CHECK_INT_EQ(store_commit(t, NULL), 0);
        rec_order_clear(&o);
    }
    t = store_begin(st, false);
    CHECK_INT_EQ(store_get(t, TBL_AUTHZS, a.id, &v, &after), 0);
    char **ids = NULL;
    size_t n = 0;
    CHECK_INT_EQ(repo_orders_using_authz(t, &a, &ids, &n), 0);
    store_abort(t);
    CHECK_INT_EQ(after, before);   /* the record is not rewritten per order */
    CHECK_INT_EQ(n, 500);          /* and every order is found through the index */
    fprintf(stderr, "authorization record: %zu bytes before, %zu after 500 reusing orders\n", before, after);
    strv_free(ids, n);
    rec_authz_clear(&a);
}

int main(void)
{
    char dir[] = "/tmp/aro-test-limits-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    aro_err err;
    st = store_open(dir, 64 << 20, &err);
    CHECK(st != NULL);
    if (st) {
        test_new_orders_gcra();
        test_pending_index();
        test_certificates_per_domain();
        test_reuse_is_constant();
        store_close(st);
    }
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(cmd);
    return testlib_finish();
}
