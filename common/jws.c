/* JWS, flattened JSON serialization only (RFC 7515 7.2.2), with the rules
 * ACME adds (RFC 8555 6.2): ACME never uses the compact form, the general
 * form with several signatures, or unprotected headers, so we refuse them
 * rather than carry code paths nobody exercises. */
#include "jws.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "keys.h"

/* ---- Algorithms ---------------------------------------------------- */

/* The signature algorithms RFC 8555 6.2 allows on requests (the server
 * MUST NOT accept "none" or a MAC there). */
static const char *const request_algs[] = {"RS256", "ES256", "ES384", "EdDSA"};
#define NREQUEST_ALGS (sizeof(request_algs) / sizeof(request_algs[0]))

size_t jws_request_algorithms(const char *const **algs)
{
    *algs = request_algs;
    return NREQUEST_ALGS;
}

static bool alg_allowed_for_request(const char *alg)
{
    for (size_t i = 0; i < NREQUEST_ALGS; i++)
        if (strcmp(alg, request_algs[i]) == 0)
            return true;
    return false;
}

/* ECDSA coordinate size in octets for an alg, 0 if not ECDSA. */
static size_t ecdsa_half_len(const char *alg)
{
    if (strcmp(alg, "ES256") == 0)
        return 32;
    if (strcmp(alg, "ES384") == 0)
        return 48;
    return 0;
}

/* The digests, fetched once and kept for the process's life:
 * EVP_sha256() is a legacy handle that OpenSSL 3 fetches again on every
 * use. */
static EVP_MD *md_sha256, *md_sha384;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void mds_fetch(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
}

/* The digest an alg signs with; NULL for EdDSA (Ed25519 hashes itself). */
static const EVP_MD *alg_md(const char *alg)
{
    pthread_once(&md_once, mds_fetch);
    /* Should a fetch have failed, the legacy handle: never NULL for these,
     * which would let OpenSSL pick the key's default digest. */
    if (strcmp(alg, "RS256") == 0 || strcmp(alg, "ES256") == 0)
        return md_sha256 ? md_sha256 : EVP_sha256();
    if (strcmp(alg, "ES384") == 0)
        return md_sha384 ? md_sha384 : EVP_sha384();
    return NULL;
}

/* ---- ECDSA signature format (RFC 7518 3.4) ------------------------- */

/* Raw r||s (each exactly half octets) to the DER OpenSSL verifies. */
static int ecdsa_raw_to_der(const unsigned char *raw, size_t half, unsigned char **der,
                            size_t *der_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(raw + half, (int)half, NULL);
    unsigned char *p;
    int len, rc = -1;

    if (!sig || !r || !s)
        goto out;
    if (!ECDSA_SIG_set0(sig, r, s))
        goto out;
    r = s = NULL; /* owned by sig now */
    len = i2d_ECDSA_SIG(sig, NULL);
    if (len <= 0)
        goto out;
    *der = xmalloc((size_t)len);
    p = *der;
    i2d_ECDSA_SIG(sig, &p);
    *der_len = (size_t)len;
    rc = 0;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rc;
}

/* DER from OpenSSL to fixed-length r||s. r or s shorter than half octets
 * (about 1 signature in 128 each) must be left-padded with zeros, or the
 * signature is one octet short and other implementations reject it. */
static int ecdsa_der_to_raw(const unsigned char *der, size_t der_len, size_t half,
                            unsigned char **raw, size_t *raw_len)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r, *s;
    unsigned char *out = NULL;
    int rc = -1;

    if (!sig)
        goto out;
    ECDSA_SIG_get0(sig, &r, &s);
    out = xmalloc(2 * half);
    if (BN_bn2binpad(r, out, (int)half) < 0 || BN_bn2binpad(s, out + half, (int)half) < 0)
        goto out;
    *raw = out;
    *raw_len = 2 * half;
    out = NULL;
    rc = 0;
out:
    free(out);
    ECDSA_SIG_free(sig);
    return rc;
}

/* ---- Raw sign / verify --------------------------------------------- */

/* The signature of data by key, in JWS form (RFC 7518 3.3, 3.4). With
 * prepared (from jws_prepare_sign for key), the digest is taken here and
 * only the signature is left to OpenSSL, as in verify_raw. */
