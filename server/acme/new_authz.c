#include "acme/new_authz.h"

#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "acme/authz.h"
#include "acme/payload.h"
#include "core/metrics.h"
#include "core/urls.h"
#include "rules/identifiers.h"
#include "rules/lifecycle.h"
#include "rules/limits.h"
#include "store/repo.h"

void handle_new_authz(server *srv, const http_request *rq, http_response *rs)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_authz az = {0};
    acme_problem *p = NULL;
    char *canon = NULL;
    if (!srv->cfg.new_authz) {
        response_error(rs, "malformed", 404, "this server does not offer pre-authorization (newAuthz)");
        return;
    }
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    yajl_val id = a.payload ? json_member(a.payload, "identifier") : NULL;
    const char *type = json_str(id, "type"), *value = json_str(id, "value");
    if (!type || !value) {
        response_error(rs, "malformed", 400, "newAuthz needs {\"identifier\": {\"type\": ..., \"value\": ...}}");
        goto out;
    }
    bool wildcard = false, hold = false;
    if ((p = identifier_check(&srv->cfg, type, value, &canon, &wildcard)) ||
        (p = payload_retry_options(&srv->cfg, a.payload, &hold))) {
        response_problem(rs, p);
        goto out;
    }
    if (wildcard) {
        response_error(rs, "rejectedIdentifier", 400,
                       "a wildcard cannot be pre-authorized (RFC 8555 7.4.1): ask for it in a newOrder");
        goto out;
    }
    t = store_begin(srv->st, true);
    if (!t) {
        response_store_error(rs);
        goto out;
    }
    acme_identifier ident = {.type = (char *)type, .value = canon};
    if (auth_within_failure_limit(srv, t, a.acct.id, &ident, rq->now, rs) < 0)
        goto out;
    snprintf(az.account_id, sizeof(az.account_id), "%s", a.acct.id);
    identifier_copy(&az.identifier, &ident);
    az.hold = hold;
    unsigned challs = 0;
    authz_view v;
    long retry = 0;
    if (lifecycle_authz_create(&srv->cfg, t, &az, rq->now, &challs) < 0 ||
        limit_new_authz(&srv->cfg, t, a.acct.id, rq->now, &p, &retry) < 0) {
        response_store_error(rs);
        goto out;
    }
    if (p) {
        /* The transaction is aborted: the authorization is not kept. */
        response_problem(rs, p);
        rs->retry_after = retry;
        goto out;
    }
    if (repo_authz_view_of(t, &az, &v) < 0) {
        response_store_error(rs);
        goto out;
    }
    rs->location = url_for(rq->base, "authz", az.id);
    int rc = auth_commit_answer(&t, rs, 201, authz_render_now(srv, rq->base, &v, rq->now));
    authz_view_clear(&v);
    if (rc == 0) {
        metrics_inc(srv->m, "aro_authorizations_created_total", NULL);
        metrics_add(srv->m, "aro_challenges_created_total", NULL, challs);
    }
out:
    store_abort(t);
    problem_free(p);
    free(canon);
    rec_authz_clear(&az);
    auth_clear(&a);
}
