/* The corroboration decision of multi-perspective issuance corroboration,
 * made in one place and pure (tests/unit/server/test_mpic.c): given what
 * each remote perspective answered, is the primary's success corroborated,
 * not (yet) decided, or refused; and the problem document of a refusal.
 *
 * The rule, from the CA/Browser Forum Baseline Requirements 3.2.2.9
 * (version 2.2.6, 2026-03-31, cabforum/servercert docs/BR.md), table
 * "Quorum Requirements":
 *
 *     # of distinct remote network perspectives used | # of allowed non-corroborations
 *     2-5                                            | 1
 *     6+                                             | 2
 *
 * Both determinations are corroborated, each against that table (the same
 * set of perspectives serves both): domain control, where a perspective
 * corroborates when it sees the same challenge response (3.2.2.4.19,
 * 3.2.2.4.20: "the same challenge information"), and CAA, where it
 * corroborates when CAA permits issuance there too. A perspective that
 * gave no usable answer (down, slower than the timeout, failing
 * authentication, an unreadable answer) corroborates neither: from the
 * primary it cannot be told apart from one whose route is hijacked.
 * Below the table (one remote perspective, which the Requirements never
 * allow but a test CA may configure) none may fail to corroborate. Only
 * a primary that passed is corroborated; its failure needs no quorum. */
#ifndef ARO_MPIC_QUORUM_H
#define ARO_MPIC_QUORUM_H

#include <stdbool.h>
#include <stddef.h>

#include "mpic/look.h"

typedef enum {
    REMOTE_PENDING,    /* asked, no answer yet */
    REMOTE_ANSWERED,   /* view holds its determinations */
    REMOTE_FAILED,     /* no usable answer: failure says why */
    REMOTE_ABANDONED,  /* not waited for: the decision was made without it */
} remote_state;

typedef struct {
    const char *name;       /* the perspective's configured (and certified) name */
    remote_state state;
    mpic_view view;         /* REMOTE_ANSWERED */
    acme_problem *failure;  /* REMOTE_FAILED: serverInternal, why there is no answer */
    double seconds;         /* from asking to its end */
} mpic_remote;

typedef enum {
    QUORUM_OPEN,            /* the answers still pending can still decide it */
    QUORUM_MET,             /* corroborated, whatever the pending ones answer */
    QUORUM_FAILED,          /* more non-corroborations than allowed */
} quorum_state;

/* The table above: non-corroborations allowed among n remote perspectives. */
size_t mpic_allowed_non_corroborations(size_t n);
/* The state given the answers so far; caa: CAA was checked (not for IP
 * identifiers). Pending and abandoned perspectives may still fail. */
quorum_state mpic_quorum(const mpic_remote *r, size_t n, bool caa);
/* A remote perspective's answer corroborates the primary's pass. */
bool mpic_remote_corroborates(const mpic_remote *r, bool caa);

/* The problem of a validation whose quorum failed, for identifier
 * (ident_type "dns" or "ip", value): type "caa" when CAA permission could
 * not be corroborated and a perspective found a CAA record forbidding
 * issuance (no retry can change that), else "unauthorized" (control was
 * not shown from enough of the network; which part of the network failed
 * is the subproblems' business); detail "multi-perspective corroboration
 * failed: ...". One subproblem per remote perspective that did not
 * corroborate, with its own problem type (serverInternal when it gave no
 * answer), the identifier, and a detail that starts "perspective NAME: "
 * (a perspective is not an identifier, so its name goes in the detail). */
acme_problem *mpic_corroboration_problem(const mpic_remote *r, size_t n, bool caa, const char *ident_type,
                                         const char *ident_value);

#endif
