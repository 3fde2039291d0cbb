/* The result a command prints (contracts.md, "aro"): the --json object of
 * issue and renew, read back with the JSON parser; the other commands'
 * objects; the one-line summaries; renew's entry per certificate; and how
 * errors count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report.h"
#include "strv.h"
#include "testlib.h"
#include "util.h"

/* What a printer wrote, as a string (malloc'd). */
#define CAPTURE(buf, call)                                  \
    do {                                                    \
        size_t cap_len_;                                    \
        FILE *out = open_memstream(&(buf), &cap_len_);      \
        call;                                               \
        fclose(out);                                        \
    } while (0)

static yajl_val parse_one_line(const char *s)
{
    aro_err err;
    size_t len = strlen(s);
    /* Exactly one object and one newline. */
    CHECK(len > 0 && s[len - 1] == '\n');
    CHECK(strchr(s, '\n') == s + len - 1);
    yajl_val v = json_parse(s, len, &err);
    CHECK(v != NULL && YAJL_IS_OBJECT(v));
    return v;
}

static size_t nkeys(yajl_val v)
{
    return YAJL_IS_OBJECT(v) ? v->u.object.len : 0;
}

static void test_issue_json(void)
{
    report r = {.result = "issued"};
    strv_push(&r.names, &r.nnames, "example.com");
    strv_push(&r.names, &r.nnames, "www.example.com");
    strv_push(&r.orders, &r.norders, "https://ca/order/1");
    report_add_attempt(&r, "example.com", "http-01", "https://ca/chall/1", "https://ca/order/1",
                       "invalid", "urn:ietf:params:acme:error:connection", "first");
    report_add_attempt(&r, "example.com", "dns-01", "https://ca/chall/2", "https://ca/order/1",
                       "valid", NULL, "retry-options");
    r.certificate = xstrdup("/state/certs/example.com/fullchain.pem");

    char *s = NULL;
    CAPTURE(s, report_print_issue(&r, true, out));
    yajl_val v = parse_one_line(s);
    /* Exactly the members of the contract, in its order. */
    const char *keys[] = {"result", "names", "orders", "attempts", "certificate", "error"};
    CHECK_INT_EQ(nkeys(v), 6);
    for (size_t i = 0; i < 6 && i < nkeys(v); i++)
        CHECK_STR_EQ(v->u.object.keys[i], keys[i]);
    CHECK_STR_EQ(json_str(v, "result"), "issued");
    yajl_val names = json_member(v, "names");
    CHECK(YAJL_IS_ARRAY(names) && names->u.array.len == 2);
    if (YAJL_IS_ARRAY(names) && names->u.array.len == 2)
        CHECK_STR_EQ(YAJL_GET_STRING(names->u.array.values[1]), "www.example.com");
    yajl_val atts = json_member(v, "attempts");
    CHECK(YAJL_IS_ARRAY(atts) && atts->u.array.len == 2);
    if (YAJL_IS_ARRAY(atts) && atts->u.array.len == 2) {
        yajl_val a0 = atts->u.array.values[0], a1 = atts->u.array.values[1];
        const char *akeys[] = {"identifier", "type", "challenge", "order", "outcome", "problem", "via"};
        CHECK_INT_EQ(nkeys(a0), 7);
        for (size_t i = 0; i < 7 && i < nkeys(a0); i++)
            CHECK_STR_EQ(a0->u.object.keys[i], akeys[i]);
        CHECK_STR_EQ(json_str(a0, "outcome"), "invalid");
        CHECK_STR_EQ(json_str(a0, "problem"), "urn:ietf:params:acme:error:connection");
        CHECK_STR_EQ(json_str(a0, "via"), "first");
        /* A valid attempt has "problem": null, not a missing member. */
        CHECK(json_member(a1, "problem") != NULL && YAJL_IS_NULL(json_member(a1, "problem")));
        CHECK_STR_EQ(json_str(a1, "via"), "retry-options");
        CHECK_STR_EQ(json_str(a1, "order"), "https://ca/order/1");
    }
    CHECK_STR_EQ(json_str(v, "certificate"), "/state/certs/example.com/fullchain.pem");
    CHECK(YAJL_IS_NULL(json_member(v, "error")));
    json_free(v);
    free(s);

    /* The summary line without --json. */
    CAPTURE(s, report_print_issue(&r, false, out));
    CHECK_STR_EQ(s, "issued example.com: /state/certs/example.com/fullchain.pem\n");
    free(s);
    report_clear(&r);
    CHECK(r.nattempts == 0 && r.attempts == NULL && r.certificate == NULL);
}

