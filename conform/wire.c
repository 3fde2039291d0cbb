#include "wire.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backoff.h"
#include "http_fields.h"

#define WIRE_MAX_BODY (4 * 1024 * 1024)

struct wire {
    CURL *curl;
    wire_observer observe;
    void *observe_ud;
};

typedef struct {
    wire_resp *r;
    bool too_big;
} xfer;

void wire_resp_clear(wire_resp *r)
{
    free(r->body);
    free(r->content_type);
    free(r->replay_nonce);
    free(r->location);
    free(r->retry_after);
    free(r->cache_control);
    for (size_t i = 0; i < r->nlinks; i++) {
        free(r->links[i].url);
        free(r->links[i].rel);
    }
    free(r->links);
    json_free(r->json);
    problem_free(r->problem);
    memset(r, 0, sizeof *r);
}

wire *wire_new(const char *ca_bundle, aro_err *err)
{
    wire *w = xcalloc(1, sizeof *w);
    w->curl = curl_easy_init();
    if (!w->curl) {
        aro_err_set(err, "curl_easy_init failed");
        free(w);
        return NULL;
    }
    curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "aro-conform/0.1");
    curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    /* RFC 8555 6.1: HTTPS only. */
    curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "https");
    if (ca_bundle)
        curl_easy_setopt(w->curl, CURLOPT_CAINFO, ca_bundle);
    return w;
}

void wire_free(wire *w)
{
    if (!w)
        return;
    curl_easy_cleanup(w->curl);
    free(w);
}

void wire_set_observer(wire *w, wire_observer fn, void *ud)
{
    w->observe = fn;
    w->observe_ud = ud;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    if (!http_body_append(&x->r->body, &x->r->body_len, ptr, n, WIRE_MAX_BODY)) {
        x->too_big = true;
        return 0;
    }
    return n;
}

static bool keep_link(char *url, const char *rel, void *ud)
{
    wire_resp *r = ud;
    r->links = xrealloc(r->links, (r->nlinks + 1) * sizeof *r->links);
    r->links[r->nlinks].url = url;
    r->links[r->nlinks].rel = xstrdup(rel);
    r->nlinks++;
    return true;
}

static void replace(char **dst, char *v)
{
    free(*dst);
    *dst = v;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    wire_resp *r = x->r;
    size_t n = size * nmemb;
    if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) {
        /* A new response block (100 Continue): keep only the last. */
        for (size_t i = 0; i < r->nlinks; i++) {
            free(r->links[i].url);
            free(r->links[i].rel);
        }
        r->nlinks = 0;
        replace(&r->replay_nonce, NULL);
        replace(&r->location, NULL);
        replace(&r->retry_after, NULL);
        replace(&r->content_type, NULL);
        replace(&r->cache_control, NULL);
        return n;
    }
    const char *name;
    size_t nlen;
    char *val;
    if (!http_field_split(ptr, n, &name, &nlen, &val))
        return n;
#define IS(h) http_field_is(name, nlen, h)
    if (IS("Replay-Nonce"))
        replace(&r->replay_nonce, val), val = NULL;
    else if (IS("Location"))
        replace(&r->location, val), val = NULL;
    else if (IS("Content-Type"))
        replace(&r->content_type, val), val = NULL;
    else if (IS("Retry-After"))
        replace(&r->retry_after, val), val = NULL;
    else if (IS("Cache-Control")) {
        if (r->cache_control) {
            char *both = xasprintf("%s, %s", r->cache_control, val);
            replace(&r->cache_control, both);
        } else {
            r->cache_control = val;
            val = NULL;
        }
    } else if (IS("Link"))
        http_links_each(val, keep_link, r);
#undef IS
    free(val);
    return n;
}

bool wire_content_type_is(const wire_resp *r, const char *type)
{
    return http_media_type_is(r->content_type, type);
}

int wire_request(wire *w, const char *method, const char *url, const char *body,
                 const char *content_type, const char *accept, wire_resp *r, aro_err *err)
{
    CURL *c = w->curl;
    xfer x = {.r = r};
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    char *ct = NULL, *ac = NULL;
    wire_resp_clear(r);

    if (content_type) {
        ct = xasprintf("Content-Type: %s", content_type);
    } else if (body) {
        /* curl adds application/x-www-form-urlencoded by itself: an empty
         * value removes the field. */
        ct = xstrdup("Content-Type:");
    }
    if (ct)
        hdrs = curl_slist_append(hdrs, ct);
    if (accept) {
        ac = xasprintf("Accept: %s", accept);
        hdrs = curl_slist_append(hdrs, ac);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
        if (strcmp(method, "POST"))
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode rc = curl_easy_perform(c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    curl_slist_free_all(hdrs);
    free(ct);
    free(ac);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc != CURLE_OK) {
        aro_err_set(err, "%s %s: %s", method, url, x.too_big ? "response too large" : curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->body_len) {
        aro_err jerr;
        r->json = json_parse(r->body, r->body_len, &jerr);
        /* A challenge object has a "type" too: only an error answer, or
         * one labelled as such, is a problem document. */
        if (r->json && (r->status >= 400 || wire_content_type_is(r, "application/problem+json")))
            r->problem = problem_decode(r->json);
    }
    if (w->observe)
        w->observe(w->observe_ud, method, url, r);
    return 0;
}

int wire_get(wire *w, const char *url, wire_resp *r, aro_err *err)
{
    return wire_request(w, "GET", url, NULL, NULL, NULL, r, err);
}

int wire_post(wire *w, const char *url, const char *jws, wire_resp *r, aro_err *err)
{
    return wire_request(w, "POST", url, jws, "application/jose+json", NULL, r, err);
}

const char *wire_link_rel(const wire_resp *r, const char *rel)
{
    for (size_t i = 0; i < r->nlinks; i++)
        if (!strcasecmp(r->links[i].rel, rel))
            return r->links[i].url;
    return NULL;
}

size_t wire_link_count(const wire_resp *r, const char *rel)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nlinks; i++)
        n += !strcasecmp(r->links[i].rel, rel);
    return n;
}

const char *wire_problem(const wire_resp *r)
{
    return r->problem && r->problem->type ? problem_short_type(r->problem->type) : NULL;
}

long wire_retry_after(const wire_resp *r)
{
    return retry_after_parse(r->retry_after, time(NULL));
}

const char *wire_describe(const wire_resp *r, char *buf, size_t len)
{
    const char *pt = wire_problem(r);
    if (pt)
        snprintf(buf, len, "HTTP %ld %s: %.160s", r->status, pt,
                 r->problem->detail ? r->problem->detail : "(no detail)");
    else if (r->status >= 400 && r->body_len)
        snprintf(buf, len, "HTTP %ld (%s): %.120s", r->status,
                 r->content_type ? r->content_type : "no Content-Type", r->body);
    else
        snprintf(buf, len, "HTTP %ld", r->status);
    return buf;
}
