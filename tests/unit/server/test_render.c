/* What clients see (acme/render.c), parsed back with json_parse: the
 * "retry-options" member of an invalid authorization with an open offer
 * (draft-aro-acme-retry-options: url, challenges, notBefore, expires,
 * attemptsRemaining), its absence otherwise, the member on the failed
 * challenge only, the order's member (authorizations, notBefore), an
 * expired order, and an account. Records are built in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/render.h"
#include "json.h"
#include "strv.h"
#include "testlib.h"

#define T0 1700000000
#define BASE "https://ca.test:14000"

static yajl_val parse(char *doc)
{
    aro_err err;
    CHECK(doc != NULL);
    yajl_val v = doc ? json_parse(doc, strlen(doc), &err) : NULL;
    CHECK(v != NULL);
    if (doc && !v)
        fprintf(stderr, "not JSON (%s): %s\n", err.msg, doc);
    free(doc);
    return v;
}

static const char *rfc3339(time_t t)
{
    static char ts[4][32];
    static int i;
    i = (i + 1) % 4;
    time_format_rfc3339(t, ts[i]);
    return ts[i];
}

static size_t arr_len(yajl_val v) { return v && YAJL_IS_ARRAY(v) ? v->u.array.len : 0; }
static yajl_val arr_at(yajl_val v, size_t i) { return i < arr_len(v) ? v->u.array.values[i] : NULL; }
static long long int_member(yajl_val v, const char *key)
{
    yajl_val m = json_member(v, key);
    return m && YAJL_IS_INTEGER(m) ? YAJL_GET_INTEGER(m) : -12345;
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
    c->token = xasprintf("tok-%s", id);
    c->status = st;
    return c;
}

/* An invalid authorization after a failed http-01 at T0 with an offer:
 * dns-01 untried, a fresh http-01 in reserve. */
static void failed_view(authz_view *v)
{
    memset(v, 0, sizeof(*v));
    rec_authz *a = &v->authz;
    snprintf(a->id, sizeof(a->id), "AZ1");
    snprintf(a->account_id, sizeof(a->account_id), "acct");
    a->identifier.type = xstrdup("dns");
    a->identifier.value = xstrdup("www.example.org");
    a->status = AUTHZ_INVALID;
    a->created = T0 - 100;
    a->expires = T0 + 3600;
    a->attempts = 1;
    a->attempt_seq = 1;
    a->failures = xcalloc(1, sizeof(*a->failures));
    a->nfailures = 1;
    a->failures[0].at = T0;
    snprintf(a->failures[0].chall_type, sizeof(a->failures[0].chall_type), "http-01");
    snprintf(a->failures[0].problem_type, sizeof(a->failures[0].problem_type), "connection");
    a->failures[0].dns_negative_ttl = -1;
    a->offer_made = true;
    rec_chall *h = push_chall(&v->listed, &v->nlisted, "AZ1", "CH-HTTP", "http-01", CHALL_INVALID);
    h->error = problem_new("connection", 400, "connection refused");
    push_chall(&v->listed, &v->nlisted, "AZ1", "CH-DNS", "dns-01", CHALL_PENDING);
    push_chall(&v->reserve, &v->nreserve, "AZ1", "CH-FRESH", "http-01", CHALL_PENDING);
    for (size_t i = 0; i < v->nlisted; i++)
        strv_push(&a->chall_ids, &a->nchall, v->listed[i].id);
    strv_push(&a->offer_chall_ids, &a->noffer, "CH-FRESH");
}

