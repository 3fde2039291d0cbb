/* The one state machine (see status.h). Transition tables are data, so a
 * reviewer can compare them line by line with RFC 8555 7.1.6 and the
 * draft's additions, and the unit test can enumerate every cell. */
#include "status.h"

#include <string.h>

static const char *const account_names[ACCOUNT__COUNT] = {"valid", "deactivated", "revoked"};
static const char *const chall_names[CHALL__COUNT] = {"pending", "processing", "valid", "invalid"};
static const char *const authz_names[AUTHZ__COUNT] = {"pending", "valid", "invalid",
                                                      "deactivated", "expired", "revoked"};
static const char *const order_names[ORDER__COUNT] = {"pending", "ready", "processing", "valid",
                                                      "invalid"};
static const char *const account_event_names[ACCOUNT_EV__COUNT] = {"deactivate", "revoke"};
static const char *const chall_event_names[CHALL_EV__COUNT] = {"respond", "succeed", "fail",
                                                               "retry", "reenable"};
static const char *const authz_event_names[AUTHZ_EV__COUNT] = {
    "challenge-valid", "challenge-invalid", "deactivate", "expire", "revoke", "reenable",
    "challenge-failed-kept"};
static const char *const order_event_names[ORDER_EV__COUNT] = {
    "authzs-valid", "authz-unusable", "expire", "finalize", "issued", "issue-failed", "reenable"};

#define NONE (-1)

/* 7.1.6: an account is valid until the client deactivates it (7.3.6) or
 * the server revokes it; both are final. */
static const int account_table[ACCOUNT__COUNT][ACCOUNT_EV__COUNT] = {
    /*                  deactivate            revoke */
    [ACCOUNT_VALID] = {ACCOUNT_DEACTIVATED, ACCOUNT_REVOKED},
    [ACCOUNT_DEACTIVATED] = {NONE, NONE},
    [ACCOUNT_REVOKED] = {NONE, NONE},
};

/* chall_table[from][event] = to, or NONE.
 * 7.1.6: pending -> processing when the client responds; processing ->
 * valid/invalid when validation ends; 8.2 retries keep "processing".
 * retry-options never revives a challenge: a re-enable moves a *pending*
 * (fresh or untried) challenge to processing, exactly as a response does. */
static const int chall_table[CHALL__COUNT][CHALL_EV__COUNT] = {
    /*              respond          succeed      fail           retry            reenable */
    [CHALL_PENDING] = {CHALL_PROCESSING, NONE, NONE, NONE, CHALL_PROCESSING},
    [CHALL_PROCESSING] = {NONE, CHALL_VALID, CHALL_INVALID, CHALL_PROCESSING, NONE},
    [CHALL_VALID] = {NONE, NONE, NONE, NONE, NONE},
    [CHALL_INVALID] = {NONE, NONE, NONE, NONE, NONE},
};

/* 7.1.6: pending -> valid/invalid by its challenges; pending or valid ->
 * deactivated (7.5.2), expired; valid -> revoked. retry-options adds
 * invalid -> pending, and only on the explicit re-enable request;
 * invalid -> deactivated, so a client can withdraw an offer it will not
 * use (7.5.2 names no source state for deactivation); and pending ->
 * pending after a failed challenge for an authorization whose client
 * opted in to pending-hold at newOrder (nothing leaves a final state). */
