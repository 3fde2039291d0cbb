/* The client's decisions, as pure functions (unit-tested: no network, no
 * store, no clock but the one passed in): which challenge to try next,
 * whether a failure is worth another attempt of the same type or another
 * type, whether to ask for pending-hold, whether retry-options allow
 * another attempt now, and whether the legacy fallback opens another
 * order (or, pre-authorizing, another newAuthz). authorize.c and cmd_issue.c act
 * on them. */
#ifndef ARO_CLIENT_CHOOSE_H
#define ARO_CLIENT_CHOOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "acme_objects.h"
#include "options.h"

typedef struct {
    const char *type;       /* challenge type offered */
    double score;           /* learned success rate (state_stats_score), 0.5 unknown */
    bool failed_here;       /* this type already failed for this identifier in this run */
    bool solvable;          /* a solver exists for the type */
} choose_cand;

/* Fill order[] with the indices of the candidates worth trying, best first,
 * and return how many. Eligible: solvable and named in prefs. Ranking:
 *  1. types that already failed here go last, unless prefer_same (after a
 *     transient failure a fresh challenge of the same type is the best bet);
 *  2. learned success, in coarse buckets (a single failure demotes a type,
 *     two successes promote it; one lucky run does not reorder);
 *  3. the user's preference order. */
size_t choose_rank(const choose_cand *c, size_t n, const char *const *prefs, size_t nprefs,
                   bool prefer_same, size_t *order);

/* A failure that another challenge type could fix (the legacy fallback's
 * condition): connection, dns, tls, unauthorized, serverInternal,
 * incorrectResponse. Takes the short or the full type. */
bool choose_fixable_by_other_type(const char *problem_type);
/* A failure likely to pass on a plain retry of the same type: serverInternal,
 * and connection/dns failures that the detail calls a timeout or SERVFAIL. */
bool choose_transient(const char *problem_type, const char *detail);

/* Whether a retry-options member (draft-aro-acme-retry-options) allows
 * another attempt at now: a re-enable of an invalid authorization, or
 * (held) a challenge response on a held one, which has no re-enable url.
 * Checked in this order: */
typedef enum {
    REENABLE_NOW,               /* yes, after *wait seconds (notBefore; 0: at once) */
    REENABLE_NO_ATTEMPTS_LEFT,  /* attemptsRemaining is 0 */
    REENABLE_MALFORMED,         /* no challenges, or (not held) no url: not usable */
    REENABLE_EXPIRED,           /* the re-enable deadline (expires) has passed */
    REENABLE_TOO_LATE,          /* notBefore is more than max_wait away (*wait says how far) */
} reenable_verdict;
reenable_verdict choose_reenable(const acme_retry_options *ro, bool held, time_t now,
                                 long max_wait, long *wait);

/* Whether to ask for pending-hold in newOrder and newAuthz: under
 * --retry-options hold, when the directory's meta "retry-options"
 * advertises "hold" (the draft's Client Behaviour 1). */
bool choose_ask_hold(retry_mode mode, const acme_directory *dir);

/* What one issuance learned about an identifier, across its orders. */
typedef struct {
    const char *ident;      /* as asked: "*.example.com" for a wildcard (borrowed) */
    const char *base;       /* as its authorization names it (identifiers.h) */
    bool is_ip;             /* an RFC 8738 "ip" identifier */
    char **failed;          /* challenge types that failed for it */
    size_t nfailed;
    char **offered;         /* challenge types the CA offered for it */
    size_t noffered;
} ident_history;

/* After an order failed (retry-options absent or spent): whether the legacy
 * fallback opens another order that skips the failed types. */
typedef enum {
    NEXT_ORDER_OPEN,            /* yes */
    NEXT_ORDER_NOT_FIXABLE,     /* last_problem is none another type could fix (or unknown) */
    NEXT_ORDER_NO_OTHER_TYPE,   /* no identifier that failed was offered an untried usable type */
    NEXT_ORDER_LIMIT,           /* orders_used has reached max_orders */
} next_order;
/* last_problem: the last failure's problem type (short or full); usable:
 * the types that may be used at all (in --challenges, with a solver). */
next_order choose_next_order(const char *last_problem, const ident_history *ids, size_t nids,
                             char *const *usable, size_t nusable, int orders_used, int max_orders);
/* Why not, in words ("... is not a failure another challenge type could
 * fix" and so on, for a message "not trying another order: WHY"); NULL for
 * NEXT_ORDER_OPEN, and for NEXT_ORDER_NOT_FIXABLE without a problem type. */
const char *choose_next_order_why(next_order n, const char *last_problem, char *buf, size_t len);

#endif
