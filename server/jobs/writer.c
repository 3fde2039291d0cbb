#include "jobs/writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

typedef struct wjob {
    void (*run)(void *);
    void (*done)(void *, bool);
    void *arg;
    bool wrote;   /* its run changed something in the batch */
    struct wjob *next;
} wjob;

struct writer {
    store *st;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    wjob *head, *tail;
    size_t len, max_queue, max_batch;
    bool stopping;
    pthread_t thread;
    _Atomic uint64_t batches;
};

static void *writer_main(void *arg)
{
    writer *w = arg;
    pthread_setname_np(pthread_self(), "aro-writer");
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cond, &w->lock);
        if (!w->head) {
            pthread_mutex_unlock(&w->lock);
            return NULL;
        }
        /* Take what is waiting, up to max_batch: under load batches grow
         * by themselves while the previous commit waits for the disk. */
        wjob *batch = w->head, *last = w->head;
        size_t n = 1;
        while (last->next && n < w->max_batch) {
            last = last->next;
            n++;
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        w->len -= n;
        pthread_mutex_unlock(&w->lock);

        aro_err err = {{0}};
        bool in_batch = store_batch_begin(w->st, &err) == 0;
        if (!in_batch)
            fprintf(stderr, "aro-server: %s; running %zu job(s) one by one\n", err.msg, n);
        for (wjob *j = batch; j; j = j->next) {
            uint64_t before = store_batch_changes(w->st);
            j->run(j->arg);
            j->wrote = store_batch_changes(w->st) != before;
        }
        bool committed = true;
        if (in_batch && store_batch_commit(w->st, &err) < 0) {
            fprintf(stderr, "aro-server: %s; the %zu job(s) of the batch that wrote were lost\n", err.msg, n);
            committed = false;
        }
        atomic_fetch_add(&w->batches, 1);
        for (wjob *j = batch, *next; j; j = next) {
            next = j->next;
            /* A job that changed nothing (a read) lost nothing: its
             * answer stands, so reads work while writes fail. */
            j->done(j->arg, committed || !j->wrote);
            free(j);
        }
    }
}

writer *writer_new(store *s, size_t max_batch, size_t max_queue)
{
    writer *w = xcalloc(1, sizeof(*w));
    w->st = s;
    w->max_batch = max_batch;
    w->max_queue = max_queue;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    pthread_create(&w->thread, NULL, writer_main, w);
    return w;
}

bool writer_submit(writer *w, void (*run)(void *), void (*done)(void *, bool), void *arg)
{
    wjob *j = xcalloc(1, sizeof(*j));
    j->run = run;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&w->lock);
    if (w->stopping || w->len >= w->max_queue) {
        pthread_mutex_unlock(&w->lock);
        free(j);
        return false;
    }
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->len++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return true;
}

uint64_t writer_batches(writer *w) { return atomic_load(&w->batches); }

void writer_free(writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w);
}
