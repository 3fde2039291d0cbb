/* An order's authorizations (RFC 8555 7.5), all carried to "valid" at
 * once or given up:
 *  - every pending authorization gets a first attempt (attempt.h): all of
 *    them are provisioned and answered first, then polled together until
 *    each is final, with a progress line per name;
 *  - an invalid one is re-enabled while the CA offers retry-options
 *    (draft-aro-acme-retry-options): same authorization, same order, a
 *    challenge that the member lists, after its notBefore; the re-enables
 *    of one round are answered and polled together too;
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
 * fallback's (re-enables are "retry-options"). 0 all valid; -1 with the
 * error in the report (the first name's failure; the others are said on
 * stderr), X->last_problem set when the CA said why, and the order's
 * authorizations deactivated as --deactivate says (7.5.2), since aro gives
 * the order up. */
int authorize_order(authz_run *X, const acme_order *ord, const char *via);

/* 7.5.2, as --deactivate says: the pending authorizations of urls (all of
 * them with "all"). Said on stderr, and in the report's cleanup list when
 * aro was interrupted. */
void authorize_deactivate(authz_run *X, char *const *urls, size_t n);

#endif
