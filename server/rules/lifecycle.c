#include "rules/lifecycle.h"

#include <stdlib.h>
#include <string.h>

#include "rules/limits.h"
#include "rules/new_order.h"
#include "rules/offer.h"

/* ---- the one place each kind of status is assigned ---- */

static bool account_apply(rec_account *a, account_event ev)
{
    account_status to;
    if (!account_transition(a->status, ev, &to))
        return false;
    a->status = to;
    return true;
}

static bool chall_apply(rec_chall *c, chall_event ev)
{
    chall_status to;
    if (!chall_transition(c->status, ev, &to))
        return false;
    c->status = to;
    return true;
}

/* From the status as of now: an expired authorization takes no event but
 * those the expired state allows (none). */
static bool authz_apply(rec_authz *a, authz_event ev, time_t now)
{
    authz_status to;
    if (!authz_transition(authz_status_at(a->status, a->expires, now), ev, &to))
        return false;
    a->status = to;
    return true;
}

static bool order_apply(rec_order *o, order_event ev, time_t now)
{
    order_status to;
    if (!order_transition(order_status_at(o->status, o->expires, now), ev, &to))
        return false;
    o->status = to;
    return true;
}

/* ---- accounts ---- */

int lifecycle_account_create(store_txn *t, rec_account *a)
{
    a->status = ACCOUNT_VALID;
    return repo_account_create(t, a);
}

int lifecycle_account_deactivate(store_txn *t, rec_account *a)
{
    if (!account_apply(a, ACCOUNT_EV_DEACTIVATE))
        return 1;
    return repo_account_save(t, a);
}

/* ---- orders follow their authorizations ---- */

/* Statuses of o's authorizations as of now, taking a's from memory (it
 * may not be written yet). */
static int statuses_of(store_txn *t, const rec_order *o, const rec_authz *a, time_t now, authz_status *out)
{
    for (size_t i = 0; i < o->nauthz; i++) {
        if (strcmp(o->authz_ids[i], a->id) == 0) {
            out[i] = authz_status_at(a->status, a->expires, now);
            continue;
        }
        rec_authz other;
        if (repo_authz_get(t, o->authz_ids[i], &other) != 0)
            return -1;
        out[i] = authz_status_at(other.status, other.expires, now);
        rec_authz_clear(&other);
    }
    return 0;
}

static void add_failure_subproblem(rec_order *o, const rec_authz *a, const acme_problem *cause)
{
    if (!o->error) {
        /* "failed" only for a failure: a deactivated or expired one says so. */
        authz_status st = a->status;
        o->error = problem_new(cause ? problem_short_type(cause->type) : "unauthorized", 0,
                               "authorization for %s %s", a->identifier.value,
                               st == AUTHZ_INVALID ? "failed" : authz_status_name(st));
    } else {
        free(o->error->detail);
        o->error->detail = xasprintf("%zu authorizations failed", o->error->nsub + 1);
    }
    problem_add_sub(o->error, cause ? cause->type : "unauthorized", a->identifier.type, a->identifier.value,
                    cause && cause->detail ? cause->detail : "authorization failed");
}

/* The order's error names the authorizations that keep it invalid: a's
 * failure leaves it when a is re-enabled, and the top level follows what
 * is left (its type, "authorization for NAME failed" or "N ... failed"). */
static void drop_subproblem_of(rec_order *o, const rec_authz *a)
{
    acme_problem *e = o->error;
    for (size_t j = 0; e && j < e->nsub; j++) {
        acme_problem *sp = &e->subproblems[j];
        if (sp->identifier.value && strcmp(sp->identifier.value, a->identifier.value) == 0) {
            problem_clear(sp);
            memmove(sp, sp + 1, (e->nsub - j - 1) * sizeof(*sp));
            e->nsub--;
            break;
        }
    }
    if (!e || e->nsub == 0)
        return;
    free(e->type);
    e->type = xstrdup(e->subproblems[0].type);
    free(e->detail);
    e->detail = e->nsub == 1 ? xasprintf("authorization for %s failed", e->subproblems[0].identifier.value)
                             : xasprintf("%zu authorizations failed", e->nsub);
}

