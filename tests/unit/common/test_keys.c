/* Keys and JWKs: generation, PEM, JWK import/export, RFC 7638 and RFC 8037
 * thumbprints (known answers from /work/shared/rfc/jose-test-vectors.md),
 * and the JWK rejections. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64url.h"
#include "json.h"
#include "keys.h"
#include "testlib.h"

/* RFC 7638 3.1 (also RFC 7517 A.1, second key). */
#define RFC7638_N                                                                              \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_" \
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"                          \
    "RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO" \
    "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-"            \
    "csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_TP "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

/* RFC 7515 A.3 EC key (public part) and its thumbprint (computed, vectors file). */
#define A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define A3_TP "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"

/* RFC 8037 A.2 / A.3. */
#define ED_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define ED_TP "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

static EVP_PKEY *import_str(const char *json, aro_err *err)
{
    yajl_val v = json_parse(json, strlen(json), err);
    EVP_PKEY *k;

    if (!v)
        return NULL;
    k = jwk_import(v, err);
    json_free(v);
    return k;
}

/* Import must fail; returns true when it did. */
static bool import_fails(const char *json)
{
    aro_err err = {{0}};
    EVP_PKEY *k = import_str(json, &err);

    if (k) {
        EVP_PKEY_free(k);
        return false;
    }
    return err.msg[0] != '\0';
}

static void test_names(void)
{
    key_type t;

    for (int i = KEY_RSA2048; i <= KEY_ED25519; i++) {
        CHECK_INT_EQ(key_type_from_name(key_type_name((key_type)i), &t), 0);
        CHECK_INT_EQ(t, i);
    }
    CHECK_INT_EQ(key_type_from_name("rsa1024", &t), -1);
    CHECK_INT_EQ(key_type_from_name("EC256", &t), -1);
}

static void test_rfc7638_thumbprint(void)
{
    aro_err err;
    EVP_PKEY *k = import_str("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N
                             "\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}",
                             &err);
    char *tp, *json;

    CHECK(k != NULL);
    tp = jwk_thumbprint(k);
    CHECK_STR_EQ(tp, RFC7638_TP);
    /* jwk_to_json is exactly the 373-octet thumbprint input. */
    json = jwk_to_json(k);
    CHECK_STR_EQ(json, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\"}");
    CHECK_INT_EQ(json ? strlen(json) : 0, 373);
    CHECK_STR_EQ(jws_alg_for_key(k), "RS256");
    free(tp);
    free(json);
    EVP_PKEY_free(k);
}

static void test_ec_thumbprint(void)
{
    aro_err err;
    EVP_PKEY *k = import_str(
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}", &err);
    char *tp = jwk_thumbprint(k), *json = jwk_to_json(k);

    CHECK(k != NULL);
    CHECK_STR_EQ(tp, A3_TP);
    CHECK_STR_EQ(json, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}");
    CHECK_STR_EQ(jws_alg_for_key(k), "ES256");
    free(tp);
    free(json);
    EVP_PKEY_free(k);
}

static void test_rfc8037_thumbprint(void)
{
    aro_err err;
    EVP_PKEY *k = import_str("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}", &err);
    char *tp = jwk_thumbprint(k), *json = jwk_to_json(k);

    CHECK(k != NULL);
    CHECK_STR_EQ(json, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" ED_X "\"}");
    CHECK_STR_EQ(tp, ED_TP);
    CHECK_STR_EQ(jws_alg_for_key(k), "EdDSA");
    free(tp);
    free(json);
    EVP_PKEY_free(k);
}

