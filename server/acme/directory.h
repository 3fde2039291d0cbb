/* The directory (RFC 8555 7.1.1), with the meta members of RFC 8555,
 * the profiles draft and retry-options; and newNonce (7.2). Neither
 * touches the store: they run on the event loops. */
#ifndef ARO_ACME_DIRECTORY_H
#define ARO_ACME_DIRECTORY_H

#include "core/exchange.h"
#include "core/server.h"

void handle_directory(server *srv, const http_request *rq, http_response *rs);
void handle_new_nonce(server *srv, const http_request *rq, http_response *rs);

#endif
