#include "ca/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "random.h"

/* ---- small helpers ---------------------------------------------------- */

/* Put OpenSSL's reason for the failure after our own words, and leave the
 * thread's error queue empty for the next caller. */
void ca_ossl_fail(aro_err *err, const char *what)
{
    char buf[256] = "";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    aro_err_set(err, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

bool ca_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

char *ca_random_hex(size_t bytes)
{
    unsigned char raw[16];
    random_bytes(raw, bytes);
    return hex_lower(raw, bytes);
}

/* The digest for signatures by key: SHA-384 for P-384 so the strength
 * matches the curve, SHA-256 otherwise (RFC 5758 3.2). Ed25519 would need
 * a NULL digest and is not offered for CA keys; NULL means unsupported. */
const EVP_MD *ca_sign_md(EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "EC"))
        return EVP_PKEY_get_bits(key) >= 384 ? EVP_sha384() : EVP_sha256();
    if (EVP_PKEY_is_a(key, "RSA"))
        return EVP_sha256();
    return NULL;
}

bool ca_key_is_type(EVP_PKEY *key, key_type t)
{
    int bits = EVP_PKEY_get_bits(key);
    switch (t) {
    case KEY_RSA2048: return EVP_PKEY_is_a(key, "RSA") && bits == 2048;
    case KEY_RSA3072: return EVP_PKEY_is_a(key, "RSA") && bits == 3072;
    case KEY_RSA4096: return EVP_PKEY_is_a(key, "RSA") && bits == 4096;
    case KEY_EC256: return EVP_PKEY_is_a(key, "EC") && bits == 256;
    case KEY_EC384: return EVP_PKEY_is_a(key, "EC") && bits == 384;
    case KEY_ED25519: return EVP_PKEY_is_a(key, "ED25519");
    }
    return false;
}

/* fsync a directory so that a rename in it survives a crash. */
int ca_fsync_dir(const char *path, aro_err *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        aro_err_set(err, "cannot sync directory %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Remove a directory holding only files (what a half-built DATA/ca.tmp-*
 * can contain). */
void ca_remove_flat_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
                unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
    }
    rmdir(path);
}

void ca_remove_stale_tmp(const char *data_dir)
{
    DIR *d = opendir(data_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "ca.tmp-", 7) == 0) {
            char *p = xasprintf("%s/%s", data_dir, e->d_name);
            ca_remove_flat_dir(p);
            free(p);
        }
    }
    closedir(d);
}

/* ---- reading and writing PEM files ---------------------------------- */

static X509 *cert_from_pem(const char *pem, size_t len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

X509 *ca_cert_load(const char *path, aro_err *err)
{
    size_t len = 0;
    char *pem = file_read_all(path, PEM_LIMIT, &len, err);
    if (!pem)
        return NULL;
    X509 *x = cert_from_pem(pem, len);
    free(pem);
    if (!x)
        ca_ossl_fail(err, path);
    return x;
}

int ca_cert_save(X509 *x, const char *path, aro_err *err)
{
    char *pem = x509_to_pem(x);
    int rc = pem ? file_write_atomic(path, pem, strlen(pem), 0644, err) : -1;
    if (!pem)
        ca_ossl_fail(err, "cannot encode certificate");
    free(pem);
    return rc;
}

/* Certificate and key stored as DIR/NAME.pem and DIR/NAME.key; the key
 * must be the certificate's. */
int ca_pair_load(const char *dir, const char *name, X509 **cert, EVP_PKEY **key,
                     aro_err *err)
{
    int rc = -1;
    char *cpath = xasprintf("%s/%s.pem", dir, name);
    char *kpath = xasprintf("%s/%s.key", dir, name);
    *cert = ca_cert_load(cpath, err);
    if (!*cert)
        goto out;
    *key = key_load_pem(kpath, err);
    if (!*key)
        goto out;
    if (X509_check_private_key(*cert, *key) != 1) {
        ERR_clear_error();
        aro_err_set(err, "%s does not hold the key of %s", kpath, cpath);
        goto out;
    }
    rc = 0;
out:
    free(cpath);
    free(kpath);
    return rc;
}

int ca_pair_save(const char *dir, const char *name, X509 *cert, EVP_PKEY *key,
                     aro_err *err)
{
    char *cpath = xasprintf("%s/%s.pem", dir, name);
    char *kpath = xasprintf("%s/%s.key", dir, name);
    /* Key first: a certificate on disk then always has its key. */
    int rc = key_save_pem(key, kpath, err) == 0 && ca_cert_save(cert, cpath, err) == 0 ? 0 : -1;
    free(cpath);
    free(kpath);
    return rc;
}

/* ---- building certificates ------------------------------------------ */

static int add_ext(X509 *x, int nid, void *value, int critical, aro_err *err)
{
    if (X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_REPLACE) != 1) {
        ca_ossl_fail(err, "cannot add certificate extension");
        return -1;
    }
    return 0;
}

