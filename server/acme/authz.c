#include "acme/authz.h"

#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "acme/render.h"
#include "core/metrics.h"
#include "core/urls.h"
#include "jobs/validation.h"
#include "rules/lifecycle.h"
#include "rules/offer.h"
#include "store/repo.h"
#include "va/va.h"

char *authz_render_now(server *srv, const char *base, const authz_view *v, time_t now)
{
    authz_offer offer;
    offer_for_authz(&srv->cfg, v, now, &offer);
    char *body = render_authz(base, v, &offer, now);
    authz_offer_clear(&offer);
    return body;
}

long authz_poll_hint(server *srv, const authz_view *v, time_t now)
{
    authz_offer offer;
    offer_for_authz(&srv->cfg, v, now, &offer);
    long hint = srv->cfg.retry_after_pending;
    /* Held: nothing changes before the client acts, which it may at
     * notBefore (RFC 9110 10.2.3: when to ask again). */
    if (offer.state == OFFER_OPEN && !offer.reenable && offer.not_before > now)
        hint = (long)(offer.not_before - now);
    authz_offer_clear(&offer);
    return hint;
}

int authz_load_own(store_txn *t, const char *id, const acme_auth *a, authz_view *v, http_response *rs)
{
    if (auth_found(repo_authz_view(t, id, v), "authorization", rs) < 0)
        return -1;
    if (auth_owns(a, v->authz.account_id, "authorization", rs) < 0) {
        authz_view_clear(v);
        return -1;
    }
    return 0;
}

void handle_authz(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    authz_view v;
    bool have = false;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    t = store_begin(srv->st, !a.post_as_get);
    if (!t) {
        response_store_error(rs);
        goto out;
    }
    if (authz_load_own(t, id, &a, &v, rs) < 0)
        goto out;
    have = true;
    authz_status now_status = authz_status_at(v.authz.status, v.authz.expires, rq->now);
    if (a.post_as_get) {
        if (now_status == AUTHZ_PENDING)
            rs->retry_after = authz_poll_hint(srv, &v, rq->now);
        response_json(rs, 200, authz_render_now(srv, rq->base, &v, rq->now));
        goto out;
    }
    /* 7.5.2: {"status": "deactivated"} is the only update. */
    const char *status = json_str(a.payload, "status");
    if (!status || strcmp(status, "deactivated") != 0) {
        response_error(rs, "malformed", 400, "the only update is {\"status\": \"deactivated\"}");
        goto out;
    }
    int rc = lifecycle_authz_deactivate(t, &v.authz, rq->now);
    if (rc == 1) {
        response_error(rs, "malformed", 400, "an authorization that is %s cannot be deactivated",
                       authz_status_name(now_status));
        goto out;
    }
    authz_view now;
    if (rc < 0 || repo_authz_view_of(t, &v.authz, &now) < 0) {
        response_store_error(rs);
        goto out;
    }
    auth_commit_answer(&t, rs, 200, authz_render_now(srv, rq->base, &now, rq->now));
    authz_view_clear(&now);
out:
    store_abort(t);
    if (have)
        authz_view_clear(&v);
    auth_clear(&a);
}

typedef struct {
    char authz_id[ID_LEN];
    char chall_id[ID_LEN];
    acme_problem *caa;      /* CAA refuses the named type now, or NULL */
} reenable_prepared;

/* The named challenge among the view's listed and reserve challenges. */
static const rec_chall *view_challenge(const authz_view *v, const char *cid)
{
    for (size_t i = 0; cid && i < v->nlisted + v->nreserve; i++) {
        const rec_chall *c = i < v->nlisted ? &v->listed[i] : &v->reserve[i - v->nlisted];
        if (strcmp(c->id, cid) == 0)
            return c;
    }
    return NULL;
}

/* CAA for re-enabling v with c (the account's URL for accounturi). NULL
 * when CAA lets this CA issue with c's type. */
