/* SIGINT and SIGTERM. The handler only records the signal; every wait in
 * aro (polls, Retry-After and notBefore waits, hooks, the state lock, HTTP
 * transfers) asks interrupt_stop() and gives up when it says so. The
 * command then cleans up what it started (hooks' "failed", webroot files,
 * responders, pending authorizations as --deactivate says), says what it
 * cleaned, and exits 128 + the signal (130 SIGINT, 143 SIGTERM).
 * Cleaning needs requests and hooks of its own: once it has begun
 * (interrupt_cleanup_begin) interrupt_stop() is false again, each step
 * being bounded by its own timeout. A second signal ends aro at once. */
#ifndef ARO_CLIENT_INTERRUPT_H
#define ARO_CLIENT_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

/* Catch SIGINT and SIGTERM (without SA_RESTART, so that sleeps and polls
 * return early). Call once, before any thread starts. */
void interrupt_install(void);
/* The signal that arrived (SIGINT, SIGTERM), or 0. */
int interrupt_signal(void);
/* Whether a wait should stop now: a signal arrived and cleaning has not
 * begun. */
bool interrupt_stop(void);
void interrupt_cleanup_begin(void);
/* 128 + the signal's number. */
int interrupt_exit_status(void);
/* Block SIGINT and SIGTERM in threads created between these two calls
 * (the solvers' servers), so that the main thread's waits see them. */
void interrupt_block(sigset_t *saved);
void interrupt_restore(const sigset_t *saved);

#endif