/* basicConstraints, always critical (RFC 5280 4.2.1.9: MUST be critical in
 * CA certificates; we mark leaves too, as the Baseline Requirements allow).
 * pathlen < 0: no limit. */
int ca_add_basic_constraints(X509 *x, bool is_ca, int pathlen, aro_err *err)
{
    int rc = -1;
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    bc->ca = is_ca ? 0xff : 0;
    if (is_ca && pathlen >= 0) {
        bc->pathlen = ASN1_INTEGER_new();
        if (!bc->pathlen || !ASN1_INTEGER_set(bc->pathlen, pathlen)) {
            ca_ossl_fail(err, "cannot set pathLenConstraint");
            goto out;
        }
    }
    rc = add_ext(x, NID_basic_constraints, bc, 1, err);
out:
    BASIC_CONSTRAINTS_free(bc);
    return rc;
}

/* keyUsage, critical (RFC 5280 4.2.1.3: SHOULD be critical). bits is a
 * mask of 1 << KU_BIT_*. */
int ca_add_key_usage(X509 *x, unsigned bits, aro_err *err)
{
    int rc = -1;
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    for (int i = 0; i < 9; i++) {
        if ((bits & (1u << i)) && !ASN1_BIT_STRING_set_bit(ku, i, 1)) {
            ca_ossl_fail(err, "cannot set keyUsage");
            goto out;
        }
    }
    rc = add_ext(x, NID_key_usage, ku, 1, err);
out:
    ASN1_BIT_STRING_free(ku);
    return rc;
}

int ca_add_eku(X509 *x, int nid, aro_err *err)
{
    EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
    int rc = -1;
    if (!eku || !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(nid))) {
        ca_ossl_fail(err, "cannot build extendedKeyUsage");
        goto out;
    }
    rc = add_ext(x, NID_ext_key_usage, eku, 0, err);
out:
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    return rc;
}

int ca_add_eku_server_auth(X509 *x, aro_err *err) { return ca_add_eku(x, NID_server_auth, err); }

/* subjectAltName with dNSName and iPAddress entries (RFC 5280 4.2.1.6). */
int ca_add_san(X509 *x, const char *const *dns, size_t ndns, const char *const *ips,
                   size_t nips, int critical, aro_err *err)
{
    int rc = -1;
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    for (size_t i = 0; gens && i < ndns + nips; i++) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_STRING *v = i < ndns ? ASN1_IA5STRING_new() : a2i_IPADDRESS(ips[i - ndns]);
        if (!gn || !v || (i < ndns && !ASN1_STRING_set(v, dns[i], -1))) {
            GENERAL_NAME_free(gn);
            ASN1_STRING_free(v);
            aro_err_set(err, "cannot encode name %s", i < ndns ? dns[i] : ips[i - ndns]);
            ERR_clear_error();
            goto out;
        }
        GENERAL_NAME_set0_value(gn, i < ndns ? GEN_DNS : GEN_IPADD, v);
        if (!sk_GENERAL_NAME_push(gens, gn)) {
            GENERAL_NAME_free(gn);
            ca_ossl_fail(err, "cannot build subjectAltName");
            goto out;
        }
    }
    rc = gens ? add_ext(x, NID_subject_alt_name, gens, critical, err) : -1;
