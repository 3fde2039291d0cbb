/* The route table: which ACME resource answers a path, with the endpoint
 * label that /metrics and the request log use, and fault injection
 * (Pebble's PEBBLE_WFE_NONCEREJECT and aro's 429/500 rates) before any
 * work is done. Paths:
 *   /directory (/dir in Pebble mode)     /acme/new-nonce  /acme/new-account
 *   /acme/new-order  /acme/revoke-cert   /acme/key-change
 *   /acme/renewal-info/CERTID            /acme/acct/ID[/orders]
 *   /acme/order/ID[/finalize]            /acme/authz/ID[/retry]
 *   /acme/chall/ID                       /acme/cert/SERIAL[/N]
 *   /acme/issuer/N */
#ifndef ARO_FRONT_ROUTES_H
#define ARO_FRONT_ROUTES_H

#include "core/exchange.h"
#include "core/server.h"

/* Every ACME request enters here, on whichever thread runs it. */
void router_dispatch(server *srv, const http_request *rq, http_response *rs);

/* Some resources do work before their transaction that may wait (a CAA
 * lookup for a re-enable): whether rq is one, and that work, run on a
 * worker before the request joins the writer. The result goes into
 * rq->prepared for router_dispatch; free it with *release. */
bool router_wants_prepare(const http_request *rq);
void *router_prepare(server *srv, const http_request *rq, void (**release)(void *));

#endif
