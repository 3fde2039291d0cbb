/* The client's retry decisions without a CA: whether retry-options allow a
 * re-enable or a held attempt now (choose_reenable), whether to ask for
 * pending-hold (choose_ask_hold), and whether the legacy fallback opens
 * another order (choose_next_order). The challenge ranking and failure
 * classes are in test_backoff.c. */
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "choose.h"
#include "testlib.h"

static void test_reenable(void)
{
    const time_t now = 1700000000;
    acme_challenge offered[1] = {{.url = "https://ca/chall/2", .type = "dns-01"}};
    acme_retry_options ro = {.url = "https://ca/authz/1/reenable", .challenges = offered,
                             .nchallenges = 1, .attempts_remaining = -1};
    long wait = -7;

    /* Nothing in the way: at once. */
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_NOW);
    CHECK_INT_EQ(wait, 0);
    /* notBefore ahead but within --max-wait: go, after waiting for it. */
    ro.not_before = now + 20;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_NOW);
    CHECK_INT_EQ(wait, 20);
    /* Exactly max_wait away is still acceptable; one second more is not. */
    ro.not_before = now + 300;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_NOW);
    ro.not_before = now + 301;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_TOO_LATE);
    CHECK_INT_EQ(wait, 301);
    /* notBefore in the past: no wait, whatever max_wait says. */
    ro.not_before = now - 5;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 0, &wait), REENABLE_NOW);
    CHECK_INT_EQ(wait, 0);
    ro.not_before = 0;

    /* The deadline: at or after expires it is over; absent (0) never. */
    ro.expires = now;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_EXPIRED);
    ro.expires = now + 1;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_NOW);
    /* An expired offer is refused before its notBefore is looked at. */
    ro.expires = now - 1;
    ro.not_before = now + 10000;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_EXPIRED);
    ro.expires = 0;
    ro.not_before = 0;

    /* attemptsRemaining: 0 stops, a positive count or none goes. */
    ro.attempts_remaining = 0;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_NO_ATTEMPTS_LEFT);
    ro.attempts_remaining = 1;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_NOW);

    /* A member without a URL or without challenges cannot be used. */
    ro.url = NULL;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_MALFORMED);
    ro.url = "https://ca/authz/1/reenable";
    ro.nchallenges = 0;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_MALFORMED);
    /* No attempts left is said first, even for a broken member. */
    ro.attempts_remaining = 0;
    CHECK_INT_EQ(choose_reenable(&ro, false, now, 300, &wait), REENABLE_NO_ATTEMPTS_LEFT);

    /* A held authorization's offer has no url (the client answers a listed
     * challenge): usable without one, with the same notBefore rule; still
     * not without challenges. */
    ro.attempts_remaining = 2;
    ro.nchallenges = 1;
    ro.url = NULL;
    CHECK_INT_EQ(choose_reenable(&ro, true, now, 300, &wait), REENABLE_NOW);
    ro.not_before = now + 7;
    CHECK_INT_EQ(choose_reenable(&ro, true, now, 300, &wait), REENABLE_NOW);
    CHECK_INT_EQ(wait, 7);
    CHECK_INT_EQ(choose_reenable(&ro, true, now, 5, &wait), REENABLE_TOO_LATE);
    ro.nchallenges = 0;
    CHECK_INT_EQ(choose_reenable(&ro, true, now, 300, &wait), REENABLE_MALFORMED);
}

static void test_ask_hold(void)
{
    acme_directory plain = {.retry_options = false}, reenable_only = {.retry_options = true},
                   hold = {.retry_options = true, .retry_hold = true},
                   hold_without_member = {.retry_hold = true};
    /* Only under --retry-options hold, and only where the directory says "hold". */
    CHECK(choose_ask_hold(RETRY_HOLD, &hold));
    CHECK(!choose_ask_hold(RETRY_HOLD, &reenable_only));
    CHECK(!choose_ask_hold(RETRY_HOLD, &plain));
    CHECK(!choose_ask_hold(RETRY_HOLD, &hold_without_member));
    CHECK(!choose_ask_hold(RETRY_REENABLE, &hold));
    CHECK(!choose_ask_hold(RETRY_OFF, &hold));
}

