/* Request authentication (RFC 8555 6.2-6.5): content type, the flattened
 * JWS, the nonce, the "url" header against the request URL, jwk versus
 * kid per endpoint, the account behind a kid, the signature, the payload
 * as JSON. On failure the response holds the problem document. */
#ifndef ARO_AUTH_H
#define ARO_AUTH_H

#include <openssl/evp.h>

#include "jws.h"
#include "store/model.h"
#include "core/exchange.h"
#include "core/server.h"

typedef enum {
    AUTH_KID,       /* every endpoint but newAccount and revokeCert */
    AUTH_JWK,       /* newAccount */
    AUTH_EITHER,    /* revokeCert: kid, or jwk of the certificate's key */
} auth_key_mode;

typedef struct {
    jws_msg jws;
    yajl_val payload;       /* parsed payload; NULL for POST-as-GET */
    bool post_as_get;
    rec_account acct;       /* set when kid named a valid account */
    bool has_acct;
    EVP_PKEY *key;          /* the key that verified the request (owned) */
} acme_auth;

/* 0 on success; -1 with the problem already in rs. */
int auth_request(server *srv, const http_request *rq, auth_key_mode mode, acme_auth *a,
                 http_response *rs);
void auth_clear(acme_auth *a);

/* The URL of an account, and the account id from a kid URL (NULL if kid
 * does not name an account of this server). */
char *account_url(const char *base, const char *id);
const char *account_id_from_kid(const char *base, const char *kid);

#endif
