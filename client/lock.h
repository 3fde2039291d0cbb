/* The state directory's lock: one aro at a time changes a state
 * directory (its account, keys, certificate files and store), so that
 * parallel runs (cron's renew and a hand-typed issue, three issues from a
 * deployment tool) never mix one run's certificate with another's key, and
 * an account is created once.
 *
 * STATE/lock is held with flock(2) for the whole command; the holder
 * writes its pid and command line into it, so that a second aro can say
 * who holds the lock while it waits (up to --lock-wait seconds, SIGINT
 * and SIGTERM ending the wait). The kernel drops the lock when the holder
 * dies: there is no stale lock to clean up. The descriptor is
 * close-on-exec: hooks never hold it. */
#ifndef ARO_CLIENT_LOCK_H
#define ARO_CLIENT_LOCK_H

#include "util.h"

typedef struct state_lock state_lock;

/* Take DIR/lock (creating DIR, 0700), waiting at most wait_seconds (0:
 * not at all) while another process holds it. what describes this run
 * for the next one ("aro issue www.example.com"). NULL with err when the
 * lock was not obtained (still held, interrupted, unusable). */
state_lock *lock_acquire(const char *dir, const char *what, long wait_seconds, aro_err *err);
void lock_release(state_lock *l);

#endif
