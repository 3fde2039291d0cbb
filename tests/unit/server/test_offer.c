/* The retry-options decision (rules/offer.c), pure: records and views are
 * built in memory, never stored. Covers the decision at the failure
 * (offer_at_failure), the backoff (offer_not_before), the fresh same-type
 * challenges (offer_fresh_types), the offer open now (offer_for_authz, every
 * offer_state) and the order's offer (order_may_come_back, offer_for_order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/offer.h"
#include "strv.h"
#include "testlib.h"

#define T0 1700000000

/* ---- building records in memory ---------------------------------------- */

static void authz_init(rec_authz *a, const char *id, const char *name, authz_status st, time_t expires)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->id, sizeof(a->id), "%s", id);
    snprintf(a->account_id, sizeof(a->account_id), "acct");
    a->identifier.type = xstrdup("dns");
    a->identifier.value = xstrdup(name);
    a->status = st;
    a->created = T0 - 60;
    a->expires = expires;
}

static void add_failure(rec_authz *a, time_t at, const char *chall_type, const char *problem, long ttl)
{
    a->failures = xrealloc(a->failures, (a->nfailures + 1) * sizeof(*a->failures));
    rec_failure *f = &a->failures[a->nfailures++];
    memset(f, 0, sizeof(*f));
    f->at = at;
    snprintf(f->chall_type, sizeof(f->chall_type), "%s", chall_type);
    snprintf(f->problem_type, sizeof(f->problem_type), "%s", problem);
    f->dns_negative_ttl = ttl;
}

static rec_chall *push_chall(rec_chall **v, size_t *n, const char *authz_id, const char *id, const char *type,
                             chall_status st)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    rec_chall *c = &(*v)[(*n)++];
    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", id);
    snprintf(c->authz_id, sizeof(c->authz_id), "%s", authz_id);
    c->type = xstrdup(type);
    c->token = xasprintf("token-%s", id);
    c->status = st;
    return c;
}

static void listed(authz_view *v, const char *id, const char *type, chall_status st)
{
    push_chall(&v->listed, &v->nlisted, v->authz.id, id, type, st);
    strv_push(&v->authz.chall_ids, &v->authz.nchall, id);
}

static void reserve(authz_view *v, const char *id, const char *type, chall_status st)
{
    push_chall(&v->reserve, &v->nreserve, v->authz.id, id, type, st);
    strv_push(&v->authz.offer_chall_ids, &v->authz.noffer, id);
}

/* The authorization of the draft's example after one failed http-01
 * attempt at T0: invalid, an offer made with a fresh http-01 in reserve,
 * dns-01 and tls-alpn-01 untried. */
static void failed_view(authz_view *v, const char *id, const char *name, time_t fail_at)
{
    memset(v, 0, sizeof(*v));
    authz_init(&v->authz, id, name, AUTHZ_INVALID, T0 + 3600);
    v->authz.attempts = 1;
    v->authz.attempt_seq = 1;
    add_failure(&v->authz, fail_at, "http-01", "connection", -1);
    v->authz.offer_made = true;
    char cid[ID_LEN];
    snprintf(cid, sizeof(cid), "%s-h", id);
    listed(v, cid, "http-01", CHALL_INVALID);
    snprintf(cid, sizeof(cid), "%s-d", id);
    listed(v, cid, "dns-01", CHALL_PENDING);
    snprintf(cid, sizeof(cid), "%s-t", id);
    listed(v, cid, "tls-alpn-01", CHALL_PENDING);
    snprintf(cid, sizeof(cid), "%s-fh", id);
    reserve(v, cid, "http-01", CHALL_PENDING);
}

/* ---- offer_at_failure -------------------------------------------------- */

