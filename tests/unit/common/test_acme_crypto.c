/* Key authorization, dns-01 and tls-alpn-01 values (RFC 8555 8.1, 8.4,
 * RFC 8737 3; known answers from jose-test-vectors.md section 5), the
 * tls-alpn-01 certificate and its check, CSRs, PEM chains. */
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "acme_crypto.h"
#include "json.h"
#include "keys.h"
#include "testlib.h"

#define RFC7638_N                                                                              \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_" \
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"                          \
    "RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO" \
    "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-"            \
    "csFCur-kEgU8awapJzKnqDKgw"
#define TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTH TOKEN ".NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
#define KEYAUTH_SHA256 "653471d42925d7eb4cd39a39cda8b34d3034c94cb90067ab78c8123560ba2e5f"
#define DNS01_TXT "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8"
#define ACME_EXT_DER                                                                           \
    "303106082b0601050507011f0101ff04220420653471d42925d7eb4cd39a39cda8b34d3034c94cb90067ab78c8" \
    "123560ba2e5f"

static char *hex(const unsigned char *b, size_t n)
{
    char *s = xmalloc(2 * n + 1);

    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, "%02x", b[i]);
    s[2 * n] = '\0';
    return s;
}

static void test_key_authorization(void)
{
    const char *jwk = "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\"}";
    aro_err err;
    yajl_val v = json_parse(jwk, strlen(jwk), &err);
    EVP_PKEY *key = jwk_import(v, &err);
    char *ka = acme_key_authorization(TOKEN, key), *txt = NULL, *h;
    unsigned char d[32];

    CHECK_STR_EQ(ka, KEYAUTH);
    CHECK_INT_EQ(ka ? strlen(ka) : 0, 87);
    txt = acme_dns01_txt_value(KEYAUTH);
    CHECK_STR_EQ(txt, DNS01_TXT);
    acme_tlsalpn01_digest(KEYAUTH, d);
    h = hex(d, 32);
    CHECK_STR_EQ(h, KEYAUTH_SHA256);
    free(h);
    free(txt);
    free(ka);
    EVP_PKEY_free(key);
    json_free(v);
}

/* The DER of the certificate's acmeIdentifier extension, hex. */
static char *acme_ext_hex(X509 *x)
{
    ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    int idx = X509_get_ext_by_OBJ(x, obj, -1);
    unsigned char *der = NULL;
    int len = idx >= 0 ? i2d_X509_EXTENSION(X509_get_ext(x, idx), &der) : -1;
    char *out = len > 0 ? hex(der, (size_t)len) : NULL;

    OPENSSL_free(der);
    ASN1_OBJECT_free(obj);
    return out;
}

static void test_tlsalpn_cert(key_type t)
{
    EVP_PKEY *key = key_generate(t);
    X509 *x = acme_tlsalpn01_cert("Www.Example.com", false, KEYAUTH, key);
    X509 *xi = acme_tlsalpn01_cert("2001:db8::1", true, KEYAUTH, key);
    aro_err err;
    char *eh;

    CHECK(x && xi);
    if (!x || !xi)
        goto out;
    /* The exact 51-octet extension of the vectors file. */
    eh = acme_ext_hex(x);
    CHECK_STR_EQ(eh, ACME_EXT_DER);
    free(eh);
    CHECK(X509_verify(x, key) == 1);
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "www.example.com", false, KEYAUTH, &err), 0);
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "WWW.EXAMPLE.COM", false, KEYAUTH, &err), 0);
    CHECK_INT_EQ(acme_tlsalpn01_check(xi, "2001:DB8:0::1", true, KEYAUTH, &err), 0);
    /* Wrong digest, wrong name, wrong identifier type. */
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "www.example.com", false, TOKEN ".other", &err), -1);
    CHECK(strstr(err.msg, "digest") != NULL);
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "example.com", false, KEYAUTH, &err), -1);
    CHECK_INT_EQ(acme_tlsalpn01_check(xi, "2001:db8::2", true, KEYAUTH, &err), -1);
    CHECK_INT_EQ(acme_tlsalpn01_check(xi, "2001:db8::1", false, KEYAUTH, &err), -1);
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "www.example.com", true, KEYAUTH, &err), -1);
out:
    X509_free(x);
    X509_free(xi);
    EVP_PKEY_free(key);
}

