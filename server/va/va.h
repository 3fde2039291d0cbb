/* The validation authority: performs one challenge validation (RFC 8555
 * 8.3 http-01, 8.4 dns-01, RFC 8737 tls-alpn-01) and CAA checks (RFC 8659,
 * RFC 8657). Every function here is synchronous and may take seconds: they
 * run on worker threads (server/workers.c), never on an event loop. They
 * touch no store and no global state, so any number may run at once. */
#ifndef ARO_VA_H
#define ARO_VA_H

#include <stdbool.h>
#include <stddef.h>

#include "problem.h"

typedef struct {
    const char *dns_server;     /* "ADDR:PORT" (e.g. pebble-challtestsrv), NULL = system resolver */
    int http_port;              /* port http-01 connects to (80 in production, 5002 default) */
    int tls_port;               /* port tls-alpn-01 connects to (443 / 5001) */
    bool deny_private_targets;  /* refuse loopback/private/link-local addresses (hardening) */
    int timeout_ms;             /* whole attempt, default 10000 */
    size_t http_max_body;       /* default 8192 bytes of key authorization response */
    int http_max_redirects;     /* default 10 */
} va_config;

typedef struct {
    const char *type;           /* "http-01", "dns-01", "tls-alpn-01" */
    const char *identifier;     /* DNS name without "*." or textual IP */
    bool is_ip;
    const char *token;
    const char *key_authorization;
} va_request;

typedef struct {
    bool valid;
    /* On failure: type connection, dns, tls, unauthorized, incorrectResponse,
     * rejectedIdentifier (private target refused), serverInternal. */
    acme_problem *problem;
    /* validationRecord (RFC 8555 8.3 style) as a JSON array text, or NULL. */
    char *record_json;
    /* For dns-01 failures: the negative-caching TTL the resolver reported
     * (SOA minimum of the zone, RFC 2308), or -1 when unknown. */
    long dns_negative_ttl;
    /* Set by multi-perspective corroboration (server/mpic/): this
     * perspective passed, too few remote perspectives corroborated it. The
     * retry policy then offers no challenge of the same type again
     * (rules/offer.c). Never set by the functions of this header. */
    bool corroboration_failed;
} va_result;

int va_validate(const va_config *cfg, const va_request *req, va_result *out);
void va_result_clear(va_result *r);

/* CAA (RFC 8659 3: climb from the name to the root, first non-empty set
 * wins; "issue" or "issuewild" for wildcards; RFC 8657 "accounturi" and
 * "validationmethods" parameters). caa_identities are the CA's own domains
 * (directory meta caaIdentities). method is the challenge type about to be
 * used, account_uri the account URL. Returns 0 when issuance is allowed;
 * -1 with *problem set (type "caa" when a record forbids it, "dns" when the
 * lookup failed: SERVFAIL must fail closed, NXDOMAIN is no record). */
int va_check_caa(const va_config *cfg, const char *identifier, bool wildcard, const char *method,
                 const char *account_uri, const char *const *caa_identities, size_t n,
                 acme_problem **problem);
/* One CAA lookup, evaluated for each of nmethods challenge types: allowed[i]
 * says whether CAA lets this CA issue with methods[i] (RFC 8657
 * validationmethods, accounturi). 0, or -1 when the lookup failed (then
 * every allowed[i] stays true: the attempt itself will fail closed). */
int va_caa_methods_allowed(const va_config *cfg, const char *identifier, bool wildcard,
                           const char *const *methods, size_t nmethods, const char *account_uri,
                           const char *const *caa_identities, size_t n, bool *allowed);

#endif
