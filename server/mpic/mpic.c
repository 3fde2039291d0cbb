#include "mpic/mpic.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/channel.h"
#include "mpic/remote.h"

struct mpic {
    channel_credentials cred;
    remote_target *targets;
    size_t n;
    long timeout_ms;
    metrics *m;
};

static const char *const RESULTS[] = {"valid", "invalid", "error", "abandoned"};

/* A perspective's series, at zero from the start (scripts read them). */
static void zero_series(metrics *m, const char *name)
{
    for (size_t i = 0; i < sizeof(RESULTS) / sizeof(RESULTS[0]); i++) {
        char labels[96];
        snprintf(labels, sizeof(labels), "perspective=\"%s\",result=\"%s\"", name, RESULTS[i]);
        metrics_add(m, "aro_perspective_validations_total", labels, 0);
    }
}

mpic *mpic_open(const server_config *cfg, metrics *m, aro_err *err)
{
    if (cfg->nperspectives == 0)
        return NULL;
    mpic *p = xcalloc(1, sizeof(*p));
    if (channel_primary_open(cfg->data_dir, &p->cred, err) < 0) {
        free(p);
        return NULL;
    }
    /* Before any worker thread exists: libcurl's global set-up is not
     * thread-safe (it counts calls, so the validation authority's own is
     * harmless). */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    p->n = cfg->nperspectives;
    p->targets = xcalloc(p->n, sizeof(*p->targets));
    p->timeout_ms = cfg->perspective_timeout_ms;
    p->m = m;
    zero_series(m, "primary");
    for (size_t i = 0; i < p->n; i++) {
        p->targets[i].name = xstrdup(cfg->perspectives[i].name);
        p->targets[i].address = xstrdup(cfg->perspectives[i].address);
        zero_series(m, p->targets[i].name);
    }
    metrics_add(m, "aro_corroborations_total", "result=\"corroborated\"", 0);
    metrics_add(m, "aro_corroborations_total", "result=\"not_corroborated\"", 0);
    return p;
}

void mpic_close(mpic *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free((char *)p->targets[i].name);
        free((char *)p->targets[i].address);
    }
    free(p->targets);
    channel_credentials_clear(&p->cred);
    curl_global_cleanup();
    free(p);
}

static void count(metrics *m, const char *name, const char *result, double seconds)
{
    char labels[96];
    snprintf(labels, sizeof(labels), "perspective=\"%s\",result=\"%s\"", name, result);
    metrics_inc(m, "aro_perspective_validations_total", labels);
    if (strcmp(result, "valid") == 0 || strcmp(result, "invalid") == 0) {
        snprintf(labels, sizeof(labels), "perspective=\"%s\"", name);
        metrics_observe(m, "aro_perspective_validation_seconds", labels, seconds);
    }
}

static void count_remote(metrics *m, const mpic_remote *r)
{
    const char *result = r->state == REMOTE_ANSWERED ? (mpic_view_passed(&r->view) ? "valid" : "invalid")
                         : r->state == REMOTE_FAILED ? "error"
                                                     : "abandoned";
    count(m, r->name, result, r->seconds);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The primary's own look becomes the attempt's result: its challenge
 * result, or its CAA refusal (which ends the attempt before the
 * challenge). */
static void take_own(mpic_view *own, va_result *out)
{
    *out = own->challenge;
    if (own->caa_problem) {
        problem_free(out->problem);
        out->problem = own->caa_problem;
        out->valid = false;
    }
    memset(own, 0, sizeof(*own));
}

void mpic_validate(mpic *p, const va_config *cfg, const mpic_query *q, va_result *out)
{
    mpic_view own;
    if (!p) {
        mpic_look(cfg, q, true, &own);
        take_own(&own, out);
        return;
    }
    /* The remote perspectives first, so that they look while we do. */
    char *body = mpic_query_to_json(q);
    remote_round *round = remote_round_start(p->targets, p->n, &p->cred, p->timeout_ms, body ? body : "{}",
                                             q->check_caa);
    free(body);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mpic_look(cfg, q, true, &own);
    bool passed = mpic_view_passed(&own);
    count(p->m, "primary", passed ? "valid" : "invalid", seconds_since(&t0));
    /* The primary's failure needs no corroboration: the remote answers
     * still pending are abandoned. */
    if (passed)
        remote_round_wait(round);
    mpic_remote *remotes = remote_round_finish(round);
    take_own(&own, out);
    for (size_t i = 0; i < p->n; i++)
        count_remote(p->m, &remotes[i]);
    if (passed) {
        quorum_state st = mpic_quorum(remotes, p->n, q->check_caa);
        metrics_inc(p->m, "aro_corroborations_total",
                    st == QUORUM_MET ? "result=\"corroborated\"" : "result=\"not_corroborated\"");
        if (st != QUORUM_MET) {
            out->valid = false;
            out->corroboration_failed = true;
            out->problem = mpic_corroboration_problem(remotes, p->n, q->check_caa,
                                                      q->challenge.is_ip ? "ip" : "dns", q->challenge.identifier);
        }
    }
    remote_results_free(remotes, p->n);
}
