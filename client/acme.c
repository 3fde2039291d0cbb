#include "acme.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "http_fields.h"
#include "interrupt.h"
#include "jws.h"
#include "msg.h"

#define ACME_MAX_BODY (4 * 1024 * 1024)
#define ACME_BADNONCE_RETRIES 8 /* RFC 8555 6.5; at 30% injected rejections, 9 in a row: 2 in 100,000 */
#define ACME_BUSY_RETRIES 6 /* at 30% injected faults, 7 failures in a row: 2 in 10,000 */

/* Polling: RFC 8555 does not fix an interval; these keep aro gentle when the
 * server sends no Retry-After, and quick against Pebble's instant VA. */
static const backoff_policy poll_policy = {.base = 0.5, .cap = 15.0, .jitter = 0.3};

typedef struct {
    acme_resp *r;
    char *nonce;            /* Replay-Nonce of this response */
    bool too_big;
} xfer;

void acme_resp_clear(acme_resp *r)
{
    free(r->body);
    free(r->content_type);
    free(r->location);
    for (size_t i = 0; i < r->nalternates; i++)
        free(r->alternates[i]);
    free(r->alternates);
    free(r->link_index);
    json_free(r->json);
    problem_free(r->problem);
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    if (!http_body_append(&x->r->body, &x->r->body_len, ptr, n, ACME_MAX_BODY)) {
        x->too_big = true;
        return 0;
    }
    return n;
}

/* RFC 8555 7.4.2: rel="alternate" links are the alternate chains; 7.1:
 * rel="index" the directory. */
static bool keep_link(char *url, const char *rel, void *ud)
{
    acme_resp *r = ud;
    if (!strcasecmp(rel, "alternate")) {
        r->alternates = xrealloc(r->alternates, (r->nalternates + 1) * sizeof(char *));
        r->alternates[r->nalternates++] = url;
        return true;
    }
    if (!strcasecmp(rel, "index") && !r->link_index) {
        r->link_index = url;
        return true;
    }
    return false;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    /* A new response block (100 Continue, redirects): start over. */
    if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) {
        free(x->r->location);
        x->r->location = NULL;
        x->r->retry_after = -1;
        return n;
    }
    const char *name;
    size_t nlen;
    char *val;
    if (!http_field_split(ptr, n, &name, &nlen, &val))
        return n;
#define IS(h) http_field_is(name, nlen, h)
    if (IS("Replay-Nonce")) {
        free(x->nonce);
        x->nonce = val;
        val = NULL;
    } else if (IS("Location")) {
        free(x->r->location);
        x->r->location = val;
        val = NULL;
    } else if (IS("Content-Type")) {
        free(x->r->content_type);
        x->r->content_type = val;
        val = NULL;
    } else if (IS("Retry-After")) {
        x->r->retry_after = retry_after_parse(val, time(NULL));
    } else if (IS("Link")) {
        http_links_each(val, keep_link, x->r);
    }
#undef IS
    free(val);
    return n;
}

/* What a failed transfer means, with what to do about it where aro
 * knows: an untrusted CA certificate (a test CA needs --ca-bundle), an
 * unreadable bundle, a CA that does not answer. */
static void transfer_error(const acme_ctx *c, CURLcode rc, bool too_big, const char *method,
                           const char *url, aro_err *err)
{
    const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
        if (c->ca_bundle)
            aro_err_set(err, "%s %s: the CA's TLS certificate does not verify against --ca-bundle "
                        "%s (%s): is that file the CA's root?", method, url, c->ca_bundle, detail);
        else
            aro_err_set(err, "%s %s: the CA's TLS certificate is not trusted by the system (%s); a "
                        "test CA (aro-server, Pebble) needs --ca-bundle FILE with its root", method,
                        url, detail);
        return;
    case CURLE_SSL_CACERT_BADFILE:
        aro_err_set(err, "%s %s: cannot use the CA bundle %s (%s)", method, url,
                    c->ca_bundle ? c->ca_bundle : "(system)", detail);
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
        aro_err_set(err, "%s %s: %s (is --server the CA's directory, and is the CA up?)", method,
                    url, detail);
        return;
    case CURLE_ABORTED_BY_CALLBACK:
        aro_err_set(err, "%s %s: interrupted", method, url);
        return;
    default:
        aro_err_set(err, "%s %s: %s", method, url, too_big ? "response too large" : detail);
    }
}

