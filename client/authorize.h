/* An order's authorizations (RFC 8555 7.5), each carried to "valid" or
 * given up:
 *  - a pending authorization gets a first attempt: the best offered
 *    challenge (choose.h) that a solver accepts, answered (7.5.1) and
 *    polled until the authorization is final;
 *  - an invalid one is re-enabled while the CA offers retry-options
 *    (draft-aro-acme-retry-options): same authorization, same order, a
 *    challenge that the member lists, after its notBefore;
 *  - every failure is remembered per identifier for the whole run, so that
 *    the legacy fallback's next order (cmd_issue.c, choose_next_order)
 *    skips the types that failed.
 * First attempts, re-enables and the legacy fallback's attempts all run
 * through one function (attempt_challenge in authorize.c), which records
 * each in the report's "attempts" and tears its solver down exactly once.
 * authorize_order is where provisioning several names at once would go. */
#ifndef ARO_CLIENT_AUTHORIZE_H
#define ARO_CLIENT_AUTHORIZE_H

#include <stddef.h>

#include "acme_objects.h"
#include "choose.h"
#include "report.h"
#include "session.h"

/* One issuance's authorizing, across its orders. */
typedef struct {
    session *S;             /* with its solvers started */
    report *rep;            /* attempts and the error go here */
    const char *order_url;  /* the order being worked on (set by authorize_order) */
    ident_history *ids;     /* one per name of rep */
    size_t nids;
    char **usable;          /* --challenges types that have a solver, in preference order */
    size_t nusable;
    char *last_problem;     /* short problem type of the last failure, or NULL */
} authz_run;

/* For rep->names, which must outlive the run. */
void authz_run_init(authz_run *X, session *S, report *rep);
void authz_run_clear(authz_run *X);

/* Get every authorization of ord valid, in order, stopping at the first
 * that is not. via names the first attempts in the report: "first" in the
 * first order, "new-order" in the legacy fallback's (re-enables are
 * "retry-options"). 0 all valid; -1 with the error in the report,
 * X->last_problem set when the CA said why, and the order's
 * authorizations deactivated as --deactivate says (7.5.2), since aro
 * gives the order up. */
int authorize_order(authz_run *X, const acme_order *ord, const char *via);

#endif
