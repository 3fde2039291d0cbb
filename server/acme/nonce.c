#include "acme/nonce.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "random.h"
#include "util.h"

#define NONCE_WINDOW (1u << 20) /* a million outstanding nonces, 128 KiB of bits */
#define TAG_LEN 16

struct nonce_pool {
    pthread_mutex_t lock;
    unsigned char key[32];
    uint64_t id;                    /* tells this pool's keyed contexts from another's */
    /* HMAC-SHA256 fetched and keyed once (the one-shot HMAC() fetches the
     * algorithm and sets the key every time); each thread tags with a
     * copy of its own, made once and started again for every tag. */
    EVP_MAC *mac;
    EVP_MAC_CTX *keyed;
    uint64_t counter;               /* last issued */
    unsigned char used[NONCE_WINDOW / 8];
};

/* This thread's copy of a pool's keyed context. */
typedef struct {
    uint64_t pool_id;
    EVP_MAC_CTX *ctx;
} thread_mac;

static pthread_key_t mac_key;
static pthread_once_t mac_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t pools_made;

static void thread_mac_free(void *p)
{
    thread_mac *t = p;
    EVP_MAC_CTX_free(t->ctx);
    free(t);
}

static void mac_key_init(void) { pthread_key_create(&mac_key, thread_mac_free); }

nonce_pool *nonce_pool_new(void)
{
    nonce_pool *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    random_bytes(p->key, sizeof(p->key));
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    p->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    p->keyed = p->mac ? EVP_MAC_CTX_new(p->mac) : NULL;
    if (!p->keyed || !EVP_MAC_init(p->keyed, p->key, sizeof(p->key), params)) {
        fputs("aro-server: HMAC-SHA256 unavailable\n", stderr);
        abort();
    }
    /* Start at a random point so nonces of two runs do not look alike. */
    random_bytes(&p->counter, 4);
    p->id = ++pools_made;
    pthread_once(&mac_once, mac_key_init);
    return p;
}

void nonce_pool_free(nonce_pool *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    EVP_MAC_CTX_free(p->keyed);
    EVP_MAC_free(p->mac);
    OPENSSL_cleanse(p->key, sizeof(p->key));
    free(p);
}

static void tag_of(const nonce_pool *p, const unsigned char ctr[8], unsigned char tag[32])
{
    size_t len = 0;
    thread_mac *t = pthread_getspecific(mac_key);
    if (!t || t->pool_id != p->id) {
        if (!t)
            t = xcalloc(1, sizeof(*t));
        EVP_MAC_CTX_free(t->ctx);
        t->ctx = EVP_MAC_CTX_dup(p->keyed);
        t->pool_id = p->id;
        pthread_setspecific(mac_key, t);
    }
    /* A NULL key starts the HMAC again with the key it has. */
    if (!t->ctx || !EVP_MAC_init(t->ctx, NULL, 0, NULL) || !EVP_MAC_update(t->ctx, ctr, 8) ||
        !EVP_MAC_final(t->ctx, tag, &len, 32) || len != 32) {
        fputs("aro-server: HMAC failed\n", stderr);
        abort();
    }
}

void nonce_issue(nonce_pool *p, char out[48])
{
    unsigned char raw[8 + TAG_LEN], tag[32];
    pthread_mutex_lock(&p->lock);
    uint64_t c = ++p->counter;
    p->used[(c % NONCE_WINDOW) / 8] &= (unsigned char)~(1u << (c % 8));
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < 8; i++)
        raw[i] = (unsigned char)(c >> (56 - 8 * i));
    tag_of(p, raw, tag);
    memcpy(raw + 8, tag, TAG_LEN);
    char *s = b64url_encode(raw, sizeof(raw));
    strcpy(out, s);
    free(s);
}

/* use: mark the nonce used (consume) or only look (valid). */
static bool check(nonce_pool *p, const char *nonce, bool use)
{
    unsigned char *raw = NULL, tag[32];
    size_t len = 0;
    bool ok = false;
    if (!nonce || b64url_decode(nonce, strlen(nonce), &raw, &len) < 0)
        return false;
    if (len != 8 + TAG_LEN)
        goto out;
    tag_of(p, raw, tag);
    if (CRYPTO_memcmp(tag, raw + 8, TAG_LEN) != 0)
        goto out;
    uint64_t c = 0;
    for (int i = 0; i < 8; i++)
        c = (c << 8) | raw[i];
    pthread_mutex_lock(&p->lock);
    if (c <= p->counter && p->counter - c < NONCE_WINDOW) {
        unsigned char *byte = &p->used[(c % NONCE_WINDOW) / 8];
        unsigned char bit = (unsigned char)(1u << (c % 8));
        if (!(*byte & bit)) {
            if (use)
                *byte |= bit;
            ok = true;
        }
    }
    pthread_mutex_unlock(&p->lock);
out:
    free(raw);
    return ok;
}

bool nonce_consume(nonce_pool *p, const char *nonce) { return check(p, nonce, true); }
bool nonce_valid(nonce_pool *p, const char *nonce) { return check(p, nonce, false); }
