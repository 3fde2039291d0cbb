/* Waiting between polls and retries. RFC 8555 leaves the polling interval
 * to the server (Retry-After, 7.4, 7.5.1, 8.2); when it says nothing, aro
 * backs off exponentially with jitter so that many clients started by the
 * same cron minute do not poll in lockstep. Every wait is bounded. */
#ifndef ARO_CLIENT_BACKOFF_H
#define ARO_CLIENT_BACKOFF_H

#include <stdint.h>
#include <time.h>

typedef struct {
    double base;    /* first delay, seconds */
    double cap;     /* no single delay exceeds this */
    double jitter;  /* fraction in [0,1]: a delay d becomes d*(1-jitter*u), u in [0,1) */
} backoff_policy;

/* The delay before retry number 'attempt' (0-based): min(cap, base*2^attempt),
 * reduced by up to jitter*100 %. rnd is a uniformly random 32-bit value (a
 * parameter so that tests are deterministic). */
double backoff_delay(const backoff_policy *p, unsigned attempt, uint32_t rnd);
/* Same, with a random rnd. */
double backoff_next(const backoff_policy *p, unsigned attempt);

/* A Retry-After value (RFC 9110 10.2.3): delta-seconds or an HTTP-date.
 * Returns seconds from now (>= 0), or -1 when unparseable. */
long retry_after_parse(const char *value, time_t now);

/* Sleep for seconds (fractional), restarting after other signals. 0 slept;
 * -1 stopped early by SIGINT/SIGTERM (interrupt.h). */
int sleep_seconds(double seconds);

#endif
