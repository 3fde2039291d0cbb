#include "authorize.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acme_crypto.h"
#include "backoff.h"
#include "identifiers.h"
#include "msg.h"
#include "status.h"
#include "strv.h"

/* A re-enable refused with a short Retry-After (the CA's clock not yet at
 * notBefore) is sent again this many times. */
#define REENABLE_BUSY_RETRIES 3

void authz_run_init(authz_run *X, session *S, report *rep)
{
    *X = (authz_run){.S = S, .rep = rep, .nids = rep->nnames};
    X->ids = xcalloc(rep->nnames ? rep->nnames : 1, sizeof *X->ids);
    for (size_t i = 0; i < rep->nnames; i++)
        X->ids[i] = (ident_history){.ident = rep->names[i],
                                    .base = identifier_base(rep->names[i]),
                                    .is_ip = identifier_is_ip(rep->names[i])};
    for (size_t i = 0; i < S->o->nchallenges; i++)
        if (solvers_have(S->sol, S->o->challenges[i]))
            strv_push(&X->usable, &X->nusable, S->o->challenges[i]);
}

void authz_run_clear(authz_run *X)
{
    for (size_t i = 0; i < X->nids; i++) {
        strv_free(X->ids[i].failed, X->ids[i].nfailed);
        strv_free(X->ids[i].offered, X->ids[i].noffered);
    }
    free(X->ids);
    strv_free(X->usable, X->nusable);
    free(X->last_problem);
    memset(X, 0, sizeof *X);
}

static ident_history *ident_find(authz_run *X, const char *name)
{
    for (size_t i = 0; i < X->nids; i++)
        if (!strcasecmp(X->ids[i].ident, name))
            return &X->ids[i];
    return NULL;
}

/* The history of the name an authorization is for. example.com and
 * *.example.com both have authorizations for "example.com"; the
 * "wildcard" member tells them apart (7.1.4). */
static ident_history *ident_of(authz_run *X, const acme_authz *a)
{
    const char *value = a->identifier.value ? a->identifier.value : "";
    ident_history *h = a->wildcard ? NULL : ident_find(X, value);
    if (!h) {
        char *wild = xasprintf("*.%s", value);
        h = ident_find(X, wild);
        free(wild);
    }
    return h;
}

/* POST-as-GET (6.3) and decode an authorization. */
static int authz_fetch(session *S, const char *url, acme_authz *a, acme_resp *r, aro_err *err)
{
    int ret = -1;
    char *u = xstrdup(url);     /* url may be a->url itself */
    aro_err derr;
    acme_authz_clear(a);
    if (acme_post(&S->acme, u, NULL, r, err))
        goto out;
    if (!r->json || acme_authz_decode(r->json, a, &derr)) {
        aro_err_set(err, "authorization %s: %s", u, r->json ? derr.msg : "not JSON");
        goto out;
    }
    if (!a->url) {
        a->url = u;
        u = NULL;
    }
    ret = 0;
out:
    free(u);
    return ret;
}

/* Poll until the authorization leaves "pending" (7.5.1). Pebble 2.4 keeps
 * the challenge "pending" while it validates; Boulder shows "processing";
 * either way the authorization is what says when it is over. */
static int authz_poll(session *S, const char *url_in, acme_authz *a, aro_err *err)
{
    acme_resp r = {0};
    int ret = -1;
    /* url_in is often a->url, which every fetch replaces: poll a copy. */
    char *url = xstrdup(url_in);
    time_t deadline = time(NULL) + ACME_POLL_DEADLINE_SECONDS;
    for (unsigned i = 0;; i++) {
        if (authz_fetch(S, url, a, &r, err))
            goto out;
        if (a->status != AUTHZ_PENDING)
            break;
        if (time(NULL) > deadline) {
            aro_err_set(err, "authorization %s for %s still pending after %d s", url,
                        a->identifier.value ? a->identifier.value : "?", ACME_POLL_DEADLINE_SECONDS);
            goto out;
        }
        double w = acme_poll_wait(&S->acme, &r, i);
        msg_debug(1, "%s: pending, waited %.1f s", a->identifier.value, w);
    }
    ret = 0;
out:
    acme_resp_clear(&r);
    free(url);
    return ret;
}

/* Why an attempt failed, once the authorization is final: the challenge's
 * error, else any invalid challenge's (some CAs replace the object), else
 * the challenge fetched alone. A copy, or NULL. */
