/* http_fields: header lines as libcurl hands them over, Link fields
 * (RFC 8288) as ACME uses them (RFC 8555 7.4.2 alternates, 7.1 index),
 * and the bounded body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_fields.h"
#include "testlib.h"

typedef struct {
    char *url[4], rel[4][64];
    int n;
} links;

static bool collect(char *url, const char *rel, void *ud)
{
    links *l = ud;
    if (l->n == 4)
        return false; /* not kept: freed by http_links_each */
    l->url[l->n] = url;
    snprintf(l->rel[l->n], sizeof l->rel[0], "%s", rel);
    l->n++;
    return true;
}

static void links_clear(links *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->url[i]);
    memset(l, 0, sizeof(*l));
}

static void test_split(void)
{
    const char *name;
    size_t nlen;
    char *val;
    const char *line = "Replay-Nonce:   abc-DEF_1 \t\r\n";
    CHECK(http_field_split(line, strlen(line), &name, &nlen, &val));
    CHECK(http_field_is(name, nlen, "replay-nonce"));
    CHECK(!http_field_is(name, nlen, "Replay-Nonc"));
    CHECK_STR_EQ(val, "abc-DEF_1");
    free(val);
    /* An empty value is "", a status line or the blank end is no field. */
    CHECK(http_field_split("Location:\r\n", 11, &name, &nlen, &val));
    CHECK_STR_EQ(val, "");
    free(val);
    CHECK(!http_field_split("HTTP/2 200\r\n", 12, &name, &nlen, &val));
    CHECK(!http_field_split("\r\n", 2, &name, &nlen, &val));
    /* Only n bytes are read: a colon after them does not count. */
    CHECK(!http_field_split("Link: x", 4, &name, &nlen, &val));
}

static void test_links(void)
{
    links l = {0};
    http_links_each("<https://ca/cert/1/1>;rel=\"alternate\", <https://ca/directory>; rel=index", collect, &l);
    CHECK_INT_EQ(l.n, 2);
    CHECK_STR_EQ(l.url[0], "https://ca/cert/1/1");
    CHECK_STR_EQ(l.rel[0], "alternate");
    CHECK_STR_EQ(l.url[1], "https://ca/directory");
    CHECK_STR_EQ(l.rel[1], "index");
    links_clear(&l);
    /* No rel: ""; a quoted rel stops at its quote; REL= in any case. */
    http_links_each("<u1>, <u2>; REL=\"up\"; title=\"x\"", collect, &l);
    CHECK_INT_EQ(l.n, 2);
    CHECK_STR_EQ(l.rel[0], "");
    CHECK_STR_EQ(l.rel[1], "up");
    links_clear(&l);
    /* An unterminated link ends the field; nothing before "<" is a link. */
    http_links_each("garbage <u1>;rel=a, <u2", collect, &l);
    CHECK_INT_EQ(l.n, 1);
    CHECK_STR_EQ(l.url[0], "u1");
    links_clear(&l);
    /* A link the callback does not keep is freed (LSan would say). */
    l.n = 4;
    http_links_each("<u1>;rel=a", collect, &l);
    l.n = 0;
}

static void test_media_type(void)
{
    CHECK(http_media_type_is("application/problem+json", "application/problem+json"));
    CHECK(http_media_type_is("Application/JSON; charset=utf-8", "application/json"));
    CHECK(!http_media_type_is("application/jsonx", "application/json"));
    CHECK(!http_media_type_is("application/problem+json", "application/json"));
    CHECK(!http_media_type_is(NULL, "application/json"));
}

/* The body grows piece by piece, stays NUL-terminated, and a piece that
 * would pass the bound is refused whole, the body left as it was (also
 * when len + n would wrap). */
static void test_body(void)
{
    char *body = NULL;
    size_t len = 0;
    CHECK(http_body_append(&body, &len, "abc", 3, 8));
    CHECK(http_body_append(&body, &len, "", 0, 8));
    CHECK(http_body_append(&body, &len, "defgh", 5, 8));
    CHECK(len == 8 && !strcmp(body, "abcdefgh"));
    CHECK(!http_body_append(&body, &len, "i", 1, 8));
    CHECK(len == 8 && !strcmp(body, "abcdefgh"));
    CHECK(!http_body_append(&body, &len, "x", SIZE_MAX, SIZE_MAX - 4));
    CHECK(len == 8);
    free(body);
}

int main(void)
{
    test_split();
    test_links();
    test_media_type();
    test_body();
    return testlib_finish();
}
