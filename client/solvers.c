#include "solvers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acme_crypto.h"
#include "b64url.h"
#include "keys.h"
#include "msg.h"

#define HOOK_TIMEOUT_SECONDS 600
#define CONN_TIMEOUT_SECONDS 10

extern char **environ;

typedef enum { SOLVER_NONE, SOLVER_HTTP, SOLVER_WEBROOT, SOLVER_TLSALPN, SOLVER_HOOK } solver_kind;

/* What a built-in server answers: http-01 token -> key authorization,
 * tls-alpn-01 SNI name -> certificate. */
typedef struct entry {
    char *name;             /* token (http-01) or SNI name (tls-alpn-01) */
    char *key_auth;         /* http-01 */
    X509 *cert;             /* tls-alpn-01 */
    struct entry *next;
} entry;

/* A listening server on its own thread; stopped through a pipe. */
typedef struct {
    int fd;
    int stop[2];
    pthread_t thread;
    bool running;
} listener;

struct solvers {
    solver_config cfg;
    pthread_mutex_t lock;
    entry *entries;
    listener http, tls;
    SSL_CTX *ssl_ctx;
    EVP_PKEY *tls_key;
};

static solver_kind kind_for(const solvers *s, const char *type)
{
    if (!strcmp(type, "http-01")) {
        if (s->cfg.http_port > 0)
            return SOLVER_HTTP;
        if (s->cfg.webroot)
            return SOLVER_WEBROOT;
    } else if (!strcmp(type, "tls-alpn-01")) {
        if (s->cfg.tls_alpn_port > 0)
            return SOLVER_TLSALPN;
    }
    return s->cfg.hook ? SOLVER_HOOK : SOLVER_NONE;
}

bool solvers_have(const solvers *s, const char *type)
{
    return kind_for(s, type) != SOLVER_NONE;
}

solvers *solvers_new(const solver_config *cfg)
{
    solvers *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->http.fd = s->tls.fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

static void listener_stop(listener *l)
{
    if (l->running) {
        ssize_t w = write(l->stop[1], "x", 1);
        (void)w;
        pthread_join(l->thread, NULL);
        close(l->stop[0]);
        close(l->stop[1]);
        l->running = false;
    }
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}

void solvers_free(solvers *s)
{
    if (!s)
        return;
    listener_stop(&s->http);
    listener_stop(&s->tls);
    for (entry *e = s->entries, *n; e; e = n) {
        n = e->next;
        free(e->name);
        free(e->key_auth);
        X509_free(e->cert);
        free(e);
    }
    SSL_CTX_free(s->ssl_ctx);
    EVP_PKEY_free(s->tls_key);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void entry_add(solvers *s, const char *name, const char *key_auth, X509 *cert)
{
    entry *e = xcalloc(1, sizeof *e);
    e->name = xstrdup(name);
    e->key_auth = xstrdup(key_auth);
    e->cert = cert;
    pthread_mutex_lock(&s->lock);
    e->next = s->entries;
    s->entries = e;
    pthread_mutex_unlock(&s->lock);
}

static void entry_del(solvers *s, const char *name)
{
    pthread_mutex_lock(&s->lock);
    for (entry **pp = &s->entries; *pp; pp = &(*pp)->next) {
        if (!strcasecmp((*pp)->name, name)) {
            entry *e = *pp;
            *pp = e->next;
            free(e->name);
            free(e->key_auth);
            X509_free(e->cert);
            free(e);
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- listening sockets ------------------------------------------------ */

static int listen_on(const char *addr, int port, aro_err *err)
{
    int fd = -1, one = 1, zero = 0;
    if (addr) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_NUMERICHOST | AI_PASSIVE}, *ai = NULL;
        char pbuf[16];
        snprintf(pbuf, sizeof pbuf, "%d", port);
        if (getaddrinfo(addr, pbuf, &hints, &ai) || !ai) {
            aro_err_set(err, "bad listen address %s", addr);
            return -1;
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
                close(fd);
                fd = -1;
            }
        }
        freeaddrinfo(ai);
    } else {
        /* Dual-stack [::] first; plain IPv4 where IPv6 is off. */
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                                  .sin6_addr = IN6ADDR_ANY_INIT};
        fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
            if (bind(fd, (struct sockaddr *)&a6, sizeof a6) || listen(fd, 16)) {
                close(fd);
                fd = -1;
            }
        }
        if (fd < 0) {
            struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                     .sin_addr.s_addr = htonl(INADDR_ANY)};
            fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd >= 0) {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(fd, (struct sockaddr *)&a4, sizeof a4) || listen(fd, 16)) {
                    close(fd);
                    fd = -1;
                }
            }
        }
    }
    if (fd < 0)
        aro_err_set(err, "cannot listen on port %d: %s", port, strerror(errno));
    return fd;
}