static void test_at_failure(void)
{
    server_config cfg;
    config_defaults(&cfg);
    rec_authz a;
    authz_init(&a, "az1", "www.example.org", AUTHZ_INVALID, T0 + 3600);
    a.attempts = 1;
    add_failure(&a, T0, "http-01", "connection", -1);
    const char *reason = "untouched";

    /* Made otherwise: a retryable failure, attempts left, time left. */
    CHECK(offer_at_failure(&cfg, &a, "connection", T0, &reason));
    CHECK(reason == NULL);
    reason = "untouched";
    CHECK(offer_at_failure(&cfg, &a, "dns", T0, &reason));
    CHECK(reason == NULL);

    /* The switch off: never an offer. */
    cfg.retry_options = false;
    CHECK(!offer_at_failure(&cfg, &a, "connection", T0, &reason));
    CHECK_STR_EQ(reason, "retry-options disabled");
    cfg.retry_options = true;

    /* Refusals another attempt cannot change. */
    const char *never[] = {"caa", "rejectedIdentifier", "unsupportedIdentifier"};
    for (size_t i = 0; i < 3; i++) {
        reason = NULL;
        CHECK(!offer_at_failure(&cfg, &a, never[i], T0, &reason));
        CHECK_STR_EQ(reason, "failure is not retryable");
    }
    /* The operator's retry_never list. */
    strv_push(&cfg.retry_never, &cfg.nretry_never, "incorrectResponse");
    strv_push(&cfg.retry_never, &cfg.nretry_never, "tls");
    reason = NULL;
    CHECK(!offer_at_failure(&cfg, &a, "tls", T0, &reason));
    CHECK_STR_EQ(reason, "failure is not retryable");
    CHECK(!offer_at_failure(&cfg, &a, "incorrectResponse", T0, &reason));
    CHECK(offer_at_failure(&cfg, &a, "connection", T0, &reason));

    /* A blocklisted identifier (here: under a blocked domain). */
    strv_push(&cfg.blocklist, &cfg.nblocklist, "example.org");
    reason = NULL;
    CHECK(!offer_at_failure(&cfg, &a, "connection", T0, &reason));
    CHECK_STR_EQ(reason, "identifier refused by policy");
    strv_free(cfg.blocklist, cfg.nblocklist);
    cfg.blocklist = NULL;
    cfg.nblocklist = 0;

    /* Attempts used up: attempts == retry_attempts (3 by default). */
    a.attempts = (unsigned)cfg.retry_attempts;
    reason = NULL;
    CHECK(!offer_at_failure(&cfg, &a, "connection", T0, &reason));
    CHECK_STR_EQ(reason, "no attempts left");
    a.attempts = (unsigned)cfg.retry_attempts + 2; /* more than allowed: still none, no wrap */
    CHECK(!offer_at_failure(&cfg, &a, "connection", T0, &reason));
    a.attempts = (unsigned)cfg.retry_attempts - 1;
    CHECK(offer_at_failure(&cfg, &a, "connection", T0, &reason));
    /* No more attempts than the types listed at creation (draft "Zombies"):
     * a wildcard's one dns-01 allows one attempt, so no offer; two types
     * allow two. */
    strv_push(&a.chall_ids, &a.nchall, "az1-dns");
    a.attempts = 1;
    CHECK(!offer_at_failure(&cfg, &a, "connection", T0, &reason));
    CHECK_STR_EQ(reason, "no attempts left");
    strv_push(&a.chall_ids, &a.nchall, "az1-http");
    CHECK(offer_at_failure(&cfg, &a, "connection", T0, &reason));
    a.attempts = 2;
    CHECK(!offer_at_failure(&cfg, &a, "connection", T0, &reason));
    strv_free(a.chall_ids, a.nchall);
    a.chall_ids = NULL;
    a.nchall = 0;

    /* The authorization expires before the next attempt could start. */
    a.attempts = 1;
    a.expires = T0 + cfg.retry_min_backoff - 1;
    reason = NULL;
    CHECK(!offer_at_failure(&cfg, &a, "connection", T0, &reason));
    CHECK_STR_EQ(reason, "authorization expires before the next attempt");
    a.expires = T0 + cfg.retry_min_backoff; /* next attempt exactly at expiry: too late */
    CHECK(!offer_at_failure(&cfg, &a, "connection", T0, &reason));
    a.expires = T0 + cfg.retry_min_backoff + 1;
    CHECK(offer_at_failure(&cfg, &a, "connection", T0, &reason));
    /* Already past its expiry at the failure. */
    CHECK(!offer_at_failure(&cfg, &a, "connection", a.expires, &reason));
    CHECK_STR_EQ(reason, "authorization expires before the next attempt");

    rec_authz_clear(&a);
    config_free(&cfg);
}

/* ---- offer_not_before -------------------------------------------------- */

