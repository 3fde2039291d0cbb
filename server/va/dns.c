/* DNS for the validation authority, on c-ares. Each thread keeps a few
 * channels (servers from va_config.dns_server, or the system's), one
 * query a channel, and sends the lookups a check needs together (a CAA
 * climb, an A and AAAA pair): setting a channel up reads the system's
 * resolver files, which costs more than the query itself. c-ares 1.18
 * caches no answers, so no lookup relies on an earlier one. Lookups wait
 * for their answers in one poll loop bounded by the attempt's deadline,
 * and each raw response is parsed here: the answer section for the asked
 * type after CNAMEs, the authority section's SOA for negative caching
 * (RFC 2308). */
#include "va/internal.h"

#include <arpa/inet.h>
#include <ares.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acme_crypto.h"
#include "util.h"
#include "va/address.h"

#define DNS_HEADER_LEN 12
#define RCODE_NOERROR 0
#define RCODE_NXDOMAIN 3
#define CLASS_IN 1

/* ---- wire parsing ------------------------------------------------------ */

/* One resource record of a parsed message. rdata points into the message. */
typedef struct {
    char *name;
    int type;
    unsigned long ttl;
    const unsigned char *rdata;
    size_t rdlen;
    char *target; /* CNAME target, expanded */
    int section;  /* 0 answer, 1 authority */
} wire_rr;

typedef struct {
    int rcode;
    wire_rr *rr;
    size_t n;
} wire_msg;

static unsigned get16(const unsigned char *p) { return ((unsigned)p[0] << 8) | p[1]; }

static unsigned long get32(const unsigned char *p)
{
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) |
           p[3];
}

static void wire_clear(wire_msg *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->rr[i].name);
        free(m->rr[i].target);
    }
    free(m->rr);
    memset(m, 0, sizeof *m);
}

/* Expand a possibly compressed name at p into a malloc'd string (c-ares
 * does the pointer chasing and loop detection); *used is its wire size. */
static char *expand_name(const unsigned char *p, const unsigned char *msg, size_t len, long *used)
{
    char *s = NULL;
    if (ares_expand_name(p, msg, (int)len, &s, used) != ARES_SUCCESS) return NULL;
    char *copy = xstrdup(s);
    ares_free_string(s);
    return copy;
}

static int parse_rr(const unsigned char *msg, size_t len, size_t *off, int section, wire_rr *rr)
{
    long used = 0;
    memset(rr, 0, sizeof *rr);
    rr->section = section;
    rr->name = expand_name(msg + *off, msg, len, &used);
    if (!rr->name || *off + (size_t)used + 10 > len) return -1;
    const unsigned char *p = msg + *off + used;
    rr->type = (int)get16(p);
    int cls = (int)get16(p + 2);
    rr->ttl = get32(p + 4);
    rr->rdlen = get16(p + 8);
    rr->rdata = p + 10;
    if ((size_t)(rr->rdata - msg) + rr->rdlen > len) return -1;
    *off = (size_t)(rr->rdata - msg) + rr->rdlen;
    if (cls != CLASS_IN) rr->type = -1; /* ignored below */
    if (rr->type == VA_T_CNAME) {
        rr->target = expand_name(rr->rdata, msg, len, &used);
        if (!rr->target) return -1;
    }
    return 0;
}

/* Header, questions skipped, answer and authority RRs collected. */
static int wire_parse(const unsigned char *msg, size_t len, wire_msg *m)
{
    memset(m, 0, sizeof *m);
    if (len < DNS_HEADER_LEN) return -1;
    m->rcode = msg[3] & 0x0f;
    unsigned qd = get16(msg + 4), an = get16(msg + 6), ns = get16(msg + 8);
    size_t off = DNS_HEADER_LEN;
    for (unsigned i = 0; i < qd; i++) {
        long used = 0;
        char *q = expand_name(msg + off, msg, len, &used);
        if (!q) return -1;
        free(q);
        off += (size_t)used + 4;
        if (off > len) return -1;
    }
    m->rr = xcalloc((size_t)an + ns + 1, sizeof *m->rr);
    for (unsigned i = 0; i < an + ns; i++) {
        int rc = parse_rr(msg, len, &off, i < an ? 0 : 1, &m->rr[m->n]);
        m->n++;
        if (rc != 0) return -1;
    }
    return 0;
}

