/* Identifiers (rules/identifiers.c) and the payload members checked after
 * the signature (acme/payload.c): canonical forms, refusals with their
 * ACME types and the identifier attached, the blocklist, newOrder's
 * "identifiers" (subproblems for every bad name, duplicates dropped, at
 * most 100), notBefore/notAfter times, and contacts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/payload.h"
#include "json.h"
#include "rules/identifiers.h"
#include "strv.h"
#include "testlib.h"

static server_config cfg;

/* identifier_check accepting: the canonical value and the wildcard flag. */
static void check_ok(const char *type, const char *value, const char *want, bool want_wildcard)
{
    char *canon = NULL;
    bool wildcard = !want_wildcard;
    acme_problem *p = identifier_check(&cfg, type, value, &canon, &wildcard);
    CHECK(p == NULL);
    if (p) {
        fprintf(stderr, "    %s \"%s\" refused: %s\n", type, value, p->detail);
        problem_free(p);
    }
    CHECK_STR_EQ(canon, want);
    CHECK(wildcard == want_wildcard);
    free(canon);
}

/* identifier_check refusing with this short type, the identifier attached. */
static void check_refused(const char *type, const char *value, const char *want_type)
{
    char *canon = (char *)"untouched";
    bool wildcard;
    acme_problem *p = identifier_check(&cfg, type, value, &canon, &wildcard);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "    %s \"%s\" accepted as \"%s\"\n", type, value, canon ? canon : "(null)");
        free(canon);
        return;
    }
    CHECK(canon == NULL);
    CHECK_STR_EQ(problem_short_type(p->type), want_type);
    CHECK_INT_EQ(p->status, 400);
    CHECK_STR_EQ(p->identifier.type, type);
    CHECK_STR_EQ(p->identifier.value, value);
    CHECK(p->detail && p->detail[0]);
    problem_free(p);
}

static void test_canonical(void)
{
    check_ok("dns", "www.example.org", "www.example.org", false);
    check_ok("dns", "WWW.Example.ORG", "www.example.org", false);
    check_ok("dns", "*.x.example", "x.example", true);
    check_ok("dns", "*.X.EXAMPLE", "x.example", true);
    check_ok("dns", "xn--bcher-kva.example", "xn--bcher-kva.example", false);
    check_ok("dns", "a-b.c9.example", "a-b.c9.example", false);
    check_ok("dns", "0.example", "0.example", false);
    /* A label of 63 characters is fine. */
    char l63[80];
    memset(l63, 'a', 63);
    strcpy(l63 + 63, ".example");
    check_ok("dns", l63, l63, false);

    check_ok("ip", "192.0.2.1", "192.0.2.1", false);
    check_ok("ip", "2001:DB8:0:0:0:0:0:1", "2001:db8::1", false);
    check_ok("ip", "2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329", false);
    check_ok("ip", "::1", "::1", false);
    check_ok("ip", "fe80:0:0:0:0:0:0:0", "fe80::", false);
}

