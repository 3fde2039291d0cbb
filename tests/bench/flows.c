/* The client behaviour of every arm of the benchmark: one flow is one
 * client run for one certificate (docs/benchmarks.md, "Arms and client
 * policies", says the same in prose; keep the two in step).
 *
 * Every arm answers the challenges of all its pending authorizations at
 * once and then polls them (as certbot and lego do), prefers http-01 to
 * dns-01, and never answers tls-alpn-01. After a failure the next attempt
 * takes a type that has not failed for the name yet, and only when none is
 * left one that has (a fresh challenge of the same type): a client does
 * not know whether "unauthorized" or "connection" will pass next time, and
 * aro's own client ranks failed types last without dropping them
 * (client/choose.c). Transient clients can solve http-01 only, so their
 * recovery is always the same type again.
 *
 * Per arm, what happens after a failed attempt:
 *   legacy, legacy-deactivate (a)  a new order, up to --max-orders orders;
 *                                  -deactivate first deactivates the given-up
 *                                  order's pending and valid authorizations;
 *   legacy-single (b)              nothing: one order, one attempt per
 *                                  authorization, the run gives up;
 *   retry-options (d)              re-enable the invalid authorization with
 *                                  an offered challenge (after notBefore),
 *                                  while the offer lasts; then give up;
 *   pending-hold (e)               newOrder carries "retry-options":
 *                                  {"hold": true}; the authorization stays
 *                                  pending, the client answers an offered
 *                                  challenge with POST {} (after notBefore),
 *                                  while the offer lasts;
 *   preauth (f)                    newAuthz per name first; a failed one is
 *                                  replaced by a new newAuthz, up to
 *                                  --max-orders authorizations per name;
 *                                  newOrder only when every name is valid;
 *   preauth-retry-options (f)+(d)  newAuthz; re-enable the invalid one;
 *   preauth-hold (f)+(e)           newAuthz with the pending-hold opt-in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acme_crypto.h"
#include "acme_objects.h"
#include "b64url.h"
#include "json.h"
#include "loadgen.h"

#define POLL_DEADLINE_S 60.0
#define MAX_WAIT_S 60           /* longest notBefore we wait for */
#define T_HTTP 1u
#define T_DNS 2u

const char *const scenario_names[SC__COUNT] = {"healthy", "blocked", "transient", "zombie"};
const char *const arm_names[ARM__COUNT] = {"legacy", "legacy-deactivate", "legacy-single", "retry-options",
                                           "pending-hold", "preauth", "preauth-retry-options", "preauth-hold"};

/* What the arm does after a failed attempt on one authorization. */
typedef enum { AFTER_NOTHING, AFTER_REENABLE, AFTER_HELD_ANSWER, AFTER_NEW_AUTHZ } authz_fallback;

static authz_fallback arm_authz_fallback(void)
{
    switch (O.arm) {
    case ARM_RETRY: case ARM_PREAUTH_RETRY: return AFTER_REENABLE;
    case ARM_HOLD: case ARM_PREAUTH_HOLD: return AFTER_HELD_ANSWER;
    case ARM_PREAUTH: return AFTER_NEW_AUTHZ;
    default: return AFTER_NOTHING;
    }
}

static bool arm_preauthorizes(void)
{
    return O.arm == ARM_PREAUTH || O.arm == ARM_PREAUTH_RETRY || O.arm == ARM_PREAUTH_HOLD;
}

static bool arm_opts_in_hold(void)
{
    return O.arm == ARM_HOLD || O.arm == ARM_PREAUTH_HOLD;
}

/* Orders (legacy) or authorizations per name (preauth) one run may use. */
static int arm_max_objects(void)
{
    return O.arm == ARM_LEGACY || O.arm == ARM_LEGACY_DEACT || O.arm == ARM_PREAUTH ? O.max_orders : 1;
}

/* The scenario of flow idx: a fixed permutation of 0..99 against the
 * cumulative mix, so every block of 100 flows holds the mix exactly and
 * the scenarios interleave in time. */
scenario flow_scenario(int idx)
{
    unsigned p = (unsigned)(idx * 61) % 100, acc = 0;
    for (int s = 0; s < SC__COUNT; s++) {
        acc += O.mix[s];
        if (p < acc)
            return (scenario)s;
    }
    return SC_HEALTHY;
}