/* A hand-made challenge certificate with one thing wrong. */
static X509 *odd_cert(EVP_PKEY *key, const char *const *sans, int nsans, int critical,
                      bool with_ext, const unsigned char *ext_val, int ext_len)
{
    X509 *x = X509_new();
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext;

    for (int i = 0; i < nsans; i++) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
        ASN1_STRING_set(ia5, sans[i], -1);
        GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
        sk_GENERAL_NAME_push(gens, gn);
    }
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    if (nsans > 0)
        X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 1, 0);
    if (with_ext) {
        ASN1_OCTET_STRING_set(os, ext_val, ext_len);
        ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, os);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(x, key, NULL);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    GENERAL_NAMES_free(gens);
    return x;
}

static void test_tlsalpn_refusals(void)
{
    EVP_PKEY *key = key_generate(KEY_ED25519);
    unsigned char val[34] = {0x04, 0x20};
    const char *one[] = {"a.test"}, *two[] = {"a.test", "b.test"};
    aro_err err;
    X509 *x;

    acme_tlsalpn01_digest(KEYAUTH, val + 2);
    x = odd_cert(key, one, 1, 1, true, val, 34);
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "a.test", false, KEYAUTH, &err), 0);
    X509_free(x);
    /* Non-critical extension. */
    x = odd_cert(key, one, 1, 0, true, val, 34);
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "a.test", false, KEYAUTH, &err), -1);
    CHECK(strstr(err.msg, "critical") != NULL);
    X509_free(x);
    /* Two SANs. */
    x = odd_cert(key, two, 2, 1, true, val, 34);
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "a.test", false, KEYAUTH, &err), -1);
    CHECK(strstr(err.msg, "exactly 1") != NULL);
    X509_free(x);
    /* No SAN, no extension. */
    x = odd_cert(key, one, 0, 1, true, val, 34);
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "a.test", false, KEYAUTH, &err), -1);
    X509_free(x);
    x = odd_cert(key, one, 1, 1, false, val, 34);
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "a.test", false, KEYAUTH, &err), -1);
    X509_free(x);
    /* The bare digest without the OCTET STRING wrapper (a known client bug). */
    x = odd_cert(key, one, 1, 1, true, val + 2, 32);
    CHECK_INT_EQ(acme_tlsalpn01_check(x, "a.test", false, KEYAUTH, &err), -1);
    X509_free(x);
    CHECK_INT_EQ(acme_tlsalpn01_check(NULL, "a.test", false, KEYAUTH, &err), -1);
    EVP_PKEY_free(key);
}

static bool has(char **list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], s) == 0)
            return true;
    }
    return false;
}

static void test_csr_roundtrip(key_type t)
{
    EVP_PKEY *key = key_generate(t);
    const char *names[] = {"Example.COM", "www.example.com", "192.0.2.1", "2001:DB8:0:0::1",
                           "example.com", "192.0.2.1"};
    unsigned char *der = NULL;
    size_t der_len = 0;
    csr_info c;
    aro_err err;

    CHECK_INT_EQ(csr_create_der(key, names, 6, &der, &der_len, &err), 0);
    CHECK_INT_EQ(csr_parse_der(der, der_len, &c, &err), 0);
    CHECK_INT_EQ(c.ndns, 2);
    CHECK_INT_EQ(c.nips, 2);
    CHECK(has(c.dns, c.ndns, "example.com"));
    CHECK(has(c.dns, c.ndns, "www.example.com"));
    CHECK(has(c.ips, c.nips, "192.0.2.1"));
    CHECK(has(c.ips, c.nips, "2001:db8::1"));
    CHECK(key_public_equal(c.pubkey, key));
    /* The key's algorithm and bits as the CSR carried them: the same
     * SubjectPublicKeyInfo OpenSSL encodes for the key. */
    unsigned char *want = NULL, *got = NULL;
    int wlen = i2d_PUBKEY(key, &want), glen = i2d_X509_PUBKEY(c.spki, &got);
    CHECK(wlen > 0 && wlen == glen && memcmp(want, got, (size_t)wlen) == 0);
    OPENSSL_free(want);
    OPENSSL_free(got);
    /* The thumbprint from the CSR's bits is the key's RFC 7638 thumbprint. */
    char *tc = csr_key_thumbprint(&c), *tk = jwk_thumbprint(key);
    CHECK(tc && tk);
    CHECK_STR_EQ(tc, tk);
    free(tc);
    free(tk);
    csr_info_free(&c);

    /* With the key encoded once by the caller: the same request. */
    X509_PUBKEY *spki = NULL;
    unsigned char *der2 = NULL;
    size_t der2_len = 0;
    CHECK(X509_PUBKEY_set(&spki, key) == 1);
    CHECK_INT_EQ(csr_create_der_spki(key, spki, names, 6, &der2, &der2_len, &err), 0);
    CHECK_INT_EQ(csr_parse_der(der2, der2_len, &c, &err), 0);
    CHECK(c.pubkey && key_public_equal(c.pubkey, key));
    CHECK_INT_EQ(c.ndns + c.nips, 4);
    csr_info_free(&c);
    X509_PUBKEY_free(spki);
    free(der2);

    /* Corrupt the signature (its last octet): refused. */
    der[der_len - 1] ^= 0x01;
    CHECK_INT_EQ(csr_parse_der(der, der_len, &c, &err), -1);
    CHECK(strstr(err.msg, "signature") != NULL);
    /* Truncated and trailing garbage. */
    der[der_len - 1] ^= 0x01;
    CHECK_INT_EQ(csr_parse_der(der, der_len - 1, &c, &err), -1);
    free(der);
    EVP_PKEY_free(key);
}

