#include "random.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>

#include "b64url.h"
#include "util.h"

void random_bytes(void *buf, size_t len)
{
    /* RAND_bytes takes an int; feed large requests in chunks. */
    unsigned char *p = buf;
    while (len) {
        int n = len > (1u << 30) ? (1 << 30) : (int)len;
        if (RAND_bytes(p, n) != 1) {
            fputs("aro: RAND_bytes failed\n", stderr);
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
}

char *random_id(size_t bytes)
{
    unsigned char *raw = xmalloc(bytes ? bytes : 1);
    random_bytes(raw, bytes);
    char *id = b64url_encode(raw, bytes);
    free(raw);
    return id;
}
