/* The validation authority's entry point: applies configuration defaults,
 * sets the deadline that bounds the whole attempt, dispatches to the
 * challenge type, and holds the pieces the challenge types share: the
 * private-address policy, reverse names for IP identifiers (RFC 8738 6),
 * and validationRecord objects. */
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

/* ---- address policy ---------------------------------------------------- */

bool va_is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static bool in_v4_net(uint32_t a, uint32_t net, int bits)
{
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    return (a & mask) == net;
}

static bool v4_private(const unsigned char b[4])
{
    uint32_t a = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
    static const struct {
        uint32_t net;
        int bits;
    } nets[] = {
        {0x00000000u, 8},  /* 0/8 "this network" */
        {0x0a000000u, 8},  /* 10/8, RFC 1918 */
        {0x64400000u, 10}, /* 100.64/10 shared address space, RFC 6598 */
        {0x7f000000u, 8},  /* 127/8 loopback */
        {0xa9fe0000u, 16}, /* 169.254/16 link-local, RFC 3927 */
        {0xac100000u, 12}, /* 172.16/12, RFC 1918 */
        {0xc0a80000u, 16}, /* 192.168/16, RFC 1918 */
        {0xe0000000u, 4},  /* 224/4 multicast: never a web server */
        {0xf0000000u, 4},  /* 240/4 reserved and broadcast */
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        if (in_v4_net(a, nets[i].net, nets[i].bits)) return true;
    return false;
}

static bool v6_private(const unsigned char b[16])
{
    static const unsigned char zero[16];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0) return v4_private(b + 12); /* ::ffff:a.b.c.d */
    if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return true; /* ::, ::1 */
    if ((b[0] & 0xfe) == 0xfc) return true;                  /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  /* fe80::/10 link-local */
    if (b[0] == 0xff) return true;                           /* ff00::/8 multicast */
    return false;
}

bool va_addr_is_private(const char *addr)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, addr, b) == 1) return v4_private(b);
    if (inet_pton(AF_INET6, addr, b) == 1) return v6_private(b);
    return true; /* not an address at all: never contact it */
}

acme_problem *va_check_targets(const va_ctx *ctx, const char *host, const va_addrs *a)
{
    if (!ctx->cfg.deny_private_targets) return NULL;
    /* Any private address in the set refuses the whole name: trying only
     * the public ones would let a name mix targets per attempt. */
    for (size_t i = 0; i < a->n; i++)
        if (va_addr_is_private(a->addr[i]))
            return va_problem(VA_PRIVATE_TARGET_PROBLEM,
                              "%s resolves to %s, a private, loopback or link-local address "
                              "this server refuses to contact",
                              host, a->addr[i]);
    return NULL;
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
