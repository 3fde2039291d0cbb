/* Anti-replay nonces (acme/nonce.c, RFC 8555 6.5): each works once, in
 * the pool that issued it only, whichever thread issued or checks it;
 * looking does not use one up; anything else is refused. Two pools in one
 * thread take turns, so a thread's keyed HMAC context is never the other
 * pool's. */
#include <pthread.h>
#include <string.h>

#include "acme/nonce.h"
#include "testlib.h"

static nonce_pool *pa, *pb;

static void *issue_in_thread(void *out)
{
    nonce_issue(pa, out);
    return NULL;
}

int main(void)
{
    pa = nonce_pool_new();
    pb = nonce_pool_new();
    char a1[48], a2[48], b1[48], other[48];
    nonce_issue(pa, a1);
    nonce_issue(pb, b1);
    nonce_issue(pa, a2);
    CHECK(strcmp(a1, a2) != 0);
    /* Another pool's nonce is foreign, the tag says so. */
    CHECK(!nonce_valid(pb, a1));
    CHECK(!nonce_valid(pa, b1));
    /* Looking leaves it; consuming works once. */
    CHECK(nonce_valid(pa, a1));
    CHECK(nonce_consume(pa, a1));
    CHECK(!nonce_consume(pa, a1));
    CHECK(!nonce_valid(pa, a1));
    CHECK(nonce_consume(pb, b1));
    CHECK(nonce_consume(pa, a2));
    /* Issued on another thread, used here. */
    pthread_t th;
    pthread_create(&th, NULL, issue_in_thread, other);
    pthread_join(th, NULL);
    CHECK(nonce_consume(pa, other));
    /* A changed character, garbage, nothing. */
    nonce_issue(pa, a1);
    char bad[48];
    strcpy(bad, a1);
    bad[3] = bad[3] == 'A' ? 'B' : 'A';
    CHECK(!nonce_consume(pa, bad));
    CHECK(!nonce_consume(pa, "not-a-nonce"));
    CHECK(!nonce_consume(pa, ""));
    CHECK(!nonce_consume(pa, NULL));
    CHECK(nonce_consume(pa, a1));
    /* A pool freed and a new one made: the thread's context is not the
     * old pool's, wherever the new pool lives. */
    nonce_pool_free(pb);
    pb = nonce_pool_new();
    nonce_issue(pb, b1);
    CHECK(nonce_consume(pb, b1));
    nonce_pool_free(pa);
    nonce_pool_free(pb);
    return testlib_finish();
}
