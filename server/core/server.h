/* The server's shared context and the request/response types handlers
 * use. Handlers see plain structs, never h2o: http.c turns an h2o request
 * into an http_request, calls router_dispatch, and sends the
 * http_response. That keeps the protocol code testable and lets it run on
 * any thread. */
#ifndef ARO_SERVER_H
#define ARO_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ca/ca.h"
#include "problem.h"
#include "store/store.h"
#include "va/va.h"

typedef struct {
    char *kid;
    unsigned char *key;
    size_t keylen;
} eab_key;

typedef struct {
    char *name;
    char *description;
    long validity_seconds;  /* 0 = default */
} profile_cfg;

typedef struct {
    /* listeners and paths */
    char *listen;               /* "127.0.0.1:14000" */
    char *manage;               /* "127.0.0.1:15000" */
    char *data_dir;             /* "./aro-data" */
    int threads;                /* event loops; default = cores */
    int log_level;              /* 0 errors, 1 requests (default), 2 debug */
    bool group_commit;          /* batch requests' writes into one durable commit (default) */
    bool pebble_mode;           /* started with Pebble's -config: also serve /dir */
    /* protocol policy */
    bool retry_options;         /* the extension on (default) or --no-retry-options */
    long order_lifetime;        /* seconds, default 3600 */
    long authz_pending_lifetime;/* default 3600 */
    long authz_valid_lifetime;  /* default 30 days */
    bool reuse_valid_authz;     /* default true */
    int reuse_valid_pct;        /* how often a reusable one is reused, default 100 (PEBBLE_AUTHZREUSE) */
    bool reuse_pending_authz;   /* default false */
    int failed_validation_limit;/* per account+identifier per window, default 5 */
    long failed_validation_window; /* default 3600 */
    int retry_attempts;         /* attempts per authorization, default 3 */
    long retry_min_backoff;     /* seconds, default 5, doubling per failure */
    long retry_max_backoff;     /* cap, default 3600 */
    bool retry_same_type;       /* offer fresh same-type challenges, default true */
    char **retry_never;         /* problem types never retried (short names) */
    size_t nretry_never;
    char **caa_identities;
    size_t ncaa_identities;
    char *terms_of_service;
    char *website;
    bool eab_required;
    eab_key *eab_keys;
    size_t neab_keys;
    char **blocklist;           /* domain suffixes refused (rejectedIdentifier) */
    size_t nblocklist;
    profile_cfg *profiles;
    size_t nprofiles;
    int orders_per_page;        /* account orders list page size, default 50 */
    long retry_after_pending;   /* Retry-After on pending authorizations/challenges, default 1 */
    long retry_after_order;     /* Retry-After on pending/processing orders, default 1 */
    /* validation */
    va_config va;
    int va_workers;             /* default 8 */
    long va_sleep_ms;           /* delay before validating (Pebble's VA sleep), default 0 */
    bool va_always_valid;
    int va_same_challenge_retries; /* RFC 8555 8.2 server-side retries of a failed attempt, default 0 */
    long va_same_challenge_retry_delay_ms; /* delay between them, default 2000 */
    /* CA */
    ca_config ca;
    /* fault injection (off by default) */
    double fault_nonce_reject;  /* probability a valid nonce is rejected */
    double fault_rate_limited;  /* probability of a 429 */
    double fault_server_internal; /* probability of a 500 */
    long fault_finalize_delay_ms;
    long fault_validation_jitter_ms;
} server_config;

typedef struct nonce_pool nonce_pool;
typedef struct worker_pool worker_pool;
typedef struct metrics metrics;

typedef struct server {
    server_config cfg;
    store *st;
    ca *ca;
    nonce_pool *nonces;
    worker_pool *workers;   /* validation and issuance jobs */
    worker_pool *request_workers; /* ACME requests when group commit is off */
    struct writer *writer;        /* ACME requests in group-committed batches (default) */
    metrics *m;
} server;

typedef struct {
    const char *method;     /* "GET", "HEAD", "POST" */
    const char *path;       /* without query, NUL-terminated */
    const char *query;      /* after '?', or NULL */
    const char *base;       /* "https://authority", the URL prefix of this request */
    const char *body;
    size_t body_len;
    const char *content_type;
    time_t now;
} http_request;

#define MAX_LINKS 8
typedef struct {
    int status;
    char *body;
    size_t body_len;
    const char *content_type;   /* static string */
    char *location;
    char *links[MAX_LINKS];     /* full header values: <url>;rel="up" */
    int nlinks;
    long retry_after;           /* seconds, -1 = none */
    const char *endpoint;       /* metrics/log label (static) */
    char *problem_type;         /* short type for the log */
} http_response;

void response_clear(http_response *rs);
void response_json(http_response *rs, int status, char *body);   /* takes body */
void response_problem(http_response *rs, const acme_problem *p);
/* Shorthand: problem of a type with a formatted detail. */
void response_error(http_response *rs, const char *type, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void response_link(http_response *rs, const char *url, const char *rel);

/* Every request enters here (router.c). */
void router_dispatch(server *srv, const http_request *rq, http_response *rs);
/* The management API (manage.c): /metrics, /roots/N, ... */
void manage_dispatch(server *srv, const http_request *rq, http_response *rs);

#endif
