/* Rendering stored records as the ACME objects clients see, with URLs
 * built from the request's base. The "retry-options" member is built here
 * from stored facts, the current policy and the switch; it is never
 * stored (draft-aro-acme-retry-options). */
#ifndef ARO_RENDER_H
#define ARO_RENDER_H

#include "acme_objects.h"
#include "store/model.h"
#include "core/server.h"

char *url_for(const char *base, const char *kind, const char *id);
/* The id at the end of a path like "/acme/authz/ID" (kind "authz"), with
 * an optional suffix ("/retry"); NULL when the path does not match. */
char *id_from_path(const char *path, const char *kind, const char *suffix);

/* The id in a full URL of this server, "BASE/acme/KIND/ID" (a kid, a
 * challenge URL in a re-enable request); a pointer into url, or NULL. */
const char *id_in_url(const char *base, const char *url, const char *kind);

/* The offer for an invalid authorization, or NULL when there is none now
 * (switch off, no offer made at the failure, exhausted, past deadline,
 * policy refuses, nothing left to choose). */
acme_retry_options *render_authz_retry(server *srv, store_txn *t, const char *base,
                                       const rec_authz *a, time_t now);
/* The authorizations of an invalid order that may be re-enabled. */
acme_retry_options *render_order_retry(server *srv, store_txn *t, const char *base,
                                       const rec_order *o, time_t now);

char *render_challenge(server *srv, store_txn *t, const char *base, const rec_chall *c,
                       const rec_authz *a, time_t now);
char *render_authz(server *srv, store_txn *t, const char *base, const rec_authz *a, time_t now);
char *render_order(server *srv, store_txn *t, const char *base, const rec_order *o, time_t now);
char *render_account(const char *base, const rec_account *a);

/* Fill an acme_challenge from a record (for embedding). */
void challenge_from_rec(acme_challenge *out, const char *base, const rec_chall *c);

#endif
