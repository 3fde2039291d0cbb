/* Private to ca/: the CA's state (struct ca, struct hierarchy) and the
 * building blocks its parts share: x509.c (files, extensions, signing),
 * hierarchy.c (the issuing hierarchies), https.c (the listener's
 * certificate), channel.c (the perspective channel's own root and
 * credentials); ca.c opens them and issues leaves. Not for use outside
 * server/ca/. Functions returning int give 0, or -1 with err set. */
#ifndef ARO_CA_INTERNAL_H
#define ARO_CA_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <time.h>

#include "ca/ca.h"

#define CA_MAX_CHAIN 6
#define CA_MAX_INTERMEDIATES (CA_MAX_CHAIN - 2)
#define CA_MAX_ALTERNATES 16
#define CA_DEFAULT_CHAIN 3
#define CA_DEFAULT_VALIDITY (90L * 86400)
#define YEAR_SECONDS 31557600L          /* 365.25 days */
#define ROOT_LIFETIME (20 * YEAR_SECONDS)
#define INTERMEDIATE_LIFETIME (10 * YEAR_SECONDS)
#define HTTPS_LIFETIME (5 * YEAR_SECONDS)
/* CA certificates are backdated an hour so that clients with a slow clock
 * accept them right after creation; leaves a minute, as ca.h says. */
#define CA_BACKDATE 3600
#define LEAF_BACKDATE 60
#define PEM_LIMIT (1024 * 1024)

/* KeyUsage bit numbers (RFC 5280 4.2.1.3), for ASN1_BIT_STRING_set_bit;
 * OpenSSL's KU_* constants are masks, not bit numbers. */
enum {
    KU_BIT_DIGITAL_SIGNATURE = 0,
    KU_BIT_KEY_ENCIPHERMENT = 2,
    KU_BIT_KEY_CERT_SIGN = 5,
    KU_BIT_CRL_SIGN = 6,
};

struct hierarchy {
    X509 *root;
    EVP_PKEY *root_key;
    X509 *inter[CA_MAX_INTERMEDIATES];     /* [0] is the issuing CA */
    EVP_PKEY *inter_key[CA_MAX_INTERMEDIATES];
    char *root_pem, *root_key_pem;
    char *issuer_pem, *issuer_key_pem;     /* issuing CA (root when no intermediates) */
    char *chain_tail;                      /* intermediates, leaf side first, PEM */
};

struct ca {
    int nh, nint;
    key_type kt;
    long validity;
    struct hierarchy *h;
    EVP_PKEY *issuer_key;                  /* borrowed from h[0] */
    const EVP_MD *md;
    unsigned char *issuer_name_der;
    int issuer_name_len;
    unsigned char issuer_skid[EVP_MAX_MD_SIZE];
    int issuer_skid_len;
    char *https_cert, *https_key;
};

/* ---- x509.c: helpers, files, building and signing certificates ---- */

/* err = what + OpenSSL's reason; the thread's error queue is emptied. */
void ca_ossl_fail(aro_err *err, const char *what);
bool ca_file_exists(const char *path);
char *ca_random_hex(size_t bytes);
/* The digest to sign with for a key (NULL for Ed25519). */
const EVP_MD *ca_sign_md(EVP_PKEY *key);
bool ca_key_is_type(EVP_PKEY *key, key_type t);
/* Durability of renames (fsync of the directory), cleanup of a flat
 * directory and of interrupted creations (DATA/ca.tmp-*). */
int ca_fsync_dir(const char *path, aro_err *err);
void ca_remove_flat_dir(const char *path);
void ca_remove_stale_tmp(const char *data_dir);
/* PEM files: a certificate, and a certificate with its key (NAME.pem,
 * NAME.key under dir; keys 0600). */
X509 *ca_cert_load(const char *path, aro_err *err);
int ca_cert_save(X509 *x, const char *path, aro_err *err);
int ca_pair_load(const char *dir, const char *name, X509 **cert, EVP_PKEY **key, aro_err *err);
int ca_pair_save(const char *dir, const char *name, X509 *cert, EVP_PKEY *key, aro_err *err);
/* Extensions (RFC 5280 4.2.1). */
int ca_add_basic_constraints(X509 *x, bool is_ca, int pathlen, aro_err *err);
int ca_add_key_usage(X509 *x, unsigned bits, aro_err *err);
/* extendedKeyUsage with the one purpose nid (NID_server_auth, NID_client_auth). */
int ca_add_eku(X509 *x, int nid, aro_err *err);
int ca_add_eku_server_auth(X509 *x, aro_err *err);
int ca_add_san(X509 *x, const char *const *dns, size_t ndns, const char *const *ips, size_t nips, int critical, aro_err *err);
int ca_add_ski(X509 *x, aro_err *err);
int ca_add_aki(X509 *x, const unsigned char *keyid, int len, aro_err *err);
int ca_cert_skid(X509 *x, unsigned char out[EVP_MAX_MD_SIZE], int *len);
/* A v3 certificate with subject CN cn (none when NULL), key pub (none
 * when NULL: the caller sets it), validity
 * nb..na and a random positive 159-bit serial (hex in hex); unsigned. */
X509 *ca_cert_skeleton(const char *cn, EVP_PKEY *pub, time_t nb, time_t na, char hex[48], aro_err *err);
int ca_cert_sign(X509 *x, EVP_PKEY *key, aro_err *err);
/* A leaf's SubjectPublicKeyInfo copied from the CSR's (csr_info.spki: the
 * algorithm and bits as the CSR had them), for a skeleton made with pub
 * NULL. */
int ca_copy_spki(X509 *x, const X509_PUBKEY *from, aro_err *err);
/* A CA certificate: self-signed when issuer is NULL. */
X509 *ca_cert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int pathlen, long lifetime,
                   aro_err *err);


/* ---- hierarchy.c ---- */

void ca_hierarchy_free(struct hierarchy *h, int nint);
/* Create (first start) or load DATA/ca, check it, set up the issuer. */
int ca_hierarchies_open(ca *c, const char *data_dir, aro_err *err);

/* ---- https.c ---- */

/* The listener's certificate: the configured one, or DATA/https-*.pem
 * (made at first start for localhost, 127.0.0.1 and ::1). */
int ca_https_open(ca *c, const char *data_dir, const ca_config *cfg, aro_err *err);

#endif
