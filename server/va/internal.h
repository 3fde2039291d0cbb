/* Private interface between the validation authority's parts: va.c
 * (dispatch, deadlines, address policy, validationRecord), va_dns.c (c-ares
 * queries and answer parsing), va_http01.c, va_tlsalpn01.c and va_caa.c.
 * Not for use outside server/va*.c, except by tests/unit/test_va.c, which
 * exercises the parsers directly with records challtestsrv cannot serve. */
#ifndef ARO_VA_INTERNAL_H
#define ARO_VA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "problem.h"
#include "va/va.h"

#define VA_DEFAULT_TIMEOUT_MS 10000
#define VA_DEFAULT_MAX_BODY 8192
#define VA_DEFAULT_MAX_REDIRECTS 10
#define VA_MAX_CNAME_CHAIN 8

/* DNS RR types this module queries (RFC 1035 3.2.2, RFC 3596, RFC 8659). */
#define VA_T_A 1
#define VA_T_CNAME 5
#define VA_T_SOA 6
#define VA_T_TXT 16
#define VA_T_AAAA 28
#define VA_T_CAA 257

/* The problem type used when deny_private_targets refuses an address. */
#define VA_PRIVATE_TARGET_PROBLEM "rejectedIdentifier"

/* One validation attempt: the configuration with defaults applied and the
 * absolute deadline (CLOCK_MONOTONIC, ms) that bounds every wait in it. */
typedef struct {
    va_config cfg;
    long long deadline_ms;
} va_ctx;

void va_ctx_init(va_ctx *ctx, const va_config *cfg);
/* Milliseconds left before the deadline, never negative. */
int va_remaining_ms(const va_ctx *ctx);
/* curl_global_init and ares_library_init, once per process. */
void va_global_init(void);

/* A problem with the status validation errors carry (400). */
acme_problem *va_problem(const char *type, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- DNS (va_dns.c) ---------------------------------------------------- */

enum va_dns_status {
    VA_DNS_OK,       /* records of the asked type found */
    VA_DNS_NXDOMAIN, /* the name (or its CNAME target) does not exist */
    VA_DNS_NODATA,   /* the name exists, no records of that type */
    VA_DNS_SERVFAIL, /* SERVFAIL, REFUSED, NOTIMP, FORMERR from the server */
    VA_DNS_TIMEOUT,  /* no answer before the deadline */
    VA_DNS_ERROR,    /* anything else: malformed answer, local failure */
};

typedef struct {
    unsigned char *data;
    size_t len;
} va_rdata;

typedef struct {
    int status;         /* enum va_dns_status */
    va_rdata *rr;       /* RDATA of the records of the asked type */
    size_t n;
    char *final_name;   /* owner of those records, after CNAMEs */
    long neg_ttl;       /* RFC 2308 5: min(SOA TTL, SOA MINIMUM), -1 unknown */
    char detail[160];   /* why, for non-OK status */
} va_dns_answer;

/* Query name/type, following CNAMEs (VA_MAX_CNAME_CHAIN hops, inside one
 * answer or across queries). Always fills out; returns out->status. */
int va_dns_lookup(const va_ctx *ctx, const char *name, int type, va_dns_answer *out);
/* n lookups, each as va_dns_lookup, sent together so that they cost one
 * round trip (an A and AAAA pair); every out[i] is filled. */
void va_dns_lookup_all(const va_ctx *ctx, size_t n, const char *const *names, const int *types,
                       va_dns_answer *out);
/* The first of names[0..n-1] (queried for type, following CNAMEs) whose
 * answer is not NXDOMAIN or NODATA: its index, with that answer (data or
 * failure) in *out; n, with *out NODATA, when every one is empty. The
 * queries are sent together but read in order, each waited for only
 * while all before it were empty; those above the deciding one are
 * cancelled. For a climb (RFC 8659 3). */
size_t va_dns_first_nonempty(const va_ctx *ctx, size_t n, const char *const *names, int type,
                             va_dns_answer *out);
void va_dns_answer_clear(va_dns_answer *a);

/* Parse one DNS response to question qname/qtype (exposed for tests).
 * On a CNAME chain that leaves this answer without data, status is
 * VA_DNS_NODATA with final_name set to the name still to be queried. */
int va_dns_parse(const unsigned char *msg, size_t len, const char *qname, int qtype,
                 va_dns_answer *out);

/* TXT RDATA: the character-strings concatenated (RFC 7208 3.3 style),
 * malloc'd; NULL when malformed. */
char *va_txt_join(const unsigned char *rdata, size_t len);

/* The addresses of a validation target, IPv4 first, textual (inet_ntop). */
typedef struct {
    char **addr;
    size_t n;
} va_addrs;
void va_addrs_clear(va_addrs *a);
/* A and AAAA for host (or host itself when it is an IP literal). NULL on
 * success; a "dns" problem when no address could be found. */
acme_problem *va_resolve(const va_ctx *ctx, const char *host, va_addrs *out);

/* ---- shared pieces (va.c) ---------------------------------------------- */

/* RFC 8738 6: "4.3.2.1.in-addr.arpa" / nibbles ".ip6.arpa" (no final
 * dot: SNI host names carry none, RFC 6066 3). NULL when ip is not an IP. */
char *va_reverse_name(const char *ip);
/* Replace bytes that are not printable ASCII by '?' and cut at max bytes,
 * so that text from the network is safe in a problem detail. */
char *va_sanitize(const char *s, size_t len, size_t max);

/* validationRecord helpers: one object per contact. */
void va_record_target(json_gen *g, const char *url, const char *host, int port,
                      const va_addrs *resolved, const char *used);

/* ---- challenges ------------------------------------------------------- */

void va_http01(const va_ctx *ctx, const va_request *req, va_result *out);
void va_dns01(const va_ctx *ctx, const va_request *req, va_result *out);
void va_tlsalpn01(const va_ctx *ctx, const va_request *req, va_result *out);

/* ---- CAA (va_caa.c) ---------------------------------------------------- */

typedef struct {
    unsigned flags;
    char *tag;   /* as in the record (compare case-insensitively) */
    char *value;
} va_caa_rr;

/* RFC 8659 4.1: flags, tag length, tag, value. -1 when malformed. */
int va_caa_parse_rr(const unsigned char *rdata, size_t len, va_caa_rr *out);
void va_caa_rr_clear(va_caa_rr *r);
/* Decide on the relevant RRset found at name. NULL when issuance is
 * allowed, else a "caa" problem. */
acme_problem *va_caa_evaluate(const va_caa_rr *rrs, size_t n, const char *name, bool wildcard,
                              const char *method, const char *account_uri,
                              const char *const *caa_identities, size_t nids);

#endif
