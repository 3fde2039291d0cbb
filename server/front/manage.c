/* The management API on its own HTTPS listener, answering like Debian's
 * pebble 2.4 (wfe.ManagementHandler) where Pebble has the path, so scripts
 * written against Pebble work unchanged:
 *   /roots/N, /intermediates/N           PEM certificate, Link rel="alternate"
 *                                        to the other hierarchies' ones
 *   /root-keys/N, /intermediate-keys/N   PEM private key, traditional form
 *                                        ("RSA PRIVATE KEY" as Pebble's)
 *   /cert-status-by-serial/HEX           {"Status","Serial","Certificate",
 *                                        "Reason","RevokedAt"}
 * N is a decimal index (0 the default hierarchy); a bad one is 404, a bad
 * serial 400, an unknown one 404 with an empty body, all as in Pebble.
 * Plus /metrics (Prometheus text), which Pebble does not have. */
#include "front/manage.h"

#include <openssl/encoder.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/limits.h"
#include "store/repo.h"
#include "core/metrics.h"
#include "jobs/workers.h"

static void plain(http_response *rs, int status, const char *body)
{
    rs->status = status;
    rs->body = xstrdup(body);
    rs->body_len = strlen(rs->body);
    rs->content_type = "text/plain; charset=utf-8";
}

/* Go's strconv.Atoi on the path's tail: decimal, optional sign, nothing
 * else. -1 when it is not a number (Pebble: 404). */
static int parse_index(const char *s)
{
    if (*s == '+')
        s++;
    if (!*s || strlen(s) > 6)
        return -1;
    int n = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        n = n * 10 + (*s - '0');
    }
    return n;
}

/* Link rel="alternate" to the same resource of every other hierarchy. */
static void alternate_links(server *srv, const http_request *rq, http_response *rs, const char *prefix, int no)
{
    for (int i = 0; i < ca_hierarchies(srv->ca); i++) {
        if (i == no)
            continue;
        char *url = xasprintf("%s%s%d", rq->base, prefix, i);
        response_link(rs, url, "alternate");
        free(url);
    }
}

/* Pebble writes keys as PKCS#1 "RSA PRIVATE KEY"; the CA keeps PKCS#8.
 * Re-encode in the key type's traditional form ("EC PRIVATE KEY" for an
 * ECDSA hierarchy, which Pebble 2.4 cannot have). */
static char *traditional_key_pem(const char *pkcs8)
{
    char *out = NULL;
    unsigned char *data = NULL;
    size_t len = 0;
    EVP_PKEY *key = NULL;
    OSSL_ENCODER_CTX *ectx = NULL;
    BIO *in = BIO_new_mem_buf(pkcs8, -1);
    if (!in || !(key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL)))
        goto out;
    ectx = OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_KEYPAIR, "PEM", "type-specific", NULL);
    if (!ectx || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0 || !OSSL_ENCODER_to_data(ectx, &data, &len))
        goto out;
    out = xcalloc(1, len + 1);
    memcpy(out, data, len);
out:
    OPENSSL_free(data);
    OSSL_ENCODER_CTX_free(ectx);
    EVP_PKEY_free(key);
    BIO_free(in);
    return out;
}

static void cert_or_key(server *srv, const http_request *rq, http_response *rs, const char *prefix, bool key,
                        const char *(*get)(const ca *, int))
{
    int no = parse_index(rq->path + strlen(prefix));
    const char *pem = no >= 0 ? get(srv->ca, no) : NULL;
    char *body = pem && key ? traditional_key_pem(pem) : pem ? xstrdup(pem) : NULL;
    if (!body) {
        plain(rs, 404, "");
        return;
    }
    alternate_links(srv, rq, rs, prefix, no);
    rs->status = 200;
    rs->body = body;
    rs->body_len = strlen(body);
    rs->content_type = key ? "application/x-pem-file; charset=utf-8"
                           : "application/pem-certificate-chain; charset=utf-8";
}

/* The limits in force, as gauges: what a benchmark reports it ran under. */
static void limit_gauge(const char *name, long count, long window, void *arg)
{
    char **out = arg, *more = xasprintf("%saro_limit{name=\"%s\",window_seconds=\"%ld\"} %ld\n", *out, name,
                                        window, count);
    free(*out);
    *out = more;
}