static acme_problem *reenable_caa(server *srv, const char *base, const authz_view *v, const rec_chall *c)
{
    const rec_authz *az = &v->authz;
    if (strcmp(az->identifier.type, "ip") == 0)
        return NULL; /* RFC 8738 7: no CAA for IP addresses */
    char *acct_url = account_url(base, az->account_id);
    acme_problem *p = NULL;
    va_check_caa(&srv->cfg.va, az->identifier.value, az->wildcard, c->type, acct_url,
                 (const char *const *)srv->cfg.caa_identities, srv->cfg.ncaa_identities, &p);
    free(acct_url);
    if (p && strcmp(problem_short_type(p->type), "caa") == 0) {
        free(p->detail);
        p->detail = xasprintf("CAA now forbids this CA to validate %s with %s: the offer no longer holds for it",
                              az->identifier.value, c->type);
    }
    return p;
}

void *authz_retry_prepare(server *srv, const http_request *rq, const char *id)
{
    /* The request's authentication, made ahead (acme/auth.c); the
     * transaction checks it again. */
    const acme_auth *a = rq->auth;
    http_response ignored = {.retry_after = -1};
    reenable_prepared *pp = NULL;
    if (!a)
        return NULL;
    const char *curl = a->payload ? json_str(a->payload, "challenge") : NULL;
    const char *cid = curl ? id_in_url(rq->base, curl, "chall") : NULL;
    store_txn *t = cid ? store_begin(srv->st, false) : NULL;
    authz_view v;
    if (!t || authz_load_own(t, id, a, &v, &ignored) < 0) {
        store_abort(t);
        goto out;
    }
    store_abort(t);
    const rec_chall *c = view_challenge(&v, cid);
    if (c && strcmp(v.authz.identifier.type, "ip") != 0) {
        pp = xcalloc(1, sizeof(*pp));
        snprintf(pp->authz_id, sizeof(pp->authz_id), "%s", v.authz.id);
        snprintf(pp->chall_id, sizeof(pp->chall_id), "%s", c->id);
        pp->caa = reenable_caa(srv, rq->base, &v, c);
    }
    authz_view_clear(&v);
out:
    response_clear(&ignored);
    return pp;
}

void authz_retry_prepared_free(void *prepared)
{
    reenable_prepared *pp = prepared;
    if (!pp)
        return;
    problem_free(pp->caa);
    free(pp);
}

/* The CAA verdict for re-enabling v with c: the one looked up before the
 * transaction; looked up here only where waiting on DNS blocks nobody (no
 * group-commit writer). 0, or -1 with the refusal in rs. */
static int reenable_caa_allows(server *srv, const http_request *rq, const authz_view *v, const rec_chall *c,
                               http_response *rs)
{
    const reenable_prepared *pp = rq->prepared;
    acme_problem *own = NULL;
    const acme_problem *verdict = NULL;
    if (strcmp(v->authz.identifier.type, "ip") == 0)
        return 0;
    if (pp && strcmp(pp->authz_id, v->authz.id) == 0 && strcmp(pp->chall_id, c->id) == 0) {
        verdict = pp->caa;
    } else if (!srv->writer) {
        verdict = own = reenable_caa(srv, rq->base, v, c);
    } else {
        response_error(rs, "serverInternal", 503, "CAA could not be checked for this re-enable; retry");
        rs->retry_after = 1;
        return -1;
    }
    if (verdict)
        response_problem(rs, verdict);
    problem_free(own);
    return verdict ? -1 : 0;
}

static void count_reenable(server *srv, const char *result)
{
    char labels[48];
    snprintf(labels, sizeof(labels), "result=\"%s\"", result);
    metrics_inc(srv->m, "aro_reenables_total", labels);
}

/* The challenge the re-enable request names, if the open offer lists it. */
static const rec_chall *offered_choice(const authz_offer *offer, const char *base, const char *url)
{
    for (size_t i = 0; i < offer->nchoices; i++) {
        char *u = url_for(base, "chall", offer->choices[i]->id);
        bool same = strcmp(u, url) == 0;
        free(u);
        if (same)
            return offer->choices[i];
    }
    return NULL;
}

/* Why a re-enable is refused before the offer is looked at, or NULL. */
static const char *refusal_by_status(const authz_view *v, time_t now, char *buf, size_t len)
{
    authz_status st = authz_status_at(v->authz.status, v->authz.expires, now);
    if (st == AUTHZ_DEACTIVATED)
        return "the authorization was deactivated, which withdrew its offer";
    if (st != AUTHZ_INVALID) {
        snprintf(buf, len, "only an invalid authorization can be re-enabled (it is %s)", authz_status_name(st));
        return buf;
    }
    return NULL;
}

