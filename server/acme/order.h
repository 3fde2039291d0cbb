/* Orders (RFC 8555 7.4): newOrder (identifier policy, authorization
 * reuse, validity, profiles, ARI "replaces" of RFC 9773 5, the
 * failed-validation limit) and the order resource. */
#ifndef ARO_ACME_ORDER_H
#define ARO_ACME_ORDER_H

#include <time.h>

#include "core/exchange.h"
#include "core/server.h"
#include "store/records.h"
#include "store/store.h"

void handle_new_order(server *srv, const http_request *rq, http_response *rs);
void handle_order(server *srv, const http_request *rq, http_response *rs, const char *id);

/* The order as of now, with its retry-options offer when it has one (its
 * authorizations are read in t only then). malloc'd JSON. */
char *order_render_now(server *srv, store_txn *t, const char *base, const rec_order *o, time_t now);

#endif
