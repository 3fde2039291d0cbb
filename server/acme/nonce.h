/* Anti-replay nonces (RFC 8555 6.5). A nonce is a counter with an HMAC
 * tag, so the server stores no nonce, only one bit per counter in a
 * sliding window: memory is fixed (WINDOW bits) however many nonces are
 * handed out, each nonce works once, and a forged or foreign one fails the
 * tag check. A restart changes the key, so old nonces get badNonce, which
 * clients handle by retrying (6.5). Thread-safe. */
#ifndef ARO_NONCE_H
#define ARO_NONCE_H

#include <stdbool.h>

typedef struct nonce_pool nonce_pool;

nonce_pool *nonce_pool_new(void);
void nonce_pool_free(nonce_pool *p);
/* A fresh nonce, base64url, written into out (at least 48 bytes). */
void nonce_issue(nonce_pool *p, char out[48]);
/* true exactly once for each nonce this pool issued, while it is among
 * the last NONCE_WINDOW issued. */
bool nonce_consume(nonce_pool *p, const char *nonce);
/* Would nonce_consume accept it now? Leaves it unused. */
bool nonce_valid(nonce_pool *p, const char *nonce);

#endif
