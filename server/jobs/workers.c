#include "jobs/workers.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct job {
    void (*fn)(void *);
    void *arg;
    struct job *next;
} job;

/* One owner's queue. Exists while the owner has jobs queued or running;
 * listed in the ring while it has jobs queued. */
typedef struct owner {
    char *name;
    job *head, *tail;
    size_t queued;
    int running;
    bool in_ring;
    struct owner *ring_prev, *ring_next;
    struct owner *chain;   /* the next owner in the same hash bucket */
} owner;

#define OWNER_BUCKETS 256

struct worker_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    owner *buckets[OWNER_BUCKETS];
    /* The owners with queued jobs, in the order they are to be served:
     * an owner served goes to the back. */
    owner *ring_head, *ring_tail;
    size_t queued, max_queue, max_queued_per_owner;
    int max_running_per_owner;
    bool stopping;
    int nthreads;
    pthread_t *threads;
};

static size_t bucket_of(const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        h = (h ^ *s) * 16777619u;
    return h % OWNER_BUCKETS;
}

static owner *owner_find(worker_pool *p, const char *name, bool create)
{
    owner **slot = &p->buckets[bucket_of(name)];
    for (owner *o = *slot; o; o = o->chain)
        if (strcmp(o->name, name) == 0)
            return o;
    if (!create)
        return NULL;
    owner *o = xcalloc(1, sizeof(*o));
    o->name = xstrdup(name);
    o->chain = *slot;
    *slot = o;
    return o;
}

/* Forgets an owner with nothing queued or running. */
static void owner_drop_if_idle(worker_pool *p, owner *o)
{
    if (o->queued || o->running)
        return;
    for (owner **slot = &p->buckets[bucket_of(o->name)]; *slot; slot = &(*slot)->chain)
        if (*slot == o) {
            *slot = o->chain;
            break;
        }
    free(o->name);
    free(o);
}

static void ring_append(worker_pool *p, owner *o)
{
    o->in_ring = true;
    o->ring_next = NULL;
    o->ring_prev = p->ring_tail;
    if (p->ring_tail)
        p->ring_tail->ring_next = o;
    else
        p->ring_head = o;
    p->ring_tail = o;
}

static void ring_remove(worker_pool *p, owner *o)
{
    if (o->ring_prev)
        o->ring_prev->ring_next = o->ring_next;
    else
        p->ring_head = o->ring_next;
    if (o->ring_next)
        o->ring_next->ring_prev = o->ring_prev;
    else
        p->ring_tail = o->ring_prev;
    o->in_ring = false;
    o->ring_prev = o->ring_next = NULL;
}

/* The next job to run: the first owner in the ring below its share of
 * the threads gives up its oldest job and goes to the back. Owners at
 * their share are passed over (there are at most threads / share of
 * them, so the walk is short). NULL when nothing may run now. */
static job *take_next(worker_pool *p, owner **of)
{
    for (owner *o = p->ring_head; o; o = o->ring_next) {
        if (o->running >= p->max_running_per_owner)
            continue;
        job *j = o->head;
        o->head = j->next;
        if (!o->head)
            o->tail = NULL;
        o->queued--;
        o->running++;
        p->queued--;
        ring_remove(p, o);
        if (o->queued)
            ring_append(p, o);
        *of = o;
        return j;
    }
    return NULL;
}

static void *worker_main(void *arg)
{
    worker_pool *p = arg;
    /* Named for profiles (perf, top -H): which stage the CPU went to. */
    pthread_setname_np(pthread_self(), "aro-worker");
    pthread_mutex_lock(&p->lock);
    for (;;) {
        owner *o = NULL;
        job *j = take_next(p, &o);
        if (!j) {
            if (p->stopping && p->queued == 0)
                break; /* stopping and drained */
            pthread_cond_wait(&p->cond, &p->lock);
            continue;
        }
        pthread_mutex_unlock(&p->lock);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&p->lock);
        o->running--;
        /* This thread picks the next job itself; another waiting thread
         * may have been kept from one of this owner's jobs by the share. */
        if (o->queued)
            pthread_cond_signal(&p->cond);
        owner_drop_if_idle(p, o);
        if (p->stopping && p->queued == 0)
            pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

worker_pool *worker_pool_new(const worker_pool_limits *l)
{
    worker_pool *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->nthreads = l->threads > 0 ? l->threads : 1;
    p->max_queue = l->max_queue;
    p->max_queued_per_owner = l->max_queued_per_owner ? l->max_queued_per_owner : l->max_queue;
    p->max_running_per_owner = l->max_running_per_owner > 0 && l->max_running_per_owner < p->nthreads
                                   ? l->max_running_per_owner : p->nthreads;
    p->threads = xcalloc((size_t)p->nthreads, sizeof(pthread_t));
    for (int i = 0; i < p->nthreads; i++)
        pthread_create(&p->threads[i], NULL, worker_main, p);
    return p;
}

bool worker_submit(worker_pool *p, const char *owner_name, void (*fn)(void *), void *arg)
{
    job *j = xmalloc(sizeof(*j));
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&p->lock);
    owner *o = NULL;
    if (!p->stopping && p->queued < p->max_queue) {
        o = owner_find(p, owner_name ? owner_name : "", true);
        if (o->queued >= p->max_queued_per_owner) {
            owner_drop_if_idle(p, o);
            o = NULL;
        }
    }
    if (!o) {
        pthread_mutex_unlock(&p->lock);
        free(j);
        return false;
    }
    if (o->tail)
        o->tail->next = j;
    else
        o->head = j;
    o->tail = j;
    o->queued++;
    p->queued++;
    if (!o->in_ring)
        ring_append(p, o);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return true;
}

size_t worker_queue_length(worker_pool *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->queued;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void worker_pool_free(worker_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->threads);
    free(p);
}
