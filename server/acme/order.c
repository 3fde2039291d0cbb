/* Orders (7.4): newOrder with identifier policy, authorization reuse,
 * profiles, ARI "replaces" (RFC 9773 5); the order resource. */
#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "store/db.h"
#include "acme/handlers.h"
#include "core/metrics.h"
#include "rules/policy.h"
#include "random.h"
#include "acme/render.h"

#define MAX_IDENTIFIERS 100

/* The challenges an authorization offers: wildcards only dns-01 (7.1.3),
 * IP identifiers no dns-01 (RFC 8738 7). */
static size_t challenge_types(const acme_identifier *id, bool wildcard, const char *out[3])
{
    size_t n = 0;
    if (wildcard) {
        out[n++] = "dns-01";
    } else if (strcmp(id->type, "ip") == 0) {
        out[n++] = "http-01";
        out[n++] = "tls-alpn-01";
    } else {
        out[n++] = "http-01";
        out[n++] = "dns-01";
        out[n++] = "tls-alpn-01";
    }
    return n;
}

/* Create a pending challenge record for authz a (not yet listed). */
char *challenge_create(store_txn *t, const rec_authz *a, const char *type);
char *challenge_create(store_txn *t, const rec_authz *a, const char *type)
{
    rec_chall c = {0};
    char *id = random_id(12);
    snprintf(c.id, sizeof(c.id), "%s", id);
    snprintf(c.authz_id, sizeof(c.authz_id), "%s", a->id);
    c.type = xstrdup(type);
    c.status = CHALL_PENDING;
    c.token = random_id(32); /* 8.1: at least 128 bits of entropy */
    int rc = db_put_chall(t, &c);
    rec_chall_clear(&c);
    if (rc < 0) {
        free(id);
        return NULL;
    }
    return id;
}

static char *index_key(const char *account_id, const acme_identifier *id, bool wildcard)
{
    return xasprintf("%s/%s:%s%s", account_id, id->type, wildcard ? "*." : "", id->value);
}

/* An existing authorization to reuse (7.4: "the server MAY reuse"),
 * valid and not expiring within the order's life, or pending when the
 * (off by default) pending reuse is on. Returns its id or NULL. */
static char *find_reusable(server *srv, store_txn *t, const char *account_id, const acme_identifier *id,
                           bool wildcard, time_t now)
{
    char *key = index_key(account_id, id, wildcard), *aid = NULL;
    rec_authz a;
    if (db_get_str(t, TBL_AUTHZ_INDEX, key, &aid) == 0 && db_get_authz(t, aid, &a) == 0) {
        authz_status s = authz_effective_status(&a, now);
        unsigned draw = 0;
        random_bytes(&draw, sizeof(draw));
        bool ok = (s == AUTHZ_VALID && srv->cfg.reuse_valid_authz &&
                   (srv->cfg.reuse_valid_pct >= 100 || (int)(draw % 100) < srv->cfg.reuse_valid_pct) &&
                   a.expires > now + srv->cfg.order_lifetime) ||
                  (s == AUTHZ_PENDING && srv->cfg.reuse_pending_authz && !a.active_chall_id[0]);
        rec_authz_clear(&a);
        if (!ok) {
            free(aid);
            aid = NULL;
        }
    } else {
        free(aid);
        aid = NULL;
    }
    free(key);
    return aid;
}

static char *authz_create(server *srv, store_txn *t, const char *account_id, const acme_identifier *id,
                          bool wildcard, time_t now, unsigned *challs_created)
{
    rec_authz a = {0};
    const char *types[3];
    char *rid = random_id(12), *ret = NULL;
    snprintf(a.id, sizeof(a.id), "%s", rid);
    free(rid);
    snprintf(a.account_id, sizeof(a.account_id), "%s", account_id);
    a.status = AUTHZ_PENDING;
    identifier_copy(&a.identifier, id);
    a.wildcard = wildcard;
    a.created = now;
    a.expires = now + srv->cfg.authz_pending_lifetime;
    size_t n = challenge_types(id, wildcard, types);
    for (size_t i = 0; i < n; i++) {
        char *cid = challenge_create(t, &a, types[i]);
        if (!cid)
            goto out;
        strv_push(&a.chall_ids, &a.nchall, cid);
        free(cid);
        (*challs_created)++;
    }
    char *key = index_key(account_id, id, wildcard);
    int rc = db_put_str(t, TBL_AUTHZ_INDEX, key, a.id);
    free(key);
    if (rc < 0 || db_put_authz(t, &a) < 0)
        goto out;
    ret = xstrdup(a.id);
out:
    rec_authz_clear(&a);
    return ret;
}

