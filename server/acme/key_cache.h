/* Parsed account keys, shared between requests. Importing a JWK into an
 * OpenSSL key (with its public-key check) costs more than verifying a
 * signature with it, and every request of an account would do it again;
 * so does preparing the context that verifies with it.
 * Keys are found by their RFC 7638 thumbprint, which the account record
 * keeps: a key rollover gives the account a new thumbprint, so nothing
 * needs invalidating, and a deactivated account is refused from its
 * record before its key is looked at. A fixed number of slots bounds the
 * memory. Thread-safe. */
#ifndef ARO_ACME_KEY_CACHE_H
#define ARO_ACME_KEY_CACHE_H

#include <openssl/evp.h>
#include <stddef.h>

#include "util.h"

typedef struct key_cache key_cache;

key_cache *key_cache_new(size_t slots);
void key_cache_free(key_cache *c);
/* The key of the stored JWK jwk_json (whose thumbprint is thumbprint): a
 * reference the caller frees with EVP_PKEY_free, and in *verify a copy of
 * its prepared verification context (jws_prepare_verify; NULL for EdDSA)
 * that the caller frees with EVP_PKEY_CTX_free. NULL, with err, when the
 * JWK is unusable. */
EVP_PKEY *key_cache_get(key_cache *c, const char *thumbprint, const char *jwk_json, EVP_PKEY_CTX **verify,
                        aro_err *err);

#endif