static void check_offer_member(yajl_val ro)
{
    CHECK(ro != NULL && YAJL_IS_OBJECT(ro));
    CHECK_STR_EQ(json_str(ro, "url"), BASE "/acme/authz/AZ1/retry");
    /* Two types listed at creation allow two attempts (draft "Zombies"),
     * within the default 3; one is used. */
    CHECK_INT_EQ(int_member(ro, "attemptsRemaining"), 1);
    CHECK_STR_EQ(json_str(ro, "notBefore"), rfc3339(T0 + 5));
    CHECK_STR_EQ(json_str(ro, "expires"), rfc3339(T0 + 3600));
    CHECK_STR_EQ(json_str(ro, "notBefore"), "2023-11-14T22:13:25Z"); /* RFC 3339, UTC */
    yajl_val chs = json_member(ro, "challenges");
    CHECK_INT_EQ(arr_len(chs), 2);
    const char *want_id[] = {"CH-DNS", "CH-FRESH"};
    const char *want_type[] = {"dns-01", "http-01"};
    for (size_t i = 0; i < 2 && i < arr_len(chs); i++) {
        yajl_val c = arr_at(chs, i);
        char *url = xasprintf(BASE "/acme/chall/%s", want_id[i]);
        char *tok = xasprintf("tok-%s", want_id[i]);
        CHECK_STR_EQ(json_str(c, "url"), url);
        CHECK_STR_EQ(json_str(c, "type"), want_type[i]);
        CHECK_STR_EQ(json_str(c, "token"), tok);
        CHECK_STR_EQ(json_str(c, "status"), "pending");
        CHECK(json_member(c, "error") == NULL);
        CHECK(json_member(c, "retry-options") == NULL);
        free(url);
        free(tok);
    }
    /* The order-only member never appears on an authorization's offer. */
    CHECK(json_member(ro, "authorizations") == NULL);
}

static void test_authz_with_offer(void)
{
    server_config cfg;
    config_defaults(&cfg);
    authz_view v;
    failed_view(&v);
    authz_offer o;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    CHECK_INT_EQ(o.state, OFFER_OPEN);

    yajl_val j = parse(render_authz(BASE, &v, &o, T0 + 1));
    CHECK_STR_EQ(json_str(j, "status"), "invalid");
    CHECK_STR_EQ(json_str(j, "expires"), rfc3339(T0 + 3600));
    yajl_val id = json_member(j, "identifier");
    CHECK_STR_EQ(json_str(id, "type"), "dns");
    CHECK_STR_EQ(json_str(id, "value"), "www.example.org");
    CHECK(json_member(j, "wildcard") == NULL);
    /* "challenges": the listed ones only, the failed one with its error. */
    yajl_val chs = json_member(j, "challenges");
    CHECK_INT_EQ(arr_len(chs), 2);
    yajl_val h = arr_at(chs, 0);
    CHECK_STR_EQ(json_str(h, "url"), BASE "/acme/chall/CH-HTTP");
    CHECK_STR_EQ(json_str(h, "status"), "invalid");
    CHECK_STR_EQ(json_str(json_member(h, "error"), "type"), ACME_ERR("connection"));
    CHECK_STR_EQ(json_str(json_member(h, "error"), "detail"), "connection refused");
    CHECK(json_member(h, "retry-options") == NULL); /* inside an authorization, once is enough */
    CHECK_STR_EQ(json_str(arr_at(chs, 1), "status"), "pending");
    check_offer_member(json_member(j, "retry-options"));
    json_free(j);

    /* The failed challenge, rendered on its own, carries the same offer. */
    j = parse(render_challenge(BASE, &v.listed[0], &o));
    CHECK_STR_EQ(json_str(j, "status"), "invalid");
    CHECK_STR_EQ(json_str(j, "type"), "http-01");
    CHECK_STR_EQ(json_str(j, "token"), "tok-CH-HTTP");
    CHECK(json_member(j, "error") != NULL);
    check_offer_member(json_member(j, "retry-options"));
    json_free(j);
    /* A pending one never (it is a choice, not the failure). */
    j = parse(render_challenge(BASE, &v.listed[1], &o));
    CHECK_STR_EQ(json_str(j, "status"), "pending");
    CHECK(json_member(j, "retry-options") == NULL);
    json_free(j);
    /* A valid one never, whatever offer is passed. */
    v.listed[1].status = CHALL_VALID;
    v.listed[1].validated = T0 + 2;
    j = parse(render_challenge(BASE, &v.listed[1], &o));
    CHECK_STR_EQ(json_str(j, "status"), "valid");
    CHECK_STR_EQ(json_str(j, "validated"), rfc3339(T0 + 2));
    CHECK(json_member(j, "retry-options") == NULL);
    json_free(j);
    v.listed[1].status = CHALL_PENDING;
    v.listed[1].validated = 0;
    /* The failed challenge without an offer: no member. */
    j = parse(render_challenge(BASE, &v.listed[0], NULL));
    CHECK(json_member(j, "retry-options") == NULL);
    CHECK(json_member(j, "error") != NULL);
    json_free(j);
    authz_offer_clear(&o);

    /* Past the offer's deadline: no member (and no member on the challenge). */
    offer_for_authz(&cfg, &v, T0 + 3600, &o);
    CHECK(o.state != OFFER_OPEN);
    j = parse(render_authz(BASE, &v, &o, T0 + 3600));
    CHECK_STR_EQ(json_str(j, "status"), "invalid");
    CHECK(json_member(j, "retry-options") == NULL);
    json_free(j);
    j = parse(render_challenge(BASE, &v.listed[0], &o));
    CHECK(json_member(j, "retry-options") == NULL);
    json_free(j);
    authz_offer_clear(&o);

    /* No offer made at the failure; the switch off; no offer passed: none. */
    v.authz.offer_made = false;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    j = parse(render_authz(BASE, &v, &o, T0 + 1));
    CHECK(json_member(j, "retry-options") == NULL);
    json_free(j);
    authz_offer_clear(&o);
    v.authz.offer_made = true;
    cfg.retry_options = false;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    j = parse(render_authz(BASE, &v, &o, T0 + 1));
    CHECK(json_member(j, "retry-options") == NULL);
    json_free(j);
    authz_offer_clear(&o);
    cfg.retry_options = true;
    j = parse(render_authz(BASE, &v, NULL, T0 + 1));
    CHECK(json_member(j, "retry-options") == NULL);
    CHECK_INT_EQ(arr_len(json_member(j, "challenges")), 2);
    json_free(j);

    authz_view_clear(&v);
    config_free(&cfg);
}

