/* Request authentication (RFC 8555 6.2-6.5): content type, the flattened
 * JWS, the nonce, the "url" header against the request URL, jwk versus
 * kid per endpoint, the account behind a kid, the signature, the payload
 * as JSON; and access control, the rule that an object belongs to one
 * account (7.1, 7.4: "the server MUST ... the requesting account"). On
 * failure the response holds the problem document. */
#ifndef ARO_ACME_AUTH_H
#define ARO_ACME_AUTH_H

#include <openssl/evp.h>

#include "core/exchange.h"
#include "core/server.h"
#include "jws.h"
#include "store/store.h"
#include "store/records.h"

typedef enum {
    AUTH_KID,       /* every endpoint but newAccount and revokeCert */
    AUTH_JWK,       /* newAccount */
    AUTH_EITHER,    /* revokeCert: kid, or jwk of the certificate's key */
} auth_key_mode;

typedef struct acme_auth {
    jws_msg jws;
    yajl_val payload;       /* parsed payload; NULL for POST-as-GET */
    bool post_as_get;
    rec_account acct;       /* set when kid named a valid account */
    bool has_acct;
    EVP_PKEY *key;          /* the key that verified the request (owned) */
    EVP_PKEY_CTX *verify;   /* key's prepared verification (owned), or NULL */
    auth_key_mode mode;
    bool deferred;          /* made ahead; the request then waited for its transaction */
} acme_auth;

/* The request's authentication for a resource that takes mode: the one
 * made ahead (rq->auth, taken over; if the request waited since, its
 * account is read again in the caller's transaction), or made now.
 * 0 on success; -1 with the problem already in rs. */
int auth_request(server *srv, const http_request *rq, auth_key_mode mode, acme_auth *a,
                 http_response *rs);
void auth_clear(acme_auth *a);

/* Authentication ahead of the resource, where the request arrived (on the
 * event loop: front/routes.c router_accept): the checks of auth_request,
 * the nonce used up and the verification counted, the result kept in
 * rq->auth. 0, or -1 with the problem in rs. */
int auth_ahead(server *srv, http_request *rq, auth_key_mode mode, http_response *rs);
/* Whether the authentication made ahead is of a POST-as-GET (6.3). */
bool auth_ahead_post_as_get(const http_request *rq);
/* The request is handed on to wait for its transaction. */
void auth_ahead_defer(http_request *rq);
/* Frees rq->auth if no resource took it over. */
void auth_ahead_release(http_request *rq);

/* The answer to a repository lookup of an object (what: "order") that
 * the request names: 0 when found (rc 0); -1 with 404 "no such what"
 * (rc 1) or serverInternal (rc -1) in rs. */
int auth_found(int rc, const char *what, http_response *rs);
/* 0 when the requesting account owns the object (owner: its account id,
 * or the account itself);
 * -1 with 403 unauthorized "this what belongs to another account". */
int auth_owns(const acme_auth *a, const char *owner, const char *what, http_response *rs);

/* Admission under the failed-validation limit (rules/limits.c) for the
 * account and identifier (value without "*."): 0, or -1 with 429
 * rateLimited and Retry-After in rs. */
int auth_within_failure_limit(server *srv, store_txn *t, const char *account_id, const acme_identifier *id,
                              time_t now, http_response *rs);

/* The end of a request that wrote: commit *t (which is then gone) and
 * answer status with body (taken); if the commit fails, nothing was
 * changed and the answer is serverInternal. 0 when committed. */
int auth_commit_answer(store_txn **t, http_response *rs, int status, char *body);

#endif
