#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <h2o.h>

#include "nonce.h"

#define MAX_BODY (64 * 1024) /* bodies larger than this get 413 (RFC 8555 requests are small) */

static atomic_int stopping;

void http_stop(void) { atomic_store(&stopping, 1); }

typedef struct {
    h2o_handler_t super;
    server *srv;
    bool manage;
} aro_handler;

typedef struct {
    server *srv;
    h2o_globalconf_t *config;
    SSL_CTX *ssl;
    int fd;
    bool manage;
    pthread_t thread;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
} loop_thread;

/* h2o keeps header values by pointer: copy them into the request's pool. */
static void add_header(h2o_req_t *req, const char *name, const char *value)
{
    h2o_iovec_t v = h2o_strdup(&req->pool, value, SIZE_MAX);
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, v.base, v.len);
}

static void log_request(const server *srv, const http_request *rq, const http_response *rs, double ms)
{
    if (srv->cfg.log_level < 1 && rs->status < 500)
        return;
    fprintf(stderr, "%s %s %d %s %.1fms\n", rq->method, rq->path, rs->status,
            rs->problem_type ? rs->problem_type : "-", ms);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    aro_handler *h = (aro_handler *)self;
    server *srv = h->srv;
    struct timeval t0, t1;
    gettimeofday(&t0, NULL);

    char method[8] = "", *path, *query = NULL, *base, *ctype = NULL;
    snprintf(method, sizeof(method), "%.*s", (int)req->method.len, req->method.base);
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    path = xstrndup(req->path.base, plen);
    if (req->query_at != SIZE_MAX)
        query = xstrndup(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
    base = xasprintf("https://%.*s", (int)req->authority.len, req->authority.base);
    ssize_t ci = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (ci >= 0)
        ctype = xstrndup(req->headers.entries[ci].value.base, req->headers.entries[ci].value.len);
    http_request rq = {.method = method, .path = path, .query = query, .base = base,
                       .body = req->entity.base, .body_len = req->entity.base ? req->entity.len : 0,
                       .content_type = ctype, .now = time(NULL)};
    http_response rs;
    memset(&rs, 0, sizeof(rs));
    rs.retry_after = -1;
    if (h->manage)
        manage_dispatch(srv, &rq, &rs);
    else
        router_dispatch(srv, &rq, &rs);

    req->res.status = rs.status ? rs.status : 500;
    req->res.reason = "";
    if (rs.content_type)
        add_header(req, "content-type", rs.content_type);
    if (!h->manage) {
        /* 6.5: a fresh nonce on every response; 7.1: Link to the directory. */
        char nonce[48];
        nonce_issue(srv->nonces, nonce);
        add_header(req, "replay-nonce", nonce);
        char *index = xasprintf("<%s/directory>;rel=\"index\"", base);
        add_header(req, "link", index);
        free(index);
        add_header(req, "cache-control", "no-store");
    }
    for (int i = 0; i < rs.nlinks; i++)
        add_header(req, "link", rs.links[i]);
    if (rs.location)
        add_header(req, "location", rs.location);
    if (rs.retry_after >= 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%ld", rs.retry_after);
        add_header(req, "retry-after", ra);
    }
    h2o_iovec_t body = h2o_strdup(&req->pool, rs.body ? rs.body : "", rs.body ? rs.body_len : 0);
    req->res.content_length = body.len;
    gettimeofday(&t1, NULL);
    log_request(srv, &rq, &rs, (double)(t1.tv_sec - t0.tv_sec) * 1000.0 + (double)(t1.tv_usec - t0.tv_usec) / 1000.0);
    if (strcmp(method, "HEAD") == 0)
        h2o_send_inline(req, NULL, 0);
    else
        h2o_send_inline(req, body.base, body.len);
    response_clear(&rs);
    free(path);
    free(query);
    free(base);
    free(ctype);
    return 0;
}

static int listen_on(const char *addr_port, aro_err *err)
{
    char host[256];
    const char *colon = strrchr(addr_port, ':');
    if (!colon || (size_t)(colon - addr_port) >= sizeof(host)) {
        aro_err_set(err, "listen address \"%s\" must be ADDR:PORT", addr_port);
        return -1;
    }
    memcpy(host, addr_port, (size_t)(colon - addr_port));
    host[colon - addr_port] = 0;
    char *h = host;
    if (h[0] == '[') { /* [::1]:14000 */
        h++;
        h[strlen(h) - 1] = 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    int rc = getaddrinfo(h, colon + 1, &hints, &ai);
    if (rc) {
        aro_err_set(err, "listen address \"%s\": %s", addr_port, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    /* No SO_REUSEPORT: a port another process holds must fail loudly
     * (as Pebble does), not silently share its traffic. The event loops
     * share this one socket through dup()ed descriptors instead. */
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, SOMAXCONN)) {
        aro_err_set(err, "cannot listen on %s: %s", addr_port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock)
        h2o_accept(listener->data, sock);
}

static void *loop_main(void *arg)
{
    loop_thread *lt = arg;
    h2o_context_init(&lt->ctx, h2o_evloop_create(), lt->config);
    lt->accept_ctx.ctx = &lt->ctx;
    lt->accept_ctx.hosts = lt->config->hosts;
    lt->accept_ctx.ssl_ctx = lt->ssl;
    h2o_socket_t *sock = h2o_evloop_socket_create(lt->ctx.loop, lt->fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = &lt->accept_ctx;
    h2o_socket_read_start(sock, on_accept);
    while (!atomic_load(&stopping))
        h2o_evloop_run(lt->ctx.loop, 200);
    h2o_socket_read_stop(sock);
    h2o_socket_close(sock);
    /* h2o 2.2 cannot tear down a loop with live connections cleanly; the
     * process is exiting, so the loop's memory goes with it. */
    return NULL;
}

static SSL_CTX *make_ssl(server *srv, aro_err *err)
{
    SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
    SSL_CTX_set_options(ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ssl, ca_https_cert_path(srv->ca)) != 1 ||
        SSL_CTX_use_PrivateKey_file(ssl, ca_https_key_path(srv->ca), SSL_FILETYPE_PEM) != 1) {
        aro_err_set(err, "TLS certificate %s: %s", ca_https_cert_path(srv->ca),
                    ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ssl);
        return NULL;
    }
    h2o_ssl_register_alpn_protocols(ssl, h2o_alpn_protocols);
    return ssl;
}

static h2o_globalconf_t *make_config(server *srv, bool manage)
{
    h2o_globalconf_t *config = xcalloc(1, sizeof(*config));
    h2o_config_init(config);
    config->server_name = h2o_iovec_init(H2O_STRLIT("aro-server"));
    config->max_request_entity_size = MAX_BODY;
    /* Debian's h2o 2.2.5 predates later HTTP/2 fixes: bound what one
     * connection can ask for and how long it may idle. */
    config->http2.max_concurrent_requests_per_connection = 32;
    config->http2.idle_timeout = 30000;
    config->http1.req_timeout = 15000;
    h2o_hostconf_t *host = h2o_config_register_host(config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    aro_handler *h = (aro_handler *)h2o_create_handler(path, sizeof(*h));
    h->super.on_req = on_req;
    h->srv = srv;
    h->manage = manage;
    return config;
}

int http_run(server *srv)
{
    aro_err err = {{0}};
    signal(SIGPIPE, SIG_IGN);
    SSL_CTX *ssl = make_ssl(srv, &err);
    if (!ssl) {
        fprintf(stderr, "aro-server: %s\n", err.msg);
        return -1;
    }
    int n = srv->cfg.threads > 0 ? srv->cfg.threads : 1;
    h2o_globalconf_t *acme_conf = make_config(srv, false), *manage_conf = make_config(srv, true);
    loop_thread *lts = xcalloc((size_t)n + 1, sizeof(*lts));
    int ret = 0, acme_fd = -1;
    for (int i = 0; i <= n; i++) {
        loop_thread *lt = &lts[i];
        lt->srv = srv;
        lt->ssl = ssl;
        lt->manage = i == n;
        lt->config = lt->manage ? manage_conf : acme_conf;
        if (lt->manage)
            lt->fd = listen_on(srv->cfg.manage, &err);
        else if (acme_fd < 0)
            lt->fd = acme_fd = listen_on(srv->cfg.listen, &err);
        else
            lt->fd = fcntl(acme_fd, F_DUPFD_CLOEXEC, 0);
        if (lt->fd < 0) {
            fprintf(stderr, "aro-server: %s\n", err.msg);
            atomic_store(&stopping, 1);
            n = i - 1;
            ret = -1;
            break;
        }
    }
    if (ret == 0) {
        for (int i = 0; i <= n; i++)
            pthread_create(&lts[i].thread, NULL, loop_main, &lts[i]);
        fprintf(stderr, "aro-server: listening on https://%s/directory (management https://%s), %d loop(s)\n",
                srv->cfg.listen, srv->cfg.manage, n);
        for (int i = 0; i <= n; i++)
            pthread_join(lts[i].thread, NULL);
    }
    for (int i = 0; i <= n; i++)
        if (lts[i].fd >= 0)
            close(lts[i].fd);
    free(lts);
    return ret;
}