/* Generate, PEM round trip, file round trip (0600), JWK round trip. */
static void test_generate_roundtrip(key_type t, const char *dir)
{
    static const char *const algs[] = {"RS256", "RS256", "RS256", "ES256", "ES384", "EdDSA"};
    EVP_PKEY *k = key_generate(t), *k2 = NULL, *k3 = NULL, *k4 = NULL;
    char *pem = NULL, *pub = NULL, *json = NULL, *path = xasprintf("%s/%s.pem", dir,
                                                                  key_type_name(t));
    aro_err err;
    struct stat st;
    yajl_val v = NULL;

    CHECK(k != NULL);
    if (!k)
        goto out;
    CHECK_STR_EQ(jws_alg_for_key(k), algs[t]);
    pem = key_to_pem(k);
    CHECK(pem && strstr(pem, "-----BEGIN PRIVATE KEY-----") == pem);
    k2 = key_from_pem(pem, strlen(pem), &err);
    CHECK(key_public_equal(k, k2));
    pub = key_public_to_pem(k);
    CHECK(pub && strstr(pub, "-----BEGIN PUBLIC KEY-----") == pub);

    CHECK_INT_EQ(key_save_pem(k, path, &err), 0);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    k3 = key_load_pem(path, &err);
    CHECK(key_public_equal(k, k3));

    json = jwk_to_json(k);
    CHECK(json != NULL);
    v = json ? json_parse(json, strlen(json), &err) : NULL;
    k4 = v ? jwk_import(v, &err) : NULL;
    CHECK(k4 != NULL);
    CHECK(key_public_equal(k, k4));
    /* No private material leaks into the JWK. */
    CHECK(v && !json_member(v, "d"));
    if (t <= KEY_RSA4096) {
        /* e is 65537, minimal octets: "AQAB". */
        CHECK_STR_EQ(json_str(v, "e"), "AQAB");
    }
out:
    json_free(v);
    unlink(path);
    free(path);
    free(json);
    free(pub);
    free(pem);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k3);
    EVP_PKEY_free(k4);
}

static void test_pem_errors(void)
{
    aro_err err;
    EVP_PKEY *k = key_from_pem("garbage", 7, &err);
    EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    char *pem = key_to_pem(rsa1024);

    CHECK(k == NULL);
    /* A 1024-bit key is refused on load: nothing may sign with it. */
    k = key_from_pem(pem, strlen(pem), &err);
    CHECK(k == NULL);
    CHECK(jws_alg_for_key(rsa1024) == NULL);
    CHECK(key_load_pem("/nonexistent/key.pem", &err) == NULL);
    free(pem);
    EVP_PKEY_free(rsa1024);
}

/* Replace the last character of a base64url string with another valid
 * one, giving different bytes (used to move an EC point off the curve). */
static char *b64_flip_last(const char *s)
{
    char *t = xstrdup(s);
    size_t n = strlen(t);

    /* 'A' <-> 'E' changes bit 2 of the last sextet; for a 32-octet value
     * (43 chars, last char carries 4 data bits) that is a data bit. */
    t[n - 1] = t[n - 1] == 'A' ? 'E' : 'A';
    return t;
}

static void test_import_rejections(void)
{
    EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    char *j1024 = jwk_to_json(rsa1024), *ybad = b64_flip_last(A3_Y), *json;
    unsigned char n0[257];
    unsigned char *n = NULL;
    size_t nlen = 0;
    char *nlead;

    /* Private members. */
    CHECK(import_fails("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y
                       "\",\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\"}"));
    CHECK(import_fails("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\",\"p\":\"AQAB\"}"));
    CHECK(import_fails("{\"kty\":\"oct\",\"k\":\"AQAB\"}"));
    /* RSA below 2048 bits. */
    CHECK(j1024 && import_fails(j1024));
    /* Even, tiny exponents. */
    CHECK(import_fails("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAA\"}"));
    CHECK(import_fails("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQ\"}"));
    CHECK(import_fails("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"Ag\"}"));
    /* n with a leading zero octet (not minimal, RFC 7518 6.3.1.1). */
    CHECK_INT_EQ(b64url_decode(RFC7638_N, strlen(RFC7638_N), &n, &nlen), 0);
    n0[0] = 0;
    memcpy(n0 + 1, n, nlen);
    nlead = b64url_encode(n0, nlen + 1);
    json = xasprintf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", nlead);
    CHECK(import_fails(json));
    free(json);
    /* Off-curve EC point. */
    json = xasprintf("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"%s\"}", ybad);
    CHECK(import_fails(json));
    free(json);
    /* Wrong coordinate length: P-384 with P-256 coordinates; short x. */
    CHECK(import_fails("{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y
                       "\"}"));
    CHECK(import_fails("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAB\",\"y\":\"" A3_Y "\"}"));
    /* Unsupported curves and types. */
    CHECK(import_fails("{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y
                       "\"}"));
    CHECK(import_fails("{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" ED_X "\"}"));
    CHECK(import_fails("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" ED_X "\"}"));
    CHECK(import_fails("{\"kty\":\"oct\"}"));
    CHECK(import_fails("{\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}"));
    /* Ed25519 key of 31 octets. */
    CHECK(import_fails("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
                       "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUQ\"}"));
    /* Non-canonical base64url: padding, standard alphabet. */
    CHECK(import_fails("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "=\"}"));
    CHECK(import_fails("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
                       "\",\"y\":\"x/FEzRu9m36HLN/tue659LNpXW6pCyStikYjKIWI5a0\"}"));
    /* Wrong member types. */
    CHECK(import_fails("{\"kty\":\"RSA\",\"n\":12,\"e\":\"AQAB\"}"));
    CHECK(import_fails("{\"kty\":1}"));
    CHECK(import_fails("[\"kty\"]"));
    free(n);
    free(nlead);
    free(ybad);
    free(j1024);
    EVP_PKEY_free(rsa1024);
}

