/* Every transition of the one state machine, allowed and refused, against
 * a table written independently from RFC 8555 7.1.6 and the draft. A
 * transition not listed in "allowed" must be refused. */
#include <string.h>

#include "status.h"
#include "testlib.h"

typedef struct { int from, ev, to; } edge;

static const edge chall_allowed[] = {
    {CHALL_PENDING, CHALL_EV_RESPOND, CHALL_PROCESSING},
    {CHALL_PENDING, CHALL_EV_REENABLE, CHALL_PROCESSING},
    {CHALL_PROCESSING, CHALL_EV_SUCCEED, CHALL_VALID},
    {CHALL_PROCESSING, CHALL_EV_FAIL, CHALL_INVALID},
    {CHALL_PROCESSING, CHALL_EV_RETRY, CHALL_PROCESSING},
};

static const edge authz_allowed[] = {
    {AUTHZ_PENDING, AUTHZ_EV_CHALLENGE_VALID, AUTHZ_VALID},
    {AUTHZ_PENDING, AUTHZ_EV_CHALLENGE_INVALID, AUTHZ_INVALID},
    {AUTHZ_PENDING, AUTHZ_EV_DEACTIVATE, AUTHZ_DEACTIVATED},
    {AUTHZ_PENDING, AUTHZ_EV_EXPIRE, AUTHZ_EXPIRED},
    {AUTHZ_VALID, AUTHZ_EV_DEACTIVATE, AUTHZ_DEACTIVATED},
    {AUTHZ_VALID, AUTHZ_EV_EXPIRE, AUTHZ_EXPIRED},
    {AUTHZ_VALID, AUTHZ_EV_REVOKE, AUTHZ_REVOKED},
    {AUTHZ_INVALID, AUTHZ_EV_REENABLE, AUTHZ_PENDING},     /* retry-options */
    {AUTHZ_INVALID, AUTHZ_EV_DEACTIVATE, AUTHZ_DEACTIVATED}, /* withdraws an offer */
    {AUTHZ_PENDING, AUTHZ_EV_CHALLENGE_FAILED_KEPT, AUTHZ_PENDING}, /* pending-hold */
};

static const edge order_allowed[] = {
    {ORDER_PENDING, ORDER_EV_AUTHZS_VALID, ORDER_READY},
    {ORDER_PENDING, ORDER_EV_AUTHZ_UNUSABLE, ORDER_INVALID},
    {ORDER_PENDING, ORDER_EV_EXPIRE, ORDER_INVALID},
    {ORDER_READY, ORDER_EV_AUTHZ_UNUSABLE, ORDER_INVALID},
    {ORDER_READY, ORDER_EV_EXPIRE, ORDER_INVALID},
    {ORDER_READY, ORDER_EV_FINALIZE, ORDER_PROCESSING},
    {ORDER_PROCESSING, ORDER_EV_EXPIRE, ORDER_INVALID},
    {ORDER_PROCESSING, ORDER_EV_ISSUED, ORDER_VALID},
    {ORDER_PROCESSING, ORDER_EV_ISSUE_FAILED, ORDER_INVALID},
    {ORDER_INVALID, ORDER_EV_REENABLE, ORDER_PENDING},     /* retry-options */
};

static int lookup(const edge *t, size_t n, int from, int ev)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].from == from && t[i].ev == ev)
            return t[i].to;
    return -1;
}

#define N(a) (sizeof(a) / sizeof(a[0]))

/* An order's status after its authorizations' event, if any. */
static order_status order_after(order_status current, const authz_status *authzs, size_t n)
{
    order_event ev;
    order_status to = current;
    if (order_event_from_authzs(authzs, n, &ev) && order_transition(current, ev, &to))
        return to;
    return current;
}

