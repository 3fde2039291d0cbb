#include "mpic/quorum.h"

#include <stdlib.h>
#include <string.h>

size_t mpic_allowed_non_corroborations(size_t n)
{
    /* BR 3.2.2.9 (v2.2.6), "Quorum Requirements": 2-5 remote perspectives
     * allow 1 non-corroboration, 6 and more allow 2. Fewer than 2 is below
     * the table (and the Requirements' minimum): all must corroborate. */
    if (n < 2)
        return 0;
    return n <= 5 ? 1 : 2;
}

/* Did r fail to corroborate domain control / CAA? Not for pending ones. */
static bool fails_challenge(const mpic_remote *r)
{
    if (r->state == REMOTE_FAILED)
        return true;
    return r->state == REMOTE_ANSWERED && !(r->view.challenge_checked && r->view.challenge.valid);
}

static bool fails_caa(const mpic_remote *r)
{
    if (r->state == REMOTE_FAILED)
        return true;
    return r->state == REMOTE_ANSWERED && (!r->view.caa_checked || r->view.caa_problem);
}

bool mpic_remote_corroborates(const mpic_remote *r, bool caa)
{
    return r->state == REMOTE_ANSWERED && !fails_challenge(r) && !(caa && fails_caa(r));
}

typedef struct {
    size_t challenge, caa, open;
} tally;

static tally count(const mpic_remote *r, size_t n, bool caa)
{
    tally t = {0};
    for (size_t i = 0; i < n; i++) {
        if (r[i].state == REMOTE_PENDING || r[i].state == REMOTE_ABANDONED) {
            t.open++;
            continue;
        }
        t.challenge += fails_challenge(&r[i]);
        t.caa += caa && fails_caa(&r[i]);
    }
    return t;
}

quorum_state mpic_quorum(const mpic_remote *r, size_t n, bool caa)
{
    size_t allowed = mpic_allowed_non_corroborations(n);
    tally t = count(r, n, caa);
    if (t.challenge > allowed || t.caa > allowed)
        return QUORUM_FAILED;
    /* Met once even the open ones failing could not break it. */
    if (t.challenge + t.open <= allowed && t.caa + t.open <= allowed)
        return QUORUM_MET;
    return QUORUM_OPEN;
}

static bool is_caa_refusal(const acme_problem *p)
{
    return p && strcmp(problem_short_type(p->type), "caa") == 0;
}

/* Why r did not corroborate: the CAA determination when CAA's quorum is
 * the one that failed, else the challenge's (whichever it failed). */
static const acme_problem *cause_of(const mpic_remote *r, bool caa_first)
{
    if (r->state == REMOTE_FAILED)
        return r->failure;
    if (caa_first && r->view.caa_problem)
        return r->view.caa_problem;
    if (!(r->view.challenge_checked && r->view.challenge.valid))
        return r->view.challenge.problem;
    return r->view.caa_problem;
}

acme_problem *mpic_corroboration_problem(const mpic_remote *r, size_t n, bool caa, const char *ident_type,
                                         const char *ident_value)
{
    size_t allowed = mpic_allowed_non_corroborations(n);
    tally t = count(r, n, caa);
    bool caa_failed = caa && t.caa > allowed, challenge_failed = t.challenge > allowed;
    bool forbidden = false;
    for (size_t i = 0; caa_failed && i < n; i++)
        forbidden = forbidden || (r[i].state == REMOTE_ANSWERED && is_caa_refusal(r[i].view.caa_problem));
    size_t failing = 0;
    for (size_t i = 0; i < n; i++)
        failing += r[i].state != REMOTE_PENDING && r[i].state != REMOTE_ABANDONED &&
                   !mpic_remote_corroborates(&r[i], caa);
    const char *what = challenge_failed && caa_failed ? "domain validation and CAA check"
                       : challenge_failed            ? "domain validation"
                                                     : "CAA check";
    acme_problem *p = problem_new(forbidden ? "caa" : "unauthorized", 403,
                                  "multi-perspective corroboration failed: %zu of %zu remote perspectives did not "
                                  "corroborate the %s (at most %zu may not; CA/Browser Forum Baseline "
                                  "Requirements 3.2.2.9)",
                                  failing, n, what, allowed);
    for (size_t i = 0; i < n; i++) {
        if (r[i].state == REMOTE_PENDING || r[i].state == REMOTE_ABANDONED || mpic_remote_corroborates(&r[i], caa))
            continue;
        const acme_problem *why = cause_of(&r[i], caa_failed);
        char *detail = xasprintf("perspective %s: %s", r[i].name,
                                 why && why->detail ? why->detail : "did not corroborate");
        problem_add_sub(p, why ? why->type : "serverInternal", ident_type, ident_value, detail);
        free(detail);
    }
    return p;
}
