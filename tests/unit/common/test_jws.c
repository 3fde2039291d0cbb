/* JWS: known answers (RFC 7515 A.2 RS256, A.3 ES256, RFC 8037 A.4 EdDSA),
 * round trips for every algorithm, ECDSA fixed-length r||s over many
 * signatures, key change and EAB, and each rejection with its jws_result. */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "json.h"
#include "jws.h"
#include "keys.h"
#include "testlib.h"

/* ---- RFC 7515 A.2 (RS256) ---- */
#define A2_N                                                                                   \
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0B" \
    "m4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z" \
    "5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_"          \
    "I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define A2_D                                                                                   \
    "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-"         \
    "7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn" \
    "439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bG" \
    "Ul_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ"
#define A2_P                                                                                   \
    "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_"   \
    "Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc"
#define A2_Q                                                                                   \
    "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZ" \
    "D_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc"
#define A2_DP                                                                                  \
    "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-"      \
    "FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0"
#define A2_DQ                                                                                  \
    "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0a" \
    "jaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU"
#define A2_QI                                                                                  \
    "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_"           \
    "QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"
#define A1_PAYLOAD_B64                                                                         \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnV" \
    "lfQ"
#define A2_INPUT "eyJhbGciOiJSUzI1NiJ9." A1_PAYLOAD_B64
#define A2_SIG                                                                                 \
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"      \
    "O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSj" \
    "tQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6Ie" \
    "YI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

/* ---- RFC 7515 A.3 (ES256) ---- */
#define A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define A3_INPUT "eyJhbGciOiJFUzI1NiJ9." A1_PAYLOAD_B64
#define A3_SIG "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

/* ---- RFC 8037 A.1-A.5 (EdDSA) ---- */
#define ED_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define ED_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define ED_INPUT "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define ED_SIG "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

#define NONCE "Zm9vYmFyYmF6"
#define URL "https://ca.test/acme/new-order"

static unsigned char *dec(const char *s, size_t *len)
{
    unsigned char *out = NULL;

    if (b64url_decode(s, strlen(s), &out, len) != 0)
        return NULL;
    return out;
}

static int push_b64_bn(OSSL_PARAM_BLD *bld, const char *name, const char *b64, BIGNUM **keep)
{
    size_t len = 0;
    unsigned char *b = dec(b64, &len);

    *keep = b ? BN_bin2bn(b, (int)len, NULL) : NULL;
    free(b);
    return *keep && OSSL_PARAM_BLD_push_BN(bld, name, *keep) ? 0 : -1;
}

