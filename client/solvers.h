/* Challenge solvers (RFC 8555 8.3, 8.4; RFC 8737):
 *  - http-01: a built-in standalone server on --http-port, or a webroot
 *    writer (--webroot);
 *  - tls-alpn-01: a built-in responder on --tls-alpn-port (ALPN
 *    acme-tls/1, certificate chosen by SNI);
 *  - any type, dns-01 in particular: a hook program with uacme's protocol:
 *      PROG begin|done|failed TYPE IDENT TOKEN AUTH
 *    AUTH is the key authorization, for dns-01 and tls-alpn-01 its
 *    base64url SHA-256 digest; the same values are in UACME_METHOD,
 *    UACME_TYPE, UACME_IDENT, UACME_TOKEN, UACME_AUTH (other variables of
 *    aro's environment, UACME_CHALLENGE_PATH too, pass through). "begin" must exit 0
 *    to accept the challenge; any other status declines it (aro then tries
 *    the next type). done/failed follow only an accepted begin.
 * A built-in solver takes a type when configured; the hook takes the rest. */
#ifndef ARO_CLIENT_SOLVERS_H
#define ARO_CLIENT_SOLVERS_H

#include <openssl/evp.h>
#include <stdbool.h>

#include "util.h"

typedef struct {
    int http_port;          /* 0: no standalone http-01 server */
    const char *webroot;    /* NULL: no webroot writer */
    int tls_alpn_port;      /* 0: no tls-alpn-01 responder */
    const char *hook;       /* NULL: no hook */
    long hook_timeout;      /* seconds a hook may run (hookrun.h) */
    const char *bind_addr;  /* NULL: all addresses */
} solver_config;

typedef struct solvers solvers;

solvers *solvers_new(const solver_config *cfg);
void solvers_free(solvers *s);

/* The checks before any order, for the solvers that would take types[]:
 * the built-in servers start now (a port in use or an address that cannot
 * be bound is found before an order exists), the webroot must be writable
 * (a probe file is written and removed), the hook must be an executable
 * file. 0, or -1 with err naming the option. */
int solvers_prepare(solvers *s, char *const *types, size_t ntypes, aro_err *err);

/* Whether some solver may take challenges of this type (a hook counts,
 * though it may still decline). */
bool solvers_have(const solvers *s, const char *type);

/* Provision. 0 ready; 1 declined (hook exit status non-zero); -1 error
 * (err says what: a hook that could not run, timed out or was
 * interrupted, a server that cannot listen). ident_is_ip for RFC 8738 IP
 * identifiers. */
int solvers_begin(solvers *s, const char *type, const char *ident, bool ident_is_ip,
                  const char *token, const char *key_auth, aro_err *err);
/* Tear down after an accepted begin; success selects "done" or "failed".
 * Returns what it undid, in words (malloc'd; "removed FILE", "ran hook
 * PROG failed dns-01 NAME (exit status 0)"), or NULL. */
char *solvers_end(solvers *s, const char *type, const char *ident, bool ident_is_ip,
                  const char *token, const char *key_auth, bool success);
/* Stop the built-in servers now (solvers_free does it too); what was
 * stopped in words (malloc'd), or NULL when none ran. */
char *solvers_stop(solvers *s);

/* The AUTH value uacme passes the hook for this type (malloc'd). */
char *solver_hook_auth(const char *type, const char *key_auth);
/* Run the hook once (hookrun.h): its exit status (0-255; 127 when it
 * could not run) or a HOOKRUN_* result. interruptible: SIGINT/SIGTERM end
 * the wait ("begin"). Exposed for tests. */
int solver_run_hook(const char *prog, long timeout, bool interruptible, const char *method,
                    const char *type, const char *ident, const char *token, const char *auth);

#endif
