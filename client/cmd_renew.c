#include "cmd_renew.h"

#include <string.h>

#include "certfiles.h"
#include "cmd_issue.h"
#include "msg.h"
#include "random.h"
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

/* Whether m is due now; *use_ari says whether the CA's ARI window decided
 * (then the new order sends "replaces"). An ARI lookup that fails falls
 * back to the lifetime rule. */
static bool renewal_due(session *S, const certfiles_meta *m, bool *use_ari)
{
    time_t now = time(NULL);
    const char *ri = S->acme.dir.renewal_info;
    *use_ari = false;
    if (ri && m->ari_id) {
        /* RFC 9773 4.1: renewalInfo URL / CertID. */
        char *url = xasprintf("%s%s%s", ri, ri[strlen(ri) - 1] == '/' ? "" : "/", m->ari_id);
        acme_resp r = {0};
        aro_err err;
        time_t pick;
        uint32_t rnd;
        if (acme_get(&S->acme, url, &r, &err) == 0 && r.json) {
            random_bytes(&rnd, sizeof rnd);
            if (renew_ari_pick(r.json, rnd, &pick) == 0) {
                yajl_val w = json_member(r.json, "suggestedWindow");
                *use_ari = true;
                msg_info("%s: ARI window %s .. %s: %s", m->names[0], json_str(w, "start"),
                         json_str(w, "end"), now >= pick ? "due" : "not due");
            }
        } else {
            msg_warn("%s: ARI lookup failed (%s); using two thirds of the lifetime", m->names[0],
                     err.msg);
        }
        free(url);
        acme_resp_clear(&r);
        if (*use_ari)
            return now >= pick;
    }
    time_t at = renew_lifetime_due(m->not_before, m->not_after);
    char when[32];
    time_format_rfc3339(at, when);
    msg_info("%s: renewal due at %s (two thirds of the lifetime)", m->names[0], when);
    return now >= at;
}

/* Renew one certificate into rep. 0 renewed, -1 failed. */
static int renew_one(session *S, report *rep, const char *name, const certfiles_meta *m, bool ari)
{
    report one = {.result = "failed"};
    for (size_t i = 0; i < m->nnames; i++)
        strv_push(&one.names, &one.nnames, m->names[i]);
    msg_info("%s: renewing%s", name, ari ? " (ARI, replaces)" : "");
    int rc = issue_obtain(S, &one, ari ? m->ari_id : NULL);
    if (rc && ari && one.err_type && strstr(one.err_type, "alreadyReplaced")) {
        /* Someone else renewed this one (RFC 9773 5): a plain order still
         * gets ours. */
        report_forget_error(&one, "renewing without replaces");
        rc = issue_obtain(S, &one, NULL);
    }
    report_absorb(rep, &one);
    report_clear(&one);
    return rc;
}

int cmd_renew(const aro_opts *o)
{
    session S;
    report rep = {.result = "failed"};
    char **certs = NULL;
    size_t ncerts = 0;
    aro_err err;
    int renewed = 0, failed = 0;
    if (session_open(&S, o, &rep) || session_account(&S, ACCOUNT_EXISTING, NULL, &rep))
        goto out;
    session_start_solvers(&S);
    if (o->nnames) {
        for (size_t i = 0; i < o->nnames; i++)
            strv_push(&certs, &ncerts, o->names[i]);
    } else if (state_cert_list(S.st, &certs, &ncerts, &err)) {
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    for (size_t c = 0; c < ncerts; c++) {
        certfiles_meta m;
        if (certfiles_load(S.st, certs[c], &m, &err)) {
            report_fail(&rep, NULL, err.msg);
            failed++;
            continue;
        }
        if (m.server && strcmp(m.server, o->server)) {
            msg_info("%s: issued by %s, not %s; skipping", certs[c], m.server, o->server);
            certfiles_meta_clear(&m);
            continue;
        }
        bool ari = false;
        if (renewal_due(&S, &m, &ari) || o->force)
            renew_one(&S, &rep, certs[c], &m, ari) ? failed++ : renewed++;
        for (size_t i = 0; i < m.nnames; i++)
            if (!strv_contains(rep.names, rep.nnames, m.names[i]))
                strv_push(&rep.names, &rep.nnames, m.names[i]);
        certfiles_meta_clear(&m);
    }
    rep.result = failed ? "failed" : renewed ? "renewed" : "not-due";
out:
    if (rep.err_type)
        rep.result = "failed";
    report_print_issue(&rep, o->json, stdout);
    int code = rep.err_type ? 2 : renewed ? 0 : 1;
    strv_free(certs, ncerts);
    report_clear(&rep);
    session_close(&S);
    return code;
}
