/* Rules judged over every raw answer of the run (errors_observe sees them
 * all, from the first request): problem documents (RFC 8555 6.7, RFC 7807
 * 3.1), Replay-Nonce on POST answers and its syntax and freshness (6.5,
 * 6.5.1), Link rel="index" (7.1), and no "retry-options" member from a
 * server that does not advertise the extension (retry-options draft 5.1).
 * A failure is given as soon as it is seen, with the request that showed
 * it; the passes at the end, with the counts. Plus two requests of its
 * own: a body that is not JSON, and an unknown kid. */
#ifndef ARO_CONFORM_SERVER_CHECKS_ERRORS_H
#define ARO_CONFORM_SERVER_CHECKS_ERRORS_H

#include "server_mode.h"

extern const check_area area_errors;

/* The observer of every raw answer (wire_set_observer, ud = fixture). */
void errors_observe(void *fixture_ptr, const char *method, const char *url, const wire_resp *r);
void errors_seen_free(errors_seen *s);

#endif
