/* The repository (store/repo.c) on a real LMDB store in a temporary
 * directory: accounts by key and key rollover, an account's orders in
 * pages, the orders sharing an authorization (index and legacy ids),
 * reusable valid authorizations, certificates by ARI CertID, the
 * failed-validation memory, and authorization views. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/repo.h"
#include "strv.h"
#include "testlib.h"

#define T0 1700000000

static char tmpdir[] = "/tmp/aro-test-repo-XXXXXX";
static store *st;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void commit(store_txn *t)
{
    aro_err err;
    int rc = store_commit(t, &err);
    CHECK_INT_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "commit: %s\n", err.msg);
}

/* ---- accounts ---------------------------------------------------------- */

static void test_accounts(void)
{
    rec_account a = {0};
    snprintf(a.id, sizeof(a.id), "acct-1");
    a.thumbprint = xstrdup("tp-old");
    a.jwk = xstrdup("{\"kty\":\"EC\",\"crv\":\"P-256\"}");
    a.status = ACCOUNT_VALID;
    strv_push(&a.contact, &a.ncontact, "mailto:admin@example.org");
    a.created = T0;
    store_txn *t = store_begin(st, true);
    CHECK_INT_EQ(repo_account_create(t, &a), 0);
    commit(t);

    rec_account b;
    t = store_begin(st, false);
    CHECK_INT_EQ(repo_account_by_key(t, "tp-old", &b), 0);
    CHECK_STR_EQ(b.id, "acct-1");
    CHECK_INT_EQ(b.ncontact, 1);
    rec_account_clear(&b);
    CHECK_INT_EQ(repo_account_by_key(t, "tp-unknown", &b), 1);
    CHECK_INT_EQ(repo_account_get(t, "acct-unknown", &b), 1);
    store_abort(t);

    /* Key rollover (7.3.5): the old key no longer finds the account. */
    t = store_begin(st, true);
    CHECK_INT_EQ(repo_account_rekey(t, &a, "tp-new", "{\"kty\":\"OKP\"}"), 0);
    commit(t);
    CHECK_STR_EQ(a.thumbprint, "tp-new");
    t = store_begin(st, false);
    CHECK_INT_EQ(repo_account_by_key(t, "tp-old", &b), 1);
    CHECK_INT_EQ(repo_account_by_key(t, "tp-new", &b), 0);
    CHECK_STR_EQ(b.id, "acct-1");
    CHECK_STR_EQ(b.thumbprint, "tp-new");
    CHECK_STR_EQ(b.jwk, "{\"kty\":\"OKP\"}");
    CHECK_INT_EQ(b.ncontact, 1); /* the rest of the account is kept */
    rec_account_clear(&b);
    CHECK_INT_EQ(repo_account_get(t, "acct-1", &b), 0);
    CHECK_STR_EQ(b.thumbprint, "tp-new");
    rec_account_clear(&b);
    store_abort(t);

    /* A save keeps the key index as it is. */
    a.status = ACCOUNT_DEACTIVATED;
    t = store_begin(st, true);
    CHECK_INT_EQ(repo_account_save(t, &a), 0);
    commit(t);
    t = store_begin(st, false);
    CHECK_INT_EQ(repo_account_by_key(t, "tp-new", &b), 0);
    CHECK_INT_EQ(b.status, ACCOUNT_DEACTIVATED);
    rec_account_clear(&b);
    store_abort(t);
    rec_account_clear(&a);
}

/* ---- orders ------------------------------------------------------------ */

static void make_order(store_txn *t, const char *id, const char *account, time_t created,
                       const char *const *authz_ids, size_t n)
{
    rec_order o = {0};
    snprintf(o.id, sizeof(o.id), "%s", id);
    snprintf(o.account_id, sizeof(o.account_id), "%s", account);
    o.status = ORDER_PENDING;
    o.created = created;
    o.expires = created + 3600;
    for (size_t i = 0; i < n; i++)
        strv_push(&o.authz_ids, &o.nauthz, authz_ids[i]);
    CHECK_INT_EQ(repo_order_create(t, &o), 0);
    rec_order_clear(&o);
}

/* One page of the account's orders as of T0 is want (nwant ids, in
 * order), with a next page or not; returns its cursor, the caller's to
 * free. */