static bool name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.') la--;
    if (lb && b[lb - 1] == '.') lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* RFC 2308 5: a negative answer is cached for the smaller of the SOA
 * record's own TTL and its MINIMUM field. */
static long negative_ttl(const unsigned char *msg, size_t len, const wire_msg *m)
{
    for (size_t i = 0; i < m->n; i++) {
        const wire_rr *rr = &m->rr[i];
        if (rr->section != 1 || rr->type != VA_T_SOA) continue;
        long used1 = 0, used2 = 0;
        char *mname = expand_name(rr->rdata, msg, len, &used1);
        free(mname);
        if (!mname || (size_t)used1 > rr->rdlen) return -1;
        char *rname = expand_name(rr->rdata + used1, msg, len, &used2);
        free(rname);
        if (!rname || (size_t)(used1 + used2) + 20 != rr->rdlen) return -1;
        unsigned long minimum = get32(rr->rdata + used1 + used2 + 16);
        return (long)(rr->ttl < minimum ? rr->ttl : minimum);
    }
    return -1;
}

static void collect(const wire_msg *m, const char *owner, int qtype, va_dns_answer *out)
{
    for (size_t i = 0; i < m->n; i++) {
        const wire_rr *rr = &m->rr[i];
        if (rr->section != 0 || rr->type != qtype || !name_eq(rr->name, owner)) continue;
        out->rr = xrealloc(out->rr, (out->n + 1) * sizeof *out->rr);
        out->rr[out->n].data = xmalloc(rr->rdlen + 1);
        memcpy(out->rr[out->n].data, rr->rdata, rr->rdlen);
        out->rr[out->n].len = rr->rdlen;
        out->n++;
    }
}

static const char *cname_of(const wire_msg *m, const char *owner)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->rr[i].section == 0 && m->rr[i].type == VA_T_CNAME && name_eq(m->rr[i].name, owner))
            return m->rr[i].target;
    return NULL;
}

int va_dns_parse(const unsigned char *msg, size_t len, const char *qname, int qtype,
                 va_dns_answer *out)
{
    wire_msg m;
    memset(out, 0, sizeof *out);
    out->neg_ttl = -1;
    if (wire_parse(msg, len, &m) != 0) {
        out->status = VA_DNS_ERROR;
        snprintf(out->detail, sizeof out->detail, "malformed DNS response");
        goto out;
    }
    if (m.rcode != RCODE_NOERROR && m.rcode != RCODE_NXDOMAIN) {
        out->status = VA_DNS_SERVFAIL;
        snprintf(out->detail, sizeof out->detail, "DNS server answered rcode %d", m.rcode);
        goto out;
    }
    /* Walk the CNAME chain the resolver put in the answer (RFC 1034 3.6.2). */
    const char *owner = qname;
    for (int hops = 0; hops <= VA_MAX_CNAME_CHAIN; hops++) {
        collect(&m, owner, qtype, out);
        if (out->n > 0) break;
        const char *next = cname_of(&m, owner);
        if (!next || qtype == VA_T_CNAME) break;
        owner = next;
    }
    out->final_name = xstrdup(owner);
    if (out->n > 0) {
        out->status = VA_DNS_OK;
    } else {
        /* NXDOMAIN describes the end of the chain; a chain ending here in a
         * CNAME without data is NODATA with final_name to query next. */
        out->status = m.rcode == RCODE_NXDOMAIN ? VA_DNS_NXDOMAIN : VA_DNS_NODATA;
        out->neg_ttl = negative_ttl(msg, len, &m);
        snprintf(out->detail, sizeof out->detail, "%s",
                 m.rcode == RCODE_NXDOMAIN ? "NXDOMAIN" : "no records");
    }
out:
    wire_clear(&m);
    return out->status;
}

void va_dns_answer_clear(va_dns_answer *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) free(a->rr[i].data);
    free(a->rr);
    free(a->final_name);
    memset(a, 0, sizeof *a);
    a->neg_ttl = -1;
}

