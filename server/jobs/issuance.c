#include "jobs/issuance.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme_crypto.h"
#include "b64url.h"
#include "core/metrics.h"
#include "jobs/pipeline.h"
#include "rules/lifecycle.h"
#include "rules/limits.h"
#include "store/repo.h"

typedef struct {
    char order_id[ID_LEN];
    unsigned char *csr;
    size_t csr_len;
    bool has_result;    /* false: the order was gone before the work ran */
    ca_issued iss;
    char *failure;      /* why issuance failed, or NULL */
} issuance_job;

/* The validity the order asked for (7.4 notBefore/notAfter), or its
 * profile's; 0 leaves the CA's default. */
static void order_validity(const server_config *cfg, const rec_order *o, time_t *nb, time_t *na)
{
    *nb = *na = 0;
    if (o->not_before)
        time_parse_rfc3339(o->not_before, nb);
    if (o->not_after)
        time_parse_rfc3339(o->not_after, na);
    for (size_t i = 0; o->profile && i < cfg->nprofiles; i++)
        if (strcmp(cfg->profiles[i].name, o->profile) == 0 && cfg->profiles[i].validity_seconds && !*na)
            *na = (*nb ? *nb : time(NULL)) + cfg->profiles[i].validity_seconds;
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
    time_t nb, na;
    order_validity(&srv->cfg, &o, &nb, &na);
    csr_info csr = {0};
    aro_err err = {{0}};
    if (csr_parse_der(j->csr, j->csr_len, &csr, &err) < 0 || ca_issue(srv->ca, &csr, nb, na, &j->iss, &err) < 0)
        j->failure = xstrdup(err.msg);
    csr_info_free(&csr);
    rec_order_clear(&o);
}

/* The certificate record of what the CA issued for order o. */
static void cert_record(const rec_order *o, const ca_issued *iss, rec_cert *cert)
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
    X509 **chain = NULL;
    aro_err err;
    int n = x509_chain_from_pem(iss->leaf_pem, strlen(iss->leaf_pem), &chain, &err);
    cert->ari_id = n > 0 ? acme_ari_cert_id(chain[0]) : NULL;
    for (int i = 0; i < n; i++)
        X509_free(chain[i]);
    free(chain);
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
    if (j->failure) {
        rc = lifecycle_order_issue_failed(t, &o, j->failure, now);
    } else {
        rec_cert cert;
        cert_record(&o, &j->iss, &cert);
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
    if (store_commit(t, NULL) == 0 && !j->failure)
        metrics_inc(srv->m, "aro_certificates_issued_total", NULL);
}

static void issuance_release(void *arg)
{
    issuance_job *j = arg;
    ca_issued_clear(&j->iss);
    free(j->failure);
    free(j->csr);
    free(j);
}

static const job_kind issuance_kind = {
    .name = "issuance", .work = issuance_work, .apply = issuance_apply, .release = issuance_release};

void issuance_submit(server *srv, const char *order_id, const char *account_id, const unsigned char *der,
                     size_t len)
{
    issuance_job *j = xcalloc(1, sizeof(*j));
    snprintf(j->order_id, sizeof(j->order_id), "%s", order_id);
    j->csr = xmalloc(len ? len : 1);
    memcpy(j->csr, der, len);
    j->csr_len = len;
    pipeline_submit(srv, &issuance_kind, account_id, j);
}

static void resume_one(const rec_order *o, void *arg)
{
    server *srv = arg;
    unsigned char *der = NULL;
    size_t len = 0;
    if (o->csr && b64url_decode(o->csr, strlen(o->csr), &der, &len) == 0)
        issuance_submit(srv, o->id, o->account_id, der, len);
    free(der);
}

void issuance_resume_all(server *srv)
{
    store_txn *t = store_begin(srv->st, false);
    if (t) {
        repo_orders_processing(t, resume_one, srv);
        store_abort(t);
    }
}
