#include "mpic/perspective.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <h2o.h>

#include "ca/channel.h"
#include "front/http.h"
#include "jobs/workers.h"
#include "keys.h"
#include "mpic/look.h"

#define MAX_REQUEST (64 * 1024) /* a request is one challenge and a few CAA identities */
#define MAX_QUEUED 1024         /* looks waiting for a worker; more get 503 */

static atomic_int stopping;

void perspective_stop(void) { atomic_store(&stopping, 1); }

typedef struct {
    h2o_handler_t super;
    const server_config *cfg;
    worker_pool *pool;
    h2o_multithread_receiver_t *receiver;
} look_handler;

/* A request handed to a worker, as in front/http.c: the h2o request stays
 * on the loop; if the primary goes away first (its timeout), h2o frees
 * the request and the pool's dispose callback tells the job. */
typedef struct look_job look_job;

typedef struct {
    look_job *job;
} req_token;

struct look_job {
    h2o_multithread_message_t super; /* first: the loop's queue links it */
    h2o_multithread_receiver_t *receiver;
    const server_config *cfg;
    h2o_req_t *req;     /* NULL once h2o freed the request */
    req_token *token;   /* lives in req->pool */
    char *body;
    size_t len;
    int status;
    char *answer;       /* JSON (200) or a problem document */
    char summary[200];  /* for the log line */
    struct timespec t0;
};

static void on_req_disposed(void *p)
{
    req_token *tok = p;
    if (tok->job) {
        tok->job->req = NULL;
        tok->job->token = NULL;
    }
}

static void job_free(look_job *j)
{
    free(j->body);
    free(j->answer);
    free(j);
}

static void send_answer(h2o_req_t *req, int status, const char *body)
{
    static const char *const problem = "application/problem+json", *const json = "application/json";
    const char *ctype = status == 200 ? json : problem;
    req->res.status = status;
    req->res.reason = "";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, strlen(ctype));
    h2o_iovec_t b = h2o_strdup(&req->pool, body, SIZE_MAX);
    req->res.content_length = b.len;
    h2o_send_inline(req, b.base, b.len);
}

static char *problem_text(const char *type, int status, const char *detail)
{
    acme_problem *p = problem_new(type, status, "%s", detail);
    char *s = problem_to_json(p);
    problem_free(p);
    return s;
}

/* On a worker: decode, look, encode. */
static void look_work(void *arg)
{
    look_job *j = arg;
    aro_err err = {{0}};
    mpic_query_decoded d;
    if (mpic_query_from_json(j->body, j->len, &d, &err) < 0) {
        j->status = 400;
        j->answer = problem_text("malformed", 400, err.msg);
        snprintf(j->summary, sizeof(j->summary), "malformed request: %.150s", err.msg);
    } else {
        mpic_view v;
        mpic_look(&j->cfg->va, &d.q, false, &v);
        j->answer = mpic_view_to_json(&v);
        j->status = j->answer ? 200 : 500;
        if (!j->answer)
            j->answer = problem_text("serverInternal", 500, "cannot encode the answer");
        const char *why = v.caa_problem            ? v.caa_problem->type
                          : v.challenge.problem     ? v.challenge.problem->type
                                                    : "";
        snprintf(j->summary, sizeof(j->summary), "%s %s: %s %s", d.q.challenge.type, d.q.challenge.identifier,
                 mpic_view_passed(&v) ? "passed" : "failed", problem_short_type(why));
        mpic_view_clear(&v);
        mpic_query_decoded_clear(&d);
    }
    h2o_multithread_send_message(j->receiver, &j->super);
}

/* On the loop: answers finished by workers. */
static void on_answers(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        look_job *j = (look_job *)m;
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (j->cfg->log_level >= 1 || j->status >= 500)
            fprintf(stderr, "perspective: %s%s (%.1f ms)\n", j->summary, j->req ? "" : " (the primary had gone)",
                    (double)(t1.tv_sec - j->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - j->t0.tv_nsec) / 1e6);
        if (j->req) {
            h2o_req_t *req = j->req;
            j->token->job = NULL; /* sending may free the request and the token at once */
            j->req = NULL;
            send_answer(req, j->status, j->answer);
        }
        job_free(j);
    }
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    look_handler *h = (look_handler *)self;
    if (!h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/validate"))) {
        char *p = problem_text("malformed", 404, "a perspective answers POST /validate only");
        send_answer(req, 404, p);
        free(p);
        return 0;
    }
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        char *p = problem_text("malformed", 405, "POST /validate");
        send_answer(req, 405, p);
        free(p);
        return 0;
    }
    look_job *j = xcalloc(1, sizeof(*j));
    clock_gettime(CLOCK_MONOTONIC, &j->t0);
    j->receiver = h->receiver;
    j->cfg = h->cfg;
    j->len = req->entity.base ? req->entity.len : 0;
    j->body = xmalloc(j->len + 1);
    if (j->len)
        memcpy(j->body, req->entity.base, j->len);
    j->body[j->len] = 0;
    j->req = req;
    j->token = h2o_mem_alloc_shared(&req->pool, sizeof(req_token), on_req_disposed);
    j->token->job = j;
    if (!worker_submit(h->pool, NULL, look_work, j)) { /* one owner: the primary */
        j->token->job = NULL;
        char *p = problem_text("serverInternal", 503, "the perspective is overloaded");
        send_answer(req, 503, p);
        free(p);
        job_free(j);
    }
    return 0;
}

