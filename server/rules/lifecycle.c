#include "rules/lifecycle.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "rules/policy.h"

/* Statuses of o's authorizations, taking a's from memory. */
static int authz_statuses(store_txn *t, const rec_order *o, const rec_authz *a, time_t now,
                          authz_status *out)
{
    for (size_t i = 0; i < o->nauthz; i++) {
        if (strcmp(o->authz_ids[i], a->id) == 0) {
            out[i] = authz_effective_status(a, now);
            continue;
        }
        rec_authz other;
        if (db_get_authz(t, o->authz_ids[i], &other) != 0)
            return -1;
        out[i] = authz_effective_status(&other, now);
        rec_authz_clear(&other);
    }
    return 0;
}

static void add_failure_subproblem(rec_order *o, const rec_authz *a, const acme_problem *cause)
{
    if (!o->error) {
        o->error = problem_new(cause ? problem_short_type(cause->type) : "unauthorized", 0,
                               "authorization for %s failed", a->identifier.value);
    } else {
        free(o->error->detail);
        o->error->detail = xasprintf("%zu authorizations failed", o->error->nsub + 1);
    }
    problem_add_sub(o->error, cause ? cause->type : "unauthorized", a->identifier.type,
                    a->identifier.value, cause && cause->detail ? cause->detail : "authorization failed");
}

int orders_follow_authz(server *srv, store_txn *t, const rec_authz *a, time_t now,
                        const acme_problem *cause)
{
    (void)srv;
    for (size_t i = 0; i < a->norders; i++) {
        rec_order o;
        if (db_get_order(t, a->order_ids[i], &o) != 0)
            continue; /* an order id of a deleted order: nothing to follow */
        authz_status *st = xcalloc(o.nauthz + 1, sizeof(*st));
        int rc = authz_statuses(t, &o, a, now, st);
        order_status was = o.status;
        order_status next = rc == 0 ? order_status_from_authzs(o.status, st, o.nauthz) : o.status;
        authz_status mine = authz_effective_status(a, now);
        if (next != was && next == ORDER_INVALID) {
            o.invalid_reason = mine == AUTHZ_INVALID ? INVALID_AUTHZ : INVALID_AUTHZ_FINAL;
            add_failure_subproblem(&o, a, cause);
        } else if (was == ORDER_INVALID && o.invalid_reason == INVALID_AUTHZ && mine == AUTHZ_INVALID &&
                   cause) {
            /* Another authorization of an already invalid order failed:
             * record it, so the order's error names every failed name. */
            add_failure_subproblem(&o, a, cause);
        } else if (was == ORDER_INVALID && o.invalid_reason == INVALID_AUTHZ &&
                   mine != AUTHZ_INVALID && mine != AUTHZ_VALID && mine != AUTHZ_PENDING) {
            o.invalid_reason = INVALID_AUTHZ_FINAL; /* deactivated: no way back */
        }
        o.status = next;
        if (rc == 0)
            rc = db_put_order(t, &o);
        free(st);
        rec_order_clear(&o);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int orders_reenable(server *srv, store_txn *t, const rec_authz *a, time_t now)
{
    (void)srv;
    int changed = 0;
    for (size_t i = 0; i < a->norders; i++) {
        rec_order o;
        if (db_get_order(t, a->order_ids[i], &o) != 0)
            continue;
        order_status next;
        if (o.status == ORDER_INVALID && o.invalid_reason == INVALID_AUTHZ && now < o.expires &&
            order_transition(o.status, ORDER_EV_REENABLE, &next)) {
            authz_status *st = xcalloc(o.nauthz + 1, sizeof(*st));
            bool usable = authz_statuses(t, &o, a, now, st) == 0;
            for (size_t j = 0; usable && j < o.nauthz; j++)
                if (st[j] != AUTHZ_PENDING && st[j] != AUTHZ_VALID)
                    usable = false; /* "only when no authorization is invalid" */
            if (usable) {
                o.status = next;
                o.invalid_reason = INVALID_NONE;
                problem_free(o.error);
                o.error = NULL;
                if (db_put_order(t, &o) < 0) {
                    free(st);
                    rec_order_clear(&o);
                    return -1;
                }
                changed++;
            } else if (o.error) {
                /* Still invalid: drop this name from the order's error. */
                for (size_t j = 0; j < o.error->nsub; j++) {
                    if (o.error->subproblems[j].identifier.value &&
                        strcmp(o.error->subproblems[j].identifier.value, a->identifier.value) == 0) {
                        problem_clear(&o.error->subproblems[j]);
                        memmove(&o.error->subproblems[j], &o.error->subproblems[j + 1],
                                (o.error->nsub - j - 1) * sizeof(acme_problem));
                        o.error->nsub--;
                        break;
                    }
                }
                db_put_order(t, &o);
            }
            free(st);
        }
        rec_order_clear(&o);
    }
    return changed;
}

bool orders_replacement_consumed(store_txn *t, const rec_authz *a)
{
    bool consumed = false;
    for (size_t i = 0; i < a->norders && !consumed; i++) {
        rec_order o;
        if (db_get_order(t, a->order_ids[i], &o) != 0)
            continue;
        if (o.status == ORDER_INVALID && o.replaces) {
            char *serial = NULL;
            rec_cert c;
            if (db_get_str(t, TBL_CERT_ARI, o.replaces, &serial) == 0 && db_get_cert(t, serial, &c) == 0) {
                consumed = c.replaced_by[0] && strcmp(c.replaced_by, o.id) != 0;
                rec_cert_clear(&c);
            }
            free(serial);
        }
        rec_order_clear(&o);
    }
    return consumed;
}