static char *page_is(store_txn *t, const char *account, const char *cursor, int max, const char *const *want,
                     size_t nwant, bool more)
{
    char **ids = NULL, *next = NULL;
    size_t n = 0;
    CHECK_INT_EQ(repo_orders_of_account(t, account, cursor, max, T0, &ids, &n, &next), 0);
    CHECK_INT_EQ(n, nwant);
    for (size_t i = 0; i < n && i < nwant; i++)
        CHECK_STR_EQ(ids[i], want[i]);
    CHECK((next != NULL) == more);
    strv_free(ids, n);
    return next;
}

static void test_orders_of_account(void)
{
    /* Seven orders created out of order (ids unrelated to time), one of
     * another account; pages of three in creation order. */
    const int order_of_creation[] = {4, 0, 6, 2, 1, 5, 3};
    const char *names[] = {"zz-first", "yy-second", "aa-third", "mm-fourth", "bb-fifth", "qq-sixth", "cc-last"};
    store_txn *t = store_begin(st, true);
    for (int i = 0; i < 7; i++) {
        int k = order_of_creation[i];
        make_order(t, names[k], "acct-p", T0 + 10 * k, NULL, 0);
    }
    make_order(t, "other-acct", "acct-q", T0 + 15, NULL, 0);
    commit(t);

    t = store_begin(st, false);
    char *cursor = page_is(t, "acct-p", NULL, 3, names, 3, true);
    char *next = page_is(t, "acct-p", cursor, 3, names + 3, 3, true);
    CHECK(!cursor || !next || strcmp(cursor, next) != 0); /* the cursors chain */
    free(cursor);
    cursor = next;
    free(page_is(t, "acct-p", cursor, 3, names + 6, 1, false)); /* the last page */
    free(cursor);
    /* One page holding them all; exactly a full last page has no next. */
    free(page_is(t, "acct-p", NULL, 7, names, 7, false));
    free(page_is(t, "acct-p", NULL, 50, names, 7, false));
    /* The other account sees only its own; an unknown one none. */
    const char *other[] = {"other-acct"};
    free(page_is(t, "acct-q", NULL, 3, other, 1, false));
    free(page_is(t, "acct-none", NULL, 3, NULL, 0, false));
    store_abort(t);
}

/* 7.1.2.1: invalid orders (stored so, or expired by now) are left out;
 * a page looks at no more than 8 * max orders and then has a next page
 * even if it found none. */
static void test_orders_of_account_leave_out_invalid(void)
{
    store_txn *t = store_begin(st, true);
    make_order(t, "s-live", "acct-s", T0 + 1, NULL, 0);
    rec_order o = {0};
    snprintf(o.id, sizeof(o.id), "s-invalid");
    snprintf(o.account_id, sizeof(o.account_id), "acct-s");
    o.status = ORDER_INVALID;
    o.created = T0 + 2;
    o.expires = T0 + 3600;
    CHECK_INT_EQ(repo_order_create(t, &o), 0);
    make_order(t, "s-expired", "acct-s", T0 - 7200, NULL, 0); /* expired at T0 - 3600 */
    for (int i = 0; i < 9; i++) {
        snprintf(o.id, sizeof(o.id), "s-bad-%d", i);
        o.created = T0 + 10 + i;
        CHECK_INT_EQ(repo_order_create(t, &o), 0);
    }
    make_order(t, "s-live-2", "acct-s", T0 + 30, NULL, 0);
    commit(t);

    t = store_begin(st, false);
    const char *live[] = {"s-live", "s-live-2"};
    free(page_is(t, "acct-s", NULL, 50, live, 2, false));
    /* Pages of one: the first finds s-live; the second looks at 8 invalid
     * ones and stops, with a cursor; the third finds s-live-2. */
    char *cursor = page_is(t, "acct-s", NULL, 1, live, 1, true);
    char *next = page_is(t, "acct-s", cursor, 1, NULL, 0, true);
    free(cursor);
    free(page_is(t, "acct-s", next, 1, live + 1, 1, false));
    free(next);
    store_abort(t);
}

