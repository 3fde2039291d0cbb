/* rules/offer.c after a failure of multi-perspective corroboration: no
 * same-type choice, neither a fresh challenge nor a pending one of that
 * type, at that failure or any later one of the same authorization; other
 * types are still offered; an ordinary failure still gets its same-type
 * retry. Pure functions on records built here: no store. */
#include <stdlib.h>
#include <string.h>

#include "rules/offer.h"
#include "settings/config.h"
#include "testlib.h"

#define NOW 1800000000

static rec_chall chall(const char *id, const char *type, chall_status st)
{
    rec_chall c;
    memset(&c, 0, sizeof(c));
    snprintf(c.id, sizeof(c.id), "%s", id);
    c.type = (char *)type;
    c.status = st;
    return c;
}

/* An invalid authorization for example.com with the given failures (type
 * and whether it was a corroboration failure), an offer made. */
static authz_view view_with(const char *const *types, const bool *corroboration, size_t n, rec_chall *listed,
                            size_t nlisted, rec_chall *reserve, size_t nreserve)
{
    authz_view v;
    memset(&v, 0, sizeof(v));
    v.authz.status = AUTHZ_INVALID;
    v.authz.identifier.type = "dns";
    v.authz.identifier.value = "example.com";
    v.authz.expires = NOW + 3600;
    v.authz.attempts = (unsigned)n;
    v.authz.offer_made = true;
    v.authz.failures = calloc(n + 1, sizeof(rec_failure));
    for (size_t i = 0; i < n; i++) {
        v.authz.failures[i].at = NOW - 100;
        snprintf(v.authz.failures[i].chall_type, sizeof(v.authz.failures[i].chall_type), "%s", types[i]);
        snprintf(v.authz.failures[i].problem_type, sizeof(v.authz.failures[i].problem_type), "%s",
                 corroboration[i] ? "unauthorized" : "connection");
        v.authz.failures[i].corroboration = corroboration[i];
        v.authz.failures[i].dns_negative_ttl = -1;
    }
    v.authz.nfailures = n;
    v.listed = listed;
    v.nlisted = nlisted;
    v.reserve = reserve;
    v.nreserve = nreserve;
    return v;
}

static bool offers_type(const authz_offer *o, const char *type)
{
    for (size_t i = 0; i < o->nchoices; i++)
        if (strcmp(o->choices[i]->type, type) == 0)
            return true;
    return false;
}

static void test_corroboration_failure_gets_no_same_type(const server_config *cfg)
{
    /* dns-01 failed corroboration; http-01 and tls-alpn-01 are untried. */
    rec_chall listed[] = {chall("h", "http-01", CHALL_PENDING), chall("d", "dns-01", CHALL_INVALID),
                          chall("t", "tls-alpn-01", CHALL_PENDING)};
    const char *types[] = {"dns-01"};
    bool corr[] = {true};
    authz_view v = view_with(types, corr, 1, listed, 3, NULL, 0);
    const char *fresh[8];
    CHECK_INT_EQ(offer_fresh_types(cfg, &v, fresh, 8), 0);
    authz_offer o;
    offer_for_authz(cfg, &v, NOW, &o);
    CHECK_INT_EQ(o.state, OFFER_OPEN);
    CHECK(offers_type(&o, "http-01"));
    CHECK(offers_type(&o, "tls-alpn-01"));
    CHECK(!offers_type(&o, "dns-01"));
    authz_offer_clear(&o);
    free(v.authz.failures);
}

static void test_ordinary_failure_keeps_same_type(const server_config *cfg)
{
    /* The same failure without corroboration: a fresh dns-01 is made. */
    rec_chall listed[] = {chall("h", "http-01", CHALL_PENDING), chall("d", "dns-01", CHALL_INVALID)};
    const char *types[] = {"dns-01"};
    bool corr[] = {false};
    authz_view v = view_with(types, corr, 1, listed, 2, NULL, 0);
    const char *fresh[8];
    CHECK_INT_EQ(offer_fresh_types(cfg, &v, fresh, 8), 1);
    CHECK_STR_EQ(fresh[0], "dns-01");
    /* ... and once made (in reserve), it is a choice. */
    rec_chall reserve[] = {chall("d2", "dns-01", CHALL_PENDING)};
    v.reserve = reserve;
    v.nreserve = 1;
    authz_offer o;
    offer_for_authz(cfg, &v, NOW, &o);
    CHECK(offers_type(&o, "dns-01"));
    CHECK(offers_type(&o, "http-01"));
    authz_offer_clear(&o);
    free(v.authz.failures);
}

static void test_rule_holds_at_later_failures(const server_config *cfg)
{
    /* http-01 failed corroboration, then dns-01 failed ordinarily: the
     * offer at the second failure has a fresh dns-01 but no http-01, not
     * even the fresh http-01 an earlier offer left in reserve. */
    rec_chall listed[] = {chall("h", "http-01", CHALL_INVALID), chall("d", "dns-01", CHALL_INVALID),
                          chall("t", "tls-alpn-01", CHALL_PENDING)};
    rec_chall reserve[] = {chall("h0", "http-01", CHALL_PENDING)};
    const char *types[] = {"http-01", "dns-01"};
    bool corr[] = {true, false};
    authz_view v = view_with(types, corr, 2, listed, 3, reserve, 1);
    const char *fresh[8];
    size_t n = offer_fresh_types(cfg, &v, fresh, 8);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(n ? fresh[0] : NULL, "dns-01");
    authz_offer o;
    offer_for_authz(cfg, &v, NOW, &o);
    CHECK(!offers_type(&o, "http-01"));
    CHECK(offers_type(&o, "tls-alpn-01"));
    authz_offer_clear(&o);
    free(v.authz.failures);
}

static void test_nothing_left_when_only_that_type(const server_config *cfg)
{
    /* An IP identifier offers http-01 and tls-alpn-01; both failed
     * corroboration: nothing is left to offer. */
    rec_chall listed[] = {chall("h", "http-01", CHALL_INVALID), chall("t", "tls-alpn-01", CHALL_INVALID)};
    rec_chall reserve[] = {chall("h0", "http-01", CHALL_PENDING)};
    const char *types[] = {"http-01", "tls-alpn-01"};
    bool corr[] = {true, true};
    authz_view v = view_with(types, corr, 2, listed, 2, reserve, 1);
    authz_offer o;
    offer_for_authz(cfg, &v, NOW, &o);
    CHECK_INT_EQ(o.state, OFFER_NOTHING_LEFT);
    CHECK_INT_EQ(o.nchoices, 0);
    authz_offer_clear(&o);
    free(v.authz.failures);
}

int main(void)
{
    server_config cfg;
    config_defaults(&cfg);
    cfg.retry_min_backoff = 1;
    test_corroboration_failure_gets_no_same_type(&cfg);
    test_ordinary_failure_keeps_same_type(&cfg);
    test_rule_holds_at_later_failures(&cfg);
    test_nothing_left_when_only_that_type(&cfg);
    config_free(&cfg);
    return testlib_finish();
}
