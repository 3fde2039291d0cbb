/* libFuzzer harness: the JWS a stranger sends (RFC 8555 6.2). The input is
 * one request body; it goes through jws_parse in each of the three modes
 * the server uses (outer request, key-change inner, EAB inner) and, when
 * it parses, through verification with the key it carries (or, for a kid,
 * with a fixed key, which must fail), then through what the server does
 * next: decode the payload as JSON, import embedded keys.
 *
 * Properties beyond "no crash": a verification that succeeds must mean the
 * alg matches the key; an imported JWK must re-export to a JWK that
 * imports to the same public key (the thumbprint indexes accounts). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jws.h"
#include "keys.h"

static EVP_PKEY *fixed_ec, *fixed_rsa;
static const unsigned char hmac_key[32] = "aro-fuzz-eab-mac-key-0123456789";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* Generated once: key generation per input would dominate the run. */
    fixed_ec = key_generate(KEY_EC256);
    fixed_rsa = key_generate(KEY_RSA2048);
    if (!fixed_ec || !fixed_rsa)
        abort();
    return 0;
}

/* A JWK must survive export and import unchanged. */
static void check_key_roundtrip(EVP_PKEY *k)
{
    char *json = jwk_to_json(k);
    char *thumb = jwk_thumbprint(k);
    if (!json || !thumb) {
        fprintf(stderr, "fuzz_jws: accepted key cannot be exported\n");
        abort();
    }
    aro_err err;
    yajl_val v = json_parse(json, strlen(json), &err);
    EVP_PKEY *k2 = v ? jwk_import(v, &err) : NULL;
    if (!k2 || !key_public_equal(k, k2)) {
        fprintf(stderr, "fuzz_jws: exported JWK does not re-import: %s\n", json);
        abort();
    }
    char *thumb2 = jwk_thumbprint(k2);
    if (!thumb2 || strcmp(thumb, thumb2) != 0)
        abort();
    free(thumb2);
    EVP_PKEY_free(k2);
    json_free(v);
    free(thumb);
    free(json);
}

static void check_verified(const jws_msg *m, EVP_PKEY *key)
{
    const char *want = jws_alg_for_key(key);
    /* RSA keys sign RS256 only here; the allow-list is in jws.h. */
    if (!want || !m->alg || strcmp(want, m->alg) != 0) {
        fprintf(stderr, "fuzz_jws: verified with alg %s on a %s key\n", m->alg ? m->alg : "(none)",
                want ? want : "(unknown)");
        abort();
    }
}

static void one_mode(const uint8_t *data, size_t size, jws_mode mode)
{
    jws_msg m;
    aro_err err;
    memset(&m, 0, sizeof(m));
    jws_result r = jws_parse((const char *)data, size, mode, &m, &err);
    if (r != JWS_OK) {
        jws_msg_free(&m);
        return;
    }
    if (mode == JWS_EAB_INNER) {
        (void)jws_verify_hmac(&m, hmac_key, sizeof(hmac_key), &err);
    } else if (m.jwk) {
        check_key_roundtrip(m.jwk);
        if (jws_verify(&m, m.jwk, &err) == JWS_OK)
            check_verified(&m, m.jwk);
    } else {
        /* kid: the server verifies with the account's stored key. A random
         * input must never verify against a key it never saw. */
        if (jws_verify(&m, fixed_ec, &err) == JWS_OK || jws_verify(&m, fixed_rsa, &err) == JWS_OK) {
            fprintf(stderr, "fuzz_jws: signature verified with an unrelated key\n");
            abort();
        }
    }
    if (m.payload_len > 0) {
        yajl_val p = json_parse((const char *)m.payload, m.payload_len, &err);
        /* Key change (7.3.5) and EAB (7.3.4) carry keys in the payload. */
        yajl_val k = json_member(p, "oldKey");
        if (!k && mode == JWS_EAB_INNER)
            k = p;
        EVP_PKEY *pk = k ? jwk_import(k, &err) : NULL;
        if (pk) {
            check_key_roundtrip(pk);
            EVP_PKEY_free(pk);
        }
        json_free(p);
    }
    jws_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one_mode(data, size, JWS_ACME_REQUEST);
    one_mode(data, size, JWS_KEYCHANGE_INNER);
    one_mode(data, size, JWS_EAB_INNER);
    return 0;
}
