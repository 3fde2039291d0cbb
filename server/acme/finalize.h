/* Finalization (RFC 8555 7.4): the CSR is checked (rules/csr_policy.c),
 * the order goes from ready to processing with the CSR stored, and the
 * issuance runs asynchronously (jobs/issuance.c); the client polls the
 * order until it is valid. */
#ifndef ARO_ACME_FINALIZE_H
#define ARO_ACME_FINALIZE_H

#include "core/exchange.h"
#include "core/server.h"

void handle_finalize(server *srv, const http_request *rq, http_response *rs, const char *id);

#endif
