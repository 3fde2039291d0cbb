/* The ACME object model (RFC 8555 7.1) as both sides see it on the wire:
 * directory, account, order, authorization, challenge, and the
 * retry-options member of draft-aro-acme-retry-options. The server
 * renders these (acme_*_write), the client decodes them (acme_*_decode).
 * Decoding is lenient about unknown members (RFC 8555 clients must ignore
 * them) and strict about the types of known ones. */
#ifndef ARO_ACME_OBJECTS_H
#define ARO_ACME_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "json.h"
#include "problem.h"
#include "status.h"

typedef struct acme_retry_options acme_retry_options;

typedef struct {
    char *url;
    char *type;                 /* "http-01", "dns-01", "tls-alpn-01", ... */
    chall_status status;
    char *token;
    char *validated;            /* RFC 3339 or NULL */
    acme_problem *error;        /* or NULL */
    acme_retry_options *retry;  /* rendered for a failed challenge, or NULL */
} acme_challenge;

/* "retry-options" (draft-aro-acme-retry-options): how an invalid
 * authorization (and the failed challenge and invalid order that point to
 * it) may be re-enabled. */
struct acme_retry_options {
    char *url;                  /* re-enable URL (authorization/challenge) */
    acme_challenge *challenges; /* challenges the client may choose from */
    size_t nchallenges;
    char **authorizations;      /* on an order: authorizations that may be re-enabled */
    size_t nauthorizations;
    time_t not_before;          /* 0 when absent */
    time_t expires;             /* deadline for re-enabling; 0 when absent */
    long attempts_remaining;    /* -1 when absent */
    bool hold;                  /* on an order: its client asked for pending-hold */
};

typedef struct {
    char *url;
    acme_identifier identifier;
    authz_status status;
    char *expires;
    bool wildcard;
    acme_challenge *challenges;
    size_t nchallenges;
    acme_retry_options *retry;
} acme_authz;

typedef struct {
    char *url;                  /* from the Location header */
    order_status status;
    char *expires;
    acme_identifier *identifiers;
    size_t nidentifiers;
    char *not_before, *not_after;
    char **authorizations;
    size_t nauthorizations;
    char *finalize;
    char *certificate;
    acme_problem *error;
    char *profile;
    char *replaces;
    acme_retry_options *retry;
} acme_order;

typedef struct {
    char *url;                  /* from the Location header */
    char *status;               /* "valid", "deactivated", "revoked" */
    char **contact;
    size_t ncontact;
    bool tos_agreed;
    char *orders;
} acme_account;

typedef struct {
    char *name;
    char *description;
} acme_profile;

typedef struct {
    char *new_nonce, *new_account, *new_order, *new_authz, *revoke_cert, *key_change,
        *renewal_info;
    /* meta */
    char *terms_of_service, *website;
    char **caa_identities;
    size_t ncaa_identities;
    bool external_account_required;
    acme_profile *profiles;
    size_t nprofiles;
    /* meta "retry-options": present when the server offers the extension. */
    bool retry_options;
    long retry_attempts_per_authz;  /* -1 when not said */
    long retry_min_backoff_seconds; /* -1 when not said */
    bool retry_hold;                /* "hold": true, pending-hold is honoured */
} acme_directory;

/* Decoding (client side). Return 0, or -1 with err naming the member. */
int acme_directory_decode(yajl_val v, acme_directory *out, aro_err *err);
int acme_account_decode(yajl_val v, acme_account *out, aro_err *err);
int acme_order_decode(yajl_val v, acme_order *out, aro_err *err);
int acme_authz_decode(yajl_val v, acme_authz *out, aro_err *err);
int acme_challenge_decode(yajl_val v, acme_challenge *out, aro_err *err);
int acme_retry_options_decode(yajl_val v, acme_retry_options *out, aro_err *err);

/* Rendering (server side). */
void acme_challenge_write(json_gen *g, const acme_challenge *c);
void acme_authz_write(json_gen *g, const acme_authz *a);
void acme_order_write(json_gen *g, const acme_order *o);
void acme_account_write(json_gen *g, const acme_account *a);
void acme_retry_options_write(json_gen *g, const acme_retry_options *r);
void acme_identifier_write(json_gen *g, const acme_identifier *id);

void acme_directory_clear(acme_directory *d);
void acme_account_clear(acme_account *a);
void acme_order_clear(acme_order *o);
void acme_authz_clear(acme_authz *a);
void acme_challenge_clear(acme_challenge *c);
void acme_retry_options_free(acme_retry_options *r);

/* Deep copies (the client keeps challenges across polls). */
void acme_challenge_copy(acme_challenge *dst, const acme_challenge *src);

#endif