static void test_not_before(void)
{
    const char *reason = NULL;
    server_config cfg;
    config_defaults(&cfg);
    CHECK_INT_EQ(cfg.retry_min_backoff, 5);
    CHECK_INT_EQ(cfg.retry_max_backoff, 3600);
    rec_authz a;
    authz_init(&a, "az1", "www.example.org", AUTHZ_INVALID, T0 + 86400);

    CHECK_INT_EQ(offer_not_before(&cfg, &a), 0); /* no failure: nothing to wait for */

    /* Doubling per failure, counted from the last failure. */
    add_failure(&a, T0, "http-01", "connection", -1);
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 5);
    add_failure(&a, T0 + 100, "http-01", "connection", -1);
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 100 + 10);
    add_failure(&a, T0 + 200, "tls-alpn-01", "tls", -1);
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 200 + 20);
    add_failure(&a, T0 + 300, "http-01", "connection", -1);
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 300 + 40);
    /* Capped: 5 * 2^19 would be far beyond an hour. */
    while (a.nfailures < 20)
        add_failure(&a, T0 + 1000, "http-01", "connection", -1);
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 1000 + 3600);
    /* A cap that is not a power-of-two multiple of the minimum. */
    cfg.retry_max_backoff = 30;
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 1000 + 30);
    cfg.retry_max_backoff = 3600;
    rec_authz_clear(&a);

    /* dns-01: the resolver's negative-caching TTL raises the wait... */
    authz_init(&a, "az2", "www.example.org", AUTHZ_INVALID, T0 + 86400);
    add_failure(&a, T0, "dns-01", "unauthorized", 300);
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 300);
    /* ...never lowers it... */
    a.failures[0].dns_negative_ttl = 2;
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 5);
    a.failures[0].dns_negative_ttl = -1;
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 5);
    /* ...and passes the cap: a retry before the negative cache expires
     * meets the cached answer (draft -01 "Backoff"; the authorization,
     * expiring first, then gets no offer at all). */
    a.failures[0].dns_negative_ttl = 100000;
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 100000);
    CHECK(!offer_at_failure(&cfg, &a, "unauthorized", T0, &reason));
    /* Only the last failure's TTL counts, and only for dns-01. */
    a.failures[0].dns_negative_ttl = 900;
    add_failure(&a, T0 + 10, "http-01", "connection", 900);
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 10 + 10);
    add_failure(&a, T0 + 20, "dns-01", "dns", 600);
    CHECK_INT_EQ(offer_not_before(&cfg, &a), T0 + 20 + 600);
    rec_authz_clear(&a);
    config_free(&cfg);
}

/* ---- offer_fresh_types ------------------------------------------------- */

static void test_fresh_types(void)
{
    server_config cfg;
    config_defaults(&cfg);
    const char *types[8];
    authz_view v;

    /* One per failed type, deduplicated, in the order they failed. */
    memset(&v, 0, sizeof(v));
    authz_init(&v.authz, "az1", "www.example.org", AUTHZ_INVALID, T0 + 3600);
    v.authz.offer_made = true;
    listed(&v, "c-h", "http-01", CHALL_INVALID);
    listed(&v, "c-d", "dns-01", CHALL_INVALID);
    listed(&v, "c-t", "tls-alpn-01", CHALL_PENDING);
    add_failure(&v.authz, T0, "http-01", "connection", -1);
    add_failure(&v.authz, T0 + 10, "dns-01", "dns", -1);
    add_failure(&v.authz, T0 + 20, "http-01", "connection", -1);
    size_t n = offer_fresh_types(&cfg, &v, types, 8);
    CHECK_INT_EQ(n, 2);
    if (n == 2) {
        CHECK_STR_EQ(types[0], "http-01");
        CHECK_STR_EQ(types[1], "dns-01");
    }
    /* max is respected. */
    CHECK_INT_EQ(offer_fresh_types(&cfg, &v, types, 1), 1);
    CHECK_STR_EQ(types[0], "http-01");

    /* A pending fresh http-01 already in reserve: none for http-01. */
    reserve(&v, "r-h", "http-01", CHALL_PENDING);
    n = offer_fresh_types(&cfg, &v, types, 8);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(types[0], "dns-01");
    /* A reserve challenge of that type that is no longer pending does not count. */
    v.reserve[0].status = CHALL_INVALID;
    n = offer_fresh_types(&cfg, &v, types, 8);
    CHECK_INT_EQ(n, 2);
    v.reserve[0].status = CHALL_PROCESSING;
    CHECK_INT_EQ(offer_fresh_types(&cfg, &v, types, 8), 2);
    /* Both in reserve and pending: nothing fresh needed. */
    v.reserve[0].status = CHALL_PENDING;
    reserve(&v, "r-d", "dns-01", CHALL_PENDING);
    CHECK_INT_EQ(offer_fresh_types(&cfg, &v, types, 8), 0);
    v.reserve[1].status = CHALL_INVALID;

    /* retry_same_type off: never a fresh challenge. */
    cfg.retry_same_type = false;
    CHECK_INT_EQ(offer_fresh_types(&cfg, &v, types, 8), 0);
    cfg.retry_same_type = true;
    CHECK_INT_EQ(offer_fresh_types(&cfg, &v, types, 8), 1);

    /* No offer made: nothing to create. */
    v.authz.offer_made = false;
    CHECK_INT_EQ(offer_fresh_types(&cfg, &v, types, 8), 0);
    authz_view_clear(&v);

    /* No failure at all: nothing. */
    memset(&v, 0, sizeof(v));
    authz_init(&v.authz, "az2", "www.example.org", AUTHZ_INVALID, T0 + 3600);
    v.authz.offer_made = true;
    CHECK_INT_EQ(offer_fresh_types(&cfg, &v, types, 8), 0);
    authz_view_clear(&v);
    config_free(&cfg);
}

