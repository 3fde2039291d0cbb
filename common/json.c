/* JSON parsing and generation on yajl 2.1; see json.h.
 *
 * Parsing is one pass of yajl's callback parser, with comments off and
 * UTF-8 validation on, whose callbacks build the tree (the yajl_val nodes
 * of yajl_tree.h, allocated as yajl_tree_free expects) and enforce what
 * yajl_tree_parse cannot: depth, duplicate member names, NUL in strings,
 * strict UTF-8 (yajl_tree_parse even turns comments on). */
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

/* ---- strict one-pass parsing into a tree --------------------------------- */

/* One open container and, in an object, the member name read last. */
typedef struct {
    yajl_val node;
    char *key;
} jframe;

typedef struct {
    yajl_val root;
    jframe *frames;
    int depth, cap;
    int max_depth;
    aro_err *err;
    bool rejected; /* a callback refused; err already holds the reason */
} jbuild;

/* A callback refuses the document; the caller has set err already. */
static int reject(jbuild *b)
{
    b->rejected = true;
    return 0;
}

static yajl_val node_new(yajl_type type)
{
    yajl_val v = xcalloc(1, sizeof(*v));
    v->type = type;
    return v;
}

/* Hangs v into the open container (or makes it the root). Always takes v:
 * once attached, freeing the root frees it. */
static int attach(jbuild *b, yajl_val v)
{
    if (b->depth == 0) {
        b->root = v;
        return 1;
    }
    jframe *f = &b->frames[b->depth - 1];
    yajl_val c = f->node;
    if (c->type == yajl_t_object) {
        size_t n = c->u.object.len;
        c->u.object.keys = xrealloc(c->u.object.keys, (n + 1) * sizeof(*c->u.object.keys));
        c->u.object.values = xrealloc(c->u.object.values, (n + 1) * sizeof(*c->u.object.values));
        c->u.object.keys[n] = f->key;
        c->u.object.values[n] = v;
        c->u.object.len = n + 1;
        f->key = NULL;
    } else {
        size_t n = c->u.array.len;
        c->u.array.values = xrealloc(c->u.array.values, (n + 1) * sizeof(*c->u.array.values));
        c->u.array.values[n] = v;
        c->u.array.len = n + 1;
    }
    return 1;
}

static int open_node(jbuild *b, yajl_type type)
{
    if (b->depth >= b->max_depth) {
        aro_err_set(b->err, "nesting deeper than %d", b->max_depth);
        return reject(b);
    }
    if (b->depth == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->frames = xrealloc(b->frames, (size_t)b->cap * sizeof *b->frames);
    }
    yajl_val v = node_new(type);
    attach(b, v);
    b->frames[b->depth++] = (jframe){.node = v};
    return 1;
}

static int cb_start_map(void *ctx)
{
    return open_node(ctx, yajl_t_object);
}

static int cb_start_array(void *ctx)
{
    return open_node(ctx, yajl_t_array);
}

static int cb_end_array(void *ctx)
{
    ((jbuild *)ctx)->depth--;
    return 1;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Member names hold no NUL (cb_string refuses it), so strcmp compares them
 * whole. Sorting a copy is O(n log n) however many members an attacker
 * sends; most objects are small enough to compare pairwise. */
static const char *duplicate_member(yajl_val obj)
{
    size_t n = obj->u.object.len;
    const char **k = obj->u.object.keys;
    if (n <= 8) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (strcmp(k[i], k[j]) == 0)
                    return k[i];
        return NULL;
    }
    const char **sorted = xmalloc(n * sizeof(*sorted));
    memcpy(sorted, k, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), key_cmp);
    const char *dup = NULL;
    for (size_t i = 1; i < n && !dup; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            dup = sorted[i];
    free(sorted);
    return dup;
}

static int cb_end_map(void *ctx)
{
    jbuild *b = ctx;
    const char *dup = duplicate_member(b->frames[b->depth - 1].node);
    b->depth--;
    if (dup) {
        /* Cap the quoted name so the message stays readable. */
        aro_err_set(b->err, "duplicate member \"%.200s\"", dup);
        return reject(b);
    }
    return 1;
}

