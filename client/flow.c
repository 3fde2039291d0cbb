/* aro's commands, read top to bottom as RFC 8555 sequences:
 *   account_register (7.3), order_new (7.4), authorize (7.5, and the
 *   retry-options re-enable), finalize (7.4), cert_download (7.4.2),
 *   cert_revoke (7.6), account_update/deactivate (7.3.2, 7.3.6),
 *   account_rollover (7.3.5); renew via ARI (RFC 9773) when offered.
 * The transport is acme.c; solvers are solvers.c; state is state.c. */
#include "flow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acme.h"
#include "acme_crypto.h"
#include "acme_objects.h"
#include "b64url.h"
#include "backoff.h"
#include "certfiles.h"
#include "identifiers.h"
#include "order.h"
#include "choose.h"
#include "jws.h"
#include "msg.h"
#include "random.h"
#include "session.h"
#include "report.h"
#include "solvers.h"
#include "state.h"
#include "status.h"
#include "strv.h"

#define REENABLE_BUSY_RETRIES 3

static char *contact_payload(const aro_opts *o)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    session_write_contacts(g, o);
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

/* 7.3.5: the inner JWS is signed by the new key, the outer by the old.
 * The new key is saved aside first, so a crash between the CA's answer
 * and our write cannot lose the account. */
static int account_rollover(session *S, report *rep)
{
    int ret = -1;
    aro_err err;
    acme_resp r = {0};
    char *inner = NULL, *pem = NULL, *next = xasprintf("%s.next", S->key_path);
    EVP_PKEY *nk = key_generate(S->o->account_key_type);
    if (!S->acme.dir.key_change) {
        aro_err_set(&err, "the CA at %s offers no keyChange", S->o->server);
        goto fail;
    }
    if (!nk || state_key_save(nk, next, &err)) {
        if (!nk)
            aro_err_set(&err, "cannot generate a new account key");
        goto fail;
    }
    inner = jws_sign_keychange(nk, S->key, S->acme.kid, S->acme.dir.key_change);
    if (!inner) {
        aro_err_set(&err, "cannot sign the key change");
        goto fail;
    }
    if (acme_post(&S->acme, S->acme.dir.key_change, inner, &r, &err))
        goto fail;
    pem = key_to_pem(nk);
    if (state_write_versioned(S->key_path, pem, strlen(pem), 0600, STATE_KEEP_VERSIONS, &err))
        goto fail;
    unlink(next);
    EVP_PKEY_free(S->key);
    S->key = nk;
    S->acme.key = nk;
    nk = NULL;
    msg_info("account key rolled over (%s); the old key is kept as %s.1", S->acme.kid, S->key_path);
    ret = 0;
    goto out;
fail:
    unlink(next);
    report_fail(rep, r.problem, err.msg);
out:
    if (pem)
        OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    free(inner);
    free(next);
    EVP_PKEY_free(nk);
    acme_resp_clear(&r);
    return ret;
}

int flow_account(const aro_opts *o, const char *sub)
{
    session S;
    report rep = {0};
    acme_resp r = {0};
    aro_err err;
    const char *result = "failed";
    bool created = false;
    yajl_val shown = NULL;

    if (session_open(&S, o, &rep))
        goto out;
    if (!strcmp(sub, "new")) {
        if (session_account(&S, ACCOUNT_NEW, &created, &rep))
            goto out;
        result = created ? "created" : "existing";
        msg_info("account %s: %s", result, S.acme.kid);
        goto out;
    }
    if (session_account(&S, ACCOUNT_EXISTING, NULL, &rep))
        goto out;
    if (!strcmp(sub, "show")) {
        if (acme_post(&S.acme, S.acme.kid, NULL, &r, &err)) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
        shown = r.json;
        r.json = NULL;
        result = "shown";
    } else if (!strcmp(sub, "update")) {
        char *p = contact_payload(o);
        int rc = acme_post(&S.acme, S.acme.kid, p, &r, &err);
        free(p);
        if (rc) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
        result = "updated";
    } else if (!strcmp(sub, "deactivate")) {
        /* 7.3.6: final; the CA refuses the account's requests afterwards. */
        if (acme_post(&S.acme, S.acme.kid, "{\"status\":\"deactivated\"}", &r, &err)) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
        state_account_del(S.st, o->server, &err);
        result = "deactivated";
        msg_info("account %s deactivated", S.acme.kid);
    } else if (!strcmp(sub, "rollover")) {
        if (account_rollover(&S, &rep))
            goto out;
        result = "rolled";
    } else {
        aro_err_set(&err, "unknown account command \"%s\" (new, show, update, deactivate, rollover)", sub);
        report_fail(&rep, NULL, err.msg);
    }
out:
    rep.result = result;
    report_print_simple(&rep, o->json, "account", S.acme_open ? S.acme.kid : NULL, shown, stdout);
    int code = rep.err_type ? 2 : 0;
    json_free(shown);
    acme_resp_clear(&r);
    report_clear(&rep);
    session_close(&S);
    return code;
}