static void metrics_response(server *srv, http_response *rs)
{
    char *counters = metrics_render(srv->m);
    char *limits = xstrdup("# TYPE aro_limit gauge\n");
    limit_each(&srv->cfg, limit_gauge, &limits);
    rs->status = 200;
    rs->body = xasprintf("%s%s"
                         "# TYPE aro_store_bytes_written_total counter\naro_store_bytes_written_total %llu\n"
                         "# TYPE aro_store_transactions_total counter\naro_store_transactions_total %llu\n"
                         "# TYPE aro_store_syncs_total counter\naro_store_syncs_total %llu\n"
                         "# TYPE aro_worker_queue_length gauge\naro_worker_queue_length %zu\n",
                         counters, limits, (unsigned long long)store_bytes_written(srv->st),
                         (unsigned long long)store_transactions(srv->st),
                         (unsigned long long)store_syncs(srv->st), worker_queue_length(srv->workers));
    free(counters);
    free(limits);
    rs->body_len = strlen(rs->body);
    rs->content_type = "text/plain; version=0.0.4";
}

/* Pebble prints RevokedAt with Go's time.Time.String() in UTC. */
static void go_time_string(time_t t, char out[48])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 48, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
}

static void cert_status(server *srv, const char *hex, http_response *rs)
{
    /* Pebble reads the serial as a big integer (big.Int.SetString base
     * 16): any case, any number of leading zeros. The store keys serials
     * by even-length lower-case hex without leading zero bytes. */
    char key[48];
    const char *s = hex;
    while (*s == '0' && s[1])
        s++;
    size_t n = strlen(s);
    if (!*hex || n + 1 >= sizeof(key) || strspn(hex, "0123456789abcdefABCDEF") != strlen(hex)) {
        plain(rs, 400, "");
        return;
    }
    size_t k = 0;
    if (n % 2)
        key[k++] = '0';
    for (const char *p = s; *p; p++)
        key[k++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    key[k] = 0;
    store_txn *t = store_begin(srv->st, false);
    rec_cert c;
    if (!t || repo_cert_get(t, key, &c) != 0) {
        store_abort(t);
        plain(rs, 404, "");
        return;
    }
    /* "Serial" as big.Int.Text(16): no leading zeros. "Certificate" is
     * the leaf alone, the first PEM block of the stored chain. */
    const char *serial = c.serial;
    while (*serial == '0' && serial[1])
        serial++;
    const char *chain = c.nchains > 0 && c.chains[0] ? c.chains[0] : "";
    const char *end = strstr(chain, "-----END CERTIFICATE-----");
    size_t leaf_len = end ? (size_t)(end - chain) + strlen("-----END CERTIFICATE-----") : strlen(chain);
    char *leaf = xasprintf("%.*s\n", (int)leaf_len, chain);
    char rev[48];
    go_time_string(c.revoked_at, rev);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "Status", c.revoked ? "Revoked" : "Valid");
    jg_kv_str(g, "Serial", serial);
    jg_kv_str(g, "Certificate", leaf);
    if (c.revoked) {
        jg_kv_int(g, "Reason", c.reason);
        jg_kv_str(g, "RevokedAt", rev);
    }
    jg_obj_close(g);
    rs->status = 200;
    rs->body = jg_finish(g, NULL);
    rs->body_len = strlen(rs->body);
    rs->content_type = "application/json; charset=utf-8";
    free(leaf);
    rec_cert_clear(&c);
    store_abort(t);
}

static bool has_prefix(const char *p, const char *prefix) { return strncmp(p, prefix, strlen(prefix)) == 0; }

void manage_dispatch(server *srv, const http_request *rq, http_response *rs)
{
    const char *p = rq->path;
    rs->endpoint = "manage";
    if (!strcmp(p, "/metrics"))
        metrics_response(srv, rs);
    else if (has_prefix(p, "/roots/"))
        cert_or_key(srv, rq, rs, "/roots/", false, ca_root_pem);
    else if (has_prefix(p, "/root-keys/"))
        cert_or_key(srv, rq, rs, "/root-keys/", true, ca_root_key_pem);
    else if (has_prefix(p, "/intermediates/"))
        cert_or_key(srv, rq, rs, "/intermediates/", false, ca_intermediate_pem);
    else if (has_prefix(p, "/intermediate-keys/"))
        cert_or_key(srv, rq, rs, "/intermediate-keys/", true, ca_intermediate_key_pem);
    else if (has_prefix(p, "/cert-status-by-serial/"))
        cert_status(srv, p + strlen("/cert-status-by-serial/"), rs);
    else
        plain(rs, 404, "404 page not found\n"); /* Go's ServeMux */
}