static void test_refusals(void)
{
    /* An IP address as a DNS name. */
    check_refused("dns", "192.0.2.1", "rejectedIdentifier");
    check_refused("dns", "2001:db8::1", "rejectedIdentifier");
    check_refused("dns", "*.192.0.2.1", "rejectedIdentifier");
    /* Not DNS names. */
    const char *bad[] = {"",
                         "example",            /* one label */
                         "*.example",          /* the wildcard's base has one label */
                         "-a.example",         /* label starts with a hyphen */
                         "a-.example",         /* label ends with a hyphen */
                         "a..example",         /* empty label */
                         ".example.org",       /* empty first label */
                         "example.org.",       /* trailing dot */
                         "under_score.example",
                         "sp ace.example",
                         "*.*.example.org",    /* one wildcard label at most, leftmost */
                         "a.*.example.org",
                         "*example.org",
                         "www.example.123",    /* numeric TLD */
                         "caf\xc3\xa9.example", /* U-label, not A-label */
                         NULL};
    for (size_t i = 0; bad[i]; i++)
        check_refused("dns", bad[i], "rejectedIdentifier");
    char l64[80];
    memset(l64, 'a', 64);
    strcpy(l64 + 64, ".example");
    check_refused("dns", l64, "rejectedIdentifier");
    /* A name of 254 characters (four labels of 62 plus dots, and more). */
    char longname[300] = "";
    for (int i = 0; i < 4; i++) {
        char label[64];
        memset(label, 'a' + i, 62);
        label[62] = 0;
        strcat(longname, label);
        strcat(longname, ".");
    }
    strcat(longname, "example"); /* 4*63 + 7 = 259 */
    check_refused("dns", longname, "rejectedIdentifier");

    /* Unknown identifier types. */
    check_refused("email", "admin@example.org", "unsupportedIdentifier");
    check_refused("DNS", "www.example.org", "unsupportedIdentifier");
    check_refused("", "www.example.org", "unsupportedIdentifier");
    /* A bad IP address. */
    check_refused("ip", "300.1.1.1", "malformed");
    check_refused("ip", "192.0.2", "malformed");
    check_refused("ip", "www.example.org", "malformed");
    check_refused("ip", "2001:db8::1::2", "malformed");
    check_refused("ip", "", "malformed");
    check_refused("ip", "192.0.2.1/32", "malformed");
}

static void test_blocklist(void)
{
    strv_push(&cfg.blocklist, &cfg.nblocklist, "blocked.example");
    strv_push(&cfg.blocklist, &cfg.nblocklist, "Bad.Test");
    CHECK(identifier_blocked(&cfg, "blocked.example"));
    CHECK(identifier_blocked(&cfg, "www.blocked.example"));
    CHECK(identifier_blocked(&cfg, "a.b.blocked.example"));
    CHECK(identifier_blocked(&cfg, "WWW.BLOCKED.EXAMPLE"));
    CHECK(identifier_blocked(&cfg, "bad.test"));
    CHECK(identifier_blocked(&cfg, "x.bad.test"));
    /* Suffixes of labels, not of strings. */
    CHECK(!identifier_blocked(&cfg, "notblocked.example"));
    CHECK(!identifier_blocked(&cfg, "blocked.example.org"));
    CHECK(!identifier_blocked(&cfg, "example"));
    CHECK(!identifier_blocked(&cfg, "www.example.org"));

    check_refused("dns", "blocked.example", "rejectedIdentifier");
    check_refused("dns", "www.Blocked.example", "rejectedIdentifier");
    check_refused("dns", "*.blocked.example", "rejectedIdentifier");
    check_refused("dns", "*.sub.bad.test", "rejectedIdentifier");
    check_ok("dns", "notblocked.example", "notblocked.example", false);
    check_ok("dns", "blocked.example.org", "blocked.example.org", false);

    strv_free(cfg.blocklist, cfg.nblocklist);
    cfg.blocklist = NULL;
    cfg.nblocklist = 0;
    CHECK(!identifier_blocked(&cfg, "blocked.example"));
}

/* ---- payload_identifiers ----------------------------------------------- */

static yajl_val parse(const char *doc)
{
    aro_err err;
    yajl_val v = json_parse(doc, strlen(doc), &err);
    CHECK(v != NULL);
    if (!v)
        fprintf(stderr, "bad test JSON (%s): %s\n", err.msg, doc);
    return v;
}

