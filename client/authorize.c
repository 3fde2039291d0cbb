#include "authorize.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backoff.h"
#include "interrupt.h"
#include "msg.h"
#include "status.h"
#include "strv.h"

/* An order has at most this many rounds of attempts: the first, then
 * re-enables (the CA's attemptsRemaining bounds them much sooner). */
#define AUTHORIZE_MAX_ROUNDS 16

/* One authorization of the order, across the rounds. */
typedef struct {
    const char *url;
    acme_authz a;
    ident_history *id;
    attempt at;
    acme_problem *prob;     /* the last failure */
    bool answered;          /* a first attempt was made in this order */
    bool failed;            /* given up (err says why) */
    aro_err err;
} slot;

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

/* Whether to take the offer now (choose_reenable), waiting for notBefore
 * first. 1 go; 0 stop (retry-options spent or unusable); -1 the wait would
 * be longer than --max-wait, or was interrupted (err set). */
static int offer_when_allowed(session *S, const ident_history *id, const acme_retry_options *ro,
                              bool held, aro_err *err)
{
    long wait;
    switch (choose_reenable(ro, held, time(NULL), S->o->max_wait, &wait)) {
    case REENABLE_NOW:
        break;
    case REENABLE_NO_ATTEMPTS_LEFT:
        msg_info("%s: no attempts left in the retry-options offer", id->ident);
        return 0;
    case REENABLE_MALFORMED:
        msg_warn("%s: retry-options without %s; ignoring it", id->ident,
                 held ? "challenges" : "url or challenges");
        return 0;
    case REENABLE_EXPIRED:
        msg_info("%s: the retry-options deadline has passed", id->ident);
        return 0;
    case REENABLE_TOO_LATE:
        aro_err_set(err, "%s: the CA allows a retry only in %ld s (notBefore), more than --max-wait %ld",
                    id->ident, wait, S->o->max_wait);
        return -1;
    }
    if (wait > 0) {
        msg_info("%s: waiting %ld s for retry-options notBefore", id->ident, wait);
        if (sleep_seconds((double)wait)) {
            aro_err_set(err, "%s: interrupted while waiting for notBefore", id->ident);
            return -1;
        }
    }
    return 1;
}

/* Start this round's attempt for s, if it needs one. 1 started; 0 none
 * needed or possible (s->failed says which); -1 failed now. */
static int slot_start(authz_run *X, slot *s, const char *via)
{
    if (s->a.status == AUTHZ_VALID || s->failed)
        return 0;
    /* --retry-options off: a plain RFC 8555 client, blind to offers. */
    const acme_retry_options *ro = X->S->o->retry == RETRY_OFF ? NULL : s->a.retry;
    /* Pending-hold (draft, "Pending-hold"): a failure left the
     * authorization pending with an offer; answer a challenge it lists,
     * after its notBefore. Also for a held authorization of an earlier run. */
    bool held = s->a.status == AUTHZ_PENDING && ro;
    /* Pending: nothing answered yet, or an earlier run's challenge still
     * processing; either way answer one and poll. */
    if (s->a.status == AUTHZ_PENDING && !held && !s->answered) {
        s->answered = true;
        if (attempt_start(X, &s->at, s->id, &s->a, NULL, via, &s->prob, &s->err))
            goto fail;
        return 1;
    }
    /* Held, or invalid with an offer (re-enabling, "Re-enabling"). */
    if (held || authz_may_reenable(s->a.status, ro != NULL)) {
        s->answered = true;
        int go = offer_when_allowed(X->S, s->id, ro, held, &s->err);
        if (go < 0)
            goto fail;
        if (go > 0) {
            if (attempt_start(X, &s->at, s->id, &s->a, ro, "retry-options", &s->prob, &s->err))
                goto fail;
            return 1;
        }
    }
    aro_err_set(&s->err, "%s: authorization %s is %s (%s failed: %s: %s)", s->id->ident, s->url,
                authz_status_name(s->a.status),
                s->id->nfailed ? s->id->failed[s->id->nfailed - 1] : "its challenge",
                s->prob && s->prob->type ? s->prob->type : "(no problem document)",
                s->prob && s->prob->detail ? s->prob->detail : "");
fail:
    s->failed = true;
    return -1;
}

/* Poll every live attempt's authorization until its attempt is over
 * (attempt_over: the authorization left "pending", 7.5.1, or, held, the
 * answered challenge is "invalid"; Pebble 2.4 keeps the challenge
 * "pending" while it validates, Boulder shows "processing"), then settle
 * it. Returns -1 when interrupted (the live attempts stay
 * for the caller to abandon), 0 otherwise. */
