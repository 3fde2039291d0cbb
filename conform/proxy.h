/* The recording proxy of client mode: an HTTPS listener on 127.0.0.1 with
 * a certificate of its own (a fresh self-signed one; its PEM is the
 * {ca_bundle} the client trusts), HTTP/1.1 only, that forwards every
 * request unchanged (its Host header included, so aro-server renders URLs
 * that point at the proxy and checks JWS "url" against them) to aro-server
 * and its answer back, and records both sides with their times: what an
 * ACME server sees of a client, with the payloads that aro-server's
 * request log leaves out. Hooks see each request before it is forwarded
 * and each exchange once answered (the scenarios make a validation fail
 * there).
 *
 * Threads: one accepting, one per connection; the log is appended under a
 * lock and read only after proxy_stop. */
#ifndef ARO_CONFORM_PROXY_H
#define ARO_CONFORM_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "util.h"

typedef struct {
    double t_req, t_resp;       /* seconds since the proxy started: request read, answer sent */
    char *method, *path;        /* path with its query */
    char *host;                 /* Host header as sent */
    char *user_agent, *content_type, *accept, *accept_language; /* NULL when absent */
    bool replay_nonce_header;   /* the request carried Replay-Nonce */
    char *body;
    size_t body_len;
    /* The body as a JWS (NULL members when it is none). */
    yajl_val jws;               /* the parsed body */
    yajl_val header;            /* the decoded protected header */
    char *payload;              /* the decoded payload ("" for POST-as-GET) */
    bool flattened;             /* exactly protected, payload, signature */
    /* The answer. */
    long status;
    char *resp_content_type, *retry_after, *replay_nonce, *location;
    char **alternates;          /* Link rel="alternate" */
    size_t nalternates;
    char *resp_body;
    size_t resp_len;
    yajl_val resp_json;
    char *problem;              /* short problem type, NULL when none */
} exchange;

typedef struct proxy proxy;

/* Called from the connection's thread: before a request is forwarded
 * (answer members still empty), and after its answer was sent. */
typedef void (*proxy_hook)(void *ud, const exchange *e);

/* Listen on a free port; certificate and key are written into dir.
 * upstream: "https://127.0.0.1:PORT" of aro-server, trusted via
 * upstream_ca. NULL with err on failure. */
proxy *proxy_start(const char *dir, const char *upstream, const char *upstream_ca, proxy_hook on_request,
                   proxy_hook on_answer, void *ud, aro_err *err);
int proxy_port(const proxy *p);
const char *proxy_ca_file(const proxy *p);
/* Stop listening, end every connection, join the threads. */
void proxy_stop(proxy *p);
/* The exchanges in the order their answers were sent (valid after stop). */
const exchange *proxy_log(const proxy *p, size_t *n);
void proxy_free(proxy *p);

#endif
