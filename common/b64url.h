/* base64url (RFC 4648 section 5) as JOSE uses it: no padding on output,
 * strict on input (no padding, no whitespace, only the URL-safe alphabet,
 * no non-zero trailing bits). */
#ifndef ARO_B64URL_H
#define ARO_B64URL_H

#include <stddef.h>

/* Returns a malloc'd NUL-terminated string. */
char *b64url_encode(const void *data, size_t len);
/* Returns 0 and a malloc'd buffer (NUL-terminated for convenience, the NUL
 * not counted in *outlen) on success, -1 on any non-canonical input. */
int b64url_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen);

#endif
