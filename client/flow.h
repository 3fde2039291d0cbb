/* aro's commands as readable ACME sequences (RFC 8555 7.3-7.6), named
 * after what they do, uacme-style. Each returns the process exit status:
 * 0 done (issued, renewed, created...), 1 nothing to do (not due),
 * 2 failure; and prints the result (--json: one JSON object on stdout,
 * contracts.md; otherwise a one-line summary). */
#ifndef ARO_CLIENT_FLOW_H
#define ARO_CLIENT_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"

typedef enum { DEACTIVATE_NONE, DEACTIVATE_PENDING, DEACTIVATE_ALL } deactivate_mode;

typedef struct {
    const char *server;
    const char *ca_bundle;
    const char *state_dir;
    const char **emails;
    size_t nemails;
    bool agree_tos;
    const char *eab;                /* "KID:HMAC" (HMAC key base64url) */
    key_type account_key_type;
    key_type cert_key_type;
    const char *profile;
    const char *preferred_chain;
    const char **challenges;        /* preference order */
    size_t nchallenges;
    int http_port;
    int tls_alpn_port;
    const char *webroot;
    const char *hook;
    const char *bind_addr;
    bool json;
    deactivate_mode deactivate;
    int reason;                     /* revocation reason, -1 none */
    long max_wait;                  /* longest wait accepted from a CA, seconds */
    int max_orders;                 /* legacy fallback bound (3) */
    bool force;                     /* renew even when not due */
    const char **names;
    size_t nnames;
} aro_opts;

int flow_account(const aro_opts *o, const char *sub);
int flow_issue(const aro_opts *o);
int flow_renew(const aro_opts *o);
int flow_revoke(const aro_opts *o, const char *certfile);
int flow_list(const aro_opts *o);

#endif
