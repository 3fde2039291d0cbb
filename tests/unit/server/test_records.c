/* The record codecs (store/records.c): every record type round-trips with
 * every field set; unknown members are ignored and missing ones take
 * their zero value (records gain fields without a migration); a status
 * the state module does not know decodes to the closed fallback (the
 * record is not usable: deactivated account, invalid order, authorization
 * and challenge), as does a missing status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "store/records.h"
#include "strv.h"
#include "testlib.h"

#define T0 1700000000

/* The document with extra members no version of aro writes, inserted
 * right after its opening brace. */
static char *with_unknown_members(const char *doc)
{
    CHECK(doc && doc[0] == '{');
    return xasprintf("{\"zzFuture\":{\"nested\":[1,2,{\"deep\":null}]},\"alsoNew\":true,\"n\":1.5,%s", doc + 1);
}

/* Decoding doc with dec, then encoding again with enc, gives doc back. */
#define CHECK_REENCODES(rec_t, dec, enc, clear, doc)                      \
    do {                                                                  \
        rec_t r2_;                                                        \
        CHECK_INT_EQ(dec((doc), strlen(doc), &r2_), 0);                   \
        char *again_ = enc(&r2_);                                         \
        CHECK_STR_EQ(again_, (doc));                                      \
        free(again_);                                                     \
        clear(&r2_);                                                      \
    } while (0)

static acme_problem *full_problem(void)
{
    acme_problem *p = problem_new("rejectedIdentifier", 400, "2 identifiers were refused");
    p->identifier.type = xstrdup("dns");
    p->identifier.value = xstrdup("top.example.org");
    problem_add_sub(p, "rejectedIdentifier", "dns", "bad_name.example.org", "not a valid DNS name");
    problem_add_sub(p, "malformed", "ip", "300.1.1.1", "not an IP address");
    return p;
}

static void check_full_problem(const acme_problem *p)
{
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_STR_EQ(p->type, ACME_ERR("rejectedIdentifier"));
    CHECK_STR_EQ(p->detail, "2 identifiers were refused");
    CHECK_INT_EQ(p->status, 400);
    CHECK_STR_EQ(p->identifier.type, "dns");
    CHECK_STR_EQ(p->identifier.value, "top.example.org");
    CHECK_INT_EQ(p->nsub, 2);
    if (p->nsub != 2)
        return;
    CHECK_STR_EQ(p->subproblems[0].type, ACME_ERR("rejectedIdentifier"));
    CHECK_STR_EQ(p->subproblems[0].detail, "not a valid DNS name");
    CHECK_STR_EQ(p->subproblems[0].identifier.type, "dns");
    CHECK_STR_EQ(p->subproblems[0].identifier.value, "bad_name.example.org");
    CHECK_STR_EQ(p->subproblems[1].type, ACME_ERR("malformed"));
    CHECK_STR_EQ(p->subproblems[1].identifier.type, "ip");
    CHECK_STR_EQ(p->subproblems[1].identifier.value, "300.1.1.1");
}

/* ---- account ----------------------------------------------------------- */

