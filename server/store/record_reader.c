#include "store/record_reader.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "strv.h"
#include "util.h"

/* Nesting that rr_skip follows inside a value it does not read (a problem
 * document's subproblems): deeper input is refused, not recursed into. */
#define RR_SKIP_DEPTH 32

static void ws(rec_reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static bool fail(rec_reader *r)
{
    r->bad = true;
    return false;
}

static bool expect(rec_reader *r, char c)
{
    ws(r);
    if (r->p >= r->end || *r->p != c)
        return fail(r);
    r->p++;
    return true;
}

static bool literal(rec_reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r);
    r->p += n;
    return true;
}

/* From just after an opening quote to just after the closing one: the raw
 * span in *start, *len (escapes not decoded). The closing quote is found
 * by memchr (records hold long strings: keys, CSRs, certificate chains);
 * only a span with a backslash in it is walked, to skip escaped quotes. */
static bool string_span(rec_reader *r, const char **start, size_t *len)
{
    const char *s = r->p, *q = memchr(s, '"', (size_t)(r->end - s));
    if (!q)
        return fail(r);
    const char *p = memchr(s, '\\', (size_t)(q - s));
    if (p) {
        while (p < r->end && *p != '"') {
            if (*p == '\\' && r->end - p < 2)
                return fail(r);
            p += *p == '\\' ? 2 : 1;
        }
        if (p >= r->end)
            return fail(r);
        q = p;
    }
    *start = s;
    *len = (size_t)(q - s);
    r->p = q + 1;
    return true;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The string whose raw span string_span found, unescaped (RFC 8259 7) into
 * a new NUL-terminated buffer: an escape never takes more room decoded
 * than written. NULL (and bad) for a broken escape or an escaped NUL, which
 * no record string holds. */
static char *unescape(rec_reader *r, const char *s, size_t len)
{
    char *out = xmalloc(len + 1), *o = out;
    const char *e = s + len;
    while (s < e) {
        const char *bs = memchr(s, '\\', (size_t)(e - s));
        size_t run = (size_t)((bs ? bs : e) - s);
        memcpy(o, s, run);
        o += run;
        s += run;
        if (!bs)
            break;
        if (s + 1 >= e)
            goto bad;
        char c = s[1];
        s += 2;
        switch (c) {
        case '"': case '\\': case '/': *o++ = c; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            int hi = e - s >= 4 ? hex4(s) : -1;
            if (hi <= 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
                goto bad;
            s += 4;
            uint32_t cp = (uint32_t)hi;
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                int lo = e - s >= 6 && s[0] == '\\' && s[1] == 'u' ? hex4(s + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    goto bad;
                s += 6;
                cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            }
            o += put_utf8(o, cp);
            break;
        }
        default:
            goto bad;
        }
    }
    *o = '\0';
    return out;
bad:
    free(out);
    r->bad = true;
    return NULL;
}

static bool skip_value(rec_reader *r, int depth)
{
    ws(r);
    if (r->p >= r->end)
        return fail(r);
    const char *s;
    size_t n;
    switch (*r->p) {
    case '"':
        r->p++;
        return string_span(r, &s, &n);
    case 't': return literal(r, "true");
    case 'f': return literal(r, "false");
    case 'n': return literal(r, "null");
    case '{':
    case '[': {
        char close = *r->p == '{' ? '}' : ']';
        bool object = close == '}';
        if (depth >= RR_SKIP_DEPTH)
            return fail(r);
        r->p++;
        for (bool first = true;; first = false) {
            ws(r);
            if (r->p < r->end && *r->p == close) {
                r->p++;
                return true;
            }
            if (!first && !expect(r, ','))
                return false;
            if (object && !(expect(r, '"') && string_span(r, &s, &n) && expect(r, ':')))
                return false;
            if (!skip_value(r, depth + 1))
                return false;
        }
    }
    default: {
        const char *start = r->p;
        if (r->p < r->end && *r->p == '-')
            r->p++;
        while (r->p < r->end && (strchr("0123456789.eE+-", *r->p) && *r->p))
            r->p++;
        return r->p > start + (*start == '-') ? true : fail(r);
    }
    }
}

/* Every value call starts here: there must be a value to read. */
static bool take_value(rec_reader *r)
{
    if (r->bad || !r->at_value)
        return fail(r);
    r->at_value = false;
    ws(r);
    return r->p < r->end || fail(r);
}

static bool open_container(rec_reader *r)
{
    if (r->depth >= RR_MAX_DEPTH)
        return fail(r);
    r->p++;
    r->first[r->depth++] = true;
    return true;
}

/* Before the next element of the open container: false at its end (then
 * closed), true positioned after the separating comma. */
static bool next_in_container(rec_reader *r, char close)
{
    if (r->bad || r->depth == 0)
        return fail(r);
    ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return false;
    }
    if (!r->first[r->depth - 1] && !expect(r, ','))
        return false;
    r->first[r->depth - 1] = false;
    return true;
}