static acme_problem *attempt_problem(session *S, const acme_authz *a, const char *chall_url)
{
    for (size_t i = 0; i < a->nchallenges; i++)
        if (a->challenges[i].url && !strcmp(a->challenges[i].url, chall_url)) {
            if (a->challenges[i].error)
                return problem_copy(a->challenges[i].error);
            break;
        }
    for (size_t i = 0; i < a->nchallenges; i++)
        if (a->challenges[i].status == CHALL_INVALID && a->challenges[i].error)
            return problem_copy(a->challenges[i].error);
    acme_resp r = {0};
    aro_err err;
    acme_problem *p = NULL;
    if (acme_post(&S->acme, chall_url, NULL, &r, &err) == 0 && r.json) {
        acme_challenge ch;
        if (acme_challenge_decode(r.json, &ch, &err) == 0 && ch.error)
            p = problem_copy(ch.error);
        acme_challenge_clear(&ch); /* a failed decode may have copied some members */
    }
    acme_resp_clear(&r);
    return p;
}

/* Provision the best acceptable challenge among c[] (choose_rank: learned
 * success, failures in this run, --challenges order). A solver that
 * declines (hook exit != 0) or fails is recorded as a "skipped" attempt and
 * the next candidate is tried. exclude_failed leaves out the types that
 * failed for this identifier already. Returns the index in c with *key_auth
 * its key authorization (malloc'd), or -1 when no solver took any. */
static long provision_best(authz_run *X, ident_history *id, const acme_challenge *c, size_t n,
                           bool prefer_same, bool exclude_failed, const char *via, char **key_auth)
{
    session *S = X->S;
    choose_cand *cand = xcalloc(n ? n : 1, sizeof *cand);
    size_t *order = xcalloc(n ? n : 1, sizeof *order);
    for (size_t i = 0; i < n; i++) {
        unsigned ok = 0, bad = 0;
        state_stats_get(S->st, S->o->server, id->ident, c[i].type, &ok, &bad);
        bool failed = strv_contains(id->failed, id->nfailed, c[i].type);
        /* RFC 8555 7.1.3 / 8.4: a wildcard validates with dns-01 only; the
         * CA offers only that, and aro does not second-guess it. */
        cand[i] = (choose_cand){.type = c[i].type, .score = state_stats_score(ok, bad),
                                .failed_here = failed,
                                .solvable = solvers_have(S->sol, c[i].type) &&
                                            !(exclude_failed && failed) &&
                                            c[i].status == CHALL_PENDING};
    }
    size_t k = choose_rank(cand, n, S->o->challenges, S->o->nchallenges, prefer_same, order);
    long chosen = -1;
    for (size_t j = 0; j < k && chosen < 0; j++) {
        const acme_challenge *ch = &c[order[j]];
        aro_err err;
        if (!ch->token) {
            msg_warn("%s: %s challenge without a token; skipping", id->ident, ch->type);
            continue;
        }
        char *ka = acme_key_authorization(ch->token, S->key);
        if (solvers_begin(S->sol, ch->type, id->base, id->is_ip, ch->token, ka, &err) == 0) {
            chosen = (long)order[j];
            *key_auth = ka;
            break;
        }
        msg_warn("%s: %s not provisioned: %s; trying the next type", id->ident, ch->type, err.msg);
        report_add_attempt(X->rep, id->ident, ch->type, ch->url, X->order_url, "skipped", NULL, via);
        free(ka);
    }
    free(order);
    free(cand);
    return chosen;
}

/* Ask the CA to validate ch: POST {} to the challenge (7.5.1), or for a
 * re-enable POST {"challenge": URL} to the retry-options URL, sent again
 * when refused with a Retry-After that fits --max-wait (a CA whose clock
 * has not reached notBefore yet). 0 accepted; -1 with err and r. */
static int request_validation(session *S, const ident_history *id, const acme_challenge *ch,
                              const acme_retry_options *ro, acme_resp *r, aro_err *err)
{
    if (!ro)
        return acme_post(&S->acme, ch->url, "{}", r, err);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "challenge", ch->url);
    jg_obj_close(g);
    char *payload = jg_finish(g, NULL);
    int rc = -1;
    for (int busy = 0; busy <= REENABLE_BUSY_RETRIES; busy++) {
        rc = acme_post(&S->acme, ro->url, payload, r, err);
        if (rc == 0 || r->retry_after < 0 || r->retry_after > S->o->max_wait || r->status >= 500)
            break;
        msg_info("%s: re-enable refused (%s); waiting %ld s as told", id->ident,
                 r->problem && r->problem->detail ? r->problem->detail : "retry later", r->retry_after);
        sleep_seconds((double)(r->retry_after ? r->retry_after : 1));
    }
    free(payload);
    return rc;
}