static void test_authz_statuses(void)
{
    server_config cfg;
    config_defaults(&cfg);
    authz_view v;
    failed_view(&v);
    /* A pending authorization (re-enabled) never shows the member. */
    v.authz.status = AUTHZ_PENDING;
    authz_offer o;
    offer_for_authz(&cfg, &v, T0 + 1, &o);
    yajl_val j = parse(render_authz(BASE, &v, &o, T0 + 1));
    CHECK_STR_EQ(json_str(j, "status"), "pending");
    CHECK(json_member(j, "retry-options") == NULL);
    json_free(j);
    authz_offer_clear(&o);
    /* Stored pending, past its expiry: rendered expired. */
    j = parse(render_authz(BASE, &v, NULL, T0 + 3600));
    CHECK_STR_EQ(json_str(j, "status"), "expired");
    json_free(j);
    /* A wildcard says so (7.1.4). */
    v.authz.wildcard = true;
    v.authz.status = AUTHZ_VALID;
    j = parse(render_authz(BASE, &v, NULL, T0 + 1));
    CHECK_STR_EQ(json_str(j, "status"), "valid");
    yajl_val w = json_member(j, "wildcard");
    CHECK(w != NULL && YAJL_IS_TRUE(w));
    json_free(j);
    authz_view_clear(&v);
    config_free(&cfg);
}

static void order_init(rec_order *o, order_status st, invalid_reason why)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->id, sizeof(o->id), "OR1");
    snprintf(o->account_id, sizeof(o->account_id), "acct");
    o->status = st;
    o->invalid_reason = why;
    o->created = T0 - 100;
    o->expires = T0 + 3600;
    o->identifiers = xcalloc(2, sizeof(*o->identifiers));
    o->identifiers[0].type = xstrdup("dns");
    o->identifiers[0].value = xstrdup("www.example.org");
    o->identifiers[1].type = xstrdup("dns");
    o->identifiers[1].value = xstrdup("example.org");
    o->nidentifiers = 2;
    strv_push(&o->authz_ids, &o->nauthz, "AZ1");
    strv_push(&o->authz_ids, &o->nauthz, "AZ2");
}

