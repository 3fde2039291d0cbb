#include "server_mode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_checks_accounts.h"
#include "server_checks_directory.h"
#include "server_checks_errors.h"
#include "server_checks_finalize.h"
#include "server_checks_jws.h"
#include "server_checks_orders.h"
#include "server_checks_retry.h"
#include "server_checks_revoke.h"

static const check_area *const areas[] = {&area_directory, &area_accounts, &area_jws, &area_orders,
                                          &area_finalize, &area_revoke, &area_retry, &area_errors};

static bool type_in(const char *type, const char *list)
{
    size_t n = strlen(type);
    for (const char *p = list; (p = strstr(p, type)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return true;
    return false;
}

bool judge_refusal(report *rep, const char *id, const wire_resp *r, int want_status, const char *types,
                   const char *what)
{
    char seen[320];
    wire_describe(r, seen, sizeof seen);
    const char *type = wire_problem(r);
    bool status_ok = want_status ? r->status == want_status : r->status >= 400 && r->status < 500;
    bool type_ok = !types || (type && type_in(type, types));
    bool ok = status_ok && type_ok;
    if (ok)
        check_pass(rep, id, "%s: %s", what, seen);
    else if (want_status)
        check_fail(rep, id, "%s: %s; expected HTTP %d%s%s", what, seen, want_status, types ? " " : "",
                   types ? types : "");
    else
        check_fail(rep, id, "%s: %s; expected a 4xx refusal%s%s", what, seen, types ? " of type " : "",
                   types ? types : "");
    return ok;
}

void report_add_server_catalogue(report *rep)
{
    for (size_t i = 0; i < sizeof areas / sizeof *areas; i++)
        report_add_defs(rep, areas[i]->defs, areas[i]->ndefs);
}

int server_mode(const server_opts *o, report *rep, aro_err *err)
{
    target t = {.directory_url = o->directory_url, .ca_bundle = o->ca_bundle, .cts = o->cts,
                .domain = o->domain ? o->domain : "example.com", .max_wait = o->max_wait, .rep = rep};
    fixture f = {.t = &t, .rep = rep};
    report_add_server_catalogue(rep);
    int open = target_open(&t, err);
    if (open < 0) {
        target_close(&t);
        return -1;
    }
    if (open > 0) {
        /* An answer that is no directory: a report that says so. */
        check_fail(rep, "directory.get", "%s", err->msg);
        for (size_t i = 0; i < rep->n; i++)
            if (rep->v[i].result == RESULT_NOT_RUN)
                check_skip(rep, rep->v[i].def->id, "no directory");
        target_close(&t);
        return 0;
    }
    wire_set_observer(t.w, errors_observe, &f);
    report_note(rep, "retry-options %s%s", t.ro_meta ? "advertised" : "not advertised",
                t.ro_meta ? (t.ro_hold ? " (with hold)" : " (without hold)") : "");
    if (!o->cts)
        report_note(rep, "no --challtestsrv: checks that need a passed challenge are skipped");
    for (size_t i = 0; i < sizeof areas / sizeof *areas; i++) {
        fprintf(stderr, "aro-conform: %s\n", areas[i]->name);
        areas[i]->run(&f);
        /* What an area could not reach is a skip with a reason. */
        for (size_t j = 0; j < areas[i]->ndefs; j++) {
            const check_entry *e = report_find(rep, areas[i]->defs[j].id);
            if (e->result == RESULT_NOT_RUN)
                check_skip(rep, e->def->id, "not reached (an earlier step of this area failed)");
        }
    }
    tacct_free(f.alice);
    tacct_free(f.bob);
    issued_clear(&f.cert);
    free(f.ready_order);
    free(f.ready_name);
    errors_seen_free(f.seen);
    target_close(&t);
    return 0;
}