static int sign_raw(EVP_PKEY *key, EVP_PKEY_CTX *prepared, const void *data, size_t len,
                    unsigned char **sig, size_t *sig_len)
{
    const char *alg = jws_alg_for_key(key);
    EVP_MD_CTX *ctx = NULL;
    unsigned char *buf = NULL, digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    size_t blen = 0, half;
    int rc = -1;

    if (!alg)
        goto out;
    if (prepared) {
        if (EVP_Digest(data, len, digest, &digest_len, alg_md(alg), NULL) != 1 ||
            EVP_PKEY_sign(prepared, NULL, &blen, digest, digest_len) != 1)
            goto out;
        buf = xmalloc(blen);
        if (EVP_PKEY_sign(prepared, buf, &blen, digest, digest_len) != 1)
            goto out;
    } else {
        ctx = EVP_MD_CTX_new();
        /* Ed25519 takes a NULL digest and only the one-shot EVP_DigestSign. */
        if (!ctx || EVP_DigestSignInit(ctx, NULL, alg_md(alg), NULL, key) != 1)
            goto out;
        if (EVP_DigestSign(ctx, NULL, &blen, data, len) != 1)
            goto out;
        buf = xmalloc(blen);
        if (EVP_DigestSign(ctx, buf, &blen, data, len) != 1)
            goto out;
    }
    half = ecdsa_half_len(alg);
    if (half) {
        if (ecdsa_der_to_raw(buf, blen, half, sig, sig_len) != 0)
            goto out;
    } else {
        *sig = buf;
        *sig_len = blen;
        buf = NULL;
    }
    rc = 0;
out:
    free(buf);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

int jws_sign_raw(EVP_PKEY *key, const void *data, size_t len, unsigned char **sig,
                 size_t *sig_len)
{
    return sign_raw(key, NULL, data, len, sig, sig_len);
}

static EVP_PKEY_CTX *prepare(EVP_PKEY *key, bool sign)
{
    const char *alg = jws_alg_for_key(key);
    const EVP_MD *md = alg ? alg_md(alg) : NULL;
    if (!md)
        return NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    /* RS256 is PKCS #1 v1.5 (RFC 7518 3.3), OpenSSL's default padding;
     * set anyway, since a signature must never depend on a default. */
    if (!ctx || (sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1 ||
        (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1) ||
        EVP_PKEY_CTX_set_signature_md(ctx, md) != 1) {
        EVP_PKEY_CTX_free(ctx);
        ctx = NULL;
    }
    ERR_clear_error();
    return ctx;
}

EVP_PKEY_CTX *jws_prepare_verify(EVP_PKEY *key) { return prepare(key, false); }
EVP_PKEY_CTX *jws_prepare_sign(EVP_PKEY *key) { return prepare(key, true); }

/* 1 verified, 0 did not verify. With prepared (from jws_prepare_verify for
 * key), the digest is taken here and only the signature check is left to
 * OpenSSL. */
static int verify_raw(EVP_PKEY *key, EVP_PKEY_CTX *prepared, const char *alg, const void *data, size_t len,
                      const unsigned char *sig, size_t sig_len)
{
    size_t half = ecdsa_half_len(alg);
    unsigned char *der = NULL, digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    size_t der_len = 0;
    EVP_MD_CTX *ctx = NULL;
    int ok = 0;

    if (half) {
        /* RFC 7518 3.4: exactly 2 * half octets, no DER, no trimming. */
        if (sig_len != 2 * half || ecdsa_raw_to_der(sig, half, &der, &der_len) != 0)
            goto out;
        sig = der;
        sig_len = der_len;
    }
    if (prepared) {
        ok = EVP_Digest(data, len, digest, &digest_len, alg_md(alg), NULL) == 1 &&
             EVP_PKEY_verify(prepared, sig, sig_len, digest, digest_len) == 1;
        goto out;
    }
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestVerifyInit(ctx, NULL, alg_md(alg), NULL, key) != 1)
        goto out;
    ok = EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
out:
    /* A failed verification leaves OpenSSL errors queued; left there they
     * would confuse a later SSL_get_error() on this thread. */
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    free(der);
    return ok;
}

/* ---- Parsing ------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static jws_result fail(aro_err *err, jws_result r,
                                                              const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return r;
}

/* The flattened form has exactly these members (RFC 7515 7.2.2); we also
 * refuse "header" (RFC 8555 6.2: no unprotected header) and "signatures"
 * (the general form). */
static jws_result check_outer_members(yajl_val v, aro_err *err)
{
    if (!YAJL_IS_OBJECT(v))
        return fail(err, JWS_ERR_MALFORMED, "%s", "JWS is not a JSON object");
    if (json_member(v, "signatures"))
        return fail(err, JWS_ERR_MALFORMED, "%s",
                    "general JWS serialization (\"signatures\") is not supported; use the "
                    "flattened form");
    if (json_member(v, "header"))
        return fail(err, JWS_ERR_MALFORMED, "%s",
                    "unprotected JWS header (\"header\") is not allowed (RFC 8555 6.2)");
    for (size_t i = 0; i < v->u.object.len; i++) {
        const char *k = v->u.object.keys[i];
        if (strcmp(k, "protected") != 0 && strcmp(k, "payload") != 0 &&
            strcmp(k, "signature") != 0)
            return fail(err, JWS_ERR_MALFORMED, "unexpected JWS member \"%s\"", k);
    }
    return JWS_OK;
}

/* One of the three base64url parts: string member, strictly decoded. */
static jws_result decode_part(yajl_val v, const char *name, const char **raw, unsigned char **out,
                              size_t *out_len, aro_err *err)
{
    const char *s = NULL;

    if (json_get_str(v, name, true, &s, err) != 0)
        return JWS_ERR_MALFORMED;
    if (b64url_decode(s, strlen(s), out, out_len) != 0)
        return fail(err, JWS_ERR_MALFORMED, "JWS \"%s\" is not canonical base64url", name);
    *raw = s;
    return JWS_OK;
}

/* An optional header member that must be a string when present. */
static jws_result header_str(yajl_val h, const char *name, const char **out, aro_err *err)
{
    if (json_get_str(h, name, false, out, err) < 0)
        return JWS_ERR_MALFORMED;
    return JWS_OK;
}

/* Rules shared by every mode: known alg shape, no "crit" (we implement no
 * extension, so RFC 7515 4.1.11 makes any listed one a failure), no
 * unencoded payload (RFC 7797 "b64": false). */
static jws_result check_common_header(jws_msg *m, aro_err *err)
{
    yajl_val h = m->header, b64;
    jws_result r;

    if (json_get_str(h, "alg", true, &m->alg, err) != 0)
        return JWS_ERR_MALFORMED;
    if (json_member(h, "crit"))
        return fail(err, JWS_ERR_MALFORMED, "%s",
                    "JWS \"crit\" header lists extensions this server does not understand");
    b64 = json_member(h, "b64");
    if (b64 && !YAJL_IS_TRUE(b64))
        return fail(err, JWS_ERR_MALFORMED, "%s", "unencoded JWS payloads (b64) are not supported");
    if ((r = header_str(h, "kid", &m->kid, err)) != JWS_OK ||
        (r = header_str(h, "url", &m->url, err)) != JWS_OK)
        return r;
    /* A nonce of the wrong type is judged by the mode (badNonce on a
     * request, see check_nonce); only a string is exposed. */
    if (YAJL_IS_STRING(json_member(h, "nonce")))
        m->nonce = YAJL_GET_STRING(json_member(h, "nonce"));
    if (json_member(h, "jwk") && !YAJL_IS_OBJECT(json_member(h, "jwk")))
        return fail(err, JWS_ERR_MALFORMED, "%s", "JWS \"jwk\" header must be an object");
    return JWS_OK;
}

/* RFC 8555 6.5: the nonce is a base64url string; a bad one is badNonce. */
static jws_result check_nonce(const jws_msg *m, aro_err *err)
{
    unsigned char *raw = NULL;
    size_t len = 0;

    if (!json_member(m->header, "nonce"))
        return fail(err, JWS_ERR_NO_NONCE, "%s", "JWS header has no \"nonce\"");
    if (!m->nonce)
        return fail(err, JWS_ERR_NO_NONCE, "%s", "JWS \"nonce\" is not a string");
    if (m->nonce[0] == '\0' || b64url_decode(m->nonce, strlen(m->nonce), &raw, &len) != 0)
        return fail(err, JWS_ERR_NO_NONCE, "%s", "JWS \"nonce\" is not base64url");
    free(raw);
    return JWS_OK;
}

/* Import the header's jwk and make sure alg is the one for that key type
 * (RFC 8555 6.2: the alg must match the key; no RS256 on an EC key). */
static jws_result import_header_jwk(jws_msg *m, aro_err *err)
{
    aro_err e2;
    const char *want;

    m->jwk = jwk_import(json_member(m->header, "jwk"), &e2);
    if (!m->jwk)
        return fail(err, JWS_ERR_BAD_KEY, "unusable JWS \"jwk\": %s", e2.msg);
    want = jws_alg_for_key(m->jwk);
    if (!want)
        return fail(err, JWS_ERR_BAD_KEY, "%s", "unsupported JWS \"jwk\" key type");
    if (strcmp(want, m->alg) != 0)
        return fail(err, JWS_ERR_BAD_ALG, "JWS alg does not match the jwk (want %s)", want);
    return JWS_OK;
}

static jws_result check_request_header(jws_msg *m, aro_err *err)
{
    bool has_jwk = json_member(m->header, "jwk") != NULL;
    jws_result r;

    if (!alg_allowed_for_request(m->alg))
        return fail(err, JWS_ERR_BAD_ALG,
                    "JWS algorithm \"%s\" is not allowed (RS256, ES256, ES384, EdDSA)", m->alg);
    /* RFC 8555 6.2: exactly one of "jwk" and "kid". */
    if (has_jwk == (m->kid != NULL))
        return fail(err, JWS_ERR_MALFORMED, "%s",
                    "JWS header must contain exactly one of \"jwk\" and \"kid\"");
    if ((r = check_nonce(m, err)) != JWS_OK)
        return r;
    if (!m->url)
        return fail(err, JWS_ERR_MALFORMED, "%s", "JWS header has no \"url\"");
    return has_jwk ? import_header_jwk(m, err) : JWS_OK;
}

/* RFC 8555 7.3.5: the inner JWS of a key change has "jwk" (the new key) and
 * "url", and no "kid". It MAY omit "nonce", so a nonce is tolerated and
 * ignored rather than required or refused. */
static jws_result check_keychange_header(jws_msg *m, aro_err *err)
{
    if (!alg_allowed_for_request(m->alg))
        return fail(err, JWS_ERR_BAD_ALG,
                    "JWS algorithm \"%s\" is not allowed (RS256, ES256, ES384, EdDSA)", m->alg);
    if (!json_member(m->header, "jwk") || m->kid)
        return fail(err, JWS_ERR_MALFORMED, "%s",
                    "key-change inner JWS must have \"jwk\" and no \"kid\"");
    if (!m->url)
        return fail(err, JWS_ERR_MALFORMED, "%s", "JWS header has no \"url\"");
    return import_header_jwk(m, err);
}

/* RFC 8555 7.3.4: the EAB JWS is a MAC (HS256 here), with "kid" (the key
 * identifier the CA issued) and "url", and MUST NOT carry a nonce. */
static jws_result check_eab_header(jws_msg *m, aro_err *err)
{
    if (strcmp(m->alg, "HS256") != 0)
        return fail(err, JWS_ERR_BAD_ALG, "external account binding alg \"%s\" is not HS256",
                    m->alg);
    if (!m->kid || json_member(m->header, "jwk"))
        return fail(err, JWS_ERR_MALFORMED, "%s",
                    "external account binding JWS must have \"kid\" and no \"jwk\"");
    if (json_member(m->header, "nonce"))
        return fail(err, JWS_ERR_MALFORMED, "%s",
                    "external account binding JWS must not have a \"nonce\"");
    if (!m->url)
        return fail(err, JWS_ERR_MALFORMED, "%s", "JWS header has no \"url\"");
    return JWS_OK;
}

static jws_result check_header(jws_msg *m, jws_mode mode, aro_err *err)
{
    jws_result r = check_common_header(m, err);

    if (r != JWS_OK)
        return r;
    switch (mode) {
    case JWS_ACME_REQUEST:
        return check_request_header(m, err);
    case JWS_KEYCHANGE_INNER:
        return check_keychange_header(m, err);
    case JWS_EAB_INNER:
        return check_eab_header(m, err);
    }
    return fail(err, JWS_ERR_MALFORMED, "%s", "unknown JWS mode");
}

jws_result jws_parse_value(yajl_val v, jws_mode mode, jws_msg *out, aro_err *err)
{
    const char *prot_s = NULL, *payload_s = NULL, *sig_s = NULL;
    unsigned char *prot = NULL;
    size_t prot_len = 0;
    aro_err e2;
    jws_result r;

    memset(out, 0, sizeof(*out));
    if ((r = check_outer_members(v, err)) != JWS_OK)
        goto out;
    if ((r = decode_part(v, "protected", &prot_s, &prot, &prot_len, err)) != JWS_OK ||
        (r = decode_part(v, "payload", &payload_s, &out->payload, &out->payload_len, err)) !=
            JWS_OK ||
        (r = decode_part(v, "signature", &sig_s, &out->sig, &out->sig_len, err)) != JWS_OK)
        goto out;
    /* json_parse refuses duplicate members: two parsers must not disagree
     * about which "alg" or "url" a header carries. */
    out->header = json_parse((const char *)prot, prot_len, &e2);
    if (!out->header || !YAJL_IS_OBJECT(out->header)) {
        r = fail(err, JWS_ERR_MALFORMED, "JWS protected header is not a JSON object: %s",
                 out->header ? "wrong type" : e2.msg);
        goto out;
    }
    /* The signing input is the received text, not a re-encoding. */
    out->signing_input = xasprintf("%s.%s", prot_s, payload_s);
    out->signing_input_len = strlen(out->signing_input);
    r = check_header(out, mode, err);
out:
    free(prot);
    if (r != JWS_OK)
        jws_msg_free(out);
    return r;
}

jws_result jws_parse(const char *body, size_t len, jws_mode mode, jws_msg *out, aro_err *err)
{
    aro_err e2;
    yajl_val v = json_parse(body, len, &e2);
    jws_result r;

    memset(out, 0, sizeof(*out));
    if (!v) {
        aro_err_set(err, "JWS is not valid JSON: %s", e2.msg);
        return JWS_ERR_MALFORMED;
    }
    r = jws_parse_value(v, mode, out, err);
    if (r != JWS_OK) {
        json_free(v);
        return r;
    }
    out->body = v;
    return JWS_OK;
}

jws_result jws_verify(const jws_msg *m, EVP_PKEY *key, aro_err *err)
{
    return jws_verify_prepared(m, key, NULL, err);
}

jws_result jws_verify_prepared(const jws_msg *m, EVP_PKEY *key, EVP_PKEY_CTX *prepared, aro_err *err)
{
    const char *want = jws_alg_for_key(key);

    if (!want)
        return fail(err, JWS_ERR_BAD_KEY, "%s", "unsupported key for JWS verification");
    if (!m->alg || strcmp(m->alg, want) != 0)
        return fail(err, JWS_ERR_BAD_ALG, "JWS alg does not match the account key (want %s)",
                    want);
    if (!verify_raw(key, prepared, m->alg, m->signing_input, m->signing_input_len, m->sig, m->sig_len))
        return fail(err, JWS_ERR_BAD_SIGNATURE, "%s", "JWS signature does not verify");
    return JWS_OK;
}

jws_result jws_verify_hmac(const jws_msg *m, const unsigned char *key, size_t keylen,
                           aro_err *err)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    if (!m->alg || strcmp(m->alg, "HS256") != 0)
        return fail(err, JWS_ERR_BAD_ALG, "%s", "MAC JWS alg must be HS256");
    if (keylen > INT_MAX ||
        !HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)m->signing_input,
              m->signing_input_len, mac, &maclen))
        return fail(err, JWS_ERR_BAD_SIGNATURE, "%s", "HMAC computation failed");
    /* Constant-time: the MAC is a secret shared with the CA. */
    if (m->sig_len != maclen || CRYPTO_memcmp(mac, m->sig, maclen) != 0)
        return fail(err, JWS_ERR_BAD_SIGNATURE, "%s", "external account binding MAC is wrong");
    return JWS_OK;
}

