/* Server mode (`aro-conform server DIRECTORY_URL`): the areas of checks,
 * one file each, run in this order on one fixture (the accounts and the
 * certificate that later areas reuse):
 *
 *   server_checks_directory.c  RFC 8555 7.1.1, 7.2, 6.3, 6.5.1: directory, meta, newNonce
 *   server_checks_accounts.c   RFC 8555 7.3: accounts, contacts, key rollover, deactivation
 *   server_checks_jws.c        RFC 8555 6.2-6.5: algorithms, jwk/kid, url, Content-Type, nonces
 *   server_checks_orders.c     RFC 8555 7.1.3-7.1.6, 7.4.1, 7.5: orders, authorizations, challenges
 *   server_checks_finalize.c   RFC 8555 7.4, 7.4.2, 9.1; RFC 9773: finalize, certificates, ARI
 *   server_checks_revoke.c     RFC 8555 7.6: revocation three ways
 *   server_checks_retry.c      draft-aro-acme-retry-options-01 (when the directory offers it)
 *   server_checks_errors.c     RFC 8555 6.5, 6.7, 7.1; RFC 7807: judged over every answer of the run
 *
 * Each area's run function gives a verdict on each of its checks or
 * leaves them for server_mode to mark "skip" with the reason its setup
 * failed. The errors area observes every raw answer from the start. */
#ifndef ARO_CONFORM_SERVER_MODE_H
#define ARO_CONFORM_SERVER_MODE_H

#include <stdbool.h>

#include "report.h"
#include "target.h"

typedef struct errors_seen errors_seen;

typedef struct {
    target *t;
    report *rep;
    tacct *alice;       /* the main account (ES256) */
    tacct *bob;         /* a second account */
    char *ready_order;  /* alice's order left "ready" by the orders area */
    char *ready_name;   /* its one identifier */
    issued cert;        /* alice's certificate (finalize area), revoked last */
    bool have_cert;
    errors_seen *seen;  /* the errors area's counts (errors_observe) */
} fixture;

typedef struct {
    const char *name;
    const check_def *defs;
    size_t ndefs;
    void (*run)(fixture *f);
} check_area;

/* Options of `aro-conform server`. */
typedef struct {
    const char *directory_url;
    const char *ca_bundle;
    const char *cts;
    const char *domain;
    long max_wait;
} server_opts;

/* Run every area against the server; the report gets every check. 0, or
 * -1 (err set) when the run could not start: no directory. */
int server_mode(const server_opts *o, report *rep, aro_err *err);
/* Every server-mode check, in report order (server_mode adds them too). */
void report_add_server_catalogue(report *rep);

/* Judge a refusal: want_status 0 accepts any 4xx; types is a space-
 * separated list of acceptable short problem types, NULL for any. The
 * detail says what was sent (what) and what came back. Returns the
 * verdict. A 2xx answer always fails. */
bool judge_refusal(report *rep, const char *id, const wire_resp *r, int want_status, const char *types,
                   const char *what);

/* The server's request/answer in one short line for details. */
#define DESCRIBE(r) wire_describe((r), (char[320]){0}, 320)

#endif
