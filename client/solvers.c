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
#include "hookrun.h"
#include "keys.h"
#include "msg.h"

#define CONN_TIMEOUT_SECONDS 10

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

int solver_run_hook(const char *prog, long timeout, bool interruptible, const char *method,
                    const char *type, const char *ident, const char *token, const char *auth)
{
    /* uacme 1.7.4 passes the five arguments, 1.7.6+ also sets UACME_*:
     * both, so hooks for either run unchanged; UACME_* variables of
     * aro's own environment that aro does not set (UACME_CHALLENGE_PATH)
     * pass through. */
    char *env[] = {xasprintf("UACME_METHOD=%s", method), xasprintf("UACME_TYPE=%s", type),
                   xasprintf("UACME_IDENT=%s", ident), xasprintf("UACME_TOKEN=%s", token),
                   xasprintf("UACME_AUTH=%s", auth), NULL};
    char *argv[] = {(char *)prog, (char *)method, (char *)type, (char *)ident, (char *)token,
                    (char *)auth, NULL};
    char *what = xasprintf("hook %s %s %s %s", prog, method, type, ident);
    hookrun_spec spec = {.prog = prog, .argv = argv, .env = env, .timeout = timeout,
                         .interruptible = interruptible, .what = what};
    int ret = hookrun(&spec);
    for (int i = 0; env[i]; i++)
        free(env[i]);
    free(what);
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
        int st = solver_run_hook(s->cfg.hook, s->cfg.hook_timeout, true, "begin", type, ident,
                                 token, auth);
        if (st != 0) {
            char why[64];
            hookrun_describe(st, s->cfg.hook_timeout, why, sizeof why);
            if (st == HOOKRUN_INTERRUPTED || st == HOOKRUN_TIMED_OUT || st == HOOKRUN_SIGNALLED ||
                st == 127) {
                aro_err_set(err, "hook %s begin %s %s: %s", s->cfg.hook, type, ident, why);
            } else {
                aro_err_set(err, "hook %s declined %s for %s (%s)", s->cfg.hook, type, ident, why);
                ret = 1;
            }
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

char *solvers_end(solvers *s, const char *type, const char *ident, bool ident_is_ip,
                  const char *token, const char *key_auth, bool success)
{
    char *path = NULL, *auth = NULL, *sni = NULL, *done = NULL;
    switch (kind_for(s, type)) {
    case SOLVER_HTTP:
        entry_del(s, token);
        done = xasprintf("stopped serving the http-01 token %s for %s", token, ident);
        break;
    case SOLVER_WEBROOT:
        path = webroot_path(s, token);
        if (unlink(path) && errno != ENOENT)
            msg_warn("cannot remove %s: %s", path, strerror(errno));
        done = xasprintf("removed %s", path);
        break;
    case SOLVER_TLSALPN:
        sni = sni_name(ident, ident_is_ip);
        entry_del(s, sni);
        done = xasprintf("stopped answering tls-alpn-01 for %s", ident);
        break;
    case SOLVER_HOOK: {
        auth = solver_hook_auth(type, key_auth);
        const char *method = success ? "done" : "failed";
        int st = solver_run_hook(s->cfg.hook, s->cfg.hook_timeout, false, method, type, ident, token,
                                 auth);
        char why[64];
        hookrun_describe(st, s->cfg.hook_timeout, why, sizeof why);
        if (st)
            msg_warn("hook %s %s %s %s: %s", s->cfg.hook, method, type, ident, why);
        done = xasprintf("ran hook %s %s %s %s (%s)", s->cfg.hook, method, type, ident, why);
        break;
    }
    case SOLVER_NONE:
        break;
    }
    free(path);
    free(auth);
    free(sni);
    return done;
}

char *solvers_stop(solvers *s)
{
    if (!s)
        return NULL;
    aro_buf b = {0};
    if (s->http.running)
        buf_printf(&b, "stopped the http-01 server on port %d", s->cfg.http_port);
    if (s->tls.running)
        buf_printf(&b, "%sstopped the tls-alpn-01 responder on port %d", b.len ? "; " : "",
                   s->cfg.tls_alpn_port);
    listener_stop(&s->http);
    listener_stop(&s->tls);
    return b.len ? buf_steal(&b) : NULL;
}

/* The hook as execvp would find it: an executable file. */
static int hook_check(const char *hook, aro_err *err)
{
    if (strchr(hook, '/')) {
        if (access(hook, X_OK)) {
            aro_err_set(err, "--hook %s: %s", hook, strerror(errno));
            return -1;
        }
        return 0;
    }
    const char *path = getenv("PATH");
    char *dirs = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    int found = 0;
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d && !found;
         d = strtok_r(NULL, ":", &save)) {
        char *p = xasprintf("%s/%s", d, hook);
        found = access(p, X_OK) == 0;
        free(p);
    }
    free(dirs);
    if (!found)
        aro_err_set(err, "--hook %s: no such program in PATH", hook);
    return found ? 0 : -1;
}

int solvers_prepare(solvers *s, char *const *types, size_t ntypes, aro_err *err)
{
    bool hook_used = false;
    for (size_t i = 0; i < ntypes; i++) {
        switch (kind_for(s, types[i])) {
        case SOLVER_HTTP:
            if (listener_start(s, &s->http, s->cfg.http_port, http_thread, err)) {
                size_t l = strlen(err->msg);
                snprintf(err->msg + l, sizeof err->msg - l, " (the http-01 server: --http-port%s%s%s)",
                         s->cfg.bind_addr ? ", --bind " : "", s->cfg.bind_addr ? s->cfg.bind_addr : "",
                         s->cfg.http_port == 80 ? "; port 80 is aro's default without a solver "
                                                  "option: run as root or give --http-port, "
                                                  "--webroot or --hook" : "");
                return -1;
            }
            break;
        case SOLVER_TLSALPN:
            if (tls_setup(s, err) || listener_start(s, &s->tls, s->cfg.tls_alpn_port, tls_thread, err)) {
                size_t l = strlen(err->msg);
                snprintf(err->msg + l, sizeof err->msg - l,
                         " (the tls-alpn-01 responder: --tls-alpn-port%s%s)",
                         s->cfg.bind_addr ? ", --bind " : "", s->cfg.bind_addr ? s->cfg.bind_addr : "");
                return -1;
            }
            break;
        case SOLVER_WEBROOT: {
            char *dir = xasprintf("%s/.well-known/acme-challenge", s->cfg.webroot);
            char *probe = xasprintf("%s/.aro-probe-%ld", dir, (long)getpid());
            int rc = mkdir_p(dir, 0755);
            if (rc)
                aro_err_set(err, "--webroot %s: cannot create %s: %s", s->cfg.webroot, dir,
                            strerror(errno));
            else if ((rc = file_write_atomic(probe, "", 0, 0644, err)))
                aro_err_set(err, "--webroot %s: %s is not writable", s->cfg.webroot, dir);
            unlink(probe);
            free(probe);
            free(dir);
            if (rc)
                return -1;
            break;
        }
        case SOLVER_HOOK:
            if (!hook_used && hook_check(s->cfg.hook, err))
                return -1;
            hook_used = true;
            break;
        case SOLVER_NONE:
            break;
        }
    }
    return 0;
}
