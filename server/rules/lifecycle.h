/* How a change of one authorization propagates to the orders that use it
 * (RFC 8555 7.1.6, plus the retry-options re-enable). Runs inside the
 * caller's write transaction, so the authorization and its orders change
 * together or not at all. */
#ifndef ARO_LIFECYCLE_H
#define ARO_LIFECYCLE_H

#include "store/model.h"
#include "core/server.h"
#include "store/store.h"

/* After a's status changed (a already holds the new status and is the
 * version to use, even if not yet written): move each order of a that is
 * pending or ready to where order_status_from_authzs says. cause is the
 * failed challenge's problem when a became invalid, else NULL. */
int orders_follow_authz(server *srv, store_txn *t, const rec_authz *a, time_t now,
                        const acme_problem *cause);
/* After a was re-enabled: every order invalid only because of failed
 * authorizations, none of which is still unusable, goes back to pending
 * with its error cleared (unless expired). Returns the number changed. */
int orders_reenable(server *srv, store_txn *t, const rec_authz *a, time_t now);
/* Would re-enabling a restore an order whose ARI "replaces" was consumed
 * meanwhile by another order? Then the re-enable is refused. */
bool orders_replacement_consumed(store_txn *t, const rec_authz *a);

#endif
