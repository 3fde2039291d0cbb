#include "rules/offer.h"

#include <stdlib.h>
#include <string.h>

#include "rules/identifiers.h"
#include "strv.h"

static bool never_retried(const server_config *cfg, const char *problem_type)
{
    /* A refusal that another attempt cannot change. */
    if (strcmp(problem_type, "caa") == 0 || strcmp(problem_type, "rejectedIdentifier") == 0 ||
        strcmp(problem_type, "unsupportedIdentifier") == 0)
        return true;
    for (size_t i = 0; i < cfg->nretry_never; i++)
        if (strcmp(cfg->retry_never[i], problem_type) == 0)
            return true;
    return false;
}

/* Draft -01 "Zombies": a client that never passes should fail no more
 * often than a legacy client trying each offered method once, so an
 * authorization allows no more attempts than the challenge types it
 * listed at its creation (a wildcard's one dns-01 gets no second attempt
 * of the same type), within retryAttemptsPerAuthorization. */
static long attempts_remaining(const server_config *cfg, const rec_authz *a)
{
    long allowed = (long)cfg->retry_attempts;
    if (a->nchall > 0 && (long)a->nchall < allowed)
        allowed = (long)a->nchall;
    long left = allowed - (long)a->attempts;
    return left > 0 ? left : 0;
}

time_t offer_not_before(const server_config *cfg, const rec_authz *a)
{
    if (a->nfailures == 0)
        return 0;
    const rec_failure *last = &a->failures[a->nfailures - 1];
    long backoff = cfg->retry_min_backoff;
    for (size_t i = 1; i < a->nfailures && backoff < cfg->retry_max_backoff; i++)
        backoff *= 2;
    if (backoff > cfg->retry_max_backoff)
        backoff = cfg->retry_max_backoff;
    /* A dns-01 retry before the resolver's negative cache expires meets
     * the cached NXDOMAIN/NODATA again (RFC 2308 5): the floor comes after
     * the cap, as the draft's "Backoff" asks (an authorization that
     * expires first gets no offer, offer_at_failure). */
    if (strcmp(last->chall_type, "dns-01") == 0 && last->dns_negative_ttl > backoff)
        backoff = last->dns_negative_ttl;
    return last->at + backoff;
}

bool offer_at_failure(const server_config *cfg, const rec_authz *a, const char *problem_type, time_t now,
                      const char **reason)
{
    /* Under --no-retry-options no offer is made and nothing is created, so
     * a failure made then stays without an offer if the switch flips. */
    if (!cfg->retry_options)
        *reason = "retry-options disabled";
    else if (never_retried(cfg, problem_type))
        *reason = "failure is not retryable";
    else if (identifier_blocked(cfg, a->identifier.value))
        *reason = "identifier refused by policy";
    else if (attempts_remaining(cfg, a) == 0)
        *reason = "no attempts left";
    else if (offer_not_before(cfg, a) >= a->expires || now >= a->expires)
        *reason = "authorization expires before the next attempt";
    else
        *reason = NULL;
    return *reason == NULL;
}

/* A type that failed multi-perspective corroboration in this
 * authorization is never offered again in it (other types may be): the
 * failure says that part of the network sees something else, as in a
 * localised hijack, and another attempt of the same type would give that
 * just another chance to pass the quorum. */
static bool failed_corroboration(const rec_authz *a, const char *type)
{
    for (size_t i = 0; i < a->nfailures; i++)
        if (a->failures[i].corroboration && strcmp(a->failures[i].chall_type, type) == 0)
            return true;
    return false;
}

bool offer_type_excluded(const rec_authz *a, const char *type)
{
    return strv_contains(a->caa_excluded, a->ncaa_excluded, type) || failed_corroboration(a, type);
}

static bool reserve_has_pending(const authz_view *v, const char *type)
{
    for (size_t i = 0; i < v->nreserve; i++)
        if (v->reserve[i].status == CHALL_PENDING && strcmp(v->reserve[i].type, type) == 0)
            return true;
    return false;
}

size_t offer_fresh_types(const server_config *cfg, const authz_view *v, const char **types, size_t max)
{
    size_t n = 0;
    if (!cfg->retry_same_type || !v->authz.offer_made)
        return 0;
    /* One fresh challenge per failed type, created when the offer is made
     * so its token never changes between reads; an unchosen one from an
     * earlier offer is offered again rather than creating another row. */
    for (size_t i = 0; i < v->authz.nfailures && n < max; i++) {
        const char *type = v->authz.failures[i].chall_type;
        bool seen = reserve_has_pending(v, type) || offer_type_excluded(&v->authz, type);
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(types[j], type) == 0;
        if (!seen)
            types[n++] = type;
    }
    return n;
}

static void add_choices(authz_offer *o, const rec_authz *a, const rec_chall *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].status != CHALL_PENDING || offer_type_excluded(a, c[i].type))
            continue;
        o->choices = xrealloc(o->choices, (o->nchoices + 1) * sizeof(*o->choices));
        o->choices[o->nchoices++] = &c[i];
    }
}

