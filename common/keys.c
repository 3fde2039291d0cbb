/* Keys and JWKs (RFC 7517, RFC 7518 section 6, RFC 8037) and JWK
 * thumbprints (RFC 7638), on OpenSSL 3's EVP_PKEY only: keys from JWKs are
 * built with EVP_PKEY_fromdata, never through the deprecated RSA / EC_KEY
 * structures. */
#include "keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"

/* RSA moduli we accept from a JWK: 2048 is the floor everyone uses for
 * account keys; the ceiling bounds the cost of one verification, which an
 * unauthenticated client can make the server pay. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
/* Exponents longer than 8 octets are legal but nobody uses them; a bound
 * keeps verification cost predictable. */
#define RSA_MAX_E_BYTES 8

#define KEY_PEM_MAX (64 * 1024)

static const struct {
    key_type t;
    const char *name;
} key_names[] = {
    {KEY_RSA2048, "rsa2048"}, {KEY_RSA3072, "rsa3072"}, {KEY_RSA4096, "rsa4096"},
    {KEY_EC256, "ec256"},     {KEY_EC384, "ec384"},     {KEY_ED25519, "ed25519"},
};

int key_type_from_name(const char *name, key_type *out)
{
    for (size_t i = 0; name && i < sizeof(key_names) / sizeof(key_names[0]); i++) {
        if (strcmp(name, key_names[i].name) == 0) {
            *out = key_names[i].t;
            return 0;
        }
    }
    return -1;
}

const char *key_type_name(key_type t)
{
    for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
        if (key_names[i].t == t)
            return key_names[i].name;
    }
    return NULL;
}

EVP_PKEY *key_generate(key_type t)
{
    switch (t) {
    case KEY_RSA2048:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case KEY_RSA3072:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    case KEY_RSA4096:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
    case KEY_EC256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case KEY_EC384:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case KEY_ED25519:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    return NULL;
}

/* The EC curve of a key as its JOSE name ("P-256", "P-384"), or NULL.
 * OpenSSL reports P-256 as "prime256v1" and P-384 as "secp384r1". */
static const char *ec_curve_jose_name(EVP_PKEY *key)
{
    char group[64];
    size_t glen = 0;

    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return NULL;
    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        &glen))
        return NULL;
    if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0 ||
        strcmp(group, "secp256r1") == 0)
        return "P-256";
    if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
        return "P-384";
    return NULL;
}

const char *jws_alg_for_key(EVP_PKEY *key)
{
    const char *crv;

    if (!key)
        return NULL;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        return EVP_PKEY_get_bits(key) >= RSA_MIN_BITS ? "RS256" : NULL;
    case EVP_PKEY_EC:
        crv = ec_curve_jose_name(key);
        if (crv && strcmp(crv, "P-256") == 0)
            return "ES256";
        if (crv && strcmp(crv, "P-384") == 0)
            return "ES384";
        return NULL;
    case EVP_PKEY_ED25519:
        return "EdDSA";
    default:
        return NULL;
    }
}

EVP_PKEY *key_from_pem(const char *pem, size_t len, aro_err *err)
{
    BIO *bio = NULL;
    EVP_PKEY *key = NULL;

    if (len > INT_MAX) {
        aro_err_set(err, "PEM key too large");
        goto out;
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) {
        aro_err_set(err, "out of memory");
        goto out;
    }
    /* No passphrase callback: an encrypted key must not make us prompt. */
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
    if (!key) {
        aro_err_set(err, "not a PEM private key (PKCS#8 or traditional, unencrypted)");
        goto out;
    }
    if (!jws_alg_for_key(key)) {
        aro_err_set(err, "unsupported key type (want RSA >= 2048 bits, EC P-256/P-384 or "
                         "Ed25519)");
        EVP_PKEY_free(key);
        key = NULL;
    }
out:
    if (!key)
        ERR_clear_error(); /* see jwk_import */
    BIO_free(bio);
    return key;
}

EVP_PKEY *key_load_pem(const char *path, aro_err *err)
{
    size_t len = 0;
    char *pem = file_read_all(path, KEY_PEM_MAX, &len, err);
    EVP_PKEY *key = NULL;
    aro_err e2;

    if (!pem)
        return NULL;
    key = key_from_pem(pem, len, &e2);
    if (!key)
        aro_err_set(err, "%s: %s", path, e2.msg);
    OPENSSL_cleanse(pem, len);
    free(pem);
    return key;
}