/* libcurl's progress callback: a SIGINT or SIGTERM ends the transfer. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    return interrupt_stop() ? 1 : 0;
}

/* One HTTP exchange. method: "GET", "HEAD" or "POST". */
static int http_do(acme_ctx *c, const char *method, const char *url, const char *body,
                   struct curl_slist *hdrs, acme_resp *r, aro_err *err)
{
    int ret = -1;
    xfer x = {.r = r};
    acme_resp_clear(r);

    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c->curl, CURLOPT_NOBODY, 0L);
    /* POST state sticks to a reused handle (dependency-notes.md). */
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else {
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
        if (!strcmp(method, "HEAD"))
            curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
    }
    msg_debug(2, "%s %s", method, url);
    if (body)
        msg_debug(3, "request body: %s", body);
    c->requests++;
    c->errbuf[0] = '\0';
    CURLcode rc = c->driver ? c->driver->perform(c->curl) : curl_easy_perform(c->curl);
    if (x.nonce) {
        free(c->nonce);
        c->nonce = x.nonce;
        x.nonce = NULL;
    }
    if (rc != CURLE_OK) {
        transfer_error(c, rc, x.too_big, method, url, err);
        goto out;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
    msg_debug(2, "  -> %ld%s%s", r->status, r->location ? " Location: " : "",
              r->location ? r->location : "");
    if (r->body)
        msg_debug(3, "  response body: %s", r->body);
    if (r->body_len && (http_media_type_is(r->content_type, "application/json") ||
                        http_media_type_is(r->content_type, "application/problem+json"))) {
        aro_err jerr;
        r->json = json_parse(r->body, r->body_len, &jerr);
        if (!r->json) {
            aro_err_set(err, "%s %s: the CA's JSON does not parse: %s", method, url, jerr.msg);
            goto out;
        }
        if (http_media_type_is(r->content_type, "application/problem+json") || r->status >= 400)
            r->problem = problem_decode(r->json);
    }
    ret = 0;
out:
    free(x.nonce);
    return ret;
}

/* "what failed: what the CA said" (RFC 8555 6.7). */
static void set_http_error(aro_err *err, const char *what, const char *url, const acme_resp *r)
{
    if (r->problem)
        aro_err_set(err, "%s %s: HTTP %ld, %s: %s", what, url, r->status,
                    r->problem->type ? r->problem->type : "(no type)",
                    r->problem->detail ? r->problem->detail : "(no detail)");
    else
        aro_err_set(err, "%s %s: HTTP %ld%s%.200s", what, url, r->status,
                    r->body_len ? ": " : "", r->body_len ? r->body : "");
}

const char *acme_resp_problem(const acme_resp *r)
{
    return r->problem && r->problem->type ? problem_short_type(r->problem->type) : NULL;
}

static void transport_sleep(acme_ctx *c, double seconds)
{
    if (c->driver)
        c->driver->sleep(seconds);
    else
        sleep_seconds(seconds);
}

static bool wait_allowed(acme_ctx *c, const acme_resp *r, unsigned attempt, const char *url)
{
    long wait = r->retry_after >= 0 ? r->retry_after : (long)(1L << (attempt + 1));
    if (wait > c->max_wait)
        return false;
    msg_info("%s: the CA asks to wait (%s); waiting %ld s as told", url,
             r->problem && r->problem->detail ? r->problem->detail : "busy", wait);
    transport_sleep(c, (double)(wait ? wait : 1));
    return true;
}

