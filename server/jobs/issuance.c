#include "jobs/issuance.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme_crypto.h"
#include "b64url.h"
#include "core/metrics.h"
#include "core/urls.h"
#include "jobs/pipeline.h"
#include "rules/lifecycle.h"
#include "rules/limits.h"
#include "rules/validity.h"
#include "store/repo.h"
#include "va/va.h"

/* CA/Browser Forum Baseline Requirements 3.2.2.8: CAA is checked
 * within 8 hours before issuance. Validation checked it; an
 * authorization validated longer ago than this is checked again. 7
 * hours, as Boulder: the CAA lookup came before the "validated" time by
 * as long as the validation took. */
#define CAA_RECHECK_AFTER (7 * 3600)

typedef struct {
    char order_id[ID_LEN];
    char *base;         /* URL prefix: the account URL for CAA accounturi (RFC 8657) */
    unsigned char *csr;
    size_t csr_len;
    csr_info parsed;    /* the CSR as finalize parsed it; unparsed (req NULL) after a restart */
    bool has_result;    /* false: the order was gone before the work ran */
    ca_issued iss;
    acme_problem *failure; /* why issuance failed, or NULL */
} issuance_job;

/* CAA again for each authorization of o validated more than
 * CAA_RECHECK_AFTER ago, with the method that validated it and the
 * account URL (RFC 8657). NULL when issuance may go on; else the order's
 * error (caa, or dns when a lookup failed: CAA fails closed), one
 * subproblem per identifier refused. */
static acme_problem *caa_recheck(server *srv, const issuance_job *j, const rec_order *o, time_t now)
{
    const server_config *cfg = &srv->cfg;
    acme_problem *failure = NULL;
    char *acct_url = account_url(j->base, o->account_id);
    store_txn *t = cfg->va_always_valid ? NULL : store_begin(srv->st, false);
    for (size_t i = 0; t && i < o->nauthz; i++) {
        authz_view v;
        if (repo_authz_view(t, o->authz_ids[i], &v) != 0)
            continue; /* gone: nothing validated to check again */
        const rec_authz *a = &v.authz;
        for (size_t k = 0; k < v.nlisted && strcmp(a->identifier.type, "dns") == 0; k++) {
            const rec_chall *c = &v.listed[k];
            if (c->status != CHALL_VALID || now - c->validated <= CAA_RECHECK_AFTER)
                continue;
            acme_problem *p = NULL;
            if (va_check_caa(&cfg->va, a->identifier.value, a->wildcard, c->type, acct_url,
                             (const char *const *)cfg->caa_identities, cfg->ncaa_identities, &p) < 0) {
                if (!failure)
                    failure = problem_new(p ? problem_short_type(p->type) : "caa", 0,
                                          "CAA checked again at issuance (the authorization was validated "
                                          "more than 7 hours ago) forbids issuance");
                problem_add_sub(failure, p ? p->type : ACME_ERR("caa"), a->identifier.type, a->identifier.value,
                                p && p->detail ? p->detail : "CAA forbids issuance");
            }
            problem_free(p);
        }
        authz_view_clear(&v);
    }
    store_abort(t);
    free(acct_url);
    return failure;
}

