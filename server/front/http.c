#include "front/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "acme/nonce.h"
#include "front/manage.h"
#include "front/routes.h"
#include "core/urls.h"
#include "jobs/workers.h"
#include "jobs/writer.h"

/* RFC 8555 requests are small: a body over ACME_MAX_BODY is answered
 * with a 413 problem document. h2o answers bodies over H2O_MAX_BODY
 * itself, with a bare 413, and closes the connection as soon as it knows
 * (a client still sending then sees a reset): its cap is set high enough
 * that any body an ordinary client sends by mistake is read in full and
 * the client reads our problem document; it bounds what one request can
 * make the server buffer. */
#define ACME_MAX_BODY (64 * 1024)
#define H2O_MAX_BODY (8 * 1024 * 1024)

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
    h2o_multithread_queue_t *queue;       /* responses coming back from workers */
    h2o_multithread_receiver_t receiver;
} loop_thread;



/* h2o keeps header values by pointer: copy them into the request's pool. */
static void add_header(h2o_req_t *req, const char *name, const char *value)
{
    h2o_iovec_t v = h2o_strdup(&req->pool, value, SIZE_MAX);
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, v.base, v.len);
}

/* The access log, one line per request at log level 1, gathered per loop
 * thread and written once per turn of its loop (loop_main), after the
 * turn's events ran: a loop that answers twenty requests in one turn
 * makes one write(2), not twenty. A line is never held across a wait for
 * events; a crash loses at most the turn's lines. Each write is at most
 * PIPE_BUF octets and ends at a line's end, so that on a pipe the two
 * loops' writes never interleave inside a line (POSIX makes writes of up
 * to PIPE_BUF to a pipe atomic). */
static _Thread_local struct {
    char buf[16384];
    size_t len;
} access_log;