/* The orders of a after a's status changed (7.1.6): each takes the event
 * its authorizations now cause; an invalid order records why (a failed
 * authorization can be re-enabled, a deactivated, expired or revoked one
 * cannot) and names every failed identifier in its error. */
static int orders_follow(store_txn *t, const rec_authz *a, time_t now, const acme_problem *cause)
{
    char **ids;
    size_t n;
    if (repo_orders_using_authz(t, a, &ids, &n) < 0)
        return -1;
    int ret = 0;
    authz_status mine = authz_status_at(a->status, a->expires, now);
    for (size_t i = 0; i < n && ret == 0; i++) {
        rec_order o;
        if (repo_order_get(t, ids[i], &o) != 0)
            continue; /* an order id of a deleted order: nothing to follow */
        authz_status *st = xcalloc(o.nauthz + 1, sizeof(*st));
        order_status was = o.status;
        order_event ev;
        if (statuses_of(t, &o, a, now, st) < 0)
            ret = -1;
        else if (order_event_from_authzs(st, o.nauthz, &ev) && order_apply(&o, ev, now) &&
                 o.status == ORDER_INVALID) {
            o.invalid_reason = mine == AUTHZ_INVALID ? INVALID_AUTHZ : INVALID_AUTHZ_FINAL;
            add_failure_subproblem(&o, a, cause);
        } else if (was == ORDER_INVALID && o.invalid_reason == INVALID_AUTHZ) {
            if (mine == AUTHZ_INVALID && cause)
                add_failure_subproblem(&o, a, cause); /* another of its names failed */
            else if (mine != AUTHZ_INVALID && mine != AUTHZ_VALID && mine != AUTHZ_PENDING)
                o.invalid_reason = INVALID_AUTHZ_FINAL; /* deactivated: no way back */
        }
        if (ret == 0 && repo_order_save(t, &o) < 0)
            ret = -1;
        free(st);
        rec_order_clear(&o);
    }
    strv_free(ids, n);
    return ret;
}

/* After a was re-enabled: its orders that may come back and have no
 * unusable authorization left go back to pending with their error
 * cleared; the others forget a's failure in their error. */
static int orders_come_back(store_txn *t, const rec_authz *a, time_t now)
{
    char **ids;
    size_t n;
    if (repo_orders_using_authz(t, a, &ids, &n) < 0)
        return -1;
    int ret = 0;
    for (size_t i = 0; i < n && ret == 0; i++) {
        rec_order o;
        if (repo_order_get(t, ids[i], &o) != 0)
            continue;
        if (order_may_come_back(&o, now)) {
            authz_status *st = xcalloc(o.nauthz + 1, sizeof(*st));
            bool usable = statuses_of(t, &o, a, now, st) == 0;
            for (size_t j = 0; usable && j < o.nauthz; j++)
                usable = st[j] == AUTHZ_PENDING || st[j] == AUTHZ_VALID;
            if (usable && order_apply(&o, ORDER_EV_REENABLE, now)) {
                o.invalid_reason = INVALID_NONE;
                problem_free(o.error);
                o.error = NULL;
                if (o.replaces && repo_cert_claim(t, o.replaces, o.id) < 0)
                    ret = -1;
            } else {
                drop_subproblem_of(&o, a);
            }
            if (repo_order_save(t, &o) < 0)
                ret = -1;
            free(st);
        }
        rec_order_clear(&o);
    }
    strv_free(ids, n);
    return ret;
}

const char *lifecycle_replacement_taken(store_txn *t, const rec_cert *c, const char *order_id, time_t now)
{
    if (c->replaced_by[0] && strcmp(c->replaced_by, order_id) != 0)
        return "the certificate was already replaced by another order";
    if (!c->claimed_by[0] || strcmp(c->claimed_by, order_id) == 0)
        return NULL;
    rec_order other;
    if (repo_order_get(t, c->claimed_by, &other) != 0)
        return NULL; /* the claiming order is gone */
    bool live = lifecycle_order_as_of(t, &other, now) == 0 &&
                order_status_at(other.status, other.expires, now) != ORDER_INVALID;
    rec_order_clear(&other);
    return live ? "another order that is not invalid already replaces the certificate" : NULL;
}