static void issuance_work(server *srv, void *arg)
{
    issuance_job *j = arg;
    rec_order o;
    store_txn *t = store_begin(srv->st, false);
    bool have_o = t && repo_order_get(t, j->order_id, &o) == 0;
    store_abort(t);
    if (!have_o)
        return;
    j->has_result = true;
    if (srv->cfg.fault_finalize_delay_ms > 0) {
        struct timespec ts = {srv->cfg.fault_finalize_delay_ms / 1000,
                              (srv->cfg.fault_finalize_delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        metrics_inc(srv->m, "aro_faults_injected_total", "kind=\"delay\"");
    }
    time_t nb, na, now = time(NULL);
    aro_err err = {{0}};
    validity_limits lim = validity_limits_for(&srv->cfg, srv->ca, o.profile);
    j->failure = caa_recheck(srv, j, &o, now);
    if (!j->failure &&
        (validity_of_certificate(&lim, o.not_before, o.not_after, now, &nb, &na, err.msg, sizeof(err.msg)) < 0 ||
         (!j->parsed.pubkey && csr_parse_der(j->csr, j->csr_len, &j->parsed, &err) < 0) ||
         ca_issue(srv->ca, &j->parsed, nb, na, &j->iss, &err) < 0))
        j->failure = problem_new("serverInternal", 0, "issuance failed: %s", err.msg);
    rec_order_clear(&o);
}

void issuance_cert_record(const rec_order *o, const ca_issued *iss, rec_cert *cert)
{
    memset(cert, 0, sizeof(*cert));
    snprintf(cert->serial, sizeof(cert->serial), "%s", iss->serial_hex);
    snprintf(cert->account_id, sizeof(cert->account_id), "%s", o->account_id);
    snprintf(cert->order_id, sizeof(cert->order_id), "%s", o->id);
    size_t nc = 0;
    for (int i = 0; i < iss->nchains; i++)
        strv_push(&cert->chains, &nc, iss->chain_pem[i]);
    cert->nchains = (int)nc;
    cert->not_before = iss->not_before;
    cert->not_after = iss->not_after;
    for (size_t i = 0; i < o->nidentifiers; i++) {
        if (strcmp(o->identifiers[i].type, "dns") == 0)
            strv_push(&cert->dns, &cert->ndns, o->identifiers[i].value);
        else
            strv_push(&cert->ips, &cert->nips, o->identifiers[i].value);
    }
    cert->ari_id = xstrdup(iss->ari_id);
}

static void issuance_apply(server *srv, void *arg)
{
    issuance_job *j = arg;
    if (!j->has_result)
        return;
    rec_order o;
    store_txn *t = store_begin(srv->st, true);
    if (!t)
        return;
    int rc = repo_order_get(t, j->order_id, &o);
    if (rc != 0) {
        store_abort(t);
        return;
    }
    time_t now = time(NULL);
    bool failed = j->failure != NULL;
    if (j->failure) {
        rc = lifecycle_order_issue_failed(t, &o, j->failure, now);
        j->failure = NULL;
    } else {
        rec_cert cert;
        issuance_cert_record(&o, &j->iss, &cert);
        rc = lifecycle_order_issued(t, &o, &cert, now);
        if (rc == 0)
            rc = limit_certificate_issued(&srv->cfg, t, &o, now);
        rec_cert_clear(&cert);
    }
    rec_order_clear(&o);
    if (rc != 0) {
        store_abort(t); /* 1: no longer processing (issued already): nothing to do */
        return;
    }
    if (store_commit(t, NULL) == 0 && !failed)
        metrics_inc(srv->m, "aro_certificates_issued_total", NULL);
}

static void issuance_release(void *arg)
{
    issuance_job *j = arg;
    ca_issued_clear(&j->iss);
    problem_free(j->failure);
    free(j->base);
    free(j->csr);
    csr_info_free(&j->parsed);
    free(j);
}

static const job_kind issuance_kind = {
    .name = "issuance", .work = issuance_work, .apply = issuance_apply, .release = issuance_release};

void issuance_submit(server *srv, const char *base, const char *order_id, const char *account_id,
                     const unsigned char *der, size_t len, csr_info *parsed)
{
    issuance_job *j = xcalloc(1, sizeof(*j));
    if (parsed) {
        j->parsed = *parsed; /* taken: parsing a CSR costs more than signing it */
        memset(parsed, 0, sizeof(*parsed));
    }
    j->base = xstrdup(base);
    snprintf(j->order_id, sizeof(j->order_id), "%s", order_id);
    j->csr = xmalloc(len ? len : 1);
    memcpy(j->csr, der, len);
    j->csr_len = len;
    pipeline_submit(srv, &issuance_kind, account_id, j);
}

typedef struct {
    server *srv;
    const char *base;
} resume_ctx;

static void resume_one(const rec_order *o, void *arg)
{
    resume_ctx *r = arg;
    unsigned char *der = NULL;
    size_t len = 0;
    if (o->csr && b64url_decode(o->csr, strlen(o->csr), &der, &len) == 0)
        issuance_submit(r->srv, r->base, o->id, o->account_id, der, len, NULL);
    free(der);
}

void issuance_resume_all(server *srv)
{
    char *base = xasprintf("https://%s", srv->cfg.listen);
    resume_ctx r = {.srv = srv, .base = base};
    store_txn *t = store_begin(srv->st, false);
    if (t) {
        repo_orders_processing(t, resume_one, &r);
        store_abort(t);
    }
    free(base);
}