char *va_txt_join(const unsigned char *rdata, size_t len)
{
    aro_buf b = {0};
    size_t off = 0;
    buf_puts(&b, "");
    while (off < len) {
        size_t n = rdata[off++];
        if (off + n > len) {
            buf_free(&b);
            return NULL;
        }
        buf_append(&b, rdata + off, n);
        off += n;
    }
    return buf_steal(&b);
}

/* ---- c-ares query ------------------------------------------------------ */

typedef struct {
    bool done;
    int status;
    unsigned char *buf;
    size_t len;
} query_state;

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    query_state *st = arg;
    st->done = true;
    st->status = status;
    /* ARES_FLAG_NOCHECKRESP hands over SERVFAIL/REFUSED answers too; and
     * ares_query passes NXDOMAIN answers with their authority section. */
    if (abuf && alen > 0 && !st->buf) {
        st->buf = xmalloc((size_t)alen);
        memcpy(st->buf, abuf, (size_t)alen);
        st->len = (size_t)alen;
    }
}

/* Lookups sent together (a CAA climb, an A and AAAA pair) are at most
 * this many at once, each on a channel of its own: c-ares 1.18 sends all
 * the queries outstanding on a channel from that channel's one socket,
 * and closes it once none is, so one query a channel keeps a fresh socket
 * and source port for every query (RFC 5452 4-5, against off-path forged
 * answers), as one at a time did. */
#define DNS_PARALLEL 4

/* Drive the channels until query `until` is answered or the attempt's
 * deadline passes (then every query still out is cancelled): one poll
 * over all their sockets, so the other queries progress meanwhile. */