typedef struct {
    char *name;
    bool carrier;               /* the name that carries the flow's scenario */
    unsigned failed;            /* types that failed for it (learned across orders) */
    unsigned http_tries;
} name_state;

typedef struct {
    worker *w;
    scenario sc;
    unsigned allowed;           /* types this client can solve */
    name_state n[MAX_NAMES];
    int nn;
    unsigned attempts, orders;
    char problem[96];           /* last validation problem, short */
    aro_err err;
} flow;

/* One attempt on one authorization: the challenge answered, provisioned
 * until its outcome is known. */
typedef struct {
    char *authz_url;
    name_state *ns;
    acme_challenge ch;
    char *ka;
    bool live;                  /* provisioned, not yet torn down */
} attempt;

static name_state *name_find(flow *f, const char *value)
{
    for (int i = 0; i < f->nn; i++)
        if (value && !strcasecmp(f->n[i].name, value))
            return &f->n[i];
    return NULL;
}

static unsigned type_bit(const char *type)
{
    return !strcmp(type, "http-01") ? T_HTTP : !strcmp(type, "dns-01") ? T_DNS : 0;
}

/* Which offered type to take: the first the client can solve, http-01
 * before dns-01, among those that have not failed for this name; when all
 * have failed, the first it can solve (a fresh challenge of a failed
 * type). Only pending challenges can be answered. -1: none. */
static long pick(const flow *f, const name_state *ns, const acme_challenge *c, size_t n)
{
    static const unsigned pref[] = {T_HTTP, T_DNS};
    for (int round = 0; round < 2; round++)
        for (size_t p = 0; p < 2; p++) {
            unsigned t = pref[p];
            if (!(f->allowed & t) || (round == 0 && (ns->failed & t)))
                continue;
            for (size_t i = 0; i < n; i++)
                if (type_bit(c[i].type) == t && c[i].status == CHALL_PENDING)
                    return (long)i;
        }
    return -1;
}

static size_t on_sink(char *p, size_t sz, size_t nm, void *ud)
{
    (void)p;
    (void)ud;
    return sz * nm;
}