/* Strict UTF-8 (RFC 3629): yajl's own check lets through overlong forms,
 * surrogates and code points past U+10FFFF, which other parsers refuse
 * or rewrite. The second byte's range depends on the first byte. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Nearly every string in ACME is ASCII: skip it eight bytes at a
         * time while no byte has its high bit set. */
        uint64_t w;
        while (len - i >= 8 && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ull) == 0))
            i += 8;
        if (i == len) break;
        unsigned char c = s[i];
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            return false;
        }
        if (len - i - 1 < n) return false;
        if (s[i + 1] < lo || s[i + 1] > hi) return false;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xc0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}

/* The tree keeps strings NUL-terminated, so "a\u0000b" would silently
 * become "a": two readers of one document could then disagree (a member
 * name "kid\u0000x" would look up as "kid"). Refuse NUL in any string. */
static bool string_ok(jbuild *b, const unsigned char *s, size_t len)
{
    if (memchr(s, '\0', len)) {
        aro_err_set(b->err, "string contains \\u0000");
        return reject(b);
    }
    if (!utf8_valid(s, len)) {
        aro_err_set(b->err, "invalid JSON: invalid UTF-8 in string");
        return reject(b);
    }
    return true;
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    if (!string_ok(ctx, s, len)) return 0;
    yajl_val v = node_new(yajl_t_string);
    v->u.string = xstrndup((const char *)s, len);
    return attach(ctx, v);
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
    jbuild *b = ctx;
    if (!string_ok(b, s, len)) return 0;
    jframe *f = &b->frames[b->depth - 1];
    free(f->key);
    f->key = xstrndup((const char *)s, len);
    return 1;
}

/* As yajl_tree keeps a number: its text, the integer when the text is one
 * that fits a long long, the double when strtod reads all of it. */
static int cb_number(void *ctx, const char *s, size_t len)
{
    yajl_val v = node_new(yajl_t_number);
    char *r = v->u.number.r = xstrndup(s, len), *end = NULL;
    const char *digits = r + (r[0] == '-');
    if (*digits && strspn(digits, "0123456789") == strlen(digits)) {
        errno = 0;
        long long i = strtoll(r, &end, 10);
        /* yajl_tree refuses LLONG_MIN too (its integer parser stops at
         * LLONG_MAX's magnitude): the same document, the same tree. */
        if (errno == 0 && end && *end == '\0' && i != LLONG_MIN) {
            v->u.number.i = i;
            v->u.number.flags |= YAJL_NUMBER_INT_VALID;
        }
    }
    errno = 0;
    v->u.number.d = strtod(r, &end);
    if (errno == 0 && end && *end == '\0')
        v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
    return attach(ctx, v);
}

static int cb_boolean(void *ctx, int value)
{
    return attach(ctx, node_new(value ? yajl_t_true : yajl_t_false));
}

static int cb_null(void *ctx)
{
    return attach(ctx, node_new(yajl_t_null));
}

static const yajl_callbacks build_callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_boolean,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};

/* yajl's messages end in a newline and may span lines; make one line. */
static void set_yajl_error(aro_err *err, const char *msg)
{
    char line[400];
    snprintf(line, sizeof line, "%s", msg ? msg : "unknown error");
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    size_t n = strlen(line);
    while (n && line[n - 1] == ' ') line[--n] = '\0';
    aro_err_set(err, "invalid JSON: %s", line);
}