static const profile_cfg *find_profile(const server_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nprofiles; i++)
        if (strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    return NULL;
}

/* Parse and check the identifiers: every refusal becomes a subproblem
 * (6.7.1), so a client learns about all bad names at once. */
static acme_problem *parse_identifiers(server *srv, yajl_val arr, rec_order *o)
{
    if (!arr || !YAJL_IS_ARRAY(arr) || arr->u.array.len == 0)
        return problem_new("malformed", 400, "\"identifiers\" must be a non-empty array");
    if (arr->u.array.len > MAX_IDENTIFIERS)
        return problem_new("rejectedIdentifier", 400, "at most %d identifiers per order", MAX_IDENTIFIERS);
    acme_problem *top = NULL;
    o->identifiers = xcalloc(arr->u.array.len, sizeof(*o->identifiers));
    for (size_t i = 0; i < arr->u.array.len; i++) {
        yajl_val v = arr->u.array.values[i];
        const char *type = json_str(v, "type"), *value = json_str(v, "value");
        if (!type || !value) {
            problem_free(top);
            return problem_new("malformed", 400, "each identifier needs string \"type\" and \"value\"");
        }
        char *canon = NULL;
        bool wildcard = false;
        acme_problem *p = policy_check_identifier(&srv->cfg, type, value, &canon, &wildcard);
        if (p) {
            if (!top)
                top = problem_new(problem_short_type(p->type), p->status, "%s", "");
            problem_add_sub(top, p->type, type, value, p->detail);
            free(top->detail);
            top->detail = top->nsub == 1 ? xstrdup(p->detail)
                                         : xasprintf("%zu identifiers were refused", top->nsub);
            problem_free(p);
            continue;
        }
        /* The stored value keeps "*." so the order echoes what was asked. */
        char *stored = wildcard ? xasprintf("*.%s", canon) : xstrdup(canon);
        free(canon);
        bool dup = false;
        for (size_t j = 0; j < o->nidentifiers; j++)
            if (strcmp(o->identifiers[j].type, type) == 0 && strcmp(o->identifiers[j].value, stored) == 0)
                dup = true;
        if (dup) {
            free(stored);
            continue;
        }
        o->identifiers[o->nidentifiers].type = xstrdup(type);
        o->identifiers[o->nidentifiers].value = stored;
        o->nidentifiers++;
    }
    return top;
}

static bool parse_time_member(yajl_val payload, const char *key, char **out, http_response *rs)
{
    const char *s = NULL;
    aro_err err;
    time_t t;
    int rc = json_get_str(payload, key, false, &s, &err);
    if (rc < 0 || (rc == 0 && time_parse_rfc3339(s, &t) < 0)) {
        response_error(rs, "malformed", 400, "\"%s\" must be an RFC 3339 time", key);
        return false;
    }
    *out = xstrdup(s);
    return true;
}

