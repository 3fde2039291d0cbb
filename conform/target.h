/* The ACME server under test, as the server-mode checks see it: its
 * directory, the raw transport (wire.h) with a nonce kept from the last
 * answer, the accounts the checks create, and the setup steps every area
 * needs (orders, challenges passed through pebble-challtestsrv, polling,
 * issuance). Setup goes through the client's polite transport
 * (client/acme.h: badNonce retries, Retry-After), so that a check fails
 * because of what it sends on purpose, not because its setup tripped.
 *
 * Return conventions: int functions are 0 on success, -1 with err set;
 * pointers are owned by the caller unless marked "borrowed". Names are
 * unique per run under --domain (default example.com). */
#ifndef ARO_CONFORM_TARGET_H
#define ARO_CONFORM_TARGET_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <time.h>

#include "acme.h"
#include "json.h"
#include "keys.h"
#include "report.h"
#include "wire.h"

typedef struct {
    char *who;          /* "alice", for details */
    EVP_PKEY *key;
    char *kid;          /* account URL (Location of newAccount) */
    acme_ctx ctx;       /* the client's transport, signed as this account */
} tacct;

/* An object read back: its URL, the body parsed, the HTTP answer. */
typedef struct {
    char *url;
    yajl_val json;
    long status;
    long retry_after;   /* -1 when absent */
} tobj;

/* A certificate issued during the run. */
typedef struct {
    char *name;          /* its one DNS identifier */
    char *order_url;
    char *cert_url;
    char *pem;           /* the chain as downloaded */
    char **alternates;   /* Link rel="alternate" URLs */
    size_t nalternates;
    EVP_PKEY *cert_key;
    unsigned char *der;  /* the leaf, DER */
    size_t der_len;
    tacct *owner;        /* borrowed */
} issued;

typedef struct {
    /* options */
    const char *directory_url;
    const char *ca_bundle;      /* NULL: system trust */
    const char *cts;            /* challtestsrv management URL, NULL: cannot pass challenges */
    const char *domain;         /* names are made under it */
    long max_wait;              /* longest wait for a notBefore or a poll, seconds */
    double poll_max;            /* longest wait between two polls (0: 3 s, honouring Retry-After below it) */
    /* state */
    report *rep;
    wire *w;
    yajl_val dir;               /* the directory (owned) */
    const char *new_nonce, *new_account, *new_order, *new_authz, *revoke_cert, *key_change,
        *renewal_info;          /* borrowed from dir */
    yajl_val ro_meta;           /* meta["retry-options"], NULL when not advertised (borrowed) */
    bool ro_hold;               /* ... and it says "hold": true */
    char *nonce;                /* the Replay-Nonce of the last raw answer, unused */
    unsigned seq;
} target;

/* Fetch and parse the directory (no judging: the directory area does).
 * 0; 1 when an answer came that is no JSON directory (err says what);
 * -1 when none came (connection, TLS). */
int target_open(target *t, aro_err *err);
void target_close(target *t);

/* A unique name under the domain: "LABEL-N-RAND.DOMAIN". */
char *target_name(target *t, const char *label);
/* A fresh nonce: the one kept from the last raw answer, else HEAD newNonce. */
char *target_nonce(target *t);
/* Raw POST of a JWS built by the caller; the answer's nonce is kept. */
int target_send(target *t, const char *url, const char *jws, wire_resp *r, aro_err *err);
/* Raw, well-formed request of account a (kid) or of key alone (jwk when
 * a is NULL); payload NULL is POST-as-GET. */
int target_raw(target *t, const tacct *a, EVP_PKEY *key, const char *url, const char *payload,
               wire_resp *r, aro_err *err);

/* POST-as-GET of account a with an Accept header (7.4.2). */
int target_raw_accept(target *t, const tacct *a, const char *url, const char *accept, wire_resp *r, aro_err *err);

/* newAccount with a new key of type kt: {"termsOfServiceAgreed": true,
 * "contact": [mailto]}; r (optional) receives the answer. */
tacct *tacct_new(target *t, const char *who, key_type kt, acme_resp *r, aro_err *err);
void tacct_free(tacct *a);

/* POST-as-GET through the polite transport. */
int tobj_fetch(tacct *a, const char *url, tobj *o, aro_err *err);
void tobj_clear(tobj *o);
const char *tobj_status(const tobj *o);
/* Poll url until its status is one of stop ("valid invalid"), or the
 * authorization's challenge at chall_url (when given) is no longer
 * pending/processing; honours Retry-After within max_wait. */
int tobj_poll(target *t, tacct *a, const char *url, const char *stop, const char *chall_url, tobj *o,
              aro_err *err);

/* newOrder for names (and extra payload members, raw JSON without braces,
 * or NULL); o gets the order with its URL from Location. */
int order_new(tacct *a, const char *const *names, size_t n, const char *extra, tobj *o, aro_err *err);
/* The order's first authorization URL (borrowed), NULL when none. */
const char *order_first_authz(const tobj *o);
/* The challenge of type in an authorization object (borrowed), or NULL. */
yajl_val challenge_of(yajl_val authz, const char *type);
/* Make challtestsrv answer the challenge (http-01 token or dns-01 TXT). */
int challenge_provision(target *t, tacct *a, const char *name, yajl_val chall, aro_err *err);
/* Provision, respond ({}), poll the authorization until it is final. */
int authz_validate(target *t, tacct *a, const char *authz_url, const char *type, tobj *final,
                   aro_err *err);
/* Order, validate with http-01, finalize, download: one certificate. */
int issue_certificate(target *t, tacct *a, const char *name, issued *out, aro_err *err);
void issued_clear(issued *c);
/* base64url(DER CSR) for names with key. */
char *csr_b64(EVP_PKEY *key, const char *const *names, size_t n);

/* Structural JSON equality (object member order ignored). */
bool json_same(yajl_val a, yajl_val b);
/* The string value of v, "" when v is not a string. */
const char *json_string_or_empty(yajl_val v);
/* Number of elements of an array member, -1 when it is not an array. */
long json_array_len(yajl_val v);
/* RFC 3339 member as time, 0 when absent or unparseable. */
time_t json_time(yajl_val obj, const char *key);
/* Sleep until t (wall clock) plus margin seconds, at most max seconds. */
void sleep_until(time_t t, double margin, long max);

#endif
