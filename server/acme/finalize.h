/* Finalization (RFC 8555 7.4): the CSR is checked (rules/csr_policy.c),
 * the order goes from ready to processing with the CSR stored, and the
 * issuance runs asynchronously (jobs/issuance.c); the client polls the
 * order until it is valid. */
#ifndef ARO_ACME_FINALIZE_H
#define ARO_ACME_FINALIZE_H

#include "core/exchange.h"
#include "core/server.h"

void handle_finalize(server *srv, const http_request *rq, http_response *rs, const char *id);
/* On the event loop, before the request's transaction: the CSR decoded
 * and its signature checked (the costliest step of a finalization), so
 * that the group-commit writer, which every account's writes wait for,
 * checks no signature. Needs rq->auth (made ahead); NULL when the payload
 * has no "csr" (handle_finalize answers it). Release with
 * finalize_prepared_free. */
void *finalize_prepare(const http_request *rq);
void finalize_prepared_free(void *prepared);

#endif
