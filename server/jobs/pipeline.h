/* The one path every background job takes: validations and issuances
 * alike. A job is scheduled by a request inside its write transaction
 * and starts only once what the request wrote is durable (store
 * after-commit hook); its work runs on a worker thread (network, signing:
 * seconds, never on an event loop, never inside a store transaction); its
 * result is applied in the writer's next group-committed batch (or in a
 * transaction of its own when group commit is off); then it is released.
 *
 * A job lost on the way (its request's batch failed, a full queue, a
 * crash) leaves the store as the request wrote it: "processing", which
 * the resume functions of jobs/validation.c and jobs/issuance.c pick up
 * at the next start. */
#ifndef ARO_JOBS_PIPELINE_H
#define ARO_JOBS_PIPELINE_H

#include <stdbool.h>

#include "core/server.h"

typedef struct {
    const char *name;           /* for messages: "validation", "issuance" */
    /* On a worker: the slow part. Reads the store only through read
     * transactions of its own. */
    void (*work)(server *srv, void *arg);
    /* Inside a write transaction of the writer's batch: apply the result
     * (opening, committing its own nested transaction). */
    void (*apply)(server *srv, void *arg);
    /* Last, whatever happened; frees arg. */
    void (*release)(void *arg);
} job_kind;

/* Schedule arg as a job of kind, owned by account_id (the unit of
 * fairness between accounts). Call inside the request's transaction. */
void pipeline_submit(server *srv, const job_kind *kind, const char *account_id, void *arg);

#endif
