/* One function per ACME resource. Each authenticates the request
 * (auth.c), reads and writes records in one store transaction (db.c),
 * asks the state module (common/status.c) and policy (policy.c) before any
 * status change, and renders the answer (render.c). */
#ifndef ARO_HANDLERS_H
#define ARO_HANDLERS_H

#include "core/exchange.h"
#include "core/server.h"
#include "store/store.h"

void handle_directory(server *srv, const http_request *rq, http_response *rs);
void handle_new_nonce(server *srv, const http_request *rq, http_response *rs);
void handle_new_account(server *srv, const http_request *rq, http_response *rs);
void handle_account(server *srv, const http_request *rq, http_response *rs, const char *id);
void handle_account_orders(server *srv, const http_request *rq, http_response *rs, const char *id);
void handle_key_change(server *srv, const http_request *rq, http_response *rs);
void handle_new_order(server *srv, const http_request *rq, http_response *rs);
void handle_order(server *srv, const http_request *rq, http_response *rs, const char *id);
void handle_finalize(server *srv, const http_request *rq, http_response *rs, const char *id);
void handle_authz(server *srv, const http_request *rq, http_response *rs, const char *id);
void handle_authz_retry(server *srv, const http_request *rq, http_response *rs, const char *id);
void handle_challenge(server *srv, const http_request *rq, http_response *rs, const char *id);
void handle_cert(server *srv, const http_request *rq, http_response *rs, const char *id, int alt);
void handle_issuer(server *srv, const http_request *rq, http_response *rs, int n);
void handle_revoke(server *srv, const http_request *rq, http_response *rs);
void handle_renewal_info(server *srv, const http_request *rq, http_response *rs, const char *cert_id);

/* Start validating challenge chall_id of authz_id as attempt seq, on a
 * worker (validation.c). The caller has committed the "processing" state. */
void validation_submit(server *srv, const char *base, const char *authz_id, const char *chall_id,
                       unsigned seq);
/* Re-queue validations that were in flight when the server stopped. */
void validation_resume_all(server *srv);
/* Queue issuance of a finalized order (finalize.c). */
bool issuance_submit(server *srv, const char *order_id, const unsigned char *csr_der, size_t len);
void issuance_resume_all(server *srv);

/* Common answer for a store failure. */

#endif
