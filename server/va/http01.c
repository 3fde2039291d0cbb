/* http-01 (RFC 8555 8.3): GET http://IDENT/.well-known/acme-challenge/TOKEN
 * and compare the body with the key authorization.
 *
 * libcurl does the HTTP, but never its own name resolution: every host is
 * resolved through c-ares (the configured DNS server) and pinned with
 * CURLOPT_RESOLVE, so the address policy sees every address contacted.
 * For the same reason curl follows no redirects: each hop is checked
 * (scheme, port, re-resolved, policy) and fetched here. */
#include "va/internal.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "va/address.h"

/* A URL's parts that decide where a request goes. */
typedef struct {
    char *scheme;
    char *host; /* IPv6 literals without brackets */
    int port;
} url_parts;

typedef struct {
    long status;
    char *location; /* absolute redirect target, or NULL */
    char *used;     /* the address connected to */
    aro_buf body;
    size_t max_body;
    bool too_big;
} hop_result;

static void url_parts_clear(url_parts *u)
{
    free(u->scheme);
    free(u->host);
    memset(u, 0, sizeof *u);
}

static void hop_result_clear(hop_result *r)
{
    free(r->location);
    free(r->used);
    buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

static int url_split(const char *url, url_parts *u)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    memset(u, 0, sizeof *u);
    if (!h || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK) goto out;
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto out;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
        u->host = xstrndup(host + 1, hl - 2);
    else
        u->host = xstrdup(host);
    u->scheme = xstrdup(scheme);
    u->port = atoi(port);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(h);
    return rc;
}

/* IPv6 literals go in brackets in URLs, Host headers and CURLOPT_RESOLVE. */
static char *host_for_url(const char *host)
{
    return strchr(host, ':') ? xasprintf("[%s]", host) : xstrdup(host);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    hop_result *r = arg;
    size_t n = size * nmemb;
    if (r->body.len + n > r->max_body) {
        r->too_big = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    buf_append(&r->body, ptr, n);
    return n;
}

static acme_problem *curl_problem(CURLcode rc, const hop_result *r, const char *url,
                                  const char *errbuf)
{
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_WRITE_ERROR:
        if (r->too_big)
            return va_problem("unauthorized", "Fetching %s: response body larger than %zu bytes",
                              url, r->max_body);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        return va_problem("connection", "Fetching %s: Timeout during connect or read (%s)", url,
                          why);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
        return va_problem("tls", "Fetching %s: %s", url, why);
    default:
        break;
    }
    return va_problem("connection", "Fetching %s: %s", url, why);
}

/* One GET of url pinned to addr. Returns the curl code; r filled. */
static CURLcode fetch_at(const va_ctx *ctx, const char *url, const url_parts *u, const char *addr,
                         hop_result *r, char errbuf[CURL_ERROR_SIZE])
{
    CURL *c = curl_easy_init();
    struct curl_slist *resolve = NULL, *headers = NULL;
    char *uhost = host_for_url(u->host), *uaddr = host_for_url(addr);
    char *pin = xasprintf("%s:%d:%s", uhost, u->port, uaddr);
    /* Host is the name alone, as in production where the port is 80. */
    char *host_hdr = xasprintf("Host: %s", uhost);
    CURLcode rc = CURLE_FAILED_INIT;
    long left = va_remaining_ms(ctx);
    errbuf[0] = '\0';
    if (!c) goto out;
    if (left <= 0) {
        rc = CURLE_OPERATION_TIMEDOUT;
        goto out;
    }
    resolve = curl_slist_append(resolve, pin);
    headers = curl_slist_append(headers, host_hdr);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (!va_is_ip_literal(u->host)) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* worker threads: no SIGALRM */
    curl_easy_setopt(c, CURLOPT_PROXY, "");    /* never an environment proxy */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, left);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "aro-server validation authority");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    /* Redirects to https are fetched without certificate checks, as the
     * deployed validators do: the body, not the certificate, proves
     * control (RFC 8555 8.3). */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    rc = curl_easy_perform(c);
    free(r->used);
    r->used = xstrdup(addr);
    if (rc != CURLE_OK) goto out;
    char *loc = NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
        r->location = xstrdup(loc);
out:
    curl_slist_free_all(resolve);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    free(host_hdr);
    free(pin);
    free(uaddr);
    free(uhost);
    return rc;
}