static void test_failure_json(void)
{
    report r = {.result = "failed"};
    strv_push(&r.names, &r.nnames, "example.com");
    /* The first error is the cause; later ones do not replace it. */
    report_error(&r, "urn:ietf:params:acme:error:rejectedIdentifier", "example.com: not allowed");
    report_error(&r, NULL, "issuance failed");
    char *s = NULL;
    CAPTURE(s, report_print_issue(&r, true, out));
    yajl_val v = parse_one_line(s);
    CHECK_STR_EQ(json_str(v, "result"), "failed");
    CHECK(YAJL_IS_ARRAY(json_member(v, "orders")) && json_member(v, "orders")->u.array.len == 0);
    CHECK(YAJL_IS_ARRAY(json_member(v, "attempts")));
    CHECK(YAJL_IS_NULL(json_member(v, "certificate")));
    yajl_val e = json_member(v, "error");
    CHECK(YAJL_IS_OBJECT(e));
    CHECK_STR_EQ(json_str(e, "type"), "urn:ietf:params:acme:error:rejectedIdentifier");
    CHECK_STR_EQ(json_str(e, "detail"), "example.com: not allowed");
    json_free(v);
    free(s);
    CAPTURE(s, report_print_issue(&r, false, out));
    CHECK_STR_EQ(s, "failed: example.com: not allowed\n");
    free(s);

    /* A local error is typed aro:client; forgetting lets the next one in. */
    report_forget_error(&r, NULL);
    CHECK(r.err_type == NULL && r.err_detail == NULL);
    report_fail(&r, NULL, "cannot create /x");
    CHECK_STR_EQ(r.err_type, "aro:client");
    acme_problem p = {.type = "urn:ietf:params:acme:error:rateLimited"};
    report_forget_error(&r, NULL);
    report_fail(&r, &p, "newOrder: rateLimited");
    CHECK_STR_EQ(r.err_type, "urn:ietf:params:acme:error:rateLimited");
    CHECK_STR_EQ(r.err_detail, "newOrder: rateLimited");
    report_clear(&r);
}

static void test_renew(void)
{
    /* renew: one entry per certificate, in the issue shape plus "name". */
    report all = {.result = "failed"};
    report a = {.result = "renewed", .name = xstrdup("a.example")};
    strv_push(&a.names, &a.nnames, "a.example");
    strv_push(&a.orders, &a.norders, "https://ca/order/1");
    a.certificate = xstrdup("/s/certs/a.example/fullchain.pem");
    report b = {.result = "not-due", .name = xstrdup("b.example"), .due = 86400};
    strv_push(&b.names, &b.nnames, "b.example");
    report c = {.result = "failed", .name = xstrdup("c.example")};
    strv_push(&c.names, &c.nnames, "c.example");
    report_error(&c, "urn:ietf:params:acme:error:dns", "c.example: NXDOMAIN");
    report_add_run(&all, &a);
    report_add_run(&all, &b);
    report_add_run(&all, &c);
    CHECK(a.name == NULL && a.certificate == NULL);
    char *s = NULL;
    CAPTURE(s, report_print_renew(&all, true, false, out));
    yajl_val v = parse_one_line(s);
    CHECK_STR_EQ(json_str(v, "result"), "failed");
    CHECK(YAJL_IS_NULL(json_member(v, "error")));
    yajl_val certs = json_member(v, "certificates");
    CHECK(YAJL_IS_ARRAY(certs) && certs->u.array.len == 3);
    if (YAJL_IS_ARRAY(certs) && certs->u.array.len == 3) {
        const char *keys[] = {"name", "result", "names", "orders", "attempts", "certificate", "error"};
        yajl_val e0 = certs->u.array.values[0];
        CHECK_INT_EQ(nkeys(e0), 7);
        for (size_t i = 0; i < 7 && i < nkeys(e0); i++)
            CHECK_STR_EQ(e0->u.object.keys[i], keys[i]);
        CHECK_STR_EQ(json_str(e0, "certificate"), "/s/certs/a.example/fullchain.pem");
        CHECK_STR_EQ(json_str(certs->u.array.values[1], "result"), "not-due");
        CHECK_STR_EQ(json_str(json_member(certs->u.array.values[2], "error"), "type"),
                     "urn:ietf:params:acme:error:dns");
    }
    json_free(v);
    free(s);
    /* One line each; --quiet keeps only the failures. */
    CAPTURE(s, report_print_renew(&all, false, false, out));
    CHECK_STR_EQ(s, "renewed a.example: /s/certs/a.example/fullchain.pem\n"
                    "not-due b.example: due at 1970-01-02T00:00:00Z\n"
                    "failed c.example: c.example: NXDOMAIN\n");
    free(s);
    CAPTURE(s, report_print_renew(&all, false, true, out));
    CHECK_STR_EQ(s, "failed c.example: c.example: NXDOMAIN\n");
    free(s);
    /* An interrupted run says what it cleaned up. */
    report_add_cleanup(&all, "removed /w/.well-known/acme-challenge/T");
    CAPTURE(s, report_print_renew(&all, true, false, out));
    v = parse_one_line(s);
    CHECK(YAJL_IS_ARRAY(json_member(v, "cleanup")) && json_member(v, "cleanup")->u.array.len == 1);
    json_free(v);
    free(s);
    report_clear(&all);
    CHECK(all.runs == NULL && all.nruns == 0);
}