int acme_get(acme_ctx *c, const char *url, acme_resp *r, aro_err *err)
{
    for (unsigned attempt = 0;; attempt++) {
        if (http_do(c, "GET", url, NULL, c->hdr_plain, r, err))
            return -1;
        if (r->status >= 200 && r->status < 300)
            return 0;
        if ((r->status == 503 || r->status == 429) && attempt < ACME_BUSY_RETRIES &&
            wait_allowed(c, r, attempt, url))
            continue;
        set_http_error(err, "GET", url, r);
        return -1;
    }
}

static int new_nonce(acme_ctx *c, aro_err *err)
{
    int ret = -1;
    acme_resp r = {.retry_after = -1};
    if (!c->dir.new_nonce) {
        aro_err_set(err, "the directory has no newNonce");
        goto out;
    }
    /* 7.2: HEAD newNonce; the nonce arrives in Replay-Nonce. */
    if (http_do(c, "HEAD", c->dir.new_nonce, NULL, c->hdr_plain, &r, err))
        goto out;
    if (!c->nonce) {
        aro_err_set(err, "HEAD %s: HTTP %ld without a Replay-Nonce", c->dir.new_nonce, r.status);
        goto out;
    }
    ret = 0;
out:
    acme_resp_clear(&r);
    return ret;
}

static int post_hdrs(acme_ctx *c, EVP_PKEY *key, const char *kid, const char *url,
                     const char *payload, struct curl_slist *hdrs, acme_resp *r, aro_err *err)
{
    unsigned bad_nonces = 0, busy = 0;
    for (;;) {
        if (!c->nonce && new_nonce(c, err))
            return -1;
        char *nonce = c->nonce;
        c->nonce = NULL;        /* a nonce is good for one request */
        if (key != c->signed_with) {
            EVP_PKEY_CTX_free(c->signing);
            EVP_PKEY_free(c->signed_with);
            c->signed_with = key && EVP_PKEY_up_ref(key) ? key : NULL;
            c->signing = c->signed_with ? jws_prepare_sign(key) : NULL;
        }
        char *jws = jws_sign_prepared(key, key == c->signed_with ? c->signing : NULL, kid, nonce, url,
                                      payload ? payload : "", payload ? strlen(payload) : 0);
        free(nonce);
        if (!jws) {
            aro_err_set(err, "cannot sign the request to %s", url);
            return -1;
        }
        if (payload)
            msg_debug(3, "payload for %s: %s", url, payload);
        int rc = http_do(c, "POST", url, jws, hdrs, r, err);
        free(jws);
        if (rc)
            return -1;
        if (r->status >= 200 && r->status < 300)
            return 0;
        const char *pt = acme_resp_problem(r);
        /* 6.5: a badNonce error carries a fresh nonce; retry with it, boundedly. */
        if (pt && !strcmp(pt, "badNonce") && bad_nonces++ < ACME_BADNONCE_RETRIES) {
            msg_debug(1, "%s: badNonce, retrying with the new nonce", url);
            continue;
        }
        /* 6.6: rateLimited with Retry-After; 503 busy; a 5xx that says when
         * to come back, or any 5xx on a POST-as-GET (reading changes
         * nothing). Waiting is honest only when the wait is short;
         * otherwise stop and say until when. */
        bool server_error = r->status >= 500 && (r->retry_after >= 0 || !payload || !*payload);
        if (((pt && !strcmp(pt, "rateLimited")) || r->status == 503 || server_error) &&
            busy < ACME_BUSY_RETRIES && wait_allowed(c, r, busy, url)) {
            busy++;
            continue;
        }
        set_http_error(err, "POST", url, r);
        if (pt && !strcmp(pt, "rateLimited")) {
            size_t l = strlen(err->msg);
            if (r->retry_after >= 0)
                snprintf(err->msg + l, sizeof err->msg - l,
                         " (rate limited: the CA asks to retry in %ld s, more than --max-wait %ld s; stopping)",
                         r->retry_after, c->max_wait);
            else
                snprintf(err->msg + l, sizeof err->msg - l, " (rate limited; stopping)");
        }
        return -1;
    }
}

int acme_post_key(acme_ctx *c, EVP_PKEY *key, const char *kid, const char *url,
                  const char *payload, acme_resp *r, aro_err *err)
{
    return post_hdrs(c, key, kid, url, payload, c->hdr_jose, r, err);
}