/* Fetch url trying the addresses in order while connections fail. */
static acme_problem *fetch_hop(const va_ctx *ctx, const char *url, const url_parts *u,
                               const va_addrs *addrs, hop_result *r)
{
    char errbuf[CURL_ERROR_SIZE];
    CURLcode rc = CURLE_COULDNT_CONNECT;
    for (size_t i = 0; i < addrs->n; i++) {
        buf_free(&r->body);
        r->too_big = false;
        rc = fetch_at(ctx, url, u, addrs->addr[i], r, errbuf);
        if (rc != CURLE_COULDNT_CONNECT) break;
    }
    return rc == CURLE_OK ? NULL : curl_problem(rc, r, url, errbuf);
}

/* A redirect may go to http or https on the standard ports, or on the
 * configured validation port (so that loopback tests on high ports work). */
static acme_problem *check_redirect(const va_ctx *ctx, const char *location, url_parts *next)
{
    if (url_split(location, next) != 0)
        return va_problem("connection", "Invalid redirect target \"%s\"", location);
    bool http = strcasecmp(next->scheme, "http") == 0;
    bool https = strcasecmp(next->scheme, "https") == 0;
    if (!http && !https)
        return va_problem("connection", "Redirect to \"%s\": only http and https are followed",
                          location);
    if (next->port != 80 && next->port != 443 && next->port != ctx->cfg.http_port)
        return va_problem("connection", "Redirect to \"%s\": port %d is not allowed", location,
                          next->port);
    return NULL;
}

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* RFC 8555 8.3: the body must be the key authorization; whitespace at the
 * end is ignored. */
static acme_problem *check_body(const hop_result *r, const char *url, const char *want)
{
    size_t n = r->body.len;
    const char *b = r->body.data ? r->body.data : "";
    while (n > 0 && isspace((unsigned char)b[n - 1])) n--;
    if (n == strlen(want) && memcmp(b, want, n) == 0) return NULL;
    char *got = va_sanitize(b, n, 128);
    acme_problem *p = va_problem("unauthorized",
                                 "The key authorization file from the server did not match this "
                                 "challenge. Expected \"%s\" (got \"%s\") from %s",
                                 want, got, url);
    free(got);
    return p;
}

/* One hop: resolve, apply policy, fetch, record. */
static acme_problem *do_hop(const va_ctx *ctx, const char *url, const url_parts *u, json_gen *g,
                            hop_result *r)
{
    va_addrs addrs = {0};
    acme_problem *p = va_resolve(ctx, u->host, &addrs);
    if (!p) p = va_check_targets(ctx, u->host, &addrs);
    if (!p) p = fetch_hop(ctx, url, u, &addrs, r);
    va_record_target(g, url, u->host, u->port, &addrs, r->used);
    va_addrs_clear(&addrs);
    return p;
}

void va_http01(const va_ctx *ctx, const va_request *req, va_result *out)
{
    char *uhost = host_for_url(req->identifier);
    char *url = xasprintf("http://%s:%d/.well-known/acme-challenge/%s", uhost,
                          ctx->cfg.http_port, req->token);
    url_parts u = {xstrdup("http"), xstrdup(req->identifier), ctx->cfg.http_port};
    acme_problem *p = NULL;
    json_gen *g = jg_new();
    jg_arr_open(g);
    for (int hop = 0;; hop++) {
        hop_result r = {.max_body = ctx->cfg.http_max_body};
        p = do_hop(ctx, url, &u, g, &r);
        if (!p && is_redirect(r.status)) {
            url_parts next = {0};
            if (hop >= ctx->cfg.http_max_redirects)
                p = va_problem("connection", "Too many redirects (more than %d) from %s",
                               ctx->cfg.http_max_redirects, url);
            else if (!r.location)
                p = va_problem("connection", "Redirect without a Location from %s", url);
            else
                p = check_redirect(ctx, r.location, &next);
            if (!p) {
                free(url);
                url = r.location;
                r.location = NULL;
                url_parts_clear(&u);
                u = next;
                hop_result_clear(&r);
                continue;
            }
            url_parts_clear(&next);
        } else if (!p && r.status != 200) {
            p = va_problem("unauthorized", "Invalid response from %s: HTTP %ld", url, r.status);
        } else if (!p) {
            p = check_body(&r, url, req->key_authorization);
        }
        hop_result_clear(&r);
        break;
    }
    jg_arr_close(g);
    out->record_json = jg_finish(g, NULL);
    out->problem = p;
    out->valid = p == NULL;
    url_parts_clear(&u);
    free(url);
    free(uhost);
}
