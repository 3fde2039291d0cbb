/* tls-alpn-01 (RFC 8737): a TLS handshake with the target offering only
 * the "acme-tls/1" protocol, then a look at the certificate it presented.
 *
 * The certificate is self-signed and carries a critical extension that
 * chain verification rejects, so there is no verification (RFC 8737 3
 * asks for none); acme_tlsalpn01_check does the checks RFC 8737 does ask
 * for. Sockets are non-blocking so every wait is bounded by the deadline. */
#include "va/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acme_crypto.h"
#include "util.h"
#include "va/address.h"

/* ALPN wire form: one length-prefixed protocol name (RFC 7301 3.1). */
static const unsigned char alpn_acme[] = "\x0a" "acme-tls/1";
#define ALPN_ACME_LEN (sizeof alpn_acme - 1)

static int wait_fd(const va_ctx *ctx, int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int left = va_remaining_ms(ctx);
        if (left <= 0) return -1;
        int rc = poll(&p, 1, left);
        if (rc > 0) return 0;
        if (rc == 0) return -1;
        if (errno != EINTR) return -1;
    }
}

static int sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((unsigned short)port);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((unsigned short)port);
        *len = sizeof *v6;
        return 0;
    }
    return -1;
}

/* A non-blocking TCP connection; -1 with why set on failure. */
static int tcp_connect(const va_ctx *ctx, const char *addr, int port, char *why, size_t wlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd = -1, err = 0;
    socklen_t el = sizeof err;
    char ebuf[128];
    snprintf(why, wlen, "invalid address");
    if (sockaddr_of(addr, port, &ss, &sl) != 0) return -1;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    if (connect(fd, (struct sockaddr *)&ss, sl) == 0) return fd;
    if (errno != EINPROGRESS) goto fail;
    if (wait_fd(ctx, fd, POLLOUT) != 0) {
        snprintf(why, wlen, "Timeout during connect");
        close(fd);
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) goto fail;
    if (err == 0) return fd;
    errno = err;
fail:
    /* GNU strerror_r (thread-safe; _GNU_SOURCE is set for the build). */
    snprintf(why, wlen, "%s",
             errno == ECONNREFUSED ? "Connection refused" : strerror_r(errno, ebuf, sizeof ebuf));
    if (fd >= 0) close(fd);
    return -1;
}

static SSL *tls_new(SSL_CTX *sctx, int fd, const char *sni)
{
    SSL *ssl = SSL_new(sctx);
    if (!ssl) return NULL;
    /* RFC 8737 3: SNI is the name being validated (reverse name for IPs,
     * RFC 8738 6); the only ALPN protocol offered is acme-tls/1. */
    if (SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, sni) != 1 ||
        SSL_set_alpn_protos(ssl, alpn_acme, ALPN_ACME_LEN) != 0) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

/* Handshake bounded by the deadline; -1 with detail in why. */
static int tls_handshake(const va_ctx *ctx, SSL *ssl, int fd, char *why, size_t wlen)
{
    for (;;) {
        int rc = SSL_connect(ssl);
        if (rc == 1) return 0;
        int e = SSL_get_error(ssl, rc);
        short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (!ev) {
            unsigned long code = ERR_get_error();
            if (code)
                ERR_error_string_n(code, why, wlen);
            else
                snprintf(why, wlen, "handshake failed (connection closed)");
            ERR_clear_error();
            return -1;
        }
        if (wait_fd(ctx, fd, ev) != 0) {
            snprintf(why, wlen, "Timeout during TLS handshake");
            return -1;
        }
    }
}

/* After the handshake: RFC 8737 3 requires the server to have selected
 * acme-tls/1, and the certificate to pass the identifier checks. */
