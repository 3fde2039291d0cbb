/* Running a validation off the event loop and applying its result.
 * The job reads what it needs, runs CAA and the challenge check in the
 * validation authority (va.c, seconds of network I/O), then applies the
 * outcome in one write transaction through the state module. Attempts
 * are numbered: a result whose number is not the authorization's current
 * attempt is dropped, so a late answer never overwrites a newer one. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acme_crypto.h"
#include "acme/auth.h"
#include "store/db.h"
#include "acme/handlers.h"
#include "keys.h"
#include "rules/lifecycle.h"
#include "core/metrics.h"
#include "rules/policy.h"
#include "random.h"
#include "jobs/workers.h"
#include "jobs/writer.h"

typedef struct {
    server *srv;
    char *base;
    char authz_id[ID_LEN];
    char chall_id[ID_LEN];
    unsigned seq;
} validation_job;

char *challenge_create(store_txn *t, const rec_authz *a, const char *type); /* h_order.c */

static void count_validation(server *srv, const char *type, const char *result)
{
    char labels[80];
    snprintf(labels, sizeof(labels), "type=\"%s\",result=\"%s\"", type, result);
    metrics_inc(srv->m, "aro_validations_total", labels);
}

/* The failure half of applying a result: challenge and authorization
 * invalid (RFC 8555 for everyone), the facts the retry policy needs, and
 * the offer decision. */
static int apply_failure(server *srv, store_txn *t, rec_authz *az, rec_chall *c, va_result *res,
                         time_t now, unsigned *created)
{
    chall_status cs;
    authz_status as;
    chall_transition(c->status, CHALL_EV_FAIL, &cs);
    authz_transition(az->status, AUTHZ_EV_CHALLENGE_INVALID, &as);
    c->status = cs;
    az->status = as;
    c->error = res->problem;
    res->problem = NULL;
    if (!c->error)
        c->error = problem_new("serverInternal", 0, "validation failed without a reason");
    az->failures = xrealloc(az->failures, (az->nfailures + 1) * sizeof(*az->failures));
    rec_failure *f = &az->failures[az->nfailures++];
    memset(f, 0, sizeof(*f));
    f->at = now;
    snprintf(f->chall_type, sizeof(f->chall_type), "%s", c->type);
    snprintf(f->problem_type, sizeof(f->problem_type), "%s", problem_short_type(c->error->type));
    f->dns_negative_ttl = res->dns_negative_ttl;
    if (limit_failed_record(t, &srv->cfg, az->account_id, &az->identifier, now) < 0)
        return -1;

    const char *reason = NULL;
    free(az->no_offer_reason);
    az->no_offer_reason = NULL;
    az->offer_made = policy_offer_retry(&srv->cfg, az, f->problem_type, now, &reason);
    if (az->offer_made && srv->cfg.retry_same_type) {
        /* A same-type retry uses a fresh challenge (new URL, new token): a
         * failed one stays invalid for ever. One fresh challenge per failed
         * type, created when the offer is made so its token never changes
         * between reads; an unchosen one from an earlier offer is offered
         * again rather than creating another row. */
        for (size_t i = 0; i < az->nfailures; i++) {
            const char *type = az->failures[i].chall_type;
            bool have = false;
            for (size_t j = 0; j < az->noffer && !have; j++) {
                rec_chall oc;
                if (db_get_chall(t, az->offer_chall_ids[j], &oc) == 0) {
                    have = oc.status == CHALL_PENDING && strcmp(oc.type, type) == 0;
                    rec_chall_clear(&oc);
                }
            }
            if (have)
                continue;
            char *fresh = challenge_create(t, az, type);
            if (!fresh)
                return -1;
            strv_push(&az->offer_chall_ids, &az->noffer, fresh);
            free(fresh);
            (*created)++;
        }
    }
    if (!az->offer_made)
        az->no_offer_reason = xstrdup(reason);
    return 0;
}

