/* CAA (RFC 8659) with the ACME parameters of RFC 8657.
 *
 * The relevant RRset is the first non-empty CAA RRset met climbing from
 * the identifier towards the root (RFC 8659 3); we stop at the top-level
 * domain. Within it, "issuewild" properties govern wildcard names when any
 * exist, "issue" properties otherwise (4.3); a property authorizes us when
 * its issuer domain is one of our CAA identities and its parameters allow
 * this account and this validation method (RFC 8657 3, 4). Lookup failures
 * other than "no such record" fail closed. */
#include "va/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "va/address.h"

#define CAA_FLAG_CRITICAL 0x80

int va_caa_parse_rr(const unsigned char *rdata, size_t len, va_caa_rr *out)
{
    memset(out, 0, sizeof *out);
    if (len < 2) return -1;
    size_t taglen = rdata[1];
    /* RFC 8659 4.1: the tag is 1..15 alphanumeric characters. */
    if (taglen == 0 || taglen > 15 || 2 + taglen > len) return -1;
    for (size_t i = 0; i < taglen; i++)
        if (!isalnum(rdata[2 + i])) return -1;
    out->flags = rdata[0];
    out->tag = xstrndup((const char *)rdata + 2, taglen);
    out->value = xstrndup((const char *)rdata + 2 + taglen, len - 2 - taglen);
    /* A NUL inside the value would hide the rest from the parser. */
    if (strlen(out->value) != len - 2 - taglen) {
        va_caa_rr_clear(out);
        return -1;
    }
    return 0;
}

void va_caa_rr_clear(va_caa_rr *r)
{
    if (!r) return;
    free(r->tag);
    free(r->value);
    memset(r, 0, sizeof *r);
}

static bool tag_known(const char *tag)
{
    /* RFC 8659 4.2-4.4 and the registry's other properties: known, even
     * though only issue and issuewild matter for TLS certificates. */
    static const char *const known[] = {"issue",       "issuewild",    "iodef",   "contactemail",
                                        "contactphone", "issuemail",   "issuevmc"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(tag, known[i]) == 0) return true;
    return false;
}

static const char *skip_wsp(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

/* RFC 8657 4: value = [*(label ",") label]; is method one of the labels? */
static bool method_listed(const char *list, size_t len, const char *method)
{
    size_t ml = strlen(method), i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && list[j] != ',') j++;
        if (j - i == ml && strncmp(list + i, method, ml) == 0) return true;
        i = j + 1;
    }
    return false;
}

typedef struct {
    const char *account_uri;
    const char *method;
    int n_account, n_methods;
    bool account_ok, method_ok;
} caa_params;

/* One "tag=value" (RFC 8659 4.2 ABNF: tag alphanumeric, value printable
 * without ';' or space). -1 when malformed. */
static int param_apply(const char *s, size_t len, caa_params *cp)
{
    const char *eq = memchr(s, '=', len);
    if (!eq || eq == s) return -1;
    size_t klen = (size_t)(eq - s);
    while (klen > 0 && (s[klen - 1] == ' ' || s[klen - 1] == '\t')) klen--;
    const char *v = skip_wsp(eq + 1);
    size_t vlen = len - (size_t)(v - s);
    for (size_t i = 0; i < klen; i++)
        if (!isalnum((unsigned char)s[i])) return -1;
    for (size_t i = 0; i < vlen; i++)
        if (v[i] < 0x21 || v[i] > 0x7e) return -1;
    if (klen == 10 && strncasecmp(s, "accounturi", 10) == 0) {
        cp->n_account++;
        cp->account_ok = cp->account_uri && strlen(cp->account_uri) == vlen &&
                         strncmp(cp->account_uri, v, vlen) == 0;
    } else if (klen == 17 && strncasecmp(s, "validationmethods", 17) == 0) {
        cp->n_methods++;
        /* Without a method to check (a policy-only check), the parameter
         * cannot exclude anything yet. */
        cp->method_ok = !cp->method || method_listed(v, vlen, cp->method);
    }
    return 0; /* unknown parameters are ignored */
}

