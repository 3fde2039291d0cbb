#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"

static const char *const level_names[LEVEL__COUNT] = {"MUST", "SHOULD", "MAY", "PRACTICE"};

const char *check_level_name(check_level l)
{
    return l < LEVEL__COUNT ? level_names[l] : "?";
}

const char *check_result_name(check_result res)
{
    switch (res) {
    case RESULT_PASS: return "pass";
    case RESULT_FAIL: return "fail";
    default: return "skip";
    }
}

void report_init(report *r, const char *mode, const char *target)
{
    memset(r, 0, sizeof *r);
    r->mode = xstrdup(mode);
    r->target = xstrdup(target);
}

void report_add_defs(report *r, const check_def *defs, size_t n)
{
    r->v = xrealloc(r->v, (r->n + n) * sizeof *r->v);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < r->n; j++)
            if (!strcmp(r->v[j].def->id, defs[i].id)) {
                fprintf(stderr, "aro-conform: check id %s defined twice\n", defs[i].id);
                abort();
            }
        r->v[r->n++] = (check_entry){.def = &defs[i], .result = RESULT_NOT_RUN};
    }
}

void report_free(report *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].detail);
    free(r->v);
    for (size_t i = 0; i < r->nnotes; i++)
        free(r->notes[i]);
    free(r->notes);
    free(r->mode);
    free(r->target);
    memset(r, 0, sizeof *r);
}

void report_note(report *r, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->notes = xrealloc(r->notes, (r->nnotes + 1) * sizeof *r->notes);
    r->notes[r->nnotes++] = xstrdup(buf);
}

static check_entry *entry(report *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->v[i].def->id, id))
            return &r->v[i];
    fprintf(stderr, "aro-conform: verdict for unknown check %s\n", id);
    abort();
}

const check_entry *report_find(const report *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->v[i].def->id, id))
            return &r->v[i];
    return NULL;
}

/* The combination rule of report.h: fail sticks, pass beats skip. */
static void verdict(report *r, const char *id, check_result res, const char *fmt, va_list ap)
{
    check_entry *e = entry(r, id);
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    e->observations++;
    bool replace = res == RESULT_FAIL ? e->result != RESULT_FAIL
                 : res == RESULT_PASS ? e->result == RESULT_NOT_RUN || e->result == RESULT_SKIP
                 : e->result == RESULT_NOT_RUN;
    if (!replace)
        return;
    e->result = res;
    free(e->detail);
    e->detail = xstrdup(buf);
}

#define VERDICT(res)                     \
    do {                                 \
        va_list ap;                      \
        va_start(ap, fmt);               \
        verdict(r, id, res, fmt, ap);    \
        va_end(ap);                      \
    } while (0)

void check_pass(report *r, const char *id, const char *fmt, ...)
{
    VERDICT(RESULT_PASS);
}

void check_fail(report *r, const char *id, const char *fmt, ...)
{
    VERDICT(RESULT_FAIL);
}

void check_skip(report *r, const char *id, const char *fmt, ...)
{
    VERDICT(RESULT_SKIP);
}

bool check_that(report *r, const char *id, bool ok, const char *fmt, ...)
{
    VERDICT(ok ? RESULT_PASS : RESULT_FAIL);
    return ok;
}

void check_skip_rest(report *r, const char *prefix, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t n = strlen(prefix);
    for (size_t i = 0; i < r->n; i++)
        if (!strncmp(r->v[i].def->id, prefix, n) && r->v[i].result == RESULT_NOT_RUN) {
            r->v[i].result = RESULT_SKIP;
            free(r->v[i].detail);
            r->v[i].detail = xstrdup(buf);
        }
}

report_counts report_count(const report *r)
{
    report_counts c = {0};
    for (size_t i = 0; i < r->n; i++) {
        switch (r->v[i].result) {
        case RESULT_PASS: c.pass++; break;
        case RESULT_FAIL:
            c.fail++;
            c.fail_by_level[r->v[i].def->level]++;
            break;
        default: c.skip++; break;
        }
    }
    return c;
}

int report_exit_status(const report *r)
{
    return report_count(r).fail_by_level[LEVEL_MUST] ? 1 : 0;
}

static const char *detail_of(const check_entry *e)
{
    return e->detail ? e->detail : "not run";
}

static void summary_line(const report *r, char *buf, size_t len)
{
    report_counts c = report_count(r);
    snprintf(buf, len, "%zu checks: %zu pass, %zu fail (MUST %zu, SHOULD %zu, MAY %zu, PRACTICE %zu), %zu skip",
             r->n, c.pass, c.fail, c.fail_by_level[LEVEL_MUST], c.fail_by_level[LEVEL_SHOULD],
             c.fail_by_level[LEVEL_MAY], c.fail_by_level[LEVEL_PRACTICE], c.skip);
}

void report_print_text(const report *r, FILE *out, bool color)
{
    fprintf(out, "aro-conform %s %s\n", r->mode, r->target);
    for (size_t i = 0; i < r->nnotes; i++)
        fprintf(out, "  note: %s\n", r->notes[i]);
    for (size_t i = 0; i < r->n; i++) {
        const check_entry *e = &r->v[i];
        const char *res = e->result == RESULT_PASS ? "PASS" : e->result == RESULT_FAIL ? "FAIL" : "skip";
        const char *on = "", *off = "";
        if (color) {
            on = e->result == RESULT_PASS ? "\033[32m" : e->result == RESULT_FAIL ? "\033[31m" : "\033[90m";
            off = "\033[0m";
        }
        fprintf(out, "%s%-4s%s %-8s %-38s %-28s %s\n", on, res, off, check_level_name(e->def->level),
                e->def->section, e->def->id, detail_of(e));
    }
    char line[256];
    summary_line(r, line, sizeof line);
    fprintf(out, "summary: %s\n", line);
}