static void test_next_order(void)
{
    char *http[] = {"http-01"};
    char *http_dns[] = {"http-01", "dns-01"};
    char *all3[] = {"http-01", "dns-01", "tls-alpn-01"};
    ident_history a = {.ident = "a.example", .base = "a.example", .failed = http, .nfailed = 1,
                       .offered = http_dns, .noffered = 2};

    /* http-01 was blocked for a.example; dns-01 was offered and can be used. */
    CHECK_INT_EQ(choose_next_order("connection", &a, 1, http_dns, 2, 1, 3), NEXT_ORDER_OPEN);
    /* The full problem type is understood as well as the short one. */
    CHECK_INT_EQ(choose_next_order("urn:ietf:params:acme:error:dns", &a, 1, http_dns, 2, 1, 3),
                 NEXT_ORDER_OPEN);
    /* A failure no other type fixes, or an unknown one, ends the run. */
    CHECK_INT_EQ(choose_next_order("caa", &a, 1, http_dns, 2, 1, 3), NEXT_ORDER_NOT_FIXABLE);
    CHECK_INT_EQ(choose_next_order("rejectedIdentifier", &a, 1, http_dns, 2, 1, 3),
                 NEXT_ORDER_NOT_FIXABLE);
    CHECK_INT_EQ(choose_next_order(NULL, &a, 1, http_dns, 2, 1, 3), NEXT_ORDER_NOT_FIXABLE);
    /* dns-01 offered but not usable (not in --challenges, or no solver). */
    CHECK_INT_EQ(choose_next_order("connection", &a, 1, http, 1, 1, 3), NEXT_ORDER_NO_OTHER_TYPE);
    /* Every offered type has failed already. */
    a.failed = http_dns;
    a.nfailed = 2;
    CHECK_INT_EQ(choose_next_order("connection", &a, 1, all3, 3, 2, 3), NEXT_ORDER_NO_OTHER_TYPE);
    /* A usable type the CA never offered does not count. */
    a.failed = http;
    a.nfailed = 1;
    a.offered = http;
    a.noffered = 1;
    CHECK_INT_EQ(choose_next_order("connection", &a, 1, all3, 3, 1, 3), NEXT_ORDER_NO_OTHER_TYPE);

    /* Only an identifier that failed is looked at: another name's untried
     * type cannot fix this one's failure. */
    ident_history two[2] = {
        {.ident = "a.example", .failed = http, .nfailed = 1, .offered = http, .noffered = 1},
        {.ident = "b.example", .offered = http_dns, .noffered = 2},
    };
    CHECK_INT_EQ(choose_next_order("connection", two, 2, http_dns, 2, 1, 3), NEXT_ORDER_NO_OTHER_TYPE);
    two[1].failed = http;
    two[1].nfailed = 1;
    CHECK_INT_EQ(choose_next_order("connection", two, 2, http_dns, 2, 1, 3), NEXT_ORDER_OPEN);

    /* --max-orders bounds the fallback: after the 3rd of 3 orders, stop. */
    CHECK_INT_EQ(choose_next_order("connection", two, 2, http_dns, 2, 2, 3), NEXT_ORDER_OPEN);
    CHECK_INT_EQ(choose_next_order("connection", two, 2, http_dns, 2, 3, 3), NEXT_ORDER_LIMIT);
    CHECK_INT_EQ(choose_next_order("connection", two, 2, http_dns, 2, 1, 1), NEXT_ORDER_LIMIT);
}

int main(void)
{
    test_reenable();
    test_ask_hold();
    test_next_order();
    return testlib_finish();
}
