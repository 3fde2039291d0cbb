/* aro's commands, read top to bottom as RFC 8555 sequences:
 *   account_register (7.3), order_new (7.4), authorize (7.5, and the
 *   retry-options re-enable), finalize (7.4), cert_download (7.4.2),
 *   cert_revoke (7.6), account_update/deactivate (7.3.2, 7.3.6),
 *   account_rollover (7.3.5); renew via ARI (RFC 9773) when offered.
 * The transport is acme.c; solvers are solvers.c; state is state.c. */
#include "flow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acme.h"
#include "acme_crypto.h"
#include "acme_objects.h"
#include "b64url.h"
#include "backoff.h"
#include "authorize.h"
#include "certfiles.h"
#include "identifiers.h"
#include "order.h"
#include "choose.h"
#include "jws.h"
#include "msg.h"
#include "random.h"
#include "session.h"
#include "report.h"
#include "solvers.h"
#include "state.h"
#include "status.h"
#include "strv.h"


static char *contact_payload(const aro_opts *o)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    session_write_contacts(g, o);
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

/* 7.3.5: the inner JWS is signed by the new key, the outer by the old.
 * The new key is saved aside first, so a crash between the CA's answer
 * and our write cannot lose the account. */
static int account_rollover(session *S, report *rep)
{
    int ret = -1;
    aro_err err;
    acme_resp r = {0};
    char *inner = NULL, *pem = NULL, *next = xasprintf("%s.next", S->key_path);
    EVP_PKEY *nk = key_generate(S->o->account_key_type);
    if (!S->acme.dir.key_change) {
        aro_err_set(&err, "the CA at %s offers no keyChange", S->o->server);
        goto fail;
    }
    if (!nk || state_key_save(nk, next, &err)) {
        if (!nk)
            aro_err_set(&err, "cannot generate a new account key");
        goto fail;
    }
    inner = jws_sign_keychange(nk, S->key, S->acme.kid, S->acme.dir.key_change);
    if (!inner) {
        aro_err_set(&err, "cannot sign the key change");
        goto fail;
    }
    if (acme_post(&S->acme, S->acme.dir.key_change, inner, &r, &err))
        goto fail;
    pem = key_to_pem(nk);
    if (state_write_versioned(S->key_path, pem, strlen(pem), 0600, STATE_KEEP_VERSIONS, &err))
        goto fail;
    unlink(next);
    EVP_PKEY_free(S->key);
    S->key = nk;
    S->acme.key = nk;
    nk = NULL;
    msg_info("account key rolled over (%s); the old key is kept as %s.1", S->acme.kid, S->key_path);
    ret = 0;
    goto out;
fail:
    unlink(next);
    report_fail(rep, r.problem, err.msg);
out:
    if (pem)
        OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    free(inner);
    free(next);
    EVP_PKEY_free(nk);
    acme_resp_clear(&r);
    return ret;
}

int flow_account(const aro_opts *o, const char *sub)
{
    session S;
    report rep = {0};
    acme_resp r = {0};
    aro_err err;
    const char *result = "failed";
    bool created = false;
    yajl_val shown = NULL;

    if (session_open(&S, o, &rep))
        goto out;
    if (!strcmp(sub, "new")) {
        if (session_account(&S, ACCOUNT_NEW, &created, &rep))
            goto out;
        result = created ? "created" : "existing";
        msg_info("account %s: %s", result, S.acme.kid);
        goto out;
    }
    if (session_account(&S, ACCOUNT_EXISTING, NULL, &rep))
        goto out;
    if (!strcmp(sub, "show")) {
        if (acme_post(&S.acme, S.acme.kid, NULL, &r, &err)) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
        shown = r.json;
        r.json = NULL;
        result = "shown";
    } else if (!strcmp(sub, "update")) {
        char *p = contact_payload(o);
        int rc = acme_post(&S.acme, S.acme.kid, p, &r, &err);
        free(p);
        if (rc) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
        result = "updated";
    } else if (!strcmp(sub, "deactivate")) {
        /* 7.3.6: final; the CA refuses the account's requests afterwards. */
        if (acme_post(&S.acme, S.acme.kid, "{\"status\":\"deactivated\"}", &r, &err)) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
        state_account_del(S.st, o->server, &err);
        result = "deactivated";
        msg_info("account %s deactivated", S.acme.kid);
    } else if (!strcmp(sub, "rollover")) {
        if (account_rollover(&S, &rep))
            goto out;
        result = "rolled";
    } else {
        aro_err_set(&err, "unknown account command \"%s\" (new, show, update, deactivate, rollover)", sub);
        report_fail(&rep, NULL, err.msg);
    }
out:
    rep.result = result;
    report_print_simple(&rep, o->json, "account", S.acme_open ? S.acme.kid : NULL, shown, stdout);
    int code = rep.err_type ? 2 : 0;
    json_free(shown);
    acme_resp_clear(&r);
    report_clear(&rep);
    session_close(&S);
    return code;
}

/* The whole issuance for rep->names: orders until one gives a certificate.
 * With retry-options an order is carried to the end; without, the legacy
 * fallback opens a new order that skips failed types, when the failure is
 * one another type could fix and a solver exists for another offered type,
 * at most max_orders orders. */