void rr_init(rec_reader *r, const char *s, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->p = s;
    r->end = s ? s + len : s;
    r->at_value = true;
    r->bad = s == NULL;
}

bool rr_member(rec_reader *r, const char **key, size_t *klen)
{
    if (r->at_value) {
        if (!take_value(r))
            return false;
        if (*r->p != '{') {
            if (r->depth == 0)
                return fail(r); /* a record is an object */
            skip_value(r, 0);
            return false;
        }
        if (!open_container(r))
            return false;
    }
    if (!next_in_container(r, '}'))
        return false;
    if (!expect(r, '"') || !string_span(r, key, klen) || !expect(r, ':'))
        return false;
    r->at_value = true;
    return true;
}

bool rr_array(rec_reader *r)
{
    if (!take_value(r))
        return false;
    if (*r->p != '[') {
        skip_value(r, 0);
        return false;
    }
    return open_container(r);
}

bool rr_element(rec_reader *r)
{
    if (!next_in_container(r, ']'))
        return false;
    r->at_value = true;
    return true;
}

void rr_skip(rec_reader *r)
{
    if (take_value(r))
        skip_value(r, 0);
}

/* A string value's decoded copy; NULL for null or another type (skipped). */
static char *string_value(rec_reader *r)
{
    if (!take_value(r))
        return NULL;
    if (*r->p != '"') {
        skip_value(r, 0);
        return NULL;
    }
    r->p++;
    const char *s;
    size_t n;
    if (!string_span(r, &s, &n))
        return NULL;
    if (!memchr(s, '\\', n))
        return xstrndup(s, n);
    return unescape(r, s, n);
}

void rr_str(rec_reader *r, char **out)
{
    free(*out);
    *out = string_value(r);
}

void rr_fixed(rec_reader *r, char *out, size_t size)
{
    char *s = string_value(r);
    out[0] = '\0';
    if (s && strlen(s) < size)
        memcpy(out, s, strlen(s) + 1);
    free(s);
}

long long rr_int(rec_reader *r)
{
    if (!take_value(r))
        return 0;
    const char *start = r->p;
    bool neg = *r->p == '-';
    if (neg)
        r->p++;
    unsigned long long v = 0;
    bool overflow = false;
    const char *digits = r->p;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        unsigned d = (unsigned)(*r->p++ - '0');
        if (v > (ULLONG_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    /* Not an integer (a fraction, an exponent, another type) or beyond
     * long long: skipped, zero, as yajl_tree's double would have been. */
    if (r->p == digits || (r->p < r->end && strchr(".eE", *r->p) && *r->p)) {
        r->p = start;
        skip_value(r, 0);
        return 0;
    }
    /* LLONG_MIN too, which yajl_tree did not take as an integer either. */
    if (overflow || v > (unsigned long long)LLONG_MAX)
        return 0;
    return neg ? (long long)(0 - v) : (long long)v;
}

bool rr_bool(rec_reader *r)
{
    if (!take_value(r))
        return false;
    if (*r->p == 't')
        return literal(r, "true");
    skip_value(r, 0);
    return false;
}

void rr_strv(rec_reader *r, char ***v, size_t *n)
{
    strv_free(*v, *n);
    *v = NULL;
    *n = 0;
    if (!rr_array(r))
        return;
    while (rr_element(r)) {
        char *s = string_value(r);
        if (s) {
            *v = xrealloc(*v, (*n + 1) * sizeof(**v));
            (*v)[(*n)++] = s;
        }
    }
}

yajl_val rr_tree(rec_reader *r)
{
    if (!take_value(r))
        return NULL;
    const char *start = r->p;
    if (!skip_value(r, 0))
        return NULL;
    return json_parse_trusted(start, (size_t)(r->p - start));
}

bool rr_done(rec_reader *r)
{
    if (r->bad || r->at_value || r->depth != 0)
        return false;
    ws(r);
    return r->p == r->end;
}
