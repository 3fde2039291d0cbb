/* A fixed pool of threads for work that must not run on an event loop:
 * validations (seconds of network I/O), issuance (signing, a store write).
 * Jobs are function + argument; the job owns its argument. The queue is
 * bounded: when full, submit fails and the caller answers 503-ish
 * serverInternal instead of growing memory without bound. */
#ifndef ARO_WORKERS_H
#define ARO_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct worker_pool worker_pool;

worker_pool *worker_pool_new(int threads, size_t max_queue);
/* false when the queue is full or the pool is stopping. */
bool worker_submit(worker_pool *p, void (*fn)(void *arg), void *arg);
size_t worker_queue_length(worker_pool *p);
/* Runs the queued jobs to completion, then joins the threads. */
void worker_pool_free(worker_pool *p);

#endif
