/* The validation authority's entry point: applies configuration defaults,
 * sets the deadline that bounds the whole attempt, dispatches to the
 * challenge type, and holds the pieces the challenge types share: reverse
 * names for IP identifiers (RFC 8738 6) and validationRecord objects. */
#include "va/va.h"

#include <arpa/inet.h>
#include <ares.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "va/internal.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void va_ctx_init(va_ctx *ctx, const va_config *cfg)
{
    memset(ctx, 0, sizeof *ctx);
    if (cfg) ctx->cfg = *cfg;
    va_config *c = &ctx->cfg;
    if (c->timeout_ms <= 0) c->timeout_ms = VA_DEFAULT_TIMEOUT_MS;
    if (c->http_max_body == 0) c->http_max_body = VA_DEFAULT_MAX_BODY;
    /* 0 means "unset" like the other fields; a negative value disables
     * redirects altogether. */
    if (c->http_max_redirects == 0) c->http_max_redirects = VA_DEFAULT_MAX_REDIRECTS;
    if (c->http_max_redirects < 0) c->http_max_redirects = 0;
    if (c->http_port <= 0) c->http_port = 80;
    if (c->tls_port <= 0) c->tls_port = 443;
    ctx->deadline_ms = now_ms() + c->timeout_ms;
}

int va_remaining_ms(const va_ctx *ctx)
{
    long long left = ctx->deadline_ms - now_ms();
    return left > 0 ? (int)left : 0;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init_once(void)
{
    /* Neither library's global init is thread-safe; the server's main may
     * have called them already, which both count and tolerate. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ares_library_init(ARES_LIB_INIT_ALL);
}

void va_global_init(void) { pthread_once(&global_once, global_init_once); }

acme_problem *va_problem(const char *type, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return problem_new(type, 400, "%s", detail);
}

char *va_reverse_name(const char *ip)
{
    unsigned char b[16];
    static const char hex[] = "0123456789abcdef";
    aro_buf out = {0};
    if (inet_pton(AF_INET, ip, b) == 1) {
        buf_printf(&out, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
    } else if (inet_pton(AF_INET6, ip, b) == 1) {
        for (int i = 15; i >= 0; i--)
            buf_printf(&out, "%c.%c.", hex[b[i] & 0x0f], hex[b[i] >> 4]);
        buf_puts(&out, "ip6.arpa");
    } else {
        return NULL;
    }
    return buf_steal(&out);
}

char *va_sanitize(const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;
    char *out = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[n] = '\0';
    return out;
}

/* ---- validationRecord -------------------------------------------------- */

void va_record_target(json_gen *g, const char *url, const char *host, int port,
                      const va_addrs *resolved, const char *used)
{
    char portstr[16];
    /* Boulder's validationRecord writes the port as a string. */
    snprintf(portstr, sizeof portstr, "%d", port);
    jg_obj_open(g);
    jg_kv_str(g, "url", url);
    jg_kv_str(g, "hostname", host);
    jg_kv_str(g, "port", portstr);
    jg_key(g, "addressesResolved");
    jg_arr_open(g);
    for (size_t i = 0; resolved && i < resolved->n; i++) jg_str(g, resolved->addr[i]);
    jg_arr_close(g);
    jg_kv_str(g, "addressUsed", used);
    jg_obj_close(g);
}

/* ---- entry points ------------------------------------------------------ */

void va_result_clear(va_result *r)
{
    if (!r) return;
    problem_free(r->problem);
    free(r->record_json);
    memset(r, 0, sizeof *r);
    r->dns_negative_ttl = -1;
}

/* The challenge function for a request, or NULL with *why set when the
 * request cannot be validated at all. */
typedef void (*va_fn)(const va_ctx *, const va_request *, va_result *);

static va_fn pick(const va_request *req, const char **why)
{
    *why = "incomplete validation request";
    if (!req || !req->type || !req->identifier || !req->key_authorization) return NULL;
    if (strcmp(req->type, "http-01") == 0) return req->token ? va_http01 : NULL;
    if (strcmp(req->type, "tls-alpn-01") == 0) return va_tlsalpn01;
    if (strcmp(req->type, "dns-01") == 0) {
        /* RFC 8738 7: dns-01 MUST NOT be used for IP identifiers. */
        *why = "dns-01 cannot validate an IP address";
        return req->is_ip ? NULL : va_dns01;
    }
    *why = "unknown challenge type";
    return NULL;
}

int va_validate(const va_config *cfg, const va_request *req, va_result *out)
{
    va_ctx ctx;
    const char *why = NULL;
    memset(out, 0, sizeof *out);
    out->dns_negative_ttl = -1;
    va_fn fn = pick(req, &why);
    if (!fn) {
        out->problem = problem_new("serverInternal", 500, "%s", why);
        return -1;
    }
    va_global_init();
    va_ctx_init(&ctx, cfg);
    fn(&ctx, req, out);
    /* Exactly one of valid and problem, whatever a challenge type did. */
    if (out->valid && out->problem) {
        problem_free(out->problem);
        out->problem = NULL;
    }
    if (!out->valid && !out->problem)
        out->problem = problem_new("serverInternal", 500, "validation failed without a reason");
    return 0;
}
