/* Settings: the embedded defaults, then a config file (--config, JSON,
 * docs/configuration.md), then command-line flags (cmdline.c). Unknown
 * keys and bad values are refused at start with a message naming them.
 * Pebble's config file and environment are read by pebble.c, which hands
 * the keys both formats share to config_apply_key. */
#ifndef ARO_SETTINGS_CONFIG_H
#define ARO_SETTINGS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "ca/ca.h"
#include "json.h"
#include "util.h"
#include "va/va.h"

typedef struct {
    char *kid;
    unsigned char *key;
    size_t keylen;
} eab_key;

typedef struct {
    char *name;
    char *description;
    long validity_seconds;  /* 0 = default */
} profile_cfg;

/* What a failed challenge does to its authorization, for every client.
 * RFC 8555 7.1.6 (the default): invalid. The two others exist only to
 * measure what legacy clients do when a server departs from it (the
 * draft's objection 1): the erratum 6317 reading (pending until every
 * listed challenge has failed) and the forum thread's (the failed
 * challenge stays "processing" with its error shown). */
typedef enum { FAILURE_RFC8555, FAILURE_ERRATUM, FAILURE_PROCESSING } failure_mode;

/* A rate limit: at most count in any window of window seconds, with
 * bursts up to count (GCRA, as Boulder's ratelimits package). count 0 is
 * off. */
typedef struct {
    long count;
    long window;
} rate_limit_cfg;

/* The limits of rules/limits.c; docs/configuration.md gives the defaults
 * and why they are what they are. A count of 0 is off (Pebble mode turns
 * them all off). */
typedef struct {
    int identifiers_per_order;          /* at most MAX_IDENTIFIERS (100) */
    rate_limit_cfg new_orders_per_account;
    long pending_authzs_per_account;
    long pending_orders_per_account;    /* orders not yet finalized: pending or ready */
    rate_limit_cfg certs_per_domain;    /* per registered domain (public suffix list) */
    rate_limit_cfg duplicate_certs;     /* per exact set of identifiers */
} limits_cfg;

/* A remote validation perspective of multi-perspective issuance
 * corroboration (server/mpic/). */
typedef struct {
    char *name;                 /* the name its channel certificate carries (ca/channel.h) */
    char *address;              /* where it listens, "HOST:PORT" */
} perspective_cfg;

typedef struct {
    /* listeners and paths */
    char *listen;               /* "127.0.0.1:14000" */
    char *manage;               /* "127.0.0.1:15000" */
    char *data_dir;             /* "./aro-data" */
    int threads;                /* event loops; default = cores */
    int log_level;              /* 0 errors, 1 requests (default), 2 debug */
    bool group_commit;          /* batch requests' writes into one durable commit (default) */
    bool pebble_mode;           /* started with Pebble's -config: also serve /dir */
    long store_map_mib;         /* the most the store may hold, MiB; default 16384 */
    /* protocol policy */
    bool retry_options;         /* the extension on (default) or --no-retry-options */
    bool pending_hold;          /* honour the newOrder/newAuthz opt-in to pending-hold (default) */
    bool new_authz;             /* offer newAuthz, pre-authorization (7.4.1; default; off in Pebble mode) */
    failure_mode failure_mode;  /* default FAILURE_RFC8555 */
    long order_lifetime;        /* seconds, default 3600 */
    long authz_pending_lifetime;/* default 3600 */
    long authz_valid_lifetime;  /* default 30 days */
    bool reuse_valid_authz;     /* default true */
    int reuse_valid_pct;        /* how often a reusable one is reused, default 100 (PEBBLE_AUTHZREUSE) */
    bool reuse_pending_authz;   /* default false */
    limits_cfg limits;
    int failed_validation_limit;/* per account+identifier per window, default 5 */
    long failed_validation_window; /* default 3600 */
    int retry_attempts;         /* attempts per authorization, default 3 */
    long retry_min_backoff;     /* seconds, default 5, doubling per failure */
    long retry_max_backoff;     /* cap, default 3600 */
    bool retry_same_type;       /* offer fresh same-type challenges, default true */
    char **retry_never;         /* problem types never retried (short names) */
    size_t nretry_never;
    char **caa_identities;
    size_t ncaa_identities;
    char *terms_of_service;
    char *website;
    bool eab_required;
    eab_key *eab_keys;
    size_t neab_keys;
    char **blocklist;           /* domain suffixes refused (rejectedIdentifier) */
    size_t nblocklist;
    profile_cfg *profiles;
    size_t nprofiles;
    int orders_per_page;        /* account orders list page size, default 50 */
    long retry_after_pending;   /* Retry-After on pending authorizations/challenges, default 1 */
    long retry_after_order;     /* Retry-After on pending/processing orders, default 1 */
    /* validation */
    va_config va;
    int va_workers;             /* default 8 */
    int va_workers_per_account; /* threads one account's jobs may hold at once; 0 (default) = half */
    long va_sleep_ms;           /* delay before validating (Pebble's VA sleep), default 0 */
    bool va_always_valid;
    int va_same_challenge_retries; /* RFC 8555 8.2 server-side retries of a failed attempt, default 0 */
    long va_same_challenge_retry_delay_ms; /* delay between them, default 2000 */
    /* multi-perspective issuance corroboration (server/mpic/), off by default */
    perspective_cfg *perspectives;  /* the remote perspectives the primary asks; none: off */
    size_t nperspectives;
    long perspective_timeout_ms;    /* bound on each remote answer, default 15000 */
    char *perspective_listen;       /* set (--perspective): run as a validation-only perspective */
    char *issue_perspective;        /* set (--issue-perspective): write its credentials, exit */
    /* CA */
    ca_config ca;
    /* fault injection (off by default) */
    double fault_nonce_reject;  /* probability a valid nonce is rejected */
    double fault_rate_limited;  /* probability of a 429 */
    double fault_server_internal; /* probability of a 500 */
    long fault_finalize_delay_ms;
    long fault_validation_jitter_ms;
} server_config;
void config_defaults(server_config *cfg);
/* aro's JSON settings file. 0, or -1 with err naming the file and key. */
int config_load_file(server_config *cfg, const char *path, aro_err *err);
/* One key of aro's own JSON settings (file names the source in messages). */
int config_apply_key(server_config *cfg, const char *file, const char *key, yajl_val v, aro_err *err);
void config_free(server_config *cfg);
/* The profile of that name, or NULL (name NULL: none). */
const profile_cfg *config_profile(const server_config *cfg, const char *name);

#endif
