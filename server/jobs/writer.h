/* The store's writer: one thread that runs store-touching work in batches
 * under one durable commit (group commit, store.h). A job has two halves:
 * run (inside the batch: the handler, its nested transactions) and done
 * (after the batch's commit, told whether it committed, and told "true"
 * when the job changed nothing, whatever became of the batch). Nothing a
 * job did is acknowledged before its batch is on disk. */
#ifndef ARO_WRITER_H
#define ARO_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

typedef struct writer writer;

writer *writer_new(store *s, size_t max_batch, size_t max_queue);
/* false when the queue is full or the writer is stopping. */
bool writer_submit(writer *w, void (*run)(void *arg), void (*done)(void *arg, bool committed), void *arg);
/* Finishes the queued jobs, then stops the thread. */
void writer_free(writer *w);
uint64_t writer_batches(writer *w);

#endif
