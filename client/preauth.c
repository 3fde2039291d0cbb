#include "preauth.h"

#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "choose.h"
#include "identifiers.h"
#include "interrupt.h"
#include "msg.h"
#include "order.h"
#include "strv.h"

/* One name being pre-authorized. */
typedef struct {
    ident_history *id;
    int made;               /* newAuthz requests for it so far */
    bool done;              /* valid, or left to the order */
} preauth_name;

/* POST newAuthz (7.4.1) for id, asking for pending-hold where
 * order_request_hold says so. 0 with *url the new authorization's
 * Location (malloc'd); -1 with err, and *prob the CA's problem (or NULL). */
static int new_authz(session *S, const ident_history *id, char **url, acme_problem **prob,
                     aro_err *err)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_key(g, "identifier");
    jg_obj_open(g);
    jg_kv_str(g, "type", id->is_ip ? "ip" : "dns");
    jg_kv_str(g, "value", id->base);
    jg_obj_close(g);
    bool hold = order_request_hold(g, S);
    jg_obj_close(g);
    char *payload = jg_finish(g, NULL);
    acme_resp r = {0};
    int rc = acme_post(&S->acme, S->acme.dir.new_authz, payload, &r, err);
    free(payload);
    *prob = NULL;
    if (rc == 0 && !r.location) {
        aro_err_set(err, "newAuthz for %s: the CA sent no Location", id->ident);
        rc = -1;
    }
    if (rc == 0) {
        *url = xstrdup(r.location);
        msg_info("%s: pre-authorization %s%s", id->ident, *url, hold ? " (pending-hold asked)" : "");
    } else if (r.problem) {
        *prob = problem_copy(r.problem);
    }
    acme_resp_clear(&r);
    return rc;
}

/* This round's newAuthz: one per name not done. A name whose newAuthz the
 * CA refuses is left to the order (a note says why). Returns how many were
 * made, with urls[k] (malloc'd) for names[which[k]]; also pushed to *all. */
static size_t new_round(authz_run *X, preauth_name *names, size_t n, char **urls, size_t *which,
                        char ***all, size_t *nall)
{
    size_t k = 0;
    for (size_t i = 0; i < n && !interrupt_stop(); i++) {
        if (names[i].done)
            continue;
        acme_problem *prob = NULL;
        aro_err err;
        if (new_authz(X->S, names[i].id, &urls[k], &prob, &err)) {
            if (!interrupt_stop())
                msg_note("%s: the CA refused to pre-authorize it (%s); it is validated through the "
                         "order", names[i].id->ident, err.msg);
            problem_free(prob);
            names[i].done = true;
            continue;
        }
        names[i].made++;
        strv_push(all, nall, urls[k]);
        which[k++] = i;
    }
    return k;
}

int preauth_names(authz_run *X)
{
    session *S = X->S;
    const aro_opts *o = S->o;
    if (!o->preauthorize)
        return 0;
    if (!S->acme.dir.new_authz) {
        msg_note("--preauthorize: the CA's directory has no newAuthz (RFC 8555 7.4.1); the names are "
                 "validated through the order");
        return 0;
    }
    int max = o->max_orders > 0 ? o->max_orders : 3;
    preauth_name *names = xcalloc(X->nids ? X->nids : 1, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < X->nids; i++)
        if (!identifier_is_wildcard(X->ids[i].ident))
            names[n++] = (preauth_name){.id = &X->ids[i]};
    if (n)
        msg_info("pre-authorizing %zu name%s with newAuthz%s", n, n > 1 ? "s" : "",
                 choose_ask_hold(o->retry, &S->acme.dir) ? ", asking for pending-hold" : "");
    char **urls = xcalloc(n ? n : 1, sizeof *urls), **all = NULL;
    size_t *which = xcalloc(n ? n : 1, sizeof *which), nall = 0;
    authz_result *res = xcalloc(n ? n : 1, sizeof *res);
    int ret = 0;
    for (int round = 0; ret == 0; round++) {
        size_t k = new_round(X, names, n, urls, which, &all, &nall);
        if (!k && !interrupt_stop())
            break;
        /* A further newAuthz is the legacy fallback's new object: "new-order".
         * Interrupted, authorize_each reports it and deactivates them. */
        authorize_each(X, urls, k, round ? "new-order" : "first", res);
        if (interrupt_signal())
            ret = -1;
        bool reported = false;
        for (size_t j = 0; j < k && !interrupt_signal(); j++) {
            preauth_name *p = &names[which[j]];
            const char *pt = res[j].prob && res[j].prob->type ? problem_short_type(res[j].prob->type)
                                                              : NULL;
            next_order next = res[j].valid ? NEXT_ORDER_OPEN
                              : choose_next_order(pt, p->id, 1, X->usable, X->nusable, p->made, max);
            char why[160];
            const char *reason = choose_next_order_why(next, pt, why, sizeof why);
            if (res[j].valid) {
                p->done = true;
            } else if (next == NEXT_ORDER_OPEN) {
                msg_note("%s; a new pre-authorization skipping the failed types (%d of at most %d)",
                         res[j].err.msg, p->made + 1, max);
                authorize_deactivate(X, &urls[j], 1);
            } else {
                if (reason)
                    msg_info("%s: not trying another pre-authorization: %s", p->id->ident, reason);
                if (!reported)
                    report_fail(X->rep, res[j].prob, res[j].err.msg);
                else
                    msg_info("%s", res[j].err.msg);
                reported = true;
                ret = -1;
            }
        }
        for (size_t j = 0; j < k; j++) {
            problem_free(res[j].prob);
            free(urls[j]);
        }
        memset(res, 0, n * sizeof *res);
    }
    /* A name failed for good: the certificate cannot be had; the other
     * pre-authorizations are given up too (authorize_each did it after an
     * interrupt). */
    if (ret && !interrupt_signal())
        authorize_deactivate(X, all, nall);
    strv_free(all, nall);
    free(res);
    free(which);
    free(urls);
    free(names);
    return ret;
}