static void test_payload_identifiers(void)
{
    rec_order o = {0};
    yajl_val v = parse("[{\"type\":\"dns\",\"value\":\"Www.Example.org\"},"
                       "{\"type\":\"dns\",\"value\":\"www.example.org\"},"
                       "{\"type\":\"dns\",\"value\":\"*.Example.org\"},"
                       "{\"type\":\"dns\",\"value\":\"*.example.org\"},"
                       "{\"type\":\"ip\",\"value\":\"2001:db8:0::1\"},"
                       "{\"type\":\"ip\",\"value\":\"2001:db8::1\"},"
                       "{\"type\":\"dns\",\"value\":\"example.org\",\"extra\":1}]");
    acme_problem *p = payload_identifiers(&cfg, v, &o);
    CHECK(p == NULL);
    problem_free(p);
    CHECK_INT_EQ(o.nidentifiers, 4); /* duplicates dropped, after canonicalization */
    if (o.nidentifiers == 4) {
        CHECK_STR_EQ(o.identifiers[0].value, "www.example.org");
        CHECK_STR_EQ(o.identifiers[1].value, "*.example.org"); /* "*." kept */
        CHECK_STR_EQ(o.identifiers[2].type, "ip");
        CHECK_STR_EQ(o.identifiers[2].value, "2001:db8::1");
        CHECK_STR_EQ(o.identifiers[3].value, "example.org");
    }
    json_free(v);
    rec_order_clear(&o);

    /* Several bad names: one problem, a subproblem for each (6.7.1). */
    v = parse("[{\"type\":\"dns\",\"value\":\"bad_name.example\"},"
              "{\"type\":\"dns\",\"value\":\"good.example\"},"
              "{\"type\":\"email\",\"value\":\"a@example.org\"},"
              "{\"type\":\"ip\",\"value\":\"999.1.1.1\"},"
              "{\"type\":\"dns\",\"value\":\"10.0.0.1\"}]");
    p = payload_identifiers(&cfg, v, &o);
    CHECK(p != NULL);
    if (p) {
        CHECK_INT_EQ(p->status, 400);
        CHECK_STR_EQ(p->detail, "4 identifiers were refused");
        CHECK_INT_EQ(p->nsub, 4);
        if (p->nsub == 4) {
            CHECK_STR_EQ(p->subproblems[0].type, ACME_ERR("rejectedIdentifier"));
            CHECK_STR_EQ(p->subproblems[0].identifier.type, "dns");
            CHECK_STR_EQ(p->subproblems[0].identifier.value, "bad_name.example");
            CHECK_STR_EQ(p->subproblems[1].type, ACME_ERR("unsupportedIdentifier"));
            CHECK_STR_EQ(p->subproblems[1].identifier.type, "email");
            CHECK_STR_EQ(p->subproblems[1].identifier.value, "a@example.org");
            CHECK_STR_EQ(p->subproblems[2].type, ACME_ERR("malformed"));
            CHECK_STR_EQ(p->subproblems[2].identifier.value, "999.1.1.1");
            CHECK_STR_EQ(p->subproblems[3].type, ACME_ERR("rejectedIdentifier"));
            CHECK_STR_EQ(p->subproblems[3].identifier.value, "10.0.0.1");
            for (size_t i = 0; i < p->nsub; i++)
                CHECK(p->subproblems[i].detail && p->subproblems[i].detail[0]);
        }
        /* The top-level type is one of the subproblems' (the first). */
        CHECK_STR_EQ(p->type, ACME_ERR("rejectedIdentifier"));
    }
    problem_free(p);
    json_free(v);
    rec_order_clear(&o);

    /* One bad name: its own detail at the top. */
    v = parse("[{\"type\":\"dns\",\"value\":\"ok.example\"},{\"type\":\"dns\",\"value\":\"-bad.example\"}]");
    p = payload_identifiers(&cfg, v, &o);
    CHECK(p != NULL);
    if (p) {
        CHECK_INT_EQ(p->nsub, 1);
        CHECK_STR_EQ(p->type, ACME_ERR("rejectedIdentifier"));
        if (p->nsub == 1)
            CHECK_STR_EQ(p->detail, p->subproblems[0].detail);
    }
    problem_free(p);
    json_free(v);
    rec_order_clear(&o);

    /* Shape errors: malformed. */
    const char *shapes[] = {"[]", "{}", "\"www.example.org\"", "[{\"type\":\"dns\"}]",
                            "[{\"value\":\"www.example.org\"}]", "[{\"type\":\"dns\",\"value\":5}]",
                            "[\"www.example.org\"]", NULL};
    for (size_t i = 0; shapes[i]; i++) {
        v = parse(shapes[i]);
        p = payload_identifiers(&cfg, v, &o);
        CHECK(p != NULL);
        if (p)
            CHECK_STR_EQ(p->type, ACME_ERR("malformed"));
        else
            fprintf(stderr, "    accepted: %s\n", shapes[i]);
        problem_free(p);
        json_free(v);
        rec_order_clear(&o);
    }
    p = payload_identifiers(&cfg, NULL, &o);
    CHECK(p != NULL);
    if (p)
        CHECK_STR_EQ(p->type, ACME_ERR("malformed"));
    problem_free(p);
    rec_order_clear(&o);

    /* At most 100 identifiers: 100 accepted, 101 refused. */
    for (int count = 100; count <= 101; count++) {
        aro_buf b = {0};
        buf_puts(&b, "[");
        for (int i = 0; i < count; i++)
            buf_printf(&b, "%s{\"type\":\"dns\",\"value\":\"n%d.example.org\"}", i ? "," : "", i);
        buf_puts(&b, "]");
        v = parse(b.data);
        buf_free(&b);
        p = payload_identifiers(&cfg, v, &o);
        if (count == 100) {
            CHECK(p == NULL);
            CHECK_INT_EQ(o.nidentifiers, 100);
        } else {
            CHECK(p != NULL);
            if (p) {
                CHECK_STR_EQ(p->type, ACME_ERR("rejectedIdentifier"));
                CHECK(strstr(p->detail, "100") != NULL);
            }
            CHECK_INT_EQ(o.nidentifiers, 0);
        }
        problem_free(p);
        json_free(v);
        rec_order_clear(&o);
    }
}