/* Copy a memory BIO's contents into a malloc'd NUL-terminated string. */
static char *bio_to_str(BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);

    if (n < 0)
        return NULL;
    return xstrndup(data ? data : "", (size_t)n);
}

char *key_to_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;

    if (!bio)
        goto out;
    if (!PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
        goto out;
    out = bio_to_str(bio);
out:
    /* The BIO held private key material. */
    if (bio) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (data && n > 0)
            OPENSSL_cleanse(data, (size_t)n);
    }
    BIO_free(bio);
    return out;
}

char *key_public_to_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;

    if (!bio)
        goto out;
    if (!PEM_write_bio_PUBKEY(bio, key))
        goto out;
    out = bio_to_str(bio);
out:
    BIO_free(bio);
    return out;
}

int key_save_pem(EVP_PKEY *key, const char *path, aro_err *err)
{
    char *pem = key_to_pem(key);
    int rc = -1;

    if (!pem) {
        aro_err_set(err, "%s: cannot encode the key as PKCS#8", path);
        goto out;
    }
    rc = file_write_atomic(path, pem, strlen(pem), 0600, err);
out:
    if (pem) {
        OPENSSL_cleanse(pem, strlen(pem));
        free(pem);
    }
    return rc;
}

bool key_public_equal(EVP_PKEY *a, EVP_PKEY *b)
{
    if (!a || !b)
        return false;
    /* EVP_PKEY_eq compares the public components (and parameters). */
    return EVP_PKEY_eq(a, b) == 1;
}

/* ---- JWK import ---------------------------------------------------- */

/* A required base64url string member, strictly decoded. */
static int jwk_b64_member(yajl_val jwk, const char *name, unsigned char **out, size_t *len,
                          aro_err *err)
{
    const char *s = NULL;

    if (json_get_str(jwk, name, true, &s, err) != 0)
        return -1;
    if (b64url_decode(s, strlen(s), out, len) != 0) {
        aro_err_set(err, "JWK member \"%s\" is not canonical base64url", name);
        return -1;
    }
    return 0;
}

/* RFC 7518 6.3.1.1 / 6.3.1.2: n and e use the minimum number of octets. A
 * leading zero would also give the key a second thumbprint. */
static int check_minimal(const unsigned char *b, size_t len, const char *name, aro_err *err)
{
    if (len == 0 || b[0] == 0) {
        aro_err_set(err, "JWK member \"%s\" is empty or has a leading zero octet", name);
        return -1;
    }
    return 0;
}

static size_t be_bits(const unsigned char *b, size_t len)
{
    size_t bits = len * 8;
    unsigned char top = b[0];

    while (bits > 0 && !(top & 0x80)) {
        top <<= 1;
        bits--;
    }
    return bits;
}

/* Build a public key of 'type' ("RSA", "EC") from OSSL_PARAMs. */
static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *key = NULL;

    if (!ctx)
        goto out;
    if (EVP_PKEY_fromdata_init(ctx) <= 0)
        goto out;
    if (EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        key = NULL;
out:
    EVP_PKEY_CTX_free(ctx);
    return key;
}

/* The EC public key of group (an OpenSSL group name) and encoded point. */
static EVP_PKEY *ec_key_fromdata(const char *group, const unsigned char *pt, size_t len)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, len),
        OSSL_PARAM_construct_end(),
    };
    return pkey_fromdata("EC", params);
}

/* One public-only key per curve, made once, whose copies take each new
 * point. Building a key from OSSL_PARAMs makes the curve's group afresh
 * and looks the key type up by name, several times the cost of copying
 * the template and setting its point; the finalize of every order
 * decodes a fresh CSR key, on a loop thread. The template holds the
 * curve's generator, a point that is always valid. The templates live as
 * long as the process: freeing them at exit could race a thread still
 * decoding, and OpenSSL's own exit handler. */
enum { CURVE_P256, CURVE_P384, CURVE_COUNT };
static const char *const curve_groups[CURVE_COUNT] = {"prime256v1", "secp384r1"};
static EVP_PKEY *curve_template[CURVE_COUNT];
static pthread_once_t curve_template_once = PTHREAD_ONCE_INIT;

