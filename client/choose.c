#include "choose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "problem.h"
#include "strv.h"

static long pref_index(const char *type, const char *const *prefs, size_t nprefs)
{
    for (size_t i = 0; i < nprefs; i++)
        if (!strcmp(prefs[i], type))
            return (long)i;
    return -1;
}

static int bucket(double score)
{
    int b = (int)(score * 4.0);
    return b > 4 ? 4 : b < 0 ? 0 : b;
}

size_t choose_rank(const choose_cand *c, size_t n, const char *const *prefs, size_t nprefs,
                   bool prefer_same, size_t *order)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].solvable && pref_index(c[i].type, prefs, nprefs) >= 0)
            order[k++] = i;
    /* Insertion sort: a handful of candidates, and stable. */
    for (size_t i = 1; i < k; i++) {
        size_t v = order[i], j = i;
        while (j > 0) {
            const choose_cand *a = &c[order[j - 1]], *b = &c[v];
            int fa = a->failed_here && !prefer_same, fb = b->failed_here && !prefer_same;
            int cmp = fa != fb ? fa - fb
                      : bucket(a->score) != bucket(b->score)
                          ? bucket(b->score) - bucket(a->score)
                          : (int)(pref_index(a->type, prefs, nprefs) - pref_index(b->type, prefs, nprefs));
            if (cmp <= 0)
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    return k;
}

bool choose_fixable_by_other_type(const char *t)
{
    static const char *const fixable[] = {"connection", "dns", "tls", "unauthorized",
                                          "serverInternal", "incorrectResponse"};
    if (!t)
        return false;
    if (!strncmp(t, ACME_ERROR_PREFIX, strlen(ACME_ERROR_PREFIX)))
        t += strlen(ACME_ERROR_PREFIX);
    for (size_t i = 0; i < sizeof fixable / sizeof *fixable; i++)
        if (!strcmp(t, fixable[i]))
            return true;
    return false;
}

bool choose_transient(const char *t, const char *detail)
{
    if (!t)
        return false;
    if (!strncmp(t, ACME_ERROR_PREFIX, strlen(ACME_ERROR_PREFIX)))
        t += strlen(ACME_ERROR_PREFIX);
    if (!strcmp(t, "serverInternal"))
        return true;
    if ((!strcmp(t, "connection") || !strcmp(t, "dns")) && detail &&
        (strcasestr(detail, "timeout") || strcasestr(detail, "timed out") ||
         strcasestr(detail, "SERVFAIL")))
        return true;
    return false;
}

reenable_verdict choose_reenable(const acme_retry_options *ro, bool held, time_t now,
                                 long max_wait, long *wait)
{
    *wait = 0;
    if (ro->attempts_remaining == 0)
        return REENABLE_NO_ATTEMPTS_LEFT;
    if ((!held && !ro->url) || !ro->nchallenges)
        return REENABLE_MALFORMED;
    if (ro->expires && now >= ro->expires)
        return REENABLE_EXPIRED;
    if (ro->not_before <= now)
        return REENABLE_NOW;
    *wait = (long)(ro->not_before - now);
    return *wait > max_wait ? REENABLE_TOO_LATE : REENABLE_NOW;
}

bool choose_ask_hold(retry_mode mode, const acme_directory *dir)
{
    return mode == RETRY_HOLD && dir->retry_options && dir->retry_hold;
}

next_order choose_next_order(const char *last_problem, const ident_history *ids, size_t nids,
                             char *const *usable, size_t nusable, int orders_used, int max_orders)
{
    if (!choose_fixable_by_other_type(last_problem))
        return NEXT_ORDER_NOT_FIXABLE;
    bool other = false;
    for (size_t i = 0; i < nids && !other; i++)
        for (size_t t = 0; ids[i].nfailed && t < ids[i].noffered && !other; t++)
            other = strv_contains(usable, nusable, ids[i].offered[t]) &&
                    !strv_contains(ids[i].failed, ids[i].nfailed, ids[i].offered[t]);
    if (!other)
        return NEXT_ORDER_NO_OTHER_TYPE;
    return orders_used < max_orders ? NEXT_ORDER_OPEN : NEXT_ORDER_LIMIT;
}

const char *choose_next_order_why(next_order n, const char *last_problem, char *buf, size_t len)
{
    switch (n) {
    case NEXT_ORDER_NOT_FIXABLE:
        if (!last_problem)
            return NULL;
        snprintf(buf, len, "%s is not a failure another challenge type could fix", last_problem);
        return buf;
    case NEXT_ORDER_NO_OTHER_TYPE:
        return "no solver for another offered challenge type";
    case NEXT_ORDER_LIMIT:
        return "--max-orders reached";
    case NEXT_ORDER_OPEN:
        break;
    }
    return NULL;
}