yajl_val json_parse_limits(const char *buf, size_t len, size_t max_bytes, int max_depth,
                           aro_err *err)
{
    if (!buf) {
        aro_err_set(err, "invalid JSON: no document");
        return NULL;
    }
    if (len > max_bytes) {
        aro_err_set(err, "document larger than %zu bytes", max_bytes);
        return NULL;
    }
    /* JSON never allows a raw NUL; refused before yajl sees the input. */
    if (memchr(buf, '\0', len)) {
        aro_err_set(err, "invalid JSON: NUL byte in document");
        return NULL;
    }
    jbuild b = {.max_depth = max_depth, .err = err};
    yajl_handle h = yajl_alloc(&build_callbacks, NULL, &b);
    if (!h) abort();
    yajl_config(h, yajl_allow_comments, 0);
    yajl_config(h, yajl_dont_validate_strings, 0);
    yajl_status st = yajl_parse(h, (const unsigned char *)buf, len);
    if (st == yajl_status_ok) st = yajl_complete_parse(h);
    if (st != yajl_status_ok && !b.rejected) {
        unsigned char *m = yajl_get_error(h, 0, (const unsigned char *)buf, len);
        set_yajl_error(err, (const char *)m);
        yajl_free_error(h, m);
    }
    yajl_free(h);
    for (int i = 0; i < b.depth; i++)
        free(b.frames[i].key);
    free(b.frames);
    if (st != yajl_status_ok || b.depth != 0) {
        if (st == yajl_status_ok) aro_err_set(err, "invalid JSON: incomplete document");
        json_free(b.root);
        return NULL;
    }
    return b.root;
}

yajl_val json_parse(const char *buf, size_t len, aro_err *err)
{
    return json_parse_limits(buf, len, JSON_DEFAULT_MAX_BYTES, JSON_DEFAULT_MAX_DEPTH, err);
}

yajl_val json_parse_trusted(const char *buf, size_t len)
{
    /* yajl_tree_parse reads up to a NUL; a stored value has none after it. */
    char stack[2048], ebuf[64], *copy = len < sizeof stack ? stack : xmalloc(len + 1);
    memcpy(copy, buf, len);
    copy[len] = '\0';
    yajl_val v = memchr(buf, '\0', len) ? NULL : yajl_tree_parse(copy, ebuf, sizeof ebuf);
    if (copy != stack)
        free(copy);
    return v;
}

void json_free(yajl_val v)
{
    if (v) yajl_tree_free(v);
}

/* ---- accessors ---------------------------------------------------------- */

yajl_val json_member(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj) || !key) return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0) return obj->u.object.values[i];
    return NULL;
}

/* The shared part of the typed accessors: find key, then 0 / 1 / -1 as
 * json.h describes. *vp is the member when 0 is returned. */
static int get_member(yajl_val obj, const char *key, bool required, bool (*is_type)(yajl_val),
                      const char *type_name, yajl_val *vp, aro_err *err)
{
    yajl_val v = json_member(obj, key);
    if (!v) {
        if (!required) return 1;
        aro_err_set(err, "member \"%s\" is missing", key);
        return -1;
    }
    if (!is_type(v)) {
        aro_err_set(err, "member \"%s\" must be %s", key, type_name);
        return -1;
    }
    *vp = v;
    return 0;
}

static bool is_str(yajl_val v) { return YAJL_IS_STRING(v); }
static bool is_int(yajl_val v) { return YAJL_IS_INTEGER(v); }
static bool is_bool(yajl_val v) { return YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v); }
static bool is_obj(yajl_val v) { return YAJL_IS_OBJECT(v); }
static bool is_arr(yajl_val v) { return YAJL_IS_ARRAY(v); }

int json_get_str(yajl_val obj, const char *key, bool required, const char **out, aro_err *err)
{
    yajl_val v;
    int rc = get_member(obj, key, required, is_str, "a string", &v, err);
    if (rc == 0) *out = v->u.string;
    return rc;
}

int json_get_int(yajl_val obj, const char *key, bool required, long long *out, aro_err *err)
{
    yajl_val v;
    int rc = get_member(obj, key, required, is_int, "an integer", &v, err);
    if (rc == 0) *out = v->u.number.i;
    return rc;
}