int acme_post(acme_ctx *c, const char *url, const char *payload, acme_resp *r, aro_err *err)
{
    return post_hdrs(c, c->key, c->kid, url, payload, c->hdr_jose, r, err);
}

int acme_post_pem(acme_ctx *c, const char *url, acme_resp *r, aro_err *err)
{
    return post_hdrs(c, c->key, c->kid, url, NULL, c->hdr_pem, r, err);
}

double acme_poll_wait(acme_ctx *c, const acme_resp *r, unsigned attempt)
{
    double d;
    if (r && r->retry_after >= 0) {
        d = (double)r->retry_after;
        if (d < 1)
            d = 1;
        if (d > (double)c->max_wait)
            d = (double)c->max_wait;
    } else {
        d = backoff_next(&poll_policy, attempt);
    }
    transport_sleep(c, d);
    return d;
}

int acme_open(acme_ctx *c, const char *directory_url, const char *ca_bundle, aro_err *err)
{
    int ret = -1;
    acme_resp r = {.retry_after = -1};
    const acme_driver *driver = c->driver;
    memset(c, 0, sizeof *c);
    c->driver = driver;
    if (!c->max_wait)
        c->max_wait = 300;
    c->directory_url = xstrdup(directory_url);
    c->curl = curl_easy_init();
    if (!c->curl) {
        aro_err_set(err, "curl_easy_init failed");
        goto out;
    }
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "aro/" ARO_VERSION " (retry-options)");
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    /* 6.1: ACME runs over HTTPS only. */
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    if (ca_bundle) {
        /* Named now: libcurl would only say "problem with the SSL CA cert". */
        if (access(ca_bundle, R_OK)) {
            aro_err_set(err, "--ca-bundle %s: %s", ca_bundle, strerror(errno));
            goto out;
        }
        c->ca_bundle = xstrdup(ca_bundle);
        curl_easy_setopt(c->curl, CURLOPT_CAINFO, ca_bundle);
    }
    /* 6.1: "ACME clients SHOULD send an Accept-Language header field";
     * aro speaks English. */
    c->hdr_plain = curl_slist_append(NULL, "Accept-Language: en");
    c->hdr_jose = curl_slist_append(NULL, "Content-Type: application/jose+json");
    c->hdr_jose = curl_slist_append(c->hdr_jose, "Accept-Language: en");
    c->hdr_jose = curl_slist_append(c->hdr_jose, "Expect:");
    c->hdr_pem = curl_slist_append(NULL, "Content-Type: application/jose+json");
    c->hdr_pem = curl_slist_append(c->hdr_pem, "Accept-Language: en");
    c->hdr_pem = curl_slist_append(c->hdr_pem, "Expect:");
    c->hdr_pem = curl_slist_append(c->hdr_pem, "Accept: application/pem-certificate-chain");

    if (acme_get(c, directory_url, &r, err))
        goto out;
    if (!r.json) {
        aro_err_set(err, "GET %s: the directory is not JSON", directory_url);
        goto out;
    }
    aro_err derr;
    if (acme_directory_decode(r.json, &c->dir, &derr)) {
        aro_err_set(err, "the directory at %s: %s", directory_url, derr.msg);
        goto out;
    }
    if (!c->dir.new_nonce || !c->dir.new_account || !c->dir.new_order) {
        aro_err_set(err, "the directory at %s lacks newNonce, newAccount or newOrder",
                    directory_url);
        goto out;
    }
    ret = 0;
out:
    acme_resp_clear(&r);
    return ret;
}

void acme_close(acme_ctx *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->hdr_plain);
    curl_slist_free_all(c->hdr_jose);
    curl_slist_free_all(c->hdr_pem);
    acme_directory_clear(&c->dir);
    free(c->directory_url);
    free(c->ca_bundle);
    free(c->nonce);
    free(c->kid);
    EVP_PKEY_CTX_free(c->signing);
    EVP_PKEY_free(c->signed_with);
    memset(c, 0, sizeof *c);
}
