/* The one state machine of accounts, challenges, authorizations and
 * orders: RFC 8555 7.1.6, plus the transitions that retry-options adds
 * (draft-aro-acme-retry-options: an invalid authorization, and an order
 * invalid only because of it, go back to "pending" on an explicit
 * re-enable request). Nothing else in aro decides a status: the server
 * asks this module before every change, the client asks it what a status
 * it observed means. Challenges never leave "invalid" or "valid". */
#ifndef ARO_STATUS_H
#define ARO_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* 7.1.6: accounts are valid until deactivated by the client (7.3.6) or
 * revoked by the server. */
typedef enum { ACCOUNT_VALID, ACCOUNT_DEACTIVATED, ACCOUNT_REVOKED, ACCOUNT__COUNT } account_status;
typedef enum { ACCOUNT_EV_DEACTIVATE, ACCOUNT_EV_REVOKE, ACCOUNT_EV__COUNT } account_event;

typedef enum { CHALL_PENDING, CHALL_PROCESSING, CHALL_VALID, CHALL_INVALID, CHALL__COUNT } chall_status;
typedef enum {
    AUTHZ_PENDING, AUTHZ_VALID, AUTHZ_INVALID, AUTHZ_DEACTIVATED, AUTHZ_EXPIRED, AUTHZ_REVOKED,
    AUTHZ__COUNT
} authz_status;
typedef enum { ORDER_PENDING, ORDER_READY, ORDER_PROCESSING, ORDER_VALID, ORDER_INVALID, ORDER__COUNT } order_status;

typedef enum {
    CHALL_EV_RESPOND,       /* client answered a pending challenge (7.5.1) */
    CHALL_EV_SUCCEED,       /* validation passed */
    CHALL_EV_FAIL,          /* validation failed for good */
    CHALL_EV_RETRY,         /* 8.2: server or client retries while processing */
    CHALL_EV_REENABLE,      /* retry-options: a listed pending challenge is chosen */
    CHALL_EV__COUNT
} chall_event;

typedef enum {
    AUTHZ_EV_CHALLENGE_VALID,   /* one of its challenges became valid */
    AUTHZ_EV_CHALLENGE_INVALID, /* the challenge being validated failed */
    AUTHZ_EV_DEACTIVATE,        /* client deactivation (7.5.2) */
    AUTHZ_EV_EXPIRE,            /* its expiry passed */
    AUTHZ_EV_REVOKE,            /* server revoked it */
    AUTHZ_EV_REENABLE,          /* retry-options re-enable request */
    AUTHZ_EV_CHALLENGE_FAILED_KEPT, /* a challenge failed and the authorization stays pending:
                                     * retry-options pending-hold with an offer open, or the
                                     * experimental failure modes with untried challenges left */
    AUTHZ_EV__COUNT
} authz_event;

typedef enum {
    ORDER_EV_AUTHZS_VALID,      /* every authorization is valid */
    ORDER_EV_AUTHZ_UNUSABLE,    /* an authorization went invalid/deactivated/expired/revoked */
    ORDER_EV_EXPIRE,            /* the order expired before issuance */
    ORDER_EV_FINALIZE,          /* finalize accepted */
    ORDER_EV_ISSUED,            /* certificate issued */
    ORDER_EV_ISSUE_FAILED,      /* issuance failed */
    ORDER_EV_REENABLE,          /* retry-options: its only failed authorization was re-enabled */
    ORDER_EV__COUNT
} order_event;

const char *account_status_name(account_status s);
const char *chall_status_name(chall_status s);
const char *authz_status_name(authz_status s);
const char *order_status_name(order_status s);
/* -1 for an unknown name. */
int account_status_parse(const char *name);
int chall_status_parse(const char *name);
int authz_status_parse(const char *name);
int order_status_parse(const char *name);

const char *account_event_name(account_event e);
const char *chall_event_name(chall_event e);
const char *authz_event_name(authz_event e);
const char *order_event_name(order_event e);

/* true and *to set when the event is allowed in state from. */
bool account_transition(account_status from, account_event ev, account_status *to);
bool chall_transition(chall_status from, chall_event ev, chall_status *to);
bool authz_transition(authz_status from, authz_event ev, authz_status *to);
bool order_transition(order_status from, order_event ev, order_status *to);

/* The event an order's authorizations cause (7.1.6): AUTHZS_VALID when
 * every one is valid, AUTHZ_UNUSABLE as soon as one is in a final state
 * other than valid (invalid, deactivated, expired, revoked); false when
 * they cause none (some still pending, or none at all). The order's own
 * table then says whether the event moves it: re-enabling is an explicit
 * event, never derived from the authorizations. */
bool order_event_from_authzs(const authz_status *authzs, size_t n, order_event *ev);

/* The status a stored object has at time now (7.1.6): pending and valid
 * authorizations past their expiry are expired; orders past theirs are
 * invalid, except a processing order, which finishes its issuance. */
authz_status authz_status_at(authz_status stored, time_t expires, time_t now);
order_status order_status_at(order_status stored, time_t expires, time_t now);

/* Final states in RFC 8555 terms: a client polling an object stops here.
 * An invalid authorization that carries "retry-options" is final for RFC
 * 8555 but may be re-enabled by an aware client (authz_may_reenable). */
bool chall_status_is_final(chall_status s);
bool authz_status_is_final(authz_status s);
bool order_status_is_final(order_status s);
bool authz_may_reenable(authz_status s, bool has_retry_options);

#endif
