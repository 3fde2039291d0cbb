/* The cryptographic pieces of ACME challenges and certificates that both
 * sides need: key authorizations (RFC 8555 8.1), the dns-01 TXT value
 * (8.4), the tls-alpn-01 certificate (RFC 8737 3), CSRs (7.4). */
#ifndef ARO_ACME_CRYPTO_H
#define ARO_ACME_CRYPTO_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* token "." base64url(JWK thumbprint) */
char *acme_key_authorization(const char *token, EVP_PKEY *account_key);
/* base64url(SHA-256(key authorization)) */
char *acme_dns01_txt_value(const char *key_authorization);
/* SHA-256(key authorization), the acmeIdentifier extension's content. */
void acme_tlsalpn01_digest(const char *key_authorization, unsigned char out[32]);

/* A self-signed RFC 8737 certificate for identifier (DNS name or IP
 * address): SAN exactly the identifier, critical acmeIdentifier extension
 * (1.3.6.1.5.5.7.1.31) holding an OCTET STRING of the digest. */
X509 *acme_tlsalpn01_cert(const char *identifier, bool is_ip, const char *key_authorization,
                          EVP_PKEY *key);
/* Check a presented certificate the way RFC 8737 3 asks: exactly one SAN
 * equal to the identifier, a critical acmeIdentifier extension whose value
 * is the digest. 0 when it passes; -1 with err explaining why not. No chain
 * verification (the critical extension would fail it). */
int acme_tlsalpn01_check(X509 *cert, const char *identifier, bool is_ip,
                         const char *key_authorization, aro_err *err);

/* CSR for the given names (DNS names or IP addresses, decided per name),
 * first name also the CN when it fits 64 bytes; DER, malloc'd. */
int csr_create_der(EVP_PKEY *key, const char *const *names, size_t n, unsigned char **der,
                   size_t *der_len, aro_err *err);
/* The same with key's SubjectPublicKeyInfo encoded once by the caller
 * (X509_PUBKEY_set): in OpenSSL 3 that encoding is most of what a CSR
 * costs, for a client that signs many with one key (the benchmark's). */
int csr_create_der_spki(EVP_PKEY *key, const X509_PUBKEY *spki, const char *const *names, size_t n,
                        unsigned char **der, size_t *der_len, aro_err *err);
/* to gets copies of from's algorithm (with its parameters) and key bits,
 * nothing decoded or encoded again. 0, or -1. */
int x509_pubkey_copy(X509_PUBKEY *to, const X509_PUBKEY *from);

/* A parsed, signature-checked CSR: the identifiers it asks for (SANs and
 * CN), lower-cased, deduplicated, its public key, the key's algorithm and
 * bits as the CSR carried them, and the signature algorithm. */
typedef struct {
    char **dns;        size_t ndns;
    char **ips;        size_t nips;   /* textual form, canonical (inet_ntop) */
    EVP_PKEY *pubkey;  /* owned */
    X509_PUBKEY *spki; /* owned; algorithm and bits only (no EVP_PKEY in it) */
    int sig_nid;       /* the CSR's signature algorithm */
} csr_info;
int csr_parse_der(const unsigned char *der, size_t len, csr_info *out, aro_err *err);
void csr_info_free(csr_info *c);
/* RFC 7638 thumbprint of the CSR's key, as jwk_thumbprint(c->pubkey) gives
 * it, taken from the key's bits where they are an uncompressed EC point
 * (no export of the key, which costs a field inversion). malloc'd. */
char *csr_key_thumbprint(const csr_info *c);

/* RFC 9773 4.1 CertID of a certificate: base64url(AKI keyIdentifier) "."
 * base64url(DER content octets of the serial number). NULL when the
 * certificate has no authority key identifier. malloc'd. */
char *acme_ari_cert_id(X509 *x);

/* PEM helpers for certificates. */
char *x509_to_pem(X509 *x);
/* Split a PEM chain into certificates; returns count, -1 on error. */
int x509_chain_from_pem(const char *pem, size_t len, X509 ***out, aro_err *err);

#endif
