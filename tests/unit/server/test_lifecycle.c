/* The one status writer (rules/lifecycle.c) against a real LMDB store in
 * a temporary directory: accounts, authorizations with their challenges,
 * orders following their authorizations, validation results (failure with
 * a retry-options offer and fresh same-type challenges, stale results,
 * results after expiry), re-enable, deactivation, finalization and
 * issuance. Every step runs in its own write transaction and is checked
 * by reading the records back. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/lifecycle.h"
#include "rules/offer.h"
#include "strv.h"
#include "testlib.h"

#define T0 1700000000

static char tmpdir[] = "/tmp/aro-test-lifecycle-XXXXXX";
static store *st;
static server_config cfg;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* ---- store helpers ----------------------------------------------------- */

static store_txn *wtx(void) { return store_begin(st, true); }
static store_txn *rtx(void) { return store_begin(st, false); }

static void commit(store_txn *t)
{
    aro_err err;
    int rc = store_commit(t, &err);
    CHECK_INT_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "commit: %s\n", err.msg);
}

static int get_authz(const char *id, rec_authz *a)
{
    store_txn *t = rtx();
    int rc = repo_authz_get(t, id, a);
    store_abort(t);
    return rc;
}

static int get_chall(const char *id, rec_chall *c)
{
    store_txn *t = rtx();
    int rc = repo_chall_get(t, id, c);
    store_abort(t);
    return rc;
}

static int get_order(const char *id, rec_order *o)
{
    store_txn *t = rtx();
    int rc = repo_order_get(t, id, o);
    store_abort(t);
    return rc;
}

static void append_json(aro_buf *b, char *doc)
{
    buf_puts(b, doc ? doc : "(none)");
    buf_puts(b, "\n");
    free(doc);
}

/* The stored JSON of an authorization, its listed and reserve challenges
 * and the given order: compared before and after a step that must change
 * nothing. */
static char *snapshot(const char *authz_id, const char *order_id)
{
    aro_buf b = {0};
    store_txn *t = rtx();
    authz_view v;
    if (repo_authz_view(t, authz_id, &v) == 0) {
        append_json(&b, rec_authz_to_json(&v.authz));
        for (size_t i = 0; i < v.nlisted; i++)
            append_json(&b, rec_chall_to_json(&v.listed[i]));
        for (size_t i = 0; i < v.nreserve; i++)
            append_json(&b, rec_chall_to_json(&v.reserve[i]));
        authz_view_clear(&v);
    }
    rec_order o;
    if (order_id && repo_order_get(t, order_id, &o) == 0) {
        append_json(&b, rec_order_to_json(&o));
        rec_order_clear(&o);
    }
    store_abort(t);
    buf_puts(&b, "");
    /* Never compare two empty snapshots: the authorization must be there. */
    CHECK(strstr(b.data, authz_id) != NULL);
    return buf_steal(&b);
}

/* ---- lifecycle helpers ------------------------------------------------- */

static void new_authz(const char *type, const char *value, bool wildcard, time_t now, rec_authz *a,
                      unsigned *created)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->account_id, sizeof(a->account_id), "acct-1");
    a->identifier.type = xstrdup(type);
    a->identifier.value = xstrdup(value);
    a->wildcard = wildcard;
    store_txn *t = wtx();
    CHECK_INT_EQ(lifecycle_authz_create(&cfg, t, a, now, created), 0);
    commit(t);
}

/* A new order over authorizations ids (their statuses as of now). */
static void new_order(const char *id, const char *const *authz_ids, size_t n, const char *replaces, time_t now,
                      rec_order *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->id, sizeof(o->id), "%s", id);
    snprintf(o->account_id, sizeof(o->account_id), "acct-1");
    o->created = now;
    o->expires = now + cfg.order_lifetime;
    o->replaces = xstrdup(replaces);
    authz_status sts[8];
    store_txn *t = wtx();
    o->identifiers = xcalloc(n, sizeof(*o->identifiers));
    for (size_t i = 0; i < n; i++) {
        rec_authz a;
        CHECK_INT_EQ(repo_authz_get(t, authz_ids[i], &a), 0);
        sts[i] = authz_status_at(a.status, a.expires, now);
        identifier_copy(&o->identifiers[o->nidentifiers++], &a.identifier);
        strv_push(&o->authz_ids, &o->nauthz, authz_ids[i]);
        rec_authz_clear(&a);
    }
    CHECK_INT_EQ(lifecycle_order_create(t, o, sts, n), 0);
    commit(t);
}

/* The id of the authorization's listed challenge of this type. */
static const char *chall_of_type(const rec_authz *a, const char *type)
{
    static char id[ID_LEN];
    id[0] = 0;
    for (size_t i = 0; i < a->nchall; i++) {
        rec_chall c;
        if (get_chall(a->chall_ids[i], &c) == 0) {
            if (strcmp(c.type, type) == 0)
                snprintf(id, sizeof(id), "%s", c.id);
            rec_chall_clear(&c);
        }
    }
    return id;
}

static int respond(const char *authz_id, const char *chall_id, time_t now)
{
    rec_authz a;
    rec_chall c;
    store_txn *t = wtx();
    int rc = -2;
    if (repo_authz_get(t, authz_id, &a) == 0) {
        if (repo_chall_get(t, chall_id, &c) == 0) {
            rc = lifecycle_challenge_respond(t, &a, &c, now);
            rec_chall_clear(&c);
        }
        rec_authz_clear(&a);
    }
    commit(t);
    return rc;
}

static int reenable(const char *authz_id, const char *chall_id, time_t now)
{
    rec_authz a;
    rec_chall c;
    store_txn *t = wtx();
    int rc = -2;
    if (repo_authz_get(t, authz_id, &a) == 0) {
        if (repo_chall_get(t, chall_id, &c) == 0) {
            rc = lifecycle_reenable(t, &a, &c, now);
            rec_chall_clear(&c);
        }
        rec_authz_clear(&a);
    }
    commit(t);
    return rc;
}

