/* What a command tells its caller (contracts.md, "aro"): a command collects
 * its result in a report while it works and prints it once, at the end:
 * with --json one JSON object on stdout, otherwise one line per result
 * (renew and list: one per certificate). A result is said once, there:
 * recording an error prints nothing (progress and notes go to stderr
 * through msg.h as they happen). Nothing here talks to the CA or reads
 * the state directory.
 *
 * Ownership: a report owns every string in it (the add functions copy);
 * report_clear frees them all and leaves a zeroed report. result is a
 * static string ("issued", "failed", ...). */
#ifndef ARO_CLIENT_REPORT_H
#define ARO_CLIENT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "json.h"
#include "problem.h"

/* One challenge attempt, as the "attempts" array shows it. */
typedef struct {
    char *identifier;       /* as asked: "*.example.com" for a wildcard */
    char *type;             /* challenge type */
    char *challenge;        /* challenge URL */
    char *order;            /* URL of the order it belonged to (NULL: a pre-authorization
                             * no order used) */
    char *outcome;          /* "valid", "invalid", or "skipped" (the solver declined) */
    char *problem;          /* the CA's full problem type, or NULL */
    char *via;              /* "first", "retry-options" or "new-order" */
} report_attempt;

/* One certificate of "aro list". */
typedef struct {
    char *name;             /* its name in the state directory */
    char **names;           /* the names it covers */
    size_t nnames;
    time_t not_after;
    char *server;           /* the CA's directory URL */
    char *certificate;      /* fullchain.pem */
} report_cert;

typedef struct report report;
struct report {
    const char *result;
    char *name;             /* renew: the certificate's name in the state directory */
    time_t due;             /* renew, not-due: when it will be (0 unknown) */
    char **names;
    size_t nnames;
    char **orders;          /* every order the run used, in order */
    size_t norders;
    report_attempt *attempts;
    size_t nattempts;
    report_cert *certs;     /* list only */
    size_t ncerts;
    char *certificate;      /* fullchain.pem, once stored */
    char *err_type, *err_detail;
    char **cleanup;         /* what an interrupted run undid ("removed FILE", ...) */
    size_t ncleanup;
    report *runs;           /* renew: one per certificate considered */
    size_t nruns;
};

void report_add_attempt(report *r, const char *ident, const char *type, const char *challenge,
                        const char *order, const char *outcome, const char *problem,
                        const char *via);
/* Attempts recorded without an order (pre-authorizations, preauth.h) get
 * order: the one that used their authorizations. Those still without one
 * when the result is printed show "order": null (no order was placed). */
void report_attempts_set_order(report *r, const char *order);
void report_add_cert(report *r, const char *name, char *const *names, size_t nnames,
                     time_t not_after, const char *server, const char *certificate);

/* Record an error. The first one wins: it is the cause, later ones are
 * its consequences. type NULL is a local error ("aro:client"). */
void report_error(report *r, const char *type, const char *detail);
/* Record msg with the CA's problem type when the CA said why (problem
 * non-NULL), as a local error otherwise. */
void report_fail(report *r, const acme_problem *problem, const char *msg);
/* Drop the recorded error: a later attempt (a new order of the legacy
 * fallback, a plain order after alreadyReplaced) decides the result. The
 * dropped error is said as a note on stderr, with why (e.g. "trying a new
 * order"), since it was recovered from. */
void report_forget_error(report *r, const char *why);
/* renew: one certificate's run, moved into r->runs (*one is left zeroed). */
void report_add_run(report *r, report *one);
void report_add_cleanup(report *r, const char *what);
void report_clear(report *r);

/* issue: the JSON object of contracts.md (plus "cleanup" when an
 * interrupted run undid something), or "RESULT NAME: PATH" ("failed NAME:
 * DETAIL" after an error). */
void report_print_issue(const report *r, bool json, FILE *out);
/* renew: {"result", "certificates": [one issue object plus "name" per
 * run], "error"}, or one line per run ("renewed NAME: PATH", "not-due
 * NAME: due at TIME", "failed NAME: DETAIL"). failures_only (--quiet
 * without --json) prints only the failed runs' lines. */
void report_print_renew(const report *r, bool json, bool failures_only, FILE *out);
/* The other commands: {"result": r->result (or "failed" after an error),
 * key: value, "account": account (when non-NULL: account show's object,
 * shown with key "url"), "error": ...}, or "RESULT VALUE" ("failed:
 * DETAIL" after an error). key NULL: no such member. */
void report_print_simple(const report *r, bool json, const char *key, const char *value,
                         yajl_val account, FILE *out);
/* list: {"result": "listed", "certificates": [{name, names, notAfter,
 * server, certificate}], "error": ...}, or NAME TAB NOTAFTER TAB PATH
 * lines. */
void report_print_list(const report *r, bool json, FILE *out);

#endif
