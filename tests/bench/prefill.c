/* aro-prefill: fills the store of an aro-server data directory with
 * certificates and everything that led to them, written by the server's
 * own code (tests/bench/run measures throughput on such a store against an
 * empty one, docs/benchmarks.md "Scale").
 *
 * For each certificate, in the order the server does it and with the same
 * functions (each step names the handler or job it stands for): an
 * account every --per-account certificates (acme/account.c: its own P-256
 * key, so its key index entry is distinct), an authorization with its
 * three challenges and an order over it (acme/order.c, the limits counted
 * as rules/limits.c counts them), the http-01 answer (acme/challenge.c), a
 * valid validation result (jobs/validation.c), finalization and a real
 * certificate signed by the data directory's CA for the order's name,
 * with the account's certificate key (jobs/issuance.c). Names are
 * distinct (pN-M.test, a registered domain of its own each, as separate
 * customers would have). Times spread over the day before the run.
 *
 * --reuse K1,K2,...: for each K an account with one valid authorization
 * and K earlier orders that reused it, each finalized and issued, one a
 * minute ending 8 days before the run (so no rate limit bucket of theirs
 * is still full): the benchmark measures a further newOrder reusing it.
 *
 * --spot FILE: JSON naming a few accounts (with their private keys), their
 * names, authorizations, certificates and CertIDs, and the reuse
 * accounts, for checks through the ACME API; and the counts, the time
 * taken and the store's size.
 *
 *   aro-prefill --data DIR --certs N [--per-account K] [--reuse LIST]
 *               [--spot FILE] [--threads T]
 *
 * The CPU-heavy part (keys, certificates) runs on --threads threads per
 * batch of accounts; the store is written by one thread, a batch per
 * transaction (one commit per --batch accounts, default 500). */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "acme_crypto.h"
#include "ca/ca.h"
#include "jobs/issuance.h"
#include "json.h"
#include "keys.h"
#include "rules/lifecycle.h"
#include "rules/limits.h"
#include "settings/config.h"
#include "store/repo.h"

#define SPOT_ACCOUNTS 4

/* One certificate to be: its name and what the CA issued. */
typedef struct {
    char *name;
    ca_issued iss;
    time_t at;
} cert_plan;

/* One account to be, with its certificates. */
typedef struct {
    EVP_PKEY *key, *cert_key;
    X509_PUBKEY *cert_spki;
    char *thumbprint, *jwk;
    char id[ID_LEN];
    cert_plan *certs;
    int ncerts;
    int reuse;          /* a reuse account: ncerts orders over one authorization */
} account_plan;

typedef struct {
    ca *ca;
    account_plan *accts;
    int from, to;       /* this thread's share of the batch */
    int failed;
} batch_work;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "aro-prefill: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* Keys and certificates of accounts [from, to): the expensive part. */
static void *make_accounts(void *arg)
{
    batch_work *w = arg;
    aro_err err = {{0}};
    for (int i = w->from; i < w->to && !w->failed; i++) {
        account_plan *a = &w->accts[i];
        a->key = key_generate(KEY_EC256);
        a->cert_key = key_generate(KEY_EC256);
        if (!a->key || !a->cert_key || !X509_PUBKEY_set(&a->cert_spki, a->cert_key)) {
            w->failed = 1;
            break;
        }
        a->thumbprint = jwk_thumbprint(a->key);
        a->jwk = jwk_to_json(a->key);
        for (int k = 0; k < a->ncerts; k++) {
            cert_plan *c = &a->certs[k];
            /* What finalize parsed from the client's CSR: the name and the
             * key (as csr_parse_der gives them). */
            csr_info csr = {.pubkey = a->cert_key, .spki = a->cert_spki, .ndns = 1, .dns = &c->name};
            time_t nb = c->at - 60, na = nb + 90 * 86400;
            if (ca_issue(w->ca, &csr, nb, na, &c->iss, &err) < 0) {
                fprintf(stderr, "aro-prefill: issuing for %s: %s\n", c->name, err.msg);
                w->failed = 1;
                break;
            }
        }
    }
    return NULL;
}

