#include "proxy.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "acme_crypto.h"
#include "b64url.h"
#include "keys.h"
#include "procs.h"
#include "random.h"

#define MAX_HEADER (64 * 1024)
#define MAX_BODY (1024 * 1024)
#define MAX_CONNS 256

typedef struct {
    pthread_t th;
    int fd;
    bool done;      /* its thread has ended (or never started) */
    bool joinable;  /* a thread was started and not joined yet */
} conn_slot;

struct proxy {
    char *upstream, *upstream_ca, *ca_file;
    proxy_hook on_request, on_answer;
    void *hook_ud;
    SSL_CTX *ctx;
    int lfd, port;
    double t0;
    pthread_t accept_th;
    bool accepting;
    pthread_mutex_t mu;
    bool stopping;
    conn_slot conns[MAX_CONNS];
    size_t nconns;
    exchange *log;
    size_t nlog, caplog;
};

/* ---- the proxy's certificate -------------------------------------------- */

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!e)
        return -1;
    int rc = X509_add_ext(x, e, -1) ? 0 : -1;
    X509_EXTENSION_free(e);
    return rc;
}

/* A self-signed certificate for 127.0.0.1 and localhost, which is also
 * its own trust anchor (the same shape as Pebble's test certificates). */
static int make_cert(proxy *p, const char *dir, aro_err *err)
{
    int rc = -1;
    EVP_PKEY *key = key_generate(KEY_EC256);
    X509 *x = X509_new();
    char *pem = NULL;
    unsigned char serial[16];
    random_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!key || !x || !bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        goto out;
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 2 * 86400);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"aro-conform proxy", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
        add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign") ||
        add_ext(x, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") || !X509_sign(x, key, EVP_sha256()))
        goto out;
    p->ca_file = xasprintf("%s/proxy-ca.pem", dir);
    pem = x509_to_pem(x);
    if (!pem || file_write_atomic(p->ca_file, pem, strlen(pem), 0644, err))
        goto out;
    p->ctx = SSL_CTX_new(TLS_server_method());
    if (!p->ctx || !SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION) || SSL_CTX_use_certificate(p->ctx, x) != 1 ||
        SSL_CTX_use_PrivateKey(p->ctx, key) != 1)
        goto out;
    rc = 0;
out:
    if (rc && !err->msg[0])
        aro_err_set(err, "cannot make the proxy's certificate");
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(key);
    free(pem);
    return rc;
}

/* ---- reading requests ------------------------------------------------- */

typedef struct {
    SSL *ssl;
    char *buf;
    size_t len, cap;
} reader;

static int fill(reader *r)
{
    if (r->cap - r->len < 16384) {
        r->cap = r->cap ? r->cap * 2 : 32768;
        r->buf = xrealloc(r->buf, r->cap);
    }
    int n = SSL_read(r->ssl, r->buf + r->len, (int)(r->cap - r->len - 1));
    if (n <= 0)
        return -1;
    r->len += (size_t)n;
    r->buf[r->len] = '\0';
    return 0;
}

static void consume(reader *r, size_t n)
{
    memmove(r->buf, r->buf + n, r->len - n + 1); /* with the NUL */
    r->len -= n;
}

typedef struct {
    char **names, **values;
    size_t n;
} headers;

static void headers_free(headers *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->names[i]);
        free(h->values[i]);
    }
    free(h->names);
    free(h->values);
    memset(h, 0, sizeof *h);
}

static void headers_add(headers *h, const char *name, size_t nlen, const char *value, size_t vlen)
{
    while (vlen && (*value == ' ' || *value == '\t'))
        value++, vlen--;
    while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t' || value[vlen - 1] == '\r' ||
                    value[vlen - 1] == '\n'))
        vlen--;
    h->names = xrealloc(h->names, (h->n + 1) * sizeof *h->names);
    h->values = xrealloc(h->values, (h->n + 1) * sizeof *h->values);
    h->names[h->n] = xstrndup(name, nlen);
    h->values[h->n] = xstrndup(value, vlen);
    h->n++;
}