static void test_csr_ip_first(void)
{
    EVP_PKEY *key = key_generate(KEY_EC256);
    const char *names[] = {"::ffff:192.0.2.7"};
    unsigned char *der = NULL;
    size_t der_len = 0;
    csr_info c;
    aro_err err;

    CHECK_INT_EQ(csr_create_der(key, names, 1, &der, &der_len, &err), 0);
    CHECK_INT_EQ(csr_parse_der(der, der_len, &c, &err), 0);
    CHECK_INT_EQ(c.ndns, 0);
    CHECK_INT_EQ(c.nips, 1);
    CHECK(c.nips == 1 && strcmp(c.ips[0], "::ffff:192.0.2.7") == 0);
    /* No CN for an IP (see csr_create_der); read by OpenSSL's own parser. */
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)der_len);
    CHECK(req != NULL);
    if (req)
        CHECK_INT_EQ(X509_NAME_entry_count(X509_REQ_get_subject_name(req)), 0);
    X509_REQ_free(req);
    csr_info_free(&c);
    free(der);
    CHECK_INT_EQ(csr_create_der(key, names, 0, &der, &der_len, &err), -1);
    EVP_PKEY_free(key);
}

/* CSRs built by hand: an email SAN, a CN-only request with an IP CN. */
static unsigned char *hand_csr(EVP_PKEY *key, const char *cn, int san_type, const char *san,
                               size_t *len)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *nm = X509_REQ_get_subject_name(req);
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    unsigned char *der = NULL, *p;
    int n;

    if (cn)
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    if (san) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
        ASN1_STRING_set(ia5, san, -1);
        GENERAL_NAME_set0_value(gn, san_type, ia5);
        sk_GENERAL_NAME_push(gens, gn);
        X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, 0);
        X509_REQ_add_extensions(req, exts);
    }
    X509_REQ_set_pubkey(req, key);
    X509_REQ_sign(req, key, EVP_sha256());
    n = i2d_X509_REQ(req, NULL);
    der = xmalloc((size_t)n);
    p = der;
    i2d_X509_REQ(req, &p);
    *len = (size_t)n;
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    return der;
}

static void test_csr_hand(void)
{
    EVP_PKEY *key = key_generate(KEY_EC256);
    size_t len = 0;
    unsigned char *der;
    csr_info c;
    aro_err err;

    der = hand_csr(key, "a.test", GEN_EMAIL, "me@a.test", &len);
    CHECK_INT_EQ(csr_parse_der(der, len, &c, &err), -1);
    CHECK(strstr(err.msg, "unsupported") != NULL);
    free(der);
    der = hand_csr(key, "a.test", GEN_URI, "https://a.test/", &len);
    CHECK_INT_EQ(csr_parse_der(der, len, &c, &err), -1);
    free(der);
    der = hand_csr(key, "192.000.2.1", 0, NULL, &len);
    /* "192.000.2.1" is not an address for inet_pton: a (bad) DNS name. */
    CHECK_INT_EQ(csr_parse_der(der, len, &c, &err), 0);
    CHECK_INT_EQ(c.ndns, 1);
    csr_info_free(&c);
    free(der);
    der = hand_csr(key, "2001:DB8::0:1", 0, NULL, &len);
    CHECK_INT_EQ(csr_parse_der(der, len, &c, &err), 0);
    CHECK(c.nips == 1 && strcmp(c.ips[0], "2001:db8::1") == 0);
    csr_info_free(&c);
    free(der);
    der = hand_csr(key, "A.Test", GEN_DNS, "a.TEST", &len);
    CHECK_INT_EQ(csr_parse_der(der, len, &c, &err), 0);
    CHECK(c.ndns == 1 && strcmp(c.dns[0], "a.test") == 0);
    csr_info_free(&c);
    free(der);
    der = hand_csr(key, NULL, 0, NULL, &len);
    CHECK_INT_EQ(csr_parse_der(der, len, &c, &err), -1);
    free(der);
    CHECK_INT_EQ(csr_parse_der((const unsigned char *)"\x30\x00", 2, &c, &err), -1);
    EVP_PKEY_free(key);
}