bool lifecycle_reenable_conflicts_with_replacement(store_txn *t, const rec_authz *a, time_t now)
{
    char **ids;
    size_t n;
    bool taken = false;
    if (repo_orders_using_authz(t, a, &ids, &n) < 0)
        return false;
    for (size_t i = 0; i < n && !taken; i++) {
        rec_order o;
        if (repo_order_get(t, ids[i], &o) != 0)
            continue;
        rec_cert c;
        if (order_may_come_back(&o, now) && o.replaces && repo_cert_by_ari_id(t, o.replaces, &c) == 0) {
            taken = lifecycle_replacement_taken(t, &c, o.id, now) != NULL;
            rec_cert_clear(&c);
        }
        rec_order_clear(&o);
    }
    strv_free(ids, n);
    return taken;
}

/* ---- creation ---- */

int lifecycle_authz_create(const server_config *cfg, store_txn *t, rec_authz *a, time_t now,
                           unsigned *challs_created)
{
    const char *types[3];
    size_t n = order_challenge_types(&a->identifier, a->wildcard, types);
    a->status = AUTHZ_PENDING;
    a->created = now;
    a->expires = now + cfg->authz_pending_lifetime;
    if (repo_authz_create(t, a, types, n) < 0)
        return -1;
    *challs_created += (unsigned)n;
    return 0;
}

int lifecycle_order_create(store_txn *t, rec_order *o, const authz_status *statuses, size_t n)
{
    o->status = ORDER_PENDING;
    /* Reused valid authorizations can make the order ready at once. */
    order_event ev;
    if (order_event_from_authzs(statuses, n, &ev))
        order_apply(o, ev, o->created);
    if (o->replaces && repo_cert_claim(t, o->replaces, o->id) < 0)
        return -1;
    return repo_order_create(t, o);
}

/* ---- attempts ---- */

/* Attempt bookkeeping: attempts are numbered so that a late result of an
 * older attempt never overwrites a newer one. */
static void attempt_starts(rec_authz *a, const rec_chall *c, bool by_reenable)
{
    a->last_by_reenable = by_reenable;
    a->attempts++;
    a->attempt_seq++;
    snprintf(a->active_chall_id, sizeof(a->active_chall_id), "%s", c->id);
    snprintf(a->last_chall_id, sizeof(a->last_chall_id), "%s", c->id);
    /* A fresh challenge joins the list when used; unchosen ones stay in
     * reserve for a later offer. */
    if (strv_contains(a->offer_chall_ids, a->noffer, c->id)) {
        strv_push(&a->chall_ids, &a->nchall, c->id);
        strv_remove(a->offer_chall_ids, &a->noffer, c->id);
    }
    a->offer_made = false; /* the offer is taken up; the next failure decides anew */
}

int lifecycle_challenge_respond(store_txn *t, rec_authz *a, rec_chall *c, time_t now)
{
    if (authz_status_at(a->status, a->expires, now) != AUTHZ_PENDING || !chall_apply(c, CHALL_EV_RESPOND))
        return 1;
    attempt_starts(a, c, false);
    if (repo_chall_save(t, c) < 0 || repo_authz_save(t, a) < 0)
        return -1;
    return 0;
}

int lifecycle_reenable(store_txn *t, rec_authz *a, rec_chall *c, time_t now)
{
    if (c->status != CHALL_PENDING || !authz_apply(a, AUTHZ_EV_REENABLE, now) ||
        !chall_apply(c, CHALL_EV_REENABLE))
        return 1;
    attempt_starts(a, c, true);
    if (repo_chall_save(t, c) < 0 || repo_authz_save(t, a) < 0 || orders_come_back(t, a, now) < 0)
        return -1;
    return 0;
}

/* A challenge whose attempt will not be completed ends invalid: its
 * authorization went away (deactivated, expired) while it was processing.
 * The result of the attempt, if it comes, is discarded as stale. */