static void test_order(void)
{
    rec_order o;
    order_init(&o, ORDER_INVALID, INVALID_AUTHZ);
    o.error = problem_new("connection", 0, "authorization for www.example.org failed");
    problem_add_sub(o.error, ACME_ERR("connection"), "dns", "www.example.org", "connection refused");
    order_offer oo = {0};
    oo.open = true;
    oo.authz_ids = xcalloc(1, sizeof(*oo.authz_ids));
    oo.authz_ids[0] = "AZ1";
    oo.nauthz = 1;
    oo.not_before = T0 + 5;

    yajl_val j = parse(render_order(BASE, &o, &oo, T0 + 1));
    CHECK_STR_EQ(json_str(j, "status"), "invalid");
    CHECK_STR_EQ(json_str(j, "expires"), rfc3339(T0 + 3600));
    CHECK_INT_EQ(arr_len(json_member(j, "identifiers")), 2);
    yajl_val auths = json_member(j, "authorizations");
    CHECK_INT_EQ(arr_len(auths), 2);
    if (arr_len(auths) == 2) {
        CHECK(YAJL_IS_STRING(arr_at(auths, 0)));
        CHECK_STR_EQ(YAJL_GET_STRING(arr_at(auths, 0)), BASE "/acme/authz/AZ1");
        CHECK_STR_EQ(YAJL_GET_STRING(arr_at(auths, 1)), BASE "/acme/authz/AZ2");
    }
    CHECK_STR_EQ(json_str(j, "finalize"), BASE "/acme/order/OR1/finalize");
    CHECK(json_member(j, "certificate") == NULL);
    /* The error is unchanged while invalid (the draft). */
    yajl_val err = json_member(j, "error");
    CHECK_STR_EQ(json_str(err, "type"), ACME_ERR("connection"));
    CHECK_STR_EQ(json_str(err, "detail"), "authorization for www.example.org failed");
    yajl_val sub = arr_at(json_member(err, "subproblems"), 0);
    CHECK_STR_EQ(json_str(json_member(sub, "identifier"), "value"), "www.example.org");
    /* The order's retry-options: authorizations and notBefore only. */
    yajl_val ro = json_member(j, "retry-options");
    CHECK(ro != NULL && YAJL_IS_OBJECT(ro));
    yajl_val ra = json_member(ro, "authorizations");
    CHECK_INT_EQ(arr_len(ra), 1);
    if (arr_len(ra) == 1)
        CHECK_STR_EQ(YAJL_GET_STRING(arr_at(ra, 0)), BASE "/acme/authz/AZ1");
    CHECK_STR_EQ(json_str(ro, "notBefore"), rfc3339(T0 + 5));
    CHECK(json_member(ro, "url") == NULL);
    CHECK(json_member(ro, "challenges") == NULL);
    CHECK(json_member(ro, "attemptsRemaining") == NULL);
    CHECK(json_member(ro, "expires") == NULL);
    json_free(j);

    /* Without an open order offer: no member. */
    oo.open = false;
    j = parse(render_order(BASE, &o, &oo, T0 + 1));
    CHECK(json_member(j, "retry-options") == NULL);
    json_free(j);
    j = parse(render_order(BASE, &o, NULL, T0 + 1));
    CHECK(json_member(j, "retry-options") == NULL);
    CHECK_STR_EQ(json_str(json_member(j, "error"), "detail"), "authorization for www.example.org failed");
    json_free(j);
    free(oo.authz_ids);
    rec_order_clear(&o);

    /* A pending order past its expiry: invalid, "order expired". */
    order_init(&o, ORDER_PENDING, INVALID_NONE);
    j = parse(render_order(BASE, &o, NULL, T0 + 1));
    CHECK_STR_EQ(json_str(j, "status"), "pending");
    CHECK(json_member(j, "error") == NULL);
    json_free(j);
    j = parse(render_order(BASE, &o, NULL, T0 + 3600));
    CHECK_STR_EQ(json_str(j, "status"), "invalid");
    err = json_member(j, "error");
    CHECK(err != NULL);
    CHECK_STR_EQ(json_str(err, "detail"), "order expired");
    CHECK(json_str(err, "type") != NULL);
    json_free(j);
    /* A ready one too. */
    o.status = ORDER_READY;
    j = parse(render_order(BASE, &o, NULL, T0 + 4000));
    CHECK_STR_EQ(json_str(j, "status"), "invalid");
    CHECK_STR_EQ(json_str(json_member(j, "error"), "detail"), "order expired");
    json_free(j);
    /* A processing order finishes its issuance: not expired. */
    o.status = ORDER_PROCESSING;
    j = parse(render_order(BASE, &o, NULL, T0 + 4000));
    CHECK_STR_EQ(json_str(j, "status"), "processing");
    CHECK(json_member(j, "error") == NULL);
    json_free(j);
    /* Valid: the certificate URL, also past the order's expiry. */
    o.status = ORDER_VALID;
    o.cert_serial = xstrdup("0bcd");
    o.profile = xstrdup("shortlived");
    o.replaces = xstrdup("ari.id");
    o.not_before = xstrdup("2025-03-01T00:00:00Z");
    j = parse(render_order(BASE, &o, NULL, T0 + 4000));
    CHECK_STR_EQ(json_str(j, "status"), "valid");
    CHECK_STR_EQ(json_str(j, "certificate"), BASE "/acme/cert/0bcd");
    CHECK_STR_EQ(json_str(j, "profile"), "shortlived");
    CHECK_STR_EQ(json_str(j, "replaces"), "ari.id");
    CHECK_STR_EQ(json_str(j, "notBefore"), "2025-03-01T00:00:00Z");
    CHECK(json_member(j, "error") == NULL);
    json_free(j);
    rec_order_clear(&o);
}

