/* aro-server: start-up and shut-down. Reads settings, opens the CA and the
 * store, resumes work a previous run left in flight, and runs the HTTP
 * front end until SIGINT/SIGTERM. */
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings/cmdline.h"
#include "acme/key_cache.h"
#include "jobs/issuance.h"
#include "jobs/validation.h"
#include "front/http.h"
#include "core/metrics.h"
#include "acme/nonce.h"
#include "jobs/workers.h"
#include "jobs/writer.h"
#include "store/repo.h"
#include "ca/channel.h"
#include "mpic/mpic.h"
#include "mpic/perspective.h"
#include "mpic/quorum.h"
#include "rules/limits.h"

static void on_signal(int sig)
{
    (void)sig;
    http_stop();
    perspective_stop();
}

/* The modes that are not the ACME server: writing a perspective's
 * credentials (--issue-perspective), and being a validation-only remote
 * perspective (--perspective). Exit status, or -1 for the ACME server. */
static int other_mode(server_config *cfg)
{
    aro_err err = {{0}};
    if (cfg->issue_perspective) {
        char *dir = NULL;
        if (mkdir_p(cfg->data_dir, 0700) < 0 || channel_issue_perspective(cfg->data_dir, cfg->issue_perspective,
                                                                          &dir, &err) < 0) {
            fprintf(stderr, "aro-server: %s\n", err.msg[0] ? err.msg : "cannot create the data directory");
            return 2;
        }
        printf("%s\n", dir);
        fprintf(stderr, "aro-server: credentials of perspective %s in %s: run it with --perspective ADDR:PORT "
                        "--data %s\n", cfg->issue_perspective, dir, dir);
        free(dir);
        return 0;
    }
    if (cfg->perspective_listen) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        return perspective_run(cfg) == 0 ? 0 : 1;
    }
    return -1;
}