static const int authz_table[AUTHZ__COUNT][AUTHZ_EV__COUNT] = {
    /*        ch-valid     ch-invalid     deactivate          expire         revoke   reenable   failed-kept */
    [AUTHZ_PENDING] = {AUTHZ_VALID, AUTHZ_INVALID, AUTHZ_DEACTIVATED, AUTHZ_EXPIRED, NONE, NONE, AUTHZ_PENDING},
    [AUTHZ_VALID] = {NONE, NONE, AUTHZ_DEACTIVATED, AUTHZ_EXPIRED, AUTHZ_REVOKED, NONE, NONE},
    [AUTHZ_INVALID] = {NONE, NONE, AUTHZ_DEACTIVATED, NONE, NONE, AUTHZ_PENDING, NONE},
    [AUTHZ_DEACTIVATED] = {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
    [AUTHZ_EXPIRED] = {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
    [AUTHZ_REVOKED] = {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
};

/* 7.1.6: pending -> ready when all authorizations are valid; pending ->
 * invalid when one ends other than valid; ready -> processing on
 * finalize; processing -> valid/invalid; any unfinished order -> invalid
 * when it expires. retry-options adds invalid -> pending. */
static const int order_table[ORDER__COUNT][ORDER_EV__COUNT] = {
    /*  authzs-valid  authz-unusable  expire  finalize  issued  issue-failed  reenable */
    [ORDER_PENDING] = {ORDER_READY, ORDER_INVALID, ORDER_INVALID, NONE, NONE, NONE, NONE},
    [ORDER_READY] = {NONE, ORDER_INVALID, ORDER_INVALID, ORDER_PROCESSING, NONE, NONE, NONE},
    [ORDER_PROCESSING] = {NONE, NONE, ORDER_INVALID, NONE, ORDER_VALID, ORDER_INVALID, NONE},
    [ORDER_VALID] = {NONE, NONE, NONE, NONE, NONE, NONE, NONE},
    [ORDER_INVALID] = {NONE, NONE, NONE, NONE, NONE, NONE, ORDER_PENDING},
};

static const char *name_of(const char *const *names, int count, int v)
{
    return (v >= 0 && v < count) ? names[v] : "unknown";
}

static int parse_name(const char *const *names, int count, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

const char *account_status_name(account_status s) { return name_of(account_names, ACCOUNT__COUNT, s); }
const char *chall_status_name(chall_status s) { return name_of(chall_names, CHALL__COUNT, s); }
const char *authz_status_name(authz_status s) { return name_of(authz_names, AUTHZ__COUNT, s); }
const char *order_status_name(order_status s) { return name_of(order_names, ORDER__COUNT, s); }
int account_status_parse(const char *n) { return parse_name(account_names, ACCOUNT__COUNT, n); }
int chall_status_parse(const char *n) { return parse_name(chall_names, CHALL__COUNT, n); }
int authz_status_parse(const char *n) { return parse_name(authz_names, AUTHZ__COUNT, n); }
int order_status_parse(const char *n) { return parse_name(order_names, ORDER__COUNT, n); }
const char *account_event_name(account_event e) { return name_of(account_event_names, ACCOUNT_EV__COUNT, e); }
const char *chall_event_name(chall_event e) { return name_of(chall_event_names, CHALL_EV__COUNT, e); }
const char *authz_event_name(authz_event e) { return name_of(authz_event_names, AUTHZ_EV__COUNT, e); }
const char *order_event_name(order_event e) { return name_of(order_event_names, ORDER_EV__COUNT, e); }

#define LOOKUP(table, nfrom, nev, from, ev, to)                                                   \
    do {                                                                                          \
        if ((int)(from) < 0 || (int)(from) >= (nfrom) || (int)(ev) < 0 || (int)(ev) >= (nev))     \
            return false;                                                                         \
        int next_ = table[from][ev];                                                              \
        if (next_ == NONE)                                                                        \
            return false;                                                                         \
        if (to)                                                                                   \
            *(to) = next_;                                                                        \
        return true;                                                                              \
    } while (0)

bool account_transition(account_status from, account_event ev, account_status *to)
{
    LOOKUP(account_table, ACCOUNT__COUNT, ACCOUNT_EV__COUNT, from, ev, to);
}

bool chall_transition(chall_status from, chall_event ev, chall_status *to)
{
    LOOKUP(chall_table, CHALL__COUNT, CHALL_EV__COUNT, from, ev, to);
}

bool authz_transition(authz_status from, authz_event ev, authz_status *to)
{
    LOOKUP(authz_table, AUTHZ__COUNT, AUTHZ_EV__COUNT, from, ev, to);
}

bool order_transition(order_status from, order_event ev, order_status *to)
{
    LOOKUP(order_table, ORDER__COUNT, ORDER_EV__COUNT, from, ev, to);
}

bool order_event_from_authzs(const authz_status *authzs, size_t n, order_event *ev)
{
    bool all_valid = n > 0;
    for (size_t i = 0; i < n; i++) {
        if (authzs[i] == AUTHZ_PENDING) {
            all_valid = false;
        } else if (authzs[i] != AUTHZ_VALID) {
            *ev = ORDER_EV_AUTHZ_UNUSABLE; /* invalid, deactivated, expired, revoked */
            return true;
        }
    }
    if (all_valid)
        *ev = ORDER_EV_AUTHZS_VALID;
    return all_valid;
}

authz_status authz_status_at(authz_status stored, time_t expires, time_t now)
{
    authz_status to;
    if (now >= expires && authz_transition(stored, AUTHZ_EV_EXPIRE, &to))
        return to;
    return stored;
}

order_status order_status_at(order_status stored, time_t expires, time_t now)
{
    order_status to;
    if (now >= expires && stored != ORDER_PROCESSING && order_transition(stored, ORDER_EV_EXPIRE, &to))
        return to;
    return stored;
}

bool chall_status_is_final(chall_status s) { return s == CHALL_VALID || s == CHALL_INVALID; }
bool authz_status_is_final(authz_status s) { return s != AUTHZ_PENDING; }
bool order_status_is_final(order_status s) { return s == ORDER_VALID || s == ORDER_INVALID; }

bool authz_may_reenable(authz_status s, bool has_retry_options)
{
    return s == AUTHZ_INVALID && has_retry_options;
}
