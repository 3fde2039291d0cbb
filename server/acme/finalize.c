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

/* The CSR of a finalize request, decoded and its signature checked. */
typedef struct {
    unsigned char *der;
    size_t der_len;
    csr_info csr;
    enum { CSR_OK, CSR_NOT_B64URL, CSR_UNREADABLE } state;
    aro_err err; /* why, for CSR_UNREADABLE */
} finalize_csr;

static void decode_csr(const char *csr_b64, finalize_csr *f)
{
    memset(f, 0, sizeof(*f));
    if (b64url_decode(csr_b64, strlen(csr_b64), &f->der, &f->der_len) < 0)
        f->state = CSR_NOT_B64URL;
    else if (csr_parse_der(f->der, f->der_len, &f->csr, &f->err) < 0)
        f->state = CSR_UNREADABLE;
}

static const char *payload_csr(const acme_auth *a)
{
    return a && a->payload ? json_str(a->payload, "csr") : NULL;
}

void *finalize_prepare(const http_request *rq)
{
    const char *csr_b64 = payload_csr(rq->auth);
    if (!csr_b64)
        return NULL; /* handle_finalize answers malformed */
    finalize_csr *f = xmalloc(sizeof(*f));
    decode_csr(csr_b64, f);
    return f;
}

void finalize_prepared_free(void *prepared)
{
    finalize_csr *f = prepared;
    if (!f)
        return;
    csr_info_free(&f->csr);
    free(f->der);
    free(f);
}

void handle_finalize(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_order o;
    bool have_o = false;
    acme_problem *p = NULL;
    /* The CSR decoded where the request arrived (finalize_prepare), or
     * here. The prepared one is this request's alone (made for it, freed
     * with it): the issuance takes its parsed CSR over. */
    finalize_csr own = {0}, *fc = (finalize_csr *)rq->prepared;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    const char *csr_b64 = payload_csr(&a);
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
    if (!fc) {
        decode_csr(csr_b64, &own);
        fc = &own;
    }
    if (fc->state == CSR_NOT_B64URL) {
        response_error(rs, "badCSR", 400, "the CSR is not base64url");
        goto out;
    }
    if (fc->state == CSR_UNREADABLE) {
        response_error(rs, "badCSR", 400, "%s", fc->err.msg);
        goto out;
    }
    if ((p = csr_check(&srv->cfg, t, &o, &fc->csr))) {
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
    issuance_submit(srv, rq->base, o.id, o.account_id, fc->der, fc->der_len, &fc->csr);
    rs->location = url_for(rq->base, "order", o.id);
    rs->retry_after = srv->cfg.retry_after_order;
out:
    store_abort(t);
    problem_free(p);
    if (have_o)
        rec_order_clear(&o);
    csr_info_free(&own.csr);
    free(own.der);
    auth_clear(&a);
}