static void test_account(void)
{
    rec_account a = {0};
    snprintf(a.id, sizeof(a.id), "acct-abcdefghijklmnop");
    a.thumbprint = xstrdup("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    a.jwk = xstrdup("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"f83\",\"y\":\"x_F\"}");
    a.status = ACCOUNT_REVOKED;
    strv_push(&a.contact, &a.ncontact, "mailto:admin@example.org");
    strv_push(&a.contact, &a.ncontact, "mailto:ops@example.org");
    a.tos_agreed = true;
    a.eab_kid = xstrdup("kid-1");
    a.created = T0;

    char *doc = rec_account_to_json(&a);
    CHECK(doc != NULL);
    rec_account b;
    CHECK_INT_EQ(rec_account_from_json(doc, strlen(doc), &b), 0);
    CHECK_STR_EQ(b.id, a.id);
    CHECK_STR_EQ(b.thumbprint, a.thumbprint);
    CHECK_STR_EQ(b.jwk, a.jwk);
    CHECK_INT_EQ(b.status, ACCOUNT_REVOKED);
    CHECK_INT_EQ(b.ncontact, 2);
    if (b.ncontact == 2) {
        CHECK_STR_EQ(b.contact[0], "mailto:admin@example.org");
        CHECK_STR_EQ(b.contact[1], "mailto:ops@example.org");
    }
    CHECK(b.tos_agreed);
    CHECK_STR_EQ(b.eab_kid, "kid-1");
    CHECK_INT_EQ(b.created, T0);
    rec_account_clear(&b);
    CHECK(b.thumbprint == NULL && b.contact == NULL && b.ncontact == 0);
    CHECK_REENCODES(rec_account, rec_account_from_json, rec_account_to_json, rec_account_clear, doc);

    /* Unknown members are ignored. */
    char *ext = with_unknown_members(doc);
    rec_account c;
    CHECK_INT_EQ(rec_account_from_json(ext, strlen(ext), &c), 0);
    char *again = rec_account_to_json(&c);
    CHECK_STR_EQ(again, doc);
    free(again);
    rec_account_clear(&c);
    free(ext);

    /* Every status name survives. */
    for (int s = 0; s < ACCOUNT__COUNT; s++) {
        a.status = (account_status)s;
        char *d = rec_account_to_json(&a);
        CHECK_INT_EQ(rec_account_from_json(d, strlen(d), &c), 0);
        CHECK_INT_EQ(c.status, s);
        rec_account_clear(&c);
        free(d);
    }

    /* Missing members: zero values; an unknown or missing status: deactivated. */
    const char *empty = "{}";
    CHECK_INT_EQ(rec_account_from_json(empty, 2, &c), 0);
    CHECK_STR_EQ(c.id, "");
    CHECK(c.thumbprint == NULL && c.jwk == NULL && c.eab_kid == NULL);
    CHECK(c.contact == NULL && c.ncontact == 0);
    CHECK(!c.tos_agreed);
    CHECK_INT_EQ(c.created, 0);
    CHECK_INT_EQ(c.status, ACCOUNT_DEACTIVATED);
    rec_account_clear(&c);
    const char *unknown = "{\"id\":\"acct-x\",\"status\":\"suspended\"}";
    CHECK_INT_EQ(rec_account_from_json(unknown, strlen(unknown), &c), 0);
    CHECK_STR_EQ(c.id, "acct-x");
    CHECK_INT_EQ(c.status, ACCOUNT_DEACTIVATED);
    rec_account_clear(&c);

    /* Not JSON: refused. */
    CHECK_INT_EQ(rec_account_from_json("{\"id\":", 6, &c), -1);
    /* A member of the wrong type is taken as missing. */
    const char *wrong = "{\"id\":5,\"thumbprint\":[],\"created\":\"yesterday\",\"contact\":\"mailto:a@b.c\",\"tos\":1}";
    CHECK_INT_EQ(rec_account_from_json(wrong, strlen(wrong), &c), 0);
    CHECK_STR_EQ(c.id, "");
    CHECK(c.thumbprint == NULL);
    CHECK_INT_EQ(c.created, 0);
    CHECK_INT_EQ(c.ncontact, 0);
    CHECK(!c.tos_agreed);
    rec_account_clear(&c);
    /* An id too long for the record: dropped, never overflowing. */
    const char *longid = "{\"id\":\"0123456789012345678901234567890123456789\"}";
    CHECK_INT_EQ(rec_account_from_json(longid, strlen(longid), &c), 0);
    CHECK_STR_EQ(c.id, "");
    rec_account_clear(&c);

    free(doc);
    rec_account_clear(&a);
}

/* ---- order ------------------------------------------------------------- */