static void access_log_flush(void)
{
    size_t off = 0;
    while (off < access_log.len) {
        const char *from = access_log.buf + off;
        size_t n = access_log.len - off;
        if (n > PIPE_BUF) {
            /* Up to the last line's end within PIPE_BUF; a line longer
             * than that (cut to the buffer, see log_request) alone. */
            const char *end = memrchr(from, '\n', PIPE_BUF);
            if (!end)
                end = memchr(from, '\n', n);
            if (end)
                n = (size_t)(end - from) + 1;
        }
        ssize_t w = write(STDERR_FILENO, from, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* a log that cannot be written drops its lines, never the request */
        off += (size_t)w;
    }
    access_log.len = 0;
}

static void log_request(const server *srv, const http_request *rq, const http_response *rs, double ms)
{
    if (srv->cfg.log_level < 1 && rs->status < 500)
        return;
    for (int tries = 0; tries < 2; tries++) {
        size_t room = sizeof(access_log.buf) - access_log.len;
        int n = snprintf(access_log.buf + access_log.len, room, "%s %s %d %s %.1fms\n", rq->method, rq->path,
                         rs->status, rs->problem_type ? rs->problem_type : "-", ms);
        if (n >= 0 && (size_t)n < room) {
            access_log.len += (size_t)n;
            return;
        }
        if (access_log.len == 0) { /* longer than the whole buffer: its start */
            access_log.len = room - 1;
            access_log.buf[access_log.len - 1] = '\n';
            access_log_flush();
            return;
        }
        access_log_flush();
    }
}

/* A request handed to a worker: owned copies of what the handler reads,
 * and the response it fills. The h2o request stays on its loop; if the
 * client goes away first (an HTTP/2 cancel), h2o frees the request and
 * its pool, and the pool's dispose callback tells the job so. */
typedef struct request_job request_job;

typedef struct {
    request_job *job;   /* cleared when the job is done with it */
} req_token;

struct request_job {
    h2o_multithread_message_t super; /* first: the loop's queue links it */
    h2o_multithread_receiver_t *receiver;
    server *srv;
    h2o_req_t *req;     /* NULL once h2o freed the request */
    req_token *token;   /* lives in req->pool */
    bool manage;
    char method[8];
    char *path, *query, *base, *ctype, *body;
    http_request rq;
    http_response rs;
    struct timeval t0;
    void *prepared;                 /* router_prepare's result */
    void (*release_prepared)(void *);
};

/* time(NULL) may read the coarse clock, up to a tick behind: a re-enable
 * sent just after notBefore must not be "too early". */
static time_t precise_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

static void on_req_disposed(void *p)
{
    req_token *tok = p;
    if (tok->job) {
        tok->job->req = NULL;
        tok->job->token = NULL;
    }
}

static void job_free(request_job *j)
{
    router_release(&j->rq);
    if (j->release_prepared)
        j->release_prepared(j->prepared);
    response_clear(&j->rs);
    free(j->path);
    free(j->query);
    free(j->base);
    free(j->ctype);
    free(j->body);
    free(j);
}

/* On the loop thread: turn the handler's response into HTTP. */
static void send_response(request_job *j)
{
    h2o_req_t *req = j->req;
    server *srv = j->srv;
    http_response *rs = &j->rs;
    struct timeval t1;
    req->res.status = rs->status ? rs->status : 500;
    req->res.reason = "";
    if (rs->content_type)
        add_header(req, "content-type", rs->content_type);
    if (!j->manage) {
        /* 6.5: a fresh nonce on every response; 7.1: Link to the directory. */
        char nonce[48];
        nonce_issue(srv->nonces, nonce);
        add_header(req, "replay-nonce", nonce);
        h2o_iovec_t index = h2o_concat(&req->pool, h2o_iovec_init(H2O_STRLIT("<")),
                                       h2o_iovec_init(j->base, strlen(j->base)),
                                       h2o_iovec_init(H2O_STRLIT(PATH_DIRECTORY ">;rel=\"index\"")));
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("link"), 1, NULL, index.base, index.len);
        /* A static value: h2o keeps the pointer. */
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("cache-control"), 1, NULL,
                              H2O_STRLIT("no-store"));
    }
    for (int i = 0; i < rs->nlinks; i++)
        add_header(req, "link", rs->links[i]);
    if (rs->location)
        add_header(req, "location", rs->location);
    if (rs->retry_after >= 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%ld", rs->retry_after);
        add_header(req, "retry-after", ra);
    }
    h2o_iovec_t body = h2o_strdup(&req->pool, rs->body ? rs->body : "", rs->body ? rs->body_len : 0);
    req->res.content_length = body.len;
    gettimeofday(&t1, NULL);
    log_request(srv, &j->rq, rs,
                (double)(t1.tv_sec - j->t0.tv_sec) * 1000.0 + (double)(t1.tv_usec - j->t0.tv_usec) / 1000.0);
    /* Detach first: sending may free the request (and the token) at once. */
    if (j->token)
        j->token->job = NULL;
    j->token = NULL;
    j->req = NULL;
    if (strcmp(j->method, "HEAD") == 0)
        h2o_send_inline(req, NULL, 0);
    else
        h2o_send_inline(req, body.base, body.len);
}

/* On the loop thread: responses finished by workers. */
static void on_responses(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        request_job *j = (request_job *)m;
        if (j->req)
            send_response(j);
        job_free(j);
    }
}

/* On a worker: the protocol work, which may wait on the store's fsync. */
static void run_job(void *arg)
{
    request_job *j = arg;
    router_dispatch(j->srv, &j->rq, &j->rs);
    h2o_multithread_send_message(j->receiver, &j->super);
}

/* After the batch holding this request's writes is on disk (or failed):
 * only now may the answer leave. */
static void job_done(void *arg, bool committed)
{
    request_job *j = arg;
    if (!committed) {
        /* On the writer's thread, right after the failed commit: the
         * store tells whether it failed for want of room (503 "full"). */
        response_clear(&j->rs);
        response_store_error(&j->rs);
        if (j->rs.retry_after < 0)
            j->rs.retry_after = 1;
    }
    h2o_multithread_send_message(j->receiver, &j->super);
}

static void run_in_batch(void *arg)
{
    request_job *j = arg;
    router_dispatch(j->srv, &j->rq, &j->rs);
}

/* A request that touches the store: into the writer's next batch, or to
 * a request worker when group commit is off. */
