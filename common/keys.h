/* Keys and JWK (RFC 7517/7518/8037) and JWK thumbprints (RFC 7638).
 * Supported: RSA (2048+ bits), EC P-256 and P-384, Ed25519. */
#ifndef ARO_KEYS_H
#define ARO_KEYS_H

#include <openssl/evp.h>
#include <stdbool.h>

#include "json.h"
#include "util.h"

typedef enum {
    KEY_RSA2048,
    KEY_RSA3072,
    KEY_RSA4096,
    KEY_EC256,
    KEY_EC384,
    KEY_ED25519,
} key_type;

/* "rsa2048", "rsa3072", "rsa4096", "ec256", "ec384", "ed25519" */
int key_type_from_name(const char *name, key_type *out);
const char *key_type_name(key_type t);

EVP_PKEY *key_generate(key_type t);
/* PEM private key (PKCS#8 or traditional). */
EVP_PKEY *key_load_pem(const char *path, aro_err *err);
EVP_PKEY *key_from_pem(const char *pem, size_t len, aro_err *err);
/* Writes PKCS#8 PEM atomically with mode 0600. */
int key_save_pem(EVP_PKEY *key, const char *path, aro_err *err);
char *key_to_pem(EVP_PKEY *key);                /* private key, PKCS#8 PEM */
char *key_public_to_pem(EVP_PKEY *key);         /* SubjectPublicKeyInfo PEM */
bool key_public_equal(EVP_PKEY *a, EVP_PKEY *b);

/* The JWS algorithm for a key: "RS256", "ES256", "ES384", "EdDSA";
 * NULL for anything else (RSA under 2048 bits included). */
const char *jws_alg_for_key(EVP_PKEY *key);

/* Import a public JWK. Rejects: unknown kty/crv, RSA under 2048 bits or an
 * even/tiny exponent, EC points not on the curve, private members ("d"),
 * wrong member types, non-canonical base64url. */
EVP_PKEY *jwk_import(yajl_val jwk, aro_err *err);
/* Emit the public JWK with its required members in lexicographic order
 * (the RFC 7638 form, usable for thumbprints and in headers). */
void jwk_write(json_gen *g, EVP_PKEY *key);
char *jwk_to_json(EVP_PKEY *key);
/* base64url(SHA-256(RFC 7638 canonical JWK)). */
char *jwk_thumbprint(EVP_PKEY *key);
/* The same for an EC key given as its JOSE curve name ("P-256" or
 * "P-384") and uncompressed point 04 || x || y, as a SubjectPublicKeyInfo
 * carries it, with no key object to export it from. NULL for another
 * curve or encoding. */
char *jwk_thumbprint_ec_point(const char *crv, const unsigned char *pt, size_t len);
/* The public key of that point (decoding checks it lies on the curve; no
 * further validation). NULL when it does not decode. */
EVP_PKEY *ec_public_key_from_point(const char *crv, const unsigned char *pt, size_t len);

#endif
