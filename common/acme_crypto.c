/* Challenge values (RFC 8555 8.1, 8.4; RFC 8737 3), CSRs (RFC 8555 7.4,
 * RFC 8738 for IP identifiers) and certificate PEM helpers. */
#include "acme_crypto.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "keys.h"

/* id-pe-acmeIdentifier (RFC 8737 6.1). */
#define ACME_IDENTIFIER_OID "1.3.6.1.5.5.7.1.31"
/* RFC 5280 upper bound ub-common-name. */
#define CN_MAX 64
/* The challenge certificate only needs to live for the validation. */
#define TLSALPN_CERT_DAYS 7

char *acme_key_authorization(const char *token, EVP_PKEY *account_key)
{
    char *tp = jwk_thumbprint(account_key);
    char *out;

    if (!tp || !token) {
        free(tp);
        return NULL;
    }
    out = xasprintf("%s.%s", token, tp);
    free(tp);
    return out;
}

void acme_tlsalpn01_digest(const char *key_authorization, unsigned char out[32])
{
    unsigned int len = 32;

    if (!EVP_Digest(key_authorization, strlen(key_authorization), out, &len, EVP_sha256(),
                    NULL))
        memset(out, 0, 32);
}

char *acme_dns01_txt_value(const char *key_authorization)
{
    unsigned char md[32];

    acme_tlsalpn01_digest(key_authorization, md);
    return b64url_encode(md, sizeof(md));
}

/* The signature digest for certificates and CSRs signed by key: NULL for
 * Ed25519 (it hashes internally), SHA-384 to match a P-384 key. */
static const EVP_MD *sig_md_for_key(EVP_PKEY *key)
{
    const char *alg = jws_alg_for_key(key);

    if (!alg || strcmp(alg, "EdDSA") == 0)
        return NULL;
    if (strcmp(alg, "ES384") == 0)
        return EVP_sha384();
    return EVP_sha256();
}

/* An IP address in binary (4 or 16 octets); -1 if s is not one. */
static int ip_to_bin(const char *s, unsigned char out[16], size_t *len)
{
    if (inet_pton(AF_INET, s, out) == 1) {
        *len = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        *len = 16;
        return 0;
    }
    return -1;
}

/* One GENERAL_NAME for a DNS name or an IP address. */
static GENERAL_NAME *make_general_name(const char *name, bool is_ip)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = NULL;
    ASN1_OCTET_STRING *os = NULL;
    unsigned char ip[16];
    size_t iplen = 0;

    if (!gn)
        return NULL;
    if (is_ip) {
        os = ASN1_OCTET_STRING_new();
        if (!os || ip_to_bin(name, ip, &iplen) != 0 || !ASN1_OCTET_STRING_set(os, ip, (int)iplen))
            goto fail;
        GENERAL_NAME_set0_value(gn, GEN_IPADD, os);
    } else {
        ia5 = ASN1_IA5STRING_new();
        if (!ia5 || !ASN1_STRING_set(ia5, name, (int)strlen(name)))
            goto fail;
        GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    }
    return gn;
fail:
    ASN1_OCTET_STRING_free(os);
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gn);
    return NULL;
}

/* A subjectAltName extension (non-critical: the subject is not empty). */
static X509_EXTENSION *make_san_ext(const char *const *names, const bool *is_ip, size_t n)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    X509_EXTENSION *ext = NULL;

    if (!gens)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        GENERAL_NAME *gn = make_general_name(names[i], is_ip[i]);
        if (!gn || !sk_GENERAL_NAME_push(gens, gn)) {
            GENERAL_NAME_free(gn);
            goto out;
        }
    }
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
out:
    GENERAL_NAMES_free(gens);
    return ext;
}

/* The acmeIdentifier extension: critical, extnValue = DER of
 * OCTET STRING (SIZE (32)) holding the digest, i.e. 04 20 || digest. */
