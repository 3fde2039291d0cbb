/* The repository: every question the CA asks its store, named by intent
 * ("the account with this key", "the reusable valid authorization of
 * this account for this identifier", "the certificate with this ARI
 * CertID"), in the manner of Pebble's db and Boulder's SA. It owns every
 * key and index; no other file builds a store key. Each function works
 * inside the caller's transaction (store_begin), so a handler's reads
 * and writes commit together or not at all.
 *
 * Returns: 0 done/found; 1 not found (gets only); -1 store error or a
 * record that cannot be decoded. Records returned are the caller's to
 * rec_*_clear. */
#ifndef ARO_STORE_REPO_H
#define ARO_STORE_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "store/records.h"
#include "store/store.h"

/* ---- ids ---- */

/* The id of a new record (account, order, authorization, challenge): the
 * time it is made, in milliseconds as 12 hex digits, so that ids sort by
 * age, then 48 random bits (8 base64url characters), 20 characters in
 * all. Records made at about the same time then sit together in each
 * table's B-tree, and a transaction writes the few pages at its end
 * however much the store holds; random ids would scatter every insert and
 * update over the whole file (docs/benchmarks.md, "Scale"). */
void repo_new_id(char out[ID_LEN]);

/* ---- accounts (RFC 8555 7.3) ---- */

int repo_account_get(store_txn *t, const char *id, rec_account *out);
/* The account whose current key has this RFC 7638 thumbprint. */
int repo_account_by_key(store_txn *t, const char *thumbprint, rec_account *out);
/* A new account and its key's index entry. */
int repo_account_create(store_txn *t, const rec_account *a);
int repo_account_save(store_txn *t, const rec_account *a);
/* Key rollover (7.3.5): the account's key becomes jwk (JSON) with this
 * thumbprint; the old key no longer finds the account. */
int repo_account_rekey(store_txn *t, rec_account *a, const char *thumbprint, const char *jwk);

/* ---- orders (7.4) ---- */

int repo_order_get(store_txn *t, const char *id, rec_order *out);
int repo_order_save(store_txn *t, const rec_order *o);
/* A new order, listed among its account's orders (7.1.2.1) and linked
 * from each of its authorizations, O(1) per authorization however many
 * orders share it. */
int repo_order_create(store_txn *t, const rec_order *o);
/* One page of the account's orders that are not invalid at now
 * (7.1.2.1: the list SHOULD NOT include invalid orders; expired ones are
 * invalid), oldest first: up to max order ids after the opaque cursor
 * (NULL: from the start); *next is the cursor of the following page,
 * NULL when this is the last. A page looks at no more than 8 * max
 * orders, so a page can hold fewer than max (even none) and still have
 * a next one. */
int repo_orders_of_account(store_txn *t, const char *account_id, const char *cursor, int max, time_t now,
                           char ***ids, size_t *n, char **next);
/* The orders that use authorization a (reuse shares one among several). */
int repo_orders_using_authz(store_txn *t, const rec_authz *a, char ***ids, size_t *n);
/* Calls fn for every order that is processing (issuance to resume), found
 * through the pending index once repo_restart_index_ensure marked the store;
 * before, by a search of every order. */
int repo_orders_processing(store_txn *t, void (*fn)(const rec_order *o, void *arg), void *arg);

/* ---- authorizations and challenges (7.5) ---- */

int repo_authz_get(store_txn *t, const char *id, rec_authz *out);
int repo_authz_save(store_txn *t, const rec_authz *a);
/* A new authorization with a fresh pending challenge of each type, in
 * this order (a->id is set here, its chall_ids filled), written once and
 * made the newest of its account for its identifier. */
int repo_authz_create(store_txn *t, rec_authz *a, const char *const *types, size_t ntypes);
/* The newest authorization of the account for the identifier (value
 * without "*.", wildcard apart), whatever its status. */
int repo_authz_newest(store_txn *t, const char *account_id, const acme_identifier *id, bool wildcard,
                      rec_authz *out);
/* The reusable valid authorization of the account for the identifier:
 * valid at now and still valid at until (7.4: the server MAY reuse). */
int repo_authz_valid_for(store_txn *t, const char *account_id, const acme_identifier *id, bool wildcard,
                         time_t now, time_t until, rec_authz *out);
