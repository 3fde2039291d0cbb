/* Rate limits. Today one kind: failed validations per account and
 * identifier in a sliding window (Let's Encrypt's "failed validation"
 * limit, default 5 an hour), shared by new orders, challenge responses
 * and retry-options re-enables, so that re-enabling never buys a client
 * more failed attempts than new orders would. */
#ifndef ARO_RULES_LIMITS_H
#define ARO_RULES_LIMITS_H

#include <stdbool.h>
#include <time.h>

#include "problem.h"
#include "settings/config.h"
#include "store/store.h"

/* NULL when the account may make another attempt on the identifier (value
 * without "*."); otherwise a rateLimited problem (429) naming the limit,
 * with *retry_after the seconds until the oldest failure leaves the
 * window. The problem is the caller's to problem_free. */
acme_problem *limit_failed_validations(const server_config *cfg, store_txn *t, const char *account_id,
                                       const acme_identifier *id, time_t now, long *retry_after);
/* Counts a failed validation at now. 0, or -1 on a store error. */
int limit_failed_validation_record(const server_config *cfg, store_txn *t, const char *account_id,
                                   const acme_identifier *id, time_t now);

#endif