static void test_orders_using_authz(void)
{
    store_txn *t = store_begin(st, true);
    rec_authz a = {0};
    snprintf(a.account_id, sizeof(a.account_id), "acct-u");
    a.identifier.type = xstrdup("dns");
    a.identifier.value = xstrdup("shared.example.org");
    a.status = AUTHZ_PENDING;
    a.expires = T0 + 3600;
    const char *types[] = {"http-01"};
    CHECK_INT_EQ(repo_authz_create(t, &a, types, 1), 0);
    rec_authz other = {0};
    snprintf(other.account_id, sizeof(other.account_id), "acct-u");
    other.identifier.type = xstrdup("dns");
    other.identifier.value = xstrdup("other.example.org");
    other.status = AUTHZ_PENDING;
    other.expires = T0 + 3600;
    CHECK_INT_EQ(repo_authz_create(t, &other, types, 1), 0);

    const char *just_a[] = {a.id};
    const char *both[] = {other.id, a.id};
    const char *just_other[] = {other.id};
    make_order(t, "use-1", "acct-u", T0, just_a, 1);
    make_order(t, "use-2", "acct-u", T0 + 1, both, 2);
    make_order(t, "use-3", "acct-u", T0 + 2, just_a, 1);
    make_order(t, "use-other", "acct-u", T0 + 3, just_other, 1);
    commit(t);

    t = store_begin(st, false);
    char **ids;
    size_t n;
    CHECK_INT_EQ(repo_orders_using_authz(t, &a, &ids, &n), 0);
    CHECK_INT_EQ(n, 3);
    CHECK(strv_contains(ids, n, "use-1"));
    CHECK(strv_contains(ids, n, "use-2"));
    CHECK(strv_contains(ids, n, "use-3"));
    CHECK(!strv_contains(ids, n, "use-other"));
    strv_free(ids, n);
    CHECK_INT_EQ(repo_orders_using_authz(t, &other, &ids, &n), 0);
    CHECK_INT_EQ(n, 2);
    CHECK(strv_contains(ids, n, "use-2"));
    CHECK(strv_contains(ids, n, "use-other"));
    strv_free(ids, n);

    /* Orders named by an old record (legacy ids) are found too. */
    strv_push(&a.legacy_order_ids, &a.nlegacy_orders, "legacy-1");
    strv_push(&a.legacy_order_ids, &a.nlegacy_orders, "legacy-2");
    CHECK_INT_EQ(repo_orders_using_authz(t, &a, &ids, &n), 0);
    CHECK_INT_EQ(n, 5);
    CHECK(strv_contains(ids, n, "legacy-1"));
    CHECK(strv_contains(ids, n, "legacy-2"));
    CHECK(strv_contains(ids, n, "use-1"));
    strv_free(ids, n);
    /* ...also when the record is read back from the store. */
    store_abort(t);
    t = store_begin(st, true);
    CHECK_INT_EQ(repo_authz_save(t, &a), 0);
    commit(t);
    t = store_begin(st, false);
    rec_authz b;
    CHECK_INT_EQ(repo_authz_get(t, a.id, &b), 0);
    CHECK_INT_EQ(b.nlegacy_orders, 2);
    CHECK_INT_EQ(repo_orders_using_authz(t, &b, &ids, &n), 0);
    CHECK_INT_EQ(n, 5);
    strv_free(ids, n);
    rec_authz_clear(&b);
    store_abort(t);
    rec_authz_clear(&a);
    rec_authz_clear(&other);
}

typedef struct {
    char **ids;
    size_t n;
} id_list;

static void collect_order(const rec_order *o, void *arg)
{
    id_list *l = arg;
    strv_push(&l->ids, &l->n, o->id);
}

static void processing_order(store_txn *t, const char *id)
{
    rec_order o = {0};
    snprintf(o.id, sizeof(o.id), "%s", id);
    snprintf(o.account_id, sizeof(o.account_id), "acct-r");
    o.status = ORDER_PROCESSING;
    o.created = T0;
    o.expires = T0 + 3600;
    o.csr = xstrdup("Q1NS");
    CHECK_INT_EQ(repo_order_create(t, &o), 0);
    rec_order_clear(&o);
}

/* The processing orders, in a read transaction: how many, the first. */
static size_t orders_processing(const char *first)
{
    id_list got = {0};
    store_txn *t = store_begin(st, false);
    CHECK_INT_EQ(repo_orders_processing(t, collect_order, &got), 0);
    store_abort(t);
    if (first && got.n > 0)
        CHECK_STR_EQ(got.ids[0], first);
    size_t n = got.n;
    strv_free(got.ids, got.n);
    return n;
}