static int make_in_threads(ca *c, account_plan *accts, int n, int threads)
{
    batch_work w[16];
    pthread_t th[16];
    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    for (int t = 0; t < threads; t++) {
        w[t] = (batch_work){.ca = c, .accts = accts, .from = n * t / threads, .to = n * (t + 1) / threads};
        pthread_create(&th[t], NULL, make_accounts, &w[t]);
    }
    int failed = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        failed |= w[t].failed;
    }
    return failed;
}

/* A batch of accounts being made on its own thread. */
typedef struct {
    ca *c;
    account_plan *accts;
    int n, threads, failed;
    pthread_t th;
} maker;

static void *maker_main(void *arg)
{
    maker *m = arg;
    m->failed = make_in_threads(m->c, m->accts, m->n, m->threads);
    return NULL;
}

/* Accounts [first, first + batch) of naccts, per certificates each (the
 * last one the rest), certificate i at start - 1 day + i/N of a day. */
static void plan_batch(maker *m, long first, long batch, long naccts, long certs, long per, time_t start)
{
    m->n = (int)(first + batch <= naccts ? batch : naccts - first);
    m->accts = xcalloc((size_t)m->n, sizeof(*m->accts));
    for (int i = 0; i < m->n; i++) {
        long ai = first + i;
        account_plan *a = &m->accts[i];
        a->ncerts = (int)(ai == naccts - 1 && certs % per ? certs % per : per);
        a->certs = xcalloc((size_t)a->ncerts, sizeof(*a->certs));
        for (int k = 0; k < a->ncerts; k++) {
            long ci = ai * per + k;
            a->certs[k].name = xasprintf("p%ld-%d.test", ai, k);
            a->certs[k].at = start - 86400 + (time_t)(86400.0 * (double)ci / (double)(certs ? certs : 1));
        }
    }
}

/* The validationRecord an http-01 validation of name stores. */
static char *http01_record(const char *name, int port)
{
    json_gen *g = jg_new();
    char url[300], portstr[16];
    snprintf(url, sizeof(url), "http://%s/.well-known/acme-challenge/", name);
    snprintf(portstr, sizeof(portstr), "%d", port);
    jg_arr_open(g);
    jg_obj_open(g);
    jg_kv_str(g, "url", url);
    jg_kv_str(g, "hostname", name);
    jg_kv_str(g, "port", portstr);
    jg_key(g, "addressesResolved");
    jg_arr_open(g);
    jg_str(g, "127.0.0.1");
    jg_arr_close(g);
    jg_kv_str(g, "addressUsed", "127.0.0.1");
    jg_obj_close(g);
    jg_arr_close(g);
    return jg_finish(g, NULL);
}

static void check(int rc, const char *what)
{
    if (rc != 0)
        fail(what, rc < 0 ? "store error" : "refused");
}

/* newOrder for c's name over authorization az (created here when it has
 * no id yet, else reused: valid), the challenge answered and validated (a
 * new authorization only), finalize and issuance with c's certificate: as
 * acme/order.c, acme/challenge.c, jobs/validation.c, acme/finalize.c and
 * jobs/issuance.c do it, at time c->at. */
