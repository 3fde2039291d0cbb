/* What the server stores: one record type per ACME object, plus the facts
 * retry-options renders from, and their codecs. Records are serialized as
 * JSON (readable with mdb_dump; a record gains a field without a
 * migration: unknown fields are ignored, missing ones take their zero
 * value). store/repo.c keeps them; nothing here knows LMDB or HTTP.
 *
 * Stored versus rendered (draft-aro-acme-retry-options): the store keeps
 * facts (attempts made, when each failure happened, which fresh challenges
 * were created when an offer was made) and never the "retry-options"
 * member itself, which rules/offer.c decides from those facts, the current
 * policy and the --no-retry-options switch. */
#ifndef ARO_STORE_RECORDS_H
#define ARO_STORE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "problem.h"
#include "status.h"
#include "strv.h"

#define ID_LEN 24

typedef struct {
    char id[ID_LEN];
    char *thumbprint;       /* RFC 7638 of the current key */
    char *jwk;              /* public JWK JSON of the current key */
    account_status status;
    char **contact;
    size_t ncontact;
    bool tos_agreed;
    char *eab_kid;
    time_t created;
} rec_account;

/* Why an invalid order is invalid: only AUTHZ may be undone (re-enable). */
typedef enum {
    INVALID_NONE,
    INVALID_AUTHZ,       /* an authorization failed validation: re-enable may undo it */
    INVALID_EXPIRED,
    INVALID_ISSUANCE,
    INVALID_AUTHZ_FINAL, /* an authorization was deactivated, expired or revoked */
} invalid_reason;

typedef struct {
    char id[ID_LEN];
    char account_id[ID_LEN];
    order_status status;
    invalid_reason invalid_reason;
    time_t created, expires;
    acme_identifier *identifiers;
    size_t nidentifiers;
    char *not_before, *not_after;   /* as requested, RFC 3339 */
    char **authz_ids;
    size_t nauthz;
    char *profile;
    char *replaces;                 /* ARI certID (RFC 9773 5) */
    acme_problem *error;
    char *cert_serial;              /* set once valid */
    time_t finalize_at;             /* processing: when issuance was queued */
    char *csr;                      /* processing: the CSR (base64url DER), so a restart can finish */
    bool hold;                      /* the client opted in to retry-options pending-hold */
} rec_order;

/* One failed validation attempt: what the retry policy needs later. */
typedef struct {
    time_t at;
    char chall_type[16];
    char problem_type[48];  /* short ACME type, e.g. "connection" */
    long dns_negative_ttl;  /* -1 unless a dns-01 lookup reported one */
    bool corroboration;     /* the primary passed, too few remote perspectives corroborated it
                             * (server/mpic/): no same-type offer (rules/offer.c) */
} rec_failure;

typedef struct {
    char id[ID_LEN];
    char account_id[ID_LEN];
    authz_status status;
    acme_identifier identifier;     /* value without "*." */
    bool wildcard;
    time_t created, expires;
    char **chall_ids;               /* listed in "challenges", in order */
    size_t nchall;
    /* Validation bookkeeping. attempt_seq numbers attempts so that a late
     * result of an older attempt never overwrites a newer one. */
    unsigned attempts;              /* attempts started */
    unsigned attempt_seq;           /* number of the attempt in flight or last */
    char active_chall_id[ID_LEN];   /* challenge being validated, "" if none */
    char last_chall_id[ID_LEN];     /* challenge of the latest attempt, running or ended */
    bool last_by_reenable;          /* that attempt was started by a re-enable request */
    rec_failure *failures;
    size_t nfailures;
    /* retry-options facts: whether an offer was made at the last failure
     * (never under --no-retry-options), why not if not, and the fresh
     * challenges created for same-type retries (pending, not yet listed). */
    bool offer_made;
    char *no_offer_reason;          /* e.g. "caa", "rejectedIdentifier" */
    char **offer_chall_ids;
    size_t noffer;
    /* Challenge types CAA (RFC 8657 validationmethods) excluded when the
     * offer was made: never offered, and a re-enable naming one is
     * refused. */
    char **caa_excluded;
    size_t ncaa_excluded;
    /* Pending-hold: created for an order whose client opted in, so a
     * failed challenge leaves it pending while an offer is open. */
    bool hold;
    /* Orders that referenced this authorization in records written before
     * the repository kept them in an index of their own (store/repo.c
     * reads both); never written for new orders. */
    char **legacy_order_ids;
    size_t nlegacy_orders;
} rec_authz;

typedef struct {
    char id[ID_LEN];
    char authz_id[ID_LEN];
    char *type;
    chall_status status;
    char *token;
    time_t validated;
    acme_problem *error;
    char *record_json;              /* validationRecord, raw JSON array */
} rec_chall;

typedef struct {
    char serial[48];                /* hex; also the record key */
    char account_id[ID_LEN];
    char order_id[ID_LEN];
    char **chains;                  /* PEM leaf + intermediates, per hierarchy */
    int nchains;
    time_t not_before, not_after;
    char **dns;                     /* names, for revocation by an authorized account */
    size_t ndns;
    char **ips;
    size_t nips;
    char *ari_id;                   /* RFC 9773 certID */
    bool revoked;
    int reason;
    time_t revoked_at;
    char replaced_by[ID_LEN];       /* order that consumed it via "replaces" */
    char claimed_by[ID_LEN];        /* newest order that "replaces" it (a claim while that order
                                     * is not invalid: RFC 9773 5), "" if none */
} rec_cert;

char *rec_account_to_json(const rec_account *r);
int rec_account_from_json(const char *s, size_t len, rec_account *r);
void rec_account_clear(rec_account *r);

char *rec_order_to_json(const rec_order *r);
int rec_order_from_json(const char *s, size_t len, rec_order *r);
void rec_order_clear(rec_order *r);

char *rec_authz_to_json(const rec_authz *r);
int rec_authz_from_json(const char *s, size_t len, rec_authz *r);
void rec_authz_clear(rec_authz *r);

char *rec_chall_to_json(const rec_chall *r);
int rec_chall_from_json(const char *s, size_t len, rec_chall *r);
void rec_chall_clear(rec_chall *r);

char *rec_cert_to_json(const rec_cert *r);
int rec_cert_from_json(const char *s, size_t len, rec_cert *r);
void rec_cert_clear(rec_cert *r);


#endif
