#include "acme/key_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jws.h"
#include "keys.h"

typedef struct {
    char *thumbprint;
    EVP_PKEY *key;
    EVP_PKEY_CTX *verify; /* jws_prepare_verify(key); callers get copies */
} slot;

struct key_cache {
    pthread_mutex_t lock;
    slot *slots;
    size_t n;
};

key_cache *key_cache_new(size_t slots)
{
    key_cache *c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->n = slots ? slots : 1;
    c->slots = xcalloc(c->n, sizeof(*c->slots));
    return c;
}

void key_cache_free(key_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->slots[i].thumbprint);
        EVP_PKEY_free(c->slots[i].key);
        EVP_PKEY_CTX_free(c->slots[i].verify);
    }
    free(c->slots);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* FNV-1a: thumbprints are uniformly random already; any mixing will do. */
static size_t slot_of(const key_cache *c, const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h % c->n;
}

EVP_PKEY *key_cache_get(key_cache *c, const char *thumbprint, const char *jwk_json, EVP_PKEY_CTX **verify,
                        aro_err *err)
{
    slot *s = &c->slots[slot_of(c, thumbprint)];
    EVP_PKEY *key = NULL;
    *verify = NULL;
    pthread_mutex_lock(&c->lock);
    if (s->thumbprint && strcmp(s->thumbprint, thumbprint) == 0 && EVP_PKEY_up_ref(s->key)) {
        key = s->key;
        *verify = s->verify ? EVP_PKEY_CTX_dup(s->verify) : NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (key)
        return key;
    /* Import outside the lock: it takes longer than anything else here. */
    yajl_val jwk = json_parse(jwk_json, strlen(jwk_json), err);
    key = jwk ? jwk_import(jwk, err) : NULL;
    json_free(jwk);
    if (!key)
        return NULL;
    EVP_PKEY_CTX *prepared = jws_prepare_verify(key);
    *verify = prepared ? EVP_PKEY_CTX_dup(prepared) : NULL;
    pthread_mutex_lock(&c->lock);
    if (EVP_PKEY_up_ref(key)) {
        free(s->thumbprint);
        EVP_PKEY_free(s->key);
        EVP_PKEY_CTX_free(s->verify);
        s->thumbprint = xstrdup(thumbprint);
        s->key = key;
        s->verify = prepared;
        prepared = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    EVP_PKEY_CTX_free(prepared);
    return key;
}