/* ---- offer_for_authz --------------------------------------------------- */

static void test_for_authz(void)
{
    server_config cfg;
    config_defaults(&cfg);
    authz_view v;
    authz_offer o;
    failed_view(&v, "az1", "www.example.org", T0);
    /* Noise: an invalid and a processing challenge in reserve are never choices. */
    reserve(&v, "az1-fx", "dns-01", CHALL_INVALID);
    reserve(&v, "az1-fp", "tls-alpn-01", CHALL_PROCESSING);

    /* Open: choices are the pending listed ones, then the pending reserve. */
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_OPEN);
    CHECK(o.reason == NULL);
    CHECK_INT_EQ(o.attempts_remaining, 2); /* the draft: 3 per authorization, after the first failure 2 */
    CHECK_INT_EQ(o.not_before, T0 + 5);
    CHECK_INT_EQ(o.expires, T0 + 3600);
    CHECK_INT_EQ(o.nchoices, 3);
    if (o.nchoices == 3) {
        CHECK_STR_EQ(o.choices[0]->id, "az1-d");
        CHECK_STR_EQ(o.choices[1]->id, "az1-t");
        CHECK_STR_EQ(o.choices[2]->id, "az1-fh");
        CHECK(o.choices[0] == &v.listed[1]); /* pointers into the view */
        CHECK(o.choices[2] == &v.reserve[0]);
    }
    for (size_t i = 0; i < o.nchoices; i++)
        CHECK_INT_EQ(o.choices[i]->status, CHALL_PENDING);
    authz_offer_clear(&o);
    CHECK(o.choices == NULL);
    CHECK_INT_EQ(o.nchoices, 0);

    /* Switched off now: no offer even though one was made. */
    cfg.retry_options = false;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_SWITCHED_OFF);
    CHECK_STR_EQ(o.reason, "this server does not offer retry-options now");
    authz_offer_clear(&o);
    cfg.retry_options = true;

    /* Not invalid: pending (e.g. re-enabled) or valid. */
    v.authz.status = AUTHZ_PENDING;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_NOT_INVALID);
    CHECK_STR_EQ(o.reason, "only an invalid authorization can be re-enabled");
    authz_offer_clear(&o);
    v.authz.status = AUTHZ_VALID;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_NOT_INVALID);
    authz_offer_clear(&o);
    v.authz.status = AUTHZ_DEACTIVATED;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_NOT_INVALID);
    authz_offer_clear(&o);
    v.authz.status = AUTHZ_INVALID;

    /* None made at the failure: the record's reason, or a generic one. */
    v.authz.offer_made = false;
    v.authz.no_offer_reason = xstrdup("failure is not retryable");
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_NONE_AT_FAILURE);
    CHECK_STR_EQ(o.reason, "failure is not retryable");
    authz_offer_clear(&o);
    free(v.authz.no_offer_reason);
    v.authz.no_offer_reason = NULL;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_NONE_AT_FAILURE);
    CHECK_STR_EQ(o.reason, "no offer was made");
    authz_offer_clear(&o);
    v.authz.offer_made = true;

    /* Attempts used up (the policy may have been lowered since). */
    cfg.retry_attempts = 1;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_NO_ATTEMPTS);
    CHECK_STR_EQ(o.reason, "no attempts left");
    CHECK_INT_EQ(o.attempts_remaining, 0);
    authz_offer_clear(&o);
    cfg.retry_attempts = 3;

    /* Past the deadline: an invalid authorization stays invalid, the offer goes. */
    offer_for_authz(&cfg, &v, T0 + 3600, &o);
    CHECK_INT_EQ(o.state, OFFER_PAST_DEADLINE);
    CHECK_STR_EQ(o.reason, "the deadline has passed");
    authz_offer_clear(&o);
    offer_for_authz(&cfg, &v, T0 + 3599, &o);
    CHECK_INT_EQ(o.state, OFFER_OPEN);
    authz_offer_clear(&o);

    /* Policy now refuses the identifier (exact name on the blocklist). */
    strv_push(&cfg.blocklist, &cfg.nblocklist, "www.example.org");
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_POLICY_REFUSES);
    CHECK_STR_EQ(o.reason, "policy now refuses this identifier");
    authz_offer_clear(&o);
    strv_free(cfg.blocklist, cfg.nblocklist);
    cfg.blocklist = NULL;
    cfg.nblocklist = 0;

    /* Nothing left: every listed and reserve challenge is used. */
    for (size_t i = 0; i < v.nlisted; i++)
        v.listed[i].status = CHALL_INVALID;
    v.reserve[0].status = CHALL_INVALID;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_NOTHING_LEFT);
    CHECK_STR_EQ(o.reason, "nothing left to offer");
    CHECK_INT_EQ(o.nchoices, 0);
    authz_offer_clear(&o);
    /* A valid listed challenge is never a choice either. */
    v.listed[1].status = CHALL_VALID;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_NOTHING_LEFT);
    authz_offer_clear(&o);
    /* Only the fresh one left: open with that one choice. */
    v.reserve[0].status = CHALL_PENDING;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_OPEN);
    CHECK_INT_EQ(o.nchoices, 1);
    if (o.nchoices == 1)
        CHECK_STR_EQ(o.choices[0]->id, "az1-fh");
    authz_offer_clear(&o);

    authz_view_clear(&v);
    config_free(&cfg);
}

