#include "cmd_issue.h"

#include <stdlib.h>
#include <string.h>

#include "acme_objects.h"
#include "authorize.h"
#include "certfiles.h"
#include "choose.h"
#include "hookrun.h"
#include "identifiers.h"
#include "inflight.h"
#include "interrupt.h"
#include "msg.h"
#include "order.h"
#include "precheck.h"
#include "preauth.h"
#include "remembered.h"
#include "status.h"
#include "strv.h"

/* --deploy-hook: sh -c CMD, once the certificate's files are in place,
 * with certbot's RENEWED_LINEAGE (the certificate's directory) and
 * RENEWED_DOMAINS (its names, space-separated), and aro's own ARO_CERT_*
 * variables. 0, or -1 with the error in rep. */
static int deploy(session *S, report *rep)
{
    const aro_opts *o = S->o;
    if (!o->deploy_hook)
        return 0;
    char *dir = state_cert_dir(S->st, rep->names[0]);
    aro_buf domains = {0};
    for (size_t i = 0; i < rep->nnames; i++)
        buf_printf(&domains, "%s%s", i ? " " : "", rep->names[i]);
    char *env[] = {xasprintf("RENEWED_LINEAGE=%s", dir),
                   xasprintf("RENEWED_DOMAINS=%s", domains.data),
                   xasprintf("ARO_CERT_NAME=%s", rep->names[0]),
                   xasprintf("ARO_CERT_DIR=%s", dir),
                   xasprintf("ARO_CERT=%s/cert.pem", dir),
                   xasprintf("ARO_KEY=%s/key.pem", dir),
                   xasprintf("ARO_CHAIN=%s/chain.pem", dir),
                   xasprintf("ARO_FULLCHAIN=%s/fullchain.pem", dir),
                   xasprintf("ARO_NAMES=%s", domains.data), NULL};
    char *argv[] = {"/bin/sh", "-c", (char *)o->deploy_hook, NULL};
    char *what = xasprintf("deploy hook for %s", rep->names[0]);
    hookrun_spec spec = {.prog = "/bin/sh", .argv = argv, .env = env, .timeout = o->hook_timeout,
                         .interruptible = true, .what = what};
    msg_info("%s: running %s", what, o->deploy_hook);
    int st = hookrun(&spec);
    int ret = 0;
    if (st) {
        char why[64], *msg = xasprintf("%s (%s): %s; the certificate is stored", what,
                                       o->deploy_hook, hookrun_describe(st, o->hook_timeout, why,
                                                                        sizeof why));
        report_error(rep, "aro:deploy-hook", msg);
        free(msg);
        ret = -1;
    }
    for (int i = 0; env[i]; i++)
        free(env[i]);
    free(what);
    free(dir);
    buf_free(&domains);
    return ret;
}

/* The order's authorizations are valid: the certificate (order.c), then
 * its files (certfiles.c). 0, or -1 with the error in rep. */
static int issue_complete(session *S, report *rep, acme_order *ord, bool resumed)
{
    const aro_opts *o = S->o;
    char *pem = NULL, *fullchain = NULL;
    size_t len = 0;
    aro_err err;
    int ret = -1;
    yajl_val settings = NULL;
    EVP_PKEY *key = inflight_cert_key(S, rep->names, resumed, &err);
    if (!key || order_complete(S, ord, rep->names, rep->nnames, key, &pem, &len, &err)) {
        report_fail(rep, NULL, err.msg);
        goto out;
    }
    /* Only now: every poll above replaced *ord, ord->url included. */
    settings = remembered_settings(o);
    certfiles_origin from = {.server = o->server, .names = rep->names, .nnames = rep->nnames,
                             .order = ord->url, .key_type = key_type_name(o->cert_key_type),
                             .profile = o->profile, .settings = settings};
    if (certfiles_store(S->st, &from, pem, len, key, &fullchain, &err)) {
        report_fail(rep, NULL, err.msg);
        goto out;
    }
    free(rep->certificate);
    rep->certificate = fullchain;
    ret = 0;
out:
    json_free(settings);
    free(pem);
    EVP_PKEY_free(key);
    return ret;
}

/* The order an earlier, interrupted run left for these names, when it can
 * still give a certificate. 0 with *ord; -1 none. */
static int resume_order(session *S, report *rep, acme_order *ord)
{
    char *url = inflight_find(S, rep->names, rep->nnames);
    aro_err err;
    int ret = -1;
    if (!url)
        return -1;
    if (order_fetch(S, url, ord, &err)) {
        msg_note("the order %s of an earlier run is gone (%s); a new order", url, err.msg);
    } else if (ord->status == ORDER_INVALID && ord->retry && ord->retry->nauthorizations &&
               S->o->retry != RETRY_OFF) {
        /* Invalid only because of authorizations with an offer (draft,
         * "Re-enabling"): re-enabling them brings this order back. */
        msg_info("resuming the order %s of an earlier run (invalid, with retry-options: "
                 "re-enabling it)", url);
        ret = 0;
    } else if (ord->status == ORDER_INVALID) {
        msg_note("the order %s of an earlier run is invalid; a new order", url);
    } else {
        msg_info("resuming the order %s of an earlier run (%s)", url, order_status_name(ord->status));
        ret = 0;
    }
    if (ret)
        inflight_forget(S, rep->names, rep->nnames);
    free(url);
    return ret;
}