/* Does one issue/issuewild value authorize us? */
static bool value_authorizes(const char *value, const char *const *ids, size_t nids,
                             caa_params *cp)
{
    const char *p = skip_wsp(value);
    size_t dlen = strcspn(p, " \t;");
    const char *domain = p;
    p = skip_wsp(p + dlen);
    if (*p && *p != ';') return false; /* junk after the issuer domain */
    /* RFC 8659 4.2: an empty issuer-domain-name authorizes no CA. */
    if (dlen == 0) return false;
    bool ours = false;
    for (size_t i = 0; i < nids && !ours; i++)
        ours = strlen(ids[i]) == dlen && strncasecmp(ids[i], domain, dlen) == 0;
    if (!ours) return false;
    while (*p == ';') {
        p = skip_wsp(p + 1);
        size_t plen = strcspn(p, ";");
        size_t tlen = plen;
        while (tlen > 0 && (p[tlen - 1] == ' ' || p[tlen - 1] == '\t')) tlen--;
        if (tlen > 0 && param_apply(p, tlen, cp) != 0) return false;
        p += plen;
    }
    /* RFC 8657 3: several accounturi parameters make it unsatisfiable;
     * the same reading is applied to validationmethods. */
    if (cp->n_account > 1 || cp->n_methods > 1) return false;
    if (cp->n_account == 1 && !cp->account_ok) return false;
    if (cp->n_methods == 1 && !cp->method_ok) return false;
    return true;
}

acme_problem *va_caa_evaluate(const va_caa_rr *rrs, size_t n, const char *name, bool wildcard,
                              const char *method, const char *account_uri,
                              const char *const *caa_identities, size_t nids)
{
    bool any_issue = false, any_wild = false;
    for (size_t i = 0; i < n; i++) {
        /* RFC 8659 4.1: an unknown property marked critical forbids. */
        if ((rrs[i].flags & CAA_FLAG_CRITICAL) && !tag_known(rrs[i].tag))
            return problem_new("caa", 403,
                               "CAA record for %s has an unknown critical property \"%s\"", name,
                               rrs[i].tag);
        any_issue |= strcasecmp(rrs[i].tag, "issue") == 0;
        any_wild |= strcasecmp(rrs[i].tag, "issuewild") == 0;
    }
    const char *want = wildcard && any_wild ? "issuewild" : "issue";
    if (!any_wild && !any_issue) return NULL; /* e.g. only iodef: no restriction */
    if (!wildcard && !any_issue) return NULL; /* issuewild alone restricts wildcards only */
    for (size_t i = 0; i < n; i++) {
        caa_params cp = {.account_uri = account_uri, .method = method};
        if (strcasecmp(rrs[i].tag, want) == 0 &&
            value_authorizes(rrs[i].value, caa_identities, nids, &cp))
            return NULL;
    }
    return problem_new("caa", 403,
                       "CAA record for %s prevents issuance (no \"%s\" property authorizes this CA%s%s)",
                       name, want, method ? " for " : "", method ? method : "");
}

/* The CAA RRset at name, parsed from its answer. 0 found (*rrs, *n set),
 * 1 nothing here (climb), -1 with *problem (lookup failed: SERVFAIL must
 * fail closed; a record that cannot be read might be the one that forbids
 * us). */
static int rrset_from(const va_dns_answer *ans, const char *name, va_caa_rr **rrs, size_t *n,
                      acme_problem **problem)
{
    *rrs = NULL;
    *n = 0;
    if (ans->status == VA_DNS_NXDOMAIN || ans->status == VA_DNS_NODATA)
        return 1;
    if (ans->status != VA_DNS_OK) {
        *problem = va_problem("dns", "DNS problem: %s looking up CAA for %s",
                              ans->status == VA_DNS_SERVFAIL ? "SERVFAIL" : ans->detail, name);
        return -1;
    }
    *rrs = xcalloc(ans->n, sizeof **rrs);
    for (; *n < ans->n; (*n)++) {
        if (va_caa_parse_rr(ans->rr[*n].data, ans->rr[*n].len, &(*rrs)[*n]) != 0) {
            *problem = problem_new("caa", 403, "Malformed CAA record for %s", name);
            return -1;
        }
    }
    return 0;
}

