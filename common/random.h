/* Randomness for identifiers, tokens, serial numbers and nonces: the
 * operating system's CSPRNG through OpenSSL's RAND_bytes. Aborts if the
 * generator fails (nothing a CA does is safe without it). */
#ifndef ARO_RANDOM_H
#define ARO_RANDOM_H

#include <stddef.h>

/* Fill buf with cryptographically secure random bytes. */
void random_bytes(void *buf, size_t len);
/* A random URL-safe identifier of 'bytes' random bytes, base64url
 * (RFC 8555 8.1 tokens: at least 16 bytes, 128 bits). malloc'd. */
char *random_id(size_t bytes);

#endif
