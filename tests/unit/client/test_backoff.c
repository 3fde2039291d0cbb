/* Backoff, Retry-After parsing, and challenge choice (no server needed). */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "choose.h"
#include "testlib.h"

static void test_backoff(void)
{
    backoff_policy p = {.base = 0.5, .cap = 10, .jitter = 0.3};
    /* No jitter drawn (rnd 0): exact doubling up to the cap. */
    CHECK(backoff_delay(&p, 0, 0) == 0.5);
    CHECK(backoff_delay(&p, 1, 0) == 1.0);
    CHECK(backoff_delay(&p, 4, 0) == 8.0);
    CHECK(backoff_delay(&p, 5, 0) == 10.0);
    CHECK(backoff_delay(&p, 1000, 0) == 10.0);  /* bounded, no overflow */
    /* Maximal jitter takes at most 30 % off. */
    double d = backoff_delay(&p, 3, UINT32_MAX);
    CHECK(d <= 4.0 && d >= 4.0 * 0.7);
    for (unsigned i = 0; i < 50; i++) {
        double r = backoff_next(&p, i);
        CHECK(r > 0 && r <= 10.0);
    }
    backoff_policy nj = {.base = 1, .cap = 60, .jitter = 0};
    CHECK(backoff_delay(&nj, 2, 12345) == 4.0);
}

static void test_retry_after(void)
{
    time_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
    CHECK_INT_EQ(retry_after_parse("120", now), 120);
    CHECK_INT_EQ(retry_after_parse(" 0", now), 0);
    CHECK_INT_EQ(retry_after_parse("Tue, 14 Nov 2023 22:14:20 GMT", now), 60);
    CHECK_INT_EQ(retry_after_parse("Tue, 14 Nov 2023 22:00:00 GMT", now), 0); /* past */
    CHECK_INT_EQ(retry_after_parse("soon", now), -1);
    CHECK_INT_EQ(retry_after_parse("-5", now), -1);
    CHECK_INT_EQ(retry_after_parse("12abc", now), -1);
    CHECK_INT_EQ(retry_after_parse(NULL, now), -1);
}

static void test_choose(void)
{
    const char *prefs[] = {"http-01", "dns-01", "tls-alpn-01"};
    size_t order[4];
    choose_cand c[3] = {
        {.type = "dns-01", .score = 0.5, .solvable = true},
        {.type = "http-01", .score = 0.5, .solvable = true},
        {.type = "tls-alpn-01", .score = 0.5, .solvable = false},
    };
    /* Preference order, unsolvable types left out. */
    CHECK_INT_EQ(choose_rank(c, 3, prefs, 3, false, order), 2);
    CHECK_INT_EQ(order[0], 1);
    CHECK_INT_EQ(order[1], 0);
    /* A type that failed in this run goes last... */
    c[1].failed_here = true;
    choose_rank(c, 3, prefs, 3, false, order);
    CHECK_INT_EQ(order[0], 0);
    /* ...unless the failure was transient: then the same type again. */
    choose_rank(c, 3, prefs, 3, true, order);
    CHECK_INT_EQ(order[0], 1);
    c[1].failed_here = false;
    /* Learned: one failure (1/3) demotes, one success (2/3) does not promote. */
    c[1].score = 1.0 / 3;
    choose_rank(c, 3, prefs, 3, false, order);
    CHECK_INT_EQ(order[0], 0);
    c[1].score = 0.5;
    c[0].score = 2.0 / 3;
    choose_rank(c, 3, prefs, 3, false, order);
    CHECK_INT_EQ(order[0], 1);
    c[0].score = 0.75; /* two successes */
    choose_rank(c, 3, prefs, 3, false, order);
    CHECK_INT_EQ(order[0], 0);
    /* Types not in the list are never chosen. */
    const char *only_dns[] = {"dns-01"};
    CHECK_INT_EQ(choose_rank(c, 3, only_dns, 1, false, order), 1);
    CHECK_INT_EQ(order[0], 0);

    CHECK(choose_fixable_by_other_type("urn:ietf:params:acme:error:connection"));
    CHECK(choose_fixable_by_other_type("incorrectResponse"));
    CHECK(choose_fixable_by_other_type("unauthorized"));
    CHECK(!choose_fixable_by_other_type("urn:ietf:params:acme:error:caa"));
    CHECK(!choose_fixable_by_other_type("rejectedIdentifier"));
    CHECK(!choose_fixable_by_other_type(NULL));
    CHECK(choose_transient("urn:ietf:params:acme:error:serverInternal", NULL));
    CHECK(choose_transient("connection", "i/o timeout"));
    CHECK(choose_transient("dns", "SERVFAIL looking up A"));
    CHECK(!choose_transient("connection", "connection refused"));
    CHECK(!choose_transient("unauthorized", "timeout"));
}

int main(void)
{
    test_backoff();
    test_retry_after();
    test_choose();
    return testlib_finish();
}
