/* JWS in the flattened JSON serialization (RFC 7515 7.2.2), with ACME's
 * rules on top (RFC 8555 6.2): an allow-list of algorithms (RS256, ES256,
 * ES384, EdDSA; never "none", never a MAC on a request), exactly one of
 * "jwk" and "kid", "nonce" and "url" present, "alg" matching the key.
 * ECDSA signatures are fixed-length r||s (RFC 7518 3.4). */
#ifndef ARO_JWS_H
#define ARO_JWS_H

#include <openssl/evp.h>
#include <stdbool.h>

#include "json.h"
#include "util.h"

/* What is being parsed decides the header rules. */
typedef enum {
    JWS_ACME_REQUEST,   /* outer request: nonce+url, exactly one of jwk/kid */
    JWS_KEYCHANGE_INNER,/* RFC 8555 7.3.5: jwk and url, no nonce, no kid */
    JWS_EAB_INNER,      /* RFC 8555 7.3.4: HS256, kid and url, no nonce */
} jws_mode;

/* Why a parse or verification failed; the server maps these to ACME
 * error types (malformed, badSignatureAlgorithm, badNonce, ...). */
typedef enum {
    JWS_OK = 0,
    JWS_ERR_MALFORMED,      /* not a flattened JWS, bad base64url, bad JSON, bad header */
    JWS_ERR_BAD_ALG,        /* algorithm not allowed, or does not match the key */
    JWS_ERR_NO_NONCE,       /* nonce missing or not base64url (badNonce) */
    JWS_ERR_BAD_SIGNATURE,  /* signature does not verify */
    JWS_ERR_BAD_KEY,        /* jwk unusable (bad key, RSA < 2048, off-curve) */
} jws_result;

typedef struct {
    /* Protected header fields (pointers into 'header'). */
    const char *alg;
    const char *kid;
    const char *nonce;
    const char *url;
    EVP_PKEY *jwk;          /* owned; set when the header carried "jwk" */
    yajl_val header;        /* parsed protected header (owned) */
    /* Payload: decoded bytes; payload_len 0 means POST-as-GET ("" payload). */
    unsigned char *payload;
    size_t payload_len;
    /* For verification. */
    char *signing_input;    /* "<protected>.<payload>" as received */
    size_t signing_input_len;
    unsigned char *sig;
    size_t sig_len;
    yajl_val body;          /* the parsed flattened JWS (owned) */
} jws_msg;

/* The algorithms accepted on ACME requests, in *algs (static); returns
 * how many. What a badSignatureAlgorithm problem lists (6.2). */
size_t jws_request_algorithms(const char *const **algs);

/* Parse and check the header rules for mode. On failure err names the
 * reason and the result says which class of failure it was. */
jws_result jws_parse(const char *body, size_t len, jws_mode mode, jws_msg *out, aro_err *err);
/* Same, from an already parsed JSON value (the inner JWS of key change and
 * external account binding arrive inside a payload). */
jws_result jws_parse_value(yajl_val v, jws_mode mode, jws_msg *out, aro_err *err);
/* Verify with key: checks that alg matches the key type, then the
 * signature. For JWS_EAB_INNER use jws_verify_hmac instead. */
jws_result jws_verify(const jws_msg *m, EVP_PKEY *key, aro_err *err);
/* A context made once for verifying many signatures of key: OpenSSL 3
 * builds a key context and looks the digest and the signature algorithm
 * up by name in every EVP_DigestVerifyInit, while a copy of a prepared
 * context (EVP_PKEY_CTX_dup) only counts references. NULL for EdDSA,
 * which signs the message itself, or when OpenSSL refuses. One context
 * serves one thread at a time: share it by copies. */
EVP_PKEY_CTX *jws_prepare_verify(EVP_PKEY *key);
/* jws_verify, with prepared from jws_prepare_verify(key), or NULL. */
jws_result jws_verify_prepared(const jws_msg *m, EVP_PKEY *key, EVP_PKEY_CTX *prepared, aro_err *err);
jws_result jws_verify_hmac(const jws_msg *m, const unsigned char *key, size_t keylen, aro_err *err);
void jws_msg_free(jws_msg *m);

/* Sign an ACME request. kid NULL embeds the public jwk instead. payload
 * NULL or "" makes a POST-as-GET. Returns the flattened JWS JSON. */
char *jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
               const char *payload, size_t payload_len);
/* The signing counterpart of jws_prepare_verify, for a client that signs
 * many requests with one key: NULL for EdDSA or when OpenSSL refuses. */
EVP_PKEY_CTX *jws_prepare_sign(EVP_PKEY *key);
/* jws_sign, with prepared from jws_prepare_sign(key), or NULL. */
char *jws_sign_prepared(EVP_PKEY *key, EVP_PKEY_CTX *prepared, const char *kid, const char *nonce,
                        const char *url, const char *payload, size_t payload_len);
/* Inner JWS for key rollover (7.3.5): protected {alg, jwk(new), url},
 * payload {"account": kid, "oldKey": jwk(old)}, signed by the new key. */
char *jws_sign_keychange(EVP_PKEY *new_key, EVP_PKEY *old_key, const char *account_url,
                         const char *url);
/* External account binding (7.3.4): protected {alg HS256, kid, url},
 * payload the account's public JWK, MAC'd with the CA-issued key. */
char *jws_sign_eab(const unsigned char *mac_key, size_t mac_key_len, const char *eab_kid,
                   const char *url, EVP_PKEY *account_key);

/* Raw signing helpers (exposed for tests and the server's own JWS, e.g.
 * nothing in production; tests use them for known answers). sig is malloc'd. */
int jws_sign_raw(EVP_PKEY *key, const void *data, size_t len, unsigned char **sig, size_t *sig_len);

#endif
