/* JWS requests built member by member (RFC 7515 flattened serialization,
 * RFC 8555 6.2), so that any part can be wrong on purpose: another "alg"
 * than the key's, both "jwk" and "kid" or neither, a missing or reused
 * "nonce", a "url" of another resource, extra protected members, a broken
 * or MAC'd signature. The well-formed case (all defaults filled in) is the
 * same request common/jws.c signs. */
#ifndef ARO_CONFORM_FORGE_H
#define ARO_CONFORM_FORGE_H

#include <openssl/evp.h>
#include <stdbool.h>

typedef enum {
    SIG_GOOD,       /* the key's signature over the signing input */
    SIG_FLIPPED,    /* that signature with its first bit flipped */
    SIG_EMPTY,      /* "signature": "" (what "alg": "none" carries) */
    SIG_HMAC,       /* HMAC-SHA256 keyed with the public JWK's bytes */
} forge_sig;

typedef struct {
    EVP_PKEY *key;          /* signs; required */
    const char *alg;        /* NULL: the key's algorithm */
    const char *kid;        /* NULL: no "kid" */
    bool jwk;               /* embed "jwk" */
    EVP_PKEY *jwk_key;      /* the key embedded (NULL: key) */
    const char *nonce;      /* NULL: no "nonce" */
    const char *url;        /* NULL: no "url" */
    const char *payload;    /* NULL: "" (POST-as-GET, RFC 8555 6.3) */
    const char *extra;      /* raw JSON members appended to the protected header */
    forge_sig sig;
} forge_spec;

/* The flattened JWS JSON, malloc'd; NULL when the key cannot sign. */
char *forge_jws(const forge_spec *s);

#endif
