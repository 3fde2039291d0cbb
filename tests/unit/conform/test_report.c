/* The report of aro-conform: the catalogues (ids unique, sections and
 * levels well formed), how verdicts combine, the exit status, and the
 * JSON and HTML renderings of contracts.md "aro-conform". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_mode.h"
#include "json.h"
#include "report.h"
#include "server_mode.h"
#include "testlib.h"

static const check_def defs[] = {
    {"t.must", "RFC 8555 6.2", LEVEL_MUST, "a MUST"},
    {"t.should", "RFC 8555 6.5", LEVEL_SHOULD, "a SHOULD"},
    {"t.may", "RFC 8555 7.4.1", LEVEL_MAY, "a MAY"},
    {"t.practice", "RFC 8555 7.5.2", LEVEL_PRACTICE, "a practice"},
    {"u.other", "RFC 9773 4.2", LEVEL_MUST, "another area"},
};

static void catalogue_is_well_formed(void (*add)(report *), size_t min)
{
    report r;
    report_init(&r, "x", "catalogue");
    add(&r); /* aborts on a duplicate id */
    CHECK(r.n >= min);
    static const char *const docs[] = {"RFC 8555 ", "RFC 9773 ", "RFC 7807 ", "RFC 9110 ",
                                       "draft-aro-acme-retry-options-01 "};
    for (size_t i = 0; i < r.n; i++) {
        const check_def *d = r.v[i].def;
        bool doc = false;
        for (size_t k = 0; k < sizeof docs / sizeof *docs; k++)
            doc = doc || !strncmp(d->section, docs[k], strlen(docs[k]));
        CHECK(doc);
        CHECK(d->level < LEVEL__COUNT);
        CHECK(d->title && *d->title);
        CHECK(strchr(d->id, '.') != NULL);
        CHECK(r.v[i].result == RESULT_NOT_RUN);
    }
    report_free(&r);
}

static void verdicts_combine(void)
{
    report r;
    report_init(&r, "server", "https://example.test/directory");
    report_add_defs(&r, defs, sizeof defs / sizeof *defs);
    check_pass(&r, "t.must", "first pass");
    check_fail(&r, "t.must", "then a fail");
    check_pass(&r, "t.must", "a later pass does not undo it");
    CHECK_INT_EQ(report_find(&r, "t.must")->result, RESULT_FAIL);
    CHECK_STR_EQ(report_find(&r, "t.must")->detail, "then a fail");
    CHECK_INT_EQ(report_find(&r, "t.must")->observations, 3);
    check_skip(&r, "t.should", "skipped first");
    check_pass(&r, "t.should", "a pass beats a skip");
    check_skip(&r, "t.should", "a skip does not beat a pass");
    CHECK_INT_EQ(report_find(&r, "t.should")->result, RESULT_PASS);
    CHECK(check_that(&r, "t.practice", false, "%s", "failed") == false);
    check_skip_rest(&r, "t.", "%s", "not reached");
    CHECK_INT_EQ(report_find(&r, "t.may")->result, RESULT_SKIP);
    CHECK_INT_EQ(report_find(&r, "t.practice")->result, RESULT_FAIL);
    CHECK_INT_EQ(report_find(&r, "u.other")->result, RESULT_NOT_RUN);
    report_counts c = report_count(&r);
    CHECK_INT_EQ(c.pass, 1);
    CHECK_INT_EQ(c.fail, 2);
    CHECK_INT_EQ(c.skip, 2); /* not run counts as skip */
    CHECK_INT_EQ(c.fail_by_level[LEVEL_MUST], 1);
    CHECK_INT_EQ(c.fail_by_level[LEVEL_PRACTICE], 1);
    CHECK_INT_EQ(report_exit_status(&r), 1);
    report_free(&r);

    /* Without a MUST failure the exit status is 0. */
    report_init(&r, "client", "cmd");
    report_add_defs(&r, defs, sizeof defs / sizeof *defs);
    check_fail(&r, "t.should", "a SHOULD");
    check_fail(&r, "t.may", "a MAY");
    CHECK_INT_EQ(report_exit_status(&r), 0);
    report_free(&r);
}

static void json_has_the_contract_shape(void)
{
    report r;
    report_init(&r, "server", "https://example.test/directory");
    report_add_defs(&r, defs, sizeof defs / sizeof *defs);
    check_pass(&r, "t.must", "ok");
    check_fail(&r, "t.should", "seen \"quoted\" and \xc3\xa9");
    report_note(&r, "a note %d", 1);
    char *j = report_json(&r);
    CHECK(j != NULL);
    aro_err err;
    yajl_val v = j ? json_parse(j, strlen(j), &err) : NULL;
    CHECK(v != NULL);
    CHECK_STR_EQ(json_str(v, "target"), "https://example.test/directory");
    CHECK_STR_EQ(json_str(v, "mode"), "server");
    yajl_val checks = json_member(v, "checks");
    CHECK(checks && YAJL_IS_ARRAY(checks) && checks->u.array.len == 5);
    yajl_val first = checks && YAJL_IS_ARRAY(checks) ? checks->u.array.values[0] : NULL;
    CHECK_STR_EQ(json_str(first, "id"), "t.must");
    CHECK_STR_EQ(json_str(first, "section"), "RFC 8555 6.2");
    CHECK_STR_EQ(json_str(first, "level"), "MUST");
    CHECK_STR_EQ(json_str(first, "result"), "pass");
    CHECK_STR_EQ(json_str(first, "detail"), "ok");
    yajl_val second = checks && YAJL_IS_ARRAY(checks) ? checks->u.array.values[1] : NULL;
    CHECK_STR_EQ(json_str(second, "result"), "fail");
    CHECK_STR_EQ(json_str(second, "detail"), "seen \"quoted\" and \xc3\xa9");
    yajl_val third = checks && YAJL_IS_ARRAY(checks) ? checks->u.array.values[2] : NULL;
    CHECK_STR_EQ(json_str(third, "result"), "skip"); /* not run */
    yajl_val s = json_member(v, "summary");
    long long n = -1;
    CHECK(json_get_int(s, "pass", true, &n, &err) == 0 && n == 1);
    CHECK(json_get_int(s, "fail", true, &n, &err) == 0 && n == 1);
    CHECK(json_get_int(s, "skip", true, &n, &err) == 0 && n == 3);
    CHECK(json_get_int(json_member(s, "fail_by_level"), "SHOULD", true, &n, &err) == 0 && n == 1);
    json_free(v);
    free(j);
    report_free(&r);
}

static void html_escapes(void)
{
    report r;
    report_init(&r, "server", "https://example.test/<dir>");
    report_add_defs(&r, defs, sizeof defs / sizeof *defs);
    check_fail(&r, "t.must", "<script>alert(1)</script> & more");
    char path[] = "/tmp/aro-conform-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    aro_err err;
    CHECK(report_write_html(&r, path, &err) == 0);
    size_t len;
    char *page = file_read_all(path, 1 << 20, &len, &err);
    CHECK(page && strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
    CHECK(page && !strstr(page, "<script>"));
    CHECK(page && strstr(page, "https://example.test/&lt;dir&gt;"));
    CHECK(page && strstr(page, "<tr class=\"area\"><th colspan=\"6\">u</th></tr>"));
    free(page);
    unlink(path);
    report_free(&r);
}

int main(void)
{
    catalogue_is_well_formed(report_add_server_catalogue, 150);
    catalogue_is_well_formed(report_add_client_catalogue, 30);
    verdicts_combine();
    json_has_the_contract_shape();
    html_escapes();
    return testlib_finish();
}
