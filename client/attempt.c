#include "attempt.h"

#include <stdlib.h>
#include <string.h>

#include "acme_crypto.h"
#include "backoff.h"
#include "identifiers.h"
#include "interrupt.h"
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

/* Why no offered challenge could be used, in the user's terms: the types
 * offered against --challenges, the solvers, the failures of this run. */
static void explain_none(authz_run *X, const ident_history *id, const acme_challenge *c, size_t n,
                         bool reenable, const char *reasons, aro_err *err)
{
    const aro_opts *o = X->S->o;
    aro_buf offered = {0}, listed = {0}, prefs = {0};
    bool unsolved = false;
    for (size_t i = 0; i < n; i++) {
        buf_printf(&offered, "%s%s", offered.len ? ", " : "", c[i].type);
        bool in = false;
        for (size_t j = 0; j < o->nchallenges; j++)
            in |= !strcmp(o->challenges[j], c[i].type);
        if (in) {
            buf_printf(&listed, "%s%s", listed.len ? ", " : "", c[i].type);
            unsolved |= !solvers_have(X->S->sol, c[i].type);
        }
    }
    for (size_t j = 0; j < o->nchallenges; j++)
        buf_printf(&prefs, "%s%s", j ? "," : "", o->challenges[j]);
    const char *what = reenable ? "retry-options offer" : "CA offers";
    if (!n)
        aro_err_set(err, "%s: the %s no challenge", id->ident, what);
    else if (!listed.len)
        aro_err_set(err, "%s: the %s %s; none of them is in --challenges %s", id->ident, what,
                    offered.data, prefs.data);
    else if (reasons && *reasons)
        aro_err_set(err, "%s: no challenge could be provisioned: %s", id->ident, reasons);
    else if (unsolved)
        aro_err_set(err, "%s: no solver for %s (http-01: --http-port, --webroot or --hook; dns-01: "
                    "--hook; tls-alpn-01: --tls-alpn-port or --hook)", id->ident, listed.data);
    else
        aro_err_set(err, "%s: every offered type in --challenges (%s) has failed already", id->ident,
                    listed.data);
    buf_free(&offered);
    buf_free(&listed);
    buf_free(&prefs);
}

/* Provision the best acceptable challenge among c[]. A solver that
 * declines (hook exit != 0) or fails is recorded as a "skipped" attempt
 * and the next candidate is tried. exclude_failed leaves out the types
 * that failed for this identifier already. Returns the index in c with
 * *key_auth its key authorization (malloc'd), or -1 with err. */
static long provision_best(authz_run *X, ident_history *id, const acme_challenge *c, size_t n,
                           bool prefer_same, bool exclude_failed, bool reenable, const char *via,
                           char **key_auth, aro_err *err)
{
    session *S = X->S;
    choose_cand *cand = xcalloc(n ? n : 1, sizeof *cand);
    size_t *order = xcalloc(n ? n : 1, sizeof *order);
    aro_buf reasons = {0};
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
                                            (c[i].status == CHALL_PENDING ||
                                             c[i].status == CHALL_PROCESSING)};
    }
    size_t k = choose_rank(cand, n, S->o->challenges, S->o->nchallenges, prefer_same, order);
    long chosen = -1;
    for (size_t j = 0; j < k && chosen < 0 && !interrupt_stop(); j++) {
        const acme_challenge *ch = &c[order[j]];
        aro_err perr;
        if (!ch->token) {
            buf_printf(&reasons, "%s%s: no token", reasons.len ? "; " : "", ch->type);
            continue;
        }
        char *ka = acme_key_authorization(ch->token, S->key);
        if (solvers_begin(S->sol, ch->type, id->base, id->is_ip, ch->token, ka, &perr) == 0) {
            chosen = (long)order[j];
            *key_auth = ka;
            break;
        }
        buf_printf(&reasons, "%s%s: %s", reasons.len ? "; " : "", ch->type, perr.msg);
        if (j + 1 < k)
            msg_note("%s: %s not provisioned: %s; trying the next type", id->ident, ch->type,
                     perr.msg);
        report_add_attempt(X->rep, id->ident, ch->type, ch->url, X->order_url, "skipped", NULL, via);
        free(ka);
    }
    if (chosen < 0) {
        if (interrupt_stop())
            aro_err_set(err, "%s: interrupted while provisioning a challenge", id->ident);
        else
            explain_none(X, id, c, n, reenable, reasons.data, err);
    }
    buf_free(&reasons);
    free(order);
    free(cand);
    return chosen;
}