/* ---- the order --------------------------------------------------------- */

static void order_init(rec_order *o, const char *id, order_status st, invalid_reason why, time_t expires,
                       const char *const *authz_ids, size_t n)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->id, sizeof(o->id), "%s", id);
    snprintf(o->account_id, sizeof(o->account_id), "acct");
    o->status = st;
    o->invalid_reason = why;
    o->created = T0 - 60;
    o->expires = expires;
    for (size_t i = 0; i < n; i++)
        strv_push(&o->authz_ids, &o->nauthz, authz_ids[i]);
}

static void test_may_come_back(void)
{
    rec_order o;
    const char *ids[] = {"a1"};
    order_init(&o, "o1", ORDER_INVALID, INVALID_AUTHZ, T0 + 3600, ids, 1);
    CHECK(order_may_come_back(&o, T0));
    CHECK(order_may_come_back(&o, T0 + 3599));
    CHECK(!order_may_come_back(&o, T0 + 3600)); /* expired */
    o.invalid_reason = INVALID_EXPIRED;
    CHECK(!order_may_come_back(&o, T0));
    o.invalid_reason = INVALID_ISSUANCE;
    CHECK(!order_may_come_back(&o, T0));
    o.invalid_reason = INVALID_AUTHZ_FINAL;
    CHECK(!order_may_come_back(&o, T0));
    o.invalid_reason = INVALID_NONE;
    CHECK(!order_may_come_back(&o, T0));
    /* Only an invalid order comes back. */
    o.invalid_reason = INVALID_AUTHZ;
    const order_status others[] = {ORDER_PENDING, ORDER_READY, ORDER_PROCESSING, ORDER_VALID};
    for (size_t i = 0; i < 4; i++) {
        o.status = others[i];
        CHECK(!order_may_come_back(&o, T0));
    }
    rec_order_clear(&o);
}

