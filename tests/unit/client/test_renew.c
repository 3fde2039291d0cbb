/* When a certificate is due for renewal: two thirds of its lifetime, or a
 * point in the CA's ARI suggested window (RFC 9773 4.2); and how names
 * become identifiers (RFC 8738 ip, 7.1.4 wildcard base). */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "cmd_renew.h"
#include "identifiers.h"
#include "json.h"
#include "testlib.h"
#include "util.h"

static yajl_val parse(const char *s)
{
    aro_err err;
    yajl_val v = json_parse(s, strlen(s), &err);
    CHECK(v != NULL);
    return v;
}

static void test_lifetime(void)
{
    /* 90 days from t: due after 60. */
    time_t nb = 1700000000;
    CHECK_INT_EQ(renew_lifetime_due(nb, nb + 90 * 86400), nb + 60 * 86400);
    /* Short-lived: 6 days, due after 4. */
    CHECK_INT_EQ(renew_lifetime_due(nb, nb + 6 * 86400), nb + 4 * 86400);
    /* Unknown dates (0) make it due at once rather than never. */
    CHECK(renew_lifetime_due(0, 0) <= time(NULL));
}

static void test_ari_window(void)
{
    time_t start, end, at;
    time_parse_rfc3339("2025-01-01T00:00:00Z", &start);
    time_parse_rfc3339("2025-01-03T00:00:00Z", &end);
    yajl_val v = parse("{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\","
                       "\"end\":\"2025-01-03T00:00:00Z\"},"
                       "\"explanationURL\":\"https://ca/why\"}");
    CHECK_INT_EQ(renew_ari_pick(v, 0, &at), 0);
    CHECK_INT_EQ(at, start);
    CHECK_INT_EQ(renew_ari_pick(v, 0x80000000u, &at), 0);
    CHECK_INT_EQ(at, start + (end - start) / 2);
    /* The largest random value stays inside the window. */
    CHECK_INT_EQ(renew_ari_pick(v, UINT32_MAX, &at), 0);
    CHECK(at >= start && at <= end && at > start + (end - start) * 99 / 100);
    json_free(v);

    /* A window of one instant. */
    v = parse("{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\",\"end\":\"2025-01-01T00:00:00Z\"}}");
    CHECK_INT_EQ(renew_ari_pick(v, UINT32_MAX, &at), 0);
    CHECK_INT_EQ(at, start);
    json_free(v);

    /* Unusable answers: the lifetime rule decides instead. */
    const char *bad[] = {
        "{\"suggestedWindow\":{\"start\":\"2025-01-03T00:00:00Z\",\"end\":\"2025-01-01T00:00:00Z\"}}",
        "{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\"}}",
        "{\"suggestedWindow\":{\"start\":\"yesterday\",\"end\":\"2025-01-01T00:00:00Z\"}}",
        "{\"suggestedWindow\":\"2025-01-01T00:00:00Z\"}",
        "{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = parse(bad[i]);
        at = 42;
        CHECK_INT_EQ(renew_ari_pick(v, 0, &at), -1);
        CHECK_INT_EQ(at, 42);
        json_free(v);
    }
}

static void test_identifiers(void)
{
    CHECK(identifier_is_ip("192.0.2.1"));
    CHECK(identifier_is_ip("2001:db8::1"));
    CHECK(!identifier_is_ip("example.com"));
    CHECK(!identifier_is_ip("192.0.2.1.example.com"));
    CHECK(!identifier_is_ip("*.example.com"));
    CHECK_STR_EQ(identifier_base("*.example.com"), "example.com");
    CHECK_STR_EQ(identifier_base("www.example.com"), "www.example.com");
    CHECK_STR_EQ(identifier_base("a*.example.com"), "a*.example.com");
}

int main(void)
{
    test_lifetime();
    test_ari_window();
    test_identifiers();
    return testlib_finish();
}
