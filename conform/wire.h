/* Raw HTTPS for the checks: one request, exactly as asked (method, body,
 * Content-Type or none, Accept), and the whole answer kept (status, every
 * header the checks judge, Link relations, the body parsed as JSON and as
 * a problem document). Nothing here retries, signs or fetches nonces:
 * that is what lets a check send a request that is wrong on purpose.
 * The setup of the checks goes through the client's polite transport
 * instead (client/acme.h).
 *
 * An observer, when set, sees every exchange: the errors area judges all
 * answers of a run at once (problem documents, Replay-Nonce on every
 * successful POST, Link rel="index"). */
#ifndef ARO_CONFORM_WIRE_H
#define ARO_CONFORM_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "problem.h"
#include "util.h"

typedef struct {
    char *url, *rel;
} wire_link;

typedef struct {
    long status;
    char *body;
    size_t body_len;
    char *content_type;
    char *replay_nonce;         /* the last Replay-Nonce field, NULL when none */
    char *location;
    char *retry_after;          /* raw value */
    char *cache_control;
    wire_link *links;
    size_t nlinks;
    yajl_val json;              /* body parsed as JSON, whatever the Content-Type */
    acme_problem *problem;      /* body as a problem document (it has "type") */
    double seconds;             /* how long the exchange took */
} wire_resp;

typedef struct wire wire;

typedef void (*wire_observer)(void *ud, const char *method, const char *url, const wire_resp *r);

/* ca_bundle may be NULL (system trust). NULL on failure with err set. */
wire *wire_new(const char *ca_bundle, aro_err *err);
void wire_free(wire *w);
void wire_set_observer(wire *w, wire_observer fn, void *ud);

/* method "GET", "HEAD", "POST", "PUT"; body NULL for none; content_type
 * NULL sends no Content-Type; accept NULL sends curl's default. 0 when an
 * HTTP answer came (whatever its status), -1 with err on a transport
 * failure (connection, TLS, timeout). */
int wire_request(wire *w, const char *method, const char *url, const char *body,
                 const char *content_type, const char *accept, wire_resp *r, aro_err *err);
int wire_get(wire *w, const char *url, wire_resp *r, aro_err *err);
/* POST with Content-Type: application/jose+json. */
int wire_post(wire *w, const char *url, const char *jws, wire_resp *r, aro_err *err);

void wire_resp_clear(wire_resp *r);

/* The first link with relation rel, or NULL; wire_link_count counts them. */
const char *wire_link_rel(const wire_resp *r, const char *rel);
size_t wire_link_count(const wire_resp *r, const char *rel);
/* Short ACME problem type ("badNonce"), the full type when outside the
 * ACME namespace, NULL when the answer is no problem document. */
const char *wire_problem(const wire_resp *r);
/* Retry-After in seconds from now (RFC 9110 10.2.3), -1 when absent or
 * unparseable. */
long wire_retry_after(const wire_resp *r);
/* True when Content-Type is the media type (parameters ignored). */
bool wire_content_type_is(const wire_resp *r, const char *type);
/* "HTTP 400 malformed: detail" or "HTTP 200", for check details. */
const char *wire_describe(const wire_resp *r, char *buf, size_t len);

#endif