static int cts_set_txt(worker *w, const char *name, const char *value)
{
    char url[256], *body = xasprintf("{\"host\":\"_acme-challenge.%s.\",\"value\":\"%s\"}", name, value);
    long status = 0;
    snprintf(url, sizeof url, "%s/set-txt", O.challtestsrv);
    curl_easy_setopt(w->cts, CURLOPT_URL, url);
    curl_easy_setopt(w->cts, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(w->cts, CURLOPT_WRITEFUNCTION, on_sink);
    int rc = sched_perform(w->cts) == CURLE_OK ? 0 : -1;
    curl_easy_getinfo(w->cts, CURLINFO_RESPONSE_CODE, &status);
    free(body);
    return rc == 0 && status == 200 ? 0 : -1;
}

/* Provision the solver for t->ch as the scenario says: the CA then sees
 * the right answer, a 404 (zombie http-01), a reset connection (blocked
 * http-01; a transient one's first fetch) or no TXT record (zombie
 * dns-01). */
static void provision(flow *f, attempt *t)
{
    name_state *ns = t->ns;
    unsigned type = type_bit(t->ch.type);
    t->ka = acme_key_authorization(t->ch.token, f->w->key);
    bool carrier = ns->carrier && f->sc != SC_HEALTHY;
    if (type == T_HTTP) {
        ns->http_tries++;
        if (!carrier)
            responder_add(t->ch.token, t->ka, ANSWER_ALWAYS);
        else if (f->sc == SC_BLOCKED)
            responder_add(t->ch.token, t->ka, ANSWER_NEVER);
        else if (f->sc == SC_TRANSIENT)
            responder_add(t->ch.token, t->ka, ns->http_tries == 1 ? ANSWER_AFTER_ONE_RESET : ANSWER_ALWAYS);
    } else if (type == T_DNS && (!carrier || f->sc == SC_BLOCKED)) {
        char *v = acme_dns01_txt_value(t->ka);
        if (cts_set_txt(f->w, ns->name, v))
            fprintf(stderr, "aro-loadgen: challtestsrv set-txt for %s failed\n", ns->name);
        free(v);
    }
    t->live = true;
}

static void unprovision(attempt *t)
{
    if (t->live && type_bit(t->ch.type) == T_HTTP)
        responder_del(t->ch.token);
    free(t->ka);
    t->ka = NULL;
    t->live = false;
}

static void attempt_clear(attempt *t)
{
    unprovision(t);
    acme_challenge_clear(&t->ch);
    free(t->authz_url);
    memset(t, 0, sizeof *t);
}

static int authz_decode_resp(const acme_resp *r, const char *what, acme_authz *a, aro_err *err)
{
    aro_err derr;
    acme_authz_clear(a);
    if (!r->json || acme_authz_decode(r->json, a, &derr)) {
        aro_err_set(err, "authorization %s: %s", what, r->json ? derr.msg : "not JSON");
        return -1;
    }
    return 0;
}

static int authz_get(worker *w, const char *url, acme_authz *a, aro_err *err)
{
    acme_resp r = {.retry_after = -1};
    int ret = acme_post(&w->acme, url, NULL, &r, err) ? -1 : authz_decode_resp(&r, url, a, err);
    acme_resp_clear(&r);
    return ret;
}

static const acme_challenge *challenge_in(const acme_authz *a, const char *url)
{
    for (size_t i = 0; i < a->nchallenges; i++)
        if (!strcmp(a->challenges[i].url, url))
            return &a->challenges[i];
    return NULL;
}

/* Poll the authorization until the attempt on challenge ch_url has an
 * outcome: the authorization leaves "pending", or (pending-hold) that
 * challenge is invalid while the authorization stays pending. The
 * schedule (--poll-ms) is the load generator's own, bounded. */
static int attempt_wait(worker *w, const char *url, const char *ch_url, acme_authz *a, aro_err *err)
{
    double deadline = now_mono() + POLL_DEADLINE_S, d = O.poll_first;
    for (;;) {
        sched_sleep(d);
        w->polls++;
        if (authz_get(w, url, a, err))
            return -1;
        const acme_challenge *c = challenge_in(a, ch_url);
        if (a->status != AUTHZ_PENDING || (c && c->status == CHALL_INVALID))
            return 0;
        if (now_mono() > deadline) {
            aro_err_set(err, "authorization %s: no outcome after %.0f s", url, POLL_DEADLINE_S);
            return -1;
        }
        d = d * 2 > O.poll_cap ? O.poll_cap : d * 2;
    }
}

static void note_problem(flow *f, const acme_authz *a, const char *ch_url)
{
    const acme_challenge *c = challenge_in(a, ch_url);
    if (c && c->error)
        snprintf(f->problem, sizeof f->problem, "%s", problem_short_type(c->error->type));
    else
        snprintf(f->problem, sizeof f->problem, "invalid-authorization");
}

/* Answer challenge c for the authorization of t: POST {} to the challenge
 * (RFC 8555 7.5.1; also how a held authorization's offer is taken up), or
 * with reenable_url POST {"challenge": URL} there (retry-options). c and
 * reenable_url may point into an authorization the caller refreshes
 * later: both are used before this returns. */
static int attempt_start(flow *f, attempt *t, const acme_challenge *c, const char *reenable_url)
{
    worker *w = f->w;
    acme_resp r = {.retry_after = -1};
    unprovision(t);
    acme_challenge_clear(&t->ch);
    acme_challenge_copy(&t->ch, c);
    provision(f, t);
    f->attempts++;
    int rc;
    if (reenable_url) {
        char *payload = xasprintf("{\"challenge\":\"%s\"}", t->ch.url);
        w->reenables++;
        rc = acme_post(&w->acme, reenable_url, payload, &r, &f->err);
        free(payload);
    } else {
        rc = acme_post(&w->acme, t->ch.url, "{}", &r, &f->err);
    }
    acme_resp_clear(&r);
    return rc ? -1 : 0;
}

/* Wait for t's outcome into *a, tear the solver down, learn a failure. */
static int attempt_finish(flow *f, attempt *t, acme_authz *a)
{
    int rc = attempt_wait(f->w, t->authz_url, t->ch.url, a, &f->err);
    unprovision(t);
    if (rc)
        return -1;
    if (a->status != AUTHZ_VALID) {
        t->ns->failed |= type_bit(t->ch.type);
        note_problem(f, a, t->ch.url);
    }
    return 0;
}

/* The next attempt the arm makes on the failed authorization *a, from the
 * retry-options offer in it: an invalid one is re-enabled (*reenable_url
 * set), a held pending one answered. Waits for notBefore. 1 when the arm
 * makes none (or nothing usable is offered), 0 with *c set. */
static int next_offered(const flow *f, const attempt *t, const acme_authz *a, const acme_challenge **c,
                        const char **reenable_url)
{
    authz_fallback fb = arm_authz_fallback();
    const acme_retry_options *ro = a->retry;
    *reenable_url = NULL;
    if (!ro || !ro->nchallenges || ro->attempts_remaining == 0)
        return 1;
    if (fb == AFTER_REENABLE && a->status == AUTHZ_INVALID && ro->url)
        *reenable_url = ro->url;
    else if (!(fb == AFTER_HELD_ANSWER && a->status == AUTHZ_PENDING))
        return 1;
    double wait = (double)ro->not_before - now_real();
    if (wait > MAX_WAIT_S)
        return 1;
    long idx = pick(f, t->ns, ro->challenges, ro->nchallenges);
    if (idx < 0)
        return 1;
    /* notBefore has one-second resolution; the margin keeps us past it. */
    if (wait > -0.05)
        sched_sleep(wait + 0.05);
    *c = &ro->challenges[idx];
    return 0;
}

/* After t's first answer: its outcome, then the arm's per-authorization
 * fallback until the authorization is valid or nothing more is made.
 * 0 with *a the last state; -1 on an error. */
static int settle(flow *f, attempt *t, acme_authz *a)
{
    if (attempt_finish(f, t, a))
        return -1;
    while (a->status != AUTHZ_VALID) {
        const acme_challenge *c = NULL;
        const char *reenable_url = NULL;
        if (next_offered(f, t, a, &c, &reenable_url))
            return 0;
        if (attempt_start(f, t, c, reenable_url) || attempt_finish(f, t, a))
            return -1;
    }
    return 0;
}

/* Start the first attempt on the pending authorization *a at url. */
static int attempt_first(flow *f, attempt *t, const char *url, const acme_authz *a)
{
    t->authz_url = xstrdup(url);
    t->ns = name_find(f, a->identifier.value);
    long idx = t->ns && a->status == AUTHZ_PENDING ? pick(f, t->ns, a->challenges, a->nchallenges) : -1;
    if (idx < 0) {
        aro_err_set(&f->err, "authorization %s: nothing to answer", url);
        return -1;
    }
    return attempt_start(f, t, &a->challenges[idx], NULL);
}

static int order_get(worker *w, const char *url, acme_order *o, aro_err *err)
{
    acme_resp r = {.retry_after = -1};
    aro_err derr;
    int ret = -1;
    acme_order_clear(o);
    if (acme_post(&w->acme, url, NULL, &r, err))
        goto out;
    if (!r.json || acme_order_decode(r.json, o, &derr)) {
        aro_err_set(err, "order %s: %s", url, r.json ? derr.msg : "not JSON");
        goto out;
    }
    ret = 0;
out:
    acme_resp_clear(&r);
    return ret;
}

/* Finalize (7.4) and download. 0 issued, -1 not. */
static int finalize(flow *f, const char *order_url, const char *finalize_url)
{
    worker *w = f->w;
    const char *names[MAX_NAMES];
    unsigned char *der = NULL;
    size_t der_len = 0;
    char *b64 = NULL, *payload = NULL;
    acme_resp r = {.retry_after = -1};
    acme_order o = {0};
    int ret = -1;
    for (int i = 0; i < f->nn; i++)
        names[i] = f->n[i].name;
    if (csr_create_der_spki(w->cert_key, w->cert_spki, names, (size_t)f->nn, &der, &der_len, &f->err))
        goto out;
    b64 = b64url_encode(der, der_len);
    payload = xasprintf("{\"csr\":\"%s\"}", b64);
    if (acme_post(&w->acme, finalize_url, payload, &r, &f->err))
        goto out;
    aro_err derr;
    if (!r.json || acme_order_decode(r.json, &o, &derr)) {
        aro_err_set(&f->err, "finalize %s: %s", finalize_url, r.json ? derr.msg : "not JSON");
        goto out;
    }
    double deadline = now_mono() + POLL_DEADLINE_S, d = O.poll_first;
    while (o.status == ORDER_PROCESSING || (o.status == ORDER_VALID && !o.certificate)) {
        if (now_mono() > deadline) {
            aro_err_set(&f->err, "order %s still processing", order_url);
            goto out;
        }
        sched_sleep(d);
        d = d * 2 > O.poll_cap ? O.poll_cap : d * 2;
        w->polls++;
        if (order_get(w, order_url, &o, &f->err))
            goto out;
    }
    if (o.status != ORDER_VALID || !o.certificate) {
        aro_err_set(&f->err, "order %s is %s after finalize", order_url, order_status_name(o.status));
        goto out;
    }
    acme_resp_clear(&r);
    if (acme_post_pem(&w->acme, o.certificate, &r, &f->err))
        goto out;
    if (!r.body || !strstr(r.body, "-----BEGIN CERTIFICATE-----")) {
        aro_err_set(&f->err, "certificate %s: not a PEM chain", o.certificate);
        goto out;
    }
    ret = 0;
out:
    free(der);
    free(b64);
    free(payload);
    acme_resp_clear(&r);
    acme_order_clear(&o);
    return ret;
}

/* 7.5.2: deactivate the order's pending and valid authorizations (what
 * lego and acmez do when they give up on an order). */
static void deactivate_all(worker *w, char *const *urls, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        acme_authz a = {0};
        aro_err err;
        if (authz_get(w, urls[i], &a, &err) == 0 &&
            (a.status == AUTHZ_PENDING || a.status == AUTHZ_VALID)) {
            acme_resp r = {.retry_after = -1};
            w->deactivations++;
            acme_post(&w->acme, urls[i], "{\"status\":\"deactivated\"}", &r, &err);
            acme_resp_clear(&r);
        }
        acme_authz_clear(&a);
    }
}

