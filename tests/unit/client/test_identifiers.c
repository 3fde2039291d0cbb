/* The checks every name passes before an order (identifiers.h): IDNA
 * A-labels, case folding, the syntax certbot refuses, wildcards, IP
 * literals, duplicates. */
#include <stdlib.h>
#include <string.h>

#include "identifiers.h"
#include "strv.h"
#include "testlib.h"

static void ok(const char *in, const char *want)
{
    aro_err err;
    char *got = identifier_normalize(in, &err);
    CHECK_STR_EQ(got, want);
    if (!got)
        fprintf(stderr, "    (%s: %s)\n", in, err.msg);
    free(got);
}

/* Refused, with a reason that contains why. */
static void bad(const char *in, const char *why)
{
    aro_err err = {{0}};
    char *got = identifier_normalize(in, &err);
    CHECK(got == NULL);
    CHECK(strstr(err.msg, why) != NULL);
    if (got || !strstr(err.msg, why))
        fprintf(stderr, "    %s -> %s (%s), want an error with \"%s\"\n", in, got ? got : "NULL",
                err.msg, why);
    free(got);
}

int main(void)
{
    ok("www.example.com", "www.example.com");
    ok("Foo.Example.COM", "foo.example.com");
    ok("www.example.com.", "www.example.com");
    ok("*.Example.com", "*.example.com");
    ok("b\xc3\xbc" "cher.example.com", "xn--bcher-kva.example.com");      /* bücher */
    ok("B\xc3\x9c" "CHER.example.com", "xn--bcher-kva.example.com");      /* BÜCHER */
    ok("*.b\xc3\xbc" "cher.example.com", "*.xn--bcher-kva.example.com");
    ok("xn--bcher-kva.example.com", "xn--bcher-kva.example.com");
    ok("192.0.2.1", "192.0.2.1");
    ok("2001:DB8:0:0::1", "2001:db8::1");
    ok("a-b.example.com", "a-b.example.com");
    char l63[64];
    memset(l63, 'a', 63);
    l63[63] = '\0';
    char *n63 = xasprintf("%s.example.com", l63);
    ok(n63, n63);

    bad("foo..bar.example.com", "empty label");
    bad(".example.com", "empty label");
    bad("-foo.example.com", "hyphen");
    bad("foo-.example.com", "hyphen");
    bad("foo_bar.example.com", "'_'");
    bad("foo bar.example.com", "' '");
    bad("foo.*.example.com", "whole first label");
    bad("*.com", "one label");
    bad("localhost", "one label");
    bad("", "empty");
    bad("xn--zz.example.com", "A-label");
    char *n64 = xasprintf("%sa.example.com", l63);
    bad(n64, "63");
    aro_buf longname = {0};
    for (int i = 0; i < 5; i++)
        buf_printf(&longname, "%s.", l63);
    buf_puts(&longname, "com");
    bad(longname.data, "253");
    buf_free(&longname);

    /* Folding makes duplicates; the first stays, the order is kept. */
    const char *in[] = {"Foo.example.com", "bar.example.com", "foo.example.com.", "*.example.com"};
    char **out = NULL;
    size_t n = 0;
    aro_err err;
    CHECK_INT_EQ(identifiers_normalize(in, 4, &out, &n, &err), 0);
    CHECK_INT_EQ(n, 3);
    if (n == 3) {
        CHECK_STR_EQ(out[0], "foo.example.com");
        CHECK_STR_EQ(out[1], "bar.example.com");
        CHECK_STR_EQ(out[2], "*.example.com");
    }
    strv_free(out, n);
    const char *bads[] = {"ok.example.com", "foo..bar"};
    CHECK_INT_EQ(identifiers_normalize(bads, 2, &out, &n, &err), -1);
    CHECK(out == NULL && n == 0);
    CHECK(strstr(err.msg, "foo..bar") != NULL);

    CHECK(identifier_is_wildcard("*.example.com"));
    CHECK(!identifier_is_wildcard("example.com"));
    CHECK_STR_EQ(identifier_base("*.example.com"), "example.com");
    free(n63);
    free(n64);
    return testlib_finish();
}
