#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "strv.h"
#include "util.h"

void report_add_attempt(report *r, const char *ident, const char *type, const char *challenge,
                        const char *order, const char *outcome, const char *problem,
                        const char *via)
{
    r->attempts = xrealloc(r->attempts, (r->nattempts + 1) * sizeof *r->attempts);
    r->attempts[r->nattempts++] = (report_attempt){
        .identifier = xstrdup(ident), .type = xstrdup(type), .challenge = xstrdup(challenge),
        .order = xstrdup(order), .outcome = xstrdup(outcome), .problem = xstrdup(problem),
        .via = xstrdup(via),
    };
}

void report_attempts_set_order(report *r, const char *order)
{
    for (size_t i = 0; i < r->nattempts; i++)
        if (!r->attempts[i].order)
            r->attempts[i].order = xstrdup(order);
}

void report_add_cert(report *r, const char *name, char *const *names, size_t nnames,
                     time_t not_after, const char *server, const char *certificate)
{
    r->certs = xrealloc(r->certs, (r->ncerts + 1) * sizeof *r->certs);
    report_cert *c = &r->certs[r->ncerts++];
    *c = (report_cert){.name = xstrdup(name), .not_after = not_after, .server = xstrdup(server),
                       .certificate = xstrdup(certificate)};
    for (size_t i = 0; i < nnames; i++)
        strv_push(&c->names, &c->nnames, names[i]);
}

void report_error(report *r, const char *type, const char *detail)
{
    if (r->err_type)
        return;
    r->err_type = xstrdup(type ? type : "aro:client");
    r->err_detail = xstrdup(detail);
}

void report_fail(report *r, const acme_problem *problem, const char *msg)
{
    report_error(r, problem ? problem->type : NULL, msg);
}

void report_forget_error(report *r, const char *why)
{
    if (r->err_detail && why)
        msg_note("%s; %s", r->err_detail, why);
    free(r->err_type);
    free(r->err_detail);
    r->err_type = r->err_detail = NULL;
}

void report_add_run(report *r, report *one)
{
    r->runs = xrealloc(r->runs, (r->nruns + 1) * sizeof *r->runs);
    r->runs[r->nruns++] = *one;
    memset(one, 0, sizeof *one);
}

void report_add_cleanup(report *r, const char *what)
{
    strv_push(&r->cleanup, &r->ncleanup, what);
}

void report_clear(report *r)
{
    for (size_t i = 0; i < r->nruns; i++)
        report_clear(&r->runs[i]);
    free(r->runs);
    free(r->name);
    strv_free(r->cleanup, r->ncleanup);
    strv_free(r->names, r->nnames);
    strv_free(r->orders, r->norders);
    for (size_t i = 0; i < r->nattempts; i++) {
        report_attempt *a = &r->attempts[i];
        free(a->identifier);
        free(a->type);
        free(a->challenge);
        free(a->order);
        free(a->outcome);
        free(a->problem);
        free(a->via);
    }
    free(r->attempts);
    for (size_t i = 0; i < r->ncerts; i++) {
        report_cert *c = &r->certs[i];
        free(c->name);
        strv_free(c->names, c->nnames);
        free(c->server);
        free(c->certificate);
    }
    free(r->certs);
    free(r->certificate);
    free(r->err_type);
    free(r->err_detail);
    memset(r, 0, sizeof *r);
}

/* ---- JSON ---------------------------------------------------------------- */

static void write_strings(json_gen *g, const char *key, char *const *v, size_t n)
{
    jg_key(g, key);
    jg_arr_open(g);
    for (size_t i = 0; i < n; i++)
        jg_str(g, v[i]);
    jg_arr_close(g);
}

/* "error": {"type", "detail"} or null: every result object ends so. */
static void write_error(json_gen *g, const report *r)
{
    jg_key(g, "error");
    if (r->err_type) {
        jg_obj_open(g);
        jg_kv_str(g, "type", r->err_type);
        jg_key(g, "detail");
        jg_str(g, r->err_detail);
        jg_obj_close(g);
    } else {
        jg_null(g);
    }
}

/* Close the object and print it on one line. */
static void finish_and_print(json_gen *g, FILE *out)
{
    jg_obj_close(g);
    size_t len;
    char *s = jg_finish(g, &len);
    if (s) {
        fwrite(s, 1, len, out);
        fputc('\n', out);
    } else {
        /* Still exactly one object on stdout (contracts.md). */
        fputs("{\"result\":\"failed\",\"error\":{\"type\":\"aro:client\",\"detail\":\"cannot render the result\"}}\n",
              out);
    }
    free(s);
}

/* The members of an issue result, in the contract's order, into an open
 * object; "error" last. */
