/* The CA's policy: which identifiers it accepts, rate limits, effective
 * statuses after expiry, and the retry-options decisions (whether a
 * failure gets an offer, the earliest next attempt). Decisions only: the
 * state module says which transitions exist, handlers apply them. */
#ifndef ARO_POLICY_H
#define ARO_POLICY_H

#include <stdbool.h>
#include <time.h>

#include "store/model.h"
#include "core/server.h"
#include "store/store.h"

/* Statuses as of now: pending/valid objects past their expiry are
 * expired (authorizations) or invalid (orders), per 7.1.6. */
authz_status authz_effective_status(const rec_authz *a, time_t now);
order_status order_effective_status(const rec_order *o, time_t now);

/* Check and canonicalize one identifier of a newOrder (7.4, RFC 8738).
 * On success *value is the canonical value without "*.", *wildcard set.
 * On failure returns the problem (rejectedIdentifier, unsupportedIdentifier,
 * malformed) with the identifier attached. */
acme_problem *policy_check_identifier(const server_config *cfg, const char *type, const char *value,
                                      char **canonical, bool *wildcard);
bool policy_blocked(const server_config *cfg, const char *name);

/* Failed validations per account and identifier in the window (the
 * "failed validation" limit, shared by new orders, responses and
 * re-enables). Returns the count; *retry_after is when the oldest expires. */
int limit_failed_count(store_txn *t, const server_config *cfg, const char *account_id,
                       const acme_identifier *id, time_t now, long *retry_after);
int limit_failed_record(store_txn *t, const server_config *cfg, const char *account_id,
                        const acme_identifier *id, time_t now);

/* retry-options: does this failure (already appended to a->failures, the
 * attempt counted) get an offer? *reason says why not. */
bool policy_offer_retry(const server_config *cfg, const rec_authz *a, const char *problem_type,
                        time_t now, const char **reason);
/* Earliest time of the next attempt: backoff doubling per failure from
 * retry_min_backoff, at least the DNS negative-caching TTL after a dns-01
 * failure, capped by retry_max_backoff. */
time_t policy_retry_not_before(const server_config *cfg, const rec_authz *a);
/* Attempts left, or 0. */
long policy_attempts_remaining(const server_config *cfg, const rec_authz *a);

#endif