/* The RFC 7515 A.2 private key, built with EVP_PKEY_fromdata. */
static EVP_PKEY *a2_private_key(void)
{
    static const char *const names[] = {
        OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,         OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1,   OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    const char *vals[] = {A2_N, "AQAB", A2_D, A2_P, A2_Q, A2_DP, A2_DQ, A2_QI};
    BIGNUM *bns[8] = {0};
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *key = NULL;

    for (int i = 0; i < 8; i++) {
        if (push_b64_bn(bld, names[i], vals[i], &bns[i]) != 0)
            goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    if (!params || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) <= 0)
        key = NULL;
out:
    for (int i = 0; i < 8; i++)
        BN_free(bns[i]);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static EVP_PKEY *import_str(const char *json)
{
    aro_err err;
    yajl_val v = json_parse(json, strlen(json), &err);
    EVP_PKEY *k = v ? jwk_import(v, &err) : NULL;

    json_free(v);
    return k;
}

/* A jws_msg for a bare known-answer signing input (the RFC examples have
 * only {"alg":...} headers, which the ACME parser rightly refuses). The
 * prepared verification (the server's, from its key cache) must give the
 * same answer as the plain one, twice over the same context; EdDSA has
 * no prepared form. */
static jws_result verify_input(EVP_PKEY *key, const char *alg, const char *input,
                               const char *sig_b64)
{
    jws_msg m = {0};
    aro_err err;
    jws_result r;
    EVP_PKEY_CTX *prepared = jws_prepare_verify(key);

    m.alg = alg;
    m.signing_input = (char *)input;
    m.signing_input_len = strlen(input);
    m.sig = dec(sig_b64, &m.sig_len);
    r = jws_verify(&m, key, &err);
    CHECK((prepared == NULL) == (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519));
    /* Twice over the context itself, once over a copy (as the key cache
     * hands out). */
    for (int i = 0; i < 2; i++)
        CHECK_INT_EQ(jws_verify_prepared(&m, key, prepared, &err), r);
    EVP_PKEY_CTX *copy = prepared ? EVP_PKEY_CTX_dup(prepared) : NULL;
    CHECK((copy == NULL) == (prepared == NULL));
    CHECK_INT_EQ(jws_verify_prepared(&m, key, copy, &err), r);
    EVP_PKEY_CTX_free(copy);
    EVP_PKEY_CTX_free(prepared);
    free(m.sig);
    return r;
}

static void test_rfc7515_a2(void)
{
    EVP_PKEY *key = a2_private_key();
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    char *sig_b64 = NULL;

    CHECK(key != NULL);
    if (!key)
        return;
    /* PKCS#1 v1.5 is deterministic: the RFC's exact signature. */
    CHECK_INT_EQ(jws_sign_raw(key, A2_INPUT, strlen(A2_INPUT), &sig, &sig_len), 0);
    CHECK_INT_EQ(sig_len, 256);
    sig_b64 = b64url_encode(sig, sig_len);
    CHECK_STR_EQ(sig_b64, A2_SIG);
    CHECK_INT_EQ(verify_input(key, "RS256", A2_INPUT, A2_SIG), JWS_OK);
    CHECK_INT_EQ(verify_input(key, "ES256", A2_INPUT, A2_SIG), JWS_ERR_BAD_ALG);
    free(sig_b64);
    free(sig);
    EVP_PKEY_free(key);
}

static void test_rfc7515_a3(void)
{
    EVP_PKEY *key =
        import_str("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}");
    char bad[] = A3_SIG;

    CHECK(key != NULL);
    CHECK_INT_EQ(verify_input(key, "ES256", A3_INPUT, A3_SIG), JWS_OK);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    CHECK_INT_EQ(verify_input(key, "ES256", A3_INPUT, bad), JWS_ERR_BAD_SIGNATURE);
    CHECK_INT_EQ(verify_input(key, "RS256", A3_INPUT, A3_SIG), JWS_ERR_BAD_ALG);
    EVP_PKEY_free(key);
}

static void test_rfc8037_a4(void)
{
    size_t dlen = 0;
    unsigned char *d = dec(ED_D, &dlen);
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, dlen);
    EVP_PKEY *pub = import_str("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}");
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    char *sig_b64 = NULL, *jwk = NULL;

    CHECK(key && pub);
    /* A.1: x derived from d equals the published x. */
    CHECK(key_public_equal(key, pub));
    jwk = jwk_to_json(key);
    CHECK_STR_EQ(jwk, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" ED_X "\"}");
    /* A.4: Ed25519 is deterministic. */
    CHECK_INT_EQ(jws_sign_raw(key, ED_INPUT, strlen(ED_INPUT), &sig, &sig_len), 0);
    sig_b64 = b64url_encode(sig, sig_len);
    CHECK_STR_EQ(sig_b64, ED_SIG);
    /* A.5 */
    CHECK_INT_EQ(verify_input(pub, "EdDSA", ED_INPUT, ED_SIG), JWS_OK);
    CHECK_INT_EQ(verify_input(pub, "EdDSA", A3_INPUT, ED_SIG), JWS_ERR_BAD_SIGNATURE);
    free(jwk);
    free(sig);
    free(sig_b64);
    free(d);
    EVP_PKEY_free(key);
    EVP_PKEY_free(pub);
}

/* Sign with jwk and with kid, parse, verify, for one key. */
static void test_roundtrip(key_type t)
{
    EVP_PKEY *key = key_generate(t);
    const char *payload = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}]}";
    char *s1 = jws_sign(key, NULL, NONCE, URL, payload, strlen(payload));
    char *s2 = jws_sign(key, "https://ca.test/acct/1", NONCE, URL, NULL, 0);
    jws_msg m1, m2;
    aro_err err;

    CHECK(s1 && s2);
    CHECK_INT_EQ(jws_parse(s1, strlen(s1), JWS_ACME_REQUEST, &m1, &err), JWS_OK);
    CHECK(m1.jwk && key_public_equal(m1.jwk, key));
    CHECK(m1.kid == NULL);
    CHECK_STR_EQ(m1.alg, jws_alg_for_key(key));
    CHECK_STR_EQ(m1.nonce, NONCE);
    CHECK_STR_EQ(m1.url, URL);
    CHECK_INT_EQ(m1.payload_len, strlen(payload));
    CHECK(m1.payload && memcmp(m1.payload, payload, m1.payload_len) == 0);
    CHECK_INT_EQ(jws_verify(&m1, m1.jwk, &err), JWS_OK);

    /* POST-as-GET with kid: payload "" (RFC 8555 6.3). */
    CHECK(s2 && strstr(s2, "\"payload\":\"\"") != NULL);
    CHECK_INT_EQ(jws_parse(s2, strlen(s2), JWS_ACME_REQUEST, &m2, &err), JWS_OK);
    CHECK(m2.jwk == NULL);
    CHECK_STR_EQ(m2.kid, "https://ca.test/acct/1");
    CHECK_INT_EQ(m2.payload_len, 0);
    CHECK_INT_EQ(jws_verify(&m2, key, &err), JWS_OK);

    /* Through a prepared signing context (none for EdDSA): the same
     * request, verifying; RS256 (PKCS #1 v1.5) is deterministic, so it
     * must be the very same JWS as the plain path's. */
    EVP_PKEY_CTX *signing = jws_prepare_sign(key);
    CHECK((signing == NULL) == (t == KEY_ED25519));
    for (int i = 0; i < 3; i++) {
        char *s3 = jws_sign_prepared(key, signing, "https://ca.test/acct/1", NONCE, URL, payload, strlen(payload));
        char *s4 = jws_sign(key, "https://ca.test/acct/1", NONCE, URL, payload, strlen(payload));
        jws_msg m3;
        CHECK(s3 != NULL);
        CHECK_INT_EQ(jws_parse(s3, strlen(s3), JWS_ACME_REQUEST, &m3, &err), JWS_OK);
        CHECK_INT_EQ(jws_verify(&m3, key, &err), JWS_OK);
        CHECK(m3.payload && m3.payload_len == strlen(payload) && memcmp(m3.payload, payload, m3.payload_len) == 0);
        if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
            CHECK_STR_EQ(s3, s4);
        jws_msg_free(&m3);
        free(s3);
        free(s4);
    }
    EVP_PKEY_CTX_free(signing);
    jws_msg_free(&m1);
    jws_msg_free(&m2);
    free(s1);
    free(s2);
    EVP_PKEY_free(key);
}