static void write_issuance(const server_config *cfg, store_txn *t, const account_plan *a, cert_plan *c,
                           rec_authz *az)
{
    time_t now = c->at;
    bool reused = az->id[0] != '\0';
    if (!reused) {
        unsigned challs = 0;
        snprintf(az->account_id, sizeof(az->account_id), "%s", a->id);
        az->identifier.type = xstrdup("dns");
        az->identifier.value = xstrdup(c->name);
        check(lifecycle_authz_create(cfg, t, az, now, &challs), "authorization");
    }
    rec_order o = {0};
    repo_new_id(o.id);
    snprintf(o.account_id, sizeof(o.account_id), "%s", a->id);
    o.identifiers = xcalloc(1, sizeof(*o.identifiers));
    o.identifiers[0].type = xstrdup("dns");
    o.identifiers[0].value = xstrdup(c->name);
    o.nidentifiers = 1;
    o.created = now;
    o.expires = now + cfg->order_lifetime;
    strv_push(&o.authz_ids, &o.nauthz, az->id);
    authz_status st = authz_status_at(az->status, az->expires, now);
    acme_problem *p = NULL;
    long retry = 0;
    check(limit_new_order(cfg, t, &o, now, &p, &retry), "limits");
    if (p)
        fail("a limit refused the order", p->detail);
    check(lifecycle_order_create(t, &o, &st, 1), "order");
    if (!reused) {
        rec_chall ch;
        check(repo_chall_get(t, az->chall_ids[0], &ch), "challenge");
        check(lifecycle_challenge_respond(t, az, &ch, now), "challenge answer");
        va_result res = {.valid = true, .record_json = http01_record(c->name, cfg->va.http_port),
                         .dns_negative_ttl = -1};
        validation_applied done;
        check(lifecycle_validation_result(cfg, t, az->id, ch.id, az->attempt_seq, &res, NULL, 0, now, &done),
              "validation");
        va_result_clear(&res);
        rec_chall_clear(&ch);
        char id[ID_LEN];
        snprintf(id, sizeof(id), "%s", az->id);
        rec_authz_clear(az);
        check(repo_authz_get(t, id, az), "authorization again");
    }
    /* finalize: the order is ready now (its authorization valid). The
     * CSR an order keeps while processing is gone again once it is valid,
     * in this same transaction: a placeholder stands for it. */
    char order_id[ID_LEN];
    snprintf(order_id, sizeof(order_id), "%s", o.id);
    rec_order_clear(&o);
    check(repo_order_get(t, order_id, &o), "order again");
    check(lifecycle_order_finalize(t, &o, "prefill", now), "finalize");
    rec_cert cert;
    issuance_cert_record(&o, &c->iss, &cert);
    check(lifecycle_order_issued(t, &o, &cert, now), "issued");
    check(limit_certificate_issued(cfg, t, &o, now), "certificate limits");
    rec_cert_clear(&cert);
    rec_order_clear(&o);
}

/* An account and all its certificates (newAccount as acme/account.c). */
static void write_account(const server_config *cfg, store_txn *t, account_plan *a, rec_authz *kept)
{
    rec_account acct = {0};
    repo_new_id(acct.id);
    snprintf(a->id, sizeof(a->id), "%s", acct.id);
    acct.thumbprint = xstrdup(a->thumbprint);
    acct.jwk = xstrdup(a->jwk);
    strv_push(&acct.contact, &acct.ncontact, "mailto:prefill@example.com");
    acct.tos_agreed = true;
    acct.created = a->ncerts ? a->certs[0].at - 60 : time(NULL);
    check(lifecycle_account_create(t, &acct), "account");
    rec_account_clear(&acct);
    rec_authz az = {0};
    for (int k = 0; k < a->ncerts; k++) {
        write_issuance(cfg, t, a, &a->certs[k], &az);
        /* A reuse account's orders all go over its one authorization;
         * every other certificate gets an authorization of its own. The
         * one kept for the spot checks is the first certificate's (the
         * reuse account's only one). */
        if (!a->reuse || k == a->ncerts - 1) {
            if (kept && (a->reuse || k == 0))
                *kept = az;
            else
                rec_authz_clear(&az);
            memset(&az, 0, sizeof(az));
        }
    }
}

static void plan_free(account_plan *a)
{
    EVP_PKEY_free(a->key);
    EVP_PKEY_free(a->cert_key);
    X509_PUBKEY_free(a->cert_spki);
    free(a->thumbprint);
    free(a->jwk);
    for (int k = 0; k < a->ncerts; k++) {
        free(a->certs[k].name);
        ca_issued_clear(&a->certs[k].iss);
    }
    free(a->certs);
    memset(a, 0, sizeof(*a));
}

