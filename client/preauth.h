/* Pre-authorization (RFC 8555 7.4.1), --preauthorize: before the order,
 * every name that is not a wildcard (7.4.1: a wildcard cannot be
 * pre-authorized) gets an authorization of its own from the directory's
 * newAuthz, and all of them are carried to "valid" at once, each on its
 * own (authorize_each): provisioned and answered together, polled
 * together. A failure is followed up per authorization:
 *  - --retry-options hold, where the directory advertises "hold": the
 *    newAuthz request asked for pending-hold ("retry-options": {"hold":
 *    true}, draft-aro-acme-retry-options, "Pending-hold"), so the
 *    authorization stays "pending" with an offer and aro answers a
 *    challenge the offer lists (via "retry-options");
 *  - an "invalid" pre-authorization with an offer is re-enabled (via
 *    "retry-options"), under hold where the CA does not hold, and under
 *    reenable;
 *  - without an offer (--retry-options off, a CA without retry-options,
 *    or the offer spent): a new newAuthz for that name, which skips the
 *    types that failed, when choose_next_order allows (another type could
 *    fix the failure and a usable one was offered; at most --max-orders
 *    newAuthz per name). Its attempts are "via": "new-order", the legacy
 *    fallback's value: like a new order, a new object on a new URL.
 * Then the caller's newOrder finds the valid authorizations (the CA reuses
 * them, 7.1.3) and the order is "ready" at once; the wildcard names, and
 * any a CA refused to pre-authorize, are validated through the order as
 * usual. A CA whose directory has no newAuthz gets the ordinary order flow,
 * with a note saying so.
 *
 * The attempts are recorded without an order (the order does not exist
 * yet); the caller gives them the order's URL once it has one
 * (report_attempts_set_order). */
#ifndef ARO_CLIENT_PREAUTH_H
#define ARO_CLIENT_PREAUTH_H

#include "attempt.h"

/* Pre-authorize X's names as --preauthorize asks (nothing without it).
 * 0: every name that could be pre-authorized is valid, the rest are left
 * to the order; -1: a name failed for good (the error in the report, the
 * pre-authorizations deactivated as --deactivate says) or aro was
 * interrupted. */
int preauth_names(authz_run *X);

#endif