static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = CONN_TIMEOUT_SECONDS};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Accept until told to stop; one connection at a time is plenty for a
 * validation authority's few requests. */
static void serve(solvers *s, listener *l, void (*handle)(solvers *, int))
{
    for (;;) {
        struct pollfd p[2] = {{.fd = l->fd, .events = POLLIN}, {.fd = l->stop[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (p[1].revents)
            return;
        if (!(p[0].revents & POLLIN))
            continue;
        int c = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        set_timeouts(c);
        handle(s, c);
        close(c);
    }
}

/* ---- http-01 standalone (8.3) ----------------------------------------- */

static void http_handle(solvers *s, int c)
{
    char req[8192];
    size_t n = 0;
    while (n < sizeof req - 1) {
        ssize_t r = read(c, req + n, sizeof req - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    req[n] = '\0';
    static const char prefix[] = "/.well-known/acme-challenge/";
    char *body = NULL;
    char method[8] = "", path[1024] = "";
    if (sscanf(req, "%7s %1023s", method, path) == 2 && !strncmp(path, prefix, sizeof prefix - 1)) {
        const char *token = path + sizeof prefix - 1;
        pthread_mutex_lock(&s->lock);
        for (entry *e = s->entries; e; e = e->next)
            if (e->key_auth && !e->cert && !strcmp(e->name, token))
                body = xstrdup(e->key_auth);
        pthread_mutex_unlock(&s->lock);
    }
    char *resp;
    if (body) {
        msg_debug(1, "http-01: served %s", path);
        resp = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n%s",
                         strlen(body), !strcmp(method, "HEAD") ? "" : body);
    } else {
        msg_debug(1, "http-01: 404 for %.200s", path);
        resp = xstrdup("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    size_t len = strlen(resp), off = 0;
    while (off < len) {
        ssize_t w = send(c, resp + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(resp);
    free(body);
}

static void *http_thread(void *arg)
{
    solvers *s = arg;
    serve(s, &s->http, http_handle);
    return NULL;
}

/* ---- tls-alpn-01 responder (RFC 8737) --------------------------------- */

static const unsigned char acme_tls_alpn[] = "\x0a" "acme-tls/1";

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    unsigned char *o;
    /* RFC 8737 3: the responder must negotiate acme-tls/1 and nothing else. */
    if (SSL_select_next_proto(&o, outlen, acme_tls_alpn, sizeof acme_tls_alpn - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

static int sni_select(SSL *ssl, int *alert, void *arg)
{
    solvers *s = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    int ret = SSL_TLSEXT_ERR_ALERT_FATAL;
    if (!name)
        return ret;
    pthread_mutex_lock(&s->lock);
    for (entry *e = s->entries; e; e = e->next) {
        if (e->cert && !strcasecmp(e->name, name)) {
            if (SSL_use_certificate(ssl, e->cert) == 1 && SSL_use_PrivateKey(ssl, s->tls_key) == 1)
                ret = SSL_TLSEXT_ERR_OK;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    msg_debug(1, "tls-alpn-01: SNI %s %s", name, ret == SSL_TLSEXT_ERR_OK ? "answered" : "unknown");
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return ret;
}

static void tls_handle(solvers *s, int c)
{
    SSL *ssl = SSL_new(s->ssl_ctx);
    if (!ssl)
        return;
    SSL_set_fd(ssl, c);
    if (SSL_accept(ssl) == 1)
        SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}

static void *tls_thread(void *arg)
{
    solvers *s = arg;
    serve(s, &s->tls, tls_handle);
    return NULL;
}

static int listener_start(solvers *s, listener *l, int port, void *(*fn)(void *), aro_err *err)
{
    if (l->running)
        return 0;
    l->fd = listen_on(s->cfg.bind_addr, port, err);
    if (l->fd < 0)
        return -1;
    if (pipe2(l->stop, O_CLOEXEC)) {
        aro_err_set(err, "pipe: %s", strerror(errno));
        close(l->fd);
        l->fd = -1;
        return -1;
    }
    if (pthread_create(&l->thread, NULL, fn, s)) {
        aro_err_set(err, "cannot start a solver thread");
        close(l->stop[0]);
        close(l->stop[1]);
        close(l->fd);
        l->fd = -1;
        return -1;
    }
    l->running = true;
    return 0;
}

static int tls_setup(solvers *s, aro_err *err)
{
    if (s->ssl_ctx)
        return 0;
    s->tls_key = key_generate(KEY_EC256);
    s->ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (!s->tls_key || !s->ssl_ctx) {
        aro_err_set(err, "cannot set up the tls-alpn-01 responder");
        return -1;
    }
    SSL_CTX_set_min_proto_version(s->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_alpn_select_cb(s->ssl_ctx, alpn_select, s);
    SSL_CTX_set_tlsext_servername_callback(s->ssl_ctx, sni_select);
    SSL_CTX_set_tlsext_servername_arg(s->ssl_ctx, s);
    return 0;
}

/* RFC 8738 6: an IP identifier's SNI is its reverse-mapping name. */
static char *sni_name(const char *ident, bool is_ip)
{
    if (!is_ip)
        return xstrdup(ident);
    unsigned char a[16];
    aro_buf b = {0};
    if (inet_pton(AF_INET, ident, a) == 1) {
        buf_printf(&b, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
    } else if (inet_pton(AF_INET6, ident, a) == 1) {
        for (int i = 15; i >= 0; i--)
            buf_printf(&b, "%x.%x.", a[i] & 0xf, a[i] >> 4);
        buf_puts(&b, "ip6.arpa");
    } else {
        return xstrdup(ident);
    }
    return buf_steal(&b);
}

/* ---- webroot ----------------------------------------------------------- */

static char *webroot_path(const solvers *s, const char *token)
{
    return xasprintf("%s/.well-known/acme-challenge/%s", s->cfg.webroot, token);
}

/* ---- hook (uacme's protocol) ------------------------------------------- */

char *solver_hook_auth(const char *type, const char *key_auth)
{
    if (!strcmp(type, "dns-01"))
        return acme_dns01_txt_value(key_auth);
    if (!strcmp(type, "tls-alpn-01")) {
        unsigned char d[32];
        acme_tlsalpn01_digest(key_auth, d);
        return b64url_encode(d, sizeof d);
    }
    return xstrdup(key_auth);
}

int solver_run_hook(const char *prog, const char *method, const char *type, const char *ident,
                    const char *token, const char *auth)
{
    /* Build the environment before fork: the child only execs. */
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = xcalloc(n + 6, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "UACME_", 6))
            envp[k++] = environ[i];
    char *own[5] = {xasprintf("UACME_METHOD=%s", method), xasprintf("UACME_TYPE=%s", type),
                    xasprintf("UACME_IDENT=%s", ident), xasprintf("UACME_TOKEN=%s", token),
                    xasprintf("UACME_AUTH=%s", auth)};
    for (int i = 0; i < 5; i++)
        envp[k++] = own[i];
    envp[k] = NULL;
    char *argv[] = {(char *)prog, (char *)method, (char *)type, (char *)ident, (char *)token,
                    (char *)auth, NULL};
    int ret = -1;

    /* posix_spawn: safe with the solver threads running, and an exec
     * failure comes back as an error instead of a half-copied child.
     * stdout belongs to aro's result (--json): the hook writes to stderr. */
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) {
        msg_error("hook %s: cannot run it: %s", prog, strerror(rc));
        ret = 127;
        goto out;
    }
    time_t deadline = time(NULL) + HOOK_TIMEOUT_SECONDS;
    int status;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            msg_error("hook %s: waitpid: %s", prog, strerror(errno));
            goto out;
        }
        if (time(NULL) > deadline) {
            msg_error("hook %s %s %s %s: no answer in %d s, killing it", prog, method, type, ident,
                      HOOK_TIMEOUT_SECONDS);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            goto out;
        }
        struct timespec ts = {.tv_nsec = 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status))
        ret = WEXITSTATUS(status);
out:
    for (int i = 0; i < 5; i++)
        free(own[i]);
    free(envp);
    return ret;
}

/* ---- dispatch ---------------------------------------------------------- */

int solvers_begin(solvers *s, const char *type, const char *ident, bool ident_is_ip,
                  const char *token, const char *key_auth, aro_err *err)
{
    int ret = -1;
    char *path = NULL, *dir = NULL, *auth = NULL, *sni = NULL;
    switch (kind_for(s, type)) {
    case SOLVER_HTTP:
        if (listener_start(s, &s->http, s->cfg.http_port, http_thread, err)) {
            size_t l = strlen(err->msg);
            snprintf(err->msg + l, sizeof err->msg - l, " (http-01 standalone server, --http-port)");
            goto out;
        }
        entry_add(s, token, key_auth, NULL);
        msg_debug(1, "http-01: serving token %s on port %d", token, s->cfg.http_port);
        break;
    case SOLVER_WEBROOT:
        dir = xasprintf("%s/.well-known/acme-challenge", s->cfg.webroot);
        if (mkdir_p(dir, 0755)) {
            aro_err_set(err, "cannot create %s: %s", dir, strerror(errno));
            goto out;
        }
        path = webroot_path(s, token);
        if (file_write_atomic(path, key_auth, strlen(key_auth), 0644, err))
            goto out;
        msg_debug(1, "http-01: wrote %s", path);
        break;
    case SOLVER_TLSALPN: {
        if (tls_setup(s, err) ||
            listener_start(s, &s->tls, s->cfg.tls_alpn_port, tls_thread, err))
            goto out;
        X509 *cert = acme_tlsalpn01_cert(ident, ident_is_ip, key_auth, s->tls_key);
        if (!cert) {
            aro_err_set(err, "cannot make the tls-alpn-01 certificate for %s", ident);
            goto out;
        }
        sni = sni_name(ident, ident_is_ip);
        entry_add(s, sni, NULL, cert);
        msg_debug(1, "tls-alpn-01: answering %s on port %d", sni, s->cfg.tls_alpn_port);
        break;
    }
    case SOLVER_HOOK: {
        auth = solver_hook_auth(type, key_auth);
        int st = solver_run_hook(s->cfg.hook, "begin", type, ident, token, auth);
        if (st != 0) {
            aro_err_set(err, "hook %s declined %s for %s (exit status %d)", s->cfg.hook, type,
                        ident, st);
            ret = 1;
            goto out;
        }
        break;
    }
    case SOLVER_NONE:
        aro_err_set(err, "no solver for %s", type);
        goto out;
    }
    ret = 0;
out:
    free(path);
    free(dir);
    free(auth);
    free(sni);
    return ret;
}

void solvers_end(solvers *s, const char *type, const char *ident, bool ident_is_ip,
                 const char *token, const char *key_auth, bool success)
{
    char *path = NULL, *auth = NULL, *sni = NULL;
    switch (kind_for(s, type)) {
    case SOLVER_HTTP:
        entry_del(s, token);
        break;
    case SOLVER_WEBROOT:
        path = webroot_path(s, token);
        unlink(path);
        break;
    case SOLVER_TLSALPN:
        sni = sni_name(ident, ident_is_ip);
        entry_del(s, sni);
        break;
    case SOLVER_HOOK:
        auth = solver_hook_auth(type, key_auth);
        if (solver_run_hook(s->cfg.hook, success ? "done" : "failed", type, ident, token, auth))
            msg_warn("hook %s %s %s %s did not exit 0", s->cfg.hook, success ? "done" : "failed",
                     type, ident);
        break;
    case SOLVER_NONE:
        break;
    }
    free(path);
    free(auth);
    free(sni);
}