static char *identifier_json(const char *name)
{
    return xasprintf("{\"type\":\"dns\",\"value\":\"%s\"}", name);
}

static const char *hold_member(void)
{
    return arm_opts_in_hold() ? ",\"retry-options\":{\"hold\":true}" : "";
}

/* One order: answer every pending authorization at once, settle each (the
 * arm's per-authorization fallback), finalize when all are valid. After
 * pre-authorization the order must be ready at once (every authorization
 * reused). 0 issued, 1 some authorization failed (the caller may open
 * another order), -1 error. */
static int run_order(flow *f, bool after_preauth)
{
    worker *w = f->w;
    acme_resp r = {.retry_after = -1};
    acme_order o = {0};
    attempt at[MAX_NAMES];
    size_t nat = 0;
    int ret = -1;
    aro_buf b = {0};
    aro_err derr;
    char *order_url = NULL;

    memset(at, 0, sizeof at);
    buf_puts(&b, "{\"identifiers\":[");
    for (int i = 0; i < f->nn; i++) {
        char *id = identifier_json(f->n[i].name);
        buf_printf(&b, "%s%s", i ? "," : "", id);
        free(id);
    }
    buf_printf(&b, "]%s}", after_preauth ? "" : hold_member());
    char *payload = buf_steal(&b);
    f->orders++;
    if (acme_post(&w->acme, w->acme.dir.new_order, payload, &r, &f->err))
        goto out;
    if (!r.json || !r.location || acme_order_decode(r.json, &o, &derr)) {
        aro_err_set(&f->err, "newOrder: %s", r.location ? "undecodable order" : "no Location");
        goto out;
    }
    order_url = xstrdup(r.location);
    if (after_preauth && o.status != ORDER_READY) {
        aro_err_set(&f->err, "order %s is %s after pre-authorization, not ready", order_url,
                    order_status_name(o.status));
        goto out;
    }
    for (size_t i = 0; i < o.nauthorizations && nat < MAX_NAMES && !after_preauth; i++) {
        acme_authz a = {0};
        int rc = authz_get(w, o.authorizations[i], &a, &f->err);
        if (rc == 0 && a.status != AUTHZ_VALID)       /* valid: reused */
            rc = attempt_first(f, &at[nat++], o.authorizations[i], &a);
        acme_authz_clear(&a);
        if (rc)
            goto out;
    }
    bool all_valid = true;
    for (size_t i = 0; i < nat; i++) {
        acme_authz a = {0};
        int rc = settle(f, &at[i], &a);
        all_valid &= a.status == AUTHZ_VALID;
        acme_authz_clear(&a);
        if (rc)
            goto out;
    }
    if (all_valid) {
        ret = finalize(f, order_url, o.finalize) ? -1 : 0;
        goto out;
    }
    if (O.arm == ARM_LEGACY_DEACT)
        deactivate_all(w, o.authorizations, o.nauthorizations);
    ret = 1;
out:
    for (size_t i = 0; i < nat; i++)
        attempt_clear(&at[i]);
    free(order_url);
    free(payload);
    acme_resp_clear(&r);
    acme_order_clear(&o);
    return ret;
}