static const char *header_get(const headers *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (!strcasecmp(h->names[i], name))
            return h->values[i];
    return NULL;
}

/* "METHOD PATH HTTP/1.x" and the fields; 0, or -1 when the peer is gone
 * or the request is not HTTP/1.1. */
static int read_head(reader *r, char **method, char **path, headers *h)
{
    char *end;
    while (!(end = strstr(r->buf ? r->buf : "", "\r\n\r\n"))) {
        if (r->len > MAX_HEADER || fill(r))
            return -1;
    }
    size_t head_len = (size_t)(end - r->buf) + 4;
    char *line_end = strstr(r->buf, "\r\n");
    char *sp1 = memchr(r->buf, ' ', (size_t)(line_end - r->buf));
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2)
        return -1;
    *method = xstrndup(r->buf, (size_t)(sp1 - r->buf));
    *path = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    for (char *l = line_end + 2; l < end;) {
        char *le = strstr(l, "\r\n");
        char *colon = memchr(l, ':', (size_t)(le - l));
        if (colon)
            headers_add(h, l, (size_t)(colon - l), colon + 1, (size_t)(le - colon - 1));
        l = le + 2;
    }
    consume(r, head_len);
    return 0;
}

static int read_exact(reader *r, size_t n, aro_buf *out)
{
    while (r->len < n)
        if (fill(r))
            return -1;
    buf_append(out, r->buf, n);
    consume(r, n);
    return 0;
}

static int read_line(reader *r, char *line, size_t cap)
{
    char *e;
    while (!(e = strstr(r->buf ? r->buf : "", "\r\n"))) {
        if (r->len > 1024 || fill(r))
            return -1;
    }
    size_t n = (size_t)(e - r->buf);
    snprintf(line, cap, "%.*s", (int)n, r->buf);
    consume(r, n + 2);
    return 0;
}

static int read_body(reader *r, const headers *h, aro_buf *body)
{
    const char *te = header_get(h, "Transfer-Encoding");
    if (te && strcasestr(te, "chunked")) {
        char line[1100];
        for (;;) {
            if (read_line(r, line, sizeof line))
                return -1;
            size_t sz = strtoul(line, NULL, 16);
            if (sz == 0)
                return read_line(r, line, sizeof line); /* no trailers expected */
            if (body->len + sz > MAX_BODY || read_exact(r, sz, body) || read_line(r, line, sizeof line))
                return -1;
        }
    }
    const char *cl = header_get(h, "Content-Length");
    size_t n = cl ? strtoul(cl, NULL, 10) : 0;
    if (n > MAX_BODY)
        return -1;
    return n ? read_exact(r, n, body) : 0;
}

/* ---- forwarding ----------------------------------------------------------- */

typedef struct {
    headers h;
    aro_buf body;
} upstream_resp;

static size_t up_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    upstream_resp *u = ud;
    if (u->body.len + size * nmemb > 8 * MAX_BODY)
        return 0;
    buf_append(&u->body, ptr, size * nmemb);
    return size * nmemb;
}

static size_t up_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    upstream_resp *u = ud;
    size_t n = size * nmemb;
    if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) {
        headers_free(&u->h);
        return n;
    }
    char *colon = memchr(ptr, ':', n);
    if (colon)
        headers_add(&u->h, ptr, (size_t)(colon - ptr), colon + 1, n - (size_t)(colon - ptr) - 1);
    return n;
}

