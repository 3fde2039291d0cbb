/* base64url without padding, strict on input; see b64url.h.
 * Hand-written rather than OpenSSL's EVP_Encode*: those speak standard
 * base64 with padding and newlines and decode leniently, and JWS needs
 * exactly one accepted spelling of every byte string. */
#include "b64url.h"

#include <stdint.h>
#include <stdlib.h>

#include "util.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *b64url_encode(const void *data, size_t len)
{
    const unsigned char *in = data;
    size_t full = len / 3, rest = len % 3;
    char *out = xmalloc(full * 4 + (rest ? rest + 1 : 0) + 1);
    char *o = out;
    for (size_t i = 0; i < full * 3; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = alphabet[v >> 18 & 63];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = alphabet[v >> 6 & 63];
        *o++ = alphabet[v & 63];
    }
    if (rest) {
        const unsigned char *t = in + full * 3;
        uint32_t v = (uint32_t)t[0] << 16 | (rest == 2 ? (uint32_t)t[1] << 8 : 0);
        *o++ = alphabet[v >> 18 & 63];
        *o++ = alphabet[v >> 12 & 63];
        if (rest == 2) *o++ = alphabet[v >> 6 & 63];
    }
    *o = '\0';
    return out;
}

/* The 6-bit value of c, or -1 for anything outside the URL-safe alphabet
 * (which covers '=', '+', '/', whitespace and NUL). */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

int b64url_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen)
{
    /* One leftover character carries only 6 bits: never a whole byte. */
    if (inlen % 4 == 1) return -1;
    size_t n = inlen / 4 * 3 + (inlen % 4 ? inlen % 4 - 1 : 0);
    unsigned char *buf = xmalloc(n + 1);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < inlen; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0) goto fail;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Leftover bits (2 or 4) must be zero, or two encodings would decode
     * to the same bytes. */
    if (bits && (acc & ((1u << bits) - 1))) goto fail;
    buf[o] = '\0';
    *out = buf;
    *outlen = o;
    return 0;
fail:
    free(buf);
    return -1;
}