/* Many ECDSA signatures: every one exactly 2*half octets and verifying;
 * about 1 in 128 has a short r or s that needs left-padding. */
static void test_ecdsa_many(key_type t, size_t half, int rounds)
{
    EVP_PKEY *key = key_generate(t);
    const char *alg = jws_alg_for_key(key);
    EVP_PKEY_CTX *prepared = jws_prepare_verify(key), *signing = jws_prepare_sign(key);
    int bad_len = 0, bad_verify = 0, padded = 0;

    for (int i = 0; i < rounds; i++) {
        char input[32];
        jws_msg m = {0};
        aro_err err;
        bool ok;

        snprintf(input, sizeof(input), "in.%d", i);
        if (i % 2) {
            /* Every other signature through the prepared signing context,
             * as a whole JWS: its signing input and signature are checked. */
            char *jws = jws_sign_prepared(key, signing, "https://ca.test/acct/1", NONCE, URL, input, strlen(input));
            ok = jws && jws_parse(jws, strlen(jws), JWS_ACME_REQUEST, &m, &err) == JWS_OK;
            free(jws);
        } else {
            m.alg = alg;
            m.signing_input = xstrdup(input);
            m.signing_input_len = strlen(input);
            ok = jws_sign_raw(key, input, strlen(input), &m.sig, &m.sig_len) == 0;
        }
        if (!ok || m.sig_len != 2 * half) {
            bad_len++;
            jws_msg_free(&m);
            continue;
        }
        if (m.sig[0] == 0 || m.sig[half] == 0)
            padded++;
        EVP_PKEY_CTX *copy = EVP_PKEY_CTX_dup(prepared);
        if (jws_verify(&m, key, &err) != JWS_OK || jws_verify_prepared(&m, key, prepared, &err) != JWS_OK ||
            jws_verify_prepared(&m, key, copy, &err) != JWS_OK)
            bad_verify++;
        EVP_PKEY_CTX_free(copy);
        /* One bit off in s: both refuse it. */
        m.sig[m.sig_len - 1] ^= 1;
        if (jws_verify(&m, key, &err) != JWS_ERR_BAD_SIGNATURE ||
            jws_verify_prepared(&m, key, prepared, &err) != JWS_ERR_BAD_SIGNATURE)
            bad_verify++;
        jws_msg_free(&m);
    }
    CHECK_INT_EQ(bad_len, 0);
    CHECK_INT_EQ(bad_verify, 0);
    /* With this many rounds a short r or s is all but certain (p < 1e-6). */
    CHECK(padded > 0);
    fprintf(stderr, "%s: %d signatures, %d with a left-padded r or s\n", alg, rounds, padded);
    CHECK(prepared != NULL && signing != NULL);
    EVP_PKEY_CTX_free(prepared);
    EVP_PKEY_CTX_free(signing);
    EVP_PKEY_free(key);
}