/* ec_public_key_from_point copies a per-curve template and sets the point:
 * each key must carry its own point (never the template's or the previous
 * one's), verify its own signatures, and the decoding must still refuse
 * a point off the curve, a coordinate beyond the field and a short one. */
static void test_point_import(void)
{
    const char *curves[] = {"P-256", "P-384"};
    for (int c = 0; c < 2; c++) {
        EVP_PKEY *priv[2] = {EVP_EC_gen(curves[c]),
                             EVP_EC_gen(curves[c])};
        unsigned char pt[2][97], back[97], sig[128], msg[] = "retry-options";
        size_t len[2] = {0, 0}, blen = 0, slen = sizeof(sig);
        EVP_PKEY *pub[2];
        for (int i = 0; i < 2; i++) {
            CHECK(EVP_PKEY_get_octet_string_param(priv[i], "pub", pt[i], sizeof(pt[i]), &len[i]) == 1);
            pub[i] = ec_public_key_from_point(curves[c], pt[i], len[i]);
            CHECK(pub[i] != NULL);
        }
        for (int i = 0; i < 2; i++) {
            CHECK(EVP_PKEY_get_octet_string_param(pub[i], "pub", back, sizeof(back), &blen) == 1);
            CHECK(blen == len[i] && memcmp(back, pt[i], blen) == 0);
            CHECK(EVP_PKEY_eq(pub[i], priv[i]) == 1);
        }
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        CHECK(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, priv[0]) == 1 &&
              EVP_DigestSign(md, sig, &slen, msg, sizeof(msg)) == 1);
        EVP_MD_CTX_reset(md);
        CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub[0]) == 1 &&
              EVP_DigestVerify(md, sig, slen, msg, sizeof(msg)) == 1);
        EVP_MD_CTX_reset(md);
        CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub[1]) == 1 &&
              EVP_DigestVerify(md, sig, slen, msg, sizeof(msg)) != 1);
        EVP_MD_CTX_free(md);

        unsigned char bad[97];
        memcpy(bad, pt[0], len[0]);
        bad[len[0] - 1] ^= 1;
        CHECK(ec_public_key_from_point(curves[c], bad, len[0]) == NULL);
        memset(bad + 1, 0xff, len[0] - 1);
        CHECK(ec_public_key_from_point(curves[c], bad, len[0]) == NULL);
        CHECK(ec_public_key_from_point(curves[c], pt[0], len[0] - 1) == NULL);
        CHECK(ec_public_key_from_point(c == 0 ? "P-384" : "P-256", pt[0], len[0]) == NULL);
        CHECK(ec_public_key_from_point("P-521", pt[0], len[0]) == NULL);
        for (int i = 0; i < 2; i++) {
            EVP_PKEY_free(pub[i]);
            EVP_PKEY_free(priv[i]);
        }
    }
}

int main(void)
{
    char dir[] = "/tmp/aro-test-keys-XXXXXX";

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_names();
    test_rfc7638_thumbprint();
    test_ec_thumbprint();
    test_rfc8037_thumbprint();
    for (int t = KEY_RSA2048; t <= KEY_ED25519; t++)
        test_generate_roundtrip((key_type)t, dir);
    test_pem_errors();
    test_import_rejections();
    test_point_import();
    rmdir(dir);
    return testlib_finish();
}
