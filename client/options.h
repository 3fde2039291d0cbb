/* What the command line asked for: cli.c fills one aro_opts and main.c
 * hands it to a command (cmd_*.h); every layer below reads it through the
 * session (session.h) and none changes it. Header only: there is no
 * behaviour here.
 *
 * `given` says which of the settings a certificate remembers
 * (remembered.h) the command line set explicitly: renew uses a
 * certificate's remembered value unless the flag was given, and then
 * remembers the flag's value instead. */
#ifndef ARO_CLIENT_OPTIONS_H
#define ARO_CLIENT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"

/* --deactivate: which authorizations of an abandoned order to deactivate
 * (RFC 8555 7.5.2). */
typedef enum { DEACTIVATE_NONE, DEACTIVATE_PENDING, DEACTIVATE_ALL } deactivate_mode;

/* --retry-options: which design of draft-aro-acme-retry-options aro
 * speaks. HOLD asks for pending-hold (newOrder, newAuthz) where the
 * directory advertises "hold", and takes offers either way (held, or by
 * re-enabling an invalid authorization); REENABLE never asks for
 * pending-hold but takes offers; OFF is a plain RFC 8555 client that
 * ignores every offer (the legacy fallback only). */
typedef enum { RETRY_HOLD, RETRY_REENABLE, RETRY_OFF } retry_mode;

/* Bits of aro_opts.given: the remembered settings set on the command line. */
enum {
    GIVEN_SERVER = 1u << 0,         /* --server or --staging */
    GIVEN_CA_BUNDLE = 1u << 1,
    GIVEN_KEY_TYPE = 1u << 2,
    GIVEN_PROFILE = 1u << 3,
    GIVEN_PREFERRED_CHAIN = 1u << 4,
    GIVEN_CHALLENGES = 1u << 5,
    GIVEN_HTTP_PORT = 1u << 6,
    GIVEN_TLS_ALPN_PORT = 1u << 7,
    GIVEN_WEBROOT = 1u << 8,
    GIVEN_HOOK = 1u << 9,
    GIVEN_BIND = 1u << 10,
    GIVEN_HOOK_TIMEOUT = 1u << 11,
    GIVEN_DEPLOY_HOOK = 1u << 12,
    GIVEN_RETRY_OPTIONS = 1u << 13,
    GIVEN_PREAUTHORIZE = 1u << 14,  /* --preauthorize or --no-preauthorize */
};

/* The default directories (clarifications.md, "aro's default server"):
 * Let's Encrypt production like certbot, lego and uacme; ARO_DIRECTORY in
 * the environment replaces it; --staging picks Let's Encrypt staging. */
#define ARO_DEFAULT_SERVER "https://acme-v02.api.letsencrypt.org/directory"
#define ARO_STAGING_SERVER "https://acme-staging-v02.api.letsencrypt.org/directory"

/* Exit statuses (contracts.md): 0 done (renew: nothing failed), 2 failed,
 * 64 a usage error (sysexits' EX_USAGE); 128 + the signal's number after
 * SIGINT (130) or SIGTERM (143), once cleaned up (interrupt.h). */
#define ARO_EXIT_OK 0
#define ARO_EXIT_FAILED 2
#define ARO_EXIT_USAGE 64

typedef struct {
    const char *server;
    const char *ca_bundle;
    const char *state_dir;
    const char **emails;
    size_t nemails;
    bool no_email;                  /* account update --no-email: remove every contact */
    bool agree_tos;
    const char *eab;                /* "KID:HMAC" (HMAC key base64url) */
    key_type account_key_type;
    key_type cert_key_type;
    const char *profile;
    const char *preferred_chain;
    const char **challenges;        /* preference order */
    size_t nchallenges;
    int http_port;                  /* 0: none */
    int tls_alpn_port;              /* 0: none */
    const char *webroot;
    const char *hook;
    const char *bind_addr;
    long hook_timeout;              /* seconds a hook may run (--hook-timeout) */
    const char *deploy_hook;        /* shell command after a certificate is stored */
    bool json;
    bool quiet;
    deactivate_mode deactivate;
    int reason;                     /* revocation reason, -1 none */
    long max_wait;                  /* longest wait accepted from a CA, seconds */
    int max_orders;                 /* legacy fallback bound (3): orders, and newAuthz per name */
    retry_mode retry;               /* --retry-options (default RETRY_HOLD) */
    bool preauthorize;              /* --preauthorize: newAuthz (7.4.1) before the order */
    long lock_wait;                 /* longest wait for the state directory's lock, seconds */
    bool force;                     /* renew even when not due */
    bool change_names;              /* issue may change an existing certificate's names */
    unsigned given;                 /* GIVEN_* bits */
    const char *invocation;         /* "aro issue www.example.com": who holds the state lock */
    const char **names;
    size_t nnames;
} aro_opts;

#endif