/* ---- Hand-made JWS for the rejections ---- */

/* Sign header/payload text with key; the parts can be overridden. */
static char *make_jws(EVP_PKEY *key, const char *header, const char *payload)
{
    char *ph = b64url_encode(header, strlen(header));
    char *pp = b64url_encode(payload, strlen(payload));
    char *input = xasprintf("%s.%s", ph, pp), *ps, *out;
    unsigned char *sig = NULL;
    size_t sig_len = 0;

    if (jws_sign_raw(key, input, strlen(input), &sig, &sig_len) != 0)
        sig_len = 0;
    ps = b64url_encode(sig, sig_len);
    out = xasprintf("{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", ph, pp, ps);
    free(ph);
    free(pp);
    free(ps);
    free(input);
    free(sig);
    return out;
}

static char *hdr_jwk(const char *alg, EVP_PKEY *jwk_key, const char *extra)
{
    char *jwk = jwk_to_json(jwk_key);
    char *h = xasprintf("{\"alg\":\"%s\",\"jwk\":%s%s}", alg, jwk, extra);

    free(jwk);
    return h;
}

/* Parse (and, if that passes, verify with the header jwk or 'key'). */
static jws_result parse_verify(const char *body, jws_mode mode, EVP_PKEY *key)
{
    jws_msg m;
    aro_err err = {{0}};
    jws_result r = jws_parse(body, strlen(body), mode, &m, &err);

    if (r == JWS_OK) {
        r = jws_verify(&m, m.jwk ? m.jwk : key, &err);
        jws_msg_free(&m);
    }
    if (r != JWS_OK && err.msg[0] == '\0')
        fprintf(stderr, "    no error message for result %d\n", r);
    return r;
}

static jws_result check_header_case(EVP_PKEY *key, const char *header)
{
    char *body = make_jws(key, header, "{}");
    jws_result r = parse_verify(body, JWS_ACME_REQUEST, key);

    free(body);
    return r;
}

/* Replace the value of member 'name' in a flattened JWS. */
static char *replace_part(const char *body, const char *name, const char *value)
{
    aro_err err;
    yajl_val v = json_parse(body, strlen(body), &err);
    json_gen *g = jg_new();
    const char *names[] = {"protected", "payload", "signature"};

    jg_obj_open(g);
    for (int i = 0; i < 3; i++)
        jg_kv_str(g, names[i], strcmp(names[i], name) == 0 ? value : json_str(v, names[i]));
    jg_obj_close(g);
    json_free(v);
    return jg_finish(g, NULL);
}

