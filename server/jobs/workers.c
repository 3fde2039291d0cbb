#include "jobs/workers.h"

#include <pthread.h>
#include <stdlib.h>

#include "util.h"

typedef struct job {
    void (*fn)(void *);
    void *arg;
    struct job *next;
} job;

struct worker_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job *head, *tail;
    size_t len, max;
    bool stopping;
    int nthreads;
    pthread_t *threads;
};

static void *worker_main(void *arg)
{
    worker_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        job *j = p->head;
        if (!j) { /* stopping and drained */
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->len--;
        pthread_mutex_unlock(&p->lock);
        j->fn(j->arg);
        free(j);
    }
}

worker_pool *worker_pool_new(int threads, size_t max_queue)
{
    worker_pool *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->max = max_queue;
    p->nthreads = threads;
    p->threads = xcalloc((size_t)threads, sizeof(pthread_t));
    for (int i = 0; i < threads; i++)
        pthread_create(&p->threads[i], NULL, worker_main, p);
    return p;
}

bool worker_submit(worker_pool *p, void (*fn)(void *), void *arg)
{
    job *j = xmalloc(sizeof(*j));
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->len >= p->max) {
        pthread_mutex_unlock(&p->lock);
        free(j);
        return false;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->len++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return true;
}

size_t worker_queue_length(worker_pool *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->len;
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