static void test_orders_processing(void)
{
    store_txn *t = store_begin(st, true);
    processing_order(t, "proc-1");
    /* An order that went processing before the restart index existed:
     * its entry removed, as a store of then would have it. */
    processing_order(t, "proc-0");
    CHECK_INT_EQ(store_del(t, TBL_PENDING, "p/acct-r/proc-0"), 0);
    commit(t);
    /* The store is not marked yet: every order searched. */
    CHECK_INT_EQ(orders_processing("proc-0"), 2);
    /* Marked, the old one listed: found through the index alone. */
    t = store_begin(st, true);
    CHECK_INT_EQ(repo_restart_index_ensure(t), 0);
    commit(t);
    CHECK_INT_EQ(orders_processing("proc-0"), 2);
    t = store_begin(st, true);
    CHECK_INT_EQ(repo_restart_index_ensure(t), 0); /* a second time: nothing changes */
    commit(t);
    CHECK_INT_EQ(orders_processing("proc-0"), 2);
    /* Issued (valid) and refused (invalid): no longer listed. */
    t = store_begin(st, true);
    const char *ids[] = {"proc-0", "proc-1"};
    for (int i = 0; i < 2; i++) {
        rec_order o;
        CHECK_INT_EQ(repo_order_get(t, ids[i], &o), 0);
        o.status = i ? ORDER_VALID : ORDER_INVALID;
        CHECK_INT_EQ(repo_order_save(t, &o), 0);
        rec_order_clear(&o);
    }
    commit(t);
    CHECK_INT_EQ(orders_processing(NULL), 0);
    /* The refused one re-enabled (pending again): among the account's
     * unfinished orders again, not processing. */
    long n = 0;
    t = store_begin(st, true);
    CHECK_INT_EQ(repo_unfinished_orders(t, "acct-r", T0, &n, NULL), 0);
    CHECK_INT_EQ(n, 0);
    rec_order o;
    CHECK_INT_EQ(repo_order_get(t, "proc-0", &o), 0);
    o.status = ORDER_PENDING;
    CHECK_INT_EQ(repo_order_save(t, &o), 0);
    rec_order_clear(&o);
    CHECK_INT_EQ(repo_unfinished_orders(t, "acct-r", T0, &n, NULL), 0);
    CHECK_INT_EQ(n, 1);
    commit(t);
    CHECK_INT_EQ(orders_processing(NULL), 0);
    const char *v;
    t = store_begin(st, false);
    CHECK_INT_EQ(store_get(t, TBL_PENDING, "p/acct-r/proc-1", &v, NULL), 1);
    store_abort(t);
}

/* ---- authorizations ---------------------------------------------------- */

static void new_authz(store_txn *t, rec_authz *a, const char *account, const char *value, bool wildcard,
                      authz_status s, time_t expires)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->account_id, sizeof(a->account_id), "%s", account);
    a->identifier.type = xstrdup("dns");
    a->identifier.value = xstrdup(value);
    a->wildcard = wildcard;
    a->status = s;
    a->created = T0;
    a->expires = expires;
    const char *types[] = {"http-01", "dns-01"};
    CHECK_INT_EQ(repo_authz_create(t, a, types, wildcard ? 0 : 2), 0);
}

