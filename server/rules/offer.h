/* The retry-options decision (draft-aro-acme-retry-options), made in one
 * place: whether a failed authorization is offered another attempt, with
 * which challenges, from when, until when and how many times; and whether
 * an invalid order can come back. Rendering (acme/render.c) and the
 * re-enable request (acme/authz.c) both read the decision; nothing else
 * works it out. Every function here is pure: it reads records and the
 * settings, never the store, so each rule can be tested without one.
 *
 * Two moments: at the failure (offer_at_failure: is an offer made, which
 * fresh same-type challenges does it need, does the authorization become
 * invalid or stay pending; the answers are kept as facts in the record)
 * and now (offer_for_authz: is that offer still open, given the switch,
 * the attempts left, the deadline and the policy).
 *
 * An offer is open on an invalid authorization (the client re-enables it,
 * acme/authz.c), or on a pending one whose client opted in to pending-hold
 * at newOrder (the client answers an offered challenge, acme/challenge.c):
 * the same decision, two ways to take it up.
 *
 * A failure of multi-perspective corroboration (rec_failure.corroboration,
 * server/mpic/) gets no same-type choice, then or later in the same
 * authorization: neither a fresh challenge nor a pending one of that type
 * is offered; other types may still be. */
#ifndef ARO_RULES_OFFER_H
#define ARO_RULES_OFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "settings/config.h"
#include "store/repo.h"

/* Why there is no offer, or OFFER_OPEN when there is one. */
typedef enum {
    OFFER_OPEN,
    OFFER_SWITCHED_OFF,     /* --no-retry-options now */
    OFFER_NOT_INVALID,      /* neither invalid nor a held pending authorization after a failure */
    OFFER_NONE_AT_FAILURE,  /* none was made when it failed (record's no_offer_reason says why) */
    OFFER_NO_ATTEMPTS,      /* attemptsPerAuthorization used up */
    OFFER_PAST_DEADLINE,    /* the authorization expired */
    OFFER_POLICY_REFUSES,   /* the identifier is now refused by policy */
    OFFER_NOTHING_LEFT,     /* no pending challenge to choose */
} offer_state;

typedef struct {
    offer_state state;
    bool reenable;              /* taken up by re-enabling (the authorization is invalid);
                                 * false: by answering a choice (pending-hold) */
    const char *reason;         /* text for a refusal; static or in the view's record */
    long attempts_remaining;
    time_t not_before;          /* the earliest next attempt */
    time_t expires;             /* the deadline: the authorization's expiry */
    const rec_chall **choices;  /* pointers into the view: untried listed challenges,
                                 * then the fresh same-type ones */
    size_t nchoices;
} authz_offer;

/* At a failure of authorization a (already holding the failure in its
 * failures list) with problem_type (short ACME type): true when an offer
 * is made; else *reason says why not (kept in the record). */
bool offer_at_failure(const server_config *cfg, const rec_authz *a, const char *problem_type, time_t now,
                      const char **reason);
/* The challenge types that need a fresh challenge for the offer just made
 * (same-type retries use a fresh challenge: a failed one stays invalid):
 * one per failed type, unless a pending one of that type is in reserve or
 * CAA excluded the type or it failed multi-perspective corroboration.
 * Fills types (pointers into the view's records); returns how many. */
size_t offer_fresh_types(const server_config *cfg, const authz_view *v, const char **types, size_t max);

/* What a failed attempt does to its authorization. */
typedef enum {
    FAILURE_ENDS_AUTHZ,         /* RFC 8555 7.1.6: invalid (an offer is taken up by re-enabling) */
    FAILURE_HELD,               /* pending-hold: stays pending, the offer open */
    FAILURE_UNTRIED_LEFT,       /* failureMode erratum: pending while a listed challenge is untried */
    FAILURE_KEPT_PROCESSING,    /* failureMode processing: the challenge stays processing, its error
                                 * shown, the authorization pending while one is untried */
} failure_outcome;

/* v: the authorization with the failure recorded and the offer decided
 * (offer_made, caa_excluded), its failing challenge still processing;
 * nfresh: the fresh challenges about to be made for the offer. */
failure_outcome offer_after_failure(const server_config *cfg, const authz_view *v, size_t nfresh);
/* Is this type excluded by CAA in the record's facts? */
bool offer_type_excluded(const rec_authz *a, const char *type);

/* The offer open now for the viewed authorization. out->choices must be
 * released with authz_offer_clear; it points into v. */
void offer_for_authz(const server_config *cfg, const authz_view *v, time_t now, authz_offer *out);
void authz_offer_clear(authz_offer *o);
/* The offered choice with this challenge id, or NULL. */
const rec_chall *offer_choice(const authz_offer *o, const char *chall_id);
/* The earliest next attempt after the last failure: the backoff doubling
 * per failure, at least the dns-01 negative-caching time (RFC 2308). */
time_t offer_not_before(const server_config *cfg, const rec_authz *a);

/* An invalid order can come back only when every authorization that made
 * it invalid is offered a retry: the order is invalid because of failed
 * authorizations (not expiry, issuance or a deactivation) and not
 * expired. */
bool order_may_come_back(const rec_order *o, time_t now);

typedef struct {
    bool open;
    const char **authz_ids;     /* the authorizations to re-enable (into the views) */
    size_t nauthz;
    time_t not_before;          /* the earliest of their offers */
    bool hold;                  /* pending-hold, echoed while retry-options is on */
} order_offer;

/* views: the order's authorizations, in its order. */
void offer_for_order(const server_config *cfg, const rec_order *o, const authz_view *views, size_t n,
                     time_t now, order_offer *out);
void order_offer_clear(order_offer *o);

#endif
