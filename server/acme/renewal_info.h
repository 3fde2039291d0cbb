/* Renewal information (RFC 9773 4): the suggested renewal window of a
 * certificate named by its CertID, fetched with an unauthenticated GET. */
#ifndef ARO_ACME_RENEWAL_INFO_H
#define ARO_ACME_RENEWAL_INFO_H

#include "core/exchange.h"
#include "core/server.h"

void handle_renewal_info(server *srv, const http_request *rq, http_response *rs, const char *cert_id);

#endif