void jws_msg_free(jws_msg *m)
{
    if (!m)
        return;
    EVP_PKEY_free(m->jwk);
    json_free(m->header);
    free(m->payload);
    free(m->signing_input);
    free(m->sig);
    json_free(m->body);
    memset(m, 0, sizeof(*m));
}

/* ---- Signing ------------------------------------------------------- */

/* The flattened JWS body from its encoded parts. */
static char *flattened(const char *prot_b64, const char *payload_b64, const unsigned char *sig,
                       size_t sig_len)
{
    char *sig_b64 = b64url_encode(sig, sig_len);
    json_gen *g = jg_new();
    char *out;

    jg_obj_open(g);
    jg_kv_str(g, "protected", prot_b64);
    jg_kv_str(g, "payload", payload_b64);
    jg_kv_str(g, "signature", sig_b64);
    jg_obj_close(g);
    out = jg_finish(g, NULL);
    free(sig_b64);
    return out;
}

/* Sign header JSON + payload with key (asymmetric) or mac_key (HS256). */
static char *sign_parts(const char *header, const void *payload, size_t payload_len, EVP_PKEY *key,
                        EVP_PKEY_CTX *prepared, const unsigned char *mac_key, size_t mac_key_len)
{
    char *prot_b64 = NULL, *payload_b64 = NULL, *input = NULL, *out = NULL;
    unsigned char *sig = NULL, mac[EVP_MAX_MD_SIZE];
    size_t sig_len = 0;
    unsigned int maclen = 0;

    if (!header)
        goto out;
    prot_b64 = b64url_encode(header, strlen(header));
    payload_b64 = b64url_encode(payload ? payload : "", payload ? payload_len : 0);
    input = xasprintf("%s.%s", prot_b64, payload_b64);
    if (key) {
        if (sign_raw(key, prepared, input, strlen(input), &sig, &sig_len) != 0)
            goto out;
        out = flattened(prot_b64, payload_b64, sig, sig_len);
    } else {
        if (mac_key_len > INT_MAX || !HMAC(EVP_sha256(), mac_key, (int)mac_key_len,
                                           (const unsigned char *)input, strlen(input), mac,
                                           &maclen))
            goto out;
        out = flattened(prot_b64, payload_b64, mac, maclen);
    }
out:
    free(prot_b64);
    free(payload_b64);
    free(input);
    free(sig);
    return out;
}