static X509_EXTENSION *make_acme_id_ext(const unsigned char digest[32])
{
    unsigned char der[34];
    ASN1_OBJECT *obj = OBJ_txt2obj(ACME_IDENTIFIER_OID, 1);
    ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;

    der[0] = 0x04;
    der[1] = 0x20;
    memcpy(der + 2, digest, 32);
    if (obj && val && ASN1_OCTET_STRING_set(val, der, sizeof(der)))
        ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, val);
    ASN1_OCTET_STRING_free(val);
    ASN1_OBJECT_free(obj);
    return ext;
}

/* A positive random serial of 159 bits: within 20 octets (RFC 5280 4.1.2.2). */
static int set_random_serial(X509 *x)
{
    BIGNUM *bn = BN_new();
    ASN1_INTEGER *serial = NULL;
    int rc = -1;

    if (!bn || !BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
        goto out;
    serial = BN_to_ASN1_INTEGER(bn, NULL);
    if (serial && X509_set_serialNumber(x, serial))
        rc = 0;
out:
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    return rc;
}

/* Subject (and, self-signed, issuer) CN = name when it fits. */
static int set_cn(X509_NAME *nm, const char *name)
{
    if (strlen(name) > CN_MAX)
        return 0;
    return X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1,
                                      0)
               ? 0
               : -1;
}

X509 *acme_tlsalpn01_cert(const char *identifier, bool is_ip, const char *key_authorization,
                          EVP_PKEY *key)
{
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    X509_EXTENSION *san = NULL, *acme = NULL;
    unsigned char digest[32];
    bool ip_flag = is_ip;
    int ok = 0;

    if (!x || !nm || !identifier || !key_authorization || !key)
        goto out;
    acme_tlsalpn01_digest(key_authorization, digest);
    san = make_san_ext(&identifier, &ip_flag, 1);
    acme = make_acme_id_ext(digest);
    if (!san || !acme)
        goto out;
    if (!X509_set_version(x, X509_VERSION_3) || set_random_serial(x) != 0 ||
        set_cn(nm, identifier) != 0 || !X509_set_subject_name(x, nm) ||
        !X509_set_issuer_name(x, nm) || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * TLSALPN_CERT_DAYS) ||
        !X509_set_pubkey(x, key) || !X509_add_ext(x, san, -1) || !X509_add_ext(x, acme, -1))
        goto out;
    /* X509_sign returns the signature length: success is > 0. */
    ok = X509_sign(x, key, sig_md_for_key(key)) > 0;
out:
    X509_EXTENSION_free(san);
    X509_EXTENSION_free(acme);
    X509_NAME_free(nm);
    if (!ok) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

/* A DNS name from a certificate or CSR, checked to be printable ASCII with
 * no embedded NUL (a classic way to smuggle "good.com\0.evil.com"). */
static char *ia5_to_name(const ASN1_IA5STRING *s)
{
    const unsigned char *d = ASN1_STRING_get0_data(s);
    int len = ASN1_STRING_length(s);
    char *out;

    if (len <= 0)
        return NULL;
    for (int i = 0; i < len; i++) {
        if (d[i] <= 0x20 || d[i] >= 0x7f)
            return NULL;
    }
    out = xstrndup((const char *)d, (size_t)len);
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

/* RFC 8737 3: exactly one SAN, of the identifier's type and equal to it. */
static int check_single_san(X509 *cert, const char *identifier, bool is_ip, aro_err *err)
{
    int crit = 0, rc = -1;
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    const GENERAL_NAME *gn;
    unsigned char ip[16];
    size_t iplen = 0;
    char *dns = NULL;

    if (!gens) {
        aro_err_set(err, "certificate has %s subjectAltName extension",
                    crit == -2 ? "more than one" : "no (readable)");
        goto out;
    }
    if (sk_GENERAL_NAME_num(gens) != 1) {
        aro_err_set(err, "certificate has %d subjectAltNames, want exactly 1",
                    sk_GENERAL_NAME_num(gens));
        goto out;
    }
    gn = sk_GENERAL_NAME_value(gens, 0);
    if (is_ip) {
        if (gn->type != GEN_IPADD || ip_to_bin(identifier, ip, &iplen) != 0 ||
            ASN1_STRING_length(gn->d.iPAddress) != (int)iplen ||
            memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), ip, iplen) != 0) {
            aro_err_set(err, "certificate subjectAltName is not the IP address %s", identifier);
            goto out;
        }
    } else {
        if (gn->type == GEN_DNS)
            dns = ia5_to_name(gn->d.dNSName);
        /* DNS names compare case-insensitively (RFC 4343). */
        if (!dns || strcasecmp(dns, identifier) != 0) {
            aro_err_set(err, "certificate subjectAltName is not the DNS name %s", identifier);
            goto out;
        }
    }
    rc = 0;