int main(void)
{
    int checked = 0;
    for (int s = 0; s < CHALL__COUNT; s++)
        for (int e = 0; e < CHALL_EV__COUNT; e++) {
            chall_status to = (chall_status)-1;
            bool ok = chall_transition(s, e, &to);
            int want = lookup(chall_allowed, N(chall_allowed), s, e);
            CHECK_INT_EQ(ok, want >= 0);
            if (want >= 0)
                CHECK_INT_EQ(to, want);
            checked++;
        }
    for (int s = 0; s < AUTHZ__COUNT; s++)
        for (int e = 0; e < AUTHZ_EV__COUNT; e++) {
            authz_status to = (authz_status)-1;
            bool ok = authz_transition(s, e, &to);
            int want = lookup(authz_allowed, N(authz_allowed), s, e);
            CHECK_INT_EQ(ok, want >= 0);
            if (want >= 0)
                CHECK_INT_EQ(to, want);
            checked++;
        }
    for (int s = 0; s < ORDER__COUNT; s++)
        for (int e = 0; e < ORDER_EV__COUNT; e++) {
            order_status to = (order_status)-1;
            bool ok = order_transition(s, e, &to);
            int want = lookup(order_allowed, N(order_allowed), s, e);
            CHECK_INT_EQ(ok, want >= 0);
            if (want >= 0)
                CHECK_INT_EQ(to, want);
            checked++;
        }
    CHECK_INT_EQ(checked, CHALL__COUNT * CHALL_EV__COUNT + AUTHZ__COUNT * AUTHZ_EV__COUNT +
                              ORDER__COUNT * ORDER_EV__COUNT);

    /* Challenges are final once valid or invalid: nothing moves them. */
    for (int e = 0; e < CHALL_EV__COUNT; e++) {
        CHECK(!chall_transition(CHALL_INVALID, e, NULL));
        CHECK(!chall_transition(CHALL_VALID, e, NULL));
    }
    /* Out-of-range input is refused, not read out of bounds. */
    CHECK(!chall_transition(CHALL__COUNT, 0, NULL));
    CHECK(!authz_transition(0, AUTHZ_EV__COUNT, NULL));
    CHECK(!order_transition((order_status)-1, 0, NULL));

    /* Names round-trip, unknown names are refused. */
    for (int s = 0; s < CHALL__COUNT; s++)
        CHECK_INT_EQ(chall_status_parse(chall_status_name(s)), s);
    for (int s = 0; s < AUTHZ__COUNT; s++)
        CHECK_INT_EQ(authz_status_parse(authz_status_name(s)), s);
    for (int s = 0; s < ORDER__COUNT; s++)
        CHECK_INT_EQ(order_status_parse(order_status_name(s)), s);
    CHECK_INT_EQ(order_status_parse("Pending"), -1);
    CHECK_INT_EQ(chall_status_parse(NULL), -1);
    CHECK_STR_EQ(authz_status_name(AUTHZ_DEACTIVATED), "deactivated");

    /* Accounts (7.1.6, 7.3.6): valid until deactivated or revoked, both final. */
    for (int st = 0; st < ACCOUNT__COUNT; st++)
        CHECK_INT_EQ(account_status_parse(account_status_name(st)), st);
    account_status as;
    CHECK(account_transition(ACCOUNT_VALID, ACCOUNT_EV_DEACTIVATE, &as) && as == ACCOUNT_DEACTIVATED);
    CHECK(account_transition(ACCOUNT_VALID, ACCOUNT_EV_REVOKE, &as) && as == ACCOUNT_REVOKED);
    CHECK(!account_transition(ACCOUNT_DEACTIVATED, ACCOUNT_EV_DEACTIVATE, &as));
    CHECK(!account_transition(ACCOUNT_REVOKED, ACCOUNT_EV_DEACTIVATE, &as));

    /* Effective statuses at a time (7.1.6). */
    CHECK_INT_EQ(authz_status_at(AUTHZ_PENDING, 100, 99), AUTHZ_PENDING);
    CHECK_INT_EQ(authz_status_at(AUTHZ_PENDING, 100, 100), AUTHZ_EXPIRED);
    CHECK_INT_EQ(authz_status_at(AUTHZ_VALID, 100, 200), AUTHZ_EXPIRED);
    CHECK_INT_EQ(authz_status_at(AUTHZ_INVALID, 100, 200), AUTHZ_INVALID);
    CHECK_INT_EQ(authz_status_at(AUTHZ_DEACTIVATED, 100, 200), AUTHZ_DEACTIVATED);
    CHECK_INT_EQ(order_status_at(ORDER_PENDING, 100, 100), ORDER_INVALID);
    CHECK_INT_EQ(order_status_at(ORDER_READY, 100, 200), ORDER_INVALID);
    CHECK_INT_EQ(order_status_at(ORDER_PROCESSING, 100, 200), ORDER_PROCESSING);
    CHECK_INT_EQ(order_status_at(ORDER_VALID, 100, 200), ORDER_VALID);
    CHECK_INT_EQ(order_status_at(ORDER_PENDING, 100, 50), ORDER_PENDING);

    /* Derived order status (7.1.6): the event the authorizations cause,
     * applied through the order's table. */
    authz_status all_valid[] = {AUTHZ_VALID, AUTHZ_VALID};
    authz_status one_pending[] = {AUTHZ_VALID, AUTHZ_PENDING};
    authz_status one_invalid[] = {AUTHZ_PENDING, AUTHZ_INVALID};
    authz_status one_deact[] = {AUTHZ_VALID, AUTHZ_DEACTIVATED};
    authz_status one_expired[] = {AUTHZ_EXPIRED};
    authz_status one_revoked[] = {AUTHZ_REVOKED, AUTHZ_VALID};
    CHECK_INT_EQ(order_after(ORDER_PENDING, all_valid, 2), ORDER_READY);
    CHECK_INT_EQ(order_after(ORDER_PENDING, one_pending, 2), ORDER_PENDING);
    CHECK_INT_EQ(order_after(ORDER_PENDING, one_invalid, 2), ORDER_INVALID);
    CHECK_INT_EQ(order_after(ORDER_PENDING, one_deact, 2), ORDER_INVALID);
    CHECK_INT_EQ(order_after(ORDER_PENDING, one_expired, 1), ORDER_INVALID);
    CHECK_INT_EQ(order_after(ORDER_READY, one_revoked, 2), ORDER_INVALID);
    CHECK_INT_EQ(order_after(ORDER_PENDING, NULL, 0), ORDER_PENDING);
    /* Re-enabling is explicit, never derived: an invalid order whose
     * authorizations all became valid stays invalid. */
    CHECK_INT_EQ(order_after(ORDER_INVALID, all_valid, 2), ORDER_INVALID);
    CHECK_INT_EQ(order_after(ORDER_PROCESSING, one_invalid, 2), ORDER_PROCESSING);
    CHECK_INT_EQ(order_after(ORDER_VALID, one_invalid, 2), ORDER_VALID);

    /* Finality as a polling client sees it. */
    CHECK(chall_status_is_final(CHALL_INVALID));
    CHECK(!chall_status_is_final(CHALL_PROCESSING));
    CHECK(authz_status_is_final(AUTHZ_INVALID));
    CHECK(!authz_status_is_final(AUTHZ_PENDING));
    CHECK(order_status_is_final(ORDER_INVALID));
    CHECK(!order_status_is_final(ORDER_READY));
    CHECK(authz_may_reenable(AUTHZ_INVALID, true));
    CHECK(!authz_may_reenable(AUTHZ_INVALID, false));
    CHECK(!authz_may_reenable(AUTHZ_DEACTIVATED, true));
    return testlib_finish();
}