static void apply_result(validation_job *j, va_result *res)
{
    server *srv = j->srv;
    time_t now = time(NULL);
    rec_authz az;
    rec_chall c;
    bool have_az = false, have_c = false;
    store_txn *t = store_begin(srv->st, true);
    if (!t)
        return;
    if (db_get_authz(t, j->authz_id, &az) != 0)
        goto out;
    have_az = true;
    if (az.attempt_seq != j->seq || strcmp(az.active_chall_id, j->chall_id) != 0 || az.status != AUTHZ_PENDING)
        goto out; /* stale: a newer attempt, a deactivation, or an expiry came first */
    if (db_get_chall(t, j->chall_id, &c) != 0 || c.status != CHALL_PROCESSING)
        goto out;
    have_c = true;
    free(c.record_json);
    c.record_json = res->record_json;
    res->record_json = NULL;
    az.active_chall_id[0] = 0;
    bool was_reenabled = az.nfailures > 0;
    unsigned created = 0;
    int rc;
    const acme_problem *cause = NULL;
    if (res->valid) {
        chall_status cs;
        authz_status as;
        chall_transition(c.status, CHALL_EV_SUCCEED, &cs);
        authz_transition(az.status, AUTHZ_EV_CHALLENGE_VALID, &as);
        c.status = cs;
        c.validated = now;
        az.status = as;
        /* 7.1.4: a valid authorization carries its (longer) expiry. */
        az.expires = now + srv->cfg.authz_valid_lifetime;
        rc = 0;
    } else {
        rc = apply_failure(srv, t, &az, &c, res, now, &created);
        cause = c.error;
    }
    if (rc == 0)
        rc = db_put_chall(t, &c);
    if (rc == 0)
        rc = db_put_authz(t, &az);
    if (rc == 0)
        rc = orders_follow_authz(srv, t, &az, now, cause);
    if (rc < 0)
        goto out;
    rc = store_commit(t, NULL);
    t = NULL;
    if (rc < 0)
        goto out;
    count_validation(srv, c.type, res->valid ? "valid" : "invalid");
    if (created)
        metrics_add(srv->m, "aro_challenges_created_total", NULL, created);
    if (was_reenabled && (res->valid || !az.offer_made))
        metrics_inc(srv->m, "aro_reenabled_authorizations_total",
                    res->valid ? "final=\"valid\"" : "final=\"invalid\"");
out:
    store_abort(t);
    if (have_az)
        rec_authz_clear(&az);
    if (have_c)
        rec_chall_clear(&c);
}

typedef struct {
    validation_job *job;
    va_result res;
} applied_result;

static void apply_queued(void *arg)
{
    applied_result *ar = arg;
    apply_result(ar->job, &ar->res);
}

/* A result whose batch failed to commit is lost like a crash would lose
 * it: the attempt stays "processing" and runs again at the next start. */
static void applied_free(void *arg, bool committed)
{
    (void)committed;
    applied_result *ar = arg;
    va_result_clear(&ar->res);
    free(ar->job->base);
    free(ar->job);
    free(ar);
}

