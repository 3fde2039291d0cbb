/* The worker pool's fairness (jobs/workers.h): owners are served
 * round-robin, one owner never holds more than its share of the threads,
 * and the queues are bounded per owner and in all. Jobs block on a gate
 * the test opens; every wait is on a condition, bounded by a deadline
 * that only guards against a hang (it is not what is asserted). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jobs/workers.h"
#include "testlib.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static int running_a, max_running_a, started, finished;
static char order[64][8];
static int norder;

typedef struct {
    char name[8];
    bool blocks;   /* waits for the gate */
    bool is_a;     /* counts towards owner A's concurrency */
} test_job;

static void run(void *arg)
{
    test_job *j = arg;
    pthread_mutex_lock(&mu);
    started++;
    if (norder < 64)
        snprintf(order[norder++], sizeof(order[0]), "%s", j->name);
    if (j->is_a && ++running_a > max_running_a)
        max_running_a = running_a;
    pthread_cond_broadcast(&changed);
    while (j->blocks && !gate_open)
        pthread_cond_wait(&changed, &mu);
    if (j->is_a)
        running_a--;
    finished++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&mu);
}

/* Waits (bounded) until *counter reaches want; false on the guard deadline. */
static bool wait_count(const int *counter, int want)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&mu);
    int rc = 0;
    while (*counter < want && rc == 0)
        rc = pthread_cond_timedwait(&changed, &mu, &deadline);
    bool ok = *counter >= want;
    pthread_mutex_unlock(&mu);
    return ok;
}

static void reset(void)
{
    pthread_mutex_lock(&mu);
    gate_open = false;
    running_a = max_running_a = started = finished = norder = 0;
    pthread_mutex_unlock(&mu);
}

static void open_gate(void)
{
    pthread_mutex_lock(&mu);
    gate_open = true;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&mu);
}

static int snapshot(int *v)
{
    pthread_mutex_lock(&mu);
    int n = *v;
    pthread_mutex_unlock(&mu);
    return n;
}

/* An account whose jobs hang holds at most its share of the threads; the
 * other account's job runs while they still hang. */
static void test_share_cap(void)
{
    reset();
    worker_pool *p = worker_pool_new(&(worker_pool_limits){.threads = 4, .max_queue = 100,
                                                           .max_running_per_owner = 2});
    test_job a[6], b = {.name = "B1"};
    for (int i = 0; i < 6; i++) {
        a[i] = (test_job){.blocks = true, .is_a = true};
        snprintf(a[i].name, sizeof(a[i].name), "A%d", i + 1);
        CHECK(worker_submit(p, "attacker", run, &a[i]));
    }
    CHECK(wait_count(&started, 2));
    CHECK(worker_submit(p, "victim", run, &b));
    CHECK(wait_count(&finished, 1));           /* B1 done ... */
    CHECK_INT_EQ(snapshot(&running_a), 2);     /* ... while two of A's hang */
    CHECK_INT_EQ(snapshot(&max_running_a), 2); /* and never more than two ran */
    CHECK_INT_EQ(worker_queue_length(p), 4);
    open_gate();
    CHECK(wait_count(&finished, 7));
    CHECK_INT_EQ(snapshot(&max_running_a), 2);
    worker_pool_free(p);
}

/* Owners take turns: with one thread held by a gate job, the queued jobs
 * run A1 B1 C1 A2 B2 A3, not in arrival order (A1 A2 A3 B1 C1 B2). */
static void test_round_robin(void)
{
    reset();
    worker_pool *p = worker_pool_new(&(worker_pool_limits){.threads = 1, .max_queue = 100});
    test_job gate = {.name = "G", .blocks = true};
    CHECK(worker_submit(p, "g", run, &gate));
    CHECK(wait_count(&started, 1));
    static test_job js[] = {{.name = "A1"}, {.name = "A2"}, {.name = "A3"},
                            {.name = "B1"}, {.name = "C1"}, {.name = "B2"}};
    const char *owners[] = {"a", "a", "a", "b", "c", "b"};
    for (int i = 0; i < 6; i++)
        CHECK(worker_submit(p, owners[i], run, &js[i]));
    open_gate();
    CHECK(wait_count(&finished, 7));
    const char *want[] = {"G", "A1", "B1", "C1", "A2", "B2", "A3"};
    for (int i = 0; i < 7; i++)
        CHECK_STR_EQ(order[i], want[i]);
    worker_pool_free(p);
}

/* One owner cannot fill the queue for everyone: its own bound refuses
 * it first; the pool's bound refuses everyone. NULL and "" are one
 * shared owner. */
static void test_queue_bounds(void)
{
    reset();
    worker_pool *p = worker_pool_new(&(worker_pool_limits){.threads = 1, .max_queue = 4,
                                                           .max_queued_per_owner = 2});
    test_job gate = {.name = "G", .blocks = true}, j[6];
    for (int i = 0; i < 6; i++)
        j[i] = (test_job){.name = "J"};
    CHECK(worker_submit(p, "g", run, &gate));
    CHECK(wait_count(&started, 1));
    CHECK(worker_submit(p, "a", run, &j[0]));
    CHECK(worker_submit(p, "a", run, &j[1]));
    CHECK(!worker_submit(p, "a", run, &j[2]));   /* a's bound */
    CHECK(worker_submit(p, NULL, run, &j[3]));
    CHECK(worker_submit(p, "", run, &j[4]));     /* the shared owner's second */
    CHECK(!worker_submit(p, "b", run, &j[5]));   /* the pool's bound (4 queued) */
    CHECK_INT_EQ(worker_queue_length(p), 4);
    open_gate();
    worker_pool_free(p);                          /* runs what is queued, then stops */
    CHECK_INT_EQ(snapshot(&finished), 5);
}

int main(void)
{
    test_share_cap();
    test_round_robin();
    test_queue_bounds();
    return testlib_finish();
}
