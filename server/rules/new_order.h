/* What a new order gets (RFC 8555 7.4): for each identifier, either an
 * existing authorization to reuse or the challenge types of a new one. */
#ifndef ARO_RULES_NEW_ORDER_H
#define ARO_RULES_NEW_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "settings/config.h"
#include "store/records.h"
#include "store/store.h"

/* The challenge types a new authorization offers, in this order:
 * wildcards only dns-01 (7.1.3), IP identifiers no dns-01 (RFC 8738 7),
 * DNS names http-01, dns-01, tls-alpn-01. Returns how many (at most 3). */
size_t order_challenge_types(const acme_identifier *id, bool wildcard, const char *out[3]);

/* An existing authorization of the account to reuse for the identifier
 * (7.4: "the server MAY reuse"): a valid one that outlives the order
 * (reuse_valid_authz, drawn with reuse_valid_pct percent as Pebble's
 * PEBBLE_AUTHZREUSE), or an idle pending one when reuse_pending_authz is
 * on and it was made with the same pending-hold choice (hold), so that an
 * order that did not ask for pending-hold never gets a held
 * authorization. 0 with *out filled, 1 none, -1 store error. */
int order_reusable_authz(const server_config *cfg, store_txn *t, const char *account_id,
                         const acme_identifier *id, bool wildcard, bool hold, time_t now, rec_authz *out);

#endif