char *jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
               const char *payload, size_t payload_len)
{
    return jws_sign_prepared(key, NULL, kid, nonce, url, payload, payload_len);
}

char *jws_sign_prepared(EVP_PKEY *key, EVP_PKEY_CTX *prepared, const char *kid, const char *nonce,
                        const char *url, const char *payload, size_t payload_len)
{
    const char *alg = jws_alg_for_key(key);
    json_gen *g;
    char *header, *out;

    if (!alg)
        return NULL;
    g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "alg", alg);
    if (kid) {
        jg_kv_str(g, "kid", kid);
    } else {
        jg_key(g, "jwk");
        jwk_write(g, key);
    }
    jg_kv_str(g, "nonce", nonce);
    jg_kv_str(g, "url", url);
    jg_obj_close(g);
    header = jg_finish(g, NULL);
    /* POST-as-GET (RFC 8555 6.3): the payload is the empty string. */
    out = sign_parts(header, payload, payload ? payload_len : 0, key, prepared, NULL, 0);
    free(header);
    return out;
}

char *jws_sign_keychange(EVP_PKEY *new_key, EVP_PKEY *old_key, const char *account_url,
                         const char *url)
{
    const char *alg = jws_alg_for_key(new_key);
    json_gen *g;
    char *header = NULL, *payload = NULL, *out = NULL;

    if (!alg)
        return NULL;
    g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "alg", alg);
    jg_key(g, "jwk");
    jwk_write(g, new_key);
    jg_kv_str(g, "url", url);
    jg_obj_close(g);
    header = jg_finish(g, NULL);

    g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "account", account_url);
    jg_key(g, "oldKey");
    jwk_write(g, old_key);
    jg_obj_close(g);
    payload = jg_finish(g, NULL);
    if (payload)
        out = sign_parts(header, payload, strlen(payload), new_key, NULL, NULL, 0);
    free(header);
    free(payload);
    return out;
}

char *jws_sign_eab(const unsigned char *mac_key, size_t mac_key_len, const char *eab_kid,
                   const char *url, EVP_PKEY *account_key)
{
    json_gen *g = jg_new();
    char *header = NULL, *payload = NULL, *out = NULL;

    jg_obj_open(g);
    jg_kv_str(g, "alg", "HS256");
    jg_kv_str(g, "kid", eab_kid);
    jg_kv_str(g, "url", url);
    jg_obj_close(g);
    header = jg_finish(g, NULL);
    payload = jwk_to_json(account_key);
    if (payload)
        out = sign_parts(header, payload, strlen(payload), NULL, NULL, mac_key, mac_key_len);
    free(header);
    free(payload);
    return out;
}