static acme_problem *check_peer(SSL *ssl, const va_request *req, const char *where)
{
    const unsigned char *sel = NULL;
    unsigned int sel_len = 0;
    char why[256];
    acme_problem *p = NULL;
    aro_err err = {{0}};
    SSL_get0_alpn_selected(ssl, &sel, &sel_len);
    if (sel_len != ALPN_ACME_LEN - 1 || memcmp(sel, alpn_acme + 1, sel_len) != 0) {
        char *got = va_sanitize((const char *)sel, sel_len, 64);
        snprintf(why, sizeof why, "%s", got);
        free(got);
        return va_problem("tls", "Cannot negotiate ALPN protocol \"acme-tls/1\" with %s "
                                 "(selected \"%s\")", where, why);
    }
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert) return va_problem("tls", "No certificate presented by %s", where);
    if (acme_tlsalpn01_check(cert, req->identifier, req->is_ip, req->key_authorization, &err) != 0)
        p = va_problem("unauthorized",
                       "Incorrect validation certificate for tls-alpn-01 challenge from %s: %s",
                       where, err.msg);
    X509_free(cert);
    return p;
}

/* One address: connect, handshake, check. *connected tells the caller
 * whether trying another address makes sense. */
static acme_problem *try_addr(const va_ctx *ctx, SSL_CTX *sctx, const va_request *req,
                              const char *sni, const char *addr, bool *connected)
{
    char why[256], where[96];
    acme_problem *p = NULL;
    SSL *ssl = NULL;
    snprintf(where, sizeof where, "%s%s%s:%d", strchr(addr, ':') ? "[" : "", addr,
             strchr(addr, ':') ? "]" : "", ctx->cfg.tls_port);
    *connected = false;
    int fd = tcp_connect(ctx, addr, ctx->cfg.tls_port, why, sizeof why);
    if (fd < 0) {
        p = va_problem("connection", "Connecting to %s: %s", where, why);
        goto out;
    }
    *connected = true;
    ssl = tls_new(sctx, fd, sni);
    if (!ssl) {
        p = va_problem("serverInternal", "Cannot set up TLS for %s", where);
        goto out;
    }
    if (tls_handshake(ctx, ssl, fd, why, sizeof why) != 0) {
        p = va_problem("tls", "TLS handshake with %s: %s", where, why);
        goto out;
    }
    p = check_peer(ssl, req, where);
out:
    if (ssl) SSL_free(ssl);
    if (fd >= 0) close(fd);
    ERR_clear_error();
    return p;
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *sctx = SSL_CTX_new(TLS_client_method());
    if (!sctx) return NULL;
    /* RFC 8737 4: TLS 1.2 or higher. No verification, see the top. */
    SSL_CTX_set_min_proto_version(sctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(sctx, SSL_VERIFY_NONE, NULL);
    return sctx;
}

void va_tlsalpn01(const va_ctx *ctx, const va_request *req, va_result *out)
{
    va_addrs addrs = {0};
    const char *used = NULL;
    char *sni = req->is_ip ? va_reverse_name(req->identifier) : xstrdup(req->identifier);
    SSL_CTX *sctx = client_ctx();
    json_gen *g = jg_new();
    acme_problem *p = NULL;
    if (!sni || !sctx) {
        p = va_problem("serverInternal", "Cannot prepare TLS for %s", req->identifier);
        goto out;
    }
    p = va_resolve(ctx, req->identifier, &addrs);
    if (!p) p = va_check_targets(ctx, req->identifier, &addrs);
    for (size_t i = 0; !p && i < addrs.n; i++) {
        bool connected = false;
        used = addrs.addr[i];
        p = try_addr(ctx, sctx, req, sni, used, &connected);
        if (!p || connected || i + 1 == addrs.n) break;
        problem_free(p); /* connection failed: the next address may answer */
        p = NULL;
    }
out:
    jg_arr_open(g);
    va_record_target(g, NULL, req->identifier, ctx->cfg.tls_port, &addrs, used);
    jg_arr_close(g);
    out->record_json = jg_finish(g, NULL);
    out->problem = p;
    out->valid = p == NULL;
    va_addrs_clear(&addrs);
    SSL_CTX_free(sctx);
    free(sni);
}