/* One challenge attempt on the authorization *a at url, the same steps for
 * a first attempt (ro NULL: one of a's challenges, answered per 7.5.1; the
 * types that failed in earlier orders are left out) and a re-enable (ro:
 * one of the challenges the retry-options member offers, the same type
 * again first after a transient failure):
 * provision the best challenge, ask the CA to validate it, poll the
 * authorization until it is final, learn the outcome, record the attempt
 * in the report and tear the solver down, once, whatever happened.
 * *prob is the previous failure on entry and this attempt's on return.
 * Returns 0 when the authorization is final (a->status says how it ended;
 * *a is then the new authorization, ro no longer valid), -1 when the
 * attempt could not be made or finished (err set). */
static int attempt_challenge(authz_run *X, ident_history *id, acme_authz *a, const char *url,
                             const acme_retry_options *ro, const char *via, acme_problem **prob,
                             aro_err *err)
{
    session *S = X->S;
    const acme_challenge *offer = ro ? ro->challenges : a->challenges;
    size_t noffer = ro ? ro->nchallenges : a->nchallenges;
    const char *pt = *prob ? problem_short_type((*prob)->type) : NULL;
    bool same_type = choose_transient(pt, *prob ? (*prob)->detail : NULL);
    acme_challenge ch = {0};
    acme_resp r = {0};
    char *ka = NULL;
    bool ok = false;
    int ret = -1;

    long idx = provision_best(X, id, offer, noffer, same_type, !ro, via, &ka);
    if (idx < 0) {
        if (ro)
            aro_err_set(err, "%s: no solver accepted any challenge retry-options offers", id->ident);
        else
            aro_err_set(err, "%s: no solver for any offered challenge (%s) in the preference list%s",
                        id->ident, noffer ? offer[0].type : "none",
                        id->nfailed ? " that has not already failed" : "");
        return -1;
    }
    acme_challenge_copy(&ch, &offer[idx]);
    if (ro)
        msg_info("%s: re-enabling the authorization with %s (retry-options%s%ld left)", id->ident,
                 ch.type, ro->attempts_remaining >= 0 ? ", " : "",
                 ro->attempts_remaining >= 0 ? ro->attempts_remaining - 1 : 0L);
    else
        msg_info("%s: answering %s (%s)", id->ident, ch.type, via);

    if (request_validation(S, id, &ch, ro, &r, err)) {
        report_add_attempt(X->rep, id->ident, ch.type, ch.url, X->order_url, "invalid",
                           r.problem ? r.problem->type : NULL, via);
        problem_free(*prob);
        *prob = r.problem ? problem_copy(r.problem) : NULL;
        goto out;
    }
    if (authz_poll(S, url, a, err))
        goto out;
    ok = a->status == AUTHZ_VALID;
    problem_free(*prob);
    *prob = ok ? NULL : attempt_problem(S, a, ch.url);
    report_add_attempt(X->rep, id->ident, ch.type, ch.url, X->order_url, ok ? "valid" : "invalid",
                       *prob ? (*prob)->type : NULL, via);
    aro_err lerr;
    if (state_stats_record(S->st, S->o->server, id->ident, ch.type, ok, &lerr))
        msg_warn("cannot record the outcome: %s", lerr.msg);
    if (!ok && !strv_contains(id->failed, id->nfailed, ch.type))
        strv_push(&id->failed, &id->nfailed, ch.type);
    if (ok)
        msg_info("%s: valid with %s%s", id->ident, ch.type, ro ? " after re-enable" : "");
    else
        msg_info("%s: %s failed%s: %s: %s", id->ident, ch.type, ro ? " again" : "",
                 *prob && (*prob)->type ? (*prob)->type : "(no problem document)",
                 *prob && (*prob)->detail ? (*prob)->detail : "");
    ret = 0;
out:
    solvers_end(S->sol, ch.type, id->base, id->is_ip, ch.token, ka, ok);
    acme_resp_clear(&r);
    acme_challenge_clear(&ch);
    free(ka);
    return ret;
}

/* Whether to re-enable now (choose_reenable), waiting for notBefore first.
 * 1 go; 0 stop (retry-options spent or unusable); -1 the wait would be
 * longer than --max-wait (err set). */
