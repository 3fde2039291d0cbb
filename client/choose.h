/* Which challenge to try, and whether a failure is worth another attempt.
 * Pure functions (unit-tested): no network, no store. */
#ifndef ARO_CLIENT_CHOOSE_H
#define ARO_CLIENT_CHOOSE_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
