#include "acme/order.h"

#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "acme/payload.h"
#include "acme/render.h"
#include "core/metrics.h"
#include "core/urls.h"
#include "rules/lifecycle.h"
#include "rules/limits.h"
#include "rules/new_order.h"
#include "rules/offer.h"
#include "rules/validity.h"
#include "store/repo.h"

/* RFC 9773 5: the replaced certificate and the new order share at least
 * one identifier. */
static bool shares_identifier(const rec_order *o, const rec_cert *c)
{
    for (size_t i = 0; i < o->nidentifiers; i++) {
        const acme_identifier *id = &o->identifiers[i];
        if (strcmp(id->type, "dns") == 0 ? strv_contains(c->dns, c->ndns, id->value)
                                         : strv_contains(c->ips, c->nips, id->value))
            return true;
    }
    return false;
}

/* The order's members other than its identifiers: validity (7.4,
 * within what rules/validity.c can fulfil), profile (the profiles
 * draft), replaces (RFC 9773 5). 0, or -1 with the problem in rs. */
static int order_options(server *srv, store_txn *t, const acme_auth *a, rec_order *o, time_t now,
                         http_response *rs)
{
    acme_problem *p = payload_time(a->payload, "notBefore", &o->not_before);
    if (!p)
        p = payload_time(a->payload, "notAfter", &o->not_after);
    if (!p)
        p = payload_retry_options(&srv->cfg, a->payload, &o->hold); /* the order echoes what it got */
    if (p) {
        response_problem(rs, p);
        problem_free(p);
        return -1;
    }
    const char *profile = json_str(a->payload, "profile");
    if (json_member(a->payload, "profile") && (!profile || !config_profile(&srv->cfg, profile))) {
        response_error(rs, "invalidProfile", 400, "unknown profile \"%s\"", profile ? profile : "");
        return -1;
    }
    o->profile = xstrdup(profile);
    validity_limits lim = validity_limits_for(&srv->cfg, srv->ca, o->profile);
    if ((p = validity_check(&lim, o->not_before, o->not_after, now))) {
        response_problem(rs, p);
        problem_free(p);
        return -1;
    }
    /* RFC 9773 5: "replaces" names a certificate of this account that no
     * other order has replaced yet. */
    const char *replaces = json_str(a->payload, "replaces");
    if (!replaces)
        return 0;
    rec_cert old;
    int rc = repo_cert_by_ari_id(t, replaces, &old);
    if (rc != 0) {
        if (rc < 0)
            response_store_error(rs);
        else
            response_error(rs, "malformed", 400, "\"replaces\" names no certificate of this CA");
        return -1;
    }
    int ret = -1;
    const char *taken;
    if (strcmp(old.account_id, a->acct.id) != 0)
        response_error(rs, "unauthorized", 403, "\"replaces\" names another account's certificate");
    else if (!shares_identifier(o, &old))
        response_error(rs, "malformed", 400, "\"replaces\" names a certificate for none of the order's identifiers");
    else if ((taken = lifecycle_replacement_taken(t, &old, "", now)))
        response_error(rs, "alreadyReplaced", 409, "%s", taken);
    else
        ret = 0;
    rec_cert_clear(&old);
    if (ret == 0)
        o->replaces = xstrdup(replaces);
    return ret;
}

/* An identifier of the order as the authorization knows it: the value
 * without "*.", and whether it was a wildcard. */
static acme_identifier bare_identifier(const acme_identifier *id, bool *wildcard)
{
    acme_identifier bare = *id;
    *wildcard = strncmp(id->value, "*.", 2) == 0;
    if (*wildcard)
        bare.value += 2;
    return bare;
}

/* For each identifier a reused authorization or a new one, with the
 * statuses they have now. 0, or -1 with the problem in rs. */
static int order_authorizations(server *srv, store_txn *t, const acme_auth *a, rec_order *o, time_t now,
                                authz_status *statuses, unsigned *authzs_created, unsigned *challs_created,
                                http_response *rs)
{
    for (size_t i = 0; i < o->nidentifiers; i++) {
        bool wildcard;
        acme_identifier id = bare_identifier(&o->identifiers[i], &wildcard);
        rec_authz az = {0};
        int rc = order_reusable_authz(&srv->cfg, t, a->acct.id, &id, wildcard, o->hold, now, &az);
        if (rc == 1) {
            snprintf(az.account_id, sizeof(az.account_id), "%s", a->acct.id);
            identifier_copy(&az.identifier, &id);
            az.wildcard = wildcard;
            az.hold = o->hold;
            rc = lifecycle_authz_create(&srv->cfg, t, &az, now, challs_created);
            (*authzs_created)++;
        }
        if (rc < 0) {
            rec_authz_clear(&az);
            response_store_error(rs);
            return -1;
        }
        statuses[i] = authz_status_at(az.status, az.expires, now);
        strv_push(&o->authz_ids, &o->nauthz, az.id);
        rec_authz_clear(&az);
    }
    return 0;
}

