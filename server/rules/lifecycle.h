/* The only code that writes a status. Every change of an account,
 * challenge, authorization or order goes through the state module's
 * transitions (common/status.c: RFC 8555 7.1.6 plus retry-options), from
 * the object's status as of now (an expired authorization is expired even
 * if its record still says pending), with every refusal reported. Each
 * function runs inside the caller's write transaction and saves what it
 * changed through the repository, so an object and everything that
 * follows from it (the orders of an authorization) change together or
 * not at all.
 *
 * Returns: 0 applied; 1 refused by the state machine or stale (nothing
 * was changed; the caller answers with a problem or drops the result);
 * -1 store error (abort the transaction). */
#ifndef ARO_RULES_LIFECYCLE_H
#define ARO_RULES_LIFECYCLE_H

#include <stdbool.h>
#include <time.h>

#include "settings/config.h"
#include "store/repo.h"
#include "va/va.h"

/* ---- accounts (7.3) ---- */

/* A new valid account (a->id, key and contacts set by the caller). */
int lifecycle_account_create(store_txn *t, rec_account *a);
/* 7.3.6: deactivated for good. */
int lifecycle_account_deactivate(store_txn *t, rec_account *a);

/* ---- orders and their authorizations (7.4) ---- */

/* A new pending authorization for a's account and identifier, with the
 * challenges rules/new_order.c gives it; *challs_created counts them. */
int lifecycle_authz_create(const server_config *cfg, store_txn *t, rec_authz *a, time_t now,
                           unsigned *challs_created);
/* A new order over its authorizations (statuses: theirs as of now, in
 * the order's order): pending, or ready at once when every one is a
 * reused valid authorization. It claims the certificate it "replaces"
 * (checked by the caller with lifecycle_replacement_taken). */
int lifecycle_order_create(store_txn *t, rec_order *o, const authz_status *statuses, size_t n);

/* ---- challenges and authorizations (7.5) ---- */

/* 7.5.1: the client answered pending challenge c of pending authorization
 * a: c is processing and attempt number a->attempt_seq starts. Under
 * pending-hold c may be a fresh challenge of the open offer: it joins the
 * listed challenges. */
int lifecycle_challenge_respond(store_txn *t, rec_authz *a, rec_chall *c, time_t now);
/* retry-options: invalid authorization a goes back to pending with the
 * chosen pending challenge c processing (a fresh one joins the listed
 * challenges), and every order invalid only because of its failed
 * authorizations, none still unusable, goes back to pending (and claims
 * again the certificate it replaces). The caller has checked the offer
 * (rules/offer.c) and lifecycle_reenable_conflicts_with_replacement. */
int lifecycle_reenable(store_txn *t, rec_authz *a, rec_chall *c, time_t now);
/* 7.5.2: deactivated (from pending or valid, or from invalid while the
 * authorization carries an offer; 1 if not allowed); any retry offer withdrawn; a challenge being
 * validated ends invalid (unauthorized: "the authorization was
 * deactivated") and its result will be discarded; its orders follow. */
int lifecycle_authz_deactivate(store_txn *t, rec_authz *a, time_t now);
/* Would re-enabling a restore an order whose ARI "replaces" names a
 * certificate another order has replaced or now claims
 * (lifecycle_replacement_taken)? Then the re-enable is refused. */
bool lifecycle_reenable_conflicts_with_replacement(store_txn *t, const rec_authz *a, time_t now);

/* RFC 9773 5: may order order_id ("" for a new order) replace certificate
 * c? NULL when it may; else why not: c was replaced already, or another
 * order that is not invalid as of now (lifecycle_order_as_of) claims it.
 * A certificate is claimed by at most one live order; an order that
 * becomes invalid lets go of its claim without a write. */
const char *lifecycle_replacement_taken(store_txn *t, const rec_cert *c, const char *order_id, time_t now);

/* What applying a validation result did, for the counters. */
typedef struct {
    char chall_type[16];
    unsigned challs_created;    /* fresh challenges made for a same-type offer */
    bool reenabled_ended;       /* a re-enabled authorization reached its end: */
    bool ended_valid;           /*   valid, or invalid with no further offer */
    bool too_late;              /* the authorization had expired: the challenge ends invalid */
} validation_applied;

/* The result of attempt seq on challenge chall_id of authorization
 * authz_id: on success both valid (the authorization's valid lifetime
 * starts). On failure the failure is remembered for the retry policy and
 * the failed-validation limit, the retry-options offer is decided
 * (rules/offer.c; caa_excluded: the challenge types CAA excludes now)
 * with its fresh challenges made, and the challenge and authorization
 * become what rules/offer.c's offer_after_failure says: invalid (RFC
 * 8555), or the authorization still pending (pending-hold, the
 * experimental failure modes). res's problem and record are taken. When
 * the authorization expired meanwhile, the result is not applied
 * (expired is final): the challenge ends invalid ("the authorization
 * expired while this challenge was processing") and too_late is set. 1
 * when the result is stale (a newer attempt or a deactivation came
 * first): nothing changes. */
int lifecycle_validation_result(const server_config *cfg, store_txn *t, const char *authz_id,
                                const char *chall_id, unsigned seq, va_result *res,
                                char *const *caa_excluded, size_t ncaa_excluded, time_t now,
                                validation_applied *out);

/* 7.1.6: an order is ready only while every authorization is valid, and
 * pending only while none has become unusable. Order o as of now, in
 * memory: a pending or ready order one of whose authorizations has since
 * expired (nothing is written when time passes) is invalid, its error
 * naming each such authorization. Nothing is saved: like an expiry, it
 * is what the order is, whoever asks; a later write of the order keeps
 * it. */
int lifecycle_order_as_of(store_txn *t, rec_order *o, time_t now);

/* ---- finalization (7.4) ---- */

/* Ready (as of now, lifecycle_order_as_of) -> processing, keeping the
 * CSR (base64url DER) so a restart can finish the issuance. */
int lifecycle_order_finalize(store_txn *t, rec_order *o, const char *csr_b64, time_t now);
/* Processing -> valid with certificate cert (created here); a certificate
 * the order "replaces" is consumed (RFC 9773 5). */
int lifecycle_order_issued(store_txn *t, rec_order *o, const rec_cert *cert, time_t now);
/* Processing -> invalid with error why (taken: the order's error now, or
 * freed when refused). */
int lifecycle_order_issue_failed(store_txn *t, rec_order *o, acme_problem *why, time_t now);

#endif
