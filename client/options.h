/* What the command line asked for: main.c fills one aro_opts and hands it
 * to a command (cmd_*.h); every layer below reads it through the session
 * (session.h) and none changes it. Header only: there is no behaviour
 * here. Remembered per-certificate settings for renew belong with the
 * certificate's metadata (certfiles.h), not in this struct's defaults. */
#ifndef ARO_CLIENT_OPTIONS_H
#define ARO_CLIENT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"

/* --deactivate: which authorizations of an abandoned order to deactivate
 * (RFC 8555 7.5.2). */
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

#endif