static void curve_templates_make(void)
{
    for (int i = 0; i < CURVE_COUNT; i++) {
        EC_GROUP *g = EC_GROUP_new_by_curve_name(OBJ_txt2nid(curve_groups[i]));
        unsigned char gen[1 + 2 * 48];
        size_t len = g ? EC_POINT_point2oct(g, EC_GROUP_get0_generator(g), POINT_CONVERSION_UNCOMPRESSED,
                                            gen, sizeof(gen), NULL)
                       : 0;
        EC_GROUP_free(g);
        if (len > 0)
            curve_template[i] = ec_key_fromdata(curve_groups[i], gen, len);
    }
}

EVP_PKEY *ec_public_key_from_point(const char *crv, const unsigned char *pt, size_t len)
{
    int c = strcmp(crv, "P-256") == 0 ? CURVE_P256 : strcmp(crv, "P-384") == 0 ? CURVE_P384 : -1;
    if (c < 0)
        return NULL;
    pthread_once(&curve_template_once, curve_templates_make);
    EVP_PKEY *key = NULL;
    if (!curve_template[c]) {
        /* No template (OpenSSL refused it at the first use): built from
         * parameters, as it always can be. */
        key = ec_key_fromdata(curve_groups[c], pt, len);
    } else if ((key = EVP_PKEY_dup(curve_template[c])) &&
               /* Setting the point decodes it, and decoding refuses a
                * point that is not on the curve (EC_POINT_oct2point). */
               EVP_PKEY_set1_encoded_public_key(key, pt, len) != 1) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    ERR_clear_error();
    return key;
}

static EVP_PKEY *jwk_import_rsa(yajl_val jwk, aro_err *err)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nlen = 0, elen = 0, bits;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *key = NULL;

    if (jwk_b64_member(jwk, "n", &n, &nlen, err) != 0 ||
        jwk_b64_member(jwk, "e", &e, &elen, err) != 0)
        goto out;
    if (check_minimal(n, nlen, "n", err) != 0 || check_minimal(e, elen, "e", err) != 0)
        goto out;
    bits = be_bits(n, nlen);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
        aro_err_set(err, "RSA modulus of %zu bits (want %d to %d)", bits, RSA_MIN_BITS,
                    RSA_MAX_BITS);
        goto out;
    }
    /* An even exponent has no inverse; e = 1 is no signature at all. */
    if (elen > RSA_MAX_E_BYTES || (e[elen - 1] & 1) == 0 || (elen == 1 && e[0] < 3)) {
        aro_err_set(err, "RSA public exponent is even, too small or too large");
        goto out;
    }
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
        !(params = OSSL_PARAM_BLD_to_param(bld))) {
        aro_err_set(err, "out of memory building an RSA key");
        goto out;
    }
    key = pkey_fromdata("RSA", params);
    if (!key)
        aro_err_set(err, "OpenSSL refused the RSA key");
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return key;
}

static EVP_PKEY *jwk_import_ec(yajl_val jwk, aro_err *err)
{
    const char *crv = NULL;
    unsigned char *x = NULL, *y = NULL, *point = NULL;
    size_t xlen = 0, ylen = 0, flen;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *chk = NULL;

    if (json_get_str(jwk, "crv", true, &crv, err) != 0)
        goto out;
    if (strcmp(crv, "P-256") == 0) {
        flen = 32;
    } else if (strcmp(crv, "P-384") == 0) {
        flen = 48;
    } else {
        aro_err_set(err, "unsupported EC curve \"%s\" (want P-256 or P-384)", crv);
        goto out;
    }
    if (jwk_b64_member(jwk, "x", &x, &xlen, err) != 0 ||
        jwk_b64_member(jwk, "y", &y, &ylen, err) != 0)
        goto out;
    /* RFC 7518 6.2.1.2: x and y are exactly the field size, left-padded. */
    if (xlen != flen || ylen != flen) {
        aro_err_set(err, "EC coordinates must be %zu octets for %s", flen, crv);
        goto out;
    }
    /* SEC 1 uncompressed point: 04 || x || y. */
    point = xmalloc(1 + 2 * flen);
    point[0] = 0x04;
    memcpy(point + 1, x, flen);
    memcpy(point + 1 + flen, y, flen);
    key = ec_public_key_from_point(crv, point, 1 + 2 * flen);
    if (!key) {
        aro_err_set(err, "EC point is not on the curve %s", crv);
        goto out;
    }
    /* Decoding the point checked that it lies on the curve; the quick
     * public check also refuses the point at infinity and coordinates out
     * of range, so no invalid-curve attack gets in. That is the partial
     * validation of SP 800-56A rev. 3 5.6.2.3.4, and full validation on
     * P-256 and P-384, whose cofactor is 1: the full check's n*Q = O
     * costs a scalar multiplication, as much as verifying a signature,
     * and cannot fail for such a point. */
    chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!chk || EVP_PKEY_public_check_quick(chk) != 1) {
        aro_err_set(err, "EC point is not a valid %s public key (curve check)", crv);
        EVP_PKEY_free(key);
        key = NULL;
    }
