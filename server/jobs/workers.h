/* A fixed pool of threads for work that must not run on an event loop:
 * validations (seconds of network I/O), issuance (signing, a store write).
 * Jobs are function + argument; the job owns its argument.
 *
 * Fair between owners. Every job names its owner (the account, for
 * validations and issuances; NULL or "" for work that has none, which
 * all shares one owner). Each owner has a queue of its own, and the
 * threads serve the owners round-robin, oldest-waiting owner first, so a
 * burst of one owner's jobs waits behind itself, not in front of
 * everyone else's. And an owner may occupy at most max_running_per_owner
 * threads at once: jobs that hang (a target that accepts and never
 * answers) tie up that share of the pool, never the rest of it.
 *
 * Bounded: at most max_queue jobs wait in all, and at most
 * max_queued_per_owner of one owner; beyond that submit fails and the
 * caller answers 503-ish serverInternal (or defers the job) instead of
 * growing memory without bound. */
#ifndef ARO_WORKERS_H
#define ARO_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct worker_pool worker_pool;

typedef struct {
    int threads;
    size_t max_queue;
    size_t max_queued_per_owner;   /* 0: max_queue */
    int max_running_per_owner;     /* 0 or more than threads: threads */
} worker_pool_limits;

worker_pool *worker_pool_new(const worker_pool_limits *limits);
/* Queues fn(arg) as a job of owner (copied; NULL or "" is the shared
 * owner). false when the pool's or the owner's queue is full or the pool
 * is stopping; arg is then still the caller's. */
bool worker_submit(worker_pool *p, const char *owner, void (*fn)(void *arg), void *arg);
/* Jobs waiting, all owners together. */
size_t worker_queue_length(worker_pool *p);
/* Runs the queued jobs to completion, then joins the threads. */
void worker_pool_free(worker_pool *p);

#endif