void offer_for_authz(const server_config *cfg, const authz_view *v, time_t now, authz_offer *out)
{
    const rec_authz *a = &v->authz;
    memset(out, 0, sizeof(*out));
    out->attempts_remaining = attempts_remaining(cfg, a);
    out->not_before = offer_not_before(cfg, a);
    out->expires = a->expires;
    /* Choices: the untried challenges (still pending in the authorization),
     * then the fresh same-type ones created when the offer was made; none
     * of a type that failed corroboration. */
    add_choices(out, a, v->listed, v->nlisted);
    add_choices(out, a, v->reserve, v->nreserve);
    authz_status st = authz_status_at(a->status, a->expires, now);
    /* Held: pending after a failure, no attempt running. */
    bool held = a->hold && st == AUTHZ_PENDING && a->nfailures > 0 && !a->active_chall_id[0];
    if (!cfg->retry_options) {
        out->state = OFFER_SWITCHED_OFF;
        out->reason = "this server does not offer retry-options now";
    } else if (st != AUTHZ_INVALID && !held) {
        out->state = OFFER_NOT_INVALID;
        out->reason = "only an invalid authorization can be re-enabled";
    } else if (!a->offer_made) {
        out->state = OFFER_NONE_AT_FAILURE;
        out->reason = a->no_offer_reason ? a->no_offer_reason : "no offer was made";
    } else if (out->attempts_remaining == 0) {
        out->state = OFFER_NO_ATTEMPTS;
        out->reason = "no attempts left";
    } else if (now >= a->expires) {
        out->state = OFFER_PAST_DEADLINE;
        out->reason = "the deadline has passed";
    } else if (identifier_blocked(cfg, a->identifier.value)) {
        out->state = OFFER_POLICY_REFUSES;
        out->reason = "policy now refuses this identifier";
    } else if (out->nchoices == 0) {
        out->state = OFFER_NOTHING_LEFT;
        out->reason = "nothing left to offer";
    } else {
        out->state = OFFER_OPEN;
        out->reenable = !held;
        out->reason = NULL;
    }
}

const rec_chall *offer_choice(const authz_offer *o, const char *chall_id)
{
    for (size_t i = 0; o->state == OFFER_OPEN && i < o->nchoices; i++)
        if (strcmp(o->choices[i]->id, chall_id) == 0)
            return o->choices[i];
    return NULL;
}

failure_outcome offer_after_failure(const server_config *cfg, const authz_view *v, size_t nfresh)
{
    const rec_authz *a = &v->authz;
    bool untried = false, untried_offerable = false, reserve_offerable = false;
    for (size_t i = 0; i < v->nlisted; i++)
        if (v->listed[i].status == CHALL_PENDING) {
            untried = true;
            untried_offerable |= !offer_type_excluded(a, v->listed[i].type);
        }
    for (size_t i = 0; i < v->nreserve; i++)
        reserve_offerable |= v->reserve[i].status == CHALL_PENDING && !offer_type_excluded(a, v->reserve[i].type);
    if (cfg->failure_mode == FAILURE_ERRATUM)
        return untried ? FAILURE_UNTRIED_LEFT : FAILURE_ENDS_AUTHZ;
    if (cfg->failure_mode == FAILURE_PROCESSING)
        return untried ? FAILURE_KEPT_PROCESSING : FAILURE_ENDS_AUTHZ;
    /* Pending-hold only with something to choose: otherwise the
     * authorization ends as RFC 8555 says. */
    if (a->hold && cfg->pending_hold && cfg->retry_options && a->offer_made &&
        (untried_offerable || reserve_offerable || nfresh > 0))
        return FAILURE_HELD;
    return FAILURE_ENDS_AUTHZ;
}

void authz_offer_clear(authz_offer *o)
{
    free(o->choices);
    memset(o, 0, sizeof(*o));
}

bool order_may_come_back(const rec_order *o, time_t now)
{
    return o->status == ORDER_INVALID && o->invalid_reason == INVALID_AUTHZ && now < o->expires;
}

void offer_for_order(const server_config *cfg, const rec_order *o, const authz_view *views, size_t n,
                     time_t now, order_offer *out)
{
    memset(out, 0, sizeof(*out));
    /* The order echoes the client's pending-hold only while the server
     * offers retry-options: switched off, it reads as plain RFC 8555. */
    bool hold = cfg->retry_options && o->hold;
    out->hold = hold;
    if (!cfg->retry_options || !order_may_come_back(o, now))
        return;
    /* An order can come back only if every authorization that made it
     * invalid can: one without an offer (or deactivated, expired, revoked)
     * means no offer for the order either. */
    bool usable = true;
    for (size_t i = 0; i < n && usable; i++) {
        const rec_authz *a = &views[i].authz;
        authz_status st = authz_status_at(a->status, a->expires, now);
        if (st == AUTHZ_INVALID) {
            authz_offer ao;
            offer_for_authz(cfg, &views[i], now, &ao);
            if (ao.state == OFFER_OPEN) {
                out->authz_ids = xrealloc(out->authz_ids, (out->nauthz + 1) * sizeof(*out->authz_ids));
                out->authz_ids[out->nauthz++] = a->id;
                /* The earliest time something can be done for this order. */
                if (!out->not_before || ao.not_before < out->not_before)
                    out->not_before = ao.not_before;
            } else {
                usable = false;
            }
            authz_offer_clear(&ao);
        } else if (st != AUTHZ_PENDING && st != AUTHZ_VALID) {
            usable = false;
        }
    }
    out->open = usable && out->nauthz > 0 && n == o->nauthz;
    if (!out->open)
        order_offer_clear(out);
    out->hold = hold;
}

void order_offer_clear(order_offer *o)
{
    free(o->authz_ids);
    memset(o, 0, sizeof(*o));
}
