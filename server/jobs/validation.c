#include "jobs/validation.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme_crypto.h"
#include "core/metrics.h"
#include "core/urls.h"
#include "jobs/pipeline.h"
#include "mpic/mpic.h"
#include "random.h"
#include "rules/lifecycle.h"
#include "store/repo.h"
#include "va/va.h"

typedef struct {
    char *base;
    char authz_id[ID_LEN];
    char chall_id[ID_LEN];
    unsigned seq;
    bool has_result;    /* false: the attempt was stale before it ran */
    va_result res;
    char **caa_excluded; /* after a failure: the types CAA excludes now */
    size_t ncaa_excluded;
} validation_job;

static void sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What the attempt needs, read in a transaction of its own. */
typedef struct {
    rec_authz az;
    rec_chall c;
    rec_account acct;
    char **types;       /* every challenge type of the authorization */
    size_t ntypes;
} attempt_records;

static bool attempt_load(server *srv, const validation_job *j, attempt_records *r)
{
    memset(r, 0, sizeof(*r));
    store_txn *t = store_begin(srv->st, false);
    if (!t)
        return false;
    bool ok = repo_authz_get(t, j->authz_id, &r->az) == 0;
    if (ok && !(ok = repo_chall_get(t, j->chall_id, &r->c) == 0))
        rec_authz_clear(&r->az);
    if (ok && !(ok = repo_account_get(t, r->az.account_id, &r->acct) == 0)) {
        rec_authz_clear(&r->az);
        rec_chall_clear(&r->c);
    }
    authz_view v;
    if (ok && repo_authz_view_of(t, &r->az, &v) == 0) {
        for (size_t i = 0; i < v.nlisted + v.nreserve; i++) {
            const char *type = i < v.nlisted ? v.listed[i].type : v.reserve[i - v.nlisted].type;
            if (!strv_contains(r->types, r->ntypes, type))
                strv_push(&r->types, &r->ntypes, type);
        }
        authz_view_clear(&v);
    }
    store_abort(t);
    if (ok && r->az.attempt_seq != j->seq) {
        rec_authz_clear(&r->az);
        rec_chall_clear(&r->c);
        rec_account_clear(&r->acct);
        ok = false;
    }
    return ok;
}

static void attempt_records_clear(attempt_records *r)
{
    rec_authz_clear(&r->az);
    rec_chall_clear(&r->c);
    rec_account_clear(&r->acct);
    strv_free(r->types, r->ntypes);
}

/* After a failed attempt that may get a retry-options offer: which of the
 * authorization's challenge types CAA excludes now (RFC 8659, RFC 8657
 * validationmethods and accounturi), so the offer never lists one (draft:
 * the server re-checks CAA when it makes an offer). One lookup, off the
 * event loop and outside any store transaction. */
static void caa_for_offer(server *srv, const attempt_records *r, const char *acct_url, validation_job *j)
{
    const server_config *cfg = &srv->cfg;
    const char *ptype = j->res.problem ? problem_short_type(j->res.problem->type) : "";
    if (!cfg->retry_options || j->res.valid || strcmp(ptype, "caa") == 0 ||
        strcmp(r->az.identifier.type, "ip") == 0 || r->ntypes == 0)
        return;
    bool *allowed = xcalloc(r->ntypes, sizeof(*allowed));
    if (va_caa_methods_allowed(&cfg->va, r->az.identifier.value, r->az.wildcard, (const char *const *)r->types,
                               r->ntypes, acct_url, (const char *const *)cfg->caa_identities,
                               cfg->ncaa_identities, allowed) == 0)
        for (size_t i = 0; i < r->ntypes; i++)
            if (!allowed[i])
                strv_push(&j->caa_excluded, &j->ncaa_excluded, r->types[i]);
    free(allowed);
}

static bool caa_refused(const va_result *res)
{
    const char *t = res->problem ? problem_short_type(res->problem->type) : "";
    return strcmp(t, "caa") == 0;
}