/* ---- authorizations (7.5) and retry-options ----------------------------- */

/* What aro remembers per identifier across the orders of one run. */
typedef struct {
    char *ident;            /* as asked, "*.example.com" for a wildcard */
    const char *base;       /* as the authorization names it (7.1.4): no "*." */
    bool is_ip;
    char **failed;          /* challenge types that failed for it */
    size_t nfailed;
    char **offered;         /* types the CA offered for it */
    size_t noffered;
} ident_info;

static ident_info *ident_find(ident_info *ids, size_t n, const char *ident)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(ids[i].ident, ident))
            return &ids[i];
    return NULL;
}

typedef struct {
    session *S;
    report *rep;
    const char *order_url;
    ident_info *ids;
    size_t nids;
    char *last_problem;     /* short type of the last failure (legacy decision) */
} run_ctx;

/* POST-as-GET and decode an authorization. */
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

static const acme_challenge *chall_by_url(const acme_challenge *c, size_t n, const char *url)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].url && !strcmp(c[i].url, url))
            return &c[i];
    return NULL;
}

/* The outcome of one attempt once the authorization is final: the
 * challenge's error (or the challenge fetched alone when the authorization
 * omits it). Returns the problem copy or NULL. */
static acme_problem *attempt_problem(session *S, const acme_authz *a, const char *chall_url)
{
    const acme_challenge *c = chall_by_url(a->challenges, a->nchallenges, chall_url);
    if (c && c->error)
        return problem_copy(c->error);
    /* Look in any invalid challenge (some CAs replace the object). */
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

/* Rank challenges for this identifier: preference, learned success,
 * failures in this run (choose.c). Returns count; order[] indexes c. */
static size_t rank_challenges(run_ctx *X, ident_info *id, const acme_challenge *c, size_t n,
                              bool prefer_same, bool exclude_failed, size_t *order)
{
    const aro_opts *o = X->S->o;
    choose_cand *cand = xcalloc(n ? n : 1, sizeof *cand);
    for (size_t i = 0; i < n; i++) {
        unsigned ok = 0, bad = 0;
        state_stats_get(X->S->st, o->server, id->ident, c[i].type, &ok, &bad);
        bool failed = strv_contains(id->failed, id->nfailed, c[i].type);
        cand[i].type = c[i].type;
        cand[i].score = state_stats_score(ok, bad);
        cand[i].failed_here = failed;
        cand[i].solvable = solvers_have(X->S->sol, c[i].type) && !(exclude_failed && failed) &&
                           (c[i].status == CHALL_PENDING);
        /* RFC 8555 7.1.3 / 8.4: wildcards validate with dns-01 only;
         * the CA offers only that, but do not rely on it. */
    }
    size_t k = choose_rank(cand, n, o->challenges, o->nchallenges, prefer_same, order);
    free(cand);
    return k;
}

static void learn(run_ctx *X, ident_info *id, const char *type, bool ok)
{
    aro_err err;
    if (state_stats_record(X->S->st, X->S->o->server, id->ident, type, ok, &err))
        msg_warn("cannot record the outcome: %s", err.msg);
    if (!ok && !strv_contains(id->failed, id->nfailed, type))
        strv_push(&id->failed, &id->nfailed, type);
}

/* Provision the best acceptable challenge among c[] and tell the caller
 * which one. Declines (hook exit != 0) and solver errors are recorded as
 * "skipped" attempts and the next candidate is tried.
 * Returns index or -1 (nothing accepted). */
static long provision_one(run_ctx *X, ident_info *id, const acme_challenge *c, size_t n,
                          bool prefer_same, bool exclude_failed, const char *key_auth_out[],
                          char **key_auth, const char *via)
{
    size_t *order = xcalloc(n ? n : 1, sizeof *order);
    size_t k = rank_challenges(X, id, c, n, prefer_same, exclude_failed, order);
    long chosen = -1;
    (void)key_auth_out;
    for (size_t j = 0; j < k && chosen < 0; j++) {
        const acme_challenge *ch = &c[order[j]];
        aro_err err;
        if (!ch->token) {
            msg_warn("%s: %s challenge without a token; skipping", id->ident, ch->type);
            continue;
        }
        char *ka = acme_key_authorization(ch->token, X->S->key);
        int rc = solvers_begin(X->S->sol, ch->type, id->base, id->is_ip, ch->token, ka, &err);
        if (rc == 0) {
            chosen = (long)order[j];
            *key_auth = ka;
            break;
        }
        msg_warn("%s: %s not provisioned: %s; trying the next type", id->ident, ch->type, err.msg);
        report_add_attempt(X->rep, id->ident, ch->type, ch->url, X->order_url, "skipped", NULL, via);
        free(ka);
    }
    free(order);
    return chosen;
}

/* retry-options (draft-aro-acme-retry-options): the invalid authorization
 * offers challenges; re-enable it with one of them, same order throughout.
 * On entry *a is the invalid authorization carrying the member. Returns 0
 * when the authorization became valid, -1 otherwise (err and *prob set). */
static int authz_reenable(run_ctx *X, ident_info *id, acme_authz *a, acme_problem **prob,
                          aro_err *err)
{
    session *S = X->S;
    int ret = -1;
    while (a->status == AUTHZ_INVALID && a->retry && authz_may_reenable(a->status, true)) {
        acme_retry_options *ro = a->retry;
        time_t now = time(NULL);
        if (ro->attempts_remaining == 0) {
            msg_info("%s: no re-enable attempts left", id->ident);
            break;
        }
        if (!ro->url || !ro->nchallenges) {
            msg_warn("%s: retry-options without url or challenges; ignoring it", id->ident);
            break;
        }
        if (ro->expires && now >= ro->expires) {
            msg_info("%s: the re-enable deadline has passed", id->ident);
            break;
        }
        if (ro->not_before > now) {
            long w = (long)(ro->not_before - now);
            if (w > S->o->max_wait) {
                aro_err_set(err, "%s: the CA allows a retry only in %ld s (notBefore), more than --max-wait %ld",
                            id->ident, w, S->o->max_wait);
                goto out;
            }
            msg_info("%s: waiting %ld s for retry-options notBefore", id->ident, w);
            sleep_seconds((double)w);
        }
        const char *pt = *prob ? problem_short_type((*prob)->type) : NULL;
        bool same = choose_transient(pt, *prob ? (*prob)->detail : NULL);
        char *ka = NULL;
        long idx = provision_one(X, id, ro->challenges, ro->nchallenges, same, false, NULL, &ka,
                                 "retry-options");
        if (idx < 0) {
            aro_err_set(err, "%s: no solver accepted any challenge retry-options offers", id->ident);
            goto out;
        }
        acme_challenge ch;
        acme_challenge_copy(&ch, &ro->challenges[idx]);
        msg_info("%s: re-enabling the authorization with %s (retry-options%s%ld left)", id->ident,
                 ch.type, ro->attempts_remaining >= 0 ? ", " : "",
                 ro->attempts_remaining >= 0 ? ro->attempts_remaining - 1 : 0L);

        /* POST {"challenge": url} to the re-enable URL; 200 is the authorization. */
        json_gen *g = jg_new();
        jg_obj_open(g);
        jg_kv_str(g, "challenge", ch.url);
        jg_obj_close(g);
        char *payload = jg_finish(g, NULL);
        acme_resp r = {0};
        int rc = -1;
        for (int busy = 0; busy <= REENABLE_BUSY_RETRIES; busy++) {
            rc = acme_post(&S->acme, ro->url, payload, &r, err);
            /* Refused before notBefore (clock skew): wait as told, retry. */
            if (rc == 0 || r.retry_after < 0 || r.retry_after > S->o->max_wait || r.status >= 500)
                break;
            msg_info("%s: re-enable refused (%s); waiting %ld s as told", id->ident,
                     r.problem && r.problem->detail ? r.problem->detail : "retry later", r.retry_after);
            sleep_seconds((double)(r.retry_after ? r.retry_after : 1));
        }
        free(payload);
        if (rc) {
            report_add_attempt(X->rep, id->ident, ch.type, ch.url, X->order_url, "invalid",
                           r.problem ? r.problem->type : NULL, "retry-options");
            problem_free(*prob);
            *prob = r.problem ? problem_copy(r.problem) : NULL;
            solvers_end(S->sol, ch.type, id->base, id->is_ip, ch.token, ka, false);
            acme_resp_clear(&r);
            acme_challenge_clear(&ch);
            free(ka);
            goto out;
        }
        acme_resp_clear(&r);
        if (authz_poll(S, a->url, a, err) == 0) {
            bool ok = a->status == AUTHZ_VALID;
            acme_problem *p = ok ? NULL : attempt_problem(S, a, ch.url);
            report_add_attempt(X->rep, id->ident, ch.type, ch.url, X->order_url, ok ? "valid" : "invalid",
                           p ? p->type : NULL, "retry-options");
            learn(X, id, ch.type, ok);
            solvers_end(S->sol, ch.type, id->base, id->is_ip, ch.token, ka, ok);
            if (ok) {
                msg_info("%s: valid with %s after re-enable", id->ident, ch.type);
                problem_free(p);
                acme_challenge_clear(&ch);
                free(ka);
                ret = 0;
                goto out;
            }
            msg_info("%s: %s failed again: %s: %s", id->ident, ch.type,
                     p && p->type ? p->type : "(no problem)", p && p->detail ? p->detail : "");
            problem_free(*prob);
            *prob = p;
        } else {
            solvers_end(S->sol, ch.type, id->base, id->is_ip, ch.token, ka, false);
            acme_challenge_clear(&ch);
            free(ka);
            goto out;
        }
        acme_challenge_clear(&ch);
        free(ka);
    }
    if (!err->msg[0] || a->status != AUTHZ_VALID)
        aro_err_set(err, "%s: authorization %s is %s: %s: %s", id->ident, a->url,
                    authz_status_name(a->status),
                    *prob && (*prob)->type ? (*prob)->type : "(no problem document)",
                    *prob && (*prob)->detail ? (*prob)->detail : "");
out:
    return ret;
}

/* Get one authorization to "valid" (7.5): answer the best challenge, poll,
 * and on failure use retry-options when the CA offers them. Returns 0
 * valid, -1 failed (X->last_problem set when the CA said why). */
static int authorize(run_ctx *X, const char *url, const char *via)
{
    session *S = X->S;
    int ret = -1;
    acme_authz a = {0};
    acme_resp r = {0};
    aro_err err = {{0}};
    acme_problem *prob = NULL;
    char *ka = NULL;
    acme_challenge ch = {0};

    if (authz_fetch(S, url, &a, &r, &err))
        goto fail;
    /* example.com and *.example.com both have authorizations for
     * "example.com"; the "wildcard" member tells them apart (7.1.4). */
    ident_info *id = a.wildcard ? NULL
                                : ident_find(X->ids, X->nids, a.identifier.value ? a.identifier.value : "");
    if (!id) {
        /* A wildcard's authorization names the base domain (7.1.4). */
        char *w = xasprintf("*.%s", a.identifier.value ? a.identifier.value : "");
        id = ident_find(X->ids, X->nids, w);
        free(w);
    }
    if (!id) {
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
    if (a.status == AUTHZ_PENDING) {
        /* A challenge already processing (an earlier run): just poll. */
        long idx = provision_one(X, id, a.challenges, a.nchallenges, false, true, NULL, &ka, via);
        if (idx < 0) {
            aro_err_set(&err, "%s: no solver for any offered challenge (%s) in the preference list%s",
                        id->ident, a.nchallenges ? a.challenges[0].type : "none",
                        id->nfailed ? " that has not already failed" : "");
            goto fail;
        }
        acme_challenge_copy(&ch, &a.challenges[idx]);
        msg_info("%s: answering %s (%s)", id->ident, ch.type, via);
        /* 7.5.1: the client says it is ready with an empty JSON object. */
        if (acme_post(&S->acme, ch.url, "{}", &r, &err)) {
            report_add_attempt(X->rep, id->ident, ch.type, ch.url, X->order_url, "invalid",
                           r.problem ? r.problem->type : NULL, via);
            solvers_end(S->sol, ch.type, id->base, id->is_ip, ch.token, ka, false);
            goto fail;
        }
        if (authz_poll(S, url, &a, &err)) {
            solvers_end(S->sol, ch.type, id->base, id->is_ip, ch.token, ka, false);
            goto fail;
        }
        bool ok = a.status == AUTHZ_VALID;
        prob = ok ? NULL : attempt_problem(S, &a, ch.url);
        report_add_attempt(X->rep, id->ident, ch.type, ch.url, X->order_url, ok ? "valid" : "invalid",
                       prob ? prob->type : NULL, via);
        learn(X, id, ch.type, ok);
        solvers_end(S->sol, ch.type, id->base, id->is_ip, ch.token, ka, ok);
        if (ok) {
            msg_info("%s: valid with %s", id->ident, ch.type);
            ret = 0;
            goto out;
        }
        msg_info("%s: %s failed: %s: %s", id->ident, ch.type,
                 prob && prob->type ? prob->type : "(no problem document)",
                 prob && prob->detail ? prob->detail : "");
    }
    if (a.status == AUTHZ_INVALID && a.retry) {
        if (authz_reenable(X, id, &a, &prob, &err) == 0) {
            ret = 0;
            goto out;
        }
        goto fail;
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
    msg_error("%s", err.msg);
    report_error(X->rep, prob ? prob->type : r.problem ? r.problem->type : NULL, err.msg);
out:
    acme_challenge_clear(&ch);
    free(ka);
    problem_free(prob);
    acme_authz_clear(&a);
    acme_resp_clear(&r);
    return ret;
}

/* 7.5.2: give up an order's authorizations as --deactivate says (pending
 * only by default: valid ones stay for reuse). */
static void authz_deactivate_all(session *S, char *const *urls, size_t n)
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

/* The whole issuance for rep->names: orders until one gives a certificate.
 * With retry-options an order is carried to the end; without, the legacy
 * fallback opens a new order that skips failed types, when the failure is
 * one another type could fix and a solver exists for another offered type,
 * at most max_orders orders. */
static int issue_names(session *S, report *rep, const char *replaces)
{
    const aro_opts *o = S->o;
    ident_info *ids = xcalloc(rep->nnames, sizeof *ids);
    run_ctx X = {.S = S, .rep = rep, .ids = ids, .nids = rep->nnames};
    acme_order ord = {0};
    acme_resp r = {0};
    aro_err err = {{0}};
    int ret = -1;
    for (size_t i = 0; i < rep->nnames; i++) {
        ids[i].ident = rep->names[i];
        ids[i].is_ip = identifier_is_ip(rep->names[i]);
        ids[i].base = identifier_base(rep->names[i]);
    }
    int max_orders = o->max_orders > 0 ? o->max_orders : 3;
    for (int n = 0; n < max_orders; n++) {
        const char *via = n == 0 ? "first" : "new-order";
        if (order_new(S, rep->names, rep->nnames, replaces, &ord, &r, &err)) {
            report_fail(rep, r.problem, err.msg);
            goto out;
        }
        strv_push(&rep->orders, &rep->norders, ord.url);
        msg_info("order %s for %s%s (%s)", ord.url, rep->names[0], rep->nnames > 1 ? " and more" : "",
                 order_status_name(ord.status));
        X.order_url = ord.url;
        bool all_valid = true;
        for (size_t i = 0; i < ord.nauthorizations && all_valid; i++)
            if (authorize(&X, ord.authorizations[i], via))
                all_valid = false;
        if (all_valid) {
            char *pem = NULL;
            size_t len = 0;
            EVP_PKEY *key = NULL;
            char *stored = NULL;
            if (order_complete(S, &ord, rep->names, rep->nnames, &pem, &len, &key, &err) ||
                certfiles_store(S->st, &(certfiles_origin){.server = o->server, .names = rep->names,
                                                           .nnames = rep->nnames, .order = ord.url,
                                                           .key_type = key_type_name(o->cert_key_type),
                                                           .profile = o->profile},
                                pem, len, key, &stored, &err))
                report_fail(rep, NULL, err.msg);
            else
                ret = 0;
            if (stored) {
                free(rep->certificate);
                rep->certificate = stored;
            }
            free(pem);
            EVP_PKEY_free(key);
            goto out;
        }
        authz_deactivate_all(S, ord.authorizations, ord.nauthorizations);
        /* Legacy fallback (no retry-options, or they ran out). */
        if (!choose_fixable_by_other_type(X.last_problem)) {
            if (X.last_problem)
                msg_info("not trying another order: %s is not a failure another challenge type could fix",
                         X.last_problem);
            goto out;
        }
        bool other = false;
        for (size_t i = 0; i < X.nids && !other; i++)
            for (size_t t = 0; t < ids[i].noffered && !other; t++) {
                const char *ty = ids[i].offered[t];
                bool pref = false;
                for (size_t p = 0; p < o->nchallenges; p++)
                    pref |= !strcmp(o->challenges[p], ty);
                other = ids[i].nfailed && pref && !strv_contains(ids[i].failed, ids[i].nfailed, ty) &&
                        solvers_have(S->sol, ty);
            }
        if (!other) {
            msg_info("not trying another order: no solver for another offered challenge type");
            goto out;
        }
        if (n + 1 < max_orders) {
            msg_info("legacy fallback: a new order skipping the failed types (%d of at most %d)",
                     n + 2, max_orders);
            /* The new order's outcome decides the result, not this one's. */
            report_forget_error(rep);
        }
    }
out:
    for (size_t i = 0; i < rep->nnames; i++) {
        strv_free(ids[i].failed, ids[i].nfailed);
        strv_free(ids[i].offered, ids[i].noffered);
    }
    free(ids);
    free(X.last_problem);
    acme_order_clear(&ord);
    acme_resp_clear(&r);
    return ret;
}

int flow_issue(const aro_opts *o)
{
    session S;
    report rep = {.result = "failed"};
    for (size_t i = 0; i < o->nnames; i++)
        strv_push(&rep.names, &rep.nnames, o->names[i]);
    if (session_open(&S, o, &rep) || session_account(&S, ACCOUNT_ENSURE, NULL, &rep))
        goto out;
    session_start_solvers(&S);
    if (issue_names(&S, &rep, NULL) == 0) {
        rep.result = "issued";
        msg_info("issued %s: %s", rep.names[0], rep.certificate);
    }
out:
    if (!rep.certificate && !rep.err_type)
        report_error(&rep, NULL, "issuance failed");
    report_print_issue(&rep, o->json, stdout);
    int code = rep.certificate ? 0 : 2;
    report_clear(&rep);
    session_close(&S);
    return code;
}

/* ---- renewal (RFC 9773, else two thirds of the lifetime) ---------------- */

/* Due? ARI's suggested window when the CA offers renewalInfo (RFC 9773
 * 4.2: a random time in the window), else two thirds of the lifetime.
 * *use_ari says whether to send "replaces". */
static bool renewal_due(session *S, const certfiles_meta *m, bool *use_ari)
{
    time_t now = time(NULL);
    *use_ari = false;
    if (S->acme.dir.renewal_info && m->ari_id) {
        acme_resp r = {0};
        aro_err err;
        char *url = xasprintf("%s%s%s", S->acme.dir.renewal_info,
                              S->acme.dir.renewal_info[strlen(S->acme.dir.renewal_info) - 1] == '/' ? "" : "/",
                              m->ari_id);
        bool have = false, due = false;
        if (acme_get(&S->acme, url, &r, &err) == 0 && r.json) {
            yajl_val w = json_member(r.json, "suggestedWindow");
            time_t start, end;
            if (json_str(w, "start") && json_str(w, "end") &&
                time_parse_rfc3339(json_str(w, "start"), &start) == 0 &&
                time_parse_rfc3339(json_str(w, "end"), &end) == 0 && end >= start) {
                uint32_t u;
                random_bytes(&u, sizeof u);
                time_t pick = start + (time_t)((double)(end - start) * ((double)u / 4294967296.0));
                have = true;
                due = now >= pick;
                *use_ari = true;
                msg_info("%s: ARI window %s .. %s: %s", m->names[0], json_str(w, "start"),
                         json_str(w, "end"), due ? "due" : "not due");
            }
        } else {
            msg_warn("%s: ARI lookup failed (%s); using two thirds of the lifetime", m->names[0],
                     err.msg);
        }
        free(url);
        acme_resp_clear(&r);
        if (have)
            return due;
    }
    time_t at = m->not_before + (m->not_after - m->not_before) * 2 / 3;
    char when[32];
    time_format_rfc3339(at, when);
    msg_info("%s: renewal due at %s (two thirds of the lifetime)", m->names[0], when);
    return now >= at;
}

int flow_renew(const aro_opts *o)
{
    session S;
    report rep = {.result = "failed"};
    char **certs = NULL;
    size_t ncerts = 0;
    aro_err err;
    int renewed = 0, failed = 0;
    if (session_open(&S, o, &rep) || session_account(&S, ACCOUNT_EXISTING, NULL, &rep))
        goto out;
    session_start_solvers(&S);
    if (o->nnames) {
        for (size_t i = 0; i < o->nnames; i++)
            strv_push(&certs, &ncerts, o->names[i]);
    } else if (state_cert_list(S.st, &certs, &ncerts, &err)) {
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    for (size_t c = 0; c < ncerts; c++) {
        certfiles_meta m;
        if (certfiles_load(S.st, certs[c], &m, &err)) {
            report_fail(&rep, NULL, err.msg);
            failed++;
            continue;
        }
        if (m.server && strcmp(m.server, o->server)) {
            msg_info("%s: issued by %s, not %s; skipping", certs[c], m.server, o->server);
            certfiles_meta_clear(&m);
            continue;
        }
        bool ari = false;
        bool due = renewal_due(&S, &m, &ari) || o->force;
        if (due) {
            report one = {.result = "failed"};
            for (size_t i = 0; i < m.nnames; i++)
                strv_push(&one.names, &one.nnames, m.names[i]);
            msg_info("%s: renewing%s", certs[c], ari ? " (ARI, replaces)" : "");
            int rc = issue_names(&S, &one, ari ? m.ari_id : NULL);
            if (rc && ari && one.err_type && strstr(one.err_type, "alreadyReplaced")) {
                /* Someone else renewed this one: a plain order still gets ours. */
                report_forget_error(&one);
                rc = issue_names(&S, &one, NULL);
            }
            rc ? failed++ : renewed++;
            /* Merge into the run's one result. */
            report_absorb(&rep, &one);
            report_clear(&one);
        }
        for (size_t i = 0; i < m.nnames; i++)
            if (!strv_contains(rep.names, rep.nnames, m.names[i]))
                strv_push(&rep.names, &rep.nnames, m.names[i]);
        certfiles_meta_clear(&m);
    }
    rep.result = failed ? "failed" : renewed ? "renewed" : "not-due";
out:
    if (rep.err_type)
        rep.result = "failed";
    report_print_issue(&rep, o->json, stdout);
    int code = rep.err_type ? 2 : renewed ? 0 : 1;
    strv_free(certs, ncerts);
    report_clear(&rep);
    session_close(&S);
    return code;
}

/* ---- revocation (7.6) ----------------------------------------------------- */

int flow_revoke(const aro_opts *o, const char *certfile)
{
    session S;
    report rep = {0};
    aro_err err;
    acme_resp r = {0};
    char *pem = NULL, *b64 = NULL, *payload = NULL, *keyfile = NULL;
    unsigned char *der = NULL;
    X509 **certs = NULL;
    int n = 0;
    EVP_PKEY *ckey = NULL;
    size_t len;
    if (session_open(&S, o, &rep))
        goto out;
    if (!(pem = file_read_all(certfile, 1 << 20, &len, &err)) ||
        (n = x509_chain_from_pem(pem, len, &certs, &err)) <= 0) {
        if (n == 0 && pem)
            aro_err_set(&err, "%s holds no certificate", certfile);
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    int dl = i2d_X509(certs[0], &der);
    if (dl <= 0) {
        aro_err_set(&err, "%s: cannot encode the certificate", certfile);
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    b64 = b64url_encode(der, (size_t)dl);
    if (o->reason >= 0)
        payload = xasprintf("{\"certificate\":\"%s\",\"reason\":%d}", b64, o->reason);
    else
        payload = xasprintf("{\"certificate\":\"%s\"}", b64);
    if (!S.acme.dir.revoke_cert) {
        aro_err_set(&err, "the CA at %s offers no revokeCert", o->server);
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    /* 7.6: signed by the account that holds the certificate, or, without
     * an account here, by the certificate's own key (key.pem beside it). */
    char *url = NULL;
    int have = S.key ? state_account_get(S.st, o->server, &url, &err) : 1;
    if (have == 0) {
        S.acme.kid = url;
        if (acme_post(&S.acme, S.acme.dir.revoke_cert, payload, &r, &err)) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
    } else {
        free(url);
        char *slash = strrchr(certfile, '/');
        keyfile = slash ? xasprintf("%.*s/key.pem", (int)(slash - certfile), certfile)
                        : xstrdup("key.pem");
        if (!(ckey = key_load_pem(keyfile, &err))) {
            aro_err_set(&err, "no account for %s and no certificate key %s to revoke with", o->server,
                        keyfile);
            report_fail(&rep, NULL, err.msg);
            goto out;
        }
        if (acme_post_key(&S.acme, ckey, NULL, S.acme.dir.revoke_cert, payload, &r, &err)) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
    }
    msg_info("revoked %s", certfile);
out:
    rep.result = "revoked";
    report_print_simple(&rep, o->json, "certificate", certfile, NULL, stdout);
    int code = rep.err_type ? 2 : 0;
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    EVP_PKEY_free(ckey);
    OPENSSL_free(der);
    free(pem);
    free(b64);
    free(payload);
    free(keyfile);
    acme_resp_clear(&r);
    report_clear(&rep);
    session_close(&S);
    return code;
}

/* ---- list ------------------------------------------------------------------ */

int flow_list(const aro_opts *o)
{
    report rep = {0};
    aro_err err;
    char **names = NULL;
    size_t n = 0;
    state *st = state_open(o->state_dir, &err);
    if (!st || state_cert_list(st, &names, &n, &err))
        report_fail(&rep, NULL, err.msg);
    for (size_t i = 0; i < n; i++) {
        certfiles_meta m;
        if (certfiles_load(st, names[i], &m, &err))
            continue;
        report_add_cert(&rep, names[i], m.names, m.nnames, m.not_after, m.server, m.fullchain);
        certfiles_meta_clear(&m);
    }
    report_print_list(&rep, o->json, stdout);
    int code = rep.err_type ? 2 : 0;
    strv_free(names, n);
    state_close(st);
    report_clear(&rep);
    return code;
}