static void sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void run_validation(void *arg)
{
    validation_job *j = arg;
    server *srv = j->srv;
    va_result res = {.dns_negative_ttl = -1};
    rec_authz az;
    rec_chall c;
    rec_account acct;
    bool have_az = false, have_c = false, have_acct = false;
    char *keyauth = NULL, *acct_url = NULL;
    EVP_PKEY *key = NULL;
    aro_err err;

    store_txn *t = store_begin(srv->st, false);
    if (!t)
        goto out;
    have_az = db_get_authz(t, j->authz_id, &az) == 0;
    have_c = have_az && db_get_chall(t, j->chall_id, &c) == 0;
    have_acct = have_c && db_get_account(t, az.account_id, &acct) == 0;
    store_abort(t);
    if (!have_acct || az.attempt_seq != j->seq)
        goto out;
    /* The key authorization uses the account's key as it is now: a key
     * rollover between attempts changes it (draft, Security). */
    yajl_val jwk = json_parse(acct.jwk, strlen(acct.jwk), &err);
    key = jwk ? jwk_import(jwk, &err) : NULL;
    json_free(jwk);
    if (!key) {
        res.problem = problem_new("serverInternal", 0, "account key unusable");
        goto apply;
    }
    keyauth = acme_key_authorization(c.token, key);
    acct_url = account_url(j->base, acct.id);
    long delay = srv->cfg.va_sleep_ms;
    if (srv->cfg.fault_validation_jitter_ms > 0) {
        unsigned r;
        random_bytes(&r, sizeof(r));
        delay += (long)(r % (unsigned)srv->cfg.fault_validation_jitter_ms);
        metrics_inc(srv->m, "aro_faults_injected_total", "kind=\"delay\"");
    }
    sleep_ms(delay);
    if (srv->cfg.va_always_valid) {
        res.valid = true;
        goto apply;
    }
    bool is_ip = strcmp(az.identifier.type, "ip") == 0;
    /* CAA at every attempt (RFC 8659 3; RFC 8657 binds the method and the
     * account), so a re-enable is checked again too. No CAA for IPs. */
    if (!is_ip && va_check_caa(&srv->cfg.va, az.identifier.value, az.wildcard, c.type, acct_url,
                               (const char *const *)srv->cfg.caa_identities, srv->cfg.ncaa_identities,
                               &res.problem) < 0)
        goto apply;
    va_request req = {.type = c.type, .identifier = az.identifier.value, .is_ip = is_ip,
                      .token = c.token, .key_authorization = keyauth};
    va_validate(&srv->cfg.va, &req, &res);
    /* RFC 8555 8.2: the server may retry while the challenge stays
     * "processing". Off by default; the benchmark's "8.2" arm turns it on
     * to compare it with retry-options. */
    for (int i = 0; i < srv->cfg.va_same_challenge_retries && !res.valid; i++) {
        sleep_ms(srv->cfg.va_same_challenge_retry_delay_ms);
        va_result_clear(&res);
        memset(&res, 0, sizeof(res));
        res.dns_negative_ttl = -1;
        metrics_inc(srv->m, "aro_validation_server_retries_total", NULL);
        va_validate(&srv->cfg.va, &req, &res);
    }
apply:
    if (srv->writer) {
        /* Join the writer's next batch: one fsync for many results. */
        applied_result *ar = xcalloc(1, sizeof(*ar));
        ar->job = j;
        ar->res = res;
        memset(&res, 0, sizeof(res));
        if (writer_submit(srv->writer, apply_queued, applied_free, ar))
            j = NULL; /* the writer owns it now */
        else {
            res = ar->res;
            free(ar);
            apply_result(j, &res);
        }
    } else {
        apply_result(j, &res);
    }
out:
    va_result_clear(&res);
    if (have_az)
        rec_authz_clear(&az);
    if (have_c)
        rec_chall_clear(&c);
    if (have_acct)
        rec_account_clear(&acct);
    EVP_PKEY_free(key);
    free(keyauth);
    free(acct_url);
    if (j) {
        free(j->base);
        free(j);
    }
}

static void start_validation(void *arg, bool committed)
{
    validation_job *j = arg;
    if (committed && worker_submit(j->srv->workers, run_validation, j))
        return;
    /* Not committed: nothing to validate. Queue full: the attempt stays
     * "processing" and validation_resume_all runs it at the next start. */
    if (committed)
        fprintf(stderr, "aro-server: validation queue full, attempt %s/%u deferred\n", j->authz_id, j->seq);
    free(j->base);
    free(j);
}

void validation_submit(server *srv, const char *base, const char *authz_id, const char *chall_id,
                       unsigned seq)
{
    validation_job *j = xcalloc(1, sizeof(*j));
    j->srv = srv;
    j->base = xstrdup(base);
    snprintf(j->authz_id, sizeof(j->authz_id), "%s", authz_id);
    snprintf(j->chall_id, sizeof(j->chall_id), "%s", chall_id);
    j->seq = seq;
    /* The job reads what its caller wrote: start it once that is durable. */
    store_after_commit(srv->st, start_validation, j);
}

typedef struct {
    server *srv;
    const char *base;
    int n;
} resume_ctx;

static int resume_one(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)key;
    (void)klen;
    resume_ctx *r = arg;
    rec_authz az;
    if (rec_authz_from_json(val, vlen, &az) < 0)
        return 0;
    if (az.status == AUTHZ_PENDING && az.active_chall_id[0]) {
        validation_submit(r->srv, r->base, az.id, az.active_chall_id, az.attempt_seq);
        r->n++;
    }
    rec_authz_clear(&az);
    return 0;
}

void validation_resume_all(server *srv)
{
    /* After a crash or restart, attempts that were "processing" run again
     * (8.2 allows the server to retry a processing challenge). */
    char *base = xasprintf("https://%s", srv->cfg.listen);
    resume_ctx r = {.srv = srv, .base = base};
    store_txn *t = store_begin(srv->st, false);
    if (t) {
        store_scan(t, TBL_AUTHZS, "", NULL, resume_one, &r);
        store_abort(t);
    }
    if (r.n)
        fprintf(stderr, "aro-server: resumed %d validation(s) in flight at the last stop\n", r.n);
    free(base);
}
