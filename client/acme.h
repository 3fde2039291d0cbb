/* The ACME transport (RFC 8555 6, 7.1.1, 7.2): the directory, nonces, JWS
 * POSTs with the badNonce retry (6.5), POST-as-GET (6.3), Retry-After,
 * problem documents (6.7), and the Location and Link headers. Nothing here
 * knows what an order is: order.c, authorize.c and the commands read as the protocol, this file as HTTP. */
#ifndef ARO_CLIENT_ACME_H
#define ARO_CLIENT_ACME_H

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdbool.h>

#include "acme_objects.h"
#include "json.h"
#include "problem.h"
#include "util.h"

typedef struct {
    long status;            /* HTTP status */
    char *body;
    size_t body_len;
    char *content_type;
    char *location;
    long retry_after;       /* seconds from the response, -1 when absent */
    char **alternates;      /* Link rel="alternate" (7.4.2) */
    size_t nalternates;
    char *link_index;       /* Link rel="index" */
    yajl_val json;          /* parsed body when it is JSON */
    acme_problem *problem;  /* when the body is a problem document */
} acme_resp;

/* How a transfer and a wait run. Without a driver: curl_easy_perform and
 * sleeping the thread. An event-driven caller (aro-loadgen runs its
 * workers as coroutines on one thread, tests/bench/sched.h) runs the
 * transfer on its own curl multi handle and yields while it waits. */
typedef struct {
    CURLcode (*perform)(CURL *curl);
    void (*sleep)(double seconds);
} acme_driver;

typedef struct {
    const acme_driver *driver;  /* NULL: block. Set it in a zeroed acme_ctx before
                                 * acme_open; acme_close clears it with the rest */
    CURL *curl;
    char *directory_url;
    acme_directory dir;
    char *nonce;
    EVP_PKEY *key;          /* account key (not owned) */
    /* The key of the last signed request (a reference held, so the
     * pointer cannot come back as another key) and its signing context
     * (jws_prepare_sign), kept across requests. */
    EVP_PKEY *signed_with;
    EVP_PKEY_CTX *signing;
    char *kid;              /* account URL, once known */
    long max_wait;          /* longest wait aro accepts from Retry-After, seconds */
    unsigned requests;      /* HTTP requests made (for the report) */
    char *ca_bundle;        /* --ca-bundle, or NULL */
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *hdr_plain, *hdr_jose, *hdr_pem;
} acme_ctx;

/* Fetch the directory (7.1.1). */
int acme_open(acme_ctx *c, const char *directory_url, const char *ca_bundle, aro_err *err);
void acme_close(acme_ctx *c);

void acme_resp_clear(acme_resp *r);

/* GET (directory, ARI renewalInfo). 0 on a 2xx answer; -1 otherwise, with
 * err saying what the CA said. */
int acme_get(acme_ctx *c, const char *url, acme_resp *r, aro_err *err);

/* POST a JWS (6.2): signed with the account key and its kid when known,
 * with the public JWK otherwise (newAccount, 7.3). payload NULL makes a
 * POST-as-GET (6.3). Retries on badNonce with the nonce from the error
 * (6.5), and on rateLimited/503 when Retry-After fits within max_wait.
 * 0 on 2xx; -1 otherwise with err = "what: type: detail" and r->problem. */
int acme_post(acme_ctx *c, const char *url, const char *payload, acme_resp *r, aro_err *err);
/* Same with an explicit key; kid NULL embeds the JWK (newAccount,
 * revocation with the certificate key, 7.6). */
int acme_post_key(acme_ctx *c, EVP_PKEY *key, const char *kid, const char *url,
                  const char *payload, acme_resp *r, aro_err *err);
/* POST-as-GET with Accept: application/pem-certificate-chain (7.4.2). */
int acme_post_pem(acme_ctx *c, const char *url, acme_resp *r, aro_err *err);

/* How long aro polls an authorization or order before it gives up. */
#define ACME_POLL_DEADLINE_SECONDS 600

/* Wait before the next poll: the response's Retry-After when present
 * (clamped to [1, max_wait]), else exponential backoff with jitter.
 * Returns the seconds waited. */
double acme_poll_wait(acme_ctx *c, const acme_resp *r, unsigned attempt);

/* Short name of the problem type in r, or NULL. */
const char *acme_resp_problem(const acme_resp *r);

#endif