static void test_authz_valid_for(void)
{
    acme_identifier vid = {.type = "dns", .value = "valid.example.org"};
    acme_identifier pid = {.type = "dns", .value = "pending.example.org"};
    acme_identifier none = {.type = "dns", .value = "none.example.org"};
    rec_authz a, out;
    store_txn *t = store_begin(st, true);
    new_authz(t, &a, "acct-v", "valid.example.org", false, AUTHZ_VALID, T0 + 1000);
    char valid_id[ID_LEN];
    snprintf(valid_id, sizeof(valid_id), "%s", a.id);
    rec_authz_clear(&a);
    new_authz(t, &a, "acct-v", "pending.example.org", false, AUTHZ_PENDING, T0 + 1000);
    rec_authz_clear(&a);
    commit(t);

    t = store_begin(st, false);
    /* Valid now and still valid at until: found. */
    CHECK_INT_EQ(repo_authz_valid_for(t, "acct-v", &vid, false, T0, T0 + 500, &out), 0);
    CHECK_STR_EQ(out.id, valid_id);
    CHECK_INT_EQ(out.status, AUTHZ_VALID);
    rec_authz_clear(&out);
    /* Expiring before until (or exactly at it): not reusable. */
    CHECK_INT_EQ(repo_authz_valid_for(t, "acct-v", &vid, false, T0, T0 + 2000, &out), 1);
    CHECK_INT_EQ(repo_authz_valid_for(t, "acct-v", &vid, false, T0, T0 + 1000, &out), 1);
    /* Expired by now. */
    CHECK_INT_EQ(repo_authz_valid_for(t, "acct-v", &vid, false, T0 + 1000, T0 + 1000, &out), 1);
    /* Pending: not reusable as valid. */
    CHECK_INT_EQ(repo_authz_valid_for(t, "acct-v", &pid, false, T0, T0 + 10, &out), 1);
    /* The wildcard is another authorization; another account has none. */
    CHECK_INT_EQ(repo_authz_valid_for(t, "acct-v", &vid, true, T0, T0 + 10, &out), 1);
    CHECK_INT_EQ(repo_authz_valid_for(t, "acct-w", &vid, false, T0, T0 + 10, &out), 1);
    CHECK_INT_EQ(repo_authz_valid_for(t, "acct-v", &none, false, T0, T0 + 10, &out), 1);

    /* The newest whatever its status. */
    CHECK_INT_EQ(repo_authz_newest(t, "acct-v", &pid, false, &out), 0);
    CHECK_INT_EQ(out.status, AUTHZ_PENDING);
    rec_authz_clear(&out);
    CHECK_INT_EQ(repo_authz_newest(t, "acct-v", &none, false, &out), 1);
    store_abort(t);
}

static void collect_authz(const rec_authz *a, void *arg)
{
    id_list *l = arg;
    strv_push(&l->ids, &l->n, a->id);
}

static void test_authz_view(void)
{
    store_txn *t = store_begin(st, true);
    rec_authz a;
    new_authz(t, &a, "acct-x", "view.example.org", false, AUTHZ_INVALID, T0 + 3600);
    CHECK_INT_EQ(a.nchall, 2);
    char fresh[ID_LEN];
    CHECK_INT_EQ(repo_chall_create(t, a.id, "http-01", fresh), 0);
    strv_push(&a.offer_chall_ids, &a.noffer, fresh);
    a.offer_made = true;
    CHECK_INT_EQ(repo_authz_save(t, &a), 0);
    commit(t);

    authz_view v;
    t = store_begin(st, false);
    CHECK_INT_EQ(repo_authz_view(t, a.id, &v), 0);
    CHECK_STR_EQ(v.authz.id, a.id);
    CHECK(v.authz.offer_made);
    CHECK_INT_EQ(v.nlisted, 2);
    if (v.nlisted == 2) {
        CHECK_STR_EQ(v.listed[0].type, "http-01");
        CHECK_STR_EQ(v.listed[1].type, "dns-01");
        CHECK_STR_EQ(v.listed[0].id, a.chall_ids[0]);
        CHECK_STR_EQ(v.listed[0].authz_id, a.id);
        CHECK_INT_EQ(v.listed[0].status, CHALL_PENDING);
    }
    CHECK_INT_EQ(v.nreserve, 1);
    if (v.nreserve == 1) {
        CHECK_STR_EQ(v.reserve[0].id, fresh);
        CHECK_STR_EQ(v.reserve[0].type, "http-01");
        CHECK_STR_EQ(v.reserve[0].authz_id, a.id);
        CHECK_INT_EQ(v.reserve[0].status, CHALL_PENDING);
        /* 8.1: a fresh token of 128 bits at least, unlike the listed one's. */
        CHECK(v.reserve[0].token && strlen(v.reserve[0].token) >= 22);
        if (v.nlisted)
            CHECK(strcmp(v.reserve[0].token, v.listed[0].token) != 0);
    }
    authz_view_clear(&v);
    CHECK(v.listed == NULL && v.nlisted == 0 && v.authz.chall_ids == NULL);

    /* The same for a record in memory, changed and not yet saved. */
    strv_remove(a.offer_chall_ids, &a.noffer, fresh);
    strv_push(&a.chall_ids, &a.nchall, fresh);
    CHECK_INT_EQ(repo_authz_view_of(t, &a, &v), 0);
    CHECK_INT_EQ(v.nlisted, 3);
    CHECK_INT_EQ(v.nreserve, 0);
    if (v.nlisted == 3)
        CHECK_STR_EQ(v.listed[2].id, fresh);
    CHECK(v.authz.chall_ids != a.chall_ids); /* a copy */
    authz_view_clear(&v);

    CHECK_INT_EQ(repo_authz_view(t, "no-such-authz", &v), 1);
    store_abort(t);
    rec_authz_clear(&a);

    /* Validating authorizations (to resume after a restart). */
    t = store_begin(st, true);
    new_authz(t, &a, "acct-x", "busy.example.org", false, AUTHZ_PENDING, T0 + 3600);
    snprintf(a.active_chall_id, sizeof(a.active_chall_id), "%s", a.chall_ids[0]);
    CHECK_INT_EQ(repo_authz_save(t, &a), 0);
    commit(t);
    /* Listed in the pending index since its creation: found with the
     * store marked or not. */
    for (int pass = 0; pass < 2; pass++) {
        id_list got = {0};
        t = store_begin(st, false);
        CHECK_INT_EQ(repo_authzs_validating(t, collect_authz, &got), 0);
        store_abort(t);
        CHECK_INT_EQ(got.n, 1);
        if (got.n == 1)
            CHECK_STR_EQ(got.ids[0], a.id);
        strv_free(got.ids, got.n);
        t = store_begin(st, true);
        CHECK_INT_EQ(repo_restart_index_ensure(t), 0);
        commit(t);
    }
    /* Failed: no longer visited; re-enabled (draft-aro-acme-retry-options:
     * pending again, a new attempt in flight): visited again. */
    for (int pass = 0; pass < 2; pass++) {
        t = store_begin(st, true);
        a.status = pass ? AUTHZ_PENDING : AUTHZ_INVALID;
        CHECK_INT_EQ(repo_authz_save(t, &a), 0);
        commit(t);
        id_list got = {0};
        t = store_begin(st, false);
        CHECK_INT_EQ(repo_authzs_validating(t, collect_authz, &got), 0);
        store_abort(t);
        CHECK_INT_EQ(got.n, (size_t)pass);
        strv_free(got.ids, got.n);
    }
    rec_authz_clear(&a);
}

