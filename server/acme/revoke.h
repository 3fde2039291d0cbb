/* Revocation (RFC 8555 7.6), three ways: by the account that holds the
 * certificate, by an account with valid authorizations for every name in
 * it, or signed with the certificate's own key. */
#ifndef ARO_ACME_REVOKE_H
#define ARO_ACME_REVOKE_H

#include "core/exchange.h"
#include "core/server.h"

void handle_revoke(server *srv, const http_request *rq, http_response *rs);

#endif