static bool hop_by_hop(const char *name)
{
    static const char *const skip[] = {"Host", "Connection", "Keep-Alive", "Content-Length", "Transfer-Encoding",
                                       "Expect", "Proxy-Connection", "TE", "Upgrade"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (!strcasecmp(name, skip[i]))
            return true;
    return false;
}

static long forward(proxy *p, CURL *c, const char *method, const char *path, const headers *h, const aro_buf *body,
                    upstream_resp *u)
{
    struct curl_slist *sl = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; i < h->n; i++) {
        if (hop_by_hop(h->names[i]))
            continue;
        char *line = xasprintf("%s: %s", h->names[i], h->values[i]);
        sl = curl_slist_append(sl, line);
        free(line);
    }
    /* No Content-Type from the client: none upstream either. */
    if (!header_get(h, "Content-Type"))
        sl = curl_slist_append(sl, "Content-Type:");
    if (!header_get(h, "Accept"))
        sl = curl_slist_append(sl, "Accept:");
    if (!header_get(h, "User-Agent"))
        sl = curl_slist_append(sl, "User-Agent:");
    const char *host = header_get(h, "Host");
    char *hl = xasprintf("Host: %s", host ? host : "127.0.0.1");
    sl = curl_slist_append(sl, hl);
    free(hl);
    char *url = xasprintf("%s%s", p->upstream, path);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, p->upstream_ca);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, up_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, u);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, up_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, u);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    if (!strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data ? body->data : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body->len);
        if (strcmp(method, "POST"))
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    long status = 502;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(sl);
    free(url);
    return status;
}