static int attempt_abandoned(store_txn *t, const char *chall_id, const char *why)
{
    rec_chall c;
    int rc = repo_chall_get(t, chall_id, &c);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (chall_apply(&c, CHALL_EV_FAIL)) {
        problem_free(c.error);
        c.error = problem_new("unauthorized", 0, "%s while this challenge was processing; the result of the "
                              "validation was discarded", why);
        rc = repo_chall_save(t, &c);
    }
    rec_chall_clear(&c);
    return rc;
}

int lifecycle_authz_deactivate(store_txn *t, rec_authz *a, time_t now)
{
    /* RFC 8555 7.1.6 deactivates only pending and valid authorizations;
     * the draft (Deactivation) adds an invalid one that carries an offer,
     * to withdraw it. An invalid one without an offer stays final. */
    if (authz_status_at(a->status, a->expires, now) == AUTHZ_INVALID && !a->offer_made)
        return 1;
    if (!authz_apply(a, AUTHZ_EV_DEACTIVATE, now))
        return 1;
    a->offer_made = false; /* deactivation withdraws any retry offer */
    if (a->active_chall_id[0] && attempt_abandoned(t, a->active_chall_id, "the authorization was deactivated") < 0)
        return -1;
    a->active_chall_id[0] = 0;
    acme_problem *why = problem_new("unauthorized", 0, "the authorization for %s was deactivated",
                                    a->identifier.value);
    int rc = repo_authz_save(t, a) < 0 || orders_follow(t, a, now, why) < 0 ? -1 : 0;
    problem_free(why);
    return rc;
}

/* ---- validation results ---- */

/* The facts a failure leaves for the retry policy and the limit: when,
 * which type, which problem, the dns-01 negative-caching time, and the
 * types CAA excludes now, and whether multi-perspective corroboration
 * failed. */
static int remember_failure(const server_config *cfg, store_txn *t, rec_authz *a, const rec_chall *c,
                            const va_result *res, char *const *caa_excluded, size_t ncaa_excluded, time_t now)
{
    a->failures = xrealloc(a->failures, (a->nfailures + 1) * sizeof(*a->failures));
    rec_failure *f = &a->failures[a->nfailures++];
    memset(f, 0, sizeof(*f));
    f->at = now;
    snprintf(f->chall_type, sizeof(f->chall_type), "%s", c->type);
    snprintf(f->problem_type, sizeof(f->problem_type), "%s", problem_short_type(c->error->type));
    f->dns_negative_ttl = res->dns_negative_ttl;
    f->corroboration = res->corroboration_failed;
    strv_free(a->caa_excluded, a->ncaa_excluded);
    a->caa_excluded = NULL;
    a->ncaa_excluded = 0;
    for (size_t i = 0; i < ncaa_excluded; i++)
        strv_push(&a->caa_excluded, &a->ncaa_excluded, caa_excluded[i]);
    return limit_failed_validation_record(cfg, t, a->account_id, &a->identifier, now);
}

/* The offer decided at the failure, with its fresh same-type challenges;
 * *outcome what becomes of the authorization (rules/offer.c). */
static int decide_after_failure(const server_config *cfg, store_txn *t, rec_authz *a, time_t now,
                                unsigned *created, failure_outcome *outcome)
{
    const char *reason = NULL;
    free(a->no_offer_reason);
    a->no_offer_reason = NULL;
    a->offer_made = offer_at_failure(cfg, a, a->failures[a->nfailures - 1].problem_type, now, &reason);
    if (!a->offer_made)
        a->no_offer_reason = xstrdup(reason);
    authz_view v;
    if (repo_authz_view_of(t, a, &v) < 0)
        return -1;
    const char *types[8];
    size_t n = a->offer_made ? offer_fresh_types(cfg, &v, types, 8) : 0;
    *outcome = offer_after_failure(cfg, &v, n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char id[ID_LEN];
        rc = repo_chall_create(t, a->id, types[i], id);
        if (rc == 0) {
            strv_push(&a->offer_chall_ids, &a->noffer, id);
            (*created)++;
        }
    }
    authz_view_clear(&v);
    return rc;
}

/* failureMode processing: the challenges kept processing end (invalid,
 * their error kept) when their authorization does, valid or invalid. */