static void test_rejections(void)
{
    EVP_PKEY *ec = key_generate(KEY_EC256), *ec384 = key_generate(KEY_EC384);
    EVP_PKEY *rsa = key_generate(KEY_RSA2048);
    EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    const char *tail = ",\"nonce\":\"" NONCE "\",\"url\":\"" URL "\"";
    char *good = jws_sign(ec, NULL, NONCE, URL, "{\"a\":1}", 7);
    char *h, *b, *p, *sig_b64;
    aro_err err;
    jws_msg m;
    unsigned char *sig;
    size_t sig_len;

    CHECK_INT_EQ(parse_verify(good, JWS_ACME_REQUEST, NULL), JWS_OK);

    /* Tampered payload. */
    p = b64url_encode("{\"a\":2}", 7);
    b = replace_part(good, "payload", p);
    CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_BAD_SIGNATURE);
    free(b);
    free(p);

    /* Tampered protected header: same key, another url, old signature. */
    {
        char *other = jws_sign(ec, NULL, NONCE, "https://ca.test/other", "{\"a\":1}", 7);
        yajl_val ov = json_parse(other, strlen(other), &err);
        b = replace_part(good, "protected", json_str(ov, "protected"));
        CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_BAD_SIGNATURE);
        free(b);
        json_free(ov);
        free(other);
    }

    /* alg none (with an empty signature), HS256 on a request. */
    h = hdr_jwk("none", ec, tail);
    b = make_jws(ec, h, "{}");
    p = replace_part(b, "signature", "");
    CHECK_INT_EQ(parse_verify(p, JWS_ACME_REQUEST, NULL), JWS_ERR_BAD_ALG);
    free(p);
    free(b);
    free(h);
    h = xasprintf("{\"alg\":\"HS256\",\"kid\":\"k\"%s}", tail);
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_BAD_ALG);
    free(h);

    /* alg / key mismatches: ES256 header on an RSA jwk, ES384 on P-256,
     * and with kid the verification key decides. */
    h = hdr_jwk("ES256", rsa, tail);
    CHECK_INT_EQ(check_header_case(rsa, h), JWS_ERR_BAD_ALG);
    free(h);
    h = hdr_jwk("ES384", ec, tail);
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_BAD_ALG);
    free(h);
    h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"k\"%s}", tail);
    CHECK_INT_EQ(check_header_case(rsa, h), JWS_ERR_BAD_ALG);
    free(h);
    h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"k\"%s}", tail);
    CHECK_INT_EQ(check_header_case(ec384, h), JWS_ERR_BAD_ALG);
    free(h);

    /* Both jwk and kid; neither. */
    {
        char *t2 = xasprintf(",\"kid\":\"k\"%s", tail);
        h = hdr_jwk("ES256", ec, t2);
        CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_MALFORMED);
        free(h);
        free(t2);
    }
    h = xasprintf("{\"alg\":\"ES256\"%s}", tail);
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_MALFORMED);
    free(h);

    /* Nonce missing, empty, not base64url; url missing; url not a string. */
    h = hdr_jwk("ES256", ec, ",\"url\":\"" URL "\"");
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_NO_NONCE);
    free(h);
    h = hdr_jwk("ES256", ec, ",\"nonce\":\"\",\"url\":\"" URL "\"");
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_NO_NONCE);
    free(h);
    h = hdr_jwk("ES256", ec, ",\"nonce\":\"ab+/\",\"url\":\"" URL "\"");
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_NO_NONCE);
    free(h);
    h = hdr_jwk("ES256", ec, ",\"nonce\":5,\"url\":\"" URL "\"");
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_NO_NONCE);
    free(h);
    h = hdr_jwk("ES256", ec, ",\"nonce\":\"" NONCE "\"");
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_MALFORMED);
    free(h);
    h = hdr_jwk("ES256", ec, ",\"nonce\":\"" NONCE "\",\"url\":7");
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_MALFORMED);
    free(h);

    /* Bad base64url in each part. */
    {
        yajl_val gv = json_parse(good, strlen(good), &err);
        const char *names[] = {"protected", "payload", "signature"};
        for (int i = 0; i < 3; i++) {
            char *pad = xasprintf("%s=", json_str(gv, names[i]));
            char *plus = xasprintf("+%s", json_str(gv, names[i]));
            b = replace_part(good, names[i], pad);
            CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_MALFORMED);
            free(b);
            b = replace_part(good, names[i], plus);
            CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_MALFORMED);
            free(b);
            free(pad);
            free(plus);
        }
        /* ECDSA signature one octet short, one octet long. */
        sig = dec(json_str(gv, "signature"), &sig_len);
        CHECK_INT_EQ(sig_len, 64);
        sig_b64 = b64url_encode(sig, sig_len - 1);
        b = replace_part(good, "signature", sig_b64);
        CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_BAD_SIGNATURE);
        free(b);
        free(sig_b64);
        sig = xrealloc(sig, sig_len + 1);
        sig[sig_len] = 0;
        sig_b64 = b64url_encode(sig, sig_len + 1);
        b = replace_part(good, "signature", sig_b64);
        CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_BAD_SIGNATURE);
        free(b);
        free(sig_b64);
        free(sig);
        /* A DER signature (what OpenSSL makes) is not a JWS signature. */
        json_free(gv);
    }

    /* RSA-1024 jwk (signed with that key: only the size is wrong). */
    {
        char *jwk = jwk_to_json(rsa1024);
        char *hh = xasprintf("{\"alg\":\"RS256\",\"jwk\":%s%s}", jwk, tail);
        unsigned char *s2 = NULL;
        size_t l2 = 0;
        char *ph = b64url_encode(hh, strlen(hh)), *in = xasprintf("%s.e30", ph), *ps;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, rsa1024);
        EVP_DigestSign(ctx, NULL, &l2, (unsigned char *)in, strlen(in));
        s2 = xmalloc(l2);
        EVP_DigestSign(ctx, s2, &l2, (unsigned char *)in, strlen(in));
        ps = b64url_encode(s2, l2);
        b = xasprintf("{\"protected\":\"%s\",\"payload\":\"e30\",\"signature\":\"%s\"}", ph, ps);
        CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_BAD_KEY);
        free(b);
        free(ps);
        free(s2);
        EVP_MD_CTX_free(ctx);
        free(in);
        free(ph);
        free(hh);
        free(jwk);
    }

    /* Off-curve EC point (RFC 7515 A.3 x with y altered). */
    h = xasprintf("{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
                  "\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5aA\"}%s}",
                  tail);
    b = make_jws(ec, h, "{}");
    CHECK_INT_EQ(jws_parse(b, strlen(b), JWS_ACME_REQUEST, &m, &err), JWS_ERR_BAD_KEY);
    CHECK(strstr(err.msg, "curve") != NULL);
    free(b);
    free(h);

    /* Private key member in the jwk. */
    {
        char *jwk = jwk_to_json(ec);
        jwk[strlen(jwk) - 1] = '\0';
        h = xasprintf("{\"alg\":\"ES256\",\"jwk\":%s,\"d\":\"AAAA\"}%s}", jwk, tail);
        CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_BAD_KEY);
        free(h);
        free(jwk);
    }

    /* Duplicate member in the protected header. */
    h = hdr_jwk("ES256", ec, ",\"nonce\":\"" NONCE "\",\"url\":\"" URL "\",\"url\":\"x\"");
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_MALFORMED);
    free(h);
    h = hdr_jwk("ES256", ec, ",\"nonce\":\"" NONCE "\",\"url\":\"" URL "\",\"alg\":\"ES256\"");
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_MALFORMED);
    free(h);

    /* Unknown crit; b64 false. */
    {
        char *t2 = xasprintf("%s,\"crit\":[\"exp\"],\"exp\":1", tail);
        h = hdr_jwk("ES256", ec, t2);
        CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_MALFORMED);
        free(h);
        free(t2);
        t2 = xasprintf("%s,\"crit\":[\"b64\"],\"b64\":false", tail);
        h = hdr_jwk("ES256", ec, t2);
        CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_MALFORMED);
        free(h);
        free(t2);
    }

    /* Protected header that is not an object; body not an object. */
    h = xstrdup("[\"alg\"]");
    CHECK_INT_EQ(check_header_case(ec, h), JWS_ERR_MALFORMED);
    free(h);
    CHECK_INT_EQ(parse_verify("[1]", JWS_ACME_REQUEST, NULL), JWS_ERR_MALFORMED);
    CHECK_INT_EQ(parse_verify("{", JWS_ACME_REQUEST, NULL), JWS_ERR_MALFORMED);

    /* Unprotected header, general serialization, unknown member, compact. */
    {
        yajl_val gv = json_parse(good, strlen(good), &err);
        const char *pr = json_str(gv, "protected"), *pl = json_str(gv, "payload"),
                   *sg = json_str(gv, "signature");
        b = xasprintf("{\"protected\":\"%s\",\"header\":{\"kid\":\"x\"},\"payload\":\"%s\","
                      "\"signature\":\"%s\"}",
                      pr, pl, sg);
        CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_MALFORMED);
        free(b);
        b = xasprintf("{\"payload\":\"%s\",\"signatures\":[{\"protected\":\"%s\","
                      "\"signature\":\"%s\"}]}",
                      pl, pr, sg);
        CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_MALFORMED);
        free(b);
        b = xasprintf("{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\",\"x\":1}", pr,
                      pl, sg);
        CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_MALFORMED);
        free(b);
        b = xasprintf("%s.%s.%s", pr, pl, sg);
        CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_MALFORMED);
        free(b);
        /* Missing signature member. */
        b = xasprintf("{\"protected\":\"%s\",\"payload\":\"%s\"}", pr, pl);
        CHECK_INT_EQ(parse_verify(b, JWS_ACME_REQUEST, NULL), JWS_ERR_MALFORMED);
        free(b);
        json_free(gv);
    }

    /* Verified with the wrong key (kid mode): bad signature. */
    {
        EVP_PKEY *ec2 = key_generate(KEY_EC256);
        char *kb = jws_sign(ec, "k", NONCE, URL, "", 0);
        CHECK_INT_EQ(parse_verify(kb, JWS_ACME_REQUEST, ec2), JWS_ERR_BAD_SIGNATURE);
        /* Failures leave no OpenSSL errors behind for SSL_get_error(). */
        CHECK(ERR_peek_error() == 0);
        free(kb);
        EVP_PKEY_free(ec2);
    }

    free(good);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa1024);
}