out:
    free(dns);
    GENERAL_NAMES_free(gens);
    return rc;
}

/* RFC 8737 3: one critical acmeIdentifier extension holding exactly the
 * DER OCTET STRING of SHA-256(key authorization). */
static int check_acme_id_ext(X509 *cert, const char *key_authorization, aro_err *err)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(ACME_IDENTIFIER_OID, 1);
    unsigned char want[34];
    X509_EXTENSION *ext;
    const ASN1_OCTET_STRING *val;
    int idx, rc = -1;

    if (!obj) {
        aro_err_set(err, "out of memory");
        goto out;
    }
    idx = X509_get_ext_by_OBJ(cert, obj, -1);
    if (idx < 0) {
        aro_err_set(err, "certificate has no acmeIdentifier extension");
        goto out;
    }
    if (X509_get_ext_by_OBJ(cert, obj, idx) >= 0) {
        aro_err_set(err, "certificate has more than one acmeIdentifier extension");
        goto out;
    }
    ext = X509_get_ext(cert, idx);
    if (X509_EXTENSION_get_critical(ext) != 1) {
        aro_err_set(err, "acmeIdentifier extension is not critical");
        goto out;
    }
    want[0] = 0x04;
    want[1] = 0x20;
    acme_tlsalpn01_digest(key_authorization, want + 2);
    val = X509_EXTENSION_get_data(ext);
    if (ASN1_STRING_length(val) != (int)sizeof(want) ||
        memcmp(ASN1_STRING_get0_data(val), want, sizeof(want)) != 0) {
        aro_err_set(err, "acmeIdentifier extension does not hold the key authorization digest");
        goto out;
    }
    rc = 0;
out:
    ASN1_OBJECT_free(obj);
    return rc;
}

int acme_tlsalpn01_check(X509 *cert, const char *identifier, bool is_ip,
                         const char *key_authorization, aro_err *err)
{
    if (!cert || !identifier || !key_authorization) {
        aro_err_set(err, "no certificate presented");
        return -1;
    }
    /* Deliberately no chain verification: the critical extension is one
     * no verifier knows, and the certificate is self-signed by design. */
    if (check_single_san(cert, identifier, is_ip, err) != 0)
        return -1;
    return check_acme_id_ext(cert, key_authorization, err);
}

/* ---- CSRs ----------------------------------------------------------- */

/* to gets copies of a key's algorithm (with its parameters) and bits;
 * nothing is decoded or encoded. 0, or -1. */
static int pubkey_set_parts(X509_PUBKEY *to, const ASN1_OBJECT *alg, int ptype, const void *pval,
                            const unsigned char *bits, int len)
{
    void *param = NULL;
    if (ptype == V_ASN1_OBJECT)
        param = OBJ_dup(pval);
    else if (ptype == V_ASN1_SEQUENCE)
        param = ASN1_STRING_dup(pval);
    unsigned char *copy = len > 0 ? OPENSSL_memdup(bits, (size_t)len) : NULL;
    ASN1_OBJECT *algcopy = alg ? OBJ_dup(alg) : NULL;
    bool param_ok = ptype == V_ASN1_OBJECT || ptype == V_ASN1_SEQUENCE ? param != NULL : true;
    if (copy && algcopy && param_ok && X509_PUBKEY_set0_param(to, algcopy, ptype, param, copy, len))
        return 0;
    OPENSSL_free(copy);
    ASN1_OBJECT_free(algcopy);
    if (ptype == V_ASN1_OBJECT)
        ASN1_OBJECT_free(param);
    else
        ASN1_STRING_free(param);
    return -1;
}