/* Say what the order is, with whether the CA holds its failed
 * authorizations pending (pending-hold: the order's "retry-options" echoes
 * "hold") when aro asked for it. */
static void say_order(session *S, const report *rep, const acme_order *ord)
{
    bool asked = choose_ask_hold(S->o->retry, &S->acme.dir);
    bool held = ord->retry && ord->retry->hold;
    msg_info("order %s for %s%s (%s%s)", ord->url, rep->names[0], rep->nnames > 1 ? " and more" : "",
             order_status_name(ord->status), held ? ", pending-hold" : "");
    if (asked && !held)
        msg_note("the CA advertises pending-hold but order %s does not show it; a failed "
                 "authorization will be re-enabled instead, where the CA offers that", ord->url);
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
    /* An interrupted run's order first; else, with --preauthorize, the
     * names' own authorizations before the order (preauth.h). */
    bool resumed = resume_order(S, rep, &ord) == 0;
    if (!resumed && preauth_names(&X))
        goto out;
    for (int n = 0; n < max_orders && !interrupt_signal(); n++) {
        if (n > 0 || !resumed) {
            if (order_new(S, rep->names, rep->nnames, replaces, &ord, &r, &err)) {
                report_fail(rep, r.problem, err.msg);
                break;
            }
            inflight_record(S, rep->names, rep->nnames, ord.url);
            say_order(S, rep, &ord);
        }
        strv_push(&rep->orders, &rep->norders, ord.url);
        /* The pre-authorizations' attempts belong to the order that uses them. */
        report_attempts_set_order(rep, ord.url);
        if (authorize_order(&X, &ord, n == 0 ? "first" : "new-order") == 0) {
            if ((ret = issue_complete(S, rep, &ord, n == 0 && resumed)) == 0) {
                inflight_forget(S, rep->names, rep->nnames);
                deploy(S, rep);
            }
            break;
        }
        if (interrupt_signal())
            break;
        /* The order is given up: a rerun must not resume it. */
        inflight_forget(S, rep->names, rep->nnames);
        /* The legacy fallback: retry-options were absent, spent, or
         * ignored (--retry-options off). */
        next_order next = choose_next_order(X.last_problem, X.ids, X.nids, X.usable, X.nusable,
                                            n + 1, max_orders);
        char buf[160];
        const char *why = choose_next_order_why(next, X.last_problem, buf, sizeof buf);
        if (why)
            msg_info("not trying another order: %s", why);
        if (next != NEXT_ORDER_OPEN)
            break;
        /* The new order's outcome decides the result, not this one's. */
        report_forget_error(rep, "the legacy fallback: a new order skipping the failed types");
        msg_info("order %d of at most %d", n + 2, max_orders);
    }
out:
    authz_run_clear(&X);
    acme_order_clear(&ord);
    acme_resp_clear(&r);
    return ret;
}

int issue_exit_status(const report *rep)
{
    if (interrupt_signal())
        return interrupt_exit_status();
    if (rep->err_type && !strcmp(rep->err_type, "usage"))
        return ARO_EXIT_USAGE;
    return rep->err_type || !rep->certificate ? ARO_EXIT_FAILED : ARO_EXIT_OK;
}

int cmd_issue(const aro_opts *o)
{
    session S;
    report rep = {.result = "failed"};
    aro_err err;
    memset(&S, 0, sizeof S);
    if (identifiers_normalize(o->names, o->nnames, &rep.names, &rep.nnames, &err)) {
        report_error(&rep, "usage", err.msg);
        goto out;
    }
    if (session_open_state(&S, o, &rep) || precheck_cert_names(&S, rep.names, rep.nnames, &rep) ||
        session_connect(&S, o, &rep))
        goto out;
    session_start_solvers(&S);
    if (precheck_solvers(&S, rep.names, rep.nnames, &rep) || precheck_profile(&S, &rep) ||
        session_account(&S, ACCOUNT_ENSURE, NULL, &rep))
        goto out;
    if (issue_obtain(&S, &rep, NULL) == 0)
        rep.result = "issued";
out:
    if (interrupt_signal())
        session_interrupted(&S, &rep);
    if (!rep.certificate && !rep.err_type)
        report_error(&rep, NULL, "issuance failed");
    int code = issue_exit_status(&rep);
    if (o->json || !o->quiet || code)
        report_print_issue(&rep, o->json, stdout);
    report_clear(&rep);
    session_close(&S);
    return code;
}
