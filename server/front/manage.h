/* The management API on its own HTTPS listener, answering like Debian's
 * pebble 2.4 (wfe.ManagementHandler) where Pebble has the path, so scripts
 * written against Pebble work unchanged, plus /metrics (Prometheus text).
 * Read-only: it never writes the store. */
#ifndef ARO_FRONT_MANAGE_H
#define ARO_FRONT_MANAGE_H

#include "core/exchange.h"
#include "core/server.h"

void manage_dispatch(server *srv, const http_request *rq, http_response *rs);

#endif
