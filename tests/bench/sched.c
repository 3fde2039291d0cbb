/* aro-loadgen's scheduler: coroutines (ucontext) on one thread, their
 * transfers on one curl multi handle, their waits as timers (sched.h).
 *
 * A coroutine runs until it yields in sched_perform or sched_sleep; the
 * scheduler then drives the multi handle and resumes every coroutine whose
 * transfer has finished or whose timer is due, in spawn order. Nothing
 * runs concurrently, so what the workers share needs no lock on this
 * thread's account (the http-01 responder's threads still take theirs). */
#include "sched.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "util.h"

/* Each coroutine's stack, and a guard page under it: an overflow faults
 * instead of writing into the neighbour's stack. The flows run the JWS,
 * JSON and CSR code on it; curl's callbacks run on the scheduler's. */
#define STACK_BYTES (512u * 1024u)

typedef enum { F_READY, F_TRANSFER, F_TIMER, F_DONE } fiber_state;

typedef struct {
    ucontext_t ctx;
    unsigned char *map;         /* guard page + stack */
    size_t map_len;
    void (*fn)(void *);
    void *arg;
    fiber_state state;
    double wake_at;             /* F_TIMER: monotonic seconds */
    CURLcode result;            /* F_TRANSFER: the finished transfer's */
} fiber;

static struct {
    CURLM *multi;
    fiber **f;
    size_t n, cap;
    fiber *current;             /* NULL: the scheduler (or no coroutine) runs */
    ucontext_t main;
} S;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sched_init(int max_connections)
{
    S.multi = curl_multi_init();
    if (!S.multi)
        return -1;
    /* One transfer per connection, as one client per connection would do:
     * multiplexed onto one HTTP/2 connection, every worker's requests
     * would land on one of the server's event loops. */
    curl_multi_setopt(S.multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    /* The cache otherwise follows the number of handles added at the
     * moment, which rises and falls with the transfers in flight. */
    curl_multi_setopt(S.multi, CURLMOPT_MAXCONNECTS, (long)max_connections);
    return 0;
}

void sched_cleanup(void)
{
    /* Coroutines spawned but never run (a setup that failed half-way). */
    for (size_t i = 0; i < S.n; i++) {
        munmap(S.f[i]->map, S.f[i]->map_len);
        free(S.f[i]);
    }
    if (S.multi)
        curl_multi_cleanup(S.multi);
    free(S.f);
    memset(&S, 0, sizeof S);
}

static void trampoline(void)
{
    fiber *f = S.current;
    f->fn(f->arg);
    f->state = F_DONE;
    /* Returning follows uc_link back to the scheduler. */
}

void sched_spawn(void (*fn)(void *), void *arg)
{
    long page = sysconf(_SC_PAGESIZE);
    fiber *f = xcalloc(1, sizeof *f);
    f->fn = fn;
    f->arg = arg;
    f->map_len = STACK_BYTES + (size_t)page;
    f->map = mmap(NULL, f->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (f->map == MAP_FAILED || mprotect(f->map, (size_t)page, PROT_NONE) || getcontext(&f->ctx)) {
        fprintf(stderr, "aro-loadgen: no stack for a worker\n");
        abort();
    }
    f->ctx.uc_stack.ss_sp = f->map + page;
    f->ctx.uc_stack.ss_size = STACK_BYTES;
    f->ctx.uc_link = &S.main;
    makecontext(&f->ctx, trampoline, 0);
    if (S.n == S.cap) {
        S.cap = S.cap ? S.cap * 2 : 64;
        S.f = xrealloc(S.f, S.cap * sizeof *S.f);
    }
    S.f[S.n++] = f;
}

static void resume(fiber *f)
{
    f->state = F_READY;
    S.current = f;
    swapcontext(&S.main, &f->ctx);
    S.current = NULL;
}

static void yield(void)
{
    swapcontext(&S.current->ctx, &S.main);
}

/* Hand every finished transfer's result to its coroutine. true when one
 * became ready. */
static bool collect_transfers(void)
{
    bool woke = false;
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(S.multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;   /* m is gone once the handle is removed */
        fiber *f = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&f);
        curl_multi_remove_handle(S.multi, easy);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        if (f) {
            f->result = rc;
            f->state = F_READY;
            woke = true;
        }
    }
    return woke;
}

void sched_run(void)
{
    for (;;) {
        double now = mono(), next = INFINITY;
        size_t live = 0;
        for (size_t i = 0; i < S.n; i++) {
            fiber *f = S.f[i];
            if (f->state == F_TIMER && f->wake_at <= now)
                f->state = F_READY;
            if (f->state == F_READY)
                resume(f);
            if (f->state == F_TIMER && f->wake_at < next)
                next = f->wake_at;
            live += f->state != F_DONE;
        }
        if (!live)
            break;
        int running;
        curl_multi_perform(S.multi, &running);
        if (collect_transfers())
            continue;
        /* Sleep in poll until a socket is ready, curl's own next timeout
         * (curl_multi_poll takes the shorter) or the next timer. */
        double wait_ms = isinf(next) ? 1000 : ceil((next - mono()) * 1000);
        if (wait_ms > 0)
            curl_multi_poll(S.multi, NULL, 0, wait_ms > 1000 ? 1000 : (int)wait_ms, NULL);
    }
    for (size_t i = 0; i < S.n; i++) {
        munmap(S.f[i]->map, S.f[i]->map_len);
        free(S.f[i]);
    }
    S.n = 0;
}

CURLcode sched_perform(CURL *easy)
{
    fiber *f = S.current;
    if (!f)
        return curl_easy_perform(easy);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)f);
    CURLMcode mc = curl_multi_add_handle(S.multi, easy);
    if (mc != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        return CURLE_FAILED_INIT;
    }
    f->state = F_TRANSFER;
    yield();
    return f->result;
}

void sched_sleep(double seconds)
{
    fiber *f = S.current;
    if (!(seconds > 0))        /* NaN too: it would never be due */
        return;
    if (!f) {
        struct timespec ts = {.tv_sec = (time_t)seconds,
                              .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
        while (nanosleep(&ts, &ts) && errno == EINTR)
            ;
        return;
    }
    f->wake_at = mono() + seconds;
    f->state = F_TIMER;
    yield();
}

const acme_driver sched_driver = {.perform = sched_perform, .sleep = sched_sleep};
