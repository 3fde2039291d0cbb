#include "acme/nonce.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdint.h>
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
    uint64_t counter;               /* last issued */
    unsigned char used[NONCE_WINDOW / 8];
};

nonce_pool *nonce_pool_new(void)
{
    nonce_pool *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    random_bytes(p->key, sizeof(p->key));
    /* Start at a random point so nonces of two runs do not look alike. */
    random_bytes(&p->counter, 4);
    return p;
}

void nonce_pool_free(nonce_pool *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    OPENSSL_cleanse(p->key, sizeof(p->key));
    free(p);
}

static void tag_of(const nonce_pool *p, const unsigned char ctr[8], unsigned char tag[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), p->key, sizeof(p->key), ctr, 8, tag, &len);
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
