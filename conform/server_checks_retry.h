/* draft-aro-acme-retry-options-01, when the directory advertises meta
 * "retry-options" (without it: only that no object carries the member and
 * that a pending-hold request is an unknown member, 5.1). The offer after a
 * failure (5.2): its shape, its challenges, the order's member (5.4); every
 * refusal of the re-enable request (5.5), each followed by a re-read of
 * the authorization and the order that must find them unchanged; legacy
 * challenge responses to an invalid authorization changing nothing (5.6);
 * the re-enable taken, repeated, and refused once the authorization is no
 * longer invalid; attempts used up (server_checks_retry_hold.c); and
 * pending-hold (5.3) when meta says "hold". Waits for notBefore up to
 * --max-wait, else skips what needs it.
 *
 * The ro_* steps below are shared with server_checks_retry_hold.c. All
 * requests are alice's; bob signs the foreign re-enable. */
#ifndef ARO_CONFORM_SERVER_CHECKS_RETRY_H
#define ARO_CONFORM_SERVER_CHECKS_RETRY_H

#include <time.h>

#include "server_mode.h"

extern const check_area area_retry;

typedef struct {
    fixture *f;
    long attempts;          /* meta attemptsPerAuthorization */
    long min_backoff;       /* meta minBackoffSeconds */
    char failed[1024];      /* URL of the challenge that failed last */
    char why[512];          /* why the last ro_fail_attempt failed */
} ro_run;

/* The authorization and the order as read back (POST-as-GET by alice). */
typedef struct {
    tobj authz, order;
} ro_snap;

const char *ro_str(yajl_val v, const char *key);            /* "" when absent */
yajl_val ro_challenge(yajl_val authz, const char *url);     /* borrowed, NULL when absent */
int ro_snapshot(ro_run *ro, ro_snap *s, const char *authz_url, const char *order_url);
void ro_snap_clear(ro_snap *s);
/* Re-read both; a difference fails check id ("what changed ..."). */
bool ro_unchanged(ro_run *ro, const ro_snap *s, const char *id, const char *what);
/* Respond {} to an unprovisioned challenge and poll its authorization
 * until the challenge is final; t_resp is when the response went out. 0,
 * or -1 with ro->why. */
int ro_fail_attempt(ro_run *ro, const char *authz_url, const char *chall_url, tobj *az, time_t *t_resp);
/* A listed challenge aro-conform can answer (dns-01, else http-01). */
yajl_val ro_pick(yajl_val offer);
int ro_reenable(ro_run *ro, const tacct *a, const char *url, const char *payload, wire_resp *r);
char *ro_choice(const char *chall_url);                     /* {"challenge": URL} */
char *ro_types(yajl_val authz);                             /* "http-01 dns-01 ", malloc'd */
/* POST payload to url before not_before: check id wants 429 rateLimited
 * with Retry-After and the objects of s unchanged; skipped when
 * not_before has (nearly) passed. */
void ro_too_early(ro_run *ro, const ro_snap *s, const char *id, time_t not_before, const char *url,
                  const char *payload, const char *what);
/* Sleep until just after notBefore; false (and skip id) beyond --max-wait. */
bool ro_wait_not_before(ro_run *ro, time_t not_before, const char *id);
/* Judge the offer on az (5.2) after the failure of failed_url; held: the
 * authorization is pending-hold (no url, shape judged as ro.hold-failure). */
void ro_judge_offer(ro_run *ro, const tobj *az, const char *failed_url, const char *created_types, time_t t_resp,
                    bool held);

#endif