/* Calls fn for every pending authorization with a challenge being
 * validated (attempts to resume after a restart), found through the
 * pending index as repo_orders_processing. An authorization whose entry a
 * limit count dropped as expired is not visited: it can no longer become
 * valid. */
int repo_authzs_validating(store_txn *t, void (*fn)(const rec_authz *a, void *arg), void *arg);
/* In a write transaction, before the two questions above at a start: a
 * store written before the restart index gets it (one search of every
 * order and authorization, its finds listed, the store marked); on a
 * marked store, two reads. 0, or -1 on a store error. */
int repo_restart_index_ensure(store_txn *t);

/* An authorization with its challenges loaded: the ones it lists (7.1.4
 * "challenges") and the reserve of fresh same-type challenges made when a
 * retry-options offer was made (offer_chall_ids). What rules/offer.c
 * decides from and acme/render.c renders. */
typedef struct {
    rec_authz authz;
    rec_chall *listed;
    size_t nlisted;
    rec_chall *reserve;
    size_t nreserve;
} authz_view;

int repo_authz_view(store_txn *t, const char *id, authz_view *out);
/* Same for an authorization already in memory (copied into the view). */
int repo_authz_view_of(store_txn *t, const rec_authz *a, authz_view *out);
void authz_view_clear(authz_view *v);

int repo_chall_get(store_txn *t, const char *id, rec_chall *out);
int repo_chall_save(store_txn *t, const rec_chall *c);
/* A fresh pending challenge of type for authorization authz_id (not yet
 * listed by it); its id in id_out. RFC 8555 8.1: a token of 128 bits. */
int repo_chall_create(store_txn *t, const char *authz_id, const char *type, char id_out[ID_LEN]);

/* ---- certificates (7.4.2, 7.6, RFC 9773) ---- */

int repo_cert_get(store_txn *t, const char *serial, rec_cert *out);
/* The certificate with this RFC 9773 CertID. */
int repo_cert_by_ari_id(store_txn *t, const char *ari_id, rec_cert *out);
/* A new certificate, findable by its serial and its CertID. */
int repo_cert_create(store_txn *t, const rec_cert *c);
int repo_cert_save(store_txn *t, const rec_cert *c);
/* RFC 9773 5: order_id is now the order that replaces the certificate
 * with this CertID (its claim: rec_cert.claimed_by). 1 when there is no
 * such certificate. */
int repo_cert_claim(store_txn *t, const char *ari_id, const char *order_id);

/* ---- failed validations (the failed-validation limit) ---- */

/* How many validations of the identifier failed for the account after
 * since (at most 64 are remembered); *oldest the time of the oldest of
 * them (0 when none). */
int repo_failures_since(store_txn *t, const char *account_id, const acme_identifier *id, time_t since,
                        time_t *oldest);
/* Remembers a failure at now, forgetting those at or before since. */
int repo_failure_record(store_txn *t, const char *account_id, const acme_identifier *id, time_t now,
                        time_t since);

/* ---- rate limits (rules/limits.c) ---- */

/* The theoretical arrival time (GCRA, microseconds since the epoch) of
 * the bucket of a limit (limit and bucket are names, e.g.
 * "newOrdersPerAccount" and an account id). 0, or 1 when the bucket has
 * none yet. */
int repo_limit_tat(store_txn *t, const char *limit, const char *bucket, int64_t *tat_us);
int repo_limit_tat_save(store_txn *t, const char *limit, const char *bucket, int64_t tat_us);

/* ---- what an account has pending (the pending-object limits) ---- */

/* How many of the account's authorizations are pending at now, and how
 * many of its orders are unfinished (pending or ready) at now, with the
 * earliest time one of them expires (*next_expiry, 0 when none). An index
 * of the account's pending objects makes it O(pending), not O(history):
 * an object leaves it when saved in another status, and an expired one
 * is dropped here (so call it in a write transaction). */
int repo_pending_authzs(store_txn *t, const char *account_id, time_t now, long *n, time_t *next_expiry);
int repo_unfinished_orders(store_txn *t, const char *account_id, time_t now, long *n, time_t *next_expiry);

#endif
