/* The retry-options paths that take waiting (draft-aro-acme-retry-options-01):
 * an authorization failed until no attempt is left (5.2 attemptsRemaining,
 * 6 backoff, 5.5 retryNotAllowed), and pending-hold (5.3, 5.4) when the
 * directory says "hold". Both run on the shared steps of
 * server_checks_retry.h and skip what would wait beyond --max-wait. */
#ifndef ARO_CONFORM_SERVER_CHECKS_RETRY_HOLD_H
#define ARO_CONFORM_SERVER_CHECKS_RETRY_HOLD_H

#include "server_checks_retry.h"

void ro_exhaust(ro_run *ro);
void ro_hold(ro_run *ro);

#endif