static void test_keychange(void)
{
    EVP_PKEY *old_key = key_generate(KEY_RSA2048), *new_key = key_generate(KEY_ED25519);
    char *inner = jws_sign_keychange(new_key, old_key, "https://ca.test/acct/1",
                                     "https://ca.test/key-change");
    jws_msg m;
    aro_err err;
    yajl_val payload = NULL;
    EVP_PKEY *ok = NULL;

    CHECK(inner != NULL);
    CHECK_INT_EQ(jws_parse(inner, strlen(inner), JWS_KEYCHANGE_INNER, &m, &err), JWS_OK);
    CHECK(m.jwk && key_public_equal(m.jwk, new_key));
    CHECK(m.nonce == NULL);
    CHECK_STR_EQ(m.url, "https://ca.test/key-change");
    CHECK_INT_EQ(jws_verify(&m, m.jwk, &err), JWS_OK);
    payload = json_parse((const char *)m.payload, m.payload_len, &err);
    CHECK_STR_EQ(json_str(payload, "account"), "https://ca.test/acct/1");
    ok = jwk_import(json_member(payload, "oldKey"), &err);
    CHECK(ok && key_public_equal(ok, old_key));
    jws_msg_free(&m);
    /* Not acceptable as an outer request: it has no nonce. */
    CHECK_INT_EQ(jws_parse(inner, strlen(inner), JWS_ACME_REQUEST, &m, &err), JWS_ERR_NO_NONCE);
    /* An outer request (kid) is not a key-change inner JWS. */
    {
        char *outer = jws_sign(new_key, "k", NONCE, URL, "", 0);
        CHECK_INT_EQ(jws_parse(outer, strlen(outer), JWS_KEYCHANGE_INNER, &m, &err),
                     JWS_ERR_MALFORMED);
        free(outer);
    }
    EVP_PKEY_free(ok);
    json_free(payload);
    free(inner);
    EVP_PKEY_free(old_key);
    EVP_PKEY_free(new_key);
}