out:
    GENERAL_NAMES_free(gens);
    return rc;
}

/* subjectKeyIdentifier: SHA-1 of the subjectPublicKey BIT STRING, method
 * (1) of RFC 5280 4.2.1.2. Non-critical, as that section requires. */
int ca_add_ski(X509 *x, aro_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int rc = -1;
    ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
    if (!ski || !X509_pubkey_digest(x, EVP_sha1(), md, &len) ||
        !ASN1_OCTET_STRING_set(ski, md, (int)len)) {
        ca_ossl_fail(err, "cannot compute subjectKeyIdentifier");
        goto out;
    }
    rc = add_ext(x, NID_subject_key_identifier, ski, 0, err);
out:
    ASN1_OCTET_STRING_free(ski);
    return rc;
}

/* authorityKeyIdentifier with keyIdentifier only (RFC 5280 4.2.1.1: MUST
 * be present except in self-signed certificates, MUST NOT be critical).
 * Self-signed ones get it too: strict verifiers (OpenSSL's X509_STRICT,
 * which Python 3.13 enables) are then satisfied in every position. */
int ca_add_aki(X509 *x, const unsigned char *keyid, int len, aro_err *err)
{
    int rc = -1;
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    if (!akid || !(akid->keyid = ASN1_OCTET_STRING_new()) ||
        !ASN1_OCTET_STRING_set(akid->keyid, keyid, len)) {
        ca_ossl_fail(err, "cannot build authorityKeyIdentifier");
        goto out;
    }
    rc = add_ext(x, NID_authority_key_identifier, akid, 0, err);
out:
    AUTHORITY_KEYID_free(akid);
    return rc;
}

/* The keyIdentifier of a certificate's subjectKeyIdentifier extension. */
int ca_cert_skid(X509 *x, unsigned char out[EVP_MAX_MD_SIZE], int *len)
{
    ASN1_OCTET_STRING *ski = X509_get_ext_d2i(x, NID_subject_key_identifier, NULL, NULL);
    int rc = -1;
    if (ski && ASN1_STRING_length(ski) > 0 && ASN1_STRING_length(ski) <= EVP_MAX_MD_SIZE) {
        *len = ASN1_STRING_length(ski);
        memcpy(out, ASN1_STRING_get0_data(ski), (size_t)*len);
        rc = 0;
    }
    ASN1_OCTET_STRING_free(ski);
    return rc;
}

/* A positive serial of 20 octets at most (RFC 5280 4.1.2.2): 6 octets of
 * the issuance time in milliseconds, then 112 random bits (the CA/B Forum
 * asks for 64 or more). The time first, as the store's ids, so that the
 * certificates and renewalInfo tables, keyed by serial, take each new one
 * near the last instead of on a random page of the whole file. The time's
 * top bit is clear (until the year 6429), so the DER INTEGER needs no sign
 * octet. hex, when given, receives it in lower case. */
