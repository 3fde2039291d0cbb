/* The ACME objects clients see (RFC 8555 7.1), rendered from stored
 * records and the decisions made about them, with URLs built from the
 * request's base (core/urls.c). The "retry-options" member is rendered
 * from the offer rules/offer.c decided; it is never stored
 * (draft-aro-acme-retry-options). Rendering never touches the store:
 * callers load what is rendered (store/repo.h's views) first. */
#ifndef ARO_ACME_RENDER_H
#define ARO_ACME_RENDER_H

#include <time.h>

#include "rules/offer.h"
#include "store/repo.h"

/* offer: the authorization's offer, shown on a failed challenge when
 * open (clients that poll the challenge rather than the authorization see
 * it too), or NULL. All return malloc'd JSON. */
char *render_challenge(const char *base, const rec_chall *c, const authz_offer *offer);
char *render_authz(const char *base, const authz_view *v, const authz_offer *offer, time_t now);
char *render_order(const char *base, const rec_order *o, const order_offer *offer, time_t now);
char *render_account(const char *base, const rec_account *a);

#endif
