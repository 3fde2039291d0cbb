/* Authorizations (7.5), challenges (7.5.1) and the retry-options
 * re-enable request (draft-aro-acme-retry-options). */
#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "store/db.h"
#include "acme/handlers.h"
#include "rules/lifecycle.h"
#include "core/metrics.h"
#include "rules/policy.h"
#include "acme/render.h"

/* Load an authorization for the requesting account; on failure the
 * response holds the problem and -1 is returned. */
static int load_own_authz(store_txn *t, const char *id, const acme_auth *a, rec_authz *out,
                          http_response *rs)
{
    int rc = db_get_authz(t, id, out);
    if (rc == 1) {
        response_error(rs, "malformed", 404, "no such authorization");
        return -1;
    }
    if (rc < 0) {
        response_store_error(rs);
        return -1;
    }
    if (strcmp(out->account_id, a->acct.id) != 0) {
        rec_authz_clear(out);
        response_error(rs, "unauthorized", 403, "this authorization belongs to another account");
        return -1;
    }
    return 0;
}

static int commit(store_txn **t, http_response *rs)
{
    int rc = store_commit(*t, NULL);
    *t = NULL;
    if (rc < 0)
        response_store_error(rs);
    return rc;
}

void handle_authz(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_authz az;
    bool have = false;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    t = store_begin(srv->st, !a.post_as_get);
    if (!t) {
        response_store_error(rs);
        goto out;
    }
    if (load_own_authz(t, id, &a, &az, rs) < 0)
        goto out;
    have = true;
    if (!a.post_as_get) {
        /* 7.5.2: {"status": "deactivated"} is the only update. */
        const char *status = json_str(a.payload, "status");
        authz_status next;
        if (!status || strcmp(status, "deactivated") != 0) {
            response_error(rs, "malformed", 400, "the only update is {\"status\": \"deactivated\"}");
            goto out;
        }
        if (!authz_transition(authz_effective_status(&az, rq->now), AUTHZ_EV_DEACTIVATE, &next)) {
            response_error(rs, "malformed", 400, "an authorization that is %s cannot be deactivated",
                           authz_status_name(authz_effective_status(&az, rq->now)));
            goto out;
        }
        az.status = next;
        az.offer_made = false; /* deactivation withdraws any retry offer */
        az.active_chall_id[0] = 0;
        if (db_put_authz(t, &az) < 0 || orders_follow_authz(srv, t, &az, rq->now, NULL) < 0) {
            response_store_error(rs);
            goto out;
        }
        char *body = render_authz(srv, t, rq->base, &az, rq->now);
        if (commit(&t, rs) < 0) {
            free(body);
            goto out;
        }
        response_json(rs, 200, body);
        goto out;
    }
    if (authz_effective_status(&az, rq->now) == AUTHZ_PENDING)
        rs->retry_after = srv->cfg.retry_after_pending;
    response_json(rs, 200, render_authz(srv, t, rq->base, &az, rq->now));
out:
    store_abort(t);
    if (have)
        rec_authz_clear(&az);
    auth_clear(&a);
}

/* Start attempt number seq of challenge c: the caller has checked that it
 * may; this applies the transitions and the bookkeeping. */
static void begin_attempt(rec_authz *az, rec_chall *c, chall_event ev)
{
    chall_status next;
    chall_transition(c->status, ev, &next);
    c->status = next;
    az->attempts++;
    az->attempt_seq++;
    snprintf(az->active_chall_id, sizeof(az->active_chall_id), "%s", c->id);
}

static bool over_failure_limit(server *srv, store_txn *t, const rec_authz *az, time_t now,
                               http_response *rs)
{
    long retry = 0;
    if (limit_failed_count(t, &srv->cfg, az->account_id, &az->identifier, now, &retry) <
        srv->cfg.failed_validation_limit)
        return false;
    response_error(rs, "rateLimited", 429, "too many failed validations for \"%s\" in the last %ld s",
                   az->identifier.value, srv->cfg.failed_validation_window);
    rs->retry_after = retry > 0 ? retry : 1;
    return true;
}

