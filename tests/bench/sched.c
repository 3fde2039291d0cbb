/* aro-loadgen's scheduler: coroutines (ucontext) on one thread, their
 * transfers on one curl multi handle, their waits as timers (sched.h).
 *
 * A coroutine runs until it yields in sched_perform or sched_sleep; the
 * scheduler then drives the multi handle and resumes every coroutine whose
 * transfer has finished or whose timer is due, in spawn order. Nothing
 * runs concurrently, so what the workers share needs no lock on this
 * thread's account (the http-01 responder's threads still take theirs).
 *
 * The multi handle is driven through curl's socket interface
 * (curl_multi_socket_action) on an epoll set: curl says which sockets it
 * waits on and when its next timeout is due, and only the transfers whose
 * socket is ready run. curl_multi_perform and curl_multi_poll instead walk
 * every transfer and rebuild a poll set of every socket at each wake-up,
 * which at 64 workers cost more than the load generator's own work. */
#include "sched.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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
    int epoll;                  /* the sockets curl waits on */
    double curl_due;            /* when curl wants CURL_SOCKET_TIMEOUT; INFINITY: never */
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

/* CURLMOPT_SOCKETFUNCTION: which events curl waits for on a socket, or
 * that it is done with it. socketp is what curl_multi_assign gave the
 * socket: non-NULL once it is in the epoll set. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *u, void *socketp)
{
    (void)easy, (void)u;
    if (what == CURL_POLL_REMOVE) {
        /* A socket curl closed already left the set with it. */
        epoll_ctl(S.epoll, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(S.multi, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
                             .data.fd = fd};
    if (epoll_ctl(S.epoll, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0)
        epoll_ctl(S.epoll, socketp ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
    if (!socketp)
        curl_multi_assign(S.multi, fd, &S);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: when curl wants to be called for its timeouts
 * (-1: no timeout). */
static int on_timer(CURLM *m, long timeout_ms, void *u)
{
    (void)m, (void)u;
    S.curl_due = timeout_ms < 0 ? INFINITY : mono() + (double)timeout_ms / 1000;
    return 0;
}

int sched_init(int max_connections)
{
    S.multi = curl_multi_init();
    S.epoll = epoll_create1(EPOLL_CLOEXEC);
    S.curl_due = INFINITY;
    if (!S.multi || S.epoll < 0)
        return -1;
    curl_multi_setopt(S.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(S.multi, CURLMOPT_TIMERFUNCTION, on_timer);
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
    if (S.epoll > 0)
        close(S.epoll);
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
        if (collect_transfers())
            continue;
        /* Sleep until a socket is ready, curl's timeout or the next timer,
         * then let curl run what is due: first the ready sockets'
         * transfers, then its timeouts (a transfer just added has one due
         * at once). */
        double due = next < S.curl_due ? next : S.curl_due;
        double wait_ms = isinf(due) ? 1000 : ceil((due - mono()) * 1000);
        struct epoll_event ev[64];
        int n = epoll_wait(S.epoll, ev, 64, wait_ms <= 0 ? 0 : wait_ms > 1000 ? 1000 : (int)wait_ms);
        int running;
        for (int i = 0; i < n; i++) {
            int mask = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(S.multi, ev[i].data.fd, mask, &running);
        }
        if (S.curl_due <= mono()) {
            S.curl_due = INFINITY;      /* curl sets the next one as it runs */
            curl_multi_socket_action(S.multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
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
