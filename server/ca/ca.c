/* The certificate authority: the issuing hierarchies under DATA/ca, the
 * listener's HTTPS certificate, and leaf issuance (RFC 8555 7.4, 7.4.2).
 *
 * Layout of one hierarchy n (n = 0 .. alternate roots):
 *   root-n                   self-signed trust anchor
 *   intermediate-n-(N-1) ..  signed by the root, then each by the previous
 *   intermediate-n-0         the issuing CA, signs every leaf
 * N = chain_length - 2; with chain_length 2 the root itself is the issuing
 * CA.
 *
 * Alternate roots (Pebble's PEBBLE_ALTERNATE_ROOTS) are separate roots, not
 * cross-signatures. One leaf must chain to every one of them, so the issuing
 * CA of every hierarchy has the same subject name and the same key: the
 * leaf's issuer name and authority key identifier (RFC 5280 4.1.2.4,
 * 4.2.1.1) then match each hierarchy's issuing certificate, and its
 * signature verifies under each. With chain_length 2 the issuing CA is the
 * root, so the alternate roots share key and name and differ only in
 * serial number; that is the only way a directly-signed leaf can verify
 * under more than one root.
 *
 * Creation is crash-safe: everything is written into DATA/ca.tmp-XXXXXX,
 * which is renamed to DATA/ca only when complete; leftovers of an
 * interrupted creation are removed on the next start. After creation the
 * hierarchy is loaded back from disk by the same code that loads it on
 * every later start, so there is one path that checks the files.
 *
 * Thread safety: after ca_open nothing in struct ca is written. ca_issue
 * only reads it; the issuer name is kept as DER and decoded per call
 * because an X509_NAME caches its encodings lazily. The issuing key is an
 * EVP_PKEY shared read-only between threads, which OpenSSL 3 allows. */
#include "ca/ca.h"
#include "random.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- small helpers ---------------------------------------------------- */

/* Put OpenSSL's reason for the failure after our own words, and leave the
 * thread's error queue empty for the next caller. */