static void test_eab(void)
{
    const unsigned char mac_key[] = "a CA-issued MAC key of 32 bytes!";
    EVP_PKEY *acct = key_generate(KEY_EC256);
    char *eab = jws_sign_eab(mac_key, 32, "kid-1", "https://ca.test/new-account", acct);
    char *jwk = jwk_to_json(acct);
    jws_msg m;
    aro_err err;

    CHECK(eab != NULL);
    CHECK_INT_EQ(jws_parse(eab, strlen(eab), JWS_EAB_INNER, &m, &err), JWS_OK);
    CHECK_STR_EQ(m.alg, "HS256");
    CHECK_STR_EQ(m.kid, "kid-1");
    CHECK_STR_EQ(m.url, "https://ca.test/new-account");
    CHECK(m.payload && strcmp((const char *)m.payload, jwk) == 0);
    CHECK_INT_EQ(jws_verify_hmac(&m, mac_key, 32, &err), JWS_OK);
    CHECK_INT_EQ(jws_verify_hmac(&m, mac_key, 31, &err), JWS_ERR_BAD_SIGNATURE);
    CHECK_INT_EQ(jws_verify(&m, acct, &err), JWS_ERR_BAD_ALG);
    jws_msg_free(&m);
    /* HS256 never passes as an outer request. */
    CHECK_INT_EQ(jws_parse(eab, strlen(eab), JWS_ACME_REQUEST, &m, &err), JWS_ERR_BAD_ALG);
    /* A signature JWS is no EAB. */
    {
        char *req = jws_sign(acct, "k", NONCE, URL, "", 0);
        CHECK_INT_EQ(jws_parse(req, strlen(req), JWS_EAB_INNER, &m, &err), JWS_ERR_BAD_ALG);
        CHECK_INT_EQ(jws_parse(req, strlen(req), JWS_ACME_REQUEST, &m, &err), JWS_OK);
        CHECK_INT_EQ(jws_verify_hmac(&m, mac_key, 32, &err), JWS_ERR_BAD_ALG);
        jws_msg_free(&m);
        free(req);
    }
    free(jwk);
    free(eab);
    EVP_PKEY_free(acct);
}