static int issue_names(session *S, report *rep, const char *replaces)
{
    const aro_opts *o = S->o;
    authz_run X;
    authz_run_init(&X, S, rep);
    acme_order ord = {0};
    acme_resp r = {0};
    aro_err err = {{0}};
    int ret = -1;
    int max_orders = o->max_orders > 0 ? o->max_orders : 3;
    for (int n = 0; n < max_orders; n++) {
        if (order_new(S, rep->names, rep->nnames, replaces, &ord, &r, &err)) {
            report_fail(rep, r.problem, err.msg);
            goto out;
        }
        strv_push(&rep->orders, &rep->norders, ord.url);
        msg_info("order %s for %s%s (%s)", ord.url, rep->names[0], rep->nnames > 1 ? " and more" : "",
                 order_status_name(ord.status));
        if (authorize_order(&X, &ord, n == 0 ? "first" : "new-order") == 0) {
            char *pem = NULL;
            size_t len = 0;
            EVP_PKEY *key = NULL;
            char *stored = NULL;
            if (order_complete(S, &ord, rep->names, rep->nnames, &pem, &len, &key, &err) ||
                certfiles_store(S->st, &(certfiles_origin){.server = o->server, .names = rep->names,
                                                           .nnames = rep->nnames, .order = ord.url,
                                                           .key_type = key_type_name(o->cert_key_type),
                                                           .profile = o->profile},
                                pem, len, key, &stored, &err))
                report_fail(rep, NULL, err.msg);
            else
                ret = 0;
            if (stored) {
                free(rep->certificate);
                rep->certificate = stored;
            }
            free(pem);
            EVP_PKEY_free(key);
            goto out;
        }
        /* Legacy fallback (no retry-options, or they ran out). */
        switch (choose_next_order(X.last_problem, X.ids, X.nids, X.usable, X.nusable, n + 1,
                                  max_orders)) {
        case NEXT_ORDER_NOT_FIXABLE:
            if (X.last_problem)
                msg_info("not trying another order: %s is not a failure another challenge type could fix",
                         X.last_problem);
            goto out;
        case NEXT_ORDER_NO_OTHER_TYPE:
            msg_info("not trying another order: no solver for another offered challenge type");
            goto out;
        case NEXT_ORDER_LIMIT:
            goto out;
        case NEXT_ORDER_OPEN:
            msg_info("legacy fallback: a new order skipping the failed types (%d of at most %d)",
                     n + 2, max_orders);
            /* The new order's outcome decides the result, not this one's. */
            report_forget_error(rep);
        }
    }
out:
    authz_run_clear(&X);
    acme_order_clear(&ord);
    acme_resp_clear(&r);
    return ret;
}

int flow_issue(const aro_opts *o)
{
    session S;
    report rep = {.result = "failed"};
    for (size_t i = 0; i < o->nnames; i++)
        strv_push(&rep.names, &rep.nnames, o->names[i]);
    if (session_open(&S, o, &rep) || session_account(&S, ACCOUNT_ENSURE, NULL, &rep))
        goto out;
    session_start_solvers(&S);
    if (issue_names(&S, &rep, NULL) == 0) {
        rep.result = "issued";
        msg_info("issued %s: %s", rep.names[0], rep.certificate);
    }
out:
    if (!rep.certificate && !rep.err_type)
        report_error(&rep, NULL, "issuance failed");
    report_print_issue(&rep, o->json, stdout);
    int code = rep.certificate ? 0 : 2;
    report_clear(&rep);
    session_close(&S);
    return code;
}

/* ---- renewal (RFC 9773, else two thirds of the lifetime) ---------------- */

/* Due? ARI's suggested window when the CA offers renewalInfo (RFC 9773
 * 4.2: a random time in the window), else two thirds of the lifetime.
 * *use_ari says whether to send "replaces". */
static bool renewal_due(session *S, const certfiles_meta *m, bool *use_ari)
{
    time_t now = time(NULL);
    *use_ari = false;
    if (S->acme.dir.renewal_info && m->ari_id) {
        acme_resp r = {0};
        aro_err err;
        char *url = xasprintf("%s%s%s", S->acme.dir.renewal_info,
                              S->acme.dir.renewal_info[strlen(S->acme.dir.renewal_info) - 1] == '/' ? "" : "/",
                              m->ari_id);
        bool have = false, due = false;
        if (acme_get(&S->acme, url, &r, &err) == 0 && r.json) {
            yajl_val w = json_member(r.json, "suggestedWindow");
            time_t start, end;
            if (json_str(w, "start") && json_str(w, "end") &&
                time_parse_rfc3339(json_str(w, "start"), &start) == 0 &&
                time_parse_rfc3339(json_str(w, "end"), &end) == 0 && end >= start) {
                uint32_t u;
                random_bytes(&u, sizeof u);
                time_t pick = start + (time_t)((double)(end - start) * ((double)u / 4294967296.0));
                have = true;
                due = now >= pick;
                *use_ari = true;
                msg_info("%s: ARI window %s .. %s: %s", m->names[0], json_str(w, "start"),
                         json_str(w, "end"), due ? "due" : "not due");
            }
        } else {
            msg_warn("%s: ARI lookup failed (%s); using two thirds of the lifetime", m->names[0],
                     err.msg);
        }
        free(url);
        acme_resp_clear(&r);
        if (have)
            return due;
    }
    time_t at = m->not_before + (m->not_after - m->not_before) * 2 / 3;
    char when[32];
    time_format_rfc3339(at, when);
    msg_info("%s: renewal due at %s (two thirds of the lifetime)", m->names[0], when);
    return now >= at;
}

