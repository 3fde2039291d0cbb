/* An order's authorizations (RFC 8555 7.5), all carried to "valid" at
 * once or given up, and pre-authorizations (7.4.1, preauth.h), each on its
 * own:
 *  - every pending authorization gets a first attempt (attempt.h): all of
 *    them are provisioned and answered first, then polled together until
 *    each attempt is over, with a progress line per name;
 *  - while the CA offers retry-options (draft-aro-acme-retry-options) and
 *    --retry-options is not off, a failed one gets another attempt on the
 *    same authorization (same order): held (pending-hold: the
 *    authorization stayed "pending" with the offer; aro answers a
 *    challenge the offer lists) or re-enabled (it is "invalid" with the
 *    offer; aro POSTs the challenge's URL to the offer's url), after the
 *    offer's notBefore; the attempts of one round are answered and polled
 *    together too;
 *  - every failure is remembered per identifier for the whole run, so that
 *    the legacy fallback's next order (cmd_issue.c, choose_next_order)
 *    skips the types that failed.
 * When aro is interrupted (interrupt.h), the attempts in flight are torn
 * down ("failed" hooks, webroot files) and the pending authorizations
 * deactivated as --deactivate says. */
#ifndef ARO_CLIENT_AUTHORIZE_H
#define ARO_CLIENT_AUTHORIZE_H

#include "acme_objects.h"
#include "attempt.h"

/* Get every authorization of ord valid. via names the first attempts in
 * the report: "first" in the first order, "new-order" in the legacy
 * fallback's (held and re-enabled attempts are "retry-options"). 0 all valid; -1 with the
 * error in the report (the first name's failure; the others are said on
 * stderr), X->last_problem set when the CA said why, and the order's
 * authorizations deactivated as --deactivate says (7.5.2), since aro gives
 * the order up. */
int authorize_order(authz_run *X, const acme_order *ord, const char *via);

/* What became of one pre-authorization. */
typedef struct {
    bool valid;
    acme_problem *prob;     /* its last failure, or NULL (owned: problem_free) */
    aro_err err;            /* why it is not valid */
} authz_result;

/* Get each of the authorizations urls[0..n) valid, independently: one
 * that fails does not stop the others. Attempts are reported without an
 * order (X->order_url NULL; preauth.c gives them one once it exists). 0
 * all valid; -1 otherwise, res[i] saying which and why; nothing goes into
 * the report and nothing is deactivated, except after an interrupt (then
 * as authorize_order does). */
int authorize_each(authz_run *X, char *const *urls, size_t n, const char *via, authz_result *res);

/* 7.5.2, as --deactivate says: the pending authorizations of urls, the
 * invalid ones that carry an offer (which withdraws it; not under
 * --retry-options off), and with "all" the valid ones too. Said on stderr, and in the report's cleanup list when
 * aro was interrupted. */
void authorize_deactivate(authz_run *X, char *const *urls, size_t n);

#endif
