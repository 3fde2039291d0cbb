/* The certificate authority: keys and certificates of the issuing
 * hierarchy, and leaf issuance. Everything lives under the data directory
 * and is created on first start, then kept:
 *   DATA/ca/root-N.{pem,key}        roots (N = 0 .. alternate roots)
 *   DATA/ca/intermediate-N-M.{pem,key} chain for root N, M from leaf side
 *   DATA/https-cert.pem, https-key.pem  the listener's certificate for
 *     localhost, 127.0.0.1 and ::1, which clients are told to trust.
 * Signing is synchronous (about a millisecond for ECDSA): callers run it on
 * a worker thread. Thread-safe after ca_open. */
#ifndef ARO_CA_H
#define ARO_CA_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <time.h>

#include "acme_crypto.h"
#include "keys.h"
#include "util.h"

typedef struct {
    key_type key_type;          /* of roots and intermediates; default KEY_EC256 */
    int chain_length;           /* certificates from leaf to root inclusive; default 3
                                 * (leaf, one intermediate, root); Pebble's PEBBLE_CHAIN_LENGTH */
    int alternate_roots;        /* extra hierarchies (Link rel="alternate"); default 0 */
    long validity_seconds;      /* leaf validity, default 90 days */
    const char *https_cert;     /* use this certificate/key instead of generating */
    const char *https_key;
} ca_config;

/* Fill cfg with the defaults above. A zeroed ca_config is not the default:
 * KEY_RSA2048 is 0 in key_type; ca_open(dir, NULL, err) also uses these. */
void ca_config_defaults(ca_config *cfg);

typedef struct ca ca;

ca *ca_open(const char *data_dir, const ca_config *cfg, aro_err *err);
void ca_close(ca *c);

typedef struct {
    char serial_hex[48];        /* lower-case hex, no leading zeros beyond one byte */
    char *leaf_pem;
    char **chain_pem;           /* per hierarchy: leaf + intermediates (no root), PEM */
    int nchains;                /* 1 + alternate roots */
    time_t not_before, not_after;
    char *ari_id;               /* RFC 9773 CertID of the leaf, or NULL */
} ca_issued;

/* Issue a leaf for the CSR's names and public key: SAN with every name
 * (DNS and IP), CN the first DNS name when it fits, serverAuth EKU,
 * digitalSignature key usage (plus keyEncipherment for RSA), AKI/SKI,
 * 159-bit random serial, validity from not_before (0 = now, backdated a
 * minute) for validity_seconds unless not_after is set. Refused when the
 * leaf would expire before it begins or outlive its chain
 * (ca_chain_not_after). */
int ca_issue(ca *c, const csr_info *csr, time_t not_before, time_t not_after, ca_issued *out,
             aro_err *err);
void ca_issued_clear(ca_issued *i);

int ca_hierarchies(const ca *c);                 /* 1 + alternate roots */
/* The leaf validity of the CA (validity_seconds or the default). */
long ca_leaf_validity(const ca *c);
/* The earliest notAfter of every CA certificate of every hierarchy: no
 * leaf may outlive it (RFC 5280 6.1.3: the chain is valid only while
 * every certificate in it is). */
time_t ca_chain_not_after(const ca *c);
const char *ca_root_pem(const ca *c, int n);      /* NULL when n out of range */
const char *ca_root_key_pem(const ca *c, int n);
const char *ca_intermediate_pem(const ca *c, int n);    /* the one that signs leaves */
const char *ca_intermediate_key_pem(const ca *c, int n);
const char *ca_https_cert_path(const ca *c);
const char *ca_https_key_path(const ca *c);

/* Does this certificate (PEM or DER parsed by caller) come from us? Used
 * by revocation (7.6) to refuse certificates of another issuer. */
bool ca_issued_by_us(const ca *c, X509 *cert);

#endif
