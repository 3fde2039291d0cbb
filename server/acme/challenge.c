#include "acme/challenge.h"

#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "acme/authz.h"
#include "acme/render.h"
#include "core/urls.h"
#include "jobs/validation.h"
#include "rules/lifecycle.h"
#include "rules/offer.h"
#include "store/repo.h"

/* The challenge as the authorization of v now sees it, with the
 * authorization's offer when it failed. */
static char *challenge_render_now(server *srv, const char *base, const authz_view *v, const rec_chall *c,
                                  time_t now)
{
    authz_offer offer;
    offer_for_authz(&srv->cfg, v, now, &offer);
    char *body = render_challenge(base, c, &offer);
    authz_offer_clear(&offer);
    return body;
}

/* Which challenges a pending authorization takes a response for: the
 * listed ones (7.5.1); under pending-hold after a failure, exactly the
 * offered choices (an untried listed one or a fresh same-type one, never
 * a type CAA now excludes), and not before the offer's notBefore. 0, or -1
 * with the refusal in rs. */
static int held_choice_refused(server *srv, const authz_view *v, const rec_chall *c, time_t now,
                               http_response *rs)
{
    authz_offer offer;
    offer_for_authz(&srv->cfg, v, now, &offer);
    int ret = 0;
    bool held = v->authz.hold && v->authz.nfailures > 0;
    if (held && offer.state != OFFER_OPEN && c->status == CHALL_PENDING) {
        /* Held after a failure, but the offer closed (policy, switch):
         * no further attempt. */
        response_error(rs, "retryNotAllowed", 403, "%s", offer.reason ? offer.reason : "no offer stands");
        ret = -1;
    } else if (offer.state != OFFER_OPEN || offer.reenable) {
        if (!strv_contains(v->authz.chall_ids, v->authz.nchall, c->id)) {
            response_error(rs, "malformed", 400, "this challenge is not offered by its authorization");
            ret = -1;
        }
    } else if (!offer_choice(&offer, c->id)) {
        /* The failed challenge included: it is final, and only an
         * offered one starts an attempt. */
        response_error(rs, "malformed", 400, "this challenge is not one of those retry-options offers now");
        ret = -1;
    } else if (c->status == CHALL_PENDING && now < offer.not_before) {
        response_error(rs, "rateLimited", 429, "too early: retry after notBefore");
        rs->retry_after = (long)(offer.not_before - now);
        ret = -1;
    }
    authz_offer_clear(&offer);
    return ret;
}

void handle_challenge(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_chall c;
    authz_view v;
    bool have_c = false, have_v = false;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    t = store_begin(srv->st, !a.post_as_get);
    if (!t) {
        response_store_error(rs);
        goto out;
    }
    if (auth_found(repo_chall_get(t, id, &c), "challenge", rs) < 0)
        goto out;
    have_c = true;
    if (authz_load_own(t, c.authz_id, &a, &v, rs) < 0)
        goto out;
    have_v = true;
    rec_authz *az = &v.authz;
    char *up = url_for(rq->base, "authz", az->id);
    response_link(rs, up, "up");
    free(up);
    if (a.post_as_get) {
        if (c.status == CHALL_PROCESSING)
            rs->retry_after = srv->cfg.retry_after_pending;
        response_json(rs, 200, challenge_render_now(srv, rq->base, &v, &c, rq->now));
        goto out;
    }
    /* 7.5.1: the client says it is ready. */
    authz_status ast = authz_status_at(az->status, az->expires, rq->now);
    if (ast != AUTHZ_PENDING) {
        response_error(rs, "malformed", 400, "authorization must be pending (it is %s)", authz_status_name(ast));
        goto out;
    }
    if (held_choice_refused(srv, &v, &c, rq->now, rs) < 0)
        goto out;
    if (c.status != CHALL_PENDING) {
        /* 8.2: a repeated response while processing is no new attempt;
         * the client sees the current state. */
        if (c.status == CHALL_PROCESSING)
            rs->retry_after = srv->cfg.retry_after_pending;
        response_json(rs, 200, challenge_render_now(srv, rq->base, &v, &c, rq->now));
        goto out;
    }
    if (az->active_chall_id[0]) {
        response_error(rs, "malformed", 400, "another challenge of this authorization is being validated");
        goto out;
    }
    if (auth_within_failure_limit(srv, t, az->account_id, &az->identifier, rq->now, rs) < 0)
        goto out;
    int rc = lifecycle_challenge_respond(t, az, &c, rq->now);
    if (rc != 0) {
        if (rc < 0)
            response_store_error(rs);
        else
            response_error(rs, "malformed", 400, "the challenge cannot be answered now");
        goto out;
    }
    if (auth_commit_answer(&t, rs, 200, challenge_render_now(srv, rq->base, &v, &c, rq->now)) < 0)
        goto out;
    validation_submit(srv, rq->base, az, c.id);
    rs->retry_after = srv->cfg.retry_after_pending;
out:
    store_abort(t);
    if (have_c)
        rec_chall_clear(&c);
    if (have_v)
        authz_view_clear(&v);
    auth_clear(&a);
}