int main(int argc, char **argv)
{
    server srv;
    aro_err err = {{0}};
    int ret = 1;
    char *tmpdir = NULL;
    memset(&srv, 0, sizeof(srv));
    config_defaults(&srv.cfg);
    int rc = config_from_args(&srv.cfg, argc, argv, &err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "aro-server: %s\n", err.msg);
        config_free(&srv.cfg);
        return rc < 0 ? 2 : 0;
    }
    if ((rc = other_mode(&srv.cfg)) >= 0) {
        config_free(&srv.cfg);
        return rc;
    }
    /* Pebble mode: Pebble's throwaway nature, unless --data says otherwise. */
    bool data_given = false;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--data") || !strcmp(argv[i], "-data") || !strncmp(argv[i], "--data=", 7) ||
            !strncmp(argv[i], "-data=", 6))
            data_given = true;
    if (srv.cfg.pebble_mode && !data_given) {
        char tmpl[] = "/tmp/aro-pebble-XXXXXX";
        if (!mkdtemp(tmpl)) {
            perror("aro-server: mkdtemp");
            goto out;
        }
        tmpdir = xstrdup(tmpl);
        free(srv.cfg.data_dir);
        srv.cfg.data_dir = xstrdup(tmpdir);
    }
    if (mkdir_p(srv.cfg.data_dir, 0700) < 0) {
        fprintf(stderr, "aro-server: cannot create %s\n", srv.cfg.data_dir);
        goto out;
    }
    srv.ca = ca_open(srv.cfg.data_dir, &srv.cfg.ca, &err);
    if (!srv.ca) {
        fprintf(stderr, "aro-server: %s\n", err.msg);
        goto out;
    }
    char *store_dir = xasprintf("%s/store", srv.cfg.data_dir);
    srv.st = store_open(store_dir, (size_t)srv.cfg.store_map_mib << 20, &err);
    free(store_dir);
    if (!srv.st) {
        fprintf(stderr, "aro-server: %s\n", err.msg);
        goto out;
    }
    limits_load_public_suffixes();
    srv.nonces = nonce_pool_new();
    srv.keys = key_cache_new(8192);
    srv.m = metrics_new();
    /* Series that scripts read exist from the start, at zero. */
    static const char *const zero[] = {"aro_orders_created_total", "aro_authorizations_created_total",
                                       "aro_challenges_created_total", "aro_certificates_issued_total"};
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        metrics_add(srv.m, zero[i], NULL, 0);
    metrics_add(srv.m, "aro_reenables_total", "result=\"accepted\"", 0);
    metrics_add(srv.m, "aro_reenables_total", "result=\"refused\"", 0);
    srv.mpic = mpic_open(&srv.cfg, srv.m, &err);
    if (!srv.mpic && srv.cfg.nperspectives) {
        fprintf(stderr, "aro-server: %s\n", err.msg);
        goto out;
    }
    if (srv.mpic)
        /* BR 3.2.2.9 asks for at least 3 remote perspectives (2 before
         * 2026-03-15); a test CA may run fewer, and says so. */
        fprintf(stderr, "aro-server: multi-perspective corroboration with %zu remote perspective(s), %zu may fail "
                        "to corroborate%s\n", srv.cfg.nperspectives,
                mpic_allowed_non_corroborations(srv.cfg.nperspectives),
                srv.cfg.nperspectives < 3 ? " (fewer than the Baseline Requirements' 3)" : "");
    /* Fair between accounts (jobs/workers.h): one account's jobs take at
     * most its share of the threads and a tenth of the queue. */
    int share = srv.cfg.va_workers_per_account ? srv.cfg.va_workers_per_account : srv.cfg.va_workers / 2;
    srv.workers = worker_pool_new(&(worker_pool_limits){.threads = srv.cfg.va_workers, .max_queue = 100000,
                                                        .max_queued_per_owner = 10000,
                                                        .max_running_per_owner = share > 0 ? share : 1});
    /* Handlers wait on LMDB's durable commits: a few more threads than
     * cores keep the loops fed while one waits for fsync. */
    if (srv.cfg.group_commit)
        srv.writer = writer_new(srv.st, 256, 20000);
    else
        srv.request_workers = worker_pool_new(&(worker_pool_limits){.threads = srv.cfg.threads * 2 + 2,
                                                                    .max_queue = 10000});
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fprintf(stderr, "aro-server: data in %s, retry-options %s, http-01 on port %d, tls-alpn-01 on port %d, DNS %s\n",
            srv.cfg.data_dir, srv.cfg.retry_options ? "on" : "off (--no-retry-options)", srv.cfg.va.http_port,
            srv.cfg.va.tls_port, srv.cfg.va.dns_server ? srv.cfg.va.dns_server : "system resolver");
    /* Restart work is found through the pending index; a store from
     * before it gets it now, once. */
    {
        store_txn *t = store_begin(srv.st, true);
        bool indexed = t && repo_restart_index_ensure(t) == 0;
        if (t && !indexed)
            store_abort(t);
        if (!indexed || store_commit(t, NULL) < 0) {     /* a failed commit frees t */
            fprintf(stderr, "aro-server: cannot index the restart work of the store\n");
            goto out;
        }
    }
    validation_resume_all(&srv);
    issuance_resume_all(&srv);
    ret = http_run(&srv) == 0 ? 0 : 1;
out:
    writer_free(srv.writer);
    worker_pool_free(srv.request_workers);
    worker_pool_free(srv.workers);
    nonce_pool_free(srv.nonces);
    key_cache_free(srv.keys);
    mpic_close(srv.mpic);
    metrics_free(srv.m);
    store_close(srv.st);
    ca_close(srv.ca);
    if (tmpdir) {
        char *cmd = xasprintf("rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "aro-server: could not remove %s\n", tmpdir);
        free(cmd);
        free(tmpdir);
    }
    config_free(&srv.cfg);
    return ret;
}