static void write_issue_members(json_gen *g, const report *r)
{
    jg_kv_str(g, "result", r->result);
    write_strings(g, "names", r->names, r->nnames);
    write_strings(g, "orders", r->orders, r->norders);
    jg_key(g, "attempts");
    jg_arr_open(g);
    for (size_t i = 0; i < r->nattempts; i++) {
        const report_attempt *a = &r->attempts[i];
        jg_obj_open(g);
        jg_kv_str(g, "identifier", a->identifier);
        jg_kv_str(g, "type", a->type);
        jg_key(g, "challenge");
        jg_str(g, a->challenge);
        jg_key(g, "order");
        jg_str(g, a->order);
        jg_kv_str(g, "outcome", a->outcome);
        jg_key(g, "problem");
        jg_str(g, a->problem);
        jg_kv_str(g, "via", a->via);
        jg_obj_close(g);
    }
    jg_arr_close(g);
    jg_key(g, "certificate");
    jg_str(g, r->certificate);
    if (r->ncleanup)
        write_strings(g, "cleanup", r->cleanup, r->ncleanup);
    write_error(g, r);
}

/* One result line: "RESULT NAME: PATH", "not-due NAME: due at TIME",
 * "failed NAME: DETAIL". */
static void print_line(const report *r, const char *name, FILE *out)
{
    if (r->err_type) {
        fprintf(out, "failed%s%s: %s\n", name ? " " : "", name ? name : "",
                r->err_detail ? r->err_detail : r->err_type);
    } else if (r->due) {
        char when[32];
        time_format_rfc3339(r->due, when);
        fprintf(out, "%s %s: due at %s\n", r->result, name ? name : "", when);
    } else {
        fprintf(out, "%s %s%s%s\n", r->result, name ? name : "", r->certificate ? ": " : "",
                r->certificate ? r->certificate : "");
    }
}

void report_print_issue(const report *r, bool json, FILE *out)
{
    if (!json) {
        /* A failure's detail names what failed. */
        print_line(r, r->nnames && !r->err_type ? r->names[0] : NULL, out);
        return;
    }
    json_gen *g = jg_new();
    jg_obj_open(g);
    write_issue_members(g, r);
    finish_and_print(g, out);
}

void report_print_renew(const report *r, bool json, bool failures_only, FILE *out)
{
    if (!json) {
        for (size_t i = 0; i < r->nruns; i++)
            if (!failures_only || r->runs[i].err_type)
                print_line(&r->runs[i], r->runs[i].name, out);
        /* An error of the run as a whole (the state directory, say). */
        if (r->err_type)
            print_line(r, NULL, out);
        return;
    }
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "result", r->result);
    jg_key(g, "certificates");
    jg_arr_open(g);
    for (size_t i = 0; i < r->nruns; i++) {
        jg_obj_open(g);
        jg_kv_str(g, "name", r->runs[i].name);
        write_issue_members(g, &r->runs[i]);
        jg_obj_close(g);
    }
    jg_arr_close(g);
    if (r->ncleanup)
        write_strings(g, "cleanup", r->cleanup, r->ncleanup);
    write_error(g, r);
    finish_and_print(g, out);
}

void report_print_simple(const report *r, bool json, const char *key, const char *value,
                         yajl_val account, FILE *out)
{
    if (!json) {
        if (r->err_type)
            fprintf(out, "failed: %s\n", r->err_detail ? r->err_detail : r->err_type);
        else
            fprintf(out, "%s%s%s\n", r->result, value ? " " : "", value ? value : "");
        return;
    }
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "result", r->err_type ? "failed" : r->result);
    if (key) {
        jg_key(g, key);
        jg_str(g, value);
    }
    if (account) {
        jg_key(g, "account");
        jg_value(g, account);
    }
    write_error(g, r);
    finish_and_print(g, out);
}

void report_print_list(const report *r, bool json, FILE *out)
{
    json_gen *g = json ? jg_new() : NULL;
    if (g) {
        jg_obj_open(g);
        jg_kv_str(g, "result", r->err_type ? "failed" : "listed");
        jg_key(g, "certificates");
        jg_arr_open(g);
    }
    for (size_t i = 0; i < r->ncerts; i++) {
        const report_cert *c = &r->certs[i];
        char na[32];
        time_format_rfc3339(c->not_after, na);
        if (!g) {
            fprintf(out, "%s\t%s\t%s\n", c->name, na, c->certificate ? c->certificate : "");
            continue;
        }
        jg_obj_open(g);
        jg_kv_str(g, "name", c->name);
        write_strings(g, "names", c->names, c->nnames);
        jg_kv_str(g, "notAfter", na);
        jg_kv_str(g, "server", c->server);
        jg_kv_str(g, "certificate", c->certificate);
        jg_obj_close(g);
    }
    if (g) {
        jg_arr_close(g);
        write_error(g, r);
        finish_and_print(g, out);
    }
}