int x509_pubkey_copy(X509_PUBKEY *to, const X509_PUBKEY *from)
{
    ASN1_OBJECT *alg = NULL;
    const unsigned char *bits = NULL;
    int len = 0, ptype = V_ASN1_UNDEF;
    X509_ALGOR *palg = NULL;
    const void *pval = NULL;
    if (!to || !from || !X509_PUBKEY_get0_param(&alg, &bits, &len, &palg, from) || len <= 0)
        return -1;
    X509_ALGOR_get0(NULL, &ptype, &pval, palg);
    return pubkey_set_parts(to, alg, ptype, pval, bits, len);
}

int csr_create_der(EVP_PKEY *key, const char *const *names, size_t n, unsigned char **der,
                   size_t *der_len, aro_err *err)
{
    return csr_create_der_spki(key, NULL, names, n, der, der_len, err);
}

int csr_create_der_spki(EVP_PKEY *key, const X509_PUBKEY *spki, const char *const *names, size_t n,
                        unsigned char **der, size_t *der_len, aro_err *err)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *nm = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *san = NULL;
    bool *is_ip = NULL;
    unsigned char ip[16], *p;
    size_t iplen;
    int len, rc = -1;

    if (!req || !nm || !exts || n == 0 || !key) {
        aro_err_set(err, "CSR needs a key and at least one name");
        goto out;
    }
    is_ip = xcalloc(n, sizeof(*is_ip));
    for (size_t i = 0; i < n; i++)
        is_ip[i] = ip_to_bin(names[i], ip, &iplen) == 0;
    /* The CN is legacy (RFC 8555 7.4 needs only SANs); we set it for a DNS
     * first name only: CAs (Pebble, Boulder) read a CN as a DNS name, so an
     * IP there would ask for an identifier nobody ordered (RFC 8738). */
    if (!is_ip[0] && set_cn(nm, names[0]) != 0) {
        aro_err_set(err, "cannot set the CSR common name");
        goto out;
    }
    san = make_san_ext(names, is_ip, n);
    if (!san || !sk_X509_EXTENSION_push(exts, san)) {
        aro_err_set(err, "cannot build the subjectAltName extension");
        goto out;
    }
    san = NULL; /* owned by exts */
    bool key_set = spki ? x509_pubkey_copy(X509_REQ_get_X509_PUBKEY(req), spki) == 0 : X509_REQ_set_pubkey(req, key);
    if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) || !X509_REQ_set_subject_name(req, nm) || !key_set ||
        !X509_REQ_add_extensions(req, exts) ||
        X509_REQ_sign(req, key, sig_md_for_key(key)) <= 0) {
        aro_err_set(err, "cannot build or sign the CSR");
        goto out;
    }
    len = i2d_X509_REQ(req, NULL);
    if (len <= 0) {
        aro_err_set(err, "cannot encode the CSR");
        goto out;
    }
    *der = xmalloc((size_t)len);
    p = *der;
    i2d_X509_REQ(req, &p);
    *der_len = (size_t)len;
    rc = 0;
out:
    free(is_ip);
    X509_EXTENSION_free(san);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(nm);
    X509_REQ_free(req);
    return rc;
}

/* Append s to list unless already there; takes ownership of s. */
static void add_unique(char ***list, size_t *n, char *s)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*list)[i], s) == 0) {
            free(s);
            return;
        }
    }
    *list = xrealloc(*list, (*n + 1) * sizeof(**list));
    (*list)[(*n)++] = s;
}

/* The canonical text of a binary IP address (inet_ntop). */
static char *ip_to_text(const unsigned char *b, int len)
{
    char buf[INET6_ADDRSTRLEN];
    int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;

    if (af < 0 || !inet_ntop(af, b, buf, sizeof(buf)))
        return NULL;
    return xstrdup(buf);
}