/* ---- payload_time ------------------------------------------------------ */

static void test_payload_time(void)
{
    char *out = (char *)"untouched";
    yajl_val v = parse("{\"notBefore\":\"2025-03-01T14:10:12Z\",\"notAfter\":\"2025-03-08T14:10:12.5+02:00\","
                       "\"bad\":\"yesterday\",\"num\":1740838212,\"date\":\"2025-03-01\"}");
    acme_problem *p = payload_time(v, "notBefore", &out);
    CHECK(p == NULL);
    CHECK_STR_EQ(out, "2025-03-01T14:10:12Z");
    free(out);
    p = payload_time(v, "notAfter", &out);
    CHECK(p == NULL);
    CHECK_STR_EQ(out, "2025-03-08T14:10:12.5+02:00");
    free(out);
    /* Absent: fine, nothing out. */
    out = (char *)"untouched";
    p = payload_time(v, "absent", &out);
    CHECK(p == NULL);
    CHECK(out == NULL);
    /* Not an RFC 3339 time: malformed naming the member. */
    const char *bad[] = {"bad", "num", "date", NULL};
    for (size_t i = 0; bad[i]; i++) {
        out = (char *)"untouched";
        p = payload_time(v, bad[i], &out);
        CHECK(p != NULL);
        CHECK(out == NULL);
        if (p) {
            CHECK_STR_EQ(p->type, ACME_ERR("malformed"));
            CHECK(strstr(p->detail, bad[i]) != NULL);
        }
        problem_free(p);
    }
    json_free(v);
}

/* ---- payload_contacts -------------------------------------------------- */

static void check_contacts(const char *doc, const char *want_type)
{
    yajl_val v = parse(doc);
    acme_problem *p = payload_contacts(v);
    if (!want_type) {
        CHECK(p == NULL);
        if (p)
            fprintf(stderr, "    refused %s: %s\n", doc, p->detail);
    } else {
        CHECK(p != NULL);
        if (p) {
            CHECK_STR_EQ(p->type, want_type);
            CHECK_INT_EQ(p->status, 400);
        } else {
            fprintf(stderr, "    accepted %s\n", doc);
        }
    }
    problem_free(p);
    json_free(v);
}