static bool queue_request(request_job *j)
{
    return j->srv->writer ? writer_submit(j->srv->writer, run_in_batch, job_done, j)
                          : worker_submit(j->srv->request_workers, NULL, run_job, j);
}

/* On a worker: the resource's work before its transaction (it may wait
 * on DNS), then the request joins the queue. */
static void prepare_then_queue(void *arg)
{
    request_job *j = arg;
    j->prepared = router_prepare(j->srv, &j->rq, &j->release_prepared);
    j->rq.prepared = j->prepared;
    if (queue_request(j))
        return;
    response_error(&j->rs, "serverInternal", 503, "the server is overloaded; retry later");
    j->rs.retry_after = 1;
    h2o_multithread_send_message(j->receiver, &j->super);
}

/* Requests that never touch the store are answered on the loop. */
static bool runs_inline(const request_job *j)
{
    if (j->manage)
        return true;
    /* A POST-as-GET of the directory or newNonce reads the account. */
    return strcmp(j->method, "POST") != 0 && (strcmp(j->path, PATH_DIRECTORY) == 0 ||
           strcmp(j->path, PATH_DIRECTORY_PEBBLE) == 0 || strcmp(j->path, PATH_NEW_NONCE) == 0);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    aro_handler *h = (aro_handler *)self;
    request_job *j = xcalloc(1, sizeof(*j));
    gettimeofday(&j->t0, NULL);
    j->srv = h->srv;
    j->manage = h->manage;
    /* The loop this request arrived on: its context is a member of it. */
    loop_thread *lt = H2O_STRUCT_FROM_MEMBER(loop_thread, ctx, req->conn->ctx);
    j->receiver = lt->queue ? &lt->receiver : NULL;
    size_t mlen = req->method.len < sizeof(j->method) - 1 ? req->method.len : sizeof(j->method) - 1;
    memcpy(j->method, req->method.base, mlen);
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    j->path = xstrndup(req->path.base, plen);
    if (req->query_at != SIZE_MAX)
        j->query = xstrndup(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
    j->base = xmalloc(req->authority.len + 9);
    memcpy(j->base, "https://", 8);
    memcpy(j->base + 8, req->authority.base, req->authority.len);
    j->base[8 + req->authority.len] = '\0';
    ssize_t ci = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (ci >= 0)
        j->ctype = xstrndup(req->headers.entries[ci].value.base, req->headers.entries[ci].value.len);
    size_t blen = req->entity.base ? req->entity.len : 0;
    if (blen && blen <= ACME_MAX_BODY) {
        j->body = xmalloc(blen);
        memcpy(j->body, req->entity.base, blen);
    }
    j->rq = (http_request){.method = j->method, .path = j->path, .query = j->query, .base = j->base,
                          .body = j->body, .body_len = blen, .content_type = j->ctype,
                          .now = precise_now()};
    j->rs.retry_after = -1;
    j->req = req;
    if (blen > ACME_MAX_BODY) {
        response_error(&j->rs, "malformed", 413, "the request body has %zu bytes; this server accepts at most %d",
                       blen, ACME_MAX_BODY);
        send_response(j);
        job_free(j);
        return 0;
    }
    if (runs_inline(j) || !j->receiver) {
        if (j->manage)
            manage_dispatch(j->srv, &j->rq, &j->rs);
        else
            router_dispatch(j->srv, &j->rq, &j->rs);
        send_response(j);
        job_free(j);
        return 0;
    }
    /* Here on the loop: the JWS, and the answer to every request that
     * changes nothing (the router reads committed state). */
    route_next next = router_accept(j->srv, &j->rq, &j->rs);
    if (next == ROUTE_ANSWERED) {
        send_response(j);
        job_free(j);
        return 0;
    }
    if (next == ROUTE_PREPARE_HERE) {
        j->prepared = router_prepare(j->srv, &j->rq, &j->release_prepared);
        j->rq.prepared = j->prepared;
        next = ROUTE_WRITE;
    }
    j->token = h2o_mem_alloc_shared(&req->pool, sizeof(req_token), on_req_disposed);
    j->token->job = j;
    /* Prepares of every account share one owner of the fair pool: they
     * can take at most its per-owner share (jobs/workers.c). */
    bool queued = next == ROUTE_PREPARE ? worker_submit(j->srv->workers, NULL, prepare_then_queue, j)
                                        : queue_request(j);
    if (!queued) {
        response_error(&j->rs, "serverInternal", 503, "the server is overloaded; retry later");
        j->rs.retry_after = 1;
        send_response(j);
        job_free(j);
    }
    return 0;
}

int http_listen_on(const char *addr_port, aro_err *err)
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

void http_on_accept(h2o_socket_t *listener, const char *err)
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
    pthread_setname_np(pthread_self(), lt->manage ? "aro-manage" : "aro-loop");
    h2o_context_init(&lt->ctx, h2o_evloop_create(), lt->config);
    if (!lt->manage) {
        lt->queue = h2o_multithread_create_queue(lt->ctx.loop);
        h2o_multithread_register_receiver(lt->queue, &lt->receiver, on_responses);
    }
    lt->accept_ctx.ctx = &lt->ctx;
    lt->accept_ctx.hosts = lt->config->hosts;
    lt->accept_ctx.ssl_ctx = lt->ssl;
    h2o_socket_t *sock = h2o_evloop_socket_create(lt->ctx.loop, lt->fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = &lt->accept_ctx;
    h2o_socket_read_start(sock, http_on_accept);
    while (!atomic_load(&stopping)) {
        h2o_evloop_run(lt->ctx.loop, 200);
        access_log_flush();
    }
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
    config->max_request_entity_size = H2O_MAX_BODY;
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
    /* The management loop comes last, and only when an address is set
     * (Pebble's empty managementListenAddress switches it off). */
    bool has_manage = srv->cfg.manage && *srv->cfg.manage;
    int total = n + (has_manage ? 1 : 0);
    h2o_globalconf_t *acme_conf = make_config(srv, false), *manage_conf = make_config(srv, true);
    loop_thread *lts = xcalloc((size_t)total, sizeof(*lts));
    int ret = 0, acme_fd = -1, opened = 0;
    for (int i = 0; i < total; i++) {
        loop_thread *lt = &lts[i];
        lt->srv = srv;
        lt->ssl = ssl;
        lt->manage = has_manage && i == n;
        lt->config = lt->manage ? manage_conf : acme_conf;
        if (lt->manage)
            lt->fd = http_listen_on(srv->cfg.manage, &err);
        else if (acme_fd < 0)
            lt->fd = acme_fd = http_listen_on(srv->cfg.listen, &err);
        else
            lt->fd = fcntl(acme_fd, F_DUPFD_CLOEXEC, 0);
        if (lt->fd < 0) {
            fprintf(stderr, "aro-server: %s\n", err.msg);
            atomic_store(&stopping, 1);
            ret = -1;
            break;
        }
        opened++;
    }
    if (ret == 0) {
        for (int i = 0; i < total; i++)
            pthread_create(&lts[i].thread, NULL, loop_main, &lts[i]);
        fprintf(stderr, "aro-server: listening on https://%s/directory (management %s%s), %d loop(s)\n",
                srv->cfg.listen, has_manage ? "https://" : "off", has_manage ? srv->cfg.manage : "", n);
        for (int i = 0; i < total; i++)
            pthread_join(lts[i].thread, NULL);
    }
    for (int i = 0; i < opened; i++)
        close(lts[i].fd);
    /* h2o 2.2 cannot dispose of a loop that still has connections (slow or
     * idle clients at shutdown). The process is about to exit: keep the
     * loops, configs and TLS context reachable rather than freeing half of
     * them and leaving the rest dangling. */
    static loop_thread *volatile retired_loops;
    static h2o_globalconf_t *volatile retired_confs[2];
    static SSL_CTX *volatile retired_ssl;
    retired_loops = lts;
    retired_confs[0] = acme_conf;
    retired_confs[1] = manage_conf;
    retired_ssl = ssl;
    (void)retired_loops;
    (void)retired_confs;
    (void)retired_ssl;
    return ret;
}