/* Mutual TLS 1.3 under the channel's root only: the peer must present a
 * clientAuth certificate of that root (OpenSSL's default purpose for a
 * server checking a client), which only the primary holds. */
static SSL_CTX *make_ssl(const channel_credentials *cred, aro_err *err)
{
    SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
    BIO *cb = BIO_new_mem_buf(cred->cert_pem, -1), *rb = BIO_new_mem_buf(cred->ca_pem, -1);
    X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    X509 *root = rb ? PEM_read_bio_X509(rb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = key_from_pem(cred->key_pem, strlen(cred->key_pem), err);
    bool ok = ssl && cert && root && key && SSL_CTX_set_min_proto_version(ssl, TLS1_3_VERSION) &&
              SSL_CTX_use_certificate(ssl, cert) == 1 && SSL_CTX_use_PrivateKey(ssl, key) == 1 &&
              X509_STORE_add_cert(SSL_CTX_get_cert_store(ssl), root) == 1 && SSL_CTX_add_client_CA(ssl, root) == 1 &&
              SSL_CTX_set_purpose(ssl, X509_PURPOSE_SSL_CLIENT) == 1;
    if (ok) {
        SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        SSL_CTX_set_verify_depth(ssl, 1); /* the primary's certificate, then the root */
        /* Every connection authenticates afresh: no resumption. */
        SSL_CTX_set_options(ssl, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
        SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF);
    } else {
        aro_err_set(err, "perspective TLS set-up: %s", ERR_reason_error_string(ERR_get_error()));
        ERR_clear_error();
        SSL_CTX_free(ssl);
        ssl = NULL;
    }
    BIO_free(cb);
    BIO_free(rb);
    X509_free(cert);
    X509_free(root);
    EVP_PKEY_free(key);
    return ssl;
}

int perspective_run(const server_config *cfg)
{
    aro_err err = {{0}};
    channel_credentials cred;
    signal(SIGPIPE, SIG_IGN);
    if (channel_perspective_open(cfg->data_dir, &cred, &err) < 0) {
        fprintf(stderr, "aro-server: %s\n", err.msg);
        return -1;
    }
    SSL_CTX *ssl = make_ssl(&cred, &err);
    channel_credentials_clear(&cred);
    int fd = ssl ? http_listen_on(cfg->perspective_listen, &err) : -1;
    if (fd < 0) {
        fprintf(stderr, "aro-server: %s\n", err.msg);
        SSL_CTX_free(ssl);
        return -1;
    }
    /* One loop is plenty: it only parses requests and hands them over. */
    static h2o_globalconf_t config;
    static h2o_context_t ctx;
    static h2o_accept_ctx_t accept_ctx;
    static h2o_multithread_receiver_t receiver;
    h2o_config_init(&config);
    config.server_name = h2o_iovec_init(H2O_STRLIT("aro-server perspective"));
    config.max_request_entity_size = MAX_REQUEST;
    config.http1.req_timeout = 10000;
    h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    look_handler *h = (look_handler *)h2o_create_handler(path, sizeof(*h));
    h->super.on_req = on_req;
    h->cfg = cfg;
    h->pool = worker_pool_new(&(worker_pool_limits){.threads = cfg->va_workers, .max_queue = MAX_QUEUED});
    h->receiver = &receiver;
    h2o_context_init(&ctx, h2o_evloop_create(), &config);
    h2o_multithread_queue_t *queue = h2o_multithread_create_queue(ctx.loop);
    h2o_multithread_register_receiver(queue, &receiver, on_answers);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;
    accept_ctx.ssl_ctx = ssl;
    h2o_socket_t *sock = h2o_evloop_socket_create(ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = &accept_ctx;
    h2o_socket_read_start(sock, http_on_accept);
    fprintf(stderr, "aro-server: perspective listening on https://%s/validate (mutual TLS), data in %s, DNS %s, "
                    "http-01 on port %d, tls-alpn-01 on port %d\n",
            cfg->perspective_listen, cfg->data_dir, cfg->va.dns_server ? cfg->va.dns_server : "system resolver",
            cfg->va.http_port, cfg->va.tls_port);
    while (!atomic_load(&stopping))
        h2o_evloop_run(ctx.loop, 200);
    h2o_socket_read_stop(sock);
    h2o_socket_close(sock);
    /* The looks still running finish; their answers are delivered (or
     * dropped for a primary that has gone) and freed by one more turn. */
    worker_pool_free(h->pool);
    h->pool = NULL;
    h2o_evloop_run(ctx.loop, 0);
    /* h2o 2.2 cannot dispose of a loop with live connections (see
     * front/http.c): the process is exiting, its memory goes with it. */
    return 0;
}