/* Ask the CA to validate ch: POST {} to the challenge (7.5.1; on a held
 * authorization the challenge the offer lists), or for a re-enable POST
 * {"challenge": URL} to the retry-options URL; sent again when refused
 * with a Retry-After that fits --max-wait (a CA whose clock has not
 * reached notBefore yet). 0 accepted; -1 with err and r. */
static int request_validation(session *S, const ident_history *id, const acme_challenge *ch,
                              const acme_retry_options *reenable, acme_resp *r, aro_err *err)
{
    char *payload = NULL;
    if (reenable) {
        json_gen *g = jg_new();
        jg_obj_open(g);
        jg_kv_str(g, "challenge", ch->url);
        jg_obj_close(g);
        payload = jg_finish(g, NULL);
    }
    const char *url = reenable ? reenable->url : ch->url;
    int rc = -1;
    for (int busy = 0; busy <= REENABLE_BUSY_RETRIES; busy++) {
        rc = acme_post(&S->acme, url, payload ? payload : "{}", r, err);
        if (rc == 0 || r->retry_after < 0 || r->retry_after > S->o->max_wait || r->status >= 500)
            break;
        msg_info("%s: %s refused (%s); waiting %ld s as told", id->ident,
                 reenable ? "re-enable" : "challenge response",
                 r->problem && r->problem->detail ? r->problem->detail : "retry later", r->retry_after);
        if (sleep_seconds((double)(r->retry_after ? r->retry_after : 1)))
            break;
    }
    free(payload);
    return rc;
}

int attempt_start(authz_run *X, attempt *at, ident_history *id, const acme_authz *a,
                  const acme_retry_options *ro, const char *via, acme_problem **prob, aro_err *err)
{
    session *S = X->S;
    /* An offer on a pending authorization is a held one (pending-hold):
     * taken by answering a listed challenge, not by re-enabling. */
    bool held = ro && a->status == AUTHZ_PENDING;
    const acme_challenge *offer = ro ? ro->challenges : a->challenges;
    size_t noffer = ro ? ro->nchallenges : a->nchallenges;
    /* A challenge the CA is validating already (a resumed order whose run
     * was interrupted): that one, provisioned again; answering another
     * would be refused while it runs (RFC 8555 8.2 allows the repeat). */
    for (size_t i = 0; !ro && i < a->nchallenges; i++)
        if (a->challenges[i].status == CHALL_PROCESSING) {
            offer = &a->challenges[i];
            noffer = 1;
            msg_info("%s: the CA is validating %s from an earlier run; answering it again",
                     id->ident, offer->type);
            break;
        }
    const char *pt = *prob ? problem_short_type((*prob)->type) : NULL;
    bool same_type = choose_transient(pt, *prob ? (*prob)->detail : NULL);
    acme_resp r = {0};
    char *ka = NULL;
    memset(at, 0, sizeof *at);
    long idx = provision_best(X, id, offer, noffer, same_type, !ro, ro != NULL, via, &ka, err);
    if (idx < 0)
        return -1;
    *at = (attempt){.id = id, .key_auth = ka, .via = via, .reenable = ro && !held, .held = held,
                    .live = true, .poll_after = -1};
    acme_challenge_copy(&at->ch, &offer[idx]);
    if (ro)
        msg_info("%s: %s with %s (retry-options%s%ld left)", id->ident,
                 held ? "taking the held authorization's offer" : "re-enabling the authorization",
                 at->ch.type, ro->attempts_remaining >= 0 ? ", " : "",
                 ro->attempts_remaining >= 0 ? ro->attempts_remaining - 1 : 0L);
    else
        msg_info("%s: answering %s (%s)", id->ident, at->ch.type, via);
    if (request_validation(S, id, &at->ch, held ? NULL : ro, &r, err)) {
        report_add_attempt(X->rep, id->ident, at->ch.type, at->ch.url, X->order_url, "invalid",
                           r.problem ? r.problem->type : NULL, via);
        /* Refusals: retryNotAllowed means no offer stands, and aro falls
         * back as if there had been none: the failure that led to the
         * offer (kept in *prob) decides whether a new order can help. */
        const char *rt = acme_resp_problem(&r);
        if (!*prob || !rt || strcmp(rt, "retryNotAllowed")) {
            problem_free(*prob);
            *prob = r.problem ? problem_copy(r.problem) : NULL;
        }
        acme_resp_clear(&r);
        attempt_abandon(X, at);
        return -1;
    }
    at->poll_after = r.retry_after;
    acme_resp_clear(&r);
    return 0;
}