static void test_for_order(void)
{
    server_config cfg;
    config_defaults(&cfg);
    authz_view views[3];
    order_offer oo;
    rec_order o;
    const char *ids[] = {"a1", "a2", "a3"};

    /* a1 failed later than a2: the order's notBefore is a2's (the earliest). */
    failed_view(&views[0], "a1", "one.example.org", T0 + 100);
    failed_view(&views[1], "a2", "two.example.org", T0);
    memset(&views[2], 0, sizeof(views[2]));
    authz_init(&views[2].authz, "a3", "three.example.org", AUTHZ_VALID, T0 + 86400);
    listed(&views[2], "a3-h", "http-01", CHALL_VALID);
    order_init(&o, "o1", ORDER_INVALID, INVALID_AUTHZ, T0 + 3600, ids, 3);

    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(oo.open);
    CHECK_INT_EQ(oo.nauthz, 2);
    if (oo.nauthz == 2) {
        CHECK_STR_EQ(oo.authz_ids[0], "a1");
        CHECK_STR_EQ(oo.authz_ids[1], "a2");
    }
    CHECK_INT_EQ(oo.not_before, T0 + 5);
    order_offer_clear(&oo);
    CHECK(oo.authz_ids == NULL);

    /* A still pending authorization does not stop the offer. */
    views[2].authz.status = AUTHZ_PENDING;
    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(oo.open);
    CHECK_INT_EQ(oo.nauthz, 2);
    order_offer_clear(&oo);

    /* One failed authorization without an open offer: no offer for the order. */
    views[1].authz.offer_made = false;
    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(!oo.open);
    CHECK_INT_EQ(oo.nauthz, 0);
    CHECK(oo.authz_ids == NULL);
    order_offer_clear(&oo);
    views[1].authz.offer_made = true;
    /* Same when its attempts are used up. */
    views[1].authz.attempts = 3;
    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(!oo.open);
    order_offer_clear(&oo);
    views[1].authz.attempts = 1;

    /* A deactivated, revoked or expired authorization: none. */
    views[2].authz.status = AUTHZ_DEACTIVATED;
    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(!oo.open);
    order_offer_clear(&oo);
    views[2].authz.status = AUTHZ_REVOKED;
    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(!oo.open);
    order_offer_clear(&oo);
    views[2].authz.status = AUTHZ_EXPIRED;
    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(!oo.open);
    order_offer_clear(&oo);
    /* Stored pending, but expired as of now. */
    views[2].authz.status = AUTHZ_PENDING;
    views[2].authz.expires = T0;
    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(!oo.open);
    order_offer_clear(&oo);
    views[2].authz.expires = T0 + 86400;
    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(oo.open);
    order_offer_clear(&oo);

    /* Invalid for another reason than its failed authorizations: none. */
    const invalid_reason whys[] = {INVALID_EXPIRED, INVALID_ISSUANCE, INVALID_AUTHZ_FINAL, INVALID_NONE};
    for (size_t i = 0; i < 4; i++) {
        o.invalid_reason = whys[i];
        offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
        CHECK(!oo.open);
        order_offer_clear(&oo);
    }
    o.invalid_reason = INVALID_AUTHZ;
    /* The order expired. */
    offer_for_order(&cfg, &o, views, 3, T0 + 3600, &oo);
    CHECK(!oo.open);
    order_offer_clear(&oo);
    /* The switch off. */
    cfg.retry_options = false;
    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(!oo.open);
    order_offer_clear(&oo);
    cfg.retry_options = true;
    /* Not every authorization of the order viewed. */
    offer_for_order(&cfg, &o, views, 2, T0 + 1, &oo);
    CHECK(!oo.open);
    order_offer_clear(&oo);
    /* No invalid authorization at all (nothing to re-enable): none. */
    views[0].authz.status = AUTHZ_VALID;
    views[1].authz.status = AUTHZ_PENDING;
    offer_for_order(&cfg, &o, views, 3, T0 + 1, &oo);
    CHECK(!oo.open);
    order_offer_clear(&oo);

    rec_order_clear(&o);
    for (size_t i = 0; i < 3; i++)
        authz_view_clear(&views[i]);
    config_free(&cfg);
}

int main(void)
{
    test_at_failure();
    test_not_before();
    test_fresh_types();
    test_for_authz();
    test_may_come_back();
    test_for_order();
    return testlib_finish();
}
