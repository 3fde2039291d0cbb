#include "cmd_issue.h"

#include <stdlib.h>

#include "acme_objects.h"
#include "authorize.h"
#include "certfiles.h"
#include "choose.h"
#include "msg.h"
#include "order.h"
#include "status.h"
#include "strv.h"

/* The order's authorizations are valid: the certificate (order.c), then
 * its files (certfiles.c). 0, or -1 with the error in rep. */
static int issue_complete(session *S, report *rep, acme_order *ord)
{
    const aro_opts *o = S->o;
    char *pem = NULL, *fullchain = NULL;
    size_t len = 0;
    EVP_PKEY *key = NULL;
    aro_err err;
    int ret = -1;
    if (order_complete(S, ord, rep->names, rep->nnames, &pem, &len, &key, &err)) {
        report_fail(rep, NULL, err.msg);
        goto out;
    }
    /* Only now: every poll above replaced *ord, ord->url included. */
    certfiles_origin from = {.server = o->server, .names = rep->names, .nnames = rep->nnames,
                             .order = ord->url, .key_type = key_type_name(o->cert_key_type),
                             .profile = o->profile};
    if (certfiles_store(S->st, &from, pem, len, key, &fullchain, &err)) {
        report_fail(rep, NULL, err.msg);
        goto out;
    }
    free(rep->certificate);
    rep->certificate = fullchain;
    ret = 0;
out:
    free(pem);
    EVP_PKEY_free(key);
    return ret;
}

int issue_obtain(session *S, report *rep, const char *replaces)
{
    authz_run X;
    acme_order ord = {0};
    acme_resp r = {0};
    aro_err err;
    int ret = -1;
    int max_orders = S->o->max_orders > 0 ? S->o->max_orders : 3;
    authz_run_init(&X, S, rep);
    for (int n = 0; n < max_orders; n++) {
        if (order_new(S, rep->names, rep->nnames, replaces, &ord, &r, &err)) {
            report_fail(rep, r.problem, err.msg);
            break;
        }
        strv_push(&rep->orders, &rep->norders, ord.url);
        msg_info("order %s for %s%s (%s)", ord.url, rep->names[0], rep->nnames > 1 ? " and more" : "",
                 order_status_name(ord.status));
        if (authorize_order(&X, &ord, n == 0 ? "first" : "new-order") == 0) {
            ret = issue_complete(S, rep, &ord);
            break;
        }
        /* The legacy fallback: retry-options were absent or spent. */
        next_order next = choose_next_order(X.last_problem, X.ids, X.nids, X.usable, X.nusable,
                                            n + 1, max_orders);
        if (next == NEXT_ORDER_NOT_FIXABLE && X.last_problem)
            msg_info("not trying another order: %s is not a failure another challenge type could fix",
                     X.last_problem);
        else if (next == NEXT_ORDER_NO_OTHER_TYPE)
            msg_info("not trying another order: no solver for another offered challenge type");
        if (next != NEXT_ORDER_OPEN)
            break;
        msg_info("legacy fallback: a new order skipping the failed types (%d of at most %d)", n + 2,
                 max_orders);
        /* The new order's outcome decides the result, not this one's. */
        report_forget_error(rep, "trying a new order");
    }
    authz_run_clear(&X);
    acme_order_clear(&ord);
    acme_resp_clear(&r);
    return ret;
}

int cmd_issue(const aro_opts *o)
{
    session S;
    report rep = {.result = "failed"};
    for (size_t i = 0; i < o->nnames; i++)
        strv_push(&rep.names, &rep.nnames, o->names[i]);
    if (session_open(&S, o, &rep) || session_account(&S, ACCOUNT_ENSURE, NULL, &rep))
        goto out;
    session_start_solvers(&S);
    if (issue_obtain(&S, &rep, NULL) == 0)
        rep.result = "issued";
out:
    if (!rep.certificate && !rep.err_type)
        report_error(&rep, NULL, "issuance failed");
    if (o->json || !o->quiet || !rep.certificate)
        report_print_issue(&rep, o->json, stdout);
    int code = rep.certificate ? 0 : 2;
    report_clear(&rep);
    session_close(&S);
    return code;
}