static int ssl_write_all(SSL *s, const char *data, size_t n)
{
    while (n) {
        int w = SSL_write(s, data, n > 65536 ? 65536 : (int)n);
        if (w <= 0)
            return -1;
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

static const char *reason(long status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static int write_answer(SSL *s, const char *method, long status, const upstream_resp *u)
{
    aro_buf b = {0};
    buf_printf(&b, "HTTP/1.1 %ld %s\r\n", status, reason(status));
    for (size_t i = 0; i < u->h.n; i++)
        if (!hop_by_hop(u->h.names[i]))
            buf_printf(&b, "%s: %s\r\n", u->h.names[i], u->h.values[i]);
    const char *cl = header_get(&u->h, "Content-Length");
    if (!strcmp(method, "HEAD")) {
        buf_printf(&b, "Content-Length: %s\r\n\r\n", cl ? cl : "0");
    } else {
        buf_printf(&b, "Content-Length: %zu\r\n\r\n", u->body.len);
        buf_append(&b, u->body.data ? u->body.data : "", u->body.len);
    }
    int rc = ssl_write_all(s, b.data, b.len);
    buf_free(&b);
    return rc;
}

/* ---- recording ---------------------------------------------------------------- */

static char *dup_header(const headers *h, const char *name)
{
    const char *v = header_get(h, name);
    return v ? xstrdup(v) : NULL;
}

static void decode_jws(exchange *e)
{
    aro_err err;
    if (!e->body_len || !(e->jws = json_parse(e->body, e->body_len, &err)) || !YAJL_IS_OBJECT(e->jws))
        return;
    const char *prot = json_str(e->jws, "protected"), *pay = json_str(e->jws, "payload");
    e->flattened = prot && pay && json_str(e->jws, "signature") && e->jws->u.object.len == 3;
    unsigned char *raw = NULL;
    size_t n = 0;
    if (prot && b64url_decode(prot, strlen(prot), &raw, &n) == 0) {
        e->header = json_parse((const char *)raw, n, &err);
        free(raw);
    }
    if (pay && b64url_decode(pay, strlen(pay), &raw, &n) == 0)
        e->payload = (char *)raw; /* NUL-terminated by b64url_decode */
}

static void record_answer(exchange *e, long status, const upstream_resp *u)
{
    e->status = status;
    e->resp_content_type = dup_header(&u->h, "Content-Type");
    e->retry_after = dup_header(&u->h, "Retry-After");
    e->replay_nonce = dup_header(&u->h, "Replay-Nonce");
    e->location = dup_header(&u->h, "Location");
    for (size_t i = 0; i < u->h.n; i++) {
        if (strcasecmp(u->h.names[i], "Link") || !strcasestr(u->h.values[i], "rel=\"alternate\""))
            continue;
        const char *lt = strchr(u->h.values[i], '<'), *gt = lt ? strchr(lt, '>') : NULL;
        if (!gt)
            continue;
        e->alternates = xrealloc(e->alternates, (e->nalternates + 1) * sizeof *e->alternates);
        e->alternates[e->nalternates++] = xstrndup(lt + 1, (size_t)(gt - lt - 1));
    }
    e->resp_len = u->body.len;
    e->resp_body = xstrndup(u->body.data ? u->body.data : "", u->body.len);
    aro_err err;
    const char *ct = e->resp_content_type ? e->resp_content_type : "";
    if (e->resp_len && (strstr(ct, "json")))
        e->resp_json = json_parse(e->resp_body, e->resp_len, &err);
    if (e->resp_json && strstr(ct, "problem+json")) {
        const char *t = json_str(e->resp_json, "type");
        if (t)
            e->problem = xstrdup(!strncmp(t, "urn:ietf:params:acme:error:", 27) ? t + 27 : t);
    }
}

static void exchange_clear(exchange *e)
{
    free(e->method);
    free(e->path);
    free(e->host);
    free(e->user_agent);
    free(e->content_type);
    free(e->accept);
    free(e->accept_language);
    free(e->body);
    json_free(e->jws);
    json_free(e->header);
    free(e->payload);
    free(e->resp_content_type);
    free(e->retry_after);
    free(e->replay_nonce);
    free(e->location);
    for (size_t i = 0; i < e->nalternates; i++)
        free(e->alternates[i]);
    free(e->alternates);
    free(e->resp_body);
    json_free(e->resp_json);
    free(e->problem);
}

static void append_log(proxy *p, exchange *e)
{
    pthread_mutex_lock(&p->mu);
    if (p->nlog == p->caplog) {
        p->caplog = p->caplog ? p->caplog * 2 : 128;
        p->log = xrealloc(p->log, p->caplog * sizeof *p->log);
    }
    p->log[p->nlog++] = *e;
    pthread_mutex_unlock(&p->mu);
}

/* ---- connections ---------------------------------------------------------------- */

typedef struct {
    proxy *p;
    conn_slot *slot;
} conn_arg;

static void *conn_main(void *arg)
{
    conn_arg *ca = arg;
    proxy *p = ca->p;
    int fd = ca->slot->fd;
    SSL *s = SSL_new(p->ctx);
    reader r = {.ssl = s};
    CURL *c = curl_easy_init();
    struct timeval tv = {.tv_sec = 60};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL_set_fd(s, fd);
    if (!c || SSL_accept(s) != 1)
        goto out;
    for (;;) {
        exchange e = {0};
        headers h = {0};
        aro_buf body = {0};
        upstream_resp u = {0};
        if (read_head(&r, &e.method, &e.path, &h) || read_body(&r, &h, &body)) {
            free(e.method);
            free(e.path);
            headers_free(&h);
            buf_free(&body);
            break;
        }
        e.t_req = now_seconds() - p->t0;
        e.host = dup_header(&h, "Host");
        e.user_agent = dup_header(&h, "User-Agent");
        e.content_type = dup_header(&h, "Content-Type");
        e.accept = dup_header(&h, "Accept");
        e.accept_language = dup_header(&h, "Accept-Language");
        e.replay_nonce_header = header_get(&h, "Replay-Nonce") != NULL;
        e.body_len = body.len;
        e.body = xstrndup(body.data ? body.data : "", body.len);
        decode_jws(&e);
        if (p->on_request)
            p->on_request(p->hook_ud, &e);
        long status = forward(p, c, e.method, e.path, &h, &body, &u);
        const char *conn_hdr = header_get(&h, "Connection");
        bool close_after = conn_hdr && !strcasecmp(conn_hdr, "close");
        int wrc = write_answer(s, e.method, status, &u);
        e.t_resp = now_seconds() - p->t0;
        record_answer(&e, status, &u);
        if (p->on_answer)
            p->on_answer(p->hook_ud, &e);
        append_log(p, &e);
        headers_free(&h);
        headers_free(&u.h);
        buf_free(&u.body);
        buf_free(&body);
        if (wrc || close_after)
            break;
    }
out:
    if (c)
        curl_easy_cleanup(c);
    SSL_shutdown(s);
    SSL_free(s);
    free(r.buf);
    pthread_mutex_lock(&p->mu);
    close(fd);
    ca->slot->fd = -1;
    ca->slot->done = true;
    pthread_mutex_unlock(&p->mu);
    free(ca);
    return NULL;
}

static void *accept_main(void *arg)
{
    proxy *p = arg;
    for (;;) {
        int fd = accept(p->lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        pthread_mutex_lock(&p->mu);
        conn_slot *slot = NULL;
        if (p->nconns < MAX_CONNS) {
            slot = &p->conns[p->nconns++];
        } else {
            /* Reuse the slot of a connection that has ended. */
            for (size_t i = 0; i < MAX_CONNS && !slot; i++)
                if (p->conns[i].done) {
                    if (p->conns[i].joinable)
                        pthread_join(p->conns[i].th, NULL);
                    p->conns[i].joinable = false;
                    slot = &p->conns[i];
                }
        }
        if (p->stopping || !slot) {
            pthread_mutex_unlock(&p->mu);
            close(fd);
            if (p->stopping)
                break;
            continue;
        }
        slot->fd = fd;
        slot->done = false;
        conn_arg *ca = xmalloc(sizeof *ca);
        *ca = (conn_arg){.p = p, .slot = slot};
        if (pthread_create(&slot->th, NULL, conn_main, ca) == 0) {
            slot->joinable = true;
        } else {
            close(fd);
            slot->fd = -1;
            slot->done = true;
            free(ca);
        }
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

proxy *proxy_start(const char *dir, const char *upstream, const char *upstream_ca, proxy_hook on_request,
                   proxy_hook on_answer, void *ud, aro_err *err)
{
    proxy *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->upstream = xstrdup(upstream);
    p->upstream_ca = xstrdup(upstream_ca);
    p->on_request = on_request;
    p->on_answer = on_answer;
    p->hook_ud = ud;
    p->lfd = -1;
    p->t0 = now_seconds();
    err->msg[0] = '\0';
    if (make_cert(p, dir, err))
        goto fail;
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof a) || listen(p->lfd, 64) ||
        getsockname(p->lfd, (struct sockaddr *)&a, &len)) {
        aro_err_set(err, "proxy: cannot listen on 127.0.0.1: %s", strerror(errno));
        goto fail;
    }
    p->port = ntohs(a.sin_port);
    if (pthread_create(&p->accept_th, NULL, accept_main, p) != 0) {
        aro_err_set(err, "proxy: cannot start its thread");
        goto fail;
    }
    p->accepting = true;
    return p;
fail:
    proxy_free(p);
    return NULL;
}

int proxy_port(const proxy *p)
{
    return p->port;
}

const char *proxy_ca_file(const proxy *p)
{
    return p->ca_file;
}

void proxy_stop(proxy *p)
{
    if (!p->accepting)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_mutex_unlock(&p->mu);
    shutdown(p->lfd, SHUT_RDWR);
    pthread_join(p->accept_th, NULL);
    p->accepting = false;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nconns; i++)
        if (!p->conns[i].done && p->conns[i].fd >= 0)
            shutdown(p->conns[i].fd, SHUT_RDWR);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nconns; i++)
        if (p->conns[i].joinable) {
            pthread_join(p->conns[i].th, NULL);
            p->conns[i].joinable = false;
        }
    p->nconns = 0;
}

const exchange *proxy_log(const proxy *p, size_t *n)
{
    *n = p->nlog;
    return p->log;
}

void proxy_free(proxy *p)
{
    if (!p)
        return;
    proxy_stop(p);
    if (p->lfd >= 0)
        close(p->lfd);
    for (size_t i = 0; i < p->nlog; i++)
        exchange_clear(&p->log[i]);
    free(p->log);
    SSL_CTX_free(p->ctx);
    free(p->upstream);
    free(p->upstream_ca);
    free(p->ca_file);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
