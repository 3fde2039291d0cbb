/* Rate limits, Boulder's kinds (docs/configuration.md, docs/hardening.md):
 *
 *   failedValidations          per account and identifier in a sliding
 *                              window (RFC 8555 8.2 asks for it), shared
 *                              by new orders, challenge responses and
 *                              retry-options re-enables, so re-enabling
 *                              never buys more attempts than new orders;
 *   identifiersPerOrder        at most N identifiers in one order;
 *   newOrdersPerAccount        per account per window;
 *   pendingAuthorizationsPerAccount, pendingOrdersPerAccount
 *                              what an account may have open at once
 *                              (they bound its storage);
 *   certificatesPerDomain      per registered domain (public suffix list,
 *                              libpsl) per window;
 *   duplicateCertificates      per exact set of identifiers per window.
 *
 * The windowed ones are GCRA buckets (Boulder's ratelimits package): a
 * stored "theoretical arrival time" per bucket, O(1) per request, bursts
 * up to the limit. Every refusal is a problem document the caller sends
 * as is: rateLimited 429 with *retry_after (seconds until the request
 * would pass) and a detail naming the limit and its window, except
 * identifiersPerOrder, which waiting cannot lift (rejectedIdentifier 400,
 * no Retry-After). A check that refuses writes nothing; the problems are
 * the caller's to problem_free. */
#ifndef ARO_RULES_LIMITS_H
#define ARO_RULES_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "problem.h"
#include "settings/config.h"
#include "store/records.h"
#include "store/store.h"

/* Reads the public suffix list that certificatesPerDomain counts by
 * (libpsl; some 30M instructions, about 10 ms). aro-server calls it at
 * start-up, so that the first newOrder does not read a file on the writer
 * while every account's writes wait; the limits read it on first use
 * otherwise (tools and unit tests). */
void limits_load_public_suffixes(void);

/* NULL when the account may make another attempt on the identifier (value
 * without "*."); otherwise failedValidations' rateLimited problem, with
 * *retry_after the seconds until the oldest failure leaves the window. */
acme_problem *limit_failed_validations(const server_config *cfg, store_txn *t, const char *account_id,
                                       const acme_identifier *id, time_t now, long *retry_after);
/* Counts a failed validation at now. 0, or -1 on a store error. */
int limit_failed_validation_record(const server_config *cfg, store_txn *t, const char *account_id,
                                   const acme_identifier *id, time_t now);

/* NULL when an order may hold n identifiers. */
acme_problem *limit_identifiers_per_order(const server_config *cfg, size_t n);

/* The limits a new order meets, in the newOrder transaction, after its
 * authorizations were made (those it made count as pending) and before
 * the order itself is stored: pending orders and authorizations of the
 * account, newOrdersPerAccount, and whether certificatesPerDomain and
 * duplicateCertificates would still let its certificate be issued (they
 * are counted at issuance, as in Boulder). 0 with *refusal NULL (the
 * order counted against newOrdersPerAccount) or the refusal (with
 * *retry_after); -1 on a store error. */
int limit_new_order(const server_config *cfg, store_txn *t, const rec_order *o, time_t now,
                    acme_problem **refusal, long *retry_after);

/* pendingAuthorizationsPerAccount for a newAuthz (RFC 8555 7.4.1), after
 * its authorization was made; as limit_new_order. */
int limit_new_authz(const server_config *cfg, store_txn *t, const char *account_id, time_t now,
                    acme_problem **refusal, long *retry_after);

/* Counts the certificate of order o, issued at now, against
 * certificatesPerDomain and duplicateCertificates. 0, or -1 on a store
 * error. */
int limit_certificate_issued(const server_config *cfg, store_txn *t, const rec_order *o, time_t now);

/* For /metrics and the benchmark's report: calls fn for every limit with
 * its count (0 = off) and window in seconds (0 = none: a cap). */
void limit_each(const server_config *cfg, void (*fn)(const char *name, long count, long window, void *arg),
                void *arg);

#endif