void handle_new_order(server *srv, const http_request *rq, http_response *rs)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_order o = {0};
    acme_problem *p = NULL;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    if (a.post_as_get) {
        response_error(rs, "malformed", 400, "newOrder needs a payload");
        goto out;
    }
    if ((p = payload_identifiers(&srv->cfg, json_member(a.payload, "identifiers"), &o))) {
        response_problem(rs, p);
        goto out;
    }
    t = store_begin(srv->st, true);
    if (!t) {
        response_store_error(rs);
        goto out;
    }
    if (order_options(srv, t, &a, &o, rq->now, rs) < 0)
        goto out;
    /* Failed-validation limit, shared with responses and re-enables. */
    for (size_t i = 0; i < o.nidentifiers; i++) {
        bool wildcard;
        acme_identifier id = bare_identifier(&o.identifiers[i], &wildcard);
        if (auth_within_failure_limit(srv, t, a.acct.id, &id, rq->now, rs) < 0)
            goto out;
    }
    repo_new_id(o.id);
    snprintf(o.account_id, sizeof(o.account_id), "%s", a.acct.id);
    o.created = rq->now;
    o.expires = rq->now + srv->cfg.order_lifetime;
    authz_status statuses[MAX_IDENTIFIERS];
    unsigned authzs_created = 0, challs_created = 0;
    if (order_authorizations(srv, t, &a, &o, rq->now, statuses, &authzs_created, &challs_created, rs) < 0)
        goto out;
    /* Boulder's limits (rules/limits.h); a refusal aborts the transaction:
     * the authorizations just made are not stored either. */
    long retry = 0;
    if (limit_new_order(&srv->cfg, t, &o, rq->now, &p, &retry) < 0) {
        response_store_error(rs);
        goto out;
    }
    if (p) {
        response_problem(rs, p);
        if (p->status == 429)
            rs->retry_after = retry;
        goto out;
    }
    if (lifecycle_order_create(t, &o, statuses, o.nauthz) < 0) {
        response_store_error(rs);
        goto out;
    }
    /* A new order has no offer: nothing of it has failed yet. */
    rs->location = url_for(rq->base, "order", o.id);
    if (auth_commit_answer(&t, rs, 201, order_render_now(srv, t, rq->base, &o, rq->now)) < 0)
        goto out;
    metrics_inc(srv->m, "aro_orders_created_total", NULL);
    metrics_add(srv->m, "aro_authorizations_created_total", NULL, authzs_created);
    metrics_add(srv->m, "aro_challenges_created_total", NULL, challs_created);
out:
    store_abort(t);
    problem_free(p);
    rec_order_clear(&o);
    auth_clear(&a);
}

char *order_render_now(server *srv, store_txn *t, const char *base, const rec_order *o, time_t now)
{
    order_offer offer = {0};
    authz_view *views = NULL;
    size_t n = 0;
    /* Only an order that may come back can carry an offer: load its
     * authorizations only then. */
    if (srv->cfg.retry_options && order_may_come_back(o, now)) {
        views = xcalloc(o->nauthz + 1, sizeof(*views));
        while (n < o->nauthz && repo_authz_view(t, o->authz_ids[n], &views[n]) == 0)
            n++;
    }
    offer_for_order(&srv->cfg, o, views, n, now, &offer);
    char *body = render_order(base, o, &offer, now);
    order_offer_clear(&offer);
    for (size_t i = 0; i < n; i++)
        authz_view_clear(&views[i]);
    free(views);
    return body;
}

void handle_order(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_order o;
    bool have = false;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    if (!a.post_as_get) {
        response_error(rs, "malformed", 400, "orders are read with POST-as-GET (empty payload)");
        goto out;
    }
    t = store_begin(srv->st, false);
    if (auth_found(t ? repo_order_get(t, id, &o) : -1, "order", rs) < 0)
        goto out;
    have = true;
    if (auth_owns(&a, o.account_id, "order", rs) < 0)
        goto out;
    if (lifecycle_order_as_of(t, &o, rq->now) < 0) {
        response_store_error(rs);
        goto out;
    }
    order_status st = order_status_at(o.status, o.expires, rq->now);
    if (st == ORDER_PENDING || st == ORDER_PROCESSING)
        rs->retry_after = srv->cfg.retry_after_order;
    /* No Location: the client already has the URL (RFC 8555 7.4 shows one
     * on newOrder's 201 and on finalize, not on reads). */
    response_json(rs, 200, order_render_now(srv, t, rq->base, &o, rq->now));
out:
    store_abort(t);
    if (have)
        rec_order_clear(&o);
    auth_clear(&a);
}