static int collect_san(csr_info *c, const GENERAL_NAMES *gens, aro_err *err)
{
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
        char *s;

        switch (gn->type) {
        case GEN_DNS:
            if (!(s = ia5_to_name(gn->d.dNSName))) {
                aro_err_set(err, "CSR has an empty or non-ASCII dNSName");
                return -1;
            }
            add_unique(&c->dns, &c->ndns, s);
            break;
        case GEN_IPADD:
            s = ip_to_text(ASN1_STRING_get0_data(gn->d.iPAddress),
                           ASN1_STRING_length(gn->d.iPAddress));
            if (!s) {
                aro_err_set(err, "CSR has an iPAddress that is neither 4 nor 16 octets");
                return -1;
            }
            add_unique(&c->ips, &c->nips, s);
            break;
        default:
            /* An ACME CA issues for DNS and IP identifiers only (RFC 8555
             * 9.7.7, RFC 8738); email, URI and the rest cannot be validated. */
            aro_err_set(err, "CSR subjectAltName of unsupported type %d (only dNSName and "
                             "iPAddress)",
                        gn->type);
            return -1;
        }
    }
    return 0;
}

/* ---- CSR parsing ----------------------------------------------------- */

/* PKCS#10 (RFC 2986 4.1) in templates of our own, the shape of OpenSSL's
 * X509_REQ with the SubjectPublicKeyInfo kept as algorithm and bits:
 * d2i_X509_REQ turns it into an EVP_PKEY through an OpenSSL 3 decoder
 * context built for that one key (every key manager and decoder of every
 * provider collected again: most of what parsing a CSR cost). Here one
 * decoder context, kept, makes the EVP_PKEY, and the certificate gets
 * the algorithm and bits as the CSR had them. */
typedef struct {
    X509_ALGOR *algor;
    ASN1_BIT_STRING *public_key;
} csr_spki_asn1;

typedef struct {
    ASN1_ENCODING enc; /* the bytes as received: the signature covers them */
    ASN1_INTEGER *version;
    X509_NAME *subject;
    csr_spki_asn1 *spki;
    STACK_OF(X509_ATTRIBUTE) *attributes;
} csr_info_asn1;

typedef struct {
    csr_info_asn1 *info;
    X509_ALGOR *sig_alg;
    ASN1_BIT_STRING *signature;
} csr_asn1;