out:
    EVP_PKEY_CTX_free(chk);
    free(point);
    free(x);
    free(y);
    return key;
}

static EVP_PKEY *jwk_import_okp(yajl_val jwk, aro_err *err)
{
    const char *crv = NULL;
    unsigned char *x = NULL;
    size_t xlen = 0;
    EVP_PKEY *key = NULL;

    if (json_get_str(jwk, "crv", true, &crv, err) != 0)
        goto out;
    /* RFC 8037: Ed448 and the X* curves exist, but ACME signs with Ed25519 only. */
    if (strcmp(crv, "Ed25519") != 0) {
        aro_err_set(err, "unsupported OKP curve \"%s\" (want Ed25519)", crv);
        goto out;
    }
    if (jwk_b64_member(jwk, "x", &x, &xlen, err) != 0)
        goto out;
    if (xlen != 32) {
        aro_err_set(err, "Ed25519 public key must be 32 octets");
        goto out;
    }
    key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
    if (!key)
        aro_err_set(err, "OpenSSL refused the Ed25519 key");
out:
    free(x);
    return key;
}

static EVP_PKEY *jwk_import_any(yajl_val jwk, aro_err *err)
{
    /* Private and symmetric members (RFC 7518 6.2.2, 6.3.2, 6.4; RFC 8037
     * 2): a client that sends one has leaked its key; never accept it. */
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    const char *kty = NULL;

    if (!YAJL_IS_OBJECT(jwk)) {
        aro_err_set(err, "JWK is not a JSON object");
        return NULL;
    }
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++) {
        if (json_member(jwk, private_members[i])) {
            aro_err_set(err, "JWK carries the private member \"%s\"", private_members[i]);
            return NULL;
        }
    }
    if (json_get_str(jwk, "kty", true, &kty, err) != 0)
        return NULL;
    if (strcmp(kty, "RSA") == 0)
        return jwk_import_rsa(jwk, err);
    if (strcmp(kty, "EC") == 0)
        return jwk_import_ec(jwk, err);
    if (strcmp(kty, "OKP") == 0)
        return jwk_import_okp(jwk, err);
    aro_err_set(err, "unsupported JWK kty \"%s\"", kty);
    return NULL;
}

EVP_PKEY *jwk_import(yajl_val jwk, aro_err *err)
{
    EVP_PKEY *key = jwk_import_any(jwk, err);

    /* Refused keys leave OpenSSL errors queued (fromdata, public check);
     * clear them so a later SSL_get_error() on this thread is not misled. */
    if (!key)
        ERR_clear_error();
    return key;
}

/* ---- JWK output ---------------------------------------------------- */

static void jg_b64(json_gen *g, const char *key, const unsigned char *b, size_t len)
{
    char *s = b64url_encode(b, len);

    jg_key(g, key);
    jg_str(g, s);
    free(s);
}

/* A BIGNUM as a JWK member: minimal big-endian octets (no leading zero),
 * or exactly 'pad' octets when pad > 0 (EC coordinates). */
static int jg_bn(json_gen *g, const char *key, EVP_PKEY *pkey, const char *param, size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char *buf = NULL;
    size_t len;
    int rc = -1;

    if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
        goto out;
    len = pad ? pad : (size_t)BN_num_bytes(bn);
    buf = xmalloc(len ? len : 1);
    if (pad ? BN_bn2binpad(bn, buf, (int)pad) < 0 : BN_bn2bin(bn, buf) < 0)
        goto out;
    jg_b64(g, key, buf, len);
    rc = 0;
out:
    free(buf);
    BN_free(bn);
    return rc;
}

