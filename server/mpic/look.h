/* What one network perspective is asked and what it answers, in
 * multi-perspective issuance corroboration (CA/Browser Forum Baseline
 * Requirements 3.2.2.9, read in version 2.2.6): the two determinations
 * the primary makes and the remote perspectives corroborate, domain
 * control (the challenge, RFC 8555 8.3/8.4, RFC 8737) and the CA's
 * authority to issue (CAA, RFC 8659/8657). mpic_look runs them through
 * the validation authority (va/) at this perspective: the primary calls
 * it for its own look, a perspective (mpic/perspective.c) for the
 * primary's request, so both run the very same code. The wire form
 * (JSON over the channel's mutual TLS) is here too, so the two ends
 * cannot drift apart. */
#ifndef ARO_MPIC_LOOK_H
#define ARO_MPIC_LOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "problem.h"
#include "util.h"
#include "va/va.h"

typedef struct {
    bool wildcard;
    const char *method;                 /* the challenge type, for RFC 8657 validationmethods */
    const char *account_uri;            /* for RFC 8657 accounturi */
    const char *const *identities;      /* the CA's CAA identities */
    size_t nidentities;
} mpic_caa_query;

typedef struct {
    va_request challenge;
    bool check_caa;                     /* false for IP identifiers (RFC 8738 7: no CAA) */
    mpic_caa_query caa;
} mpic_query;

/* One perspective's determinations. */
typedef struct {
    bool caa_checked;
    acme_problem *caa_problem;          /* NULL: CAA permits issuance (or was not checked) */
    bool challenge_checked;             /* false when a CAA refusal ended the look first */
    va_result challenge;
} mpic_view;

/* The look at this perspective with the validation authority's settings
 * cfg (its own resolver, ports and deadline): CAA, then the challenge.
 * stop_at_caa: skip the challenge once CAA refuses (the primary: its
 * refusal ends the attempt); a remote perspective reports both, since each
 * determination is corroborated on its own. */
void mpic_look(const va_config *cfg, const mpic_query *q, bool stop_at_caa, mpic_view *out);
/* Passed: CAA permits (when checked) and the challenge is valid. */
bool mpic_view_passed(const mpic_view *v);
void mpic_view_clear(mpic_view *v);

/* ---- the wire form ---------------------------------------------------- */

/* Request: {"challenge": {"type", "identifier", "ip", "token",
 * "keyAuthorization"}, "caa": {"wildcard", "method", "accountUri",
 * "identities": [...]}} ("caa" absent when not checked). */
char *mpic_query_to_json(const mpic_query *q);
/* A decoded request: q points into tree. */
typedef struct {
    mpic_query q;
    yajl_val tree;
    const char **identities;
} mpic_query_decoded;
int mpic_query_from_json(const char *text, size_t len, mpic_query_decoded *out, aro_err *err);
void mpic_query_decoded_clear(mpic_query_decoded *d);

/* Answer: {"challenge": {"valid": true} | {"valid": false, "problem":
 * {...}}, "caa": {"permitted": true} | {"permitted": false, "problem":
 * {...}}} ("caa" absent when not checked). The validationRecord and the
 * negative-caching time stay at the perspective: the primary keeps its
 * own. */
char *mpic_view_to_json(const mpic_view *v);
/* caa_expected: the request asked for CAA, so the answer must hold it. */
int mpic_view_from_json(const char *text, size_t len, bool caa_expected, mpic_view *out, aro_err *err);

#endif