ASN1_SEQUENCE(csr_spki_asn1) = {
    ASN1_SIMPLE(csr_spki_asn1, algor, X509_ALGOR),
    ASN1_SIMPLE(csr_spki_asn1, public_key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(csr_spki_asn1)

/* Attributes OPTIONAL, as OpenSSL's X509_REQ_INFO has them: some clients
 * leave the [0] out although PKCS#10 requires it. */
ASN1_SEQUENCE_enc(csr_info_asn1, enc, NULL) = {
    ASN1_SIMPLE(csr_info_asn1, version, ASN1_INTEGER),
    ASN1_SIMPLE(csr_info_asn1, subject, X509_NAME),
    ASN1_SIMPLE(csr_info_asn1, spki, csr_spki_asn1),
    ASN1_IMP_SET_OF_OPT(csr_info_asn1, attributes, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref(csr_info_asn1, csr_info_asn1)

ASN1_SEQUENCE(csr_asn1) = {
    ASN1_SIMPLE(csr_asn1, info, csr_info_asn1),
    ASN1_SIMPLE(csr_asn1, sig_alg, X509_ALGOR),
    ASN1_SIMPLE(csr_asn1, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(csr_asn1)

/* The kept decoder: DER SubjectPublicKeyInfo of any key type to an
 * EVP_PKEY. A decoder context is not for two threads at once, and CSRs
 * are decoded on the event loops too (server/acme/finalize.c): one per
 * thread, so that no loop waits on a lock another thread holds. */
typedef struct {
    OSSL_DECODER_CTX *ctx;
    EVP_PKEY *out; /* where ctx puts each key (set at creation) */
} spki_decoder;

static pthread_key_t decoder_key;
static pthread_once_t decoder_once = PTHREAD_ONCE_INIT;

static void decoder_free(void *p)
{
    spki_decoder *d = p;
    OSSL_DECODER_CTX_free(d->ctx);
    free(d);
}

static void decoder_key_init(void) { pthread_key_create(&decoder_key, decoder_free); }

static spki_decoder *thread_decoder(void)
{
    pthread_once(&decoder_once, decoder_key_init);
    spki_decoder *d = pthread_getspecific(decoder_key);
    if (!d) {
        d = xcalloc(1, sizeof(*d));
        d->ctx = OSSL_DECODER_CTX_new_for_pkey(&d->out, "DER", "SubjectPublicKeyInfo", NULL,
                                               EVP_PKEY_PUBLIC_KEY, NULL, NULL);
        pthread_setspecific(decoder_key, d);
    }
    return d;
}

/* The JOSE name of a named curve we accept (RFC 5480 2.1.1), for an
 * id-ecPublicKey algorithm with its parameters; NULL otherwise. */
static const char *spki_ec_curve(const ASN1_OBJECT *alg, int ptype, const void *pval)
{
    if (OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey || ptype != V_ASN1_OBJECT)
        return NULL;
    int curve = OBJ_obj2nid(pval);
    return curve == NID_X9_62_prime256v1 ? "P-256" : curve == NID_secp384r1 ? "P-384" : NULL;
}

/* An EC key on a named curve with its point uncompressed (what every ACME
 * client sends) is made from the point directly; anything else goes
 * through the kept OSSL_DECODER, which costs several times as much. */
static EVP_PKEY *spki_decode(const csr_spki_asn1 *spki)
{
    const ASN1_OBJECT *alg = NULL;
    int ptype = V_ASN1_UNDEF;
    const void *pval = NULL;
    X509_ALGOR_get0(&alg, &ptype, &pval, spki->algor);
    const char *crv = spki_ec_curve(alg, ptype, pval);
    const unsigned char *bits = ASN1_STRING_get0_data(spki->public_key);
    int nbits = ASN1_STRING_length(spki->public_key);
    if (crv && nbits > 0 && bits[0] == 0x04 && (spki->public_key->flags & 0x07) == 0)
        return ec_public_key_from_point(crv, bits, (size_t)nbits);
    unsigned char *der = NULL;
    int len = ASN1_item_i2d((const ASN1_VALUE *)spki, &der, ASN1_ITEM_rptr(csr_spki_asn1));
    EVP_PKEY *key = NULL;
    spki_decoder *d = thread_decoder();
    if (len > 0 && d->ctx) {
        const unsigned char *p = der;
        size_t left = (size_t)len;
        d->out = NULL;
        if (OSSL_DECODER_from_data(d->ctx, &p, &left) && left == 0)
            key = d->out;
        else
            EVP_PKEY_free(d->out);
        d->out = NULL;
    }
    OPENSSL_free(der);
    return key;
}

/* The algorithm and bits of the CSR's key as an X509_PUBKEY, without
 * decoding them (a certificate takes them over: ca_copy_spki). */
static X509_PUBKEY *spki_copy(const csr_spki_asn1 *spki)
{
    const ASN1_OBJECT *alg = NULL;
    int ptype = V_ASN1_UNDEF;
    const void *pval = NULL;
    X509_ALGOR_get0(&alg, &ptype, &pval, spki->algor);
    X509_PUBKEY *pk = X509_PUBKEY_new();
    if (pk && pubkey_set_parts(pk, alg, ptype, pval, ASN1_STRING_get0_data(spki->public_key),
                               ASN1_STRING_length(spki->public_key)) == 0)
        return pk;
    X509_PUBKEY_free(pk);
    return NULL;
}

char *csr_key_thumbprint(const csr_info *c)
{
    ASN1_OBJECT *alg = NULL;
    const unsigned char *bits = NULL;
    int len = 0, ptype = V_ASN1_UNDEF;
    X509_ALGOR *palg = NULL;
    const void *pval = NULL;
    char *t = NULL;
    if (c->spki && X509_PUBKEY_get0_param(&alg, &bits, &len, &palg, c->spki) && len > 0) {
        X509_ALGOR_get0(NULL, &ptype, &pval, palg);
        const char *crv = spki_ec_curve(alg, ptype, pval);
        if (crv)
            t = jwk_thumbprint_ec_point(crv, bits, (size_t)len);
    }
    return t ? t : jwk_thumbprint(c->pubkey);
}

/* The extension request, as X509_REQ_get_extensions reads it: the first
 * extensionRequest attribute (or Microsoft's), its first value. NULL when
 * there is none or it is not a SEQUENCE. */
static STACK_OF(X509_EXTENSION) *requested_extensions(const csr_info_asn1 *info)
{
    static const int nids[] = {NID_ext_req, NID_ms_ext_req};
    for (size_t i = 0; i < sizeof nids / sizeof nids[0]; i++) {
        int idx = X509at_get_attr_by_NID(info->attributes, nids[i], -1);
        if (idx < 0)
            continue;
        ASN1_TYPE *v = X509_ATTRIBUTE_get0_type(X509at_get_attr(info->attributes, idx), 0);
        if (!v || v->type != V_ASN1_SEQUENCE)
            return NULL;
        const unsigned char *p = v->value.sequence->data;
        return (STACK_OF(X509_EXTENSION) *)ASN1_item_d2i(NULL, &p, v->value.sequence->length,
                                                         ASN1_ITEM_rptr(X509_EXTENSIONS));
    }
    return NULL;
}

/* The SANs from the CSR's extension request (at most one SAN extension). */
static int collect_csr_sans(csr_info *c, const csr_info_asn1 *info, aro_err *err)
{
    STACK_OF(X509_EXTENSION) *exts = requested_extensions(info);
    GENERAL_NAMES *gens = NULL;
    int crit = 0, rc = -1;

    if (!exts)
        return 0;
    gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
    if (!gens && crit == -2) {
        aro_err_set(err, "CSR has more than one subjectAltName extension");
        goto out;
    }
    if (!gens && crit != -1) {
        aro_err_set(err, "CSR subjectAltName extension is not valid DER");
        goto out;
    }
    rc = gens ? collect_san(c, gens, err) : 0;
out:
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return rc;
}

/* Subject CNs count as requested names too (RFC 8555 7.4 lets clients put
 * one there); an IP-looking CN is an IP identifier, in canonical form. */
static int collect_csr_cns(csr_info *c, const X509_NAME *nm, aro_err *err)
{
    int idx = -1;

    while ((idx = X509_NAME_get_index_by_NID(nm, NID_commonName, idx)) >= 0) {
        ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, idx));
        unsigned char *utf8 = NULL, ip[16];
        size_t iplen = 0;
        int len = ASN1_STRING_to_UTF8(&utf8, d);
        char *s;

        if (len <= 0 || memchr(utf8, 0, (size_t)len)) {
            OPENSSL_free(utf8);
            aro_err_set(err, "CSR common name is empty or contains NUL");
            return -1;
        }
        s = xstrndup((const char *)utf8, (size_t)len);
        OPENSSL_free(utf8);
        if (ip_to_bin(s, ip, &iplen) == 0) {
            char *t = ip_to_text(ip, (int)iplen);
            free(s);
            add_unique(&c->ips, &c->nips, t);
        } else {
            for (char *p = s; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            add_unique(&c->dns, &c->ndns, s);
        }
    }
    return 0;
}

int csr_parse_der(const unsigned char *der, size_t len, csr_info *out, aro_err *err)
{
    const unsigned char *p = der;
    csr_asn1 *req = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (len > LONG_MAX ||
        !(req = (csr_asn1 *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(csr_asn1))) ||
        p != der + len) {
        aro_err_set(err, "CSR is not a single DER PKCS#10 request");
        goto out;
    }
    out->sig_nid = OBJ_obj2nid(req->sig_alg->algorithm);
    out->pubkey = spki_decode(req->info->spki);
    out->spki = out->pubkey ? spki_copy(req->info->spki) : NULL;
    if (!out->pubkey || !out->spki) {
        aro_err_set(err, "CSR public key is unreadable");
        goto out;
    }
    /* Proof of possession: the CSR is signed by the key it certifies. */
    if (ASN1_item_verify(ASN1_ITEM_rptr(csr_info_asn1), req->sig_alg, req->signature, req->info,
                         out->pubkey) != 1) {
        aro_err_set(err, "CSR signature does not verify");
        goto out;
    }
    if (collect_csr_sans(out, req->info, err) != 0 || collect_csr_cns(out, req->info->subject, err) != 0)
        goto out;
    if (out->ndns + out->nips == 0) {
        aro_err_set(err, "CSR names no identifier");
        goto out;
    }
    rc = 0;
out:
    ASN1_item_free((ASN1_VALUE *)req, ASN1_ITEM_rptr(csr_asn1));
    ERR_clear_error();
    if (rc != 0)
        csr_info_free(out);
    return rc;
}

void csr_info_free(csr_info *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ndns; i++)
        free(c->dns[i]);
    for (size_t i = 0; i < c->nips; i++)
        free(c->ips[i]);
    free(c->dns);
    free(c->ips);
    EVP_PKEY_free(c->pubkey);
    X509_PUBKEY_free(c->spki);
    memset(c, 0, sizeof(*c));
}

/* ---- PEM ------------------------------------------------------------ */

char *x509_to_pem(X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *out = NULL;
    long n;

    if (!bio || !PEM_write_bio_X509(bio, x))
        goto out;
    n = BIO_get_mem_data(bio, &data);
    if (n >= 0)
        out = xstrndup(data ? data : "", (size_t)n);
out:
    BIO_free(bio);
    return out;
}

int x509_chain_from_pem(const char *pem, size_t len, X509 ***out, aro_err *err)
{
    BIO *bio = NULL;
    X509 **certs = NULL, *x;
    int n = 0;
    unsigned long e;

    *out = NULL;
    if (len > INT_MAX || !(bio = BIO_new_mem_buf(pem, (int)len))) {
        aro_err_set(err, "PEM chain too large");
        goto fail;
    }
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        certs = xrealloc(certs, (size_t)(n + 1) * sizeof(*certs));
        certs[n++] = x;
    }
    /* The loop ends on "no start line" at the end of input; any other
     * error is a damaged certificate. */
    e = ERR_peek_last_error();
    if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
        aro_err_set(err, "damaged certificate in PEM chain (after %d good)", n);
        goto fail;
    }
    if (n == 0) {
        aro_err_set(err, "no certificate in PEM");
        goto fail;
    }
    ERR_clear_error();
    BIO_free(bio);
    *out = certs;
    return n;
fail:
    ERR_clear_error();
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    BIO_free(bio);
    return -1;
}

char *acme_ari_cert_id(X509 *x)
{
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
    unsigned char *der = NULL;
    int len = i2d_ASN1_INTEGER((ASN1_INTEGER *)X509_get0_serialNumber(x), &der);
    char *ret = NULL;
    /* DER INTEGER: tag, length (short form, or 0x8N and N length octets),
     * content. The CertID takes the content octets alone. */
    size_t hdr = 0, content = 0;
    if (len > 2 && der[1] < 0x80) {
        hdr = 2;
        content = der[1];
    } else if (len > 3 && der[1] == 0x81) {
        hdr = 3;
        content = der[2];
    }
    if (aki && hdr && hdr + content == (size_t)len) {
        char *a = b64url_encode(ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki));
        char *s = b64url_encode(der + hdr, content);
        ret = xasprintf("%s.%s", a, s);
        free(a);
        free(s);
    }
    OPENSSL_free(der);
    return ret;
}