/* newAuthz (7.4.1) for name i and its first attempt. */
static int preauth_start(flow *f, attempt *t, int i)
{
    worker *w = f->w;
    acme_resp r = {.retry_after = -1};
    acme_authz a = {0};
    char *id = identifier_json(f->n[i].name);
    char *payload = xasprintf("{\"identifier\":%s%s}", id, hold_member());
    int ret = -1;
    attempt_clear(t);
    if (!w->acme.dir.new_authz) {
        aro_err_set(&f->err, "the server offers no newAuthz");
        goto out;
    }
    if (acme_post(&w->acme, w->acme.dir.new_authz, payload, &r, &f->err))
        goto out;
    if (!r.location) {
        aro_err_set(&f->err, "newAuthz: no Location");
        goto out;
    }
    if (authz_decode_resp(&r, r.location, &a, &f->err) == 0)
        ret = attempt_first(f, t, r.location, &a);
out:
    acme_authz_clear(&a);
    acme_resp_clear(&r);
    free(payload);
    free(id);
    return ret;
}

/* Pre-authorization: every name validated first (answered at once), each
 * failure handled per authorization, then one order that reuses them.
 * 0 issued, 1 some name never became valid (no order), -1 error. */
static int run_preauth(flow *f)
{
    attempt at[MAX_NAMES];
    int ret = -1;
    bool all_valid = true;
    memset(at, 0, sizeof at);
    for (int i = 0; i < f->nn; i++)
        if (preauth_start(f, &at[i], i))
            goto out;
    for (int i = 0; i < f->nn; i++) {
        acme_authz a = {0};
        int rc = settle(f, &at[i], &a);
        for (int k = 1; rc == 0 && a.status != AUTHZ_VALID && arm_authz_fallback() == AFTER_NEW_AUTHZ &&
                        k < arm_max_objects(); k++)
            if ((rc = preauth_start(f, &at[i], i)) == 0)
                rc = settle(f, &at[i], &a);
        all_valid &= a.status == AUTHZ_VALID;
        acme_authz_clear(&a);
        if (rc)
            goto out;
    }
    ret = all_valid ? run_order(f, true) : 1;
out:
    for (int i = 0; i < f->nn; i++)
        attempt_clear(&at[i]);
    return ret;
}