static void test_payload_contacts(void)
{
    CHECK(payload_contacts(NULL) == NULL); /* optional */
    check_contacts("[]", NULL);
    check_contacts("[\"mailto:admin@example.org\"]", NULL);
    check_contacts("[\"mailto:admin@example.org\",\"mailto:ops+acme@mail.example.org\"]", NULL);

    check_contacts("\"mailto:admin@example.org\"", ACME_ERR("malformed"));
    check_contacts("{\"mailto\":\"admin@example.org\"}", ACME_ERR("malformed"));
    check_contacts("[5]", ACME_ERR("malformed"));
    check_contacts("[\"mailto:admin@example.org\",null]", ACME_ERR("malformed"));

    check_contacts("[\"tel:+12025550123\"]", ACME_ERR("unsupportedContact"));
    check_contacts("[\"https://example.org/contact\"]", ACME_ERR("unsupportedContact"));
    check_contacts("[\"admin@example.org\"]", ACME_ERR("unsupportedContact"));
    /* "MAILTO:" is not asserted either way: RFC 3986 3.1 makes schemes
     * case-insensitive, payload.c compares "mailto:" exactly. */

    const char *invalid[] = {"[\"mailto:\"]",
                             "[\"mailto:admin\"]",
                             "[\"mailto:@example.org\"]",
                             "[\"mailto:admin@example\"]",
                             "[\"mailto:admin@.example.org\"]",
                             "[\"mailto:admin@example.org.\"]",
                             "[\"mailto:a,b@example.org\"]",
                             "[\"mailto:admin@example.org?subject=hi\"]",
                             "[\"mailto:admin@example.org&cc=x@example.org\"]",
                             "[\"mailto:ad min@example.org\"]",
                             "[\"mailto:<admin@example.org>\"]",
                             "[\"mailto:admin%40x@example.org\"]",
                             "[\"mailto:admin@example.org\",\"mailto:nobody\"]",
                             NULL};
    for (size_t i = 0; invalid[i]; i++)
        check_contacts(invalid[i], ACME_ERR("invalidContact"));
    /* Two '@', an empty or bad domain label, a control character, a
     * quote, a ';' (once accepted: found by this test). */
    const char *accepted_wrongly[] = {"[\"mailto:a@b@example.org\"]",
                                      "[\"mailto:admin@example..org\"]",
                                      "[\"mailto:admin@-x.example.org\"]",
                                      "[\"mailto:admin@exa_mple.org\"]",
                                      "[\"mailto:admin@example.org;x\"]",
                                      "[\"mailto:ad\\\"min@example.org\"]",
                                      "[\"mailto:admin@example.org\\n\"]",
                                      NULL};
    for (size_t i = 0; accepted_wrongly[i]; i++)
        check_contacts(accepted_wrongly[i], ACME_ERR("invalidContact"));
    /* URI schemes are case-insensitive (RFC 3986 3.1). */
    check_contacts("[\"MAILTO:admin@example.org\"]", NULL);

    /* payload_set_contacts replaces the account's contacts. */
    rec_account a = {0};
    strv_push(&a.contact, &a.ncontact, "mailto:old@example.org");
    yajl_val v = parse("[\"mailto:admin@example.org\",\"mailto:ops@example.org\"]");
    payload_set_contacts(&a, v);
    CHECK_INT_EQ(a.ncontact, 2);
    if (a.ncontact == 2) {
        CHECK_STR_EQ(a.contact[0], "mailto:admin@example.org");
        CHECK_STR_EQ(a.contact[1], "mailto:ops@example.org");
    }
    json_free(v);
    v = parse("[]");
    payload_set_contacts(&a, v);
    CHECK_INT_EQ(a.ncontact, 0);
    CHECK(a.contact == NULL);
    json_free(v);
    rec_account_clear(&a);
}

int main(void)
{
    config_defaults(&cfg);
    test_canonical();
    test_refusals();
    test_blocklist();
    test_payload_identifiers();
    test_payload_time();
    test_payload_contacts();
    config_free(&cfg);
    return testlib_finish();
}