static int end_kept_challenges(store_txn *t, const rec_authz *a, const char *except)
{
    for (size_t i = 0; i < a->nchall; i++) {
        rec_chall k;
        if (strcmp(a->chall_ids[i], except) == 0 || repo_chall_get(t, a->chall_ids[i], &k) != 0)
            continue;
        int rc = chall_apply(&k, CHALL_EV_FAIL) ? repo_chall_save(t, &k) : 0;
        rec_chall_clear(&k);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Applies a failure to c and a as the outcome says. */
static bool apply_failure(rec_authz *a, rec_chall *c, failure_outcome outcome, time_t now)
{
    switch (outcome) {
    case FAILURE_HELD:
    case FAILURE_UNTRIED_LEFT:
        return chall_apply(c, CHALL_EV_FAIL) && authz_apply(a, AUTHZ_EV_CHALLENGE_FAILED_KEPT, now);
    case FAILURE_KEPT_PROCESSING:
        return chall_apply(c, CHALL_EV_RETRY) && authz_apply(a, AUTHZ_EV_CHALLENGE_FAILED_KEPT, now);
    case FAILURE_ENDS_AUTHZ:
        break;
    }
    return chall_apply(c, CHALL_EV_FAIL) && authz_apply(a, AUTHZ_EV_CHALLENGE_INVALID, now);
}

int lifecycle_validation_result(const server_config *cfg, store_txn *t, const char *authz_id,
                                const char *chall_id, unsigned seq, va_result *res,
                                char *const *caa_excluded, size_t ncaa_excluded, time_t now,
                                validation_applied *out)
{
    rec_authz a;
    rec_chall c;
    memset(out, 0, sizeof(*out));
    int rc = repo_authz_get(t, authz_id, &a);
    if (rc != 0)
        return rc;
    if (a.attempt_seq != seq || strcmp(a.active_chall_id, chall_id) != 0) {
        rec_authz_clear(&a);
        return 1; /* stale: a newer attempt or a deactivation came first */
    }
    if (repo_chall_get(t, chall_id, &c) != 0) {
        rec_authz_clear(&a);
        return 1;
    }
    rc = 1;
    if (c.status != CHALL_PROCESSING)
        goto out; /* stale: not processing */
    bool was_reenabled = a.nfailures > 0;
    if (authz_status_at(a.status, a.expires, now) == AUTHZ_EXPIRED) {
        /* Too late: the result cannot revive an expired authorization
         * (7.1.6: expired is final), and the attempt ends here. */
        snprintf(out->chall_type, sizeof(out->chall_type), "%s", c.type);
        out->too_late = true;
        a.active_chall_id[0] = 0;
        rc = attempt_abandoned(t, c.id, "the authorization expired") < 0 || repo_authz_save(t, &a) < 0 ? -1 : 0;
        goto out;
    }
    if (authz_status_at(a.status, a.expires, now) != AUTHZ_PENDING)
        goto out; /* stale: the authorization is no longer pending */
    free(c.record_json);
    c.record_json = res->record_json;
    res->record_json = NULL;
    a.active_chall_id[0] = 0;
    snprintf(out->chall_type, sizeof(out->chall_type), "%s", c.type);
    failure_outcome outcome = FAILURE_ENDS_AUTHZ;
    rc = -1;
    if (res->valid) {
        if (!chall_apply(&c, CHALL_EV_SUCCEED) || !authz_apply(&a, AUTHZ_EV_CHALLENGE_VALID, now))
            goto out;
        if (cfg->failure_mode == FAILURE_PROCESSING && end_kept_challenges(t, &a, c.id) < 0)
            goto out;
        c.validated = now;
        /* 7.1.4: a valid authorization carries its (longer) expiry. */
        a.expires = now + cfg->authz_valid_lifetime;
    } else {
        c.error = res->problem;
        res->problem = NULL;
        if (!c.error)
            c.error = problem_new("serverInternal", 0, "validation failed without a reason");
        if (remember_failure(cfg, t, &a, &c, res, caa_excluded, ncaa_excluded, now) < 0 ||
            decide_after_failure(cfg, t, &a, now, &out->challs_created, &outcome) < 0 ||
            !apply_failure(&a, &c, outcome, now))
            goto out;
        if (cfg->failure_mode == FAILURE_PROCESSING && outcome == FAILURE_ENDS_AUTHZ &&
            end_kept_challenges(t, &a, c.id) < 0)
            goto out;
    }
    if (repo_chall_save(t, &c) < 0 || repo_authz_save(t, &a) < 0 ||
        orders_follow(t, &a, now, res->valid || outcome != FAILURE_ENDS_AUTHZ ? NULL : c.error) < 0)
        goto out;
    out->reenabled_ended = was_reenabled && (res->valid || !a.offer_made);
    out->ended_valid = res->valid;
    rc = 0;
out:
    rec_chall_clear(&c);
    rec_authz_clear(&a);
    return rc;
}

/* ---- orders as of now ---- */

int lifecycle_order_as_of(store_txn *t, rec_order *o, time_t now)
{
    order_status st = order_status_at(o->status, o->expires, now);
    if (st != ORDER_PENDING && st != ORDER_READY)
        return 0;
    authz_status *sts = xcalloc(o->nauthz + 1, sizeof(*sts));
    rec_authz *azs = xcalloc(o->nauthz + 1, sizeof(*azs));
    size_t loaded = 0;
    int ret = 0;
    while (loaded < o->nauthz) {
        if (repo_authz_get(t, o->authz_ids[loaded], &azs[loaded]) != 0) {
            ret = -1;
            break;
        }
        sts[loaded] = authz_status_at(azs[loaded].status, azs[loaded].expires, now);
        loaded++;
    }
    order_event ev;
    if (ret == 0 && order_event_from_authzs(sts, o->nauthz, &ev) && order_apply(o, ev, now) &&
        o->status == ORDER_INVALID) {
        o->invalid_reason = INVALID_AUTHZ_FINAL;
        for (size_t i = 0; i < o->nauthz; i++) {
            if (sts[i] == AUTHZ_VALID || sts[i] == AUTHZ_PENDING)
                continue;
            acme_problem *cause = problem_new("unauthorized", 0, "the authorization for %s is %s",
                                              azs[i].identifier.value, authz_status_name(sts[i]));
            add_failure_subproblem(o, &azs[i], cause);
            problem_free(cause);
        }
    }
    for (size_t i = 0; i < loaded; i++)
        rec_authz_clear(&azs[i]);
    free(azs);
    free(sts);
    return ret;
}

/* ---- finalization ---- */

int lifecycle_order_finalize(store_txn *t, rec_order *o, const char *csr_b64, time_t now)
{
    if (lifecycle_order_as_of(t, o, now) < 0)
        return -1;
    if (!order_apply(o, ORDER_EV_FINALIZE, now))
        return 1;
    o->finalize_at = now;
    free(o->csr);
    o->csr = xstrdup(csr_b64);
    return repo_order_save(t, o);
}

int lifecycle_order_issued(store_txn *t, rec_order *o, const rec_cert *cert, time_t now)
{
    if (!order_apply(o, ORDER_EV_ISSUED, now))
        return 1;
    if (repo_cert_create(t, cert) < 0)
        return -1;
    /* RFC 9773 5: the replaced certificate is now consumed. */
    rec_cert old;
    if (o->replaces && repo_cert_by_ari_id(t, o->replaces, &old) == 0) {
        snprintf(old.replaced_by, sizeof(old.replaced_by), "%s", o->id);
        int rc = repo_cert_save(t, &old);
        rec_cert_clear(&old);
        if (rc < 0)
            return -1;
    }
    free(o->cert_serial);
    o->cert_serial = xstrdup(cert->serial);
    free(o->csr);
    o->csr = NULL;
    return repo_order_save(t, o);
}

int lifecycle_order_issue_failed(store_txn *t, rec_order *o, acme_problem *why, time_t now)
{
    if (!order_apply(o, ORDER_EV_ISSUE_FAILED, now)) {
        problem_free(why);
        return 1;
    }
    o->invalid_reason = INVALID_ISSUANCE;
    problem_free(o->error);
    o->error = why;
    free(o->csr);
    o->csr = NULL;
    return repo_order_save(t, o);
}
