#include "acme/finalize.h"

#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "acme/order.h"
#include "acme_crypto.h"
#include "b64url.h"
#include "core/urls.h"
#include "jobs/issuance.h"
#include "rules/csr_policy.h"
#include "rules/lifecycle.h"
#include "rules/validity.h"
#include "store/repo.h"

void handle_finalize(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_order o;
    csr_info csr = {0};
    unsigned char *der = NULL;
    size_t der_len = 0;
    bool have_o = false;
    acme_problem *p = NULL;
    aro_err err = {{0}};
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    const char *csr_b64 = a.payload ? json_str(a.payload, "csr") : NULL;
    if (!csr_b64) {
        response_error(rs, "malformed", 400, "finalize needs {\"csr\": \"<base64url DER>\"}");
        goto out;
    }
    t = store_begin(srv->st, true);
    if (auth_found(t ? repo_order_get(t, id, &o) : -1, "order", rs) < 0)
        goto out;
    have_o = true;
    if (auth_owns(&a, o.account_id, "order", rs) < 0)
        goto out;
    /* 7.1.6: ready only while every authorization is still valid. */
    if (lifecycle_order_as_of(t, &o, rq->now) < 0) {
        response_store_error(rs);
        goto out;
    }
    order_status st = order_status_at(o.status, o.expires, rq->now), next;
    if (!order_transition(st, ORDER_EV_FINALIZE, &next)) {
        response_error(rs, "orderNotReady", 403, "the order is %s, not ready", order_status_name(st));
        goto out;
    }
    if (b64url_decode(csr_b64, strlen(csr_b64), &der, &der_len) < 0) {
        response_error(rs, "badCSR", 400, "the CSR is not base64url");
        goto out;
    }
    if (csr_parse_der(der, der_len, &csr, &err) < 0) {
        response_error(rs, "badCSR", 400, "%s", err.msg);
        goto out;
    }
    if ((p = csr_check(&srv->cfg, t, &o, &csr))) {
        response_problem(rs, p);
        goto out;
    }
    /* 7.4: the validity the order asked for must still be possible now. */
    validity_limits lim = validity_limits_for(&srv->cfg, srv->ca, o.profile);
    if ((p = validity_check(&lim, o.not_before, o.not_after, rq->now))) {
        response_problem(rs, p);
        goto out;
    }
    int rc = lifecycle_order_finalize(t, &o, csr_b64, rq->now);
    if (rc != 0) {
        if (rc < 0)
            response_store_error(rs);
        else
            response_error(rs, "orderNotReady", 403, "the order is %s, not ready", order_status_name(st));
        goto out;
    }
    if (auth_commit_answer(&t, rs, 200, order_render_now(srv, t, rq->base, &o, rq->now)) < 0)
        goto out;
    /* Asynchronous finalization: "processing" now, "valid" when signed.
     * A full queue leaves it for the restart path (the CSR is stored). */
    issuance_submit(srv, rq->base, o.id, o.account_id, der, der_len, &csr);
    rs->location = url_for(rq->base, "order", o.id);
    rs->retry_after = srv->cfg.retry_after_order;
out:
    store_abort(t);
    problem_free(p);
    if (have_o)
        rec_order_clear(&o);
    csr_info_free(&csr);
    free(der);
    auth_clear(&a);
}