/* The attempt itself: CAA, then the challenge, then 8.2 retries. */
static void validate(server *srv, validation_job *j, const attempt_records *r, va_result *res)
{
    const server_config *cfg = &srv->cfg;
    /* RFC 8555 8.1: token "." base64url(JWK thumbprint) of the account key
     * as it is now (a rollover between attempts changes it); the record
     * keeps the thumbprint of its current key. */
    char *keyauth = xasprintf("%s.%s", r->c.token, r->acct.thumbprint);
    char *acct_url = account_url(j->base, r->acct.id);
    long delay = cfg->va_sleep_ms;
    if (cfg->fault_validation_jitter_ms > 0) {
        unsigned rnd;
        random_bytes(&rnd, sizeof(rnd));
        delay += (long)(rnd % (unsigned)cfg->fault_validation_jitter_ms);
        metrics_inc(srv->m, "aro_faults_injected_total", "kind=\"delay\"");
    }
    sleep_ms(delay);
    bool is_ip = strcmp(r->az.identifier.type, "ip") == 0;
    /* CAA at every attempt (RFC 8659 3; RFC 8657 binds the method and the
     * account), so a re-enable is checked again too; no CAA for IP
     * addresses (RFC 8738 7). With remote perspectives configured, the
     * attempt is the whole multi-perspective corroboration (mpic/). */
    mpic_query q = {.challenge = {.type = r->c.type, .identifier = r->az.identifier.value, .is_ip = is_ip,
                                  .token = r->c.token, .key_authorization = keyauth},
                    .check_caa = !is_ip,
                    .caa = {.wildcard = r->az.wildcard, .method = r->c.type, .account_uri = acct_url,
                            .identities = (const char *const *)cfg->caa_identities,
                            .nidentities = cfg->ncaa_identities}};
    if (cfg->va_always_valid) {
        res->valid = true;
    } else {
        mpic_validate(srv->mpic, &cfg->va, &q, res);
        /* RFC 8555 8.2: the server may retry while the challenge stays
         * "processing". Off by default; the benchmark's "8.2" arm turns
         * it on to compare it with retry-options. Each retry is a complete
         * attempt again, never combined with an earlier one (BR 3.2.2.9);
         * a CAA refusal is not retried. */
        for (int i = 0; i < cfg->va_same_challenge_retries && !res->valid && !caa_refused(res); i++) {
            sleep_ms(cfg->va_same_challenge_retry_delay_ms);
            va_result_clear(res);
            metrics_inc(srv->m, "aro_validation_server_retries_total", NULL);
            mpic_validate(srv->mpic, &cfg->va, &q, res);
        }
        caa_for_offer(srv, r, acct_url, j);
    }
    free(keyauth);
    free(acct_url);
}

static void validation_work(server *srv, void *arg)
{
    validation_job *j = arg;
    attempt_records r;
    if (!attempt_load(srv, j, &r))
        return; /* stale, or the records are gone: nothing to apply */
    j->has_result = true;
    validate(srv, j, &r, &j->res);
    attempt_records_clear(&r);
}

static void count_validation(server *srv, const char *type, bool valid)
{
    char labels[80];
    snprintf(labels, sizeof(labels), "type=\"%s\",result=\"%s\"", type, valid ? "valid" : "invalid");
    metrics_inc(srv->m, "aro_validations_total", labels);
}

static void validation_apply(server *srv, void *arg)
{
    validation_job *j = arg;
    if (!j->has_result)
        return;
    store_txn *t = store_begin(srv->st, true);
    if (!t)
        return;
    validation_applied done;
    bool valid = j->res.valid;
    int rc = lifecycle_validation_result(&srv->cfg, t, j->authz_id, j->chall_id, j->seq, &j->res,
                                         j->caa_excluded, j->ncaa_excluded, time(NULL), &done);
    if (rc != 0 || store_commit(t, NULL) < 0) {
        if (rc != 0)
            store_abort(t);
        /* Stale: a newer attempt, a deactivation or an expiry came first. */
        if (rc == 1)
            metrics_inc(srv->m, "aro_validation_results_discarded_total", NULL);
        return;
    }
    count_validation(srv, done.chall_type, valid && !done.too_late);
    if (done.challs_created)
        metrics_add(srv->m, "aro_challenges_created_total", NULL, done.challs_created);
    if (done.reenabled_ended)
        metrics_inc(srv->m, "aro_reenabled_authorizations_total",
                    done.ended_valid ? "final=\"valid\"" : "final=\"invalid\"");
}

static void validation_release(void *arg)
{
    validation_job *j = arg;
    va_result_clear(&j->res);
    strv_free(j->caa_excluded, j->ncaa_excluded);
    free(j->base);
    free(j);
}

static const job_kind validation_kind = {
    .name = "validation", .work = validation_work, .apply = validation_apply, .release = validation_release};

void validation_submit(server *srv, const char *base, const rec_authz *a, const char *chall_id)
{
    validation_job *j = xcalloc(1, sizeof(*j));
    j->base = xstrdup(base);
    snprintf(j->authz_id, sizeof(j->authz_id), "%s", a->id);
    snprintf(j->chall_id, sizeof(j->chall_id), "%s", chall_id);
    j->seq = a->attempt_seq;
    j->res.dns_negative_ttl = -1;
    pipeline_submit(srv, &validation_kind, a->account_id, j);
}

typedef struct {
    server *srv;
    const char *base;
    int n;
} resume_ctx;

static void resume_one(const rec_authz *a, void *arg)
{
    resume_ctx *r = arg;
    validation_submit(r->srv, r->base, a, a->active_chall_id);
    r->n++;
}

void validation_resume_all(server *srv)
{
    char *base = xasprintf("https://%s", srv->cfg.listen);
    resume_ctx r = {.srv = srv, .base = base};
    store_txn *t = store_begin(srv->st, false);
    if (t) {
        repo_authzs_validating(t, resume_one, &r);
        store_abort(t);
    }
    if (r.n)
        fprintf(stderr, "aro-server: resumed %d validation(s) in flight at the last stop\n", r.n);
    free(base);
}
