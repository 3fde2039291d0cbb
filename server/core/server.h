/* The server's shared context: settings, the store, the CA, nonces, the
 * job queues and the counters, created once by main.c and passed to every
 * layer. Read-only after start-up, apart from the members that are
 * thread-safe objects of their own. */
#ifndef ARO_CORE_SERVER_H
#define ARO_CORE_SERVER_H

#include "ca/ca.h"
#include "settings/config.h"
#include "store/store.h"

typedef struct nonce_pool nonce_pool;
typedef struct worker_pool worker_pool;
typedef struct metrics metrics;
typedef struct mpic mpic;

typedef struct server {
    server_config cfg;
    store *st;
    ca *ca;
    nonce_pool *nonces;
    worker_pool *workers;   /* validation and issuance jobs */
    worker_pool *request_workers; /* ACME requests when group commit is off */
    struct writer *writer;        /* ACME requests in group-committed batches (default) */
    metrics *m;
    mpic *mpic;             /* remote validation perspectives (server/mpic/); NULL when off */
    struct key_cache *keys; /* parsed account keys (acme/key_cache.c) */
} server;

#endif
