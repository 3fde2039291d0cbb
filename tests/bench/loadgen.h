/* aro-loadgen's two halves (tests/bench): loadgen.c runs the workers, the
 * http-01 responder, the /proc and /metrics readings and the report;
 * flows.c is the client behaviour of every arm (docs/benchmarks.md states
 * each arm's policy). This header is what they share. */
#ifndef ARO_BENCH_LOADGEN_H
#define ARO_BENCH_LOADGEN_H

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <time.h>

#include "acme.h"
#include "sched.h"

#define MAX_NAMES 16

/* What the first name of an order does when the CA validates it (the
 * other names of a multi-name order are healthy). */
typedef enum { SC_HEALTHY, SC_BLOCKED, SC_TRANSIENT, SC_ZOMBIE, SC__COUNT } scenario;
extern const char *const scenario_names[SC__COUNT];

/* The client arms (flows.c). The server side of each (retry-options on or
 * off, RFC 8555 8.2 retries) is the server's configuration: tests/bench/run
 * pairs them. */
typedef enum {
    ARM_LEGACY,         /* (a) new-order fallback */
    ARM_LEGACY_DEACT,   /* (a) the same, deactivating the given-up order's authorizations */
    ARM_LEGACY_SINGLE,  /* (b) one order, one attempt per authorization, give up */
    ARM_RETRY,          /* (d) one order, re-enable the invalid authorization */
    ARM_HOLD,           /* (e) one order with the pending-hold opt-in */
    ARM_PREAUTH,        /* (f) newAuthz per name, fallback by a new newAuthz, then the order */
    ARM_PREAUTH_RETRY,  /* (f)+(d) newAuthz, fallback by re-enabling it */
    ARM_PREAUTH_HOLD,   /* (f)+(e) newAuthz with the pending-hold opt-in */
    ARM__COUNT
} arm_kind;
extern const char *const arm_names[ARM__COUNT];

typedef struct {
    const char *directory, *ca, *challtestsrv, *metrics, *prefix;
    int http_port, concurrency, flows, names, max_orders, server_pid;
    double duration, poll_first, poll_cap;  /* poll schedule, seconds */
    long timeout;                           /* per HTTP request, seconds */
    unsigned mix[SC__COUNT];                /* percent */
    arm_kind arm;
    bool http1;                             /* --http1.1 */
} loadgen_options;
extern loadgen_options O;

/* One worker (a coroutine, sched.h): one account, one client's requests
 * one after another, each on a kept-alive connection. */
typedef struct {
    int id;
    acme_ctx acme;
    EVP_PKEY *key;              /* account key */
    EVP_PKEY *cert_key;         /* one certificate key per worker: the CSR is new per order */
    X509_PUBKEY *cert_spki;     /* cert_key encoded once (csr_create_der_spki) */
    CURL *cts;                  /* challtestsrv management */
    unsigned polls, deactivations, reenables;
    int ok;
} worker;

/* The http-01 responder (loadgen.c): how it answers a token's fetches. */
typedef enum {
    ANSWER_ALWAYS,          /* the key authorization */
    ANSWER_AFTER_ONE_RESET, /* reset the first connection, then answer (transient) */
    ANSWER_NEVER,           /* reset every connection (port 80 blocked) */
} answer_mode;
void responder_add(const char *token, const char *key_auth, answer_mode mode);
void responder_del(const char *token);

/* One flow: one client run for one certificate (flows.c). */
typedef struct {
    scenario sc;
    int rc;                     /* 0 issued, 1 gave up, -1 error (HTTP, not validation) */
    unsigned orders, attempts, requests, polls, reenables, deactivations;
    double seconds;
    char problem[96];           /* the last validation problem, short type */
    char error[512];            /* when rc < 0 */
} flow_result;
scenario flow_scenario(int idx);
void flow_run(worker *w, int idx, flow_result *out);

static inline double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double now_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
