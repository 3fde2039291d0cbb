/* Pre-authorization (RFC 8555 7.4.1): newAuthz creates an authorization
 * for one identifier before any order; a later newOrder reuses it once it
 * is valid. Offered when the setting newAuthz is on (not in Pebble mode,
 * which has none). Wildcards cannot be pre-authorized (7.4.1). The
 * payload may carry the retry-options pending-hold opt-in. */
#ifndef ARO_ACME_NEW_AUTHZ_H
#define ARO_ACME_NEW_AUTHZ_H

#include "core/exchange.h"
#include "core/server.h"

void handle_new_authz(server *srv, const http_request *rq, http_response *rs);

#endif
