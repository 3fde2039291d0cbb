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

/* One more than the 6-bit value of each byte; 0 (unlisted) for anything
 * outside the URL-safe alphabet ('=', '+', '/', whitespace, NUL). */
static const unsigned char values[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

int b64url_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen)
{
    /* One leftover character carries only 6 bits: never a whole byte. */
    if (inlen % 4 == 1) return -1;
    size_t n = inlen / 4 * 3 + (inlen % 4 ? inlen % 4 - 1 : 0);
    unsigned char *buf = xmalloc(n + 1);
    size_t o = 0, i = 0;
    /* Whole groups of four characters make three bytes at a time; the
     * bit loop below takes the last two or three. */
    for (; inlen - i > 4; i += 4) {
        const unsigned char *q = (const unsigned char *)in + i;
        int a = values[q[0]] - 1, b = values[q[1]] - 1, c = values[q[2]] - 1, d = values[q[3]] - 1;
        if ((a | b | c | d) < 0) goto fail;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        buf[o++] = (unsigned char)(v >> 16);
        buf[o++] = (unsigned char)(v >> 8);
        buf[o++] = (unsigned char)v;
    }
    uint32_t acc = 0;
    int bits = 0;
    for (; i < inlen; i++) {
        int v = values[(unsigned char)in[i]] - 1;
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