/* Members in lexicographic order (RFC 7638 3.2), exactly the required ones,
 * so the same bytes serve as header jwk and thumbprint input. */
/* The EC members of a JWK (RFC 7518 6.2.1) from the uncompressed point
 * 04 || x || y (SEC 1 2.3.3) of crv. -1 for another curve or encoding. */
static int jwk_ec_members(json_gen *g, const char *crv, const unsigned char *pt, size_t len)
{
    size_t flen = strcmp(crv, "P-256") == 0 ? 32 : strcmp(crv, "P-384") == 0 ? 48 : 0;
    if (!flen || len != 1 + 2 * flen || pt[0] != 0x04)
        return -1;
    jg_kv_str(g, "crv", crv);
    jg_kv_str(g, "kty", "EC");
    jg_b64(g, "x", pt + 1, flen);
    jg_b64(g, "y", pt + 1 + flen, flen);
    return 0;
}

static int jwk_write_members(json_gen *g, EVP_PKEY *key)
{
    unsigned char pt[1 + 2 * 48];
    size_t ptlen = 0;
    const char *crv;
    unsigned char raw[32];
    size_t rawlen = sizeof(raw);

    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        if (jg_bn(g, "e", key, OSSL_PKEY_PARAM_RSA_E, 0) != 0)
            return -1;
        jg_kv_str(g, "kty", "RSA");
        return jg_bn(g, "n", key, OSSL_PKEY_PARAM_RSA_N, 0);
    case EVP_PKEY_EC:
        crv = ec_curve_jose_name(key);
        if (!crv)
            return -1;
        /* One export of the encoded point, not one per coordinate: each
         * export of an EC key costs a field inversion. A key that encodes
         * its point compressed takes the coordinates one by one. */
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &ptlen) &&
            ptlen > 0 && pt[0] == 0x04)
            return jwk_ec_members(g, crv, pt, ptlen);
        jg_kv_str(g, "crv", crv);
        jg_kv_str(g, "kty", "EC");
        if (jg_bn(g, "x", key, OSSL_PKEY_PARAM_EC_PUB_X, strcmp(crv, "P-256") == 0 ? 32 : 48))
            return -1;
        return jg_bn(g, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y, strcmp(crv, "P-256") == 0 ? 32 : 48);
    case EVP_PKEY_ED25519:
        if (!EVP_PKEY_get_raw_public_key(key, raw, &rawlen) || rawlen != 32)
            return -1;
        jg_kv_str(g, "crv", "Ed25519");
        jg_kv_str(g, "kty", "OKP");
        jg_b64(g, "x", raw, rawlen);
        return 0;
    default:
        return -1;
    }
}

void jwk_write(json_gen *g, EVP_PKEY *key)
{
    jg_obj_open(g);
    if (!key || jwk_write_members(g, key) != 0) {
        /* Unbalance the generator on purpose: jg_finish then fails, so a
         * key we cannot express never yields a plausible-looking JWK. */
        jg_arr_close(g);
    }
    jg_obj_close(g);
}

char *jwk_to_json(EVP_PKEY *key)
{
    json_gen *g = jg_new();

    jwk_write(g, key);
    return jg_finish(g, NULL);
}

/* base64url(SHA-256(json)); frees json. */
static char *thumbprint_of(char *json)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char *out = NULL;

    if (!json)
        return NULL;
    if (EVP_Digest(json, strlen(json), md, &mdlen, EVP_sha256(), NULL) && mdlen == 32)
        out = b64url_encode(md, mdlen);
    free(json);
    return out;
}

char *jwk_thumbprint(EVP_PKEY *key)
{
    return thumbprint_of(jwk_to_json(key));
}

char *jwk_thumbprint_ec_point(const char *crv, const unsigned char *pt, size_t len)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    if (jwk_ec_members(g, crv, pt, len) != 0)
        jg_arr_close(g); /* unbalanced on purpose: jg_finish fails */
    jg_obj_close(g);
    return thumbprint_of(jg_finish(g, NULL));
}
