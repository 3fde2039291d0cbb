/* base64url: RFC 4648 vectors, round trips, and every strict rejection. */
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "random.h"
#include "testlib.h"
#include "util.h"

static void check_vector(const char *raw, size_t rawlen, const char *enc)
{
    char *e = b64url_encode(raw, rawlen);
    CHECK_STR_EQ(e, enc);
    free(e);
    unsigned char *d = NULL;
    size_t dlen = 0;
    CHECK_INT_EQ(b64url_decode(enc, strlen(enc), &d, &dlen), 0);
    CHECK_INT_EQ(dlen, rawlen);
    if (d && dlen == rawlen) {
        CHECK_MEM_EQ(d, raw, rawlen);
        CHECK_INT_EQ(d[dlen], 0); /* NUL-terminated for convenience */
    }
    free(d);
}

/* RFC 4648 section 10, padding removed; plus bytes that hit '-' and '_'. */
static void test_vectors(void)
{
    check_vector("", 0, "");
    check_vector("f", 1, "Zg");
    check_vector("fo", 2, "Zm8");
    check_vector("foo", 3, "Zm9v");
    check_vector("foob", 4, "Zm9vYg");
    check_vector("fooba", 5, "Zm9vYmE");
    check_vector("foobar", 6, "Zm9vYmFy");
    check_vector("\xfb\xff", 2, "-_8");
    check_vector("\xfb\xef\xbe", 3, "----");
    check_vector("\xff\xff\xff", 3, "____");
    check_vector("\x00\x00\x00", 3, "AAAA");
    check_vector("\x00", 1, "AA");
}

static void test_round_trips(void)
{
    unsigned char raw[300];
    for (size_t len = 0; len <= sizeof raw; len++) {
        random_bytes(raw, len);
        char *e = b64url_encode(raw, len);
        CHECK_INT_EQ(strlen(e), len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0));
        CHECK(strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              strlen(e));
        unsigned char *d = NULL;
        size_t dlen = 0;
        CHECK_INT_EQ(b64url_decode(e, strlen(e), &d, &dlen), 0);
        CHECK_INT_EQ(dlen, len);
        if (d && dlen == len) CHECK_MEM_EQ(d, raw, len);
        free(d);
        free(e);
    }
}

static void check_reject(const char *in, size_t len)
{
    unsigned char *d = (unsigned char *)"untouched";
    size_t dlen = 12345;
    CHECK_INT_EQ(b64url_decode(in, len, &d, &dlen), -1);
    CHECK_STR_EQ((char *)d, "untouched");
    CHECK_INT_EQ(dlen, 12345);
}

static void test_rejections(void)
{
    check_reject("Zg==", 4);       /* padding */
    check_reject("Zm8=", 4);
    check_reject("Zg=", 3);
    check_reject("Zm9v\n", 5);     /* whitespace */
    check_reject("Zm 9v", 5);
    check_reject(" Zm9v", 5);
    check_reject("Zm9v\t", 5);
    check_reject("Zm+v", 4);       /* standard-alphabet characters */
    check_reject("Zm/v", 4);
    check_reject("Zm9v!", 5);      /* non-alphabet */
    check_reject("Zm\xc3\xa9v", 5);
    check_reject("Zm\0v", 4);      /* NUL counted in the length */
    check_reject("Z", 1);          /* length % 4 == 1 */
    check_reject("Zm9vY", 5);
    check_reject("Zh", 2);         /* non-zero trailing 4 bits ("f" is "Zg") */
    check_reject("Zm9", 3);        /* non-zero trailing 2 bits ("fo" is "Zm8") */
    check_reject("_-_", 3);

    /* A bad character anywhere, in a whole group of four (decoded a group
     * at a time) or in the tail (a character at a time). */
    for (size_t len = 2; len <= 14; len++) {
        if (len % 4 == 1) continue;
        for (size_t at = 0; at < len; at++) {
            char in[16];
            memset(in, 'A', len);
            in[at] = '=';
            check_reject(in, len);
            in[at] = '\0';
            check_reject(in, len);
        }
    }

    /* The length is authoritative: a valid prefix of a longer buffer is fine. */
    unsigned char *d = NULL;
    size_t dlen = 0;
    CHECK_INT_EQ(b64url_decode("Zm9v!!!", 4, &d, &dlen), 0);
    CHECK_INT_EQ(dlen, 3);
    CHECK_STR_EQ((char *)d, "foo");
    free(d);
}

int main(void)
{
    test_vectors();
    test_round_trips();
    test_rejections();
    return testlib_finish();
}