void handle_new_order(server *srv, const http_request *rq, http_response *rs)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_order o = {0};
    acme_problem *p = NULL;
    rec_cert replaced = {0};
    bool have_replaced = false;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    if (a.post_as_get) {
        response_error(rs, "malformed", 400, "newOrder needs a payload");
        goto out;
    }
    if ((p = parse_identifiers(srv, json_member(a.payload, "identifiers"), &o))) {
        response_problem(rs, p);
        goto out;
    }
    if (!parse_time_member(a.payload, "notBefore", &o.not_before, rs) ||
        !parse_time_member(a.payload, "notAfter", &o.not_after, rs))
        goto out;
    const char *profile = json_str(a.payload, "profile");
    if (json_member(a.payload, "profile") && (!profile || !find_profile(&srv->cfg, profile))) {
        response_error(rs, "invalidProfile", 400, "unknown profile \"%s\"", profile ? profile : "");
        goto out;
    }
    o.profile = xstrdup(profile);
    const char *replaces = json_str(a.payload, "replaces");
    t = store_begin(srv->st, true);
    if (!t) {
        response_store_error(rs);
        goto out;
    }
    /* RFC 9773 5: "replaces" names a certificate of this account that no
     * other order has replaced yet. */
    if (replaces) {
        char *serial = NULL;
        if (db_get_str(t, TBL_CERT_ARI, replaces, &serial) != 0 ||
            db_get_cert(t, serial, &replaced) != 0) {
            free(serial);
            response_error(rs, "malformed", 400, "\"replaces\" names no certificate of this CA");
            goto out;
        }
        free(serial);
        have_replaced = true;
        if (strcmp(replaced.account_id, a.acct.id) != 0) {
            response_error(rs, "unauthorized", 403, "\"replaces\" names another account's certificate");
            goto out;
        }
        if (replaced.replaced_by[0]) {
            response_error(rs, "alreadyReplaced", 409, "the certificate was already replaced by another order");
            goto out;
        }
        o.replaces = xstrdup(replaces);
    }
    /* Failed-validation limit, shared with responses and re-enables. */
    for (size_t i = 0; i < o.nidentifiers; i++) {
        acme_identifier id = o.identifiers[i];
        if (strncmp(id.value, "*.", 2) == 0)
            id.value += 2;
        long retry = 0;
        if (limit_failed_count(t, &srv->cfg, a.acct.id, &id, rq->now, &retry) >=
            srv->cfg.failed_validation_limit) {
            response_error(rs, "rateLimited", 429, "too many failed validations for \"%s\" in the last %ld s",
                           id.value, srv->cfg.failed_validation_window);
            rs->retry_after = retry > 0 ? retry : 1;
            goto out;
        }
    }
    char *oid = random_id(12);
    snprintf(o.id, sizeof(o.id), "%s", oid);
    free(oid);
    snprintf(o.account_id, sizeof(o.account_id), "%s", a.acct.id);
    o.status = ORDER_PENDING;
    o.created = rq->now;
    o.expires = rq->now + srv->cfg.order_lifetime;
    authz_status statuses[MAX_IDENTIFIERS];
    unsigned authzs_created = 0, challs_created = 0;
    for (size_t i = 0; i < o.nidentifiers; i++) {
        acme_identifier id = o.identifiers[i];
        bool wildcard = strncmp(id.value, "*.", 2) == 0;
        if (wildcard)
            id.value += 2;
        char *aid = find_reusable(srv, t, a.acct.id, &id, wildcard, rq->now);
        if (!aid) {
            aid = authz_create(srv, t, a.acct.id, &id, wildcard, rq->now, &challs_created);
            authzs_created++;
        }
        rec_authz az;
        if (!aid || db_get_authz(t, aid, &az) != 0) {
            free(aid);
            response_store_error(rs);
            goto out;
        }
        statuses[i] = authz_effective_status(&az, rq->now);
        strv_push(&az.order_ids, &az.norders, o.id);
        int rc = db_put_authz(t, &az);
        rec_authz_clear(&az);
        strv_push(&o.authz_ids, &o.nauthz, aid);
        free(aid);
        if (rc < 0) {
            response_store_error(rs);
            goto out;
        }
    }
    /* Reused valid authorizations can make the order ready at once. */
    o.status = order_status_from_authzs(o.status, statuses, o.nauthz);
    char okey[128];
    snprintf(okey, sizeof(okey), "%s/%016llx/%s", a.acct.id, (unsigned long long)o.created, o.id);
    if (db_put_order(t, &o) < 0 || db_put_str(t, TBL_ACCOUNT_ORDERS, okey, "") < 0) {
        response_store_error(rs);
        goto out;
    }
    char *body = render_order(srv, t, rq->base, &o, rq->now);
    if (store_commit(t, NULL) < 0) {
        t = NULL;
        free(body);
        response_store_error(rs);
        goto out;
    }
    t = NULL;
    metrics_inc(srv->m, "aro_orders_created_total", NULL);
    metrics_add(srv->m, "aro_authorizations_created_total", NULL, authzs_created);
    metrics_add(srv->m, "aro_challenges_created_total", NULL, challs_created);
    rs->location = url_for(rq->base, "order", o.id);
    response_json(rs, 201, body);
out:
    store_abort(t);
    problem_free(p);
    if (have_replaced)
        rec_cert_clear(&replaced);
    rec_order_clear(&o);
    auth_clear(&a);
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
    int rc = t ? db_get_order(t, id, &o) : -1;
    if (rc == 1) {
        response_error(rs, "malformed", 404, "no such order");
        goto out;
    }
    if (rc < 0) {
        response_store_error(rs);
        goto out;
    }
    have = true;
    if (strcmp(o.account_id, a.acct.id) != 0) {
        response_error(rs, "unauthorized", 403, "this order belongs to another account");
        goto out;
    }
    order_status st = order_effective_status(&o, rq->now);
    if (st == ORDER_PENDING || st == ORDER_PROCESSING)
        rs->retry_after = srv->cfg.retry_after_order;
    rs->location = url_for(rq->base, "order", o.id);
    response_json(rs, 200, render_order(srv, t, rq->base, &o, rq->now));
out:
    store_abort(t);
    if (have)
        rec_order_clear(&o);
    auth_clear(&a);
}
