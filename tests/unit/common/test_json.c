/* JSON: strict parsing (duplicates, comments, depth, size, UTF-8, NUL),
 * typed accessors and their messages, and the generator. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testlib.h"
#include "util.h"

/* Parse s (strlen), expecting failure with exactly msg. */
static void check_parse_error(const char *s, size_t len, const char *msg)
{
    aro_err err = {""};
    yajl_val v = json_parse(s, len, &err);
    CHECK(v == NULL);
    CHECK_STR_EQ(err.msg, msg);
    json_free(v);
}

/* Parse, expecting failure with a message that begins with prefix. */
static void check_parse_error_prefix(const char *s, size_t len, const char *prefix)
{
    aro_err err = {""};
    yajl_val v = json_parse(s, len, &err);
    CHECK(v == NULL);
    CHECK(strncmp(err.msg, prefix, strlen(prefix)) == 0);
    CHECK(strchr(err.msg, '\n') == NULL);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fprintf(stderr, "    input: %.*s\n    msg: %s\n", (int)len, s, err.msg);
    json_free(v);
}

static int parses(const char *s, size_t len)
{
    aro_err err = {""};
    yajl_val v = json_parse(s, len, &err);
    if (!v) fprintf(stderr, "    unexpected error: %s\n", err.msg);
    json_free(v);
    return v != NULL;
}

static void test_basic(void)
{
    const char *doc = "{\"s\":\"h\\u00e9llo\",\"i\":-42,\"b\":true,\"n\":null,"
                      "\"o\":{\"x\":1},\"a\":[1,2,3],\"d\":1.5}";
    aro_err err = {""};
    yajl_val v = json_parse(doc, strlen(doc), &err);
    CHECK(v != NULL);
    CHECK_STR_EQ(json_str(v, "s"), "h\xc3\xa9llo");
    CHECK(json_str(v, "i") == NULL);
    CHECK(json_str(v, "zz") == NULL);
    CHECK(json_member(v, "n") != NULL && YAJL_IS_NULL(json_member(v, "n")));
    CHECK(json_member(json_member(v, "a"), "x") == NULL); /* not an object */

    const char *s = NULL;
    long long i = 0;
    bool b = false;
    yajl_val o = NULL, a = NULL;
    CHECK_INT_EQ(json_get_str(v, "s", true, &s, &err), 0);
    CHECK_STR_EQ(s, "h\xc3\xa9llo");
    CHECK_INT_EQ(json_get_int(v, "i", true, &i, &err), 0);
    CHECK_INT_EQ(i, -42);
    CHECK_INT_EQ(json_get_bool(v, "b", true, &b, &err), 0);
    CHECK(b);
    CHECK_INT_EQ(json_get_obj(v, "o", true, &o, &err), 0);
    CHECK(YAJL_IS_OBJECT(o));
    CHECK_INT_EQ(json_get_arr(v, "a", true, &a, &err), 0);
    CHECK_INT_EQ(a->u.array.len, 3);
    json_free(v);

    /* Top-level scalars are JSON documents too. */
    v = json_parse("\"abc\"", 5, &err);
    CHECK(YAJL_IS_STRING(v));
    json_free(v);
    json_free(NULL);
    CHECK(json_parse(NULL, 0, &err) == NULL);
}

