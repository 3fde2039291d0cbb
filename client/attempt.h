/* One challenge attempt on one authorization (RFC 8555 7.5.1, and the
 * pending-hold and re-enable of draft-aro-acme-retry-options), the same
 * steps for a first attempt, a held offer taken, a re-enable, and the
 * legacy fallback's attempt in a new order (or a new pre-authorization):
 *
 *   attempt_start   provision the best challenge (choose_rank: learned
 *                   success, failures in this run, --challenges order),
 *                   then ask the CA to validate it: POST {} to the
 *                   challenge (on a held authorization, one its offer
 *                   lists), or {"challenge": URL} to the re-enable URL;
 *   attempt_over    whether the authorization shows the attempt ended;
 *   attempt_settle  once the authorization is final: learn the outcome
 *                   (state_stats), record the attempt in the report, and
 *                   tear the solver down;
 *   attempt_abandon when it will never be settled (aro gives up or was
 *                   interrupted): tear the solver down ("failed").
 *
 * In two halves so that an order's authorizations are provisioned and
 * answered at once (authorize.h) and polled together. Every started
 * attempt is torn down exactly once, by settle or abandon. */
#ifndef ARO_CLIENT_ATTEMPT_H
#define ARO_CLIENT_ATTEMPT_H

#include <stdbool.h>

#include "acme_objects.h"
#include "choose.h"
#include "report.h"
#include "session.h"

/* What one issuance's attempts share, across its orders. */
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

typedef struct {
    ident_history *id;
    acme_challenge ch;      /* the challenge answered */
    char *key_auth;
    const char *via;        /* "first", "new-order" or "retry-options" */
    bool reenable;          /* an invalid authorization re-enabled */
    bool held;              /* a held authorization's offer taken (pending-hold) */
    bool live;              /* provisioned: settle or abandon owed */
    long poll_after;        /* the answer's Retry-After: seconds before the first poll (7.5.1), -1 none */
} attempt;

/* Start an attempt on the authorization *a (ro NULL: one of a's
 * challenges, leaving out the types that failed for this identifier in
 * earlier orders; ro: one of the challenges retry-options offers, the same
 * type first after a transient failure, as *prob says; a held offer when
 * *a is pending, a re-enable when it is invalid). 0 started (the
 * CA was asked to validate; at->live); -1 not started, with err saying
 * why (nothing is left provisioned; a refused request is recorded as an
 * invalid attempt, *prob then the CA's problem). */
int attempt_start(authz_run *X, attempt *at, ident_history *id, const acme_authz *a,
                  const acme_retry_options *ro, const char *via, acme_problem **prob, aro_err *err);
/* The attempt at has ended, as *a shows: the authorization is no longer
 * pending, or the challenge at answered is invalid (pending-hold keeps a
 * failed authorization pending; so may a CA that departs from RFC 8555). */
bool attempt_over(const attempt *at, const acme_authz *a);
/* The attempt is over (attempt_over): record, learn, tear down.
 * *prob becomes this attempt's problem (NULL when valid). Returns whether
 * the authorization is valid. */
bool attempt_settle(authz_run *X, attempt *at, const acme_authz *a, acme_problem **prob);
/* Tear down an attempt that will not be settled; what was undone goes to
 * the report's cleanup list when aro was interrupted. */
void attempt_abandon(authz_run *X, attempt *at);

#endif