static void ossl_fail(aro_err *err, const char *what)
{
    char buf[256] = "";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    aro_err_set(err, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *random_hex(size_t bytes)
{
    unsigned char raw[16];
    char *out = xmalloc(2 * bytes + 1);
    random_bytes(raw, bytes);
    for (size_t i = 0; i < bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return out;
}

/* The digest for signatures by key: SHA-384 for P-384 so the strength
 * matches the curve, SHA-256 otherwise (RFC 5758 3.2). Ed25519 would need
 * a NULL digest and is not offered for CA keys; NULL means unsupported. */
static const EVP_MD *sign_md(EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "EC"))
        return EVP_PKEY_get_bits(key) >= 384 ? EVP_sha384() : EVP_sha256();
    if (EVP_PKEY_is_a(key, "RSA"))
        return EVP_sha256();
    return NULL;
}

static bool key_is_type(EVP_PKEY *key, key_type t)
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
static int fsync_dir(const char *path, aro_err *err)
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
static void remove_flat_dir(const char *path)
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

static void remove_stale_tmp(const char *data_dir)
{
    DIR *d = opendir(data_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "ca.tmp-", 7) == 0) {
            char *p = xasprintf("%s/%s", data_dir, e->d_name);
            remove_flat_dir(p);
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

static X509 *cert_load(const char *path, aro_err *err)
{
    size_t len = 0;
    char *pem = file_read_all(path, PEM_LIMIT, &len, err);
    if (!pem)
        return NULL;
    X509 *x = cert_from_pem(pem, len);
    free(pem);
    if (!x)
        ossl_fail(err, path);
    return x;
}

static int cert_save(X509 *x, const char *path, aro_err *err)
{
    char *pem = x509_to_pem(x);
    int rc = pem ? file_write_atomic(path, pem, strlen(pem), 0644, err) : -1;
    if (!pem)
        ossl_fail(err, "cannot encode certificate");
    free(pem);
    return rc;
}

/* Certificate and key stored as DIR/NAME.pem and DIR/NAME.key; the key
 * must be the certificate's. */
static int pair_load(const char *dir, const char *name, X509 **cert, EVP_PKEY **key,
                     aro_err *err)
{
    int rc = -1;
    char *cpath = xasprintf("%s/%s.pem", dir, name);
    char *kpath = xasprintf("%s/%s.key", dir, name);
    *cert = cert_load(cpath, err);
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

static int pair_save(const char *dir, const char *name, X509 *cert, EVP_PKEY *key,
                     aro_err *err)
{
    char *cpath = xasprintf("%s/%s.pem", dir, name);
    char *kpath = xasprintf("%s/%s.key", dir, name);
    /* Key first: a certificate on disk then always has its key. */
    int rc = key_save_pem(key, kpath, err) == 0 && cert_save(cert, cpath, err) == 0 ? 0 : -1;
    free(cpath);
    free(kpath);
    return rc;
}

/* ---- building certificates ------------------------------------------ */

static int add_ext(X509 *x, int nid, void *value, int critical, aro_err *err)
{
    if (X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_REPLACE) != 1) {
        ossl_fail(err, "cannot add certificate extension");
        return -1;
    }
    return 0;
}

/* basicConstraints, always critical (RFC 5280 4.2.1.9: MUST be critical in
 * CA certificates; we mark leaves too, as the Baseline Requirements allow).
 * pathlen < 0: no limit. */
static int add_basic_constraints(X509 *x, bool is_ca, int pathlen, aro_err *err)
{
    int rc = -1;
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    bc->ca = is_ca ? 0xff : 0;
    if (is_ca && pathlen >= 0) {
        bc->pathlen = ASN1_INTEGER_new();
        if (!bc->pathlen || !ASN1_INTEGER_set(bc->pathlen, pathlen)) {
            ossl_fail(err, "cannot set pathLenConstraint");
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
static int add_key_usage(X509 *x, unsigned bits, aro_err *err)
{
    int rc = -1;
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    for (int i = 0; i < 9; i++) {
        if ((bits & (1u << i)) && !ASN1_BIT_STRING_set_bit(ku, i, 1)) {
            ossl_fail(err, "cannot set keyUsage");
            goto out;
        }
    }
    rc = add_ext(x, NID_key_usage, ku, 1, err);
out:
    ASN1_BIT_STRING_free(ku);
    return rc;
}

static int add_eku_server_auth(X509 *x, aro_err *err)
{
    EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
    int rc = -1;
    if (!eku || !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth))) {
        ossl_fail(err, "cannot build extendedKeyUsage");
        goto out;
    }
    rc = add_ext(x, NID_ext_key_usage, eku, 0, err);
out:
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    return rc;
}

/* subjectAltName with dNSName and iPAddress entries (RFC 5280 4.2.1.6). */
static int add_san(X509 *x, const char *const *dns, size_t ndns, const char *const *ips,
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
            ossl_fail(err, "cannot build subjectAltName");
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
static int add_ski(X509 *x, aro_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int rc = -1;
    ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
    if (!ski || !X509_pubkey_digest(x, EVP_sha1(), md, &len) ||
        !ASN1_OCTET_STRING_set(ski, md, (int)len)) {
        ossl_fail(err, "cannot compute subjectKeyIdentifier");
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
static int add_aki(X509 *x, const unsigned char *keyid, int len, aro_err *err)
{
    int rc = -1;
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    if (!akid || !(akid->keyid = ASN1_OCTET_STRING_new()) ||
        !ASN1_OCTET_STRING_set(akid->keyid, keyid, len)) {
        ossl_fail(err, "cannot build authorityKeyIdentifier");
        goto out;
    }
    rc = add_ext(x, NID_authority_key_identifier, akid, 0, err);
out:
    AUTHORITY_KEYID_free(akid);
    return rc;
}

/* The keyIdentifier of a certificate's subjectKeyIdentifier extension. */
static int cert_skid(X509 *x, unsigned char out[EVP_MAX_MD_SIZE], int *len)
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

/* A positive serial of 159 random bits (RFC 5280 4.1.2.2: positive, at
 * most 20 octets; the CA/B Forum asks for 64+ bits of randomness). With the
 * top bit clear the DER INTEGER needs no sign octet, so it fits 20 octets.
 * hex, when given, receives it in lower case. */
static int set_random_serial(X509 *x, char hex[48], aro_err *err)
{
    unsigned char raw[20];
    int rc = -1;
    char *h = NULL;
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;
    do {
        random_bytes(raw, sizeof raw);
        raw[0] &= 0x7f;
        bn = BN_bin2bn(raw, sizeof raw, bn);
    } while (bn && BN_is_zero(bn));
    if (!bn || !(serial = BN_to_ASN1_INTEGER(bn, NULL)) || !X509_set_serialNumber(x, serial)) {
        ossl_fail(err, "cannot set serial number");
        goto out;
    }
    if (hex) {
        if (!(h = BN_bn2hex(bn)) || strlen(h) >= 48) {
            ossl_fail(err, "cannot format serial number");
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
static X509 *cert_skeleton(const char *cn, EVP_PKEY *pub, time_t nb, time_t na, char hex[48],
                           aro_err *err)
{
    X509 *x = X509_new();
    if (!x || !X509_set_version(x, X509_VERSION_3) || set_random_serial(x, hex, err) < 0)
        goto fail;
    X509_NAME *subj = X509_get_subject_name(x);
    if (!ASN1_TIME_set(X509_getm_notBefore(x), nb) || !ASN1_TIME_set(X509_getm_notAfter(x), na) ||
        !X509_set_pubkey(x, pub))
        goto fail_ossl;
    if (cn && !X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
                                          (const unsigned char *)cn, -1, -1, 0))
        goto fail_ossl;
    return x;
fail_ossl:
    ossl_fail(err, "cannot build certificate");
fail:
    X509_free(x);
    return NULL;
}

static int cert_sign(X509 *x, EVP_PKEY *key, aro_err *err)
{
    const EVP_MD *md = sign_md(key);
    if (!md) {
        aro_err_set(err, "unsupported CA key type %s", EVP_PKEY_get0_type_name(key));
        return -1;
    }
    if (X509_sign(x, key, md) <= 0) {
        ossl_fail(err, "cannot sign certificate");
        return -1;
    }
    return 0;
}

/* A CA certificate for key named cn, signed by issuer (NULL: self-signed).
 * basicConstraints CA:TRUE critical with pathlen (< 0: none, for roots);
 * keyCertSign and cRLSign (RFC 5280 4.2.1.3); SKI and AKI. */
static X509 *ca_cert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                          int pathlen, long lifetime, aro_err *err)
{
    time_t nb = time(NULL) - CA_BACKDATE;
    unsigned char akid[EVP_MAX_MD_SIZE];
    int akid_len = 0;
    X509 *x = cert_skeleton(cn, key, nb, nb + lifetime, NULL, err);
    if (!x)
        return NULL;
    X509_NAME *iname = issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x);
    if (!X509_set_issuer_name(x, iname)) {
        ossl_fail(err, "cannot set issuer");
        goto fail;
    }
    if (add_basic_constraints(x, true, pathlen, err) < 0 ||
        add_key_usage(x, 1u << KU_BIT_KEY_CERT_SIGN | 1u << KU_BIT_CRL_SIGN, err) < 0 ||
        add_ski(x, err) < 0)
        goto fail;
    if (cert_skid(issuer ? issuer : x, akid, &akid_len) < 0) {
        aro_err_set(err, "issuer certificate has no subjectKeyIdentifier");
        goto fail;
    }
    if (add_aki(x, akid, akid_len, err) < 0 || cert_sign(x, issuer_key, err) < 0)
        goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

/* ---- the hierarchies ---------------------------------------------------- */

static void hierarchy_free(struct hierarchy *h, int nint)
{
    X509_free(h->root);
    EVP_PKEY_free(h->root_key);
    for (int m = 0; m < nint; m++) {
        X509_free(h->inter[m]);
        EVP_PKEY_free(h->inter_key[m]);
    }
    free(h->root_pem);
    free(h->root_key_pem);
    free(h->issuer_pem);
    free(h->issuer_key_pem);
    free(h->chain_tail);
    memset(h, 0, sizeof *h);
}

static char *name_root(int n) { return xasprintf("root-%d", n); }
static char *name_inter(int n, int m) { return xasprintf("intermediate-%d-%d", n, m); }

/* Build hierarchy n in memory. The issuing CA uses the shared ikey and
 * icn (see the top of the file); with no intermediates that is the root. */
static int hierarchy_build(struct hierarchy *h, int nint, key_type kt, EVP_PKEY *ikey,
                           const char *icn, const char *shared_root_cn, aro_err *err)
{
    int rc = -1;
    char *cn = NULL;
    if (nint == 0) {
        h->root_key = ikey;
        EVP_PKEY_up_ref(ikey);
        cn = xstrdup(shared_root_cn);
    } else {
        h->root_key = key_generate(kt);
        cn = random_hex(3);
        char *full = xasprintf("aro root %s", cn);
        free(cn);
        cn = full;
    }
    if (!h->root_key) {
        ossl_fail(err, "cannot generate root key");
        goto out;
    }
    h->root = ca_cert_make(cn, h->root_key, NULL, h->root_key, -1, ROOT_LIFETIME, err);
    if (!h->root)
        goto out;
    X509 *parent = h->root;
    EVP_PKEY *parent_key = h->root_key;
    /* From the root side down: pathlen counts the intermediates below. */
    for (int m = nint - 1; m >= 0; m--) {
        free(cn);
        cn = NULL;
        if (m == 0) {
            h->inter_key[m] = ikey;
            EVP_PKEY_up_ref(ikey);
            cn = xstrdup(icn);
        } else {
            char *hex = random_hex(3);
            h->inter_key[m] = key_generate(kt);
            cn = xasprintf("aro intermediate %s", hex);
            free(hex);
        }
        if (!h->inter_key[m]) {
            ossl_fail(err, "cannot generate intermediate key");
            goto out;
        }
        h->inter[m] = ca_cert_make(cn, h->inter_key[m], parent, parent_key, m,
                                   INTERMEDIATE_LIFETIME, err);
        if (!h->inter[m])
            goto out;
        parent = h->inter[m];
        parent_key = h->inter_key[m];
    }
    rc = 0;
out:
    free(cn);
    return rc;
}

static int hierarchy_save(const struct hierarchy *h, int n, int nint, const char *dir,
                          aro_err *err)
{
    char *name = name_root(n);
    int rc = pair_save(dir, name, h->root, h->root_key, err);
    free(name);
    for (int m = 0; rc == 0 && m < nint; m++) {
        name = name_inter(n, m);
        rc = pair_save(dir, name, h->inter[m], h->inter_key[m], err);
        free(name);
    }
    return rc;
}

/* Create every hierarchy in DATA/ca.tmp-XXXXXX, then rename it to cadir:
 * DATA/ca appears complete or not at all. */
static int hierarchies_create(const ca *c, const char *data_dir, const char *cadir, aro_err *err)
{
    int rc = -1;
    struct hierarchy h = {0};
    char *tmp = xasprintf("%s/ca.tmp-XXXXXX", data_dir);
    char *hex = random_hex(3), *hex2 = random_hex(3);
    char *icn = xasprintf("aro intermediate %s", hex);
    char *rcn = xasprintf("aro root %s", hex2);
    bool made = false;
    EVP_PKEY *ikey = key_generate(c->kt);
    if (!ikey) {
        ossl_fail(err, "cannot generate issuing key");
        goto out;
    }
    if (!mkdtemp(tmp)) {
        aro_err_set(err, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    made = true;
    for (int n = 0; n < c->nh; n++) {
        int r = hierarchy_build(&h, c->nint, c->kt, ikey, icn, rcn, err);
        if (r == 0)
            r = hierarchy_save(&h, n, c->nint, tmp, err);
        hierarchy_free(&h, c->nint);
        if (r < 0)
            goto out;
    }
    if (fsync_dir(tmp, err) < 0)
        goto out;
    if (rename(tmp, cadir) < 0) {
        aro_err_set(err, "cannot rename %s to %s: %s", tmp, cadir, strerror(errno));
        goto out;
    }
    made = false;
    rc = fsync_dir(data_dir, err);
out:
    if (made)
        remove_flat_dir(tmp);
    EVP_PKEY_free(ikey);
    free(tmp);
    free(hex);
    free(hex2);
    free(icn);
    free(rcn);
    return rc;
}

/* Is x signed by parent, by name and by signature? */
static bool issued_by(X509 *x, X509 *parent, EVP_PKEY *parent_key)
{
    bool ok = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(parent)) == 0 &&
              X509_verify(x, parent_key) == 1;
    ERR_clear_error();
    return ok;
}

/* Load hierarchy n and check that its files belong together. */
static int hierarchy_load(struct hierarchy *h, int n, int nint, const char *dir, aro_err *err)
{
    char *name = name_root(n);
    int rc = -1;
    if (pair_load(dir, name, &h->root, &h->root_key, err) < 0)
        goto out;
    if (!issued_by(h->root, h->root, h->root_key)) {
        aro_err_set(err, "%s/%s.pem is not a self-signed certificate", dir, name);
        goto out;
    }
    X509 *parent = h->root;
    EVP_PKEY *parent_key = h->root_key;
    for (int m = nint - 1; m >= 0; m--) {
        free(name);
        name = name_inter(n, m);
        if (pair_load(dir, name, &h->inter[m], &h->inter_key[m], err) < 0)
            goto out;
        if (!issued_by(h->inter[m], parent, parent_key)) {
            aro_err_set(err, "%s/%s.pem is not signed by the certificate above it", dir, name);
            goto out;
        }
        parent = h->inter[m];
        parent_key = h->inter_key[m];
    }
    rc = 0;
out:
    free(name);
    return rc;
}

/* PEM texts of a loaded hierarchy, for the accessors and chain building. */
static int hierarchy_pems(struct hierarchy *h, int nint, aro_err *err)
{
    aro_buf tail = {0};
    X509 *issuer = nint ? h->inter[0] : h->root;
    EVP_PKEY *issuer_key = nint ? h->inter_key[0] : h->root_key;
    h->root_pem = x509_to_pem(h->root);
    h->root_key_pem = key_to_pem(h->root_key);
    h->issuer_pem = x509_to_pem(issuer);
    h->issuer_key_pem = key_to_pem(issuer_key);
    for (int m = 0; m < nint; m++) {
        char *p = x509_to_pem(h->inter[m]);
        if (!p)
            break;
        buf_puts(&tail, p);
        free(p);
    }
    buf_puts(&tail, "");      /* an empty tail is "" rather than NULL */
    h->chain_tail = buf_steal(&tail);
    if (!h->root_pem || !h->root_key_pem || !h->issuer_pem || !h->issuer_key_pem) {
        ossl_fail(err, "cannot encode CA certificates");
        return -1;
    }
    return 0;
}

/* The files must be the shape configured: no more roots, no more
 * intermediates. A silent change would invalidate what clients trust, so
 * this is an error the operator resolves by removing DATA/ca. */
static int hierarchy_check_shape(const ca *c, const char *cadir, aro_err *err)
{
    char *last_root = xasprintf("%s/root-%d.pem", cadir, c->nh - 1);
    char *extra_root = xasprintf("%s/root-%d.pem", cadir, c->nh);
    char *last_inter = xasprintf("%s/intermediate-0-%d.pem", cadir, c->nint - 1);
    char *extra_inter = xasprintf("%s/intermediate-0-%d.pem", cadir, c->nint);
    int rc = 0;
    if (!file_exists(last_root) || file_exists(extra_root) ||
        (c->nint > 0 && !file_exists(last_inter)) || file_exists(extra_inter)) {
        aro_err_set(err,
                    "%s holds a hierarchy of another shape than configured (chain length %d, "
                    "%d alternate roots); remove it to create a new one",
                    cadir, c->nint + 2, c->nh - 1);
        rc = -1;
    }
    free(last_root);
    free(extra_root);
    free(last_inter);
    free(extra_inter);
    return rc;
}

/* Every hierarchy's issuing CA must have hierarchy 0's name and key, or a
 * leaf would not verify under the alternate roots. */
static int hierarchy_check_shared(const ca *c, aro_err *err)
{
    X509 *i0 = c->nint ? c->h[0].inter[0] : c->h[0].root;
    EVP_PKEY *k0 = c->nint ? c->h[0].inter_key[0] : c->h[0].root_key;
    for (int n = 0; n < c->nh; n++) {
        X509 *in = c->nint ? c->h[n].inter[0] : c->h[n].root;
        EVP_PKEY *kn = c->nint ? c->h[n].inter_key[0] : c->h[n].root_key;
        if (!key_is_type(c->h[n].root_key, c->kt) || !key_is_type(kn, c->kt)) {
            aro_err_set(err, "CA keys of hierarchy %d are not of the configured type %s", n,
                        key_type_name(c->kt));
            return -1;
        }
        if (X509_NAME_cmp(X509_get_subject_name(in), X509_get_subject_name(i0)) != 0 ||
            EVP_PKEY_eq(kn, k0) != 1) {
            aro_err_set(err, "issuing CA of hierarchy %d differs from hierarchy 0's", n);
            return -1;
        }
    }
    return 0;
}

/* What ca_issue needs of the issuing CA, copied out so that issuing never
 * touches the shared X509 objects. */
static int issuer_setup(ca *c, aro_err *err)
{
    X509 *issuer = c->nint ? c->h[0].inter[0] : c->h[0].root;
    c->issuer_key = c->nint ? c->h[0].inter_key[0] : c->h[0].root_key;
    c->md = sign_md(c->issuer_key);
    if (!c->md) {
        aro_err_set(err, "unsupported CA key type %s", EVP_PKEY_get0_type_name(c->issuer_key));
        return -1;
    }
    c->issuer_name_len = i2d_X509_NAME(X509_get_subject_name(issuer), &c->issuer_name_der);
    if (c->issuer_name_len <= 0) {
        ossl_fail(err, "cannot encode issuer name");
        return -1;
    }
    if (cert_skid(issuer, c->issuer_skid, &c->issuer_skid_len) < 0) {
        aro_err_set(err, "issuing CA certificate has no subjectKeyIdentifier");
        return -1;
    }
    return 0;
}

static int hierarchies_open(ca *c, const char *data_dir, aro_err *err)
{
    int rc = -1;
    char *cadir = xasprintf("%s/ca", data_dir);
    char *root0 = xasprintf("%s/root-0.pem", cadir);
    remove_stale_tmp(data_dir);
    if (!file_exists(root0) && hierarchies_create(c, data_dir, cadir, err) < 0)
        goto out;
    if (hierarchy_check_shape(c, cadir, err) < 0)
        goto out;
    for (int n = 0; n < c->nh; n++) {
        if (hierarchy_load(&c->h[n], n, c->nint, cadir, err) < 0 ||
            hierarchy_pems(&c->h[n], c->nint, err) < 0)
            goto out;
    }
    if (hierarchy_check_shared(c, err) < 0 || issuer_setup(c, err) < 0)
        goto out;
    rc = 0;
out:
    free(cadir);
    free(root0);
    return rc;
}

/* ---- the HTTPS listener certificate --------------------------------- */

static const char *const https_ips[] = {"127.0.0.1", "::1"};

/* Self-signed, CA:TRUE so that it can go straight into a trust bundle
 * (OpenSSL, curl, Go and Python accept it as its own anchor), and
 * serverAuth with digitalSignature so that it also passes as the leaf. */
static X509 *https_cert_make(EVP_PKEY *key, aro_err *err)
{
    static const char *const dns[] = {"localhost"};
    time_t nb = time(NULL) - CA_BACKDATE;
    unsigned char skid[EVP_MAX_MD_SIZE];
    int skid_len = 0;
    char *hex = random_hex(3);
    char *cn = xasprintf("aro localhost %s", hex);
    X509 *x = cert_skeleton(cn, key, nb, nb + HTTPS_LIFETIME, NULL, err);
    if (!x)
        goto out;
    if (!X509_set_issuer_name(x, X509_get_subject_name(x))) {
        ossl_fail(err, "cannot set issuer");
        goto fail;
    }
    if (add_basic_constraints(x, true, -1, err) < 0 ||
        add_key_usage(x, 1u << KU_BIT_DIGITAL_SIGNATURE | 1u << KU_BIT_KEY_CERT_SIGN, err) < 0 ||
        add_eku_server_auth(x, err) < 0 || add_san(x, dns, 1, https_ips, 2, 0, err) < 0 ||
        add_ski(x, err) < 0 || cert_skid(x, skid, &skid_len) < 0 ||
        add_aki(x, skid, skid_len, err) < 0 || cert_sign(x, key, err) < 0)
        goto fail;
    goto out;
fail:
    X509_free(x);
    x = NULL;
out:
    free(hex);
    free(cn);
    return x;
}

static int https_check(const char *cpath, const char *kpath, aro_err *err)
{
    int rc = -1;
    EVP_PKEY *key = NULL;
    X509 *x = cert_load(cpath, err);
    if (!x || !(key = key_load_pem(kpath, err)))
        goto out;
    if (X509_check_private_key(x, key) != 1) {
        ERR_clear_error();
        aro_err_set(err, "%s does not hold the key of %s", kpath, cpath);
        goto out;
    }
    rc = 0;
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

/* Key first, then certificate: the certificate's presence means both are
 * complete, so an interrupted first start just generates them again. */
static int https_create(const char *cpath, const char *kpath, aro_err *err)
{
    int rc = -1;
    X509 *x = NULL;
    EVP_PKEY *key = key_generate(KEY_EC256);
    if (!key) {
        ossl_fail(err, "cannot generate HTTPS key");
        goto out;
    }
    if (!(x = https_cert_make(key, err)) || key_save_pem(key, kpath, err) < 0 ||
        cert_save(x, cpath, err) < 0)
        goto out;
    rc = 0;
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

static int https_open(ca *c, const char *data_dir, const ca_config *cfg, aro_err *err)
{
    if (cfg && (cfg->https_cert || cfg->https_key)) {
        if (!cfg->https_cert || !cfg->https_key) {
            aro_err_set(err, "an HTTPS certificate needs both a certificate and a key file");
            return -1;
        }
        c->https_cert = xstrdup(cfg->https_cert);
        c->https_key = xstrdup(cfg->https_key);
    } else {
        c->https_cert = xasprintf("%s/https-cert.pem", data_dir);
        c->https_key = xasprintf("%s/https-key.pem", data_dir);
        if ((!file_exists(c->https_cert) || !file_exists(c->https_key)) &&
            https_create(c->https_cert, c->https_key, err) < 0)
            return -1;
    }
    return https_check(c->https_cert, c->https_key, err);
}

/* ---- open and close ------------------------------------------------- */

static int config_apply(ca *c, const ca_config *cfg, aro_err *err)
{
    ca_config d;
    ca_config_defaults(&d);
    if (!cfg)
        cfg = &d;
    int chain = cfg->chain_length ? cfg->chain_length : CA_DEFAULT_CHAIN;
    c->kt = cfg->key_type;
    c->validity = cfg->validity_seconds ? cfg->validity_seconds : CA_DEFAULT_VALIDITY;
    if (chain < 2 || chain > CA_MAX_CHAIN) {
        aro_err_set(err, "chain length %d out of range 2..%d", chain, CA_MAX_CHAIN);
        return -1;
    }
    if (cfg->alternate_roots < 0 || cfg->alternate_roots > CA_MAX_ALTERNATES) {
        aro_err_set(err, "alternate roots %d out of range 0..%d", cfg->alternate_roots,
                    CA_MAX_ALTERNATES);
        return -1;
    }
    if (c->validity < 0) {
        aro_err_set(err, "negative certificate validity");
        return -1;
    }
    if (c->kt == KEY_ED25519) {
        aro_err_set(err, "Ed25519 is not supported for CA keys");
        return -1;
    }
    c->nint = chain - 2;
    c->nh = 1 + cfg->alternate_roots;
    return 0;
}

void ca_config_defaults(ca_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->key_type = KEY_EC256;
    cfg->chain_length = CA_DEFAULT_CHAIN;
    cfg->validity_seconds = CA_DEFAULT_VALIDITY;
}

ca *ca_open(const char *data_dir, const ca_config *cfg, aro_err *err)
{
    ca *c = xcalloc(1, sizeof *c);
    if (config_apply(c, cfg, err) < 0)
        goto fail;
    c->h = xcalloc((size_t)c->nh, sizeof *c->h);
    if (mkdir_p(data_dir, 0700) < 0) {
        aro_err_set(err, "cannot create %s: %s", data_dir, strerror(errno));
        goto fail;
    }
    if (hierarchies_open(c, data_dir, err) < 0 || https_open(c, data_dir, cfg, err) < 0)
        goto fail;
    return c;
fail:
    ca_close(c);
    return NULL;
}

void ca_close(ca *c)
{
    if (!c)
        return;
    for (int n = 0; c->h && n < c->nh; n++)
        hierarchy_free(&c->h[n], c->nint);
    free(c->h);
    OPENSSL_free(c->issuer_name_der);
    free(c->https_cert);
    free(c->https_key);
    free(c);
}

/* ---- issuance -------------------------------------------------------- */

/* The leaf's extensions (RFC 8555 7.4 leaves the profile to the CA; this
 * is the usual TLS server profile). */
static int leaf_extensions(const ca *c, X509 *x, const csr_info *csr, bool empty_subject,
                           aro_err *err)
{
    unsigned ku = 1u << KU_BIT_DIGITAL_SIGNATURE;
    /* RSA keys can also be used for RSA key transport in TLS 1.2. */
    if (EVP_PKEY_is_a(csr->pubkey, "RSA"))
        ku |= 1u << KU_BIT_KEY_ENCIPHERMENT;
    /* RFC 5280 4.2.1.6: with an empty subject the SAN MUST be critical. */
    if (add_san(x, (const char *const *)csr->dns, csr->ndns, (const char *const *)csr->ips,
                csr->nips, empty_subject, err) < 0 ||
        add_basic_constraints(x, false, -1, err) < 0 || add_key_usage(x, ku, err) < 0 ||
        add_eku_server_auth(x, err) < 0 || add_ski(x, err) < 0 ||
        add_aki(x, c->issuer_skid, c->issuer_skid_len, err) < 0)
        return -1;
    return 0;
}

/* chain_pem[i]: the leaf followed by hierarchy i's intermediates. */
static void issued_fill(const ca *c, X509 *leaf, ca_issued *out)
{
    out->leaf_pem = x509_to_pem(leaf);
    out->nchains = c->nh;
    out->chain_pem = xcalloc((size_t)c->nh, sizeof *out->chain_pem);
    for (int n = 0; n < c->nh; n++)
        out->chain_pem[n] = xasprintf("%s%s", out->leaf_pem, c->h[n].chain_tail);
}

int ca_issue(ca *c, const csr_info *csr, time_t not_before, time_t not_after, ca_issued *out,
             aro_err *err)
{
    int rc = -1;
    X509 *x = NULL;
    X509_NAME *iname = NULL;
    const unsigned char *p = c->issuer_name_der;
    memset(out, 0, sizeof *out);
    if (!csr->pubkey || csr->ndns + csr->nips == 0) {
        aro_err_set(err, "CSR has no public key or no names");
        goto out;
    }
    out->not_before = not_before ? not_before : time(NULL) - LEAF_BACKDATE;
    out->not_after = not_after ? not_after : out->not_before + c->validity;
    if (out->not_after <= out->not_before) {
        aro_err_set(err, "certificate would expire before it begins");
        goto out;
    }
    /* CN only when it fits ub-common-name (RFC 5280 Appendix A: 64). */
    const char *cn = csr->ndns && strlen(csr->dns[0]) <= 64 ? csr->dns[0] : NULL;
    x = cert_skeleton(cn, csr->pubkey, out->not_before, out->not_after, out->serial_hex, err);
    if (!x)
        goto out;
    if (!(iname = d2i_X509_NAME(NULL, &p, c->issuer_name_len)) || !X509_set_issuer_name(x, iname)) {
        ossl_fail(err, "cannot set issuer name");
        goto out;
    }
    if (leaf_extensions(c, x, csr, cn == NULL, err) < 0)
        goto out;
    if (X509_sign(x, c->issuer_key, c->md) <= 0) {
        ossl_fail(err, "cannot sign certificate");
        goto out;
    }
    issued_fill(c, x, out);
    rc = out->leaf_pem ? 0 : -1;
    if (rc < 0)
        ossl_fail(err, "cannot encode certificate");
out:
    if (rc < 0)
        ca_issued_clear(out);
    X509_NAME_free(iname);
    X509_free(x);
    return rc;
}

void ca_issued_clear(ca_issued *i)
{
    if (!i)
        return;
    free(i->leaf_pem);
    for (int n = 0; i->chain_pem && n < i->nchains; n++)
        free(i->chain_pem[n]);
    free(i->chain_pem);
    memset(i, 0, sizeof *i);
}

/* ---- accessors and issuer check ------------------------------------- */

int ca_hierarchies(const ca *c) { return c->nh; }

const char *ca_root_pem(const ca *c, int n)
{
    return n >= 0 && n < c->nh ? c->h[n].root_pem : NULL;
}

const char *ca_root_key_pem(const ca *c, int n)
{
    return n >= 0 && n < c->nh ? c->h[n].root_key_pem : NULL;
}

const char *ca_intermediate_pem(const ca *c, int n)
{
    return n >= 0 && n < c->nh ? c->h[n].issuer_pem : NULL;
}

const char *ca_intermediate_key_pem(const ca *c, int n)
{
    return n >= 0 && n < c->nh ? c->h[n].issuer_key_pem : NULL;
}

const char *ca_https_cert_path(const ca *c) { return c->https_cert; }
const char *ca_https_key_path(const ca *c) { return c->https_key; }

/* Ours when the issuer name and authority key identifier are those of our
 * issuing CA (RFC 5280 4.1.2.4, 4.2.1.1) and the signature verifies with
 * its key; the last is what matters, the first two make a foreign
 * certificate fail fast and clearly. */
bool ca_issued_by_us(const ca *c, X509 *cert)
{
    bool ok = false;
    const unsigned char *p = c->issuer_name_der;
    X509_NAME *ours = d2i_X509_NAME(NULL, &p, c->issuer_name_len);
    AUTHORITY_KEYID *akid = X509_get_ext_d2i(cert, NID_authority_key_identifier, NULL, NULL);
    if (!ours || !akid || !akid->keyid ||
        X509_NAME_cmp(X509_get_issuer_name(cert), ours) != 0)
        goto out;
    if (ASN1_STRING_length(akid->keyid) != c->issuer_skid_len ||
        memcmp(ASN1_STRING_get0_data(akid->keyid), c->issuer_skid, (size_t)c->issuer_skid_len))
        goto out;
    ok = X509_verify(cert, c->issuer_key) == 1;
out:
    ERR_clear_error();
    AUTHORITY_KEYID_free(akid);
    X509_NAME_free(ours);
    return ok;
}