void handle_challenge(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_chall c;
    rec_authz az;
    bool have_c = false, have_az = false;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    t = store_begin(srv->st, !a.post_as_get);
    if (!t) {
        response_store_error(rs);
        goto out;
    }
    int rc = db_get_chall(t, id, &c);
    if (rc != 0) {
        if (rc == 1)
            response_error(rs, "malformed", 404, "no such challenge");
        else
            response_store_error(rs);
        goto out;
    }
    have_c = true;
    if (load_own_authz(t, c.authz_id, &a, &az, rs) < 0)
        goto out;
    have_az = true;
    char *up = url_for(rq->base, "authz", az.id);
    response_link(rs, up, "up");
    free(up);
    if (a.post_as_get) {
        if (c.status == CHALL_PROCESSING)
            rs->retry_after = srv->cfg.retry_after_pending;
        response_json(rs, 200, render_challenge(srv, t, rq->base, &c, &az, rq->now));
        goto out;
    }
    /* 7.5.1: the client says it is ready. The authorization must be
     * pending: a bare POST to a challenge of an invalid authorization,
     * failed or untried, changes nothing (as Boulder answers), so legacy
     * clients that re-POST never revive anything; only the explicit
     * re-enable request of retry-options does. */
    authz_status ast = authz_effective_status(&az, rq->now);
    if (ast != AUTHZ_PENDING) {
        response_error(rs, "malformed", 400, "authorization must be pending (it is %s)", authz_status_name(ast));
        goto out;
    }
    if (!strv_contains(az.chall_ids, az.nchall, c.id)) {
        response_error(rs, "malformed", 400, "this challenge is not offered by its authorization");
        goto out;
    }
    if (c.status != CHALL_PENDING) {
        /* 8.2: a repeated response while processing is no new attempt; the
         * client sees the current state. */
        if (c.status == CHALL_PROCESSING)
            rs->retry_after = srv->cfg.retry_after_pending;
        response_json(rs, 200, render_challenge(srv, t, rq->base, &c, &az, rq->now));
        goto out;
    }
    if (az.active_chall_id[0]) {
        response_error(rs, "malformed", 400, "another challenge of this authorization is being validated");
        goto out;
    }
    if (over_failure_limit(srv, t, &az, rq->now, rs))
        goto out;
    begin_attempt(&az, &c, CHALL_EV_RESPOND);
    if (db_put_chall(t, &c) < 0 || db_put_authz(t, &az) < 0) {
        response_store_error(rs);
        goto out;
    }
    char *body = render_challenge(srv, t, rq->base, &c, &az, rq->now);
    if (commit(&t, rs) < 0) {
        free(body);
        goto out;
    }
    validation_submit(srv, rq->base, az.id, c.id, az.attempt_seq);
    rs->retry_after = srv->cfg.retry_after_pending;
    response_json(rs, 200, body);
out:
    store_abort(t);
    if (have_c)
        rec_chall_clear(&c);
    if (have_az)
        rec_authz_clear(&az);
    auth_clear(&a);
}

static void count_reenable(server *srv, const char *result)
{
    char labels[48];
    snprintf(labels, sizeof(labels), "result=\"%s\"", result);
    metrics_inc(srv->m, "aro_reenables_total", labels);
}

