/* The directory (RFC 8555 7.1.1), with the meta members of RFC 8555,
 * the profiles draft and retry-options; and newNonce (7.2). Read with GET
 * (HEAD), they touch no store and run on the event loops; read with
 * POST-as-GET (6.3), they authenticate the account like any other POST
 * and run where every POST runs. */
#ifndef ARO_ACME_DIRECTORY_H
#define ARO_ACME_DIRECTORY_H

#include "core/exchange.h"
#include "core/server.h"

void handle_directory(server *srv, const http_request *rq, http_response *rs);
void handle_new_nonce(server *srv, const http_request *rq, http_response *rs);

#endif