static int set_random_serial(X509 *x, char hex[48], aro_err *err)
{
    unsigned char raw[20];
    int rc = -1;
    char *h = NULL;
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long ms = (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
    for (int i = 0; i < 6; i++)
        raw[i] = (unsigned char)(ms >> (8 * (5 - i)));
    raw[0] &= 0x7f;
    do {
        random_bytes(raw + 6, sizeof raw - 6);
        bn = BN_bin2bn(raw, sizeof raw, bn);
    } while (bn && BN_is_zero(bn));
    if (!bn || !(serial = BN_to_ASN1_INTEGER(bn, NULL)) || !X509_set_serialNumber(x, serial)) {
        ca_ossl_fail(err, "cannot set serial number");
        goto out;
    }
    if (hex) {
        if (!(h = BN_bn2hex(bn)) || strlen(h) >= 48) {
            ca_ossl_fail(err, "cannot format serial number");
            goto out;
        }
        for (size_t i = 0; h[i]; i++)
            hex[i] = (char)(h[i] >= 'A' && h[i] <= 'F' ? h[i] - 'A' + 'a' : h[i]);
        hex[strlen(h)] = '\0';
    }
    rc = 0;
out:
    OPENSSL_free(h);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    return rc;
}

/* The fields every certificate has: v3, serial, validity (RFC 5280 4.1.2.5;
 * ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after, as
 * that section requires), public key, and a subject of just a CN (or empty
 * when cn is NULL). */
X509 *ca_cert_skeleton(const char *cn, EVP_PKEY *pub, time_t nb, time_t na, char hex[48],
                           aro_err *err)
{
    X509 *x = X509_new();
    if (!x || !X509_set_version(x, X509_VERSION_3) || set_random_serial(x, hex, err) < 0)
        goto fail;
    X509_NAME *subj = X509_get_subject_name(x);
    if (!ASN1_TIME_set(X509_getm_notBefore(x), nb) || !ASN1_TIME_set(X509_getm_notAfter(x), na) ||
        (pub && !X509_set_pubkey(x, pub)))
        goto fail_ossl;
    if (cn && !X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
                                          (const unsigned char *)cn, -1, -1, 0))
        goto fail_ossl;
    return x;
fail_ossl:
    ca_ossl_fail(err, "cannot build certificate");
fail:
    X509_free(x);
    return NULL;
}

int ca_cert_sign(X509 *x, EVP_PKEY *key, aro_err *err)
{
    const EVP_MD *md = ca_sign_md(key);
    if (!md) {
        aro_err_set(err, "unsupported CA key type %s", EVP_PKEY_get0_type_name(key));
        return -1;
    }
    if (X509_sign(x, key, md) <= 0) {
        ca_ossl_fail(err, "cannot sign certificate");
        return -1;
    }
    return 0;
}

/* A CA certificate for key named cn, signed by issuer (NULL: self-signed).
 * basicConstraints CA:TRUE critical with pathlen (< 0: none, for roots);
 * keyCertSign and cRLSign (RFC 5280 4.2.1.3); SKI and AKI. */
X509 *ca_cert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                          int pathlen, long lifetime, aro_err *err)
{
    time_t nb = time(NULL) - CA_BACKDATE;
    unsigned char akid[EVP_MAX_MD_SIZE];
    int akid_len = 0;
    X509 *x = ca_cert_skeleton(cn, key, nb, nb + lifetime, NULL, err);
    if (!x)
        return NULL;
    X509_NAME *iname = issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x);
    if (!X509_set_issuer_name(x, iname)) {
        ca_ossl_fail(err, "cannot set issuer");
        goto fail;
    }
    if (ca_add_basic_constraints(x, true, pathlen, err) < 0 ||
        ca_add_key_usage(x, 1u << KU_BIT_KEY_CERT_SIGN | 1u << KU_BIT_CRL_SIGN, err) < 0 ||
        ca_add_ski(x, err) < 0)
        goto fail;
    if (ca_cert_skid(issuer ? issuer : x, akid, &akid_len) < 0) {
        aro_err_set(err, "issuer certificate has no subjectKeyIdentifier");
        goto fail;
    }
    if (ca_add_aki(x, akid, akid_len, err) < 0 || ca_cert_sign(x, issuer_key, err) < 0)
        goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

int ca_copy_spki(X509 *x, const X509_PUBKEY *from, aro_err *err)
{
    /* The CSR's SubjectPublicKeyInfo as it is, bytes and algorithm
     * parameters: X509_set_pubkey would encode the key again through an
     * OpenSSL 3 encoder, the costliest step of building a leaf. */
    if (x509_pubkey_copy(X509_get_X509_PUBKEY(x), from) < 0) {
        ca_ossl_fail(err, "cannot set the certificate's public key from the CSR's");
        return -1;
    }
    return 0;
}