static void rrset_clear(va_caa_rr *rrs, size_t n)
{
    for (size_t i = 0; i < n; i++) va_caa_rr_clear(&rrs[i]);
    free(rrs);
}

/* RFC 8659 3: the relevant RRset is the first non-empty one climbing from
 * the name towards the root. 0 with *rrs (NULL and *n 0 when there is
 * none: issuance is not restricted), -1 with *problem. *name_out is the
 * lower-cased name without "*." or a final dot (malloc'd). */
static int relevant_rrset(const va_config *cfg, const char *identifier, bool *wildcard, char **name_out,
                          va_caa_rr **rrs, size_t *n, acme_problem **problem)
{
    va_ctx ctx;
    va_global_init();
    va_ctx_init(&ctx, cfg);
    const char *start = identifier;
    if (strncmp(start, "*.", 2) == 0) { /* tolerate the wildcard form */
        start += 2;
        *wildcard = true;
    }
    char *name = xstrdup(start);
    for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
    size_t len = strlen(name);
    if (len && name[len - 1] == '.') name[len - 1] = '\0';
    *name_out = name;
    /* Climb: example.sub.example.com, sub.example.com, example.com, com.
     * The levels are asked together and read from the name up, each as
     * soon as it is answered, so the outcome and the waiting are those of
     * asking one after another (va_dns_first_nonempty). A name of n
     * octets has at most n levels. */
    const char **levels = xcalloc(strlen(name) + 1, sizeof *levels);
    size_t nlevels = 0;
    for (const char *cur = name; cur && *cur; cur = strchr(cur, '.'), cur = cur ? cur + 1 : NULL)
        levels[nlevels++] = cur;
    va_dns_answer ans;
    size_t found = va_dns_first_nonempty(&ctx, nlevels, levels, VA_T_CAA, &ans);
    int rc = found < nlevels ? rrset_from(&ans, levels[found], rrs, n, problem) : 0;
    va_dns_answer_clear(&ans);
    free(levels);
    return rc;
}

int va_check_caa(const va_config *cfg, const char *identifier, bool wildcard, const char *method,
                 const char *account_uri, const char *const *caa_identities, size_t n,
                 acme_problem **problem)
{
    *problem = NULL;
    /* RFC 8738 7: CAA does not apply to IP address identifiers. */
    if (!identifier || va_is_ip_literal(identifier)) return 0;
    char *name = NULL;
    va_caa_rr *rrs = NULL;
    size_t nrr = 0;
    int rc = relevant_rrset(cfg, identifier, &wildcard, &name, &rrs, &nrr, problem);
    if (rc == 0 && rrs)
        *problem = va_caa_evaluate(rrs, nrr, name, wildcard, method, account_uri, caa_identities, n);
    rrset_clear(rrs, nrr);
    free(name);
    return rc == 0 && !*problem ? 0 : -1;
}

int va_caa_methods_allowed(const va_config *cfg, const char *identifier, bool wildcard,
                           const char *const *methods, size_t nmethods, const char *account_uri,
                           const char *const *caa_identities, size_t n, bool *allowed)
{
    for (size_t i = 0; i < nmethods; i++) allowed[i] = true;
    if (!identifier || va_is_ip_literal(identifier)) return 0;
    char *name = NULL;
    va_caa_rr *rrs = NULL;
    size_t nrr = 0;
    acme_problem *p = NULL;
    int rc = relevant_rrset(cfg, identifier, &wildcard, &name, &rrs, &nrr, &p);
    for (size_t i = 0; rc == 0 && rrs && i < nmethods; i++) {
        acme_problem *deny = va_caa_evaluate(rrs, nrr, name, wildcard, methods[i], account_uri, caa_identities, n);
        allowed[i] = deny == NULL;
        problem_free(deny);
    }
    problem_free(p);
    rrset_clear(rrs, nrr);
    free(name);
    return rc == 0 ? 0 : -1;
}
