/* Judging an ACME client from the server's side: the exchanges one run of
 * COMMAND had with aro-server (through the recording proxy, proxy.h) and
 * the server's /metrics afterwards. This file holds the catalogue and the
 * rules every request must keep (RFC 8555 6.1-6.5, 7.4, 7.5.1: headers, the
 * JWS, POST-as-GET, polling no faster than Retry-After, CSRs, abandoned
 * authorizations deactivated); client_judge_flow.c the rules of what a
 * scenario provokes (badNonce, 429/5xx with Retry-After, processing,
 * retry-options offers, ARI, alternate chains).
 *
 * Object URLs are recognised by aro-server's scheme (server/core/urls.h):
 * /acme/order/ID[/finalize], /acme/authz/ID[/retry], /acme/chall/ID,
 * /acme/cert/SERIAL[/N]; the fixed resources by the directory the client
 * fetched. Details start with "[scenario]". */
#ifndef ARO_CONFORM_CLIENT_JUDGE_H
#define ARO_CONFORM_CLIENT_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "proxy.h"
#include "report.h"
#include "scenarios.h"

typedef struct {
    const scenario *sc;
    const exchange *log;
    size_t n;
    int exit_status;            /* of COMMAND; -1 when it was stopped at the timeout */
    double seconds;
    const char *origin;         /* "https://127.0.0.1:PORT" of the proxy */
    /* aro-server's /metrics after the run, -1 when unknown */
    long orders_created, reenables_accepted, server_retries, validations_invalid, faults_injected;
} scenario_run;

extern const check_def client_checks[];
extern const size_t nclient_checks;

/* Every verdict the run informs. */
void judge_run(report *rep, const scenario_run *run);

/* Shared with client_judge_flow.c. */
bool path_is(const char *path, const char *prefix);                 /* prefix match */
const char *fixed_path(const scenario_run *run, const char *resource); /* path of a directory URL, or "" */
bool is_post_as_get(const exchange *e);
const char *resp_status(const exchange *e);                         /* JSON "status" of the answer, or "" */
double retry_after_of(const exchange *e);                           /* seconds, -1 when absent */

#endif
