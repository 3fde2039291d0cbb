/* The scenarios of client mode: each is an aro-server configuration
 * (docs/configuration.md, "Fault injection" and "retry-options policy")
 * and, for two of them, a validation made to fail on purpose. Each run of
 * COMMAND gets a fresh aro-server with one scenario; client_judge.c says
 * which checks each scenario informs.
 *
 *   baseline     plain issuance; alternate chains (alternateRoots 1); ARI
 *   badnonce     every good nonce refused with badNonce (faultNonceRejectRate 1)
 *   ratelimited  every POST answered 429 rateLimited, Retry-After: 1
 *   unavailable  every POST answered 500 serverInternal, Retry-After: 1
 *                (the server's fault injection has no 503)
 *   processing   the first validation query fails and the server retries it
 *                (RFC 8555 8.2, the challenge stays processing); finalize
 *                takes 3 s (the order stays processing)
 *   retry-offer  the first attempt of each identifier fails; retry-options
 *                offers another attempt after 2 s
 *
 * A failed validation: when the client responds to its first challenge of
 * an identifier, aro-conform makes pebble-challtestsrv answer the name's A
 * record with 127.0.0.2 (the client's http-01 or tls-alpn-01 responder
 * must listen on 127.0.0.1 only) and SERVFAIL for its _acme-challenge name
 * (dns-01), and lifts both once the server has met the failure
 * (processing: a DNS query for it was asked; retry-offer: the attempt was
 * counted invalid). */
#ifndef ARO_CONFORM_SCENARIOS_H
#define ARO_CONFORM_SCENARIOS_H

#include <stddef.h>

typedef enum {
    FAIL_NONE,
    FAIL_FIRST_QUERY,   /* lift after the first DNS query (the server then retries: 8.2) */
    FAIL_FIRST_ATTEMPT, /* lift after the attempt failed (a retry-options offer follows) */
} fail_mode;

typedef struct {
    const char *name;
    const char *what;       /* one line for the report */
    const char *config;     /* aro-server JSON settings */
    long timeout;           /* seconds for COMMAND; 0: the --timeout */
    fail_mode fail;
} scenario;

extern const scenario scenarios[];
extern const size_t nscenarios;

/* The scenario of that name, or NULL. */
const scenario *scenario_find(const char *name);

#endif
