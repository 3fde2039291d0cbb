/* JWS forging for the checks (conform/forge.c): the well-formed request is
 * one that common/jws.c accepts and verifies; each broken variant is
 * broken in exactly the way asked. */
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "forge.h"
#include "jws.h"
#include "keys.h"
#include "testlib.h"

static jws_result parse_verify(const char *jws, EVP_PKEY *key, jws_msg *m)
{
    aro_err err;
    memset(m, 0, sizeof *m);
    jws_result r = jws_parse(jws, strlen(jws), JWS_ACME_REQUEST, m, &err);
    if (r != JWS_OK)
        return r;
    return jws_verify(m, key, &err);
}

int main(void)
{
    EVP_PKEY *key = key_generate(KEY_EC256), *other = key_generate(KEY_EC256);
    jws_msg m;
    const char *url = "https://example.test/acme/new-order", *nonce = "bm9uY2U";

    forge_spec good = {.key = key, .kid = "https://example.test/acme/acct/1", .nonce = nonce, .url = url,
                       .payload = "{\"identifiers\":[]}"};
    char *j = forge_jws(&good);
    CHECK_INT_EQ(parse_verify(j, key, &m), JWS_OK);
    CHECK_STR_EQ(m.alg, "ES256");
    CHECK_STR_EQ(m.kid, "https://example.test/acme/acct/1");
    CHECK_STR_EQ(m.url, url);
    CHECK_STR_EQ(m.nonce, nonce);
    CHECK_INT_EQ(m.payload_len, strlen("{\"identifiers\":[]}"));
    jws_msg_free(&m);
    free(j);

    /* POST-as-GET: payload NULL is "". */
    forge_spec pag = good;
    pag.payload = NULL;
    j = forge_jws(&pag);
    CHECK_INT_EQ(parse_verify(j, key, &m), JWS_OK);
    CHECK_INT_EQ(m.payload_len, 0);
    jws_msg_free(&m);
    free(j);

    /* jwk instead of kid, with the key's own public key. */
    forge_spec jwk = {.key = key, .jwk = true, .nonce = nonce, .url = url, .payload = "{}"};
    j = forge_jws(&jwk);
    CHECK_INT_EQ(parse_verify(j, key, &m), JWS_OK);
    CHECK(m.jwk && key_public_equal(m.jwk, key));
    jws_msg_free(&m);
    free(j);

    /* Both jwk and kid: refused as malformed by the parser. */
    forge_spec both = good;
    both.jwk = true;
    j = forge_jws(&both);
    CHECK_INT_EQ(parse_verify(j, key, &m), JWS_ERR_MALFORMED);
    jws_msg_free(&m);
    free(j);

    /* No nonce: the parser says badNonce. */
    forge_spec nonon = good;
    nonon.nonce = NULL;
    j = forge_jws(&nonon);
    CHECK_INT_EQ(parse_verify(j, key, &m), JWS_ERR_NO_NONCE);
    jws_msg_free(&m);
    free(j);

    /* "none" with an empty signature, and HS256: not allowed. */
    forge_spec none = good;
    none.alg = "none";
    none.sig = SIG_EMPTY;
    j = forge_jws(&none);
    CHECK_INT_EQ(parse_verify(j, key, &m), JWS_ERR_BAD_ALG);
    jws_msg_free(&m);
    free(j);
    forge_spec mac = good;
    mac.alg = "HS256";
    mac.sig = SIG_HMAC;
    j = forge_jws(&mac);
    CHECK_INT_EQ(parse_verify(j, key, &m), JWS_ERR_BAD_ALG);
    jws_msg_free(&m);
    free(j);

    /* A flipped signature, and another key's: they do not verify. */
    forge_spec flip = good;
    flip.sig = SIG_FLIPPED;
    j = forge_jws(&flip);
    CHECK_INT_EQ(parse_verify(j, key, &m), JWS_ERR_BAD_SIGNATURE);
    jws_msg_free(&m);
    free(j);
    j = forge_jws(&good);
    CHECK_INT_EQ(parse_verify(j, other, &m), JWS_ERR_BAD_SIGNATURE);
    jws_msg_free(&m);
    free(j);

    /* Extra protected members land in the header. */
    forge_spec crit = good;
    crit.extra = "\"crit\":[\"exp\"],\"exp\":1";
    j = forge_jws(&crit);
    aro_err err;
    yajl_val v = json_parse(j, strlen(j), &err);
    const char *prot = json_str(v, "protected");
    unsigned char *raw = NULL;
    size_t n = 0;
    CHECK(prot && b64url_decode(prot, strlen(prot), &raw, &n) == 0);
    CHECK(raw && strstr((char *)raw, "\"crit\":[\"exp\"]") && strstr((char *)raw, "\"url\""));
    free(raw);
    json_free(v);
    free(j);

    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
    return testlib_finish();
}