int json_get_bool(yajl_val obj, const char *key, bool required, bool *out, aro_err *err)
{
    yajl_val v;
    int rc = get_member(obj, key, required, is_bool, "a boolean", &v, err);
    if (rc == 0) *out = YAJL_IS_TRUE(v);
    return rc;
}

int json_get_obj(yajl_val obj, const char *key, bool required, yajl_val *out, aro_err *err)
{
    yajl_val v;
    int rc = get_member(obj, key, required, is_obj, "an object", &v, err);
    if (rc == 0) *out = v;
    return rc;
}

int json_get_arr(yajl_val obj, const char *key, bool required, yajl_val *out, aro_err *err)
{
    yajl_val v;
    int rc = get_member(obj, key, required, is_arr, "an array", &v, err);
    if (rc == 0) *out = v;
    return rc;
}

const char *json_str(yajl_val obj, const char *key)
{
    return YAJL_GET_STRING(json_member(obj, key));
}

/* ---- generator ---------------------------------------------------------- */

/* yajl_gen accepts a string where a member name belongs and vice versa
 * (both are strings to it), so the generator tracks, per open container,
 * whether a member name is due; yajl bounds the depth at YAJL_MAX_DEPTH. */
struct json_gen {
    yajl_gen g;
    bool failed;
    bool started; /* a top-level value was begun */
    int depth;
    bool is_map[YAJL_MAX_DEPTH];
    bool want_key[YAJL_MAX_DEPTH];
};

json_gen *jg_new(void)
{
    json_gen *g = xcalloc(1, sizeof *g);
    g->g = yajl_gen_alloc(NULL);
    if (!g->g) abort();
    /* No yajl_gen_validate_utf8: jg_key and jg_strn check every string
     * with utf8_valid, which is stricter, before yajl sees it; yajl's
     * check would be a second pass over each. */
    yajl_gen_config(g->g, yajl_gen_beautify, 0);
    return g;
}

void jg_free(json_gen *g)
{
    if (!g) return;
    yajl_gen_free(g->g);
    free(g);
}

/* Before emitting a value: refuse it where a member name is due. */
static bool value_ok(json_gen *g)
{
    if (g->failed) return false;
    if (g->depth > 0 && g->is_map[g->depth - 1] && g->want_key[g->depth - 1]) {
        g->failed = true;
        return false;
    }
    g->started = true;
    return true;
}

/* After yajl handled a value: record failure, or that a name is due next. */
static void value_done(json_gen *g, yajl_gen_status st)
{
    if (st != yajl_gen_status_ok) {
        g->failed = true;
        return;
    }
    if (g->depth > 0 && g->is_map[g->depth - 1]) g->want_key[g->depth - 1] = true;
}

static void open_container(json_gen *g, bool is_map)
{
    if (!value_ok(g)) return;
    if (g->depth >= YAJL_MAX_DEPTH) {
        g->failed = true;
        return;
    }
    yajl_gen_status st = is_map ? yajl_gen_map_open(g->g) : yajl_gen_array_open(g->g);
    if (st != yajl_gen_status_ok) {
        g->failed = true;
        return;
    }
    g->is_map[g->depth] = is_map;
    g->want_key[g->depth] = is_map;
    g->depth++;
}

static void close_container(json_gen *g, bool is_map)
{
    if (g->failed) return;
    /* Closing the wrong kind, or an object right after a member name. */
    if (g->depth == 0 || g->is_map[g->depth - 1] != is_map ||
        (is_map && !g->want_key[g->depth - 1])) {
        g->failed = true;
        return;
    }
    yajl_gen_status st = is_map ? yajl_gen_map_close(g->g) : yajl_gen_array_close(g->g);
    g->depth--;
    value_done(g, st);
}

void jg_obj_open(json_gen *g) { open_container(g, true); }
void jg_obj_close(json_gen *g) { close_container(g, true); }
void jg_arr_open(json_gen *g) { open_container(g, false); }
void jg_arr_close(json_gen *g) { close_container(g, false); }

