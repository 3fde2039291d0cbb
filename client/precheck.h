/* The checks before any order (issue and renew): what can be found wrong
 * without asking the CA for an order is found first, so that a mistake
 * never leaves an order, pending authorizations or a failed validation
 * (which counts against the CA's rate limits) behind. The names
 * themselves are checked by identifiers_normalize (identifiers.h).
 *
 * Each returns 0 when the check passes; otherwise the exit status, with
 * the error in the report: ARO_EXIT_USAGE (type "usage") for what the
 * command line got wrong, ARO_EXIT_FAILED for what the machine does not
 * allow (a port in use, a webroot not writable, a missing hook). */
#ifndef ARO_CLIENT_PRECHECK_H
#define ARO_CLIENT_PRECHECK_H

#include <stddef.h>

#include "report.h"
#include "session.h"

/* Each name needs a challenge type that --challenges lists, a solver
 * takes, and the CA may use for it: a wildcard dns-01 only (RFC 8555
 * 7.1.3), an IP address http-01 or tls-alpn-01 (RFC 8738 7). Then the
 * solvers of those types must work here (solvers_prepare: the built-in
 * servers start, the webroot is writable, the hook is an executable).
 * The session's solvers must be started. */
int precheck_solvers(session *S, char *const *names, size_t n, report *rep);

/* --profile must be one the CA's directory lists (when it lists any). */
int precheck_profile(session *S, report *rep);

/* A certificate's names change only with --change-names: when the state
 * holds a certificate under names[0] whose names are not these, issuing
 * would replace it with a certificate for other names. When another
 * stored certificate has exactly these names in another order, *names is
 * put in its order (its directory is the one renewed). */
int precheck_cert_names(session *S, char **names, size_t n, report *rep);

#endif