/* What the spot checks need of one account. */
static void spot_entry(json_gen *g, const account_plan *a, const rec_authz *az, int prior)
{
    char *pem = key_to_pem(a->key);
    const cert_plan *c = &a->certs[a->reuse ? a->ncerts - 1 : 0];
    jg_obj_open(g);
    jg_kv_str(g, "account", a->id);
    jg_kv_str(g, "key", pem);
    jg_kv_str(g, "name", c->name);
    jg_kv_str(g, "authz", az ? az->id : NULL);
    jg_kv_str(g, "serial", c->iss.serial_hex);
    jg_kv_str(g, "ari", c->iss.ari_id);
    if (prior >= 0)
        jg_kv_int(g, "prior_orders", prior);
    jg_obj_close(g);
    free(pem);
}

static int first_key(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)key;
    (void)klen;
    (void)val;
    (void)vlen;
    *(int *)arg = 1;
    return 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fputs("usage: aro-prefill --data DIR --certs N [--per-account K] [--reuse K1,K2,...] [--spot FILE]\n"
          "                   [--threads T] [--batch ACCOUNTS]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"data", 1, 0, 'd'},    {"certs", 1, 0, 'n'}, {"per-account", 1, 0, 'k'},
                                         {"reuse", 1, 0, 'r'},   {"spot", 1, 0, 's'},  {"threads", 1, 0, 't'},
                                         {"batch", 1, 0, 'b'},   {0, 0, 0, 0}};
    const char *data = NULL, *spot = NULL, *reuse = "";
    long certs = 0, per = 10, threads = 2, batch = 500;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd': data = optarg; break;
        case 'n': certs = atol(optarg); break;
        case 'k': per = atol(optarg); break;
        case 'r': reuse = optarg; break;
        case 's': spot = optarg; break;
        case 't': threads = atol(optarg); break;
        case 'b': batch = atol(optarg); break;
        default: usage();
        }
    }
    if (!data || certs < 0 || per < 1 || batch < 1)
        usage();
    server_config cfg;
    aro_err err = {{0}};
    config_defaults(&cfg);
    if (mkdir_p(data, 0700) < 0)
        fail("cannot create", data);
    ca *c = ca_open(data, &cfg.ca, &err);
    if (!c)
        fail("CA", err.msg);
    char *store_dir = xasprintf("%s/store", data);
    store *st = store_open(store_dir, (size_t)cfg.store_map_mib << 20, &err);
    if (!st)
        fail("store", err.msg);
    /* Into an empty store only: the counts and sizes it reports are then
     * the store's. */
    store_txn *t = store_begin(st, false);
    int any = 0;
    if (!t || store_scan(t, TBL_ACCOUNTS, "", NULL, first_key, &any) < 0)
        fail("store", "cannot read");
    store_abort(t);
    if (any)
        fail("the store is not empty", store_dir);
    double t0 = now_s(), making = 0, writing = 0;
    time_t start = time(NULL);
    long naccts = (certs + per - 1) / per, done = 0;
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_key(g, "spot");
    jg_arr_open(g);
    /* The population: certificate i at start - 1 day + i/N of a day. */
    /* Batch b+1's keys and certificates are made while batch b is
     * written (the writer is one thread: LMDB's write transaction). */
    maker mk = {.c = c, .threads = (int)threads};
    plan_batch(&mk, 0, batch, naccts, certs, per, start);
    pthread_create(&mk.th, NULL, maker_main, &mk);
    for (long first = 0; first < naccts; first += batch) {
        double m0 = now_s();
        pthread_join(mk.th, NULL);
        making += now_s() - m0;
        if (mk.failed)
            fail("making keys and certificates failed", NULL);
        account_plan *accts = mk.accts;
        int n = mk.n;
        if (first + batch < naccts) {
            plan_batch(&mk, first + batch, batch, naccts, certs, per, start);
            mk.threads = threads > 1 ? (int)threads - 1 : 1;
            pthread_create(&mk.th, NULL, maker_main, &mk);
        }
        double w0 = now_s();
        t = store_begin(st, true);
        if (!t)
            fail("store", "cannot begin a transaction");
        for (int i = 0; i < n; i++) {
            long ai = first + i;
            bool spotted = ai % (naccts / SPOT_ACCOUNTS + 1) == 0;
            rec_authz az = {0};
            write_account(&cfg, t, &accts[i], spotted ? &az : NULL);
            if (spotted) {
                spot_entry(g, &accts[i], &az, -1);
                rec_authz_clear(&az);
            }
            done += accts[i].ncerts;
        }
        if (store_commit(t, &err) < 0)
            fail("commit", err.msg);
        writing += now_s() - w0;
        for (int i = 0; i < n; i++)
            plan_free(&accts[i]);
        free(accts);
        if (done / 100000 != (done - n * per) / 100000)
            fprintf(stderr, "aro-prefill: %ld certificates, %.0f s (waiting for keys and certificates %.0f s, "
                            "store %.0f s)\n",
                    done, now_s() - t0, making, writing);
    }
    jg_arr_close(g);
    /* The reuse accounts: K orders over one authorization, one a minute,
     * the last 8 days before the run. */
    jg_key(g, "reuse");
    jg_arr_open(g);
    for (const char *r = reuse; *r;) {
        long k = strtol(r, (char **)&r, 10);
        if (*r == ',')
            r++;
        if (k < 1)
            continue;
        account_plan a = {.reuse = 1, .ncerts = (int)k};
        a.certs = xcalloc((size_t)k, sizeof(*a.certs));
        for (long i = 0; i < k; i++) {
            a.certs[i].name = xasprintf("reuse-%ld.test", k);
            a.certs[i].at = start - 8 * 86400 - (k - i) * 60;
        }
        if (make_in_threads(c, &a, 1, 1))
            fail("making keys and certificates failed", NULL);
        rec_authz az = {0};
        t = store_begin(st, true);
        write_account(&cfg, t, &a, &az);
        if (store_commit(t, &err) < 0)
            fail("commit", err.msg);
        spot_entry(g, &a, &az, (int)k);
        rec_authz_clear(&az);
        plan_free(&a);
    }
    jg_arr_close(g);
    /* What aro-server does at its first start: the store marked as having
     * the restart index (nothing is in flight; an unmarked store would be
     * searched in full at the server's first start, before it answers). */
    t = store_begin(st, true);
    if (!t || repo_restart_index_ensure(t) < 0 || store_commit(t, &err) < 0)
        fail("store", "cannot mark the restart index");
    struct stat sb;
    char *mdb = xasprintf("%s/data.mdb", store_dir);
    long long bytes = stat(mdb, &sb) == 0 ? (long long)sb.st_size : -1;
    free(mdb);
    jg_kv_int(g, "certificates", done);
    jg_kv_int(g, "accounts", naccts);
    jg_kv_int(g, "store_bytes", bytes);
    jg_kv_int(g, "seconds", (long long)(now_s() - t0));
    jg_obj_close(g);
    char *out = jg_finish(g, NULL);
    if (spot) {
        FILE *f = fopen(spot, "w");
        if (!f || fputs(out, f) < 0 || fclose(f) != 0)
            fail("cannot write", spot);
    }
    fprintf(stderr, "aro-prefill: %ld certificates of %ld accounts in %.0f s (keys and certificates %.0f s, store "
                    "%.0f s), store %lld bytes (%.0f a certificate)\n",
            done, naccts, now_s() - t0, making, writing, bytes, done ? (double)bytes / (double)done : 0.0);
    free(out);
    free(store_dir);
    store_close(st);
    ca_close(c);
    config_free(&cfg);
    return 0;
}
