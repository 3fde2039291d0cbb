#include "cmd_renew.h"

#include <string.h>

#include "certfiles.h"
#include "cmd_issue.h"
#include "identifiers.h"
#include "interrupt.h"
#include "msg.h"
#include "precheck.h"
#include "random.h"
#include "remembered.h"
#include "report.h"
#include "session.h"
#include "strv.h"

time_t renew_lifetime_due(time_t not_before, time_t not_after)
{
    return not_before + (not_after - not_before) * 2 / 3;
}

int renew_ari_pick(yajl_val renewal_info, uint32_t rnd, time_t *at)
{
    yajl_val w = json_member(renewal_info, "suggestedWindow");
    const char *s = json_str(w, "start"), *e = json_str(w, "end");
    time_t start, end;
    if (!s || !e || time_parse_rfc3339(s, &start) || time_parse_rfc3339(e, &end) || end < start)
        return -1;
    *at = start + (time_t)((double)(end - start) * ((double)rnd / 4294967296.0));
    return 0;
}

/* When m is due; *use_ari says whether the CA's ARI window decided
 * (then the new order sends "replaces"). An ARI lookup that fails falls
 * back to the lifetime rule. */
static time_t renewal_due(session *S, const certfiles_meta *m, bool *use_ari)
{
    const char *ri = S->acme.dir.renewal_info;
    *use_ari = false;
    if (ri && m->ari_id) {
        /* RFC 9773 4.1: renewalInfo URL / CertID. */
        char *url = xasprintf("%s%s%s", ri, ri[strlen(ri) - 1] == '/' ? "" : "/", m->ari_id);
        acme_resp r = {0};
        aro_err err;
        time_t pick = 0;
        uint32_t rnd;
        if (acme_get(&S->acme, url, &r, &err) == 0 && r.json) {
            random_bytes(&rnd, sizeof rnd);
            if (renew_ari_pick(r.json, rnd, &pick) == 0) {
                yajl_val w = json_member(r.json, "suggestedWindow");
                *use_ari = true;
                msg_info("%s: ARI window %s .. %s: %s", m->names[0], json_str(w, "start"),
                         json_str(w, "end"), time(NULL) >= pick ? "due" : "not due");
            }
        } else {
            msg_note("%s: ARI lookup failed (%s); using two thirds of the lifetime", m->names[0],
                     err.msg);
        }
        free(url);
        acme_resp_clear(&r);
        if (*use_ari)
            return pick;
    }
    time_t at = renew_lifetime_due(m->not_before, m->not_after);
    char when[32];
    time_format_rfc3339(at, when);
    msg_info("%s: renewal due at %s (two thirds of the lifetime)", m->names[0], when);
    return at;
}

/* One certificate: its remembered settings, its CA, due or not, the
 * renewal. Fills one (a run of rep). */
static void renew_one(session *S, const aro_opts *cli, const char *name, report *one)
{
    certfiles_meta m;
    remembered rm = {0};
    aro_err err;
    one->name = xstrdup(name);
    one->result = "failed";
    if (certfiles_load(S->st, name, &m, &err)) {
        report_fail(one, NULL, err.msg);
        return;
    }
    remembered_apply(&rm, cli, &m);
    for (size_t i = 0; i < m.nnames; i++)
        strv_push(&one->names, &one->nnames, m.names[i]);
    if (session_connect(S, &rm.o, one))
        goto out;
    session_start_solvers(S);
    bool ari = false;
    time_t due = renewal_due(S, &m, &ari);
    if (!cli->force && time(NULL) < due) {
        one->result = "not-due";
        one->due = due;
        goto out;
    }
    if (precheck_solvers(S, one->names, one->nnames, one) || precheck_profile(S, one) ||
        session_account(S, ACCOUNT_EXISTING, NULL, one))
        goto out;
    msg_info("%s: renewing%s at %s", name, ari ? " (ARI, replaces)" : "", rm.o.server);
    int rc = issue_obtain(S, one, ari ? m.ari_id : NULL);
    if (rc && ari && one->err_type && strstr(one->err_type, "alreadyReplaced") &&
        !interrupt_signal()) {
        /* Someone else renewed this one (RFC 9773 5): a plain order still
         * gets ours. */
        report_forget_error(one, "renewing without replaces");
        rc = issue_obtain(S, one, NULL);
    }
    if (rc == 0)
        one->result = "renewed";
out:
    if (interrupt_signal())
        session_interrupted(S, one);
    session_disconnect(S);
    remembered_clear(&rm);
    certfiles_meta_clear(&m);
}

int cmd_renew(const aro_opts *o)
{
    session S;
    report rep = {.result = "not-due"};
    char **certs = NULL;
    size_t ncerts = 0;
    aro_err err;
    size_t renewed = 0, failed = 0;
    memset(&S, 0, sizeof S);
    if (session_open_state(&S, o, &rep))
        goto out;
    if (o->nnames) {
        for (size_t i = 0; i < o->nnames; i++) {
            char *n = identifier_normalize(o->names[i], &err);
            strv_push(&certs, &ncerts, n ? n : o->names[i]);
            free(n);
        }
    } else if (state_cert_list(S.st, &certs, &ncerts, &err)) {
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    for (size_t c = 0; c < ncerts && !interrupt_signal(); c++) {
        report one = {0};
        renew_one(&S, o, certs[c], &one);
        if (one.err_type)
            failed++;
        else if (!strcmp(one.result, "renewed"))
            renewed++;
        report_add_run(&rep, &one);
    }
    rep.result = failed ? "failed" : renewed ? "renewed" : "not-due";
out:
    if (rep.err_type)
        rep.result = "failed";
    int code = interrupt_signal() ? interrupt_exit_status()
               : rep.err_type || failed ? ARO_EXIT_FAILED : ARO_EXIT_OK;
    report_print_renew(&rep, o->json, o->quiet, stdout);
    strv_free(certs, ncerts);
    report_clear(&rep);
    session_close(&S);
    return code;
}