static void test_simple_and_list(void)
{
    report r = {.result = "created"};
    char *s = NULL;
    aro_err err;
    yajl_val acct = json_parse("{\"status\":\"valid\"}", 18, &err);
    CAPTURE(s, report_print_simple(&r, true, "account", "https://ca/acct/1", NULL, out));
    yajl_val v = parse_one_line(s);
    CHECK_INT_EQ(nkeys(v), 3);
    CHECK_STR_EQ(json_str(v, "result"), "created");
    CHECK_STR_EQ(json_str(v, "account"), "https://ca/acct/1");
    CHECK(YAJL_IS_NULL(json_member(v, "error")));
    json_free(v);
    free(s);
    /* account show: the URL under "url", the account object under
     * "account": each member once (the JSON parser refuses duplicates). */
    r.result = "shown";
    CAPTURE(s, report_print_simple(&r, true, "url", "https://ca/acct/1", acct, out));
    CHECK_STR_EQ(s, "{\"result\":\"shown\",\"url\":\"https://ca/acct/1\",\"account\":{\"status\":\"valid\"},\"error\":null}\n");
    v = parse_one_line(s);
    CHECK_STR_EQ(json_str(json_member(v, "account"), "status"), "valid");
    json_free(v);
    free(s);
    r.result = "created";
    CAPTURE(s, report_print_simple(&r, true, "certificate", "/c.pem", NULL, out));
    v = parse_one_line(s);
    CHECK_STR_EQ(json_str(v, "certificate"), "/c.pem");
    CHECK_INT_EQ(nkeys(v), 3);
    json_free(v);
    free(s);
    CAPTURE(s, report_print_simple(&r, false, "account", "https://ca/acct/1", NULL, out));
    CHECK_STR_EQ(s, "created https://ca/acct/1\n");
    free(s);
    /* After an error the verb gives way to "failed". */
    report_error(&r, NULL, "no account at https://ca yet");
    CAPTURE(s, report_print_simple(&r, true, "account", NULL, NULL, out));
    v = parse_one_line(s);
    CHECK_STR_EQ(json_str(v, "result"), "failed");
    CHECK(YAJL_IS_NULL(json_member(v, "account")));
    CHECK_STR_EQ(json_str(json_member(v, "error"), "type"), "aro:client");
    json_free(v);
    free(s);
    CAPTURE(s, report_print_simple(&r, false, "account", NULL, NULL, out));
    CHECK_STR_EQ(s, "failed: no account at https://ca yet\n");
    free(s);
    json_free(acct);
    report_clear(&r);

    report l = {0};
    char *names[] = {"*.example.com", "example.com"};
    report_add_cert(&l, "*.example.com", names, 2, 86400, "https://ca/dir",
                    "/s/certs/_.example.com/fullchain.pem");
    CAPTURE(s, report_print_list(&l, true, out));
    v = parse_one_line(s);
    CHECK_STR_EQ(json_str(v, "result"), "listed");
    yajl_val certs = json_member(v, "certificates");
    CHECK(YAJL_IS_ARRAY(certs) && certs->u.array.len == 1);
    if (YAJL_IS_ARRAY(certs) && certs->u.array.len == 1) {
        yajl_val c = certs->u.array.values[0];
        CHECK_STR_EQ(json_str(c, "name"), "*.example.com");
        CHECK_STR_EQ(json_str(c, "notAfter"), "1970-01-02T00:00:00Z");
        CHECK_STR_EQ(json_str(c, "certificate"), "/s/certs/_.example.com/fullchain.pem");
        CHECK(YAJL_IS_ARRAY(json_member(c, "names")) && json_member(c, "names")->u.array.len == 2);
    }
    json_free(v);
    free(s);
    CAPTURE(s, report_print_list(&l, false, out));
    CHECK_STR_EQ(s, "*.example.com\t1970-01-02T00:00:00Z\t/s/certs/_.example.com/fullchain.pem\n");
    free(s);
    report_clear(&l);
}

int main(void)
{
    test_issue_json();
    test_failure_json();
    test_renew();
    test_simple_and_list();
    return testlib_finish();
}