static void test_pem_chain(void)
{
    EVP_PKEY *key = key_generate(KEY_EC256);
    X509 *a = acme_tlsalpn01_cert("a.test", false, KEYAUTH, key);
    X509 *b = acme_tlsalpn01_cert("192.0.2.1", true, KEYAUTH, key);
    char *pa = x509_to_pem(a), *pb = x509_to_pem(b);
    char *chain = xasprintf("%s%s", pa, pb), *broken;
    X509 **certs = NULL;
    aro_err err;
    int n;

    CHECK(pa && strncmp(pa, "-----BEGIN CERTIFICATE-----", 27) == 0);
    n = x509_chain_from_pem(chain, strlen(chain), &certs, &err);
    CHECK_INT_EQ(n, 2);
    if (n == 2) {
        CHECK(X509_cmp(certs[0], a) == 0);
        CHECK(X509_cmp(certs[1], b) == 0);
    }
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    CHECK_INT_EQ(x509_chain_from_pem("", 0, &certs, &err), -1);
    CHECK_INT_EQ(x509_chain_from_pem("hello", 5, &certs, &err), -1);
    /* A damaged second certificate fails the whole chain. */
    broken = xasprintf("%s-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", pa);
    CHECK_INT_EQ(x509_chain_from_pem(broken, strlen(broken), &certs, &err), -1);
    free(broken);
    free(chain);
    free(pa);
    free(pb);
    X509_free(a);
    X509_free(b);
    EVP_PKEY_free(key);
}

/* An EC key whose point is encoded compressed (SEC 1 2.3.3) takes the
 * decoder's path, not the uncompressed fast path: the same key, the same
 * thumbprint, and its JWK (coordinates exported one by one) the same as
 * for the uncompressed encoding of that key. */
static void test_csr_compressed_point(void)
{
    for (key_type t = KEY_EC256; t <= KEY_EC384; t++) {
        EVP_PKEY *key = key_generate(t);
        char *plain_jwk = jwk_to_json(key), *plain_thumb = jwk_thumbprint(key);
        CHECK(EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed") == 1);
        const char *names[] = {"a.test"};
        unsigned char *der = NULL;
        size_t der_len = 0;
        csr_info c;
        aro_err err;
        CHECK_INT_EQ(csr_create_der(key, names, 1, &der, &der_len, &err), 0);
        CHECK_INT_EQ(csr_parse_der(der, der_len, &c, &err), 0);
        const unsigned char *bits = NULL;
        int blen = 0;
        CHECK(X509_PUBKEY_get0_param(NULL, &bits, &blen, NULL, c.spki) == 1);
        CHECK(blen > 0 && (bits[0] == 0x02 || bits[0] == 0x03));
        CHECK(key_public_equal(c.pubkey, key));
        char *jwk = jwk_to_json(key), *tc = csr_key_thumbprint(&c);
        CHECK_STR_EQ(jwk, plain_jwk);
        CHECK_STR_EQ(tc, plain_thumb);
        free(jwk);
        free(tc);
        free(plain_jwk);
        free(plain_thumb);
        csr_info_free(&c);
        free(der);
        EVP_PKEY_free(key);
    }
}

int main(void)
{
    test_key_authorization();
    for (int t = KEY_RSA2048; t <= KEY_ED25519; t++) {
        if (t == KEY_RSA3072 || t == KEY_RSA4096)
            continue; /* slow to generate; RSA is covered by 2048 */
        test_tlsalpn_cert((key_type)t);
        test_csr_roundtrip((key_type)t);
    }
    test_tlsalpn_refusals();
    test_csr_ip_first();
    test_csr_hand();
    test_csr_compressed_point();
    test_pem_chain();
    return testlib_finish();
}