static int reenable_when_allowed(session *S, const ident_history *id, const acme_retry_options *ro,
                                 aro_err *err)
{
    long wait;
    switch (choose_reenable(ro, time(NULL), S->o->max_wait, &wait)) {
    case REENABLE_NOW:
        break;
    case REENABLE_NO_ATTEMPTS_LEFT:
        msg_info("%s: no re-enable attempts left", id->ident);
        return 0;
    case REENABLE_MALFORMED:
        msg_warn("%s: retry-options without url or challenges; ignoring it", id->ident);
        return 0;
    case REENABLE_EXPIRED:
        msg_info("%s: the re-enable deadline has passed", id->ident);
        return 0;
    case REENABLE_TOO_LATE:
        aro_err_set(err, "%s: the CA allows a retry only in %ld s (notBefore), more than --max-wait %ld",
                    id->ident, wait, S->o->max_wait);
        return -1;
    }
    if (wait > 0) {
        msg_info("%s: waiting %ld s for retry-options notBefore", id->ident, wait);
        sleep_seconds((double)wait);
    }
    return 1;
}

/* Get one authorization to "valid": a first attempt when it is pending,
 * then re-enables while the CA offers retry-options. 0 valid; -1 failed
 * (the error in the report, X->last_problem set when the CA said why). */
static int authorize(authz_run *X, const char *url, const char *via)
{
    session *S = X->S;
    int ret = -1;
    acme_authz a = {0};
    acme_resp r = {0};
    aro_err err = {{0}};
    acme_problem *prob = NULL;
    ident_history *id = NULL;

    if (authz_fetch(S, url, &a, &r, &err))
        goto fail;
    if (!(id = ident_of(X, &a))) {
        aro_err_set(&err, "authorization %s is for %s, which aro did not ask for", url,
                    a.identifier.value ? a.identifier.value : "(nothing)");
        goto fail;
    }
    for (size_t i = 0; i < a.nchallenges; i++)
        if (!strv_contains(id->offered, id->noffered, a.challenges[i].type))
            strv_push(&id->offered, &id->noffered, a.challenges[i].type);
    if (a.status == AUTHZ_VALID) {
        msg_info("%s: authorization already valid", id->ident);
        ret = 0;
        goto out;
    }
    /* Pending: nothing answered yet, or an earlier run's challenge still
     * processing; either way answer one and poll. */
    if (a.status == AUTHZ_PENDING && attempt_challenge(X, id, &a, url, NULL, via, &prob, &err))
        goto fail;
    while (a.status == AUTHZ_INVALID && a.retry && authz_may_reenable(a.status, true)) {
        int go = reenable_when_allowed(S, id, a.retry, &err);
        if (go == 0)
            break;
        if (go < 0 || attempt_challenge(X, id, &a, url, a.retry, "retry-options", &prob, &err))
            goto fail;
    }
    if (a.status == AUTHZ_VALID) {
        ret = 0;
        goto out;
    }
    aro_err_set(&err, "%s: authorization %s is %s: %s: %s", id->ident, url,
                authz_status_name(a.status),
                prob && prob->type ? prob->type : "(no problem document)",
                prob && prob->detail ? prob->detail : "");
fail:
    free(X->last_problem);
    X->last_problem = prob && prob->type ? xstrdup(problem_short_type(prob->type))
                      : r.problem && r.problem->type ? xstrdup(problem_short_type(r.problem->type))
                                                     : NULL;
    report_fail(X->rep, prob ? prob : r.problem, err.msg);
out:
    problem_free(prob);
    acme_authz_clear(&a);
    acme_resp_clear(&r);
    return ret;
}

/* 7.5.2: give up an order's authorizations as --deactivate says: pending
 * ones by default (valid ones stay for the CA to reuse), all with "all". */
static void deactivate(session *S, char *const *urls, size_t n)
{
    if (S->o->deactivate == DEACTIVATE_NONE)
        return;
    for (size_t i = 0; i < n; i++) {
        acme_authz a = {0};
        acme_resp r = {0};
        aro_err err;
        if (authz_fetch(S, urls[i], &a, &r, &err) == 0 &&
            (a.status == AUTHZ_PENDING ||
             (a.status == AUTHZ_VALID && S->o->deactivate == DEACTIVATE_ALL))) {
            if (acme_post(&S->acme, urls[i], "{\"status\":\"deactivated\"}", &r, &err))
                msg_warn("deactivating %s: %s", urls[i], err.msg);
            else
                msg_info("%s: deactivated authorization %s", a.identifier.value, urls[i]);
        }
        acme_authz_clear(&a);
        acme_resp_clear(&r);
    }
}

int authorize_order(authz_run *X, const acme_order *ord, const char *via)
{
    X->order_url = ord->url;
    for (size_t i = 0; i < ord->nauthorizations; i++)
        if (authorize(X, ord->authorizations[i], via)) {
            deactivate(X->S, ord->authorizations, ord->nauthorizations);
            return -1;
        }
    return 0;
}