static int poll_round(authz_run *X, slot *slots, size_t n)
{
    session *S = X->S;
    time_t deadline = time(NULL) + ACME_POLL_DEADLINE_SECONDS, next_note = time(NULL) + 10;
    size_t total = 0, valid = 0;
    long first_wait = -1;
    for (size_t i = 0; i < n; i++) {
        total += slots[i].id != NULL;
        valid += slots[i].a.status == AUTHZ_VALID && !slots[i].at.live;
        if (slots[i].at.live && slots[i].at.poll_after > first_wait)
            first_wait = slots[i].at.poll_after;
    }
    /* 7.5.1: the answers' Retry-After says when to look first. */
    if (first_wait > 0)
        sleep_seconds((double)(first_wait < S->o->max_wait ? first_wait : S->o->max_wait));
    for (unsigned round = 0;; round++) {
        acme_resp r = {0}, last = {0};
        size_t live = 0;
        for (size_t i = 0; i < n; i++) {
            slot *s = &slots[i];
            if (!s->at.live)
                continue;
            if (authz_fetch(S, s->url, &s->a, &r, &s->err)) {
                s->failed = true;
                attempt_abandon(X, &s->at);
                continue;
            }
            if (!attempt_over(&s->at, &s->a)) {
                live++;
                acme_resp_clear(&last);
                last = r;
                memset(&r, 0, sizeof r);
                continue;
            }
            if (attempt_settle(X, &s->at, &s->a, &s->prob) && total > 1)
                msg_info("%s: %zu of %zu names valid", s->id->ident, ++valid, total);
        }
        acme_resp_clear(&r);
        if (!live) {
            acme_resp_clear(&last);
            return 0;
        }
        if (interrupt_stop() || time(NULL) > deadline) {
            for (size_t i = 0; i < n; i++)
                if (slots[i].at.live && !interrupt_stop()) {
                    aro_err_set(&slots[i].err, "authorization %s for %s still pending after %d s",
                                slots[i].url, slots[i].id->ident, ACME_POLL_DEADLINE_SECONDS);
                    slots[i].failed = true;
                    attempt_abandon(X, &slots[i].at);
                }
            acme_resp_clear(&last);
            return interrupt_stop() ? -1 : 0;
        }
        if (time(NULL) >= next_note && live > 1) {
            aro_buf b = {0};
            for (size_t i = 0; i < n; i++)
                if (slots[i].at.live)
                    buf_printf(&b, "%s%s (%s)", b.len ? ", " : "", slots[i].id->ident,
                               slots[i].at.ch.type);
            msg_info("waiting for the CA to validate %s", b.data);
            buf_free(&b);
            next_note = time(NULL) + 30;
        }
        /* One wait for all: the Retry-After of a pending one, else backoff. */
        double w = acme_poll_wait(&S->acme, &last, round);
        msg_debug(1, "%zu authorization(s) pending, waited %.1f s", live, w);
        acme_resp_clear(&last);
    }
}

void authorize_deactivate(authz_run *X, char *const *urls, size_t n)
{
    session *S = X->S;
    if (S->o->deactivate == DEACTIVATE_NONE)
        return;
    for (size_t i = 0; i < n; i++) {
        acme_authz a = {0};
        acme_resp r = {0};
        aro_err err;
        /* An invalid authorization with an offer too (draft,
         * "Deactivation": it withdraws the offer aro will not take);
         * never under --retry-options off, a plain RFC 8555 client. */
        if (authz_fetch(S, urls[i], &a, &r, &err) == 0 &&
            (a.status == AUTHZ_PENDING ||
             (a.status == AUTHZ_INVALID && a.retry && S->o->retry != RETRY_OFF) ||
             (a.status == AUTHZ_VALID && S->o->deactivate == DEACTIVATE_ALL))) {
            if (acme_post(&S->acme, urls[i], "{\"status\":\"deactivated\"}", &r, &err)) {
                msg_warn("deactivating %s: %s", urls[i], err.msg);
            } else {
                char *what = xasprintf("deactivated the authorization %s for %s", urls[i],
                                       a.identifier.value ? a.identifier.value : "?");
                msg_info("%s", what);
                if (interrupt_signal())
                    report_add_cleanup(X->rep, what);
                free(what);
            }
        }
        acme_authz_clear(&a);
        acme_resp_clear(&r);
    }
}