/* ---- certificates ------------------------------------------------------ */

static void test_certs(void)
{
    rec_cert c = {0};
    snprintf(c.serial, sizeof(c.serial), "01ab");
    snprintf(c.order_id, sizeof(c.order_id), "order-c");
    c.ari_id = xstrdup("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    rec_cert bare = {0};
    snprintf(bare.serial, sizeof(bare.serial), "02cd");
    store_txn *t = store_begin(st, true);
    CHECK_INT_EQ(repo_cert_create(t, &c), 0);
    CHECK_INT_EQ(repo_cert_create(t, &bare), 0);
    commit(t);

    rec_cert got;
    t = store_begin(st, false);
    CHECK_INT_EQ(repo_cert_by_ari_id(t, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", &got), 0);
    CHECK_STR_EQ(got.serial, "01ab");
    CHECK_STR_EQ(got.order_id, "order-c");
    rec_cert_clear(&got);
    CHECK_INT_EQ(repo_cert_by_ari_id(t, "unknown.id", &got), 1);
    CHECK_INT_EQ(repo_cert_get(t, "02cd", &got), 0);
    CHECK(got.ari_id == NULL);
    rec_cert_clear(&got);
    CHECK_INT_EQ(repo_cert_get(t, "ffff", &got), 1);
    store_abort(t);

    /* A save (revocation) keeps the CertID index working. */
    c.revoked = true;
    c.reason = 4;
    t = store_begin(st, true);
    CHECK_INT_EQ(repo_cert_save(t, &c), 0);
    commit(t);
    t = store_begin(st, false);
    CHECK_INT_EQ(repo_cert_by_ari_id(t, c.ari_id, &got), 0);
    CHECK(got.revoked);
    CHECK_INT_EQ(got.reason, 4);
    rec_cert_clear(&got);
    store_abort(t);
    rec_cert_clear(&c);
}

/* ---- failed validations ------------------------------------------------ */

static void test_failures(void)
{
    acme_identifier id = {.type = "dns", .value = "fail.example.org"};
    acme_identifier other = {.type = "dns", .value = "other.example.org"};
    time_t oldest = -1;
    store_txn *t = store_begin(st, true);
    CHECK_INT_EQ(repo_failures_since(t, "acct-f", &id, 0, &oldest), 0);
    CHECK_INT_EQ(oldest, 0);
    CHECK_INT_EQ(repo_failure_record(t, "acct-f", &id, T0 + 100, 0), 0);
    CHECK_INT_EQ(repo_failure_record(t, "acct-f", &id, T0 + 200, 0), 0);
    CHECK_INT_EQ(repo_failure_record(t, "acct-f", &id, T0 + 300, 0), 0);
    commit(t);

    t = store_begin(st, false);
    CHECK_INT_EQ(repo_failures_since(t, "acct-f", &id, 0, &oldest), 3);
    CHECK_INT_EQ(oldest, T0 + 100);
    /* The window: only failures after since count; oldest among them. */
    CHECK_INT_EQ(repo_failures_since(t, "acct-f", &id, T0 + 150, &oldest), 2);
    CHECK_INT_EQ(oldest, T0 + 200);
    CHECK_INT_EQ(repo_failures_since(t, "acct-f", &id, T0 + 200, &oldest), 1); /* "after": exclusive */
    CHECK_INT_EQ(oldest, T0 + 300);
    CHECK_INT_EQ(repo_failures_since(t, "acct-f", &id, T0 + 300, &oldest), 0);
    CHECK_INT_EQ(oldest, 0);
    CHECK_INT_EQ(repo_failures_since(t, "acct-f", &id, 0, NULL), 3); /* oldest optional */
    /* Per account and identifier. */
    CHECK_INT_EQ(repo_failures_since(t, "acct-f", &other, 0, &oldest), 0);
    CHECK_INT_EQ(repo_failures_since(t, "acct-g", &id, 0, &oldest), 0);
    store_abort(t);

    /* Recording forgets those at or before since. */
    t = store_begin(st, true);
    CHECK_INT_EQ(repo_failure_record(t, "acct-f", &id, T0 + 400, T0 + 200), 0);
    commit(t);
    t = store_begin(st, false);
    CHECK_INT_EQ(repo_failures_since(t, "acct-f", &id, 0, &oldest), 2);
    CHECK_INT_EQ(oldest, T0 + 300);
    store_abort(t);

    /* At most 64 remembered: the oldest go first. */
    t = store_begin(st, true);
    for (int i = 1; i <= 70; i++)
        CHECK_INT_EQ(repo_failure_record(t, "acct-f", &other, T0 + i, 0), 0);
    commit(t);
    t = store_begin(st, false);
    CHECK_INT_EQ(repo_failures_since(t, "acct-f", &other, 0, &oldest), 64);
    CHECK_INT_EQ(oldest, T0 + 7);
    CHECK_INT_EQ(repo_failures_since(t, "acct-f", &other, T0 + 60, &oldest), 10);
    CHECK_INT_EQ(oldest, T0 + 61);
    store_abort(t);
}

/* New ids: 20 characters, distinct, their time prefix (12 hex digits)
 * never going back, so records made together sit together in the store. */
static void test_new_ids(void)
{
    char prev[ID_LEN] = "", id[ID_LEN];
    bool distinct = true, ordered = true, shape = true;
    for (int i = 0; i < 2000; i++) {
        repo_new_id(id);
        shape &= strlen(id) == 20 && strspn(id, "0123456789abcdef") >= 12;
        distinct &= strcmp(id, prev) != 0;
        ordered &= strncmp(prev, id, 12) <= 0;
        memcpy(prev, id, ID_LEN);
    }
    CHECK(shape);
    CHECK(distinct);
    CHECK(ordered);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    aro_err err;
    st = store_open(tmpdir, (size_t)64 << 20, &err);
    CHECK(st != NULL);
    if (!st) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        rm_rf(tmpdir);
        return testlib_finish();
    }
    test_new_ids();
    test_accounts();
    test_orders_of_account();
    test_orders_of_account_leave_out_invalid();
    test_orders_using_authz();
    test_orders_processing();
    test_authz_valid_for();
    test_authz_view();
    test_certs();
    test_failures();
    store_close(st);
    rm_rf(tmpdir);
    return testlib_finish();
}
