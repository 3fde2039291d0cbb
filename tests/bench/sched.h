/* aro-loadgen's scheduler (tests/bench): every worker runs as a coroutine
 * on the one thread that calls sched_run, and every HTTP transfer of every
 * worker runs on one curl multi handle. A worker's code stays a straight
 * line (flows.c reads like a client); where it would block (a transfer, a
 * wait) it yields to the scheduler instead. One thread serving all
 * workers costs no context switch per request, which 64 blocking threads
 * did, and the load generator shares the machine's cores with the server
 * it measures. */
#ifndef ARO_BENCH_SCHED_H
#define ARO_BENCH_SCHED_H

#include <curl/curl.h>

#include "acme.h"

/* Before any other call. max_connections: the connection cache of the
 * multi handle, which counts every open connection, busy or idle (at
 * least one per easy handle that keeps one, or idle connections are
 * closed and their next transfer pays a TLS handshake). 0 on success. */
int sched_init(int max_connections);
void sched_cleanup(void);

/* Run fn(arg) as a coroutine from the next sched_run on. */
void sched_spawn(void (*fn)(void *), void *arg);
/* Run every spawned coroutine until each has returned. */
void sched_run(void);

/* From a coroutine: run the transfer on the multi handle and yield until
 * it is done. From anywhere else: curl_easy_perform. */
CURLcode sched_perform(CURL *easy);
/* From a coroutine: yield for about this long. Elsewhere: sleep. */
void sched_sleep(double seconds);

/* The driver that makes the client's transport (client/acme.c) use the
 * two above. */
extern const acme_driver sched_driver;

#endif