void flow_run(worker *w, int idx, flow_result *out)
{
    flow f = {.w = w, .sc = flow_scenario(idx), .nn = O.names};
    f.allowed = f.sc == SC_TRANSIENT ? T_HTTP : T_HTTP | T_DNS;
    for (int i = 0; i < f.nn; i++) {
        f.n[i].name = xasprintf("%s%d-%c%d.example.com", O.prefix, idx, scenario_names[f.sc][0], i);
        f.n[i].carrier = i == 0;
    }
    unsigned req0 = w->acme.requests, polls0 = w->polls, re0 = w->reenables, de0 = w->deactivations;
    double t0 = now_mono();
    int rc = 1;
    if (arm_preauthorizes())
        rc = run_preauth(&f);
    else
        for (int k = 0; k < arm_max_objects() && rc == 1; k++)
            rc = run_order(&f, false);
    *out = (flow_result){.sc = f.sc, .rc = rc, .orders = f.orders, .attempts = f.attempts,
                         .requests = w->acme.requests - req0, .polls = w->polls - polls0,
                         .reenables = w->reenables - re0, .deactivations = w->deactivations - de0,
                         .seconds = now_mono() - t0};
    snprintf(out->problem, sizeof out->problem, "%s", f.problem);
    if (rc < 0)
        snprintf(out->error, sizeof out->error, "%s", f.err.msg);
    for (int i = 0; i < f.nn; i++)
        free(f.n[i].name);
}
