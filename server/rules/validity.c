#include "rules/validity.h"

#include <stdio.h>

#include "util.h"

validity_limits validity_limits_for(const server_config *cfg, const ca *c, const char *profile)
{
    const profile_cfg *p = config_profile(cfg, profile);
    validity_limits l = {.max_seconds = p && p->validity_seconds ? p->validity_seconds : ca_leaf_validity(c),
                         .chain_not_after = ca_chain_not_after(c)};
    return l;
}

/* The reason a requested period cannot be fulfilled at now, in why; true
 * when it can. nb, na: the requested times, 0 when absent. */
static bool fulfillable(const validity_limits *l, time_t nb, time_t na, time_t now, char *why, size_t whylen)
{
    char from[32], to[32], chain[32];
    time_format_rfc3339(now - VALIDITY_SKEW, from);
    time_format_rfc3339(now + VALIDITY_SKEW, to);
    time_format_rfc3339(l->chain_not_after, chain);
    time_t start = nb ? nb : now;
    if (nb && (nb < now - VALIDITY_SKEW || nb > now + VALIDITY_SKEW)) {
        snprintf(why, whylen, "notBefore must lie within an hour of now (from %s to %s)", from, to);
        return false;
    }
    if (na && na <= start) {
        snprintf(why, whylen, "notAfter must be later than %s", nb ? "notBefore" : "now");
        return false;
    }
    if (na && na - start > l->max_seconds) {
        snprintf(why, whylen, "this CA issues certificates valid for at most %ld seconds (%ld days): notAfter "
                 "must be at most that long after %s", l->max_seconds, l->max_seconds / 86400,
                 nb ? "notBefore" : "now");
        return false;
    }
    if (na > l->chain_not_after) {
        snprintf(why, whylen, "notAfter must not be later than %s, when the issuing chain expires", chain);
        return false;
    }
    return true;
}

/* The requested time of an RFC 3339 string, 0 when absent; -1 when it is
 * not a time. */
static int requested(const char *s, time_t *t)
{
    *t = 0;
    return s && time_parse_rfc3339(s, t) < 0 ? -1 : 0;
}

acme_problem *validity_check(const validity_limits *l, const char *not_before, const char *not_after,
                             time_t now)
{
    time_t nb, na;
    char why[320];
    if (requested(not_before, &nb) < 0 || requested(not_after, &na) < 0)
        return problem_new("malformed", 400, "notBefore and notAfter must be RFC 3339 times");
    if (!fulfillable(l, nb, na, now, why, sizeof(why)))
        return problem_new("malformed", 400, "this CA cannot issue the requested validity: %s", why);
    return NULL;
}

int validity_of_certificate(const validity_limits *l, const char *not_before, const char *not_after,
                            time_t now, time_t *nb, time_t *na, char *why, size_t whylen)
{
    time_t rnb, rna;
    if (requested(not_before, &rnb) < 0 || requested(not_after, &rna) < 0) {
        snprintf(why, whylen, "the order's notBefore or notAfter is not a time");
        return -1;
    }
    if (!fulfillable(l, rnb, rna, now, why, whylen))
        return -1;
    *nb = rnb ? rnb : now - VALIDITY_BACKDATE;
    *na = rna ? rna : *nb + l->max_seconds;
    if (*na > l->chain_not_after)
        *na = l->chain_not_after;
    if (*na <= *nb) {
        snprintf(why, whylen, "the issuing chain expires before the certificate would begin");
        return -1;
    }
    return 0;
}