int flow_renew(const aro_opts *o)
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
        bool due = renewal_due(&S, &m, &ari) || o->force;
        if (due) {
            report one = {.result = "failed"};
            for (size_t i = 0; i < m.nnames; i++)
                strv_push(&one.names, &one.nnames, m.names[i]);
            msg_info("%s: renewing%s", certs[c], ari ? " (ARI, replaces)" : "");
            int rc = issue_names(&S, &one, ari ? m.ari_id : NULL);
            if (rc && ari && one.err_type && strstr(one.err_type, "alreadyReplaced")) {
                /* Someone else renewed this one: a plain order still gets ours. */
                report_forget_error(&one);
                rc = issue_names(&S, &one, NULL);
            }
            rc ? failed++ : renewed++;
            /* Merge into the run's one result. */
            report_absorb(&rep, &one);
            report_clear(&one);
        }
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

/* ---- revocation (7.6) ----------------------------------------------------- */

int flow_revoke(const aro_opts *o, const char *certfile)
{
    session S;
    report rep = {0};
    aro_err err;
    acme_resp r = {0};
    char *pem = NULL, *b64 = NULL, *payload = NULL, *keyfile = NULL;
    unsigned char *der = NULL;
    X509 **certs = NULL;
    int n = 0;
    EVP_PKEY *ckey = NULL;
    size_t len;
    if (session_open(&S, o, &rep))
        goto out;
    if (!(pem = file_read_all(certfile, 1 << 20, &len, &err)) ||
        (n = x509_chain_from_pem(pem, len, &certs, &err)) <= 0) {
        if (n == 0 && pem)
            aro_err_set(&err, "%s holds no certificate", certfile);
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    int dl = i2d_X509(certs[0], &der);
    if (dl <= 0) {
        aro_err_set(&err, "%s: cannot encode the certificate", certfile);
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    b64 = b64url_encode(der, (size_t)dl);
    if (o->reason >= 0)
        payload = xasprintf("{\"certificate\":\"%s\",\"reason\":%d}", b64, o->reason);
    else
        payload = xasprintf("{\"certificate\":\"%s\"}", b64);
    if (!S.acme.dir.revoke_cert) {
        aro_err_set(&err, "the CA at %s offers no revokeCert", o->server);
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    /* 7.6: signed by the account that holds the certificate, or, without
     * an account here, by the certificate's own key (key.pem beside it). */
    char *url = NULL;
    int have = S.key ? state_account_get(S.st, o->server, &url, &err) : 1;
    if (have == 0) {
        S.acme.kid = url;
        if (acme_post(&S.acme, S.acme.dir.revoke_cert, payload, &r, &err)) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
    } else {
        free(url);
        char *slash = strrchr(certfile, '/');
        keyfile = slash ? xasprintf("%.*s/key.pem", (int)(slash - certfile), certfile)
                        : xstrdup("key.pem");
        if (!(ckey = key_load_pem(keyfile, &err))) {
            aro_err_set(&err, "no account for %s and no certificate key %s to revoke with", o->server,
                        keyfile);
            report_fail(&rep, NULL, err.msg);
            goto out;
        }
        if (acme_post_key(&S.acme, ckey, NULL, S.acme.dir.revoke_cert, payload, &r, &err)) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
    }
    msg_info("revoked %s", certfile);
out:
    rep.result = "revoked";
    report_print_simple(&rep, o->json, "certificate", certfile, NULL, stdout);
    int code = rep.err_type ? 2 : 0;
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    EVP_PKEY_free(ckey);
    OPENSSL_free(der);
    free(pem);
    free(b64);
    free(payload);
    free(keyfile);
    acme_resp_clear(&r);
    report_clear(&rep);
    session_close(&S);
    return code;
}

/* ---- list ------------------------------------------------------------------ */

int flow_list(const aro_opts *o)
{
    report rep = {0};
    aro_err err;
    char **names = NULL;
    size_t n = 0;
    state *st = state_open(o->state_dir, &err);
    if (!st || state_cert_list(st, &names, &n, &err))
        report_fail(&rep, NULL, err.msg);
    for (size_t i = 0; i < n; i++) {
        certfiles_meta m;
        if (certfiles_load(st, names[i], &m, &err))
            continue;
        report_add_cert(&rep, names[i], m.names, m.nnames, m.not_after, m.server, m.fullchain);
        certfiles_meta_clear(&m);
    }
    report_print_list(&rep, o->json, stdout);
    int code = rep.err_type ? 2 : 0;
    strv_free(names, n);
    state_close(st);
    report_clear(&rep);
    return code;
}