static void wait_channels(const va_ctx *ctx, ares_channel *ch, query_state *st, size_t n, size_t until)
{
    while (!st[until].done) {
        int left = va_remaining_ms(ctx);
        if (left <= 0) {
            for (size_t q = 0; q < n; q++)
                if (!st[q].done) ares_cancel(ch[q]); /* the callback runs with ARES_ECANCELLED */
            break;
        }
        struct pollfd pfd[DNS_PARALLEL * ARES_GETSOCK_MAXNUM];
        size_t owner[DNS_PARALLEL * ARES_GETSOCK_MAXNUM];
        nfds_t nfd = 0;
        struct timeval maxtv = {left / 1000, (left % 1000) * 1000};
        for (size_t q = 0; q < n; q++) {
            if (st[q].done) continue;
            ares_socket_t socks[ARES_GETSOCK_MAXNUM];
            int bits = ares_getsock(ch[q], socks, ARES_GETSOCK_MAXNUM);
            for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
                short ev = 0;
                /* c-ares's ARES_GETSOCK_WRITABLE shifts a signed 1 by up to
                 * 31 places (undefined behaviour): test the bits unsigned. */
                if (((unsigned)bits >> i) & 1u) ev |= POLLIN;
                if (((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u) ev |= POLLOUT;
                if (!ev) continue;
                pfd[nfd] = (struct pollfd){.fd = socks[i], .events = ev};
                owner[nfd++] = q;
            }
            struct timeval tv, *tvp = ares_timeout(ch[q], &maxtv, &tv);
            maxtv = *tvp; /* the earliest of the channels' retry times */
        }
        int ms = (int)(maxtv.tv_sec * 1000 + maxtv.tv_usec / 1000);
        int ready = poll(pfd, nfd, ms > 0 ? ms : 1);
        bool served[DNS_PARALLEL] = {false};
        for (nfds_t i = 0; ready > 0 && i < nfd; i++) {
            short r = pfd[i].revents;
            if (!r) continue;
            served[owner[i]] = true;
            ares_process_fd(ch[owner[i]], (r & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD,
                            (r & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
        }
        /* The others' retry times may have come: c-ares runs its timeouts
         * in a call with no descriptor. */
        for (size_t q = 0; q < n; q++)
            if (!served[q] && !st[q].done) ares_process_fd(ch[q], ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
}

/* This thread's channels and what they were made for. */
typedef struct {
    ares_channel ch[DNS_PARALLEL];
    char *server;       /* va_config.dns_server, NULL: the system's */
    int try_ms;
} thread_channel;

static pthread_key_t channel_key;
static pthread_once_t channel_once = PTHREAD_ONCE_INIT;

static void channel_free(void *p)
{
    thread_channel *tc = p;
    for (int i = 0; i < DNS_PARALLEL; i++)
        if (tc->ch[i]) ares_destroy(tc->ch[i]);
    free(tc->server);
    free(tc);
}

static void channel_key_init(void) { pthread_key_create(&channel_key, channel_free); }

static thread_channel *new_channel(const va_ctx *ctx, int try_ms, char *detail, size_t dlen)
{
    struct ares_options o;
    memset(&o, 0, sizeof o);
    /* We read rcodes ourselves (NOCHECKRESP). */
    o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH;
    o.timeout = try_ms;
    o.tries = 3;
    thread_channel *tc = xcalloc(1, sizeof *tc);
    tc->server = ctx->cfg.dns_server ? xstrdup(ctx->cfg.dns_server) : NULL;
    tc->try_ms = try_ms;
    for (int i = 0; i < DNS_PARALLEL; i++) {
        int rc = ares_init_options(&tc->ch[i], &o, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
        if (rc != ARES_SUCCESS) {
            snprintf(detail, dlen, "resolver initialisation failed: %s", ares_strerror(rc));
            channel_free(tc);
            return NULL;
        }
        if (ctx->cfg.dns_server && (rc = ares_set_servers_ports_csv(tc->ch[i], ctx->cfg.dns_server)) != ARES_SUCCESS) {
            snprintf(detail, dlen, "bad DNS server \"%s\": %s", ctx->cfg.dns_server, ares_strerror(rc));
            channel_free(tc);
            return NULL;
        }
    }
    return tc;
}

/* This thread's channels for ctx's servers, made when there are none yet
 * or the ones there were made for other servers or another per-try
 * timeout. */
static ares_channel *thread_channels_for(const va_ctx *ctx, char *detail, size_t dlen)
{
    /* A per-try timeout small enough for retries within the attempt; the
     * attempt's deadline bounds the rest (wait_channels). */
    int third = ctx->cfg.timeout_ms / 3;
    int try_ms = third > 2000 ? 2000 : (third > 100 ? third : 100);
    pthread_once(&channel_once, channel_key_init);
    thread_channel *tc = pthread_getspecific(channel_key);
    const char *want = ctx->cfg.dns_server;
    if (tc && tc->try_ms == try_ms && (want && tc->server ? strcmp(want, tc->server) == 0 : want == tc->server))
        return tc->ch;
    if (tc)
        channel_free(tc);
    tc = new_channel(ctx, try_ms, detail, dlen);
    pthread_setspecific(channel_key, tc);
    return tc ? tc->ch : NULL;
}

static void answer_failed(va_dns_answer *out, int status, const char *detail)
{
    memset(out, 0, sizeof *out);
    out->neg_ttl = -1;
    out->status = status;
    snprintf(out->detail, sizeof out->detail, "%s", detail);
}

/* The answer of a query that is done (answered, failed, timed out or
 * cancelled) into out; its buffer is freed. */
static void query_read(query_state *st, const char *name, int type, va_dns_answer *out)
{
    if (st->buf)
        va_dns_parse(st->buf, st->len, name, type, out);
    else if (st->status == ARES_ETIMEOUT || st->status == ARES_ECANCELLED || !st->done)
        answer_failed(out, VA_DNS_TIMEOUT, "query timed out");
    else
        answer_failed(out, st->status == ARES_ESERVFAIL ? VA_DNS_SERVFAIL : VA_DNS_ERROR, ares_strerror(st->status));
    free(st->buf);
    st->buf = NULL;
}

/* Cancel the queries from..n-1 that are still out, and drop what the
 * others brought. */
static void queries_abandon(ares_channel *ch, query_state *st, size_t from, size_t n)
{
    for (size_t q = from; q < n; q++) {
        if (!st[q].done)
            ares_cancel(ch[q]); /* the callback runs at once, with ARES_ECANCELLED */
        free(st[q].buf);
        st[q].buf = NULL;
    }
}

/* Up to DNS_PARALLEL queries at once, no CNAME chasing across queries. */
static void query_all(const va_ctx *ctx, size_t n, const char *const *names, const int *types, va_dns_answer *out)
{
    query_state st[DNS_PARALLEL] = {{0}};
    char detail[sizeof out->detail] = "";
    ares_channel *ch = thread_channels_for(ctx, detail, sizeof detail);
    for (size_t q = 0; q < n; q++)
        if (!ch) answer_failed(&out[q], VA_DNS_ERROR, detail);
        else ares_query(ch[q], names[q], CLASS_IN, types[q], on_answer, &st[q]);
    for (size_t q = 0; ch && q < n; q++)
        wait_channels(ctx, ch, st, n, q);
    for (size_t q = 0; ch && q < n; q++)
        query_read(&st[q], names[q], types[q], &out[q]);
}

/* A CNAME chain that left the answer without data: ask for the target
 * ourselves (a resolver normally completes the chain). */
static void chase_cname(const va_ctx *ctx, const char *name, int type, va_dns_answer *out)
{
    char *qname = xstrdup(name);
    for (int hop = 0; out->status == VA_DNS_NODATA && out->final_name && !name_eq(out->final_name, qname);
         hop++) {
        if (hop >= VA_MAX_CNAME_CHAIN) {
            out->status = VA_DNS_ERROR;
            snprintf(out->detail, sizeof out->detail, "CNAME chain longer than %d", VA_MAX_CNAME_CHAIN);
            break;
        }
        free(qname);
        qname = out->final_name;
        out->final_name = NULL;
        va_dns_answer_clear(out);
        query_all(ctx, 1, (const char *const *)&qname, &type, out);
    }
    free(qname);
}

void va_dns_lookup_all(const va_ctx *ctx, size_t n, const char *const *names, const int *types,
                       va_dns_answer *out)
{
    va_global_init();
    for (size_t at = 0; at < n; at += DNS_PARALLEL)
        query_all(ctx, n - at < DNS_PARALLEL ? n - at : DNS_PARALLEL, names + at, types + at, out + at);
    for (size_t q = 0; q < n; q++)
        chase_cname(ctx, names[q], types[q], &out[q]);
}

size_t va_dns_first_nonempty(const va_ctx *ctx, size_t n, const char *const *names, int type, va_dns_answer *out)
{
    va_global_init();
    char detail[sizeof out->detail] = "";
    ares_channel *ch = thread_channels_for(ctx, detail, sizeof detail);
    if (!ch) {
        answer_failed(out, VA_DNS_ERROR, detail); /* the first level fails: so does the climb */
        return 0;
    }
    for (size_t at = 0; at < n; at += DNS_PARALLEL) {
        size_t m = n - at < DNS_PARALLEL ? n - at : DNS_PARALLEL;
        query_state st[DNS_PARALLEL] = {{0}};
        for (size_t q = 0; q < m; q++)
            ares_query(ch[q], names[at + q], CLASS_IN, type, on_answer, &st[q]);
        /* Read from the first level up, each once it is answered, as if
         * asked one after another: a level above the deciding one is
         * never waited for. A CNAME is followed on channel 0, whose own
         * query is done by then. */
        for (size_t q = 0; q < m; q++) {
            wait_channels(ctx, ch, st, m, q);
            query_read(&st[q], names[at + q], type, out);
            chase_cname(ctx, names[at + q], type, out);
            if (out->status != VA_DNS_NXDOMAIN && out->status != VA_DNS_NODATA) {
                queries_abandon(ch, st, q + 1, m);
                return at + q;
            }
            va_dns_answer_clear(out);
        }
    }
    answer_failed(out, VA_DNS_NODATA, "");
    return n;
}

int va_dns_lookup(const va_ctx *ctx, const char *name, int type, va_dns_answer *out)
{
    va_dns_lookup_all(ctx, 1, &name, &type, out);
    return out->status;
}

/* ---- addresses --------------------------------------------------------- */

void va_addrs_clear(va_addrs *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) free(a->addr[i]);
    free(a->addr);
    a->addr = NULL;
    a->n = 0;
}

static void addrs_push(va_addrs *a, const char *s)
{
    a->addr = xrealloc(a->addr, (a->n + 1) * sizeof *a->addr);
    a->addr[a->n++] = xstrdup(s);
}

static void addrs_from(va_addrs *a, const va_dns_answer *ans, int family)
{
    size_t need = family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < ans->n; i++) {
        char text[INET6_ADDRSTRLEN];
        if (ans->rr[i].len != need) continue;
        if (inet_ntop(family, ans->rr[i].data, text, sizeof text)) addrs_push(a, text);
    }
}

static bool is_hard_failure(int status)
{
    return status == VA_DNS_SERVFAIL || status == VA_DNS_TIMEOUT || status == VA_DNS_ERROR;
}

acme_problem *va_resolve(const va_ctx *ctx, const char *host, va_addrs *out)
{
    va_dns_answer ans[2], *a4 = &ans[0], *a6 = &ans[1];
    acme_problem *p = NULL;
    memset(out, 0, sizeof *out);
    if (va_is_ip_literal(host)) {
        addrs_push(out, host);
        return NULL;
    }
    /* Both at once; IPv4 first in the list: the order in which the
     * validators try addresses. */
    const char *names[2] = {host, host};
    const int types[2] = {VA_T_A, VA_T_AAAA};
    va_dns_lookup_all(ctx, 2, names, types, ans);
    addrs_from(out, a4, AF_INET);
    addrs_from(out, a6, AF_INET6);
    if (out->n > 0) goto out;
    if (is_hard_failure(a4->status) || is_hard_failure(a6->status)) {
        const va_dns_answer *bad = is_hard_failure(a4->status) ? a4 : a6;
        p = va_problem("dns", "DNS problem: %s looking up %s for %s",
                       bad->status == VA_DNS_SERVFAIL ? "SERVFAIL" : bad->detail,
                       bad == a4 ? "A" : "AAAA", host);
    } else {
        p = va_problem("dns", "DNS problem: %s looking up A for %s - no valid A or AAAA records",
                       a4->status == VA_DNS_NXDOMAIN ? "NXDOMAIN" : "no records", host);
    }
out:
    va_dns_answer_clear(a4);
    va_dns_answer_clear(a6);
    return p;
}

/* ---- dns-01 (RFC 8555 8.4) --------------------------------------------- */

/* Whether any TXT record equals the expected value; *first gets the first
 * record seen (for the error detail), *count the number of records. */
static bool txt_match(const va_dns_answer *ans, const char *want, char **first, size_t *count)
{
    bool found = false;
    *count = 0;
    for (size_t i = 0; i < ans->n; i++) {
        char *txt = va_txt_join(ans->rr[i].data, ans->rr[i].len);
        if (!txt) continue;
        (*count)++;
        if (strcmp(txt, want) == 0) found = true;
        if (!*first) *first = va_sanitize(txt, strlen(txt), 100);
        free(txt);
    }
    return found;
}

void va_dns01(const va_ctx *ctx, const va_request *req, va_result *out)
{
    char *name = xasprintf("_acme-challenge.%s", req->identifier);
    char *want = acme_dns01_txt_value(req->key_authorization);
    char *first = NULL;
    size_t count = 0;
    va_dns_answer ans;
    json_gen *g = jg_new();

    jg_arr_open(g);
    jg_obj_open(g);
    jg_kv_str(g, "hostname", req->identifier);
    jg_obj_close(g);
    jg_arr_close(g);
    out->record_json = jg_finish(g, NULL);

    va_dns_lookup(ctx, name, VA_T_TXT, &ans);
    switch (ans.status) {
    case VA_DNS_OK:
        if (want && txt_match(&ans, want, &first, &count)) {
            out->valid = true;
        } else {
            out->problem = va_problem("unauthorized",
                                      "Incorrect TXT record \"%s\"%s found at %s",
                                      first ? first : "", count > 1 ? " (and others)" : "", name);
        }
        break;
    case VA_DNS_NXDOMAIN:
    case VA_DNS_NODATA:
        /* Tell the client how long resolvers may keep answering "no
         * record" (RFC 2308 5), so a retry waits long enough. */
        out->dns_negative_ttl = ans.neg_ttl;
        out->problem = va_problem("unauthorized", "No TXT record found at %s", name);
        break;
    case VA_DNS_SERVFAIL:
        out->problem = va_problem("dns", "DNS problem: SERVFAIL looking up TXT for %s", name);
        break;
    default:
        out->problem = va_problem("dns", "DNS problem: %s looking up TXT for %s", ans.detail, name);
        break;
    }
    va_dns_answer_clear(&ans);
    free(first);
    free(want);
    free(name);
}