/* RS256 is PKCS #1 v1.5 over SHA-256 (RFC 7518 3.3) and nothing else:
 * a PSS signature, or v1.5 over SHA-384, of the same input is refused by
 * the plain and the prepared verification alike. */
static void test_rs256_refusals(void)
{
    EVP_PKEY *key = key_generate(KEY_RSA2048);
    EVP_PKEY_CTX *prepared = jws_prepare_verify(key);
    const char *input = "eyJhbGciOiJSUzI1NiJ9.cmV0cnktb3B0aW9ucw";
    struct {
        const EVP_MD *md;
        int padding;
        jws_result want;
    } cases[] = {
        {EVP_sha256(), RSA_PKCS1_PADDING, JWS_OK},
        {EVP_sha256(), RSA_PKCS1_PSS_PADDING, JWS_ERR_BAD_SIGNATURE},
        {EVP_sha384(), RSA_PKCS1_PADDING, JWS_ERR_BAD_SIGNATURE},
    };
    CHECK(prepared != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char sig[512];
        size_t sig_len = sizeof(sig);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pc = NULL;
        CHECK(EVP_DigestSignInit(md, &pc, cases[i].md, NULL, key) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(pc, cases[i].padding) == 1 &&
              EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input, strlen(input)) == 1);
        EVP_MD_CTX_free(md);
        jws_msg m = {0};
        aro_err err;
        m.alg = "RS256";
        m.signing_input = (char *)input;
        m.signing_input_len = strlen(input);
        m.sig = sig;
        m.sig_len = sig_len;
        CHECK_INT_EQ(jws_verify(&m, key, &err), cases[i].want);
        CHECK_INT_EQ(jws_verify_prepared(&m, key, prepared, &err), cases[i].want);
    }
    EVP_PKEY_CTX_free(prepared);
    EVP_PKEY_free(key);
}

int main(void)
{
    test_rfc7515_a2();
    test_rs256_refusals();
    test_rfc7515_a3();
    test_rfc8037_a4();
    for (int t = KEY_RSA2048; t <= KEY_ED25519; t++)
        test_roundtrip((key_type)t);
    test_ecdsa_many(KEY_EC256, 32, 1500); /* ~12 short r or s expected; none is 1e-5 likely */
    test_ecdsa_many(KEY_EC384, 48, 1000);
    test_rejections();
    test_keychange();
    test_eab();
    return testlib_finish();
}