void jg_key(json_gen *g, const char *key)
{
    if (g->failed) return;
    if (!key || g->depth == 0 || !g->is_map[g->depth - 1] || !g->want_key[g->depth - 1] ||
        !utf8_valid((const unsigned char *)key, strlen(key))) {
        g->failed = true;
        return;
    }
    if (yajl_gen_string(g->g, (const unsigned char *)key, strlen(key)) != yajl_gen_status_ok) {
        g->failed = true;
        return;
    }
    g->want_key[g->depth - 1] = false;
}

void jg_strn(json_gen *g, const char *s, size_t len)
{
    if (!s) {
        jg_null(g);
        return;
    }
    if (!value_ok(g)) return;
    if (!utf8_valid((const unsigned char *)s, len)) {
        g->failed = true;
        return;
    }
    value_done(g, yajl_gen_string(g->g, (const unsigned char *)s, len));
}

void jg_str(json_gen *g, const char *s)
{
    jg_strn(g, s, s ? strlen(s) : 0);
}

void jg_int(json_gen *g, long long v)
{
    if (value_ok(g)) value_done(g, yajl_gen_integer(g->g, v));
}

void jg_bool(json_gen *g, bool v)
{
    if (value_ok(g)) value_done(g, yajl_gen_bool(g->g, v));
}

void jg_null(json_gen *g)
{
    if (value_ok(g)) value_done(g, yajl_gen_null(g->g));
}

static void jg_number(json_gen *g, yajl_val v)
{
    if (!value_ok(g)) return;
    /* yajl_tree keeps the original text; re-emitting it loses nothing that
     * a round trip through double would. */
    if (YAJL_IS_INTEGER(v))
        value_done(g, yajl_gen_integer(g->g, v->u.number.i));
    else
        value_done(g, yajl_gen_number(g->g, v->u.number.r, strlen(v->u.number.r)));
}

void jg_value(json_gen *g, yajl_val v)
{
    if (g->failed) return;
    if (!v) {
        g->failed = true;
        return;
    }
    switch (v->type) {
    case yajl_t_string: jg_str(g, v->u.string); break;
    case yajl_t_number: jg_number(g, v); break;
    case yajl_t_true: jg_bool(g, true); break;
    case yajl_t_false: jg_bool(g, false); break;
    case yajl_t_null: jg_null(g); break;
    case yajl_t_object:
        jg_obj_open(g);
        for (size_t i = 0; i < v->u.object.len && !g->failed; i++) {
            jg_key(g, v->u.object.keys[i]);
            jg_value(g, v->u.object.values[i]);
        }
        jg_obj_close(g);
        break;
    case yajl_t_array:
        jg_arr_open(g);
        for (size_t i = 0; i < v->u.array.len && !g->failed; i++) jg_value(g, v->u.array.values[i]);
        jg_arr_close(g);
        break;
    default: g->failed = true; break;
    }
}

void jg_kv_str(json_gen *g, const char *key, const char *v)
{
    if (!v) return;
    jg_key(g, key);
    jg_str(g, v);
}

void jg_kv_int(json_gen *g, const char *key, long long v)
{
    jg_key(g, key);
    jg_int(g, v);
}

void jg_kv_bool(json_gen *g, const char *key, bool v)
{
    jg_key(g, key);
    jg_bool(g, v);
}

void jg_kv_strv(json_gen *g, const char *key, char *const *v, size_t n)
{
    jg_key(g, key);
    jg_arr_open(g);
    for (size_t i = 0; i < n; i++)
        jg_str(g, v[i]);
    jg_arr_close(g);
}

char *jg_finish(json_gen *g, size_t *len)
{
    char *out = NULL;
    const unsigned char *buf;
    size_t n;
    /* A document is exactly one complete value. */
    if (!g || g->failed || !g->started || g->depth != 0) goto out;
    if (yajl_gen_get_buf(g->g, &buf, &n) != yajl_gen_status_ok) goto out;
    out = xstrndup((const char *)buf, n);
    if (len) *len = n;
out:
    jg_free(g);
    return out;
}
