/* Authorizations (RFC 8555 7.5): the resource, deactivation (7.5.2), and
 * the retry-options re-enable request (draft-aro-acme-retry-options: an
 * invalid authorization and its orders go back to pending with a chosen
 * offered challenge processing, in one transaction, or a problem says
 * why not: retryNotAllowed, malformed, rateLimited with Retry-After,
 * alreadyReplaced). */
#ifndef ARO_ACME_AUTHZ_H
#define ARO_ACME_AUTHZ_H

#include <time.h>

#include "acme/auth.h"
#include "core/exchange.h"
#include "core/server.h"
#include "store/repo.h"

void handle_authz(server *srv, const http_request *rq, http_response *rs, const char *id);
void handle_authz_retry(server *srv, const http_request *rq, http_response *rs, const char *id);

/* The re-enable request's work before its transaction, on a worker (the
 * event loops and the writer never wait on DNS), with the request's
 * authentication made ahead (rq->auth): CAA (RFC 8659, RFC 8657) is looked up for
 * the challenge type it names, so that a type CAA now excludes is refused
 * up front. NULL when there is nothing to look up (the request will be
 * refused anyway, or the identifier is an IP address). */
void *authz_retry_prepare(server *srv, const http_request *rq, const char *id);
void authz_retry_prepared_free(void *prepared);

/* The authorization id of the requesting account, with its challenges:
 * 0, or -1 with 404/403/500 in rs. */
int authz_load_own(store_txn *t, const char *id, const acme_auth *a, authz_view *v, http_response *rs);
/* Retry-After for a pending authorization: the polling interval, or for
 * a held one the seconds until its offer's notBefore. */
long authz_poll_hint(server *srv, const authz_view *v, time_t now);
/* The authorization as of now with the offer decided for it (JSON). */
char *authz_render_now(server *srv, const char *base, const authz_view *v, time_t now);

#endif