/* Applies a result; the transaction is committed whatever the answer, so
 * a refusal that wrote anything would show. */
static int apply(const char *authz_id, const char *chall_id, unsigned seq, va_result *res, time_t now,
                 validation_applied *out)
{
    store_txn *t = wtx();
    int rc = lifecycle_validation_result(&cfg, t, authz_id, chall_id, seq, res, NULL, 0, now, out);
    if (rc < 0)
        store_abort(t);
    else
        commit(t);
    va_result_clear(res);
    return rc;
}

static va_result failure(const char *type, const char *detail)
{
    va_result r = {0};
    r.valid = false;
    r.problem = problem_new(type, 400, "%s", detail);
    r.record_json = xstrdup("[{\"hostname\":\"www.example.org\",\"port\":\"80\"}]");
    r.dns_negative_ttl = -1;
    return r;
}

static va_result success(void)
{
    va_result r = {0};
    r.valid = true;
    r.record_json = xstrdup("[{\"hostname\":\"www.example.org\"}]");
    r.dns_negative_ttl = -1;
    return r;
}

static int order_finalize(const char *id, const char *csr, time_t now)
{
    rec_order o;
    store_txn *t = wtx();
    int rc = -2;
    if (repo_order_get(t, id, &o) == 0) {
        rc = lifecycle_order_finalize(t, &o, csr, now);
        rec_order_clear(&o);
    }
    commit(t);
    return rc;
}

static int deactivate_authz(const char *id, time_t now)
{
    rec_authz a;
    store_txn *t = wtx();
    int rc = -2;
    if (repo_authz_get(t, id, &a) == 0) {
        rc = lifecycle_authz_deactivate(t, &a, now);
        rec_authz_clear(&a);
    }
    commit(t);
    return rc;
}

static void offer_now(const char *authz_id, time_t now, authz_offer *o, authz_view *v)
{
    store_txn *t = rtx();
    CHECK_INT_EQ(repo_authz_view(t, authz_id, v), 0);
    store_abort(t);
    offer_for_authz(&cfg, v, now, o);
}

/* ---- tests ------------------------------------------------------------- */

static void test_accounts(void)
{
    rec_account a = {0};
    snprintf(a.id, sizeof(a.id), "acct-1");
    a.thumbprint = xstrdup("tp-acct-1");
    a.jwk = xstrdup("{\"kty\":\"EC\"}");
    a.status = ACCOUNT_DEACTIVATED; /* whatever the caller had: a new account is valid */
    a.created = T0;
    store_txn *t = wtx();
    CHECK_INT_EQ(lifecycle_account_create(t, &a), 0);
    commit(t);
    CHECK_INT_EQ(a.status, ACCOUNT_VALID);

    rec_account b;
    t = rtx();
    CHECK_INT_EQ(repo_account_by_key(t, "tp-acct-1", &b), 0);
    store_abort(t);
    CHECK_STR_EQ(b.id, "acct-1");
    CHECK_INT_EQ(b.status, ACCOUNT_VALID);

    t = wtx();
    CHECK_INT_EQ(lifecycle_account_deactivate(t, &b), 0);
    commit(t);
    CHECK_INT_EQ(b.status, ACCOUNT_DEACTIVATED);
    t = wtx();
    CHECK_INT_EQ(lifecycle_account_deactivate(t, &b), 1); /* final */
    commit(t);
    rec_account_clear(&b);
    t = rtx();
    CHECK_INT_EQ(repo_account_get(t, "acct-1", &b), 0);
    store_abort(t);
    CHECK_INT_EQ(b.status, ACCOUNT_DEACTIVATED);
    rec_account_clear(&b);
    rec_account_clear(&a);
}

static void test_authz_create(void)
{
    unsigned created = 0;
    rec_authz a;
    new_authz("dns", "www.example.org", false, T0, &a, &created);
    CHECK_INT_EQ(created, 3);
    CHECK(a.id[0] != 0);
    CHECK_INT_EQ(a.status, AUTHZ_PENDING);
    CHECK_INT_EQ(a.created, T0);
    CHECK_INT_EQ(a.expires, T0 + cfg.authz_pending_lifetime);
    CHECK_INT_EQ(a.nchall, 3);
    const char *want[] = {"http-01", "dns-01", "tls-alpn-01"};
    for (size_t i = 0; i < a.nchall && i < 3; i++) {
        rec_chall c;
        CHECK_INT_EQ(get_chall(a.chall_ids[i], &c), 0);
        CHECK_STR_EQ(c.type, want[i]);
        CHECK_INT_EQ(c.status, CHALL_PENDING);
        CHECK_STR_EQ(c.authz_id, a.id);
        CHECK(c.token && strlen(c.token) >= 22); /* 8.1: 128 bits at least, base64url */
        rec_chall_clear(&c);
    }
    rec_authz s;
    CHECK_INT_EQ(get_authz(a.id, &s), 0);
    CHECK_INT_EQ(s.status, AUTHZ_PENDING);
    CHECK_INT_EQ(s.nchall, 3);
    CHECK_STR_EQ(s.identifier.value, "www.example.org");
    rec_authz_clear(&s);
    rec_authz_clear(&a);

    /* A wildcard: dns-01 only (7.1.3). */
    created = 0;
    new_authz("dns", "example.org", true, T0, &a, &created);
    CHECK_INT_EQ(created, 1);
    CHECK_INT_EQ(a.nchall, 1);
    CHECK_STR_EQ(chall_of_type(&a, "dns-01"), a.nchall ? a.chall_ids[0] : "");
    rec_authz_clear(&a);

    /* An IP address: no dns-01 (RFC 8738 7). */
    created = 0;
    new_authz("ip", "192.0.2.1", false, T0, &a, &created);
    CHECK_INT_EQ(created, 2);
    CHECK_INT_EQ(a.nchall, 2);
    CHECK_STR_EQ(chall_of_type(&a, "dns-01"), "");
    CHECK(chall_of_type(&a, "http-01")[0] != 0);
    CHECK(chall_of_type(&a, "tls-alpn-01")[0] != 0);
    rec_authz_clear(&a);
}

