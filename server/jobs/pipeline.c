#include "jobs/pipeline.h"

#include <stdio.h>
#include <stdlib.h>

#include "jobs/workers.h"
#include "jobs/writer.h"
#include "store/records.h"
#include "util.h"

typedef struct {
    server *srv;
    const job_kind *kind;
    char account_id[ID_LEN];
    void *arg;
} job;

static void job_release(job *j)
{
    j->kind->release(j->arg);
    free(j);
}

static void apply_in_batch(void *arg)
{
    job *j = arg;
    j->kind->apply(j->srv, j->arg);
}

/* A result whose batch failed to commit is lost like a crash would lose
 * it: the object stays "processing" and the job runs again at the next
 * start. */
static void applied(void *arg, bool committed)
{
    (void)committed;
    job_release(arg);
}

static void run_on_worker(void *arg)
{
    job *j = arg;
    j->kind->work(j->srv, j->arg);
    /* Join the writer's next batch: one fsync for many results. */
    if (j->srv->writer && writer_submit(j->srv->writer, apply_in_batch, applied, j))
        return;
    j->kind->apply(j->srv, j->arg);
    job_release(j);
}

static void start_when_durable(void *arg, bool committed)
{
    job *j = arg;
    if (committed && worker_submit(j->srv->workers, j->account_id, run_on_worker, j))
        return;
    /* Not committed: nothing to do. Queue full: resumed at the next start. */
    if (committed)
        fprintf(stderr, "aro-server: %s queue full, job deferred to the next start\n", j->kind->name);
    job_release(j);
}

void pipeline_submit(server *srv, const job_kind *kind, const char *account_id, void *arg)
{
    job *j = xcalloc(1, sizeof(*j));
    j->srv = srv;
    j->kind = kind;
    snprintf(j->account_id, sizeof(j->account_id), "%s", account_id ? account_id : "");
    j->arg = arg;
    store_after_commit(srv->st, start_when_durable, j);
}