bool attempt_over(const attempt *at, const acme_authz *a)
{
    if (a->status != AUTHZ_PENDING)
        return true;
    /* Pending-hold: a failure leaves the authorization pending; the attempt
     * is over when the challenge it answered is invalid (a valid one makes
     * the authorization valid, which the next poll shows). */
    for (size_t i = 0; i < a->nchallenges; i++)
        if (a->challenges[i].url && at->ch.url && !strcmp(a->challenges[i].url, at->ch.url))
            return a->challenges[i].status == CHALL_INVALID;
    return false;
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

/* Tear the solver down once; say what was undone after an interrupt. */
static void teardown(authz_run *X, attempt *at, bool ok)
{
    if (!at->live)
        return;
    at->live = false;
    char *undone = solvers_end(X->S->sol, at->ch.type, at->id->base, at->id->is_ip, at->ch.token,
                               at->key_auth, ok);
    if (undone && interrupt_signal()) {
        msg_info("%s: %s", at->id->ident, undone);
        report_add_cleanup(X->rep, undone);
    }
    free(undone);
    acme_challenge_clear(&at->ch);
    free(at->key_auth);
    at->key_auth = NULL;
}

bool attempt_settle(authz_run *X, attempt *at, const acme_authz *a, acme_problem **prob)
{
    session *S = X->S;
    ident_history *id = at->id;
    bool ok = a->status == AUTHZ_VALID;
    problem_free(*prob);
    *prob = ok ? NULL : attempt_problem(S, a, at->ch.url);
    report_add_attempt(X->rep, id->ident, at->ch.type, at->ch.url, X->order_url,
                       ok ? "valid" : "invalid", *prob ? (*prob)->type : NULL, at->via);
    aro_err lerr;
    if (state_stats_record(S->st, S->o->server, id->ident, at->ch.type, ok, &lerr))
        msg_warn("cannot record the outcome: %s", lerr.msg);
    if (!ok && !strv_contains(id->failed, id->nfailed, at->ch.type))
        strv_push(&id->failed, &id->nfailed, at->ch.type);
    const char *after = at->reenable ? " after re-enable" : at->held ? " (held authorization)" : "";
    if (ok)
        msg_info("%s: valid with %s%s", id->ident, at->ch.type, after);
    else
        msg_info("%s: %s failed%s: %s: %s", id->ident, at->ch.type, after,
                 *prob && (*prob)->type ? (*prob)->type : "(no problem document)",
                 *prob && (*prob)->detail ? (*prob)->detail : "");
    teardown(X, at, ok);
    return ok;
}

void attempt_abandon(authz_run *X, attempt *at)
{
    teardown(X, at, false);
}