void handle_authz_retry(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    authz_view v;
    authz_offer offer = {0};
    bool have = false, accepted = false;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    const char *curl = a.payload ? json_str(a.payload, "challenge") : NULL;
    if (!curl) {
        response_error(rs, "malformed", 400, "the re-enable request needs {\"challenge\": \"<url>\"}");
        goto out;
    }
    t = store_begin(srv->st, true);
    if (!t) {
        response_store_error(rs);
        goto out;
    }
    if (authz_load_own(t, id, &a, &v, rs) < 0)
        goto out;
    have = true;
    rec_authz *az = &v.authz;
    const char *cid = id_in_url(rq->base, curl, "chall");
    /* A repeat: the request that started the latest attempt, again,
     * whatever became of the attempt (processing, valid, failed). Nothing
     * changes; the answer is the authorization as it is now. */
    if (cid && az->last_by_reenable && strcmp(az->last_chall_id, cid) == 0) {
        if (authz_status_at(az->status, az->expires, rq->now) == AUTHZ_PENDING)
            rs->retry_after = srv->cfg.retry_after_pending;
        response_json(rs, 200, authz_render_now(srv, rq->base, &v, rq->now));
        goto out;
    }
    char why[128];
    const char *refusal = refusal_by_status(&v, rq->now, why, sizeof(why));
    if (refusal) {
        response_error(rs, "retryNotAllowed", 403, "%s", refusal);
        goto out;
    }
    offer_for_authz(&srv->cfg, &v, rq->now, &offer);
    if (offer.state != OFFER_OPEN) {
        response_error(rs, "retryNotAllowed", 403, "%s", offer.reason);
        goto out;
    }
    const rec_chall *choice = cid ? offered_choice(&offer, rq->base, curl) : NULL;
    if (!choice) {
        response_error(rs, "malformed", 400, "\"%s\" is not one of the challenges offered in retry-options", curl);
        goto out;
    }
    if (rq->now < offer.not_before) {
        response_error(rs, "rateLimited", 429, "too early: retry after notBefore");
        rs->retry_after = (long)(offer.not_before - rq->now);
        goto out;
    }
    if (reenable_caa_allows(srv, rq, &v, choice, rs) < 0)
        goto out;
    if (auth_within_failure_limit(srv, t, az->account_id, &az->identifier, rq->now, rs) < 0)
        goto out;
    if (lifecycle_reenable_conflicts_with_replacement(t, az, rq->now)) {
        response_error(rs, "alreadyReplaced", 409,
                       "an order of this authorization replaces a certificate another order has replaced "
                       "or now replaces");
        goto out;
    }
    /* One transaction: authorization pending, its orders pending again,
     * the chosen challenge processing. */
    rec_chall c;
    if (repo_chall_get(t, choice->id, &c) != 0) {
        response_store_error(rs);
        goto out;
    }
    authz_offer_clear(&offer);
    int rc = lifecycle_reenable(t, az, &c, rq->now);
    rec_chall_clear(&c);
    if (rc == 1) {
        response_error(rs, "retryNotAllowed", 403, "the state machine refuses this re-enable");
        goto out;
    }
    authz_view fresh;
    if (rc < 0 || repo_authz_view_of(t, az, &fresh) < 0) {
        response_store_error(rs);
        goto out;
    }
    char *body = authz_render_now(srv, rq->base, &fresh, rq->now);
    authz_view_clear(&fresh);
    if (auth_commit_answer(&t, rs, 200, body) < 0)
        goto out;
    accepted = true;
    validation_submit(srv, rq->base, az, az->active_chall_id);
    rs->location = url_for(rq->base, "authz", az->id);
    rs->retry_after = srv->cfg.retry_after_pending;
out:
    if (a.has_acct && rs->endpoint)
        count_reenable(srv, accepted || rs->status == 200 ? "accepted" : "refused");
    store_abort(t);
    authz_offer_clear(&offer);
    if (have)
        authz_view_clear(&v);
    auth_clear(&a);
}