void handle_authz_retry(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_authz az;
    rec_chall c;
    acme_retry_options *offer = NULL;
    bool have_az = false, have_c = false, accepted = false;
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
    if (load_own_authz(t, id, &a, &az, rs) < 0)
        goto out;
    have_az = true;
    const char *cid = id_in_url(rq->base, curl, "chall");
    authz_status ast = authz_effective_status(&az, rq->now);
    /* Idempotent: the same request again while its attempt runs. */
    if (ast == AUTHZ_PENDING && cid && strcmp(az.active_chall_id, cid) == 0) {
        rs->retry_after = srv->cfg.retry_after_pending;
        response_json(rs, 200, render_authz(srv, t, rq->base, &az, rq->now));
        goto out;
    }
    if (ast == AUTHZ_DEACTIVATED) {
        response_error(rs, "retryNotAllowed", 403, "the authorization was deactivated, which withdrew its offer");
        goto out;
    }
    if (ast != AUTHZ_INVALID) {
        response_error(rs, "retryNotAllowed", 403, "only an invalid authorization can be re-enabled (it is %s)",
                       authz_status_name(ast));
        goto out;
    }
    offer = render_authz_retry(srv, t, rq->base, &az, rq->now);
    if (!offer) {
        const char *why = !srv->cfg.retry_options         ? "this server does not offer retry-options now"
                          : !az.offer_made                ? (az.no_offer_reason ? az.no_offer_reason : "no offer was made")
                          : policy_attempts_remaining(&srv->cfg, &az) == 0 ? "no attempts left"
                          : rq->now >= az.expires         ? "the deadline has passed"
                          : policy_blocked(&srv->cfg, az.identifier.value) ? "policy now refuses this identifier"
                                                          : "nothing left to offer";
        response_error(rs, "retryNotAllowed", 403, "%s", why);
        goto out;
    }
    bool listed = false;
    for (size_t i = 0; i < offer->nchallenges; i++)
        if (strcmp(offer->challenges[i].url, curl) == 0)
            listed = true;
    if (!listed || !cid) {
        response_error(rs, "malformed", 400, "\"%s\" is not one of the challenges offered in retry-options", curl);
        goto out;
    }
    if (rq->now < offer->not_before) {
        response_error(rs, "rateLimited", 429, "too early: retry after notBefore");
        rs->retry_after = (long)(offer->not_before - rq->now);
        goto out;
    }
    if (over_failure_limit(srv, t, &az, rq->now, rs))
        goto out;
    if (orders_replacement_consumed(t, &az)) {
        response_error(rs, "alreadyReplaced", 409,
                       "an order of this authorization replaces a certificate another order has replaced");
        goto out;
    }
    if (db_get_chall(t, cid, &c) != 0) {
        response_store_error(rs);
        goto out;
    }
    have_c = true;
    /* One transaction: authorization pending, its orders pending again,
     * the chosen challenge processing. */
    authz_status next;
    if (!authz_transition(az.status, AUTHZ_EV_REENABLE, &next)) {
        response_error(rs, "retryNotAllowed", 403, "the state machine refuses this re-enable");
        goto out;
    }
    az.status = next;
    if (strv_contains(az.offer_chall_ids, az.noffer, c.id)) {
        /* A fresh challenge joins the list when used; unchosen ones stay
         * in reserve for a later offer. */
        strv_push(&az.chall_ids, &az.nchall, c.id);
        strv_remove(az.offer_chall_ids, &az.noffer, c.id);
    }
    az.offer_made = false;
    begin_attempt(&az, &c, CHALL_EV_REENABLE);
    if (db_put_chall(t, &c) < 0 || db_put_authz(t, &az) < 0 || orders_reenable(srv, t, &az, rq->now) < 0) {
        response_store_error(rs);
        goto out;
    }
    char *body = render_authz(srv, t, rq->base, &az, rq->now);
    if (commit(&t, rs) < 0) {
        free(body);
        goto out;
    }
    accepted = true;
    validation_submit(srv, rq->base, az.id, c.id, az.attempt_seq);
    char *up = url_for(rq->base, "authz", az.id);
    rs->location = up;
    rs->retry_after = srv->cfg.retry_after_pending;
    response_json(rs, 200, body);
out:
    if (a.has_acct && rs->endpoint)
        count_reenable(srv, accepted || (rs->status == 200) ? "accepted" : "refused");
    store_abort(t);
    acme_retry_options_free(offer);
    if (have_az)
        rec_authz_clear(&az);
    if (have_c)
        rec_chall_clear(&c);
    auth_clear(&a);
}
