/* The one-pass record reader (store/record_reader.c): strings come back
 * with every RFC 8259 7 escape decoded the way yajl decodes them
 * (surrogate pairs to one UTF-8 sequence); members it is not asked about
 * are skipped however they nest; a value of another type than asked gives
 * the zero value; integers beyond long long, fractions and exponents give
 * zero as yajl_tree's double did; and input that is not one JSON object,
 * read to its end, fails (rr_done false) without reading past the buffer:
 * every case here runs on an exact-length heap copy, so ASan sees any
 * overread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "store/record_reader.h"
#include "strv.h"
#include "testlib.h"

/* Member "v" of doc, read as a string into *str or as an integer into
 * *num (whichever is given; other members skipped), from a heap copy of
 * exactly doc's length so that ASan sees any read past it. Returns
 * rr_done. */
static bool read_v(const char *doc, char **str, long long *num)
{
    size_t n = strlen(doc);
    char *copy = xmalloc(n ? n : 1);
    memcpy(copy, doc, n);
    rec_reader r;
    const char *k;
    size_t kl;
    for (rr_init(&r, copy, n); rr_member(&r, &k, &kl);) {
        if (rr_key_is(k, kl, "v") && str)
            rr_str(&r, str);
        else if (rr_key_is(k, kl, "v") && num)
            *num = rr_int(&r);
        else
            rr_skip(&r);
    }
    bool done = rr_done(&r);
    free(copy);
    return done;
}

static char *str_of(const char *doc, bool *done)
{
    char *out = NULL;
    *done = read_v(doc, &out, NULL);
    return out;
}

static long long int_of(const char *doc, bool *done)
{
    long long v = -12345;
    *done = read_v(doc, NULL, &v);
    return v;
}

static bool parses(const char *doc)
{
    bool done;
    free(str_of(doc, &done));
    return done;
}

static void test_strings(void)
{
    bool done;
    char *s = str_of("{\"v\":\"plain\"}", &done);
    CHECK(done);
    CHECK_STR_EQ(s, "plain");
    free(s);
    s = str_of("{\"v\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"}", &done);
    CHECK(done);
    CHECK_STR_EQ(s, "q\" b\\ s/ \b\f\n\r\t");
    free(s);
    /* \u escapes: one, two and three octets of UTF-8, and a surrogate pair
     * (U+1F600) decoded to its four octets, as yajl does. */
    s = str_of("{\"v\":\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00 caf\xc3\xa9\"}", &done);
    CHECK(done);
    CHECK_STR_EQ(s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 caf\xc3\xa9");
    free(s);
    /* The generator's own escaping of a control character reads back. */
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "v", "a\x01z\x1f");
    jg_obj_close(g);
    char *doc = jg_finish(g, NULL);
    s = str_of(doc, &done);
    CHECK(done);
    CHECK_STR_EQ(s, "a\x01z\x1f");
    free(s);
    free(doc);
    /* null is no string; another type is skipped and gives none. */
    s = str_of("{\"v\":null}", &done);
    CHECK(done && s == NULL);
    s = str_of("{\"v\":[\"a\",{\"b\":\"}\"}]}", &done);
    CHECK(done && s == NULL);
    /* Broken escapes, an escaped NUL, a lone or reversed surrogate, an
     * unterminated string: not a record. */
    const char *bad[] = {"{\"v\":\"\\x\"}", "{\"v\":\"\\u00\"}", "{\"v\":\"\\u0000\"}",
                         "{\"v\":\"\\ud83d\"}", "{\"v\":\"\\ude00\\ud83d\"}", "{\"v\":\"\\ud83d\\u0041\"}",
                         "{\"v\":\"abc", "{\"v\":\"abc\\", "{\"v\":\"abc\\\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        s = str_of(bad[i], &done);
        if (done)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(!done);
        free(s);
    }
}

