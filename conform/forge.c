#include "forge.h"

#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "json.h"
#include "jws.h"
#include "keys.h"
#include "util.h"

static char *protected_header(const forge_spec *s)
{
    const char *alg = s->alg ? s->alg : jws_alg_for_key(s->key);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "alg", alg);
    if (s->kid)
        jg_kv_str(g, "kid", s->kid);
    if (s->jwk) {
        jg_key(g, "jwk");
        jwk_write(g, s->jwk_key ? s->jwk_key : s->key);
    }
    if (s->nonce)
        jg_kv_str(g, "nonce", s->nonce);
    if (s->url)
        jg_kv_str(g, "url", s->url);
    jg_obj_close(g);
    char *h = jg_finish(g, NULL);
    if (h && s->extra && *s->extra) {
        /* "{...}" + extra: drop the closing brace, append ",extra}". */
        size_t n = strlen(h);
        char *with = xasprintf("%.*s%s%s}", (int)(n - 1), h, n > 2 ? "," : "", s->extra);
        free(h);
        h = with;
    }
    return h;
}

char *forge_jws(const forge_spec *s)
{
    char *header = protected_header(s);
    if (!header)
        return NULL;
    const char *payload = s->payload ? s->payload : "";
    char *prot = b64url_encode(header, strlen(header));
    char *pay = b64url_encode(payload, strlen(payload));
    char *input = xasprintf("%s.%s", prot, pay);
    unsigned char *sig = NULL, mac[EVP_MAX_MD_SIZE];
    size_t sig_len = 0;
    char *sig_b64 = NULL, *out = NULL;

    switch (s->sig) {
    case SIG_GOOD:
    case SIG_FLIPPED:
        if (jws_sign_raw(s->key, input, strlen(input), &sig, &sig_len) != 0)
            goto done;
        if (s->sig == SIG_FLIPPED && sig_len)
            sig[0] ^= 0x80;
        sig_b64 = b64url_encode(sig, sig_len);
        break;
    case SIG_EMPTY:
        sig_b64 = xstrdup("");
        break;
    case SIG_HMAC: {
        /* The classic confusion attack: HS256 keyed with public bytes. */
        char *jwk = jwk_to_json(s->key);
        unsigned int maclen = 0;
        HMAC(EVP_sha256(), jwk, (int)strlen(jwk), (const unsigned char *)input, strlen(input), mac,
             &maclen);
        free(jwk);
        sig_b64 = b64url_encode(mac, maclen);
        break;
    }
    }
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "protected", prot);
    jg_kv_str(g, "payload", pay);
    jg_kv_str(g, "signature", sig_b64);
    jg_obj_close(g);
    out = jg_finish(g, NULL);
done:
    free(header);
    free(prot);
    free(pay);
    free(input);
    free(sig);
    free(sig_b64);
    return out;
}