static void test_accessor_errors(void)
{
    const char *doc = "{\"s\":\"x\",\"i\":7,\"d\":1.5,\"big\":123456789012345678901234567890,"
                      "\"b\":false,\"n\":null,\"o\":{},\"a\":[]}";
    aro_err err = {""};
    yajl_val v = json_parse(doc, strlen(doc), &err);
    CHECK(v != NULL);
    const char *s = "untouched";
    long long i = 99;
    bool b = true;
    yajl_val o = NULL;

    CHECK_INT_EQ(json_get_str(v, "x", true, &s, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"x\" is missing");
    CHECK_INT_EQ(json_get_str(v, "x", false, &s, &err), 1);
    CHECK_STR_EQ(s, "untouched");
    CHECK_INT_EQ(json_get_str(v, "i", false, &s, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"i\" must be a string");
    CHECK_INT_EQ(json_get_str(v, "n", true, &s, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"n\" must be a string");
    CHECK_STR_EQ(s, "untouched");

    CHECK_INT_EQ(json_get_int(v, "x", true, &i, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"x\" is missing");
    CHECK_INT_EQ(json_get_int(v, "s", true, &i, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"s\" must be an integer");
    CHECK_INT_EQ(json_get_int(v, "d", true, &i, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"d\" must be an integer");
    CHECK_INT_EQ(json_get_int(v, "big", true, &i, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"big\" must be an integer");
    CHECK_INT_EQ(json_get_int(v, "x", false, &i, &err), 1);
    CHECK_INT_EQ(i, 99);

    CHECK_INT_EQ(json_get_bool(v, "i", true, &b, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"i\" must be a boolean");
    CHECK_INT_EQ(json_get_bool(v, "b", true, &b, &err), 0);
    CHECK(!b);

    CHECK_INT_EQ(json_get_obj(v, "a", true, &o, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"a\" must be an object");
    CHECK_INT_EQ(json_get_arr(v, "o", true, &o, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"o\" must be an array");
    CHECK_INT_EQ(json_get_obj(v, "missing", false, &o, &err), 1);
    CHECK(o == NULL);

    /* Not an object at all: every member is missing. */
    CHECK_INT_EQ(json_get_str(json_member(v, "a"), "s", true, &s, &err), -1);
    CHECK_STR_EQ(err.msg, "member \"s\" is missing");
    json_free(v);
}

static void test_duplicates(void)
{
    const char *top = "{\"kid\":\"a\",\"alg\":\"ES256\",\"kid\":\"b\"}";
    check_parse_error(top, strlen(top), "duplicate member \"kid\"");
    const char *nested = "{\"protected\":{\"jwk\":{\"x\":\"1\",\"y\":\"2\",\"x\":\"3\"}}}";
    check_parse_error(nested, strlen(nested), "duplicate member \"x\"");
    const char *in_array = "[{\"a\":1},{\"b\":1,\"b\":2}]";
    check_parse_error(in_array, strlen(in_array), "duplicate member \"b\"");
    /* Across a nested object: the outer key set survives the inner one. */
    const char *around = "{\"a\":1,\"b\":{\"c\":1},\"a\":2}";
    check_parse_error(around, strlen(around), "duplicate member \"a\"");
    /* Escapes are compared decoded: "k\u0069d" is "kid". */
    const char *escaped = "{\"kid\":1,\"k\\u0069d\":2}";
    check_parse_error(escaped, strlen(escaped), "duplicate member \"kid\"");

    /* The same name at different levels or in sibling objects is fine. */
    const char *ok = "{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}],\"ab\":0,\"A\":0}";
    CHECK(parses(ok, strlen(ok)));

    /* A large object: 10000 distinct keys pass, one repeat is caught. */
    aro_buf b = {0};
    buf_puts(&b, "{");
    for (int i = 0; i < 10000; i++) buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    buf_puts(&b, "}");
    CHECK(parses(b.data, b.len));
    b.data[--b.len] = '\0';
    buf_puts(&b, ",\"k5000\":1}");
    check_parse_error(b.data, b.len, "duplicate member \"k5000\"");
    buf_free(&b);
}

static void test_comments_and_syntax(void)
{
    const char *c1 = "{\"a\":1 /* note */}";
    check_parse_error_prefix(c1, strlen(c1), "invalid JSON: ");
    aro_err err = {""};
    CHECK(json_parse(c1, strlen(c1), &err) == NULL);
    CHECK(strstr(err.msg, "comment") != NULL);
    const char *c2 = "// note\n{\"a\":1}";
    check_parse_error_prefix(c2, strlen(c2), "invalid JSON: ");
    check_parse_error_prefix("", 0, "invalid JSON: ");
    check_parse_error_prefix("{} x", 4, "invalid JSON: ");
    check_parse_error_prefix("{} {}", 5, "invalid JSON: ");
    check_parse_error_prefix("{\"a\":1,}", 8, "invalid JSON: ");
    check_parse_error_prefix("{\"a\":1", 6, "invalid JSON: ");
    check_parse_error_prefix("{'a':1}", 7, "invalid JSON: ");
    /* The length is authoritative; the buffer need not be NUL-terminated. */
    CHECK(parses("{\"a\":1}garbage", 7));
}

static char *nested_arrays(int depth)
{
    aro_buf b = {0};
    for (int i = 0; i < depth; i++) buf_puts(&b, "[");
    for (int i = 0; i < depth; i++) buf_puts(&b, "]");
    return buf_steal(&b);
}

static char *nested_objects(int depth)
{
    aro_buf b = {0};
    for (int i = 0; i < depth - 1; i++) buf_puts(&b, "{\"a\":");
    buf_puts(&b, "{}");
    for (int i = 0; i < depth - 1; i++) buf_puts(&b, "}");
    return buf_steal(&b);
}

static void test_depth(void)
{
    char *s = nested_arrays(32);
    CHECK(parses(s, strlen(s)));
    free(s);
    s = nested_arrays(33);
    check_parse_error(s, strlen(s), "nesting deeper than 32");
    free(s);
    s = nested_objects(32);
    CHECK(parses(s, strlen(s)));
    free(s);
    s = nested_objects(33);
    check_parse_error(s, strlen(s), "nesting deeper than 32");
    free(s);
    /* Far beyond the limit: refused early, not by running out of stack. */
    s = nested_arrays(100000);
    aro_err err = {""};
    CHECK(json_parse_limits(s, strlen(s), 1 << 20, 32, &err) == NULL);
    CHECK_STR_EQ(err.msg, "nesting deeper than 32");
    free(s);

    s = nested_arrays(3);
    yajl_val v = json_parse_limits(s, strlen(s), 100, 3, &err);
    CHECK(v != NULL);
    json_free(v);
    CHECK(json_parse_limits(s, strlen(s), 100, 2, &err) == NULL);
    CHECK_STR_EQ(err.msg, "nesting deeper than 2");
    free(s);
}

static void test_size(void)
{
    size_t max = JSON_DEFAULT_MAX_BYTES;
    char *s = xmalloc(max + 2);
    /* A string document of exactly max bytes, then one byte more. */
    memset(s, 'a', max + 1);
    s[0] = '"';
    s[max - 1] = '"';
    CHECK(parses(s, max));
    s[max - 1] = 'a';
    s[max] = '"';
    s[max + 1] = '\0';
    check_parse_error(s, max + 1, "document larger than 262144 bytes");
    free(s);

    aro_err err = {""};
    CHECK(json_parse_limits("[1,2]", 5, 4, 32, &err) == NULL);
    CHECK_STR_EQ(err.msg, "document larger than 4 bytes");
    yajl_val v = json_parse_limits("[1,2]", 5, 5, 32, &err);
    CHECK(v != NULL);
    json_free(v);
}

static void test_utf8_and_nul(void)
{
    const char *bad_value = "{\"a\":\"\xff\"}";
    check_parse_error_prefix(bad_value, strlen(bad_value), "invalid JSON: ");
    const char *bad_key = "{\"\xc3\x28\":1}";
    check_parse_error_prefix(bad_key, strlen(bad_key), "invalid JSON: ");
    const char *overlong = "\"\xc0\xaf\"";
    check_parse_error_prefix(overlong, strlen(overlong), "invalid JSON: ");
    const char *truncated = "\"\xe2\x82\"";
    check_parse_error_prefix(truncated, strlen(truncated), "invalid JSON: ");
    /* Forms yajl's own check lets through: surrogates, past U+10FFFF, C1. */
    const char *surrogate = "\"\xed\xa0\x80\"";
    check_parse_error(surrogate, strlen(surrogate), "invalid JSON: invalid UTF-8 in string");
    const char *too_big = "\"\xf4\x90\x80\x80\"";
    check_parse_error(too_big, strlen(too_big), "invalid JSON: invalid UTF-8 in string");
    const char *f5 = "[\"\xf5\x80\x80\x80\"]";
    check_parse_error_prefix(f5, strlen(f5), "invalid JSON: ");
    const char *c1 = "{\"\xc1\xbf\":1}";
    check_parse_error_prefix(c1, strlen(c1), "invalid JSON: ");
    const char *overlong3 = "\"\xe0\x80\xaf\"";
    check_parse_error_prefix(overlong3, strlen(overlong3), "invalid JSON: ");
    const char *good = "\"\xe2\x82\xac\"";
    CHECK(parses(good, strlen(good)));
    const char *edges = "[\"\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
                        "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"]";
    CHECK(parses(edges, strlen(edges)));

    /* Raw NUL anywhere: inside a string, after the document, at the start. */
    check_parse_error("{\"a\":\"x\0y\"}", 11, "invalid JSON: NUL byte in document");
    check_parse_error("{}\0", 3, "invalid JSON: NUL byte in document");
    check_parse_error("\0{}", 3, "invalid JSON: NUL byte in document");
    /* Escaped NUL would be truncated by the tree: refused in values and names. */
    const char *esc = "{\"a\":\"x\\u0000y\"}";
    check_parse_error(esc, strlen(esc), "string contains \\u0000");
    const char *esc_key = "{\"kid\\u0000x\":1}";
    check_parse_error(esc_key, strlen(esc_key), "string contains \\u0000");
}

static char *gen_from(const char *doc)
{
    aro_err err = {""};
    yajl_val v = json_parse(doc, strlen(doc), &err);
    CHECK(v != NULL);
    if (!v) return NULL;
    json_gen *g = jg_new();
    jg_value(g, v);
    json_free(v);
    size_t len = 0;
    char *out = jg_finish(g, &len);
    CHECK(out != NULL && strlen(out) == len);
    return out;
}

static void test_generator(void)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "status", "valid");
    jg_kv_str(g, "absent", NULL);
    jg_kv_int(g, "n", -5);
    jg_kv_bool(g, "ok", true);
    jg_key(g, "list");
    jg_arr_open(g);
    jg_str(g, "q\"\\\n\x01/");
    jg_strn(g, "abcdef", 3);
    jg_null(g);
    jg_str(g, NULL);
    jg_bool(g, false);
    jg_arr_close(g);
    jg_obj_close(g);
    size_t len = 0;
    char *out = jg_finish(g, &len);
    CHECK_STR_EQ(out, "{\"status\":\"valid\",\"n\":-5,\"ok\":true,"
                      "\"list\":[\"q\\\"\\\\\\n\\u0001/\",\"abc\",null,null,false]}");
    CHECK_INT_EQ(len, out ? strlen(out) : 0);

    /* Round trip: parse, emit, parse, emit gives the same text. */
    const char *doc = "{\"a\":[1,-2,1.5e3,0.1,123456789012345678901234567890,true,false,null],"
                      "\"b\":{\"c\":\"\\u00e9\\ud83d\\ude00\",\"d\":{}},\"e\":[],\"f\":\"\"}";
    char *once = gen_from(doc);
    CHECK_STR_EQ(once, "{\"a\":[1,-2,1.5e3,0.1,123456789012345678901234567890,true,false,null],"
                       "\"b\":{\"c\":\"\xc3\xa9\xf0\x9f\x98\x80\",\"d\":{}},\"e\":[],\"f\":\"\"}");
    char *twice = once ? gen_from(once) : NULL;
    CHECK_STR_EQ(twice, once);
    free(once);
    free(twice);
    /* The escaped generator output above parses back to the same string. */
    aro_err err = {""};
    yajl_val v = out ? json_parse(out, len, &err) : NULL;
    CHECK(v != NULL);
    if (v) CHECK_STR_EQ(json_member(v, "list")->u.array.values[0]->u.string, "q\"\\\n\x01/");
    json_free(v);
    free(out);
}

/* The store's records: the generator's output parses back in one pass,
 * at any length (a buffer not NUL-terminated, longer than the parser's
 * stack copy); a NUL or bad syntax is refused. */
static void test_trusted(void)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "id", "abc");
    jg_kv_int(g, "n", 42);
    jg_key(g, "long");
    char *big = xmalloc(5000);
    memset(big, 'x', 4999);
    big[4999] = '\0';
    jg_str(g, big);
    jg_obj_close(g);
    size_t len = 0;
    char *out = jg_finish(g, &len);
    char *unterminated = xmalloc(len);
    memcpy(unterminated, out, len);
    yajl_val v = json_parse_trusted(unterminated, len);
    CHECK(v != NULL);
    CHECK_STR_EQ(json_str(v, "id"), "abc");
    CHECK_INT_EQ(json_member(v, "n")->u.number.i, 42);
    CHECK_INT_EQ(strlen(json_str(v, "long")), 4999);
    json_free(v);
    v = json_parse_trusted(out, 10);    /* cut short */
    CHECK(v == NULL);
    CHECK(json_parse_trusted("{\"a\":1}\0", 9) == NULL);
    CHECK(json_parse_trusted("{\"a\":}", 6) == NULL);
    free(unterminated);
    free(out);
    free(big);
}

static void check_gen_fails(json_gen *g)
{
    size_t len = 777;
    CHECK(jg_finish(g, &len) == NULL);
    CHECK_INT_EQ(len, 777);
}

static void test_generator_failures(void)
{
    json_gen *g = jg_new();
    jg_arr_open(g);
    jg_str(g, "ok");
    jg_str(g, "bad \xc3");              /* invalid UTF-8 */
    jg_str(g, "after the error");       /* no-op */
    jg_arr_close(g);
    check_gen_fails(g);

    g = jg_new();                       /* overlong '/', which yajl alone allows */
    jg_str(g, "\xc0\xaf");
    check_gen_fails(g);

    /* The ASCII fast path (eight bytes at a time) must stop at every
     * position: a bad byte, a truncated sequence or a good one after
     * 0 to 19 ASCII bytes. */
    for (size_t at = 0; at < 20; at++) {
        char s[32];
        memset(s, 'a', sizeof s);
        s[at] = '\xff';
        g = jg_new();
        jg_strn(g, s, at + 9);
        check_gen_fails(g);
        s[at] = '\xc3';
        g = jg_new();
        jg_strn(g, s, at + 1);
        check_gen_fails(g);
        s[at + 1] = '\xa9';
        g = jg_new();
        jg_strn(g, s, at + 10);
        char *out = jg_finish(g, NULL);
        CHECK(out != NULL);
        free(out);
    }

    g = jg_new();                       /* a surrogate, via jg_strn */
    jg_strn(g, "\xed\xb0\x80", 3);
    check_gen_fails(g);

    g = jg_new();
    jg_obj_open(g);
    jg_key(g, "\xff");                  /* invalid UTF-8 in a name */
    jg_int(g, 1);
    jg_obj_close(g);
    check_gen_fails(g);

    g = jg_new();                       /* unbalanced */
    jg_obj_open(g);
    jg_kv_int(g, "a", 1);
    check_gen_fails(g);

    g = jg_new();                       /* close without open */
    jg_arr_close(g);
    check_gen_fails(g);

    g = jg_new();                       /* wrong kind of close */
    jg_arr_open(g);
    jg_obj_close(g);
    check_gen_fails(g);

    g = jg_new();                       /* a value where a name is due */
    jg_obj_open(g);
    jg_str(g, "value");
    jg_obj_close(g);
    check_gen_fails(g);

    g = jg_new();                       /* a name with no value */
    jg_obj_open(g);
    jg_key(g, "a");
    jg_obj_close(g);
    check_gen_fails(g);

    g = jg_new();                       /* a name outside an object */
    jg_arr_open(g);
    jg_key(g, "a");
    jg_arr_close(g);
    check_gen_fails(g);

    g = jg_new();                       /* two top-level values */
    jg_int(g, 1);
    jg_int(g, 2);
    check_gen_fails(g);

    check_gen_fails(jg_new());          /* nothing at all */
    jg_free(jg_new());
    jg_free(NULL);
}

/* Node by node, the tree json_parse builds in its one pass is the tree
 * yajl_tree_parse builds (the accessors and json_free rely on its layout):
 * same types, member order, strings and number flags. */
static bool same_tree(yajl_val a, yajl_val b)
{
    if (!a || !b || a->type != b->type)
        return false;
    switch (a->type) {
    case yajl_t_string:
        return strcmp(a->u.string, b->u.string) == 0;
    case yajl_t_number:
        return strcmp(a->u.number.r, b->u.number.r) == 0 && a->u.number.flags == b->u.number.flags &&
               (!(a->u.number.flags & YAJL_NUMBER_INT_VALID) || a->u.number.i == b->u.number.i);
    case yajl_t_object:
        if (a->u.object.len != b->u.object.len)
            return false;
        for (size_t i = 0; i < a->u.object.len; i++)
            if (strcmp(a->u.object.keys[i], b->u.object.keys[i]) != 0 ||
                !same_tree(a->u.object.values[i], b->u.object.values[i]))
                return false;
        return true;
    case yajl_t_array:
        if (a->u.array.len != b->u.array.len)
            return false;
        for (size_t i = 0; i < a->u.array.len; i++)
            if (!same_tree(a->u.array.values[i], b->u.array.values[i]))
                return false;
        return true;
    default:
        return true;
    }
}

static void test_same_as_yajl_tree(void)
{
    const char *docs[] = {
        "{\"a\":[1,-2,1.5e3,0.1,-0,123456789012345678901234567890,9223372036854775807,"
        "9223372036854775808,-9223372036854775807,-9223372036854775808,1E2,true,false,null],\"s\":\"caf\\u00e9 \\ud83d\\ude00\\n\","
        "\"o\":{\"x\":{\"y\":[[],{}]},\"\":\"empty name\"},\"e\":[]}",
        "[]", "{}", "\"top\"", "42", "null", "[{\"k\":1},{\"k\":2},[3,[4]]]",
        "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10}",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
        aro_err err;
        yajl_val ours = json_parse(docs[i], strlen(docs[i]), &err);
        char ebuf[128];
        yajl_val theirs = yajl_tree_parse(docs[i], ebuf, sizeof ebuf);
        if (!same_tree(ours, theirs))
            fprintf(stderr, "differs from yajl_tree_parse: %s\n", docs[i]);
        CHECK(same_tree(ours, theirs));
        json_free(ours);
        yajl_tree_free(theirs);
    }
    /* A duplicate among more members than are compared pairwise. */
    const char *dup = "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k3\":10}";
    aro_err err;
    CHECK(json_parse(dup, strlen(dup), &err) == NULL);
    CHECK(strstr(err.msg, "duplicate member \"k3\"") != NULL);
    /* Incomplete documents leave nothing behind (LSan in the sanitizer build). */
    const char *cut[] = {"{\"a\":[1,{\"b\":\"c\"", "[1,2", "{\"a\":", "{\"a\""};
    for (size_t i = 0; i < sizeof(cut) / sizeof(*cut); i++)
        CHECK(json_parse(cut[i], strlen(cut[i]), &err) == NULL);
}

int main(void)
{
    test_basic();
    test_accessor_errors();
    test_duplicates();
    test_comments_and_syntax();
    test_depth();
    test_size();
    test_utf8_and_nul();
    test_generator();
    test_generator_failures();
    test_trusted();
    test_same_as_yajl_tree();
    return testlib_finish();
}