static void test_integers(void)
{
    bool done;
    CHECK_INT_EQ(int_of("{\"v\":1700000000}", &done), 1700000000);
    CHECK(done);
    CHECK_INT_EQ(int_of("{\"v\":-42}", &done), -42);
    CHECK_INT_EQ(int_of("{\"v\":9223372036854775807}", &done), 9223372036854775807LL);
    CHECK_INT_EQ(int_of("{\"v\":-9223372036854775807}", &done), -9223372036854775807LL);
    CHECK(done);
    /* Beyond long long (and LLONG_MIN, which yajl_tree did not take as an
     * integer either), fractions, exponents, other types: zero. */
    const char *zero[] = {"{\"v\":9223372036854775808}", "{\"v\":-9223372036854775808}", "{\"v\":99999999999999999999999}", "{\"v\":1.5}",
                          "{\"v\":2e3}", "{\"v\":\"7\"}", "{\"v\":true}", "{\"v\":{}}"};
    for (size_t i = 0; i < sizeof(zero) / sizeof(*zero); i++) {
        CHECK_INT_EQ(int_of(zero[i], &done), 0);
        CHECK(done);
    }
    CHECK_INT_EQ(int_of("{\"v\":-}", &done), 0);
    CHECK(!done);
}

static void test_structure(void)
{
    /* Skipped members of every shape, then the asked one. */
    bool done;
    char *s = str_of("{\"a\":{\"b\":[1,-2.5e3,{\"c\":[[],{}]},\"x\\\"y\",true,false,null]},\"e\":[],\"v\":\"ok\"}",
                     &done);
    CHECK(done);
    CHECK_STR_EQ(s, "ok");
    free(s);
    CHECK(parses("{}"));
    CHECK(parses(" { \"v\" : \"w\" , \"n\" : 1 } \n"));
    const char *bad[] = {"",           "[]",          "\"s\"",          "{",         "{\"v\"",
                         "{\"v\":",    "{\"v\":1",     "{\"v\":1,}",     "{,\"v\":1}", "{\"v\" 1}",
                         "{\"v\":1}x", "{\"v\":1}{}",  "{\"v\":tru}",    "{\"v\":[1,2}", "{\"v\":{\"a\"}}",
                         "{v:1}",      "{\"v\":[1 2]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        if (parses(bad[i]))
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(!parses(bad[i]));
    }
    /* Nesting beyond what rr_skip follows is refused, not recursed into. */
    char deep[200] = "{\"a\":";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    CHECK(!parses(deep));
}

static void test_arrays(void)
{
    const char *doc = "{\"l\":[\"a\",7,\"b\\n\",null,\"c\"],\"o\":[{\"t\":\"x\",\"u\":1},{\"t\":\"y\"},5]}";
    rec_reader r;
    const char *k;
    size_t kl;
    char **v = NULL;
    size_t n = 0;
    char *types[4] = {0};
    size_t nt = 0;
    for (rr_init(&r, doc, strlen(doc)); rr_member(&r, &k, &kl);) {
        if (rr_key_is(k, kl, "l")) {
            rr_strv(&r, &v, &n);
        } else if (rr_key_is(k, kl, "o") && rr_array(&r)) {
            while (rr_element(&r)) {
                const char *k2;
                size_t kl2;
                while (rr_member(&r, &k2, &kl2))
                    if (rr_key_is(k2, kl2, "t") && nt < 4)
                        rr_str(&r, &types[nt++]);
                    else
                        rr_skip(&r);
            }
        } else {
            rr_skip(&r);
        }
    }
    CHECK(rr_done(&r));
    CHECK_INT_EQ(n, 3);
    CHECK_STR_EQ(v[0], "a");
    CHECK_STR_EQ(v[1], "b\n");
    CHECK_STR_EQ(v[2], "c");
    CHECK_INT_EQ(nt, 2);
    CHECK_STR_EQ(types[0], "x");
    CHECK_STR_EQ(types[1], "y");
    strv_free(v, n);
    for (size_t i = 0; i < nt; i++)
        free(types[i]);
    /* A tree of one member, for the decoders that take one. */
    const char *pdoc = "{\"error\":{\"type\":\"urn:x\",\"subproblems\":[{\"detail\":\"d\"}]}}";
    yajl_val t = NULL;
    for (rr_init(&r, pdoc, strlen(pdoc)); rr_member(&r, &k, &kl);)
        t = rr_tree(&r);
    CHECK(rr_done(&r));
    CHECK(t != NULL);
    CHECK_STR_EQ(json_str(t, "type"), "urn:x");
    json_free(t);
}

int main(void)
{
    test_strings();
    test_integers();
    test_structure();
    test_arrays();
    return testlib_finish();
}