char *report_json(const report *r)
{
    report_counts c = report_count(r);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "mode", r->mode);
    jg_kv_str(g, "target", r->target);
    jg_key(g, "checks");
    jg_arr_open(g);
    for (size_t i = 0; i < r->n; i++) {
        const check_entry *e = &r->v[i];
        jg_obj_open(g);
        jg_kv_str(g, "id", e->def->id);
        jg_kv_str(g, "section", e->def->section);
        jg_kv_str(g, "level", check_level_name(e->def->level));
        jg_kv_str(g, "result", check_result_name(e->result));
        jg_kv_str(g, "detail", detail_of(e));
        jg_kv_str(g, "title", e->def->title);
        jg_obj_close(g);
    }
    jg_arr_close(g);
    jg_key(g, "summary");
    jg_obj_open(g);
    jg_kv_int(g, "checks", (long long)r->n);
    jg_kv_int(g, "pass", (long long)c.pass);
    jg_kv_int(g, "fail", (long long)c.fail);
    jg_kv_int(g, "skip", (long long)c.skip);
    jg_key(g, "fail_by_level");
    jg_obj_open(g);
    for (int l = 0; l < LEVEL__COUNT; l++)
        jg_kv_int(g, level_names[l], (long long)c.fail_by_level[l]);
    jg_obj_close(g);
    jg_obj_close(g);
    jg_key(g, "notes");
    jg_arr_open(g);
    for (size_t i = 0; i < r->nnotes; i++)
        jg_str(g, r->notes[i]);
    jg_arr_close(g);
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

static void html_escape(aro_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '&': buf_puts(b, "&amp;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        default: buf_append(b, s, 1);
        }
    }
}

/* The area of a check is its id up to the first dot ("jws", "account"). */
static size_t area_len(const char *id)
{
    const char *dot = strchr(id, '.');
    return dot ? (size_t)(dot - id) : strlen(id);
}

int report_write_html(const report *r, const char *path, aro_err *err)
{
    aro_buf b = {0};
    char line[256], when[32];
    summary_line(r, line, sizeof line);
    time_format_rfc3339(time(NULL), when);
    buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>aro-conform: ");
    html_escape(&b, r->target);
    buf_puts(&b, "</title>\n<style>\n"
                 "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
                 "table{border-collapse:collapse;width:100%}\n"
                 "th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}\n"
                 "th{background:#f4f4f4}td.id{font-family:monospace;white-space:nowrap}\n"
                 "td.detail{font-size:.9em;word-break:break-word}\n"
                 ".pass{color:#0a6b0a;font-weight:bold}.fail{color:#b00020;font-weight:bold}"
                 ".skip{color:#888}\n"
                 "tr.area th{background:#e8eef8}\n"
                 "</style></head><body>\n<h1>aro-conform ");
    html_escape(&b, r->mode);
    buf_puts(&b, " report</h1>\n<p><b>Target:</b> <code>");
    html_escape(&b, r->target);
    buf_puts(&b, "</code><br><b>Run:</b> ");
    buf_puts(&b, when);
    buf_puts(&b, "<br><b>Summary:</b> ");
    html_escape(&b, line);
    buf_puts(&b, "</p>\n");
    if (r->nnotes) {
        buf_puts(&b, "<ul>\n");
        for (size_t i = 0; i < r->nnotes; i++) {
            buf_puts(&b, "<li>");
            html_escape(&b, r->notes[i]);
            buf_puts(&b, "</li>\n");
        }
        buf_puts(&b, "</ul>\n");
    }
    buf_puts(&b, "<p>Levels: MUST, SHOULD and MAY are the keywords of the text cited; PRACTICE is common "
                 "practice no keyword requires. The exit status is 1 when a MUST check fails.</p>\n"
                 "<table>\n<tr><th>Result</th><th>Level</th><th>Section</th><th>Check</th><th>What was "
                 "checked</th><th>What was seen</th></tr>\n");
    const char *area = NULL;
    size_t alen = 0;
    for (size_t i = 0; i < r->n; i++) {
        const check_entry *e = &r->v[i];
        size_t l = area_len(e->def->id);
        if (!area || l != alen || strncmp(area, e->def->id, l)) {
            area = e->def->id;
            alen = l;
            buf_puts(&b, "<tr class=\"area\"><th colspan=\"6\">");
            buf_append(&b, area, alen);
            buf_puts(&b, "</th></tr>\n");
        }
        const char *res = check_result_name(e->result);
        buf_printf(&b, "<tr><td class=\"%s\">%s</td><td>%s</td><td>", res, res,
                   check_level_name(e->def->level));
        html_escape(&b, e->def->section);
        buf_puts(&b, "</td><td class=\"id\">");
        html_escape(&b, e->def->id);
        buf_puts(&b, "</td><td>");
        html_escape(&b, e->def->title);
        buf_puts(&b, "</td><td class=\"detail\">");
        html_escape(&b, detail_of(e));
        buf_puts(&b, "</td></tr>\n");
    }
    buf_puts(&b, "</table>\n<p>Written by aro-conform (docs/conformance.md).</p>\n</body></html>\n");
    int rc = file_write_atomic(path, b.data, b.len, 0644, err);
    buf_free(&b);
    return rc;
}