static void test_order(void)
{
    rec_order o = {0};
    snprintf(o.id, sizeof(o.id), "order-0123456789");
    snprintf(o.account_id, sizeof(o.account_id), "acct-1");
    o.status = ORDER_PROCESSING;
    o.invalid_reason = INVALID_AUTHZ_FINAL;
    o.created = T0;
    o.expires = T0 + 3600;
    o.identifiers = xcalloc(2, sizeof(*o.identifiers));
    o.identifiers[0].type = xstrdup("dns");
    o.identifiers[0].value = xstrdup("*.example.org");
    o.identifiers[1].type = xstrdup("ip");
    o.identifiers[1].value = xstrdup("2001:db8::1");
    o.nidentifiers = 2;
    o.not_before = xstrdup("2025-03-01T00:00:00Z");
    o.not_after = xstrdup("2025-03-08T00:00:00Z");
    strv_push(&o.authz_ids, &o.nauthz, "authz-1");
    strv_push(&o.authz_ids, &o.nauthz, "authz-2");
    o.profile = xstrdup("shortlived");
    o.replaces = xstrdup("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    o.error = full_problem();
    o.cert_serial = xstrdup("0a1b2c");
    o.finalize_at = T0 + 60;
    o.csr = xstrdup("MIIBQzCB6gIBADA");

    char *doc = rec_order_to_json(&o);
    CHECK(doc != NULL);
    rec_order b;
    CHECK_INT_EQ(rec_order_from_json(doc, strlen(doc), &b), 0);
    CHECK_STR_EQ(b.id, o.id);
    CHECK_STR_EQ(b.account_id, "acct-1");
    CHECK_INT_EQ(b.status, ORDER_PROCESSING);
    CHECK_INT_EQ(b.invalid_reason, INVALID_AUTHZ_FINAL);
    CHECK_INT_EQ(b.created, T0);
    CHECK_INT_EQ(b.expires, T0 + 3600);
    CHECK_INT_EQ(b.nidentifiers, 2);
    if (b.nidentifiers == 2) {
        CHECK_STR_EQ(b.identifiers[0].type, "dns");
        CHECK_STR_EQ(b.identifiers[0].value, "*.example.org");
        CHECK_STR_EQ(b.identifiers[1].type, "ip");
        CHECK_STR_EQ(b.identifiers[1].value, "2001:db8::1");
    }
    CHECK_STR_EQ(b.not_before, "2025-03-01T00:00:00Z");
    CHECK_STR_EQ(b.not_after, "2025-03-08T00:00:00Z");
    CHECK_INT_EQ(b.nauthz, 2);
    if (b.nauthz == 2) {
        CHECK_STR_EQ(b.authz_ids[0], "authz-1");
        CHECK_STR_EQ(b.authz_ids[1], "authz-2");
    }
    CHECK_STR_EQ(b.profile, "shortlived");
    CHECK_STR_EQ(b.replaces, o.replaces);
    check_full_problem(b.error);
    CHECK_STR_EQ(b.cert_serial, "0a1b2c");
    CHECK_INT_EQ(b.finalize_at, T0 + 60);
    CHECK_STR_EQ(b.csr, "MIIBQzCB6gIBADA");
    rec_order_clear(&b);
    CHECK_REENCODES(rec_order, rec_order_from_json, rec_order_to_json, rec_order_clear, doc);

    char *ext = with_unknown_members(doc);
    CHECK_INT_EQ(rec_order_from_json(ext, strlen(ext), &b), 0);
    char *again = rec_order_to_json(&b);
    CHECK_STR_EQ(again, doc);
    free(again);
    rec_order_clear(&b);
    free(ext);

    const invalid_reason reasons[] = {INVALID_NONE, INVALID_AUTHZ, INVALID_EXPIRED, INVALID_ISSUANCE,
                                      INVALID_AUTHZ_FINAL};
    for (int s = 0; s < ORDER__COUNT; s++) {
        o.status = (order_status)s;
        o.invalid_reason = reasons[s % 5];
        char *d = rec_order_to_json(&o);
        CHECK_INT_EQ(rec_order_from_json(d, strlen(d), &b), 0);
        CHECK_INT_EQ(b.status, s);
        CHECK_INT_EQ(b.invalid_reason, reasons[s % 5]);
        rec_order_clear(&b);
        free(d);
    }

    CHECK_INT_EQ(rec_order_from_json("{}", 2, &b), 0);
    CHECK_STR_EQ(b.id, "");
    CHECK_STR_EQ(b.account_id, "");
    CHECK_INT_EQ(b.invalid_reason, INVALID_NONE);
    CHECK_INT_EQ(b.created, 0);
    CHECK_INT_EQ(b.expires, 0);
    CHECK(b.identifiers == NULL && b.nidentifiers == 0);
    CHECK(b.authz_ids == NULL && b.nauthz == 0);
    CHECK(b.not_before == NULL && b.not_after == NULL && b.profile == NULL && b.replaces == NULL);
    CHECK(b.error == NULL && b.cert_serial == NULL && b.csr == NULL);
    CHECK_INT_EQ(b.finalize_at, 0);
    CHECK_INT_EQ(b.status, ORDER_INVALID);
    rec_order_clear(&b);
    const char *unknown = "{\"id\":\"o\",\"status\":\"archived\"}";
    CHECK_INT_EQ(rec_order_from_json(unknown, strlen(unknown), &b), 0);
    CHECK_INT_EQ(b.status, ORDER_INVALID);
    rec_order_clear(&b);
    /* An error that is not a problem document (no "type") is no error. */
    const char *noerr = "{\"status\":\"pending\",\"error\":{\"detail\":\"x\"}}";
    CHECK_INT_EQ(rec_order_from_json(noerr, strlen(noerr), &b), 0);
    CHECK(b.error == NULL);
    CHECK_INT_EQ(b.status, ORDER_PENDING);
    rec_order_clear(&b);
    CHECK_INT_EQ(rec_order_from_json("not json", 8, &b), -1);

    free(doc);
    rec_order_clear(&o);
}

/* ---- authorization ----------------------------------------------------- */

static void test_authz(void)
{
    rec_authz a = {0};
    snprintf(a.id, sizeof(a.id), "authz-0123456789");
    snprintf(a.account_id, sizeof(a.account_id), "acct-1");
    a.status = AUTHZ_VALID;
    a.identifier.type = xstrdup("dns");
    a.identifier.value = xstrdup("example.org");
    a.wildcard = true;
    a.created = T0;
    a.expires = T0 + 86400;
    strv_push(&a.chall_ids, &a.nchall, "chall-1");
    strv_push(&a.chall_ids, &a.nchall, "chall-2");
    strv_push(&a.chall_ids, &a.nchall, "chall-3");
    a.attempts = 2;
    a.attempt_seq = 5;
    snprintf(a.active_chall_id, sizeof(a.active_chall_id), "chall-3");
    a.failures = xcalloc(2, sizeof(*a.failures));
    a.nfailures = 2;
    a.failures[0].at = T0 + 10;
    snprintf(a.failures[0].chall_type, sizeof(a.failures[0].chall_type), "http-01");
    snprintf(a.failures[0].problem_type, sizeof(a.failures[0].problem_type), "connection");
    a.failures[0].dns_negative_ttl = -1;
    a.failures[1].at = T0 + 20;
    snprintf(a.failures[1].chall_type, sizeof(a.failures[1].chall_type), "dns-01");
    snprintf(a.failures[1].problem_type, sizeof(a.failures[1].problem_type), "unauthorized");
    a.failures[1].dns_negative_ttl = 300;
    a.offer_made = true;
    a.no_offer_reason = xstrdup("no attempts left");
    strv_push(&a.offer_chall_ids, &a.noffer, "chall-fresh");
    strv_push(&a.legacy_order_ids, &a.nlegacy_orders, "order-old-1");
    strv_push(&a.legacy_order_ids, &a.nlegacy_orders, "order-old-2");

    char *doc = rec_authz_to_json(&a);
    CHECK(doc != NULL);
    rec_authz b;
    CHECK_INT_EQ(rec_authz_from_json(doc, strlen(doc), &b), 0);
    CHECK_STR_EQ(b.id, a.id);
    CHECK_STR_EQ(b.account_id, "acct-1");
    CHECK_INT_EQ(b.status, AUTHZ_VALID);
    CHECK_STR_EQ(b.identifier.type, "dns");
    CHECK_STR_EQ(b.identifier.value, "example.org");
    CHECK(b.wildcard);
    CHECK_INT_EQ(b.created, T0);
    CHECK_INT_EQ(b.expires, T0 + 86400);
    CHECK_INT_EQ(b.nchall, 3);
    if (b.nchall == 3)
        CHECK_STR_EQ(b.chall_ids[2], "chall-3");
    CHECK_INT_EQ(b.attempts, 2);
    CHECK_INT_EQ(b.attempt_seq, 5);
    CHECK_STR_EQ(b.active_chall_id, "chall-3");
    CHECK_INT_EQ(b.nfailures, 2);
    if (b.nfailures == 2) {
        CHECK_INT_EQ(b.failures[0].at, T0 + 10);
        CHECK_STR_EQ(b.failures[0].chall_type, "http-01");
        CHECK_STR_EQ(b.failures[0].problem_type, "connection");
        CHECK_INT_EQ(b.failures[0].dns_negative_ttl, -1);
        CHECK_INT_EQ(b.failures[1].at, T0 + 20);
        CHECK_STR_EQ(b.failures[1].chall_type, "dns-01");
        CHECK_STR_EQ(b.failures[1].problem_type, "unauthorized");
        CHECK_INT_EQ(b.failures[1].dns_negative_ttl, 300);
    }
    CHECK(b.offer_made);
    CHECK_STR_EQ(b.no_offer_reason, "no attempts left");
    CHECK_INT_EQ(b.noffer, 1);
    if (b.noffer == 1)
        CHECK_STR_EQ(b.offer_chall_ids[0], "chall-fresh");
    CHECK_INT_EQ(b.nlegacy_orders, 2);
    if (b.nlegacy_orders == 2) {
        CHECK_STR_EQ(b.legacy_order_ids[0], "order-old-1");
        CHECK_STR_EQ(b.legacy_order_ids[1], "order-old-2");
    }
    rec_authz_clear(&b);
    CHECK_REENCODES(rec_authz, rec_authz_from_json, rec_authz_to_json, rec_authz_clear, doc);

    char *ext = with_unknown_members(doc);
    CHECK_INT_EQ(rec_authz_from_json(ext, strlen(ext), &b), 0);
    char *again = rec_authz_to_json(&b);
    CHECK_STR_EQ(again, doc);
    free(again);
    rec_authz_clear(&b);
    free(ext);

    for (int s = 0; s < AUTHZ__COUNT; s++) {
        a.status = (authz_status)s;
        char *d = rec_authz_to_json(&a);
        CHECK_INT_EQ(rec_authz_from_json(d, strlen(d), &b), 0);
        CHECK_INT_EQ(b.status, s);
        rec_authz_clear(&b);
        free(d);
    }

    /* Legacy order ids are never written when there are none. */
    strv_free(a.legacy_order_ids, a.nlegacy_orders);
    a.legacy_order_ids = NULL;
    a.nlegacy_orders = 0;
    char *d = rec_authz_to_json(&a);
    aro_err err;
    yajl_val v = json_parse(d, strlen(d), &err);
    CHECK(v != NULL);
    CHECK(json_member(v, "orders") == NULL);
    json_free(v);
    free(d);

    CHECK_INT_EQ(rec_authz_from_json("{}", 2, &b), 0);
    CHECK_STR_EQ(b.id, "");
    CHECK(b.identifier.type == NULL && b.identifier.value == NULL);
    CHECK(!b.wildcard);
    CHECK(b.chall_ids == NULL && b.nchall == 0);
    CHECK_INT_EQ(b.attempts, 0);
    CHECK_INT_EQ(b.attempt_seq, 0);
    CHECK_STR_EQ(b.active_chall_id, "");
    CHECK(b.failures == NULL && b.nfailures == 0);
    CHECK(!b.offer_made);
    CHECK(b.no_offer_reason == NULL);
    CHECK(b.offer_chall_ids == NULL && b.noffer == 0);
    CHECK(b.legacy_order_ids == NULL && b.nlegacy_orders == 0);
    CHECK_INT_EQ(b.status, AUTHZ_INVALID);
    rec_authz_clear(&b);
    /* A failure written before it had a TTL: zero, i.e. no TTL to wait out. */
    const char *old = "{\"status\":\"invalid\",\"failures\":[{\"at\":5,\"type\":\"dns-01\"}]}";
    CHECK_INT_EQ(rec_authz_from_json(old, strlen(old), &b), 0);
    CHECK_INT_EQ(b.nfailures, 1);
    if (b.nfailures == 1) {
        CHECK_INT_EQ(b.failures[0].at, 5);
        CHECK_STR_EQ(b.failures[0].chall_type, "dns-01");
        CHECK_STR_EQ(b.failures[0].problem_type, "");
        CHECK_INT_EQ(b.failures[0].dns_negative_ttl, 0);
    }
    rec_authz_clear(&b);
    const char *unknown = "{\"status\":\"on-hold\"}";
    CHECK_INT_EQ(rec_authz_from_json(unknown, strlen(unknown), &b), 0);
    CHECK_INT_EQ(b.status, AUTHZ_INVALID);
    rec_authz_clear(&b);

    free(doc);
    rec_authz_clear(&a);
}

/* ---- challenge --------------------------------------------------------- */

static void test_chall(void)
{
    rec_chall c = {0};
    snprintf(c.id, sizeof(c.id), "chall-0123456789");
    snprintf(c.authz_id, sizeof(c.authz_id), "authz-1");
    c.type = xstrdup("tls-alpn-01");
    c.status = CHALL_PROCESSING;
    c.token = xstrdup("AIxaKC-5wT9HmmGglDkQDi27hWXyHIivKxlqoAeUalw");
    c.validated = T0 + 5;
    c.error = full_problem();
    c.record_json = xstrdup("[{\"hostname\":\"www.example.org\",\"port\":\"443\",\"addressesResolved\":[\"192.0.2.1\"]}]");

    char *doc = rec_chall_to_json(&c);
    CHECK(doc != NULL);
    rec_chall b;
    CHECK_INT_EQ(rec_chall_from_json(doc, strlen(doc), &b), 0);
    CHECK_STR_EQ(b.id, c.id);
    CHECK_STR_EQ(b.authz_id, "authz-1");
    CHECK_STR_EQ(b.type, "tls-alpn-01");
    CHECK_INT_EQ(b.status, CHALL_PROCESSING);
    CHECK_STR_EQ(b.token, c.token);
    CHECK_INT_EQ(b.validated, T0 + 5);
    check_full_problem(b.error);
    CHECK_STR_EQ(b.record_json, c.record_json);
    rec_chall_clear(&b);
    CHECK_REENCODES(rec_chall, rec_chall_from_json, rec_chall_to_json, rec_chall_clear, doc);

    char *ext = with_unknown_members(doc);
    CHECK_INT_EQ(rec_chall_from_json(ext, strlen(ext), &b), 0);
    char *again = rec_chall_to_json(&b);
    CHECK_STR_EQ(again, doc);
    free(again);
    rec_chall_clear(&b);
    free(ext);

    for (int s = 0; s < CHALL__COUNT; s++) {
        c.status = (chall_status)s;
        char *d = rec_chall_to_json(&c);
        CHECK_INT_EQ(rec_chall_from_json(d, strlen(d), &b), 0);
        CHECK_INT_EQ(b.status, s);
        rec_chall_clear(&b);
        free(d);
    }

    CHECK_INT_EQ(rec_chall_from_json("{}", 2, &b), 0);
    CHECK_STR_EQ(b.id, "");
    CHECK_STR_EQ(b.authz_id, "");
    CHECK(b.type == NULL && b.token == NULL && b.error == NULL && b.record_json == NULL);
    CHECK_INT_EQ(b.validated, 0);
    CHECK_INT_EQ(b.status, CHALL_INVALID);
    rec_chall_clear(&b);
    const char *unknown = "{\"type\":\"http-01\",\"status\":\"ready\"}";
    CHECK_INT_EQ(rec_chall_from_json(unknown, strlen(unknown), &b), 0);
    CHECK_INT_EQ(b.status, CHALL_INVALID);
    CHECK_STR_EQ(b.type, "http-01");
    rec_chall_clear(&b);

    free(doc);
    rec_chall_clear(&c);
}

/* ---- certificate ------------------------------------------------------- */

static void test_cert(void)
{
    rec_cert c = {0};
    snprintf(c.serial, sizeof(c.serial), "5f3c0e1d2a4b6c8d9e0f1a2b3c4d5e6f");
    snprintf(c.account_id, sizeof(c.account_id), "acct-1");
    snprintf(c.order_id, sizeof(c.order_id), "order-1");
    c.chains = xcalloc(2, sizeof(char *));
    c.chains[0] = xstrdup("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    c.chains[1] = xstrdup("-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n");
    c.nchains = 2;
    c.not_before = T0;
    c.not_after = T0 + 7 * 86400;
    strv_push(&c.dns, &c.ndns, "example.org");
    strv_push(&c.dns, &c.ndns, "*.example.org");
    strv_push(&c.ips, &c.nips, "192.0.2.1");
    c.ari_id = xstrdup("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    c.revoked = true;
    c.reason = 4;
    c.revoked_at = T0 + 100;
    snprintf(c.replaced_by, sizeof(c.replaced_by), "order-2");

    char *doc = rec_cert_to_json(&c);
    CHECK(doc != NULL);
    rec_cert b;
    CHECK_INT_EQ(rec_cert_from_json(doc, strlen(doc), &b), 0);
    CHECK_STR_EQ(b.serial, c.serial);
    CHECK_STR_EQ(b.account_id, "acct-1");
    CHECK_STR_EQ(b.order_id, "order-1");
    CHECK_INT_EQ(b.nchains, 2);
    if (b.nchains == 2) {
        CHECK_STR_EQ(b.chains[0], c.chains[0]);
        CHECK_STR_EQ(b.chains[1], c.chains[1]);
    }
    CHECK_INT_EQ(b.not_before, T0);
    CHECK_INT_EQ(b.not_after, T0 + 7 * 86400);
    CHECK_INT_EQ(b.ndns, 2);
    if (b.ndns == 2)
        CHECK_STR_EQ(b.dns[1], "*.example.org");
    CHECK_INT_EQ(b.nips, 1);
    if (b.nips == 1)
        CHECK_STR_EQ(b.ips[0], "192.0.2.1");
    CHECK_STR_EQ(b.ari_id, c.ari_id);
    CHECK(b.revoked);
    CHECK_INT_EQ(b.reason, 4);
    CHECK_INT_EQ(b.revoked_at, T0 + 100);
    CHECK_STR_EQ(b.replaced_by, "order-2");
    rec_cert_clear(&b);
    CHECK_REENCODES(rec_cert, rec_cert_from_json, rec_cert_to_json, rec_cert_clear, doc);

    char *ext = with_unknown_members(doc);
    CHECK_INT_EQ(rec_cert_from_json(ext, strlen(ext), &b), 0);
    char *again = rec_cert_to_json(&b);
    CHECK_STR_EQ(again, doc);
    free(again);
    rec_cert_clear(&b);
    free(ext);

    CHECK_INT_EQ(rec_cert_from_json("{}", 2, &b), 0);
    CHECK_STR_EQ(b.serial, "");
    CHECK_STR_EQ(b.replaced_by, "");
    CHECK(b.chains == NULL && b.nchains == 0);
    CHECK(b.dns == NULL && b.ndns == 0 && b.ips == NULL && b.nips == 0);
    CHECK(b.ari_id == NULL);
    CHECK(!b.revoked);
    CHECK_INT_EQ(b.reason, 0);
    CHECK_INT_EQ(b.revoked_at, 0);
    CHECK_INT_EQ(b.not_before, 0);
    CHECK_INT_EQ(b.not_after, 0);
    rec_cert_clear(&b);
    CHECK_INT_EQ(rec_cert_from_json("[", 1, &b), -1);

    free(doc);
    rec_cert_clear(&c);
}

int main(void)
{
    test_account();
    test_order();
    test_authz();
    test_chall();
    test_cert();
    return testlib_finish();
}
