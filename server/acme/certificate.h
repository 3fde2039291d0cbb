/* Certificate download (RFC 8555 7.4.2): the full PEM chain (leaf first,
 * no Link rel="up": the chain is in the body) with rel="alternate" for
 * every other chain; and the issuer certificates themselves (public). */
#ifndef ARO_ACME_CERTIFICATE_H
#define ARO_ACME_CERTIFICATE_H

#include "core/exchange.h"
#include "core/server.h"

/* alt: 0 the default chain, else alternate chain alt. */
void handle_cert(server *srv, const http_request *rq, http_response *rs, const char *serial, int alt);
void handle_issuer(server *srv, const http_request *rq, http_response *rs, int n);

#endif