static void test_account(void)
{
    rec_account a = {0};
    snprintf(a.id, sizeof(a.id), "AC1");
    a.thumbprint = xstrdup("tp");
    a.jwk = xstrdup("{}");
    a.status = ACCOUNT_VALID;
    strv_push(&a.contact, &a.ncontact, "mailto:admin@example.org");
    strv_push(&a.contact, &a.ncontact, "mailto:ops@example.org");
    a.tos_agreed = true;
    yajl_val j = parse(render_account(BASE, &a));
    CHECK_STR_EQ(json_str(j, "status"), "valid");
    yajl_val c = json_member(j, "contact");
    CHECK_INT_EQ(arr_len(c), 2);
    if (arr_len(c) == 2) {
        CHECK_STR_EQ(YAJL_GET_STRING(arr_at(c, 0)), "mailto:admin@example.org");
        CHECK_STR_EQ(YAJL_GET_STRING(arr_at(c, 1)), "mailto:ops@example.org");
    }
    CHECK_STR_EQ(json_str(j, "orders"), BASE "/acme/acct/AC1/orders");
    yajl_val tos = json_member(j, "termsOfServiceAgreed");
    CHECK(tos != NULL && YAJL_IS_TRUE(tos));
    CHECK(json_member(j, "jwk") == NULL); /* the key is not part of the account object here */
    json_free(j);

    a.status = ACCOUNT_DEACTIVATED;
    strv_free(a.contact, a.ncontact);
    a.contact = NULL;
    a.ncontact = 0;
    j = parse(render_account(BASE, &a));
    CHECK_STR_EQ(json_str(j, "status"), "deactivated");
    CHECK(json_member(j, "contact") == NULL);
    json_free(j);
    rec_account_clear(&a);
}

int main(void)
{
    test_authz_with_offer();
    test_authz_statuses();
    test_order();
    test_account();
    return testlib_finish();
}