/* The authorizations urls[0..n), rounds of attempts until each is valid or
 * given up. together: an order's, which succeed or fail as one (once one
 * is given up no new attempts start, the failure goes to the report and
 * the authorizations are deactivated); otherwise each on its own
 * (pre-authorizations), with its outcome in res[i] and nothing reported
 * or deactivated but after an interrupt. 0 all valid; -1 otherwise. */
static int authorize_set(authz_run *X, char *const *urls, size_t n, const char *via, bool together,
                         authz_result *res)
{
    session *S = X->S;
    slot *slots = xcalloc(n ? n : 1, sizeof *slots);
    slot *first_failed = NULL;
    acme_resp r = {0};
    int ret = -1;
    for (size_t i = 0; i < n; i++) {
        slot *s = &slots[i];
        s->url = urls[i];
        if (authz_fetch(S, s->url, &s->a, &r, &s->err)) {
            s->failed = true;
        } else if (!(s->id = ident_of(X, &s->a))) {
            aro_err_set(&s->err, "authorization %s is for %s, which aro did not ask for", s->url,
                        s->a.identifier.value ? s->a.identifier.value : "(nothing)");
            s->failed = true;
        }
        if (s->failed && together)
            goto give_up;
        if (s->failed)
            continue;
        for (size_t k = 0; k < s->a.nchallenges; k++)
            if (!strv_contains(s->id->offered, s->id->noffered, s->a.challenges[k].type))
                strv_push(&s->id->offered, &s->id->noffered, s->a.challenges[k].type);
        if (s->a.status == AUTHZ_VALID)
            msg_info("%s: authorization already valid", s->id->ident);
    }
    for (int round = 0; round < AUTHORIZE_MAX_ROUNDS; round++) {
        /* Provision and answer every one that needs an attempt, then poll
         * them together. Once one of an order's is given up the order
         * cannot succeed: no new attempts. */
        size_t started = 0;
        bool given_up = false;
        for (size_t i = 0; i < n && together; i++)
            given_up |= slots[i].failed;
        for (size_t i = 0; i < n && !given_up && !interrupt_stop(); i++) {
            int rc = slot_start(X, &slots[i], via);
            started += rc > 0;
            given_up |= rc < 0 && together;
        }
        if (interrupt_stop() || (started && poll_round(X, slots, n)))
            goto give_up;
        if (!started || given_up)
            break;
    }
    ret = 0;
    for (size_t i = 0; i < n; i++)
        if (slots[i].a.status != AUTHZ_VALID) {
            if (!slots[i].failed) {
                aro_err_set(&slots[i].err, "%s: authorization %s is still %s",
                            slots[i].id ? slots[i].id->ident : "?", slots[i].url,
                            authz_status_name(slots[i].a.status));
                slots[i].failed = true;
            }
            ret = -1;
        }
    if (ret == 0 || !together)
        goto out;
give_up:
    ret = -1;
    if (interrupt_signal())
        interrupt_cleanup_begin();
    for (size_t i = 0; i < n; i++) {
        attempt_abandon(X, &slots[i].at);
        if (slots[i].failed && !first_failed)
            first_failed = &slots[i];
        else if (slots[i].failed && !interrupt_signal())
            msg_info("%s", slots[i].err.msg);
    }
    free(X->last_problem);
    X->last_problem = NULL;
    if (first_failed && together) {
        const acme_problem *p = first_failed->prob ? first_failed->prob : r.problem;
        if (p && p->type)
            X->last_problem = xstrdup(problem_short_type(p->type));
        report_fail(X->rep, p, first_failed->err.msg);
    } else if (interrupt_signal()) {
        report_error(X->rep, "aro:interrupted", "interrupted while authorizing");
    }
    authorize_deactivate(X, (char *const *)urls, n);
out:
    for (size_t i = 0; i < n; i++) {
        if (res) {
            res[i].valid = slots[i].a.status == AUTHZ_VALID && !slots[i].failed;
            res[i].prob = slots[i].prob;
            res[i].err = slots[i].err;
            slots[i].prob = NULL;
        }
        acme_authz_clear(&slots[i].a);
        problem_free(slots[i].prob);
    }
    free(slots);
    acme_resp_clear(&r);
    return ret;
}

int authorize_order(authz_run *X, const acme_order *ord, const char *via)
{
    X->order_url = ord->url;
    return authorize_set(X, ord->authorizations, ord->nauthorizations, via, true, NULL);
}

int authorize_each(authz_run *X, char *const *urls, size_t n, const char *via, authz_result *res)
{
    X->order_url = NULL;
    return authorize_set(X, urls, n, via, false, res);
}