/* The main path: fail, offer, re-enable, succeed, finalize, issue. */
static void test_fail_reenable_issue(void)
{
    unsigned created = 0;
    rec_authz a;
    rec_order o;
    validation_applied out;
    new_authz("dns", "www.example.org", false, T0, &a, &created);
    char aid[ID_LEN], http[ID_LEN], dns[ID_LEN];
    snprintf(aid, sizeof(aid), "%s", a.id);
    snprintf(http, sizeof(http), "%s", chall_of_type(&a, "http-01"));
    snprintf(dns, sizeof(dns), "%s", chall_of_type(&a, "dns-01"));
    rec_authz_clear(&a);

    /* A certificate this order will replace (RFC 9773). */
    rec_cert old = {0};
    snprintf(old.serial, sizeof(old.serial), "00aa");
    snprintf(old.account_id, sizeof(old.account_id), "acct-1");
    old.ari_id = xstrdup("ari-old");
    store_txn *t = wtx();
    CHECK_INT_EQ(repo_cert_create(t, &old), 0);
    commit(t);
    rec_cert_clear(&old);

    const char *ids[] = {aid};
    new_order("order-1", ids, 1, "ari-old", T0, &o);
    CHECK_INT_EQ(o.status, ORDER_PENDING);
    rec_order_clear(&o);
    /* A second order reusing the same pending authorization follows it too. */
    new_order("order-1b", ids, 1, NULL, T0, &o);
    CHECK_INT_EQ(o.status, ORDER_PENDING);
    rec_order_clear(&o);
    CHECK_INT_EQ(get_order("order-1", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_PENDING);
    rec_order_clear(&o);

    /* Finalize refused while pending: returns 1, nothing stored changes. */
    char *before = snapshot(aid, "order-1");
    CHECK_INT_EQ(order_finalize("order-1", "Q1NS", T0 + 1), 1);
    char *after = snapshot(aid, "order-1");
    CHECK_STR_EQ(after, before);
    free(before);
    free(after);

    /* The client responds to http-01: processing, attempt 1. */
    CHECK_INT_EQ(respond(aid, http, T0 + 1), 0);
    CHECK_INT_EQ(get_authz(aid, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_PENDING);
    CHECK_INT_EQ(a.attempts, 1);
    CHECK_INT_EQ(a.attempt_seq, 1);
    CHECK_STR_EQ(a.active_chall_id, http);
    rec_authz_clear(&a);
    rec_chall c;
    CHECK_INT_EQ(get_chall(http, &c), 0);
    CHECK_INT_EQ(c.status, CHALL_PROCESSING);
    rec_chall_clear(&c);
    /* Responding again to it (not pending any more) is refused. */
    CHECK_INT_EQ(respond(aid, http, T0 + 1), 1);

    /* Stale results: wrong attempt number, wrong challenge. Nothing changes. */
    before = snapshot(aid, "order-1");
    va_result r = failure("connection", "connection refused");
    CHECK_INT_EQ(apply(aid, http, 2, &r, T0 + 2, &out), 1);
    r = failure("connection", "connection refused");
    CHECK_INT_EQ(apply(aid, http, 0, &r, T0 + 2, &out), 1);
    r = success();
    CHECK_INT_EQ(apply(aid, dns, 1, &r, T0 + 2, &out), 1);
    after = snapshot(aid, "order-1");
    CHECK_STR_EQ(after, before);
    free(before);
    free(after);

    /* The failure: challenge, authorization and order invalid; an offer. */
    r = failure("connection", "connection refused");
    t = wtx();
    CHECK_INT_EQ(lifecycle_validation_result(&cfg, t, aid, http, 1, &r, NULL, 0, T0 + 2, &out), 0);
    commit(t);
    CHECK(r.problem == NULL);     /* taken */
    CHECK(r.record_json == NULL); /* taken */
    va_result_clear(&r);
    CHECK_STR_EQ(out.chall_type, "http-01");
    CHECK_INT_EQ(out.challs_created, 1);
    CHECK(!out.reenabled_ended);

    CHECK_INT_EQ(get_chall(http, &c), 0);
    CHECK_INT_EQ(c.status, CHALL_INVALID);
    CHECK(c.error != NULL);
    if (c.error) {
        CHECK_STR_EQ(c.error->type, ACME_ERR("connection"));
        CHECK_STR_EQ(c.error->detail, "connection refused");
    }
    CHECK_STR_EQ(c.record_json, "[{\"hostname\":\"www.example.org\",\"port\":\"80\"}]");
    rec_chall_clear(&c);

    char fresh[ID_LEN] = "";
    CHECK_INT_EQ(get_authz(aid, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_INVALID);
    CHECK_STR_EQ(a.active_chall_id, "");
    CHECK_INT_EQ(a.nfailures, 1);
    if (a.nfailures == 1) {
        CHECK_INT_EQ(a.failures[0].at, T0 + 2);
        CHECK_STR_EQ(a.failures[0].chall_type, "http-01");
        CHECK_STR_EQ(a.failures[0].problem_type, "connection");
        CHECK_INT_EQ(a.failures[0].dns_negative_ttl, -1);
    }
    CHECK(a.offer_made);
    CHECK(a.no_offer_reason == NULL);
    CHECK_INT_EQ(a.nchall, 3); /* the fresh one is not listed yet */
    CHECK_INT_EQ(a.noffer, 1);
    if (a.noffer == 1)
        snprintf(fresh, sizeof(fresh), "%s", a.offer_chall_ids[0]);
    rec_authz_clear(&a);
    CHECK_INT_EQ(get_chall(fresh, &c), 0);
    CHECK_STR_EQ(c.type, "http-01");
    CHECK_INT_EQ(c.status, CHALL_PENDING);
    CHECK_STR_EQ(c.authz_id, aid);
    CHECK(strcmp(c.id, http) != 0);
    rec_chall old_http;
    CHECK_INT_EQ(get_chall(http, &old_http), 0);
    CHECK(c.token && old_http.token && strcmp(c.token, old_http.token) != 0); /* a token never used before */
    rec_chall_clear(&old_http);
    rec_chall_clear(&c);

    CHECK_INT_EQ(get_order("order-1", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_INVALID);
    CHECK_INT_EQ(o.invalid_reason, INVALID_AUTHZ);
    CHECK(o.error != NULL);
    if (o.error) {
        CHECK_STR_EQ(o.error->type, ACME_ERR("connection"));
        CHECK_STR_EQ(o.error->detail, "authorization for www.example.org failed");
        CHECK_INT_EQ(o.error->nsub, 1);
        if (o.error->nsub == 1) {
            CHECK_STR_EQ(o.error->subproblems[0].type, ACME_ERR("connection"));
            CHECK_STR_EQ(o.error->subproblems[0].identifier.type, "dns");
            CHECK_STR_EQ(o.error->subproblems[0].identifier.value, "www.example.org");
            CHECK_STR_EQ(o.error->subproblems[0].detail, "connection refused");
        }
    }
    CHECK(order_may_come_back(&o, T0 + 3));
    rec_order_clear(&o);
    CHECK_INT_EQ(get_order("order-1b", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_INVALID);
    CHECK_INT_EQ(o.invalid_reason, INVALID_AUTHZ);
    CHECK(o.error && o.error->nsub == 1);
    rec_order_clear(&o);

    /* The failure counts towards the failed-validation limit. */
    t = rtx();
    acme_identifier wid = {.type = "dns", .value = "www.example.org"};
    CHECK_INT_EQ(repo_failures_since(t, "acct-1", &wid, T0, NULL), 1);
    store_abort(t);

    /* The offer open now: untried dns-01, tls-alpn-01, then the fresh http-01. */
    authz_view v;
    authz_offer ao;
    offer_now(aid, T0 + 3, &ao, &v);
    CHECK_INT_EQ(ao.state, OFFER_OPEN);
    CHECK_INT_EQ(ao.attempts_remaining, 2);
    CHECK_INT_EQ(ao.not_before, T0 + 2 + cfg.retry_min_backoff);
    CHECK_INT_EQ(ao.nchoices, 3);
    if (ao.nchoices == 3) {
        CHECK_STR_EQ(ao.choices[0]->type, "dns-01");
        CHECK_STR_EQ(ao.choices[1]->type, "tls-alpn-01");
        CHECK_STR_EQ(ao.choices[2]->id, fresh);
    }
    rec_order ord;
    CHECK_INT_EQ(get_order("order-1", &ord), 0);
    order_offer oo;
    offer_for_order(&cfg, &ord, &v, 1, T0 + 3, &oo);
    CHECK(oo.open);
    CHECK_INT_EQ(oo.nauthz, 1);
    CHECK_INT_EQ(oo.not_before, ao.not_before);
    order_offer_clear(&oo);
    rec_order_clear(&ord);
    authz_offer_clear(&ao);
    authz_view_clear(&v);

    /* The same result delivered twice: the second is stale. */
    before = snapshot(aid, "order-1");
    r = failure("connection", "connection refused");
    CHECK_INT_EQ(apply(aid, http, 1, &r, T0 + 3, &out), 1);
    after = snapshot(aid, "order-1");
    CHECK_STR_EQ(after, before);
    free(before);
    free(after);

    /* Re-enable with the failed challenge itself: refused. */
    CHECK_INT_EQ(reenable(aid, http, T0 + 10), 1);

    /* Re-enable with the fresh http-01. */
    CHECK_INT_EQ(reenable(aid, fresh, T0 + 10), 0);
    CHECK_INT_EQ(get_authz(aid, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_PENDING);
    CHECK_INT_EQ(a.nchall, 4);
    if (a.nchall == 4)
        CHECK_STR_EQ(a.chall_ids[3], fresh);
    CHECK_INT_EQ(a.noffer, 0);
    CHECK(!a.offer_made);
    CHECK_INT_EQ(a.attempts, 2);
    CHECK_INT_EQ(a.attempt_seq, 2);
    CHECK_STR_EQ(a.active_chall_id, fresh);
    CHECK_INT_EQ(a.nfailures, 1); /* the history stays for the backoff */
    rec_authz_clear(&a);
    CHECK_INT_EQ(get_chall(fresh, &c), 0);
    CHECK_INT_EQ(c.status, CHALL_PROCESSING);
    rec_chall_clear(&c);
    CHECK_INT_EQ(get_chall(http, &c), 0);
    CHECK_INT_EQ(c.status, CHALL_INVALID); /* a failed challenge stays invalid */
    rec_chall_clear(&c);
    CHECK_INT_EQ(get_order("order-1", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_PENDING);
    CHECK_INT_EQ(o.invalid_reason, INVALID_NONE);
    CHECK(o.error == NULL);
    rec_order_clear(&o);
    CHECK_INT_EQ(get_order("order-1b", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_PENDING);
    CHECK(o.error == NULL);
    rec_order_clear(&o);
    CHECK_INT_EQ(reenable(aid, dns, T0 + 11), 1); /* pending now: no second re-enable */

    /* A late result of the first attempt changes nothing. */
    before = snapshot(aid, "order-1");
    r = success();
    CHECK_INT_EQ(apply(aid, http, 1, &r, T0 + 12, &out), 1);
    after = snapshot(aid, "order-1");
    CHECK_STR_EQ(after, before);
    free(before);
    free(after);

    /* Success: valid with the valid lifetime; the order is ready. */
    r = success();
    CHECK_INT_EQ(apply(aid, fresh, 2, &r, T0 + 20, &out), 0);
    CHECK(out.reenabled_ended);
    CHECK(out.ended_valid);
    CHECK_INT_EQ(out.challs_created, 0);
    CHECK_INT_EQ(get_authz(aid, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_VALID);
    CHECK_INT_EQ(a.expires, T0 + 20 + cfg.authz_valid_lifetime);
    CHECK_STR_EQ(a.active_chall_id, "");
    rec_authz_clear(&a);
    CHECK_INT_EQ(get_chall(fresh, &c), 0);
    CHECK_INT_EQ(c.status, CHALL_VALID);
    CHECK_INT_EQ(c.validated, T0 + 20);
    CHECK(c.error == NULL);
    rec_chall_clear(&c);
    CHECK_INT_EQ(get_order("order-1", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_READY);
    rec_order_clear(&o);
    CHECK_INT_EQ(get_order("order-1b", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_READY);
    rec_order_clear(&o);

    /* Finalize from ready: processing with the CSR kept. */
    CHECK_INT_EQ(order_finalize("order-1", "Q1NSLWRlcg", T0 + 30), 0);
    CHECK_INT_EQ(get_order("order-1", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_PROCESSING);
    CHECK_STR_EQ(o.csr, "Q1NSLWRlcg");
    CHECK_INT_EQ(o.finalize_at, T0 + 30);
    /* Finalize again: refused. */
    t = wtx();
    CHECK_INT_EQ(lifecycle_order_finalize(t, &o, "other", T0 + 31), 1);
    commit(t);

    /* Issued: valid with the serial; the certificate by serial and by ARI
     * id; the replaced one consumed. */
    rec_cert cert = {0};
    snprintf(cert.serial, sizeof(cert.serial), "0bcd");
    snprintf(cert.account_id, sizeof(cert.account_id), "acct-1");
    snprintf(cert.order_id, sizeof(cert.order_id), "order-1");
    cert.ari_id = xstrdup("ari-new");
    cert.not_before = T0 + 40;
    cert.not_after = T0 + 40 + 86400;
    t = wtx();
    CHECK_INT_EQ(lifecycle_order_issued(t, &o, &cert, T0 + 40), 0);
    commit(t);
    CHECK_INT_EQ(o.status, ORDER_VALID);
    rec_order_clear(&o);
    CHECK_INT_EQ(get_order("order-1", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_VALID);
    CHECK_STR_EQ(o.cert_serial, "0bcd");
    CHECK(o.csr == NULL);
    /* Issued twice: refused. */
    t = wtx();
    CHECK_INT_EQ(lifecycle_order_issued(t, &o, &cert, T0 + 41), 1);
    commit(t);
    rec_order_clear(&o);
    rec_cert_clear(&cert);
    rec_cert got;
    t = rtx();
    CHECK_INT_EQ(repo_cert_get(t, "0bcd", &got), 0);
    CHECK_STR_EQ(got.order_id, "order-1");
    rec_cert_clear(&got);
    CHECK_INT_EQ(repo_cert_by_ari_id(t, "ari-new", &got), 0);
    CHECK_STR_EQ(got.serial, "0bcd");
    rec_cert_clear(&got);
    CHECK_INT_EQ(repo_cert_by_ari_id(t, "ari-old", &got), 0);
    CHECK_STR_EQ(got.replaced_by, "order-1");
    rec_cert_clear(&got);
    store_abort(t);

    /* A new order over the valid authorization is ready at once. */
    new_order("order-2", ids, 1, NULL, T0 + 50, &o);
    CHECK_INT_EQ(o.status, ORDER_READY);
    rec_order_clear(&o);
    CHECK_INT_EQ(get_order("order-2", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_READY);
    rec_order_clear(&o);
    /* Issuance fails: invalid with serverInternal, for good. */
    CHECK_INT_EQ(order_finalize("order-2", "Q1NS", T0 + 51), 0);
    CHECK_INT_EQ(get_order("order-2", &o), 0);
    t = wtx();
    CHECK_INT_EQ(lifecycle_order_issue_failed(t, &o, problem_new("serverInternal", 0, "issuance failed: CA unavailable"),
                                              T0 + 52), 0);
    commit(t);
    rec_order_clear(&o);
    CHECK_INT_EQ(get_order("order-2", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_INVALID);
    CHECK_INT_EQ(o.invalid_reason, INVALID_ISSUANCE);
    CHECK(o.error != NULL);
    if (o.error) {
        CHECK_STR_EQ(o.error->type, ACME_ERR("serverInternal"));
        CHECK_STR_EQ(o.error->detail, "issuance failed: CA unavailable");
    }
    CHECK(o.csr == NULL);
    CHECK(!order_may_come_back(&o, T0 + 53));
    t = wtx();
    CHECK_INT_EQ(lifecycle_order_issue_failed(t, &o, problem_new("serverInternal", 0, "again"), T0 + 53), 1);
    commit(t);
    rec_order_clear(&o);

    /* Deactivating the valid authorization (7.5.2): a ready order over it
     * becomes invalid for good; a valid order and one that failed its
     * issuance keep what they are. */
    new_order("order-3", ids, 1, NULL, T0 + 60, &o);
    CHECK_INT_EQ(o.status, ORDER_READY);
    rec_order_clear(&o);
    CHECK_INT_EQ(deactivate_authz(aid, T0 + 61), 0);
    CHECK_INT_EQ(get_authz(aid, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_DEACTIVATED);
    rec_authz_clear(&a);
    CHECK_INT_EQ(get_order("order-3", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_INVALID);
    CHECK_INT_EQ(o.invalid_reason, INVALID_AUTHZ_FINAL);
    rec_order_clear(&o);
    CHECK_INT_EQ(get_order("order-1", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_VALID);
    CHECK_STR_EQ(o.cert_serial, "0bcd");
    rec_order_clear(&o);
    CHECK_INT_EQ(get_order("order-2", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_INVALID);
    CHECK_INT_EQ(o.invalid_reason, INVALID_ISSUANCE);
    CHECK(o.error && strcmp(o.error->type, ACME_ERR("serverInternal")) == 0);
    rec_order_clear(&o);
}

/* Deactivations: a pending authorization's order is invalid for good; an
 * invalid authorization's offer is withdrawn and its order can't come back. */
static void test_deactivation(void)
{
    unsigned created = 0;
    rec_authz a;
    rec_order o;
    new_authz("dns", "b.example.org", false, T0, &a, &created);
    char bid[ID_LEN];
    snprintf(bid, sizeof(bid), "%s", a.id);
    rec_authz_clear(&a);
    const char *ids[] = {bid};
    new_order("order-b", ids, 1, NULL, T0, &o);
    rec_order_clear(&o);

    CHECK_INT_EQ(deactivate_authz(bid, T0 + 1), 0);
    CHECK_INT_EQ(get_authz(bid, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_DEACTIVATED);
    rec_authz_clear(&a);
    CHECK_INT_EQ(get_order("order-b", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_INVALID);
    CHECK_INT_EQ(o.invalid_reason, INVALID_AUTHZ_FINAL);
    CHECK(!order_may_come_back(&o, T0 + 2));
    CHECK(o.error != NULL);
    if (o.error && o.error->nsub == 1)
        CHECK_STR_EQ(o.error->subproblems[0].identifier.value, "b.example.org");
    else
        CHECK(0);
    rec_order_clear(&o);
    CHECK_INT_EQ(deactivate_authz(bid, T0 + 2), 1); /* final */

    /* An invalid authorization with an open offer, then deactivated. */
    new_authz("dns", "c.example.org", false, T0, &a, &created);
    char cid_a[ID_LEN], chttp[ID_LEN];
    snprintf(cid_a, sizeof(cid_a), "%s", a.id);
    snprintf(chttp, sizeof(chttp), "%s", chall_of_type(&a, "http-01"));
    rec_authz_clear(&a);
    const char *cids[] = {cid_a};
    new_order("order-c", cids, 1, NULL, T0, &o);
    rec_order_clear(&o);
    CHECK_INT_EQ(respond(cid_a, chttp, T0 + 1), 0);
    validation_applied out;
    va_result r = failure("connection", "timeout");
    CHECK_INT_EQ(apply(cid_a, chttp, 1, &r, T0 + 2, &out), 0);
    CHECK_INT_EQ(get_order("order-c", &o), 0);
    CHECK_INT_EQ(o.invalid_reason, INVALID_AUTHZ);
    rec_order_clear(&o);

    CHECK_INT_EQ(deactivate_authz(cid_a, T0 + 3), 0);
    CHECK_INT_EQ(get_authz(cid_a, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_DEACTIVATED);
    CHECK(!a.offer_made);
    rec_authz_clear(&a);
    authz_view v;
    authz_offer ao;
    offer_now(cid_a, T0 + 10, &ao, &v);
    CHECK(ao.state != OFFER_OPEN);
    authz_offer_clear(&ao);
    CHECK_INT_EQ(get_order("order-c", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_INVALID);
    CHECK_INT_EQ(o.invalid_reason, INVALID_AUTHZ_FINAL);
    CHECK(!order_may_come_back(&o, T0 + 10));
    order_offer oo;
    offer_for_order(&cfg, &o, &v, 1, T0 + 10, &oo);
    CHECK(!oo.open);
    order_offer_clear(&oo);
    rec_order_clear(&o);
    /* Re-enable of the deactivated authorization with its untried dns-01: refused. */
    char cdns[ID_LEN];
    snprintf(cdns, sizeof(cdns), "%s", chall_of_type(&v.authz, "dns-01"));
    authz_view_clear(&v);
    CHECK_INT_EQ(reenable(cid_a, cdns, T0 + 10), 1);
}

/* A result after the authorization expired does not revive it: the
 * challenge ends invalid, saying why, and a later result is stale. */
static void test_result_after_expiry(void)
{
    unsigned created = 0;
    rec_authz a;
    new_authz("dns", "d.example.org", false, T0, &a, &created);
    char did[ID_LEN], dhttp[ID_LEN];
    snprintf(did, sizeof(did), "%s", a.id);
    snprintf(dhttp, sizeof(dhttp), "%s", chall_of_type(&a, "http-01"));
    rec_authz_clear(&a);
    rec_order o;
    const char *ids[] = {did};
    new_order("order-d", ids, 1, NULL, T0, &o);
    rec_order_clear(&o);
    CHECK_INT_EQ(respond(did, dhttp, T0 + 1), 0);

    /* Its expiry moves into the past. */
    store_txn *t = wtx();
    CHECK_INT_EQ(repo_authz_get(t, did, &a), 0);
    a.expires = T0 + 50;
    CHECK_INT_EQ(repo_authz_save(t, &a), 0);
    commit(t);
    rec_authz_clear(&a);

    validation_applied out;
    va_result r = success();
    CHECK_INT_EQ(apply(did, dhttp, 1, &r, T0 + 100, &out), 0);
    CHECK(out.too_late);
    rec_chall c;
    CHECK_INT_EQ(get_chall(dhttp, &c), 0);
    CHECK_INT_EQ(c.status, CHALL_INVALID);
    CHECK(c.error && strstr(c.error->detail, "expired while this challenge was processing"));
    rec_chall_clear(&c);
    char *before = snapshot(did, "order-d");
    r = failure("connection", "late");
    CHECK_INT_EQ(apply(did, dhttp, 1, &r, T0 + 100, &out), 1);
    char *after = snapshot(did, "order-d");
    CHECK_STR_EQ(after, before);
    free(before);
    free(after);
    CHECK_INT_EQ(get_authz(did, &a), 0);
    CHECK_INT_EQ(authz_status_at(a.status, a.expires, T0 + 100), AUTHZ_EXPIRED);
    CHECK_INT_EQ(a.expires, T0 + 50);
    CHECK(a.nfailures == 0);
    CHECK(a.active_chall_id[0] == 0);
    rec_authz_clear(&a);
    /* No failure counted against the limit either. */
    t = rtx();
    acme_identifier id = {.type = "dns", .value = "d.example.org"};
    CHECK_INT_EQ(repo_failures_since(t, "acct-1", &id, 0, NULL), 0);
    store_abort(t);
}

/* Two authorizations of one order fail; each is re-enabled in turn. */
static void test_two_failed_authzs(void)
{
    unsigned created = 0;
    rec_authz a;
    rec_order o;
    char e[ID_LEN], f[ID_LEN], ehttp[ID_LEN], fhttp[ID_LEN], edns[ID_LEN], fdns[ID_LEN];
    new_authz("dns", "e.example.org", false, T0, &a, &created);
    snprintf(e, sizeof(e), "%s", a.id);
    snprintf(ehttp, sizeof(ehttp), "%s", chall_of_type(&a, "http-01"));
    snprintf(edns, sizeof(edns), "%s", chall_of_type(&a, "dns-01"));
    rec_authz_clear(&a);
    new_authz("dns", "f.example.org", false, T0, &a, &created);
    snprintf(f, sizeof(f), "%s", a.id);
    snprintf(fhttp, sizeof(fhttp), "%s", chall_of_type(&a, "http-01"));
    snprintf(fdns, sizeof(fdns), "%s", chall_of_type(&a, "dns-01"));
    rec_authz_clear(&a);
    const char *ids[] = {e, f};
    new_order("order-ef", ids, 2, NULL, T0, &o);
    CHECK_INT_EQ(o.status, ORDER_PENDING);
    rec_order_clear(&o);

    validation_applied out;
    CHECK_INT_EQ(respond(e, ehttp, T0 + 1), 0);
    CHECK_INT_EQ(respond(f, fhttp, T0 + 1), 0);
    va_result r = failure("connection", "e refused");
    CHECK_INT_EQ(apply(e, ehttp, 1, &r, T0 + 2, &out), 0);
    CHECK_INT_EQ(get_order("order-ef", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_INVALID);
    CHECK_INT_EQ(o.invalid_reason, INVALID_AUTHZ);
    CHECK(o.error && o.error->nsub == 1);
    rec_order_clear(&o);
    r = failure("dns", "f not found");
    CHECK_INT_EQ(apply(f, fhttp, 1, &r, T0 + 3, &out), 0);
    CHECK_INT_EQ(get_order("order-ef", &o), 0);
    CHECK_INT_EQ(o.invalid_reason, INVALID_AUTHZ);
    CHECK(o.error != NULL);
    if (o.error) {
        CHECK_STR_EQ(o.error->detail, "2 authorizations failed");
        CHECK_INT_EQ(o.error->nsub, 2);
        if (o.error->nsub == 2) {
            CHECK_STR_EQ(o.error->subproblems[0].identifier.value, "e.example.org");
            CHECK_STR_EQ(o.error->subproblems[1].identifier.value, "f.example.org");
            CHECK_STR_EQ(o.error->subproblems[1].type, ACME_ERR("dns"));
        }
    }
    rec_order_clear(&o);

    /* Re-enable e (with its untried dns-01): f still invalid, the order stays
     * invalid, and its error names only what keeps it so: f's failure. */
    CHECK_INT_EQ(reenable(e, edns, T0 + 20), 0);
    CHECK_INT_EQ(get_authz(e, &a), 0);
    CHECK_INT_EQ(a.nchall, 3); /* a listed challenge: nothing joins the list */
    CHECK_INT_EQ(a.noffer, 1); /* the unchosen fresh http-01 stays in reserve */
    CHECK_STR_EQ(a.active_chall_id, edns);
    rec_authz_clear(&a);
    CHECK_INT_EQ(get_order("order-ef", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_INVALID);
    CHECK_INT_EQ(o.invalid_reason, INVALID_AUTHZ);
    CHECK(o.error != NULL);
    if (o.error) {
        CHECK_STR_EQ(o.error->type, ACME_ERR("dns"));
        CHECK_STR_EQ(o.error->detail, "authorization for f.example.org failed");
        CHECK_INT_EQ(o.error->nsub, 1);
        if (o.error->nsub == 1)
            CHECK_STR_EQ(o.error->subproblems[0].identifier.value, "f.example.org");
    }
    rec_order_clear(&o);
    /* Re-enable f: the order is pending again. */
    CHECK_INT_EQ(reenable(f, fdns, T0 + 20), 0);
    CHECK_INT_EQ(get_order("order-ef", &o), 0);
    CHECK_INT_EQ(o.status, ORDER_PENDING);
    CHECK_INT_EQ(o.invalid_reason, INVALID_NONE);
    CHECK(o.error == NULL);
    rec_order_clear(&o);
}

/* No offer: a failure never retried, and attempts used up. */
static void test_no_offer(void)
{
    unsigned created = 0;
    rec_authz a;
    validation_applied out;
    char g[ID_LEN], ghttp[ID_LEN];
    new_authz("dns", "g.example.org", false, T0, &a, &created);
    snprintf(g, sizeof(g), "%s", a.id);
    snprintf(ghttp, sizeof(ghttp), "%s", chall_of_type(&a, "http-01"));
    rec_authz_clear(&a);
    CHECK_INT_EQ(respond(g, ghttp, T0 + 1), 0);
    va_result r = failure("caa", "CAA forbids");
    CHECK_INT_EQ(apply(g, ghttp, 1, &r, T0 + 2, &out), 0);
    CHECK_INT_EQ(out.challs_created, 0);
    CHECK_INT_EQ(get_authz(g, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_INVALID);
    CHECK(!a.offer_made);
    CHECK_STR_EQ(a.no_offer_reason, "failure is not retryable");
    CHECK_INT_EQ(a.noffer, 0);
    rec_authz_clear(&a);

    /* Two attempts per authorization: the second failure ends it. */
    cfg.retry_attempts = 2;
    char h[ID_LEN], hdns[ID_LEN];
    new_authz("dns", "h.example.org", false, T0, &a, &created);
    snprintf(h, sizeof(h), "%s", a.id);
    snprintf(hdns, sizeof(hdns), "%s", chall_of_type(&a, "dns-01"));
    rec_authz_clear(&a);
    CHECK_INT_EQ(respond(h, hdns, T0 + 1), 0);
    r = failure("unauthorized", "no TXT record");
    r.dns_negative_ttl = 600;
    CHECK_INT_EQ(apply(h, hdns, 1, &r, T0 + 2, &out), 0);
    CHECK_INT_EQ(out.challs_created, 1);
    char hfresh[ID_LEN] = "";
    CHECK_INT_EQ(get_authz(h, &a), 0);
    CHECK(a.offer_made);
    if (a.nfailures == 1)
        CHECK_INT_EQ(a.failures[0].dns_negative_ttl, 600);
    else
        CHECK(0);
    if (a.noffer == 1)
        snprintf(hfresh, sizeof(hfresh), "%s", a.offer_chall_ids[0]);
    else
        CHECK(0);
    rec_authz_clear(&a);
    authz_view v;
    authz_offer ao;
    offer_now(h, T0 + 3, &ao, &v);
    CHECK_INT_EQ(ao.state, OFFER_OPEN);
    CHECK_INT_EQ(ao.not_before, T0 + 2 + 600); /* the negative-caching TTL */
    CHECK_INT_EQ(ao.attempts_remaining, 1);
    CHECK_INT_EQ(ao.nchoices, 3); /* http-01 and tls-alpn-01 untried, a fresh dns-01 */
    authz_offer_clear(&ao);
    authz_view_clear(&v);

    CHECK_INT_EQ(reenable(h, hfresh, T0 + 700), 0);
    r = failure("unauthorized", "still no TXT record");
    CHECK_INT_EQ(apply(h, hfresh, 2, &r, T0 + 701, &out), 0);
    CHECK(out.reenabled_ended);
    CHECK(!out.ended_valid);
    CHECK_INT_EQ(out.challs_created, 0);
    CHECK_INT_EQ(get_authz(h, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_INVALID);
    CHECK(!a.offer_made);
    CHECK_STR_EQ(a.no_offer_reason, "no attempts left");
    CHECK_INT_EQ(a.noffer, 0);
    CHECK_INT_EQ(a.nfailures, 2);
    rec_authz_clear(&a);
    cfg.retry_attempts = 3;

    /* A wildcard lists dns-01 only: one type, one attempt (draft -01
     * "Zombies"), so its failure makes no offer. */
    char w[ID_LEN], wdns[ID_LEN];
    new_authz("dns", "w.example.org", true, T0, &a, &created);
    snprintf(w, sizeof(w), "%s", a.id);
    snprintf(wdns, sizeof(wdns), "%s", chall_of_type(&a, "dns-01"));
    rec_authz_clear(&a);
    CHECK_INT_EQ(respond(w, wdns, T0 + 1), 0);
    r = failure("unauthorized", "no TXT record");
    CHECK_INT_EQ(apply(w, wdns, 1, &r, T0 + 2, &out), 0);
    CHECK_INT_EQ(out.challs_created, 0);
    CHECK_INT_EQ(get_authz(w, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_INVALID);
    CHECK(!a.offer_made);
    CHECK_STR_EQ(a.no_offer_reason, "no attempts left");
    rec_authz_clear(&a);
    /* Invalid without an offer: final, not deactivated (7.1.6; the draft
     * adds only an invalid authorization that carries an offer). */
    CHECK_INT_EQ(deactivate_authz(w, T0 + 3), 1);
    CHECK_INT_EQ(get_authz(w, &a), 0);
    CHECK_INT_EQ(a.status, AUTHZ_INVALID);
    rec_authz_clear(&a);
}

/* RFC 9773 5: re-enabling must not bring back an order whose "replaces"
 * another order has consumed. */
static void test_reenable_conflict(void)
{
    unsigned created = 0;
    rec_authz a;
    rec_order o;
    validation_applied out;
    new_authz("dns", "k.example.org", false, T0, &a, &created);
    char k[ID_LEN], khttp[ID_LEN];
    snprintf(k, sizeof(k), "%s", a.id);
    snprintf(khttp, sizeof(khttp), "%s", chall_of_type(&a, "http-01"));
    rec_authz_clear(&a);
    const char *ids[] = {k};
    /* ari-old was consumed by order-1 in test_fail_reenable_issue. */
    new_order("order-k", ids, 1, "ari-old", T0, &o);
    rec_order_clear(&o);
    CHECK_INT_EQ(respond(k, khttp, T0 + 1), 0);
    va_result r = failure("connection", "refused");
    CHECK_INT_EQ(apply(k, khttp, 1, &r, T0 + 2, &out), 0);
    store_txn *t = rtx();
    CHECK_INT_EQ(repo_authz_get(t, k, &a), 0);
    CHECK(lifecycle_reenable_conflicts_with_replacement(t, &a, T0 + 3));
    rec_authz_clear(&a);
    store_abort(t);

    /* Without "replaces": no conflict. */
    new_authz("dns", "l.example.org", false, T0, &a, &created);
    char l[ID_LEN], lhttp[ID_LEN];
    snprintf(l, sizeof(l), "%s", a.id);
    snprintf(lhttp, sizeof(lhttp), "%s", chall_of_type(&a, "http-01"));
    rec_authz_clear(&a);
    const char *lids[] = {l};
    new_order("order-l", lids, 1, NULL, T0, &o);
    rec_order_clear(&o);
    CHECK_INT_EQ(respond(l, lhttp, T0 + 1), 0);
    r = failure("connection", "refused");
    CHECK_INT_EQ(apply(l, lhttp, 1, &r, T0 + 2, &out), 0);
    t = rtx();
    CHECK_INT_EQ(repo_authz_get(t, l, &a), 0);
    CHECK(!lifecycle_reenable_conflicts_with_replacement(t, &a, T0 + 3));
    rec_authz_clear(&a);
    store_abort(t);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    aro_err err;
    config_defaults(&cfg);
    st = store_open(tmpdir, (size_t)64 << 20, &err);
    CHECK(st != NULL);
    if (!st) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        config_free(&cfg);
        rm_rf(tmpdir);
        return testlib_finish();
    }
    test_accounts();
    test_authz_create();
    test_fail_reenable_issue();
    test_deactivation();
    test_result_after_expiry();
    test_two_failed_authzs();
    test_no_offer();
    test_reenable_conflict();
    store_close(st);
    config_free(&cfg);
    rm_rf(tmpdir);
    return testlib_finish();
}
