/* The route table: which ACME resource answers a path, with the endpoint
 * label that /metrics and the request log use, how its requests are
 * authenticated, which of them only read, and fault injection (Pebble's
 * PEBBLE_WFE_NONCEREJECT and aro's 429/500 rates) before any work is
 * done. Paths:
 *   /directory (/dir in Pebble mode)     /acme/new-nonce  /acme/new-account
 *   /acme/new-order  /acme/revoke-cert   /acme/key-change
 *   /acme/renewal-info/CERTID            /acme/acct/ID[/orders]
 *   /acme/order/ID[/finalize]            /acme/authz/ID[/retry]
 *   /acme/chall/ID                       /acme/cert/SERIAL[/N]
 *   /acme/issuer/N
 *
 * A request reaches its resource in two steps: router_accept on the event
 * loop that received it (fault injection, the JWS, and every request that
 * changes nothing answered there), then, for the others, router_dispatch
 * in the writer's next batch (after router_prepare, on a worker or on the
 * loop, for the few that do work before their transaction). */
#ifndef ARO_FRONT_ROUTES_H
#define ARO_FRONT_ROUTES_H

#include "core/exchange.h"
#include "core/server.h"

typedef enum {
    ROUTE_ANSWERED, /* rs is the answer */
    ROUTE_WRITE,    /* to router_dispatch in a transaction that may write */
    ROUTE_PREPARE,  /* to router_prepare on a worker first (it may wait on DNS), then the same */
    ROUTE_PREPARE_HERE, /* router_prepare here on the loop (CPU only: a CSR's signature), then the same */
} route_next;

/* On the event loop: what can be done before the request's transaction
 * (never waiting on a lock held across I/O or on the disk: the store's
 * reads are LMDB snapshots of committed state). Sets rq->accepted and
 * rq->auth; router_release frees them. */
route_next router_accept(server *srv, http_request *rq, http_response *rs);
void router_release(http_request *rq);

/* Every ACME request is answered here, on whichever thread runs it (for
 * an accepted request: its authentication taken over, faults not
 * injected twice). */
void router_dispatch(server *srv, const http_request *rq, http_response *rs);

/* The work of a ROUTE_PREPARE request before its transaction (a CAA
 * lookup for a re-enable), on a worker, or of a ROUTE_PREPARE_HERE one
 * (a finalization's CSR), on the loop. The result goes into rq->prepared
 * for router_dispatch; free it with *release (NULL: nothing to free). */
void *router_prepare(server *srv, const http_request *rq, void (**release)(void *));

#endif
