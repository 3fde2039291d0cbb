/* The validity period of a certificate (RFC 8555 7.4 lets the client ask
 * for one with notBefore and notAfter; "the server MUST return an error
 * if it cannot fulfill a request for a certificate with the specified
 * fields"). This CA fulfils a request within these bounds and refuses any
 * other, at newOrder and again at finalize (time passes in between):
 *   notBefore   within an hour of the request, either way (CA/B Forum BR
 *               7.1.2.7: within 48 hours of signing; issuance follows
 *               finalize at once);
 *   notAfter    after notBefore (or after now when none is asked), at
 *               most the profile's validity (or the CA's) after it, and
 *               not after the issuing chain's notAfter;
 * A certificate that asks for neither starts a minute before it is
 * signed and lasts the profile's or the CA's validity, cut short at the
 * chain's notAfter: no certificate outlives its issuer.
 * docs/configuration.md and docs/ca-policy.md say why this departs from
 * Boulder (which refuses both fields) and Pebble (which takes any). */
#ifndef ARO_RULES_VALIDITY_H
#define ARO_RULES_VALIDITY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ca/ca.h"
#include "problem.h"
#include "settings/config.h"

#define VALIDITY_SKEW 3600      /* how far notBefore may lie from now, either way */
#define VALIDITY_BACKDATE 60    /* notBefore of a certificate that asks for none */

/* What one order's certificate may be: its profile's validity or the
 * CA's, and the chain it would be issued under. */
typedef struct {
    long max_seconds;
    time_t chain_not_after;
} validity_limits;

validity_limits validity_limits_for(const server_config *cfg, const ca *c, const char *profile);

/* NULL when a certificate from not_before to not_after (RFC 3339 strings
 * as requested, NULL when absent) can be issued now; else a malformed
 * problem (400) saying what this CA can issue instead. */
acme_problem *validity_check(const validity_limits *l, const char *not_before, const char *not_after,
                             time_t now);

/* The validity to sign with at now: the requested bounds (checked by
 * validity_check), else from now - VALIDITY_BACKDATE for max_seconds but
 * not past the chain. 0, or -1 with why when the request cannot be
 * fulfilled any more. */
int validity_of_certificate(const validity_limits *l, const char *not_before, const char *not_after,
                            time_t now, time_t *nb, time_t *na, char *why, size_t whylen);

#endif
