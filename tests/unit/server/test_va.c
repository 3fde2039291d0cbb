/* The validation authority against a real pebble-challtestsrv on loopback
 * ports (DNS, http-01, tls-alpn-01 and its management API), plus the
 * parsers fed with records challtestsrv cannot serve (CAA flags, SOA TTLs,
 * CNAME chains inside one answer). The child server is killed at the end,
 * and by the kernel if this process dies first (PR_SET_PDEATHSIG). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acme_crypto.h"
#include "testlib.h"
#include "va/va.h"
#include "va/address.h"
#include "va/internal.h"

#define CHALLTESTSRV "/usr/bin/pebble-challtestsrv"

static pid_t srv_pid = -1;
static int port_dns, port_http, port_tls, port_mgmt;
static char dns_server[32];

static const char *const caa_ids[] = {"aro.test", "aro-alt.test"};

/* ---- helpers ----------------------------------------------------------- */

/* A loopback port free for TCP (and for UDP too when udp is set). */
static int free_port(bool udp)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof a;
        int t = socket(AF_INET, SOCK_STREAM, 0);
        if (bind(t, (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(t, (struct sockaddr *)&a, &l) != 0) {
            close(t);
            continue;
        }
        int ok = 1;
        if (udp) {
            int u = socket(AF_INET, SOCK_DGRAM, 0);
            ok = bind(u, (struct sockaddr *)&a, sizeof a) == 0;
            close(u);
        }
        close(t);
        if (ok) return ntohs(a.sin_port);
    }
    return -1;
}

static size_t sink(char *p, size_t s, size_t n, void *arg) { return s * n; }

/* POST JSON to challtestsrv's management API; the HTTP status or -1. */
static long mgmt(const char *path, const char *json)
{
    char url[128];
    long status = -1;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port_mgmt, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

static bool tcp_open(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int s = socket(AF_INET, SOCK_STREAM, 0);
    bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int start_challtestsrv(void)
{
    char dns[32], http[32], tls[32], man[32];
    port_dns = free_port(true);
    port_http = free_port(false);
    port_tls = free_port(false);
    port_mgmt = free_port(false);
    snprintf(dns, sizeof dns, "127.0.0.1:%d", port_dns);
    snprintf(http, sizeof http, "127.0.0.1:%d", port_http);
    snprintf(tls, sizeof tls, "127.0.0.1:%d", port_tls);
    snprintf(man, sizeof man, "127.0.0.1:%d", port_mgmt);
    snprintf(dns_server, sizeof dns_server, "127.0.0.1:%d", port_dns);
    srv_pid = fork();
    if (srv_pid < 0) return -1;
    if (srv_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_RDWR);
        if (!getenv("VA_TEST_VERBOSE")) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execl(CHALLTESTSRV, CHALLTESTSRV, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
              "-dns01", dns, "-http01", http, "-https01", "", "-tlsalpn01", tls, "-management",
              man, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        /* Any answer (this one is a 400) means the management API is up. */
        if (mgmt("/clear-request-history", "{}") > 0 && tcp_open(port_dns) &&
            tcp_open(port_http) && tcp_open(port_tls))
            return 0;
        sleep_ms(50);
    }
    return -1;
}

static void stop_challtestsrv(void)
{
    if (srv_pid > 0) {
        kill(srv_pid, SIGTERM);
        waitpid(srv_pid, NULL, 0);
        srv_pid = -1;
    }
}

static va_config base_cfg(void)
{
    va_config c = {.dns_server = dns_server, .http_port = port_http, .tls_port = port_tls,
                   .timeout_ms = 5000};
    return c;
}

static const char *short_type(const va_result *r)
{
    return r->problem ? problem_short_type(r->problem->type) : "(none)";
}

static bool contains(const char *hay, const char *needle)
{
    return hay && needle && strstr(hay, needle) != NULL;
}

static void show(const char *what, const va_result *r)
{
    if (getenv("VA_TEST_VERBOSE"))
        fprintf(stderr, "%s: valid=%d problem=%s detail=%s record=%s ttl=%ld\n", what, r->valid,
                short_type(r), r->problem ? r->problem->detail : "", r->record_json,
                r->dns_negative_ttl);
}

/* ---- http-01 ----------------------------------------------------------- */

static void test_http01(void)
{
    va_config cfg = base_cfg();
    va_result r;
    const char *ka = "tokHTTP.thumbprint-http";
    CHECK_INT_EQ(mgmt("/add-http01", "{\"token\":\"tokHTTP\",\"content\":\"tokHTTP.thumbprint-http\"}"),
                 200);
    CHECK_INT_EQ(mgmt("/add-http01", "{\"token\":\"tokBAD\",\"content\":\"something else\"}"), 200);

    va_request req = {"http-01", "http.example.com", false, "tokHTTP", ka};
    CHECK_INT_EQ(va_validate(&cfg, &req, &r), 0);
    show("http valid", &r);
    CHECK(r.valid);
    CHECK(r.problem == NULL);
    CHECK(contains(r.record_json, "\"hostname\":\"http.example.com\""));
    CHECK(contains(r.record_json, "\"addressUsed\":\"127.0.0.1\""));
    CHECK(contains(r.record_json, "\"addressesResolved\":[\"127.0.0.1\"]"));
    CHECK(contains(r.record_json, "/.well-known/acme-challenge/tokHTTP"));
    va_result_clear(&r);

    /* An IP identifier is contacted directly (RFC 8738 5). */
    va_request ipreq = {"http-01", "127.0.0.1", true, "tokHTTP", ka};
    va_validate(&cfg, &ipreq, &r);
    show("http ip", &r);
    CHECK(r.valid);
    va_result_clear(&r);

    /* Wrong content. */
    va_request bad = {"http-01", "http.example.com", false, "tokBAD", "tokBAD.expected"};
    va_validate(&cfg, &bad, &r);
    show("http wrong", &r);
    CHECK(!r.valid);
    CHECK_STR_EQ(short_type(&r), "unauthorized");
    CHECK(r.problem && contains(r.problem->detail, "something else"));
    va_result_clear(&r);

    /* An unknown token: Debian's challtestsrv answers 200 with an empty
     * body (newer ones answer 404); either way unauthorized. */
    va_request missing = {"http-01", "http.example.com", false, "tokNONE", "tokNONE.x"};
    va_validate(&cfg, &missing, &r);
    show("http unknown token", &r);
    CHECK_STR_EQ(short_type(&r), "unauthorized");
    va_result_clear(&r);

    /* A real 404: challtestsrv's management server has no such path. */
    va_config mgmt_port = cfg;
    mgmt_port.http_port = port_mgmt;
    va_validate(&mgmt_port, &missing, &r);
    show("http 404", &r);
    CHECK_STR_EQ(short_type(&r), "unauthorized");
    CHECK(r.problem && contains(r.problem->detail, "404"));
    va_result_clear(&r);

    /* Nothing listening. */
    va_config closed = cfg;
    closed.http_port = free_port(false);
    va_validate(&closed, &req, &r);
    show("http closed", &r);
    CHECK(!r.valid);
    CHECK_STR_EQ(short_type(&r), "connection");
    va_result_clear(&r);

    /* A name that does not exist. challtestsrv answers every A query with
     * its default address, so SERVFAIL stands in for "no address". */
    CHECK_INT_EQ(mgmt("/set-servfail", "{\"host\":\"gone.example.com.\"}"), 200);
    va_request gone = {"http-01", "gone.example.com", false, "tokHTTP", ka};
    va_validate(&cfg, &gone, &r);
    show("http dns", &r);
    CHECK_STR_EQ(short_type(&r), "dns");
    va_result_clear(&r);

    /* Body over the cap. */
    va_config small = cfg;
    small.http_max_body = 8;
    va_validate(&small, &req, &r);
    show("http big", &r);
    CHECK_STR_EQ(short_type(&r), "unauthorized");
    va_result_clear(&r);
}

static void test_http01_redirects(void)
{
    va_config cfg = base_cfg();
    va_result r;
    char body[512];
    const char *ka = "tokHTTP.thumbprint-http";

    /* One hop to another name on the validation port: followed, both
     * hops recorded. */
    snprintf(body, sizeof body,
             "{\"path\":\"/.well-known/acme-challenge/tokREDIR\",\"targetURL\":"
             "\"http://target.example.com:%d/.well-known/acme-challenge/tokHTTP\"}",
             port_http);
    CHECK_INT_EQ(mgmt("/add-redirect", body), 200);
    va_request req = {"http-01", "redir.example.com", false, "tokREDIR", ka};
    va_validate(&cfg, &req, &r);
    show("http redirect", &r);
    CHECK(r.valid);
    CHECK(contains(r.record_json, "\"hostname\":\"redir.example.com\""));
    CHECK(contains(r.record_json, "\"hostname\":\"target.example.com\""));
    va_result_clear(&r);

    /* Redirect to a port that is neither 80, 443 nor the configured one. */
    CHECK_INT_EQ(mgmt("/add-redirect", "{\"path\":\"/.well-known/acme-challenge/tokPORT\","
                                       "\"targetURL\":\"http://target.example.com:1234/x\"}"),
                 200);
    va_request port = {"http-01", "redir.example.com", false, "tokPORT", ka};
    va_validate(&cfg, &port, &r);
    show("http redirect port", &r);
    CHECK_STR_EQ(short_type(&r), "connection");
    CHECK(r.problem && contains(r.problem->detail, "1234"));
    va_result_clear(&r);

    /* Redirect to another scheme. */
    CHECK_INT_EQ(mgmt("/add-redirect", "{\"path\":\"/.well-known/acme-challenge/tokFTP\","
                                       "\"targetURL\":\"ftp://target.example.com/x\"}"),
                 200);
    va_request ftp = {"http-01", "redir.example.com", false, "tokFTP", ka};
    va_validate(&cfg, &ftp, &r);
    CHECK_STR_EQ(short_type(&r), "connection");
    va_result_clear(&r);

    /* A loop: bounded by http_max_redirects. */
    snprintf(body, sizeof body,
             "{\"path\":\"/.well-known/acme-challenge/tokLOOP\",\"targetURL\":"
             "\"http://loop.example.com:%d/.well-known/acme-challenge/tokLOOP\"}",
             port_http);
    CHECK_INT_EQ(mgmt("/add-redirect", body), 200);
    va_config few = cfg;
    few.http_max_redirects = 3;
    va_request loop = {"http-01", "loop.example.com", false, "tokLOOP", ka};
    va_validate(&few, &loop, &r);
    show("http loop", &r);
    CHECK_STR_EQ(short_type(&r), "connection");
    CHECK(r.problem && contains(r.problem->detail, "redirects"));
    va_result_clear(&r);
}

/* ---- dns-01 ------------------------------------------------------------ */

static void set_txt(const char *host, const char *value)
{
    char body[512];
    snprintf(body, sizeof body, "{\"host\":\"%s\",\"value\":\"%s\"}", host, value);
    CHECK_INT_EQ(mgmt("/set-txt", body), 200);
}

static void test_dns01(void)
{
    va_config cfg = base_cfg();
    va_result r;
    const char *ka = "tokDNS.thumbprint-dns";
    char *txt = acme_dns01_txt_value(ka);
    CHECK(txt != NULL);
    if (!txt) return;
    set_txt("_acme-challenge.dns.example.com.", txt);
    set_txt("_acme-challenge.wrong.example.com.", "not-the-digest");

    va_request req = {"dns-01", "dns.example.com", false, NULL, ka};
    CHECK_INT_EQ(va_validate(&cfg, &req, &r), 0);
    show("dns valid", &r);
    CHECK(r.valid);
    CHECK_STR_EQ(r.record_json, "[{\"hostname\":\"dns.example.com\"}]");
    va_result_clear(&r);

    /* Missing: unauthorized, with the negative-caching TTL. challtestsrv's
     * SOA has TTL 0 and MINIMUM 1, so the smaller is 0 (RFC 2308 5). */
    va_request none = {"dns-01", "none.example.com", false, NULL, ka};
    va_validate(&cfg, &none, &r);
    show("dns missing", &r);
    CHECK(!r.valid);
    CHECK_STR_EQ(short_type(&r), "unauthorized");
    CHECK_STR_EQ(r.problem ? r.problem->detail : NULL,
                 "No TXT record found at _acme-challenge.none.example.com");
    CHECK_INT_EQ(r.dns_negative_ttl, 0);
    va_result_clear(&r);

    /* Wrong value. */
    va_request wrong = {"dns-01", "wrong.example.com", false, NULL, ka};
    va_validate(&cfg, &wrong, &r);
    show("dns wrong", &r);
    CHECK_STR_EQ(short_type(&r), "unauthorized");
    CHECK(r.problem && contains(r.problem->detail, "not-the-digest"));
    va_result_clear(&r);

    /* SERVFAIL. */
    CHECK_INT_EQ(mgmt("/set-servfail", "{\"host\":\"_acme-challenge.sf.example.com.\"}"), 200);
    va_request sf = {"dns-01", "sf.example.com", false, NULL, ka};
    va_validate(&cfg, &sf, &r);
    show("dns servfail", &r);
    CHECK_STR_EQ(short_type(&r), "dns");
    va_result_clear(&r);

    /* A CNAME to a delegated validation name (RFC 8555 8.4 permits it). */
    set_txt("_acme-challenge.delegated.example.net.", txt);
    CHECK_INT_EQ(mgmt("/set-cname", "{\"host\":\"_acme-challenge.alias.example.com.\","
                                    "\"target\":\"_acme-challenge.delegated.example.net.\"}"),
                 200);
    va_request alias = {"dns-01", "alias.example.com", false, NULL, ka};
    va_validate(&cfg, &alias, &r);
    show("dns cname", &r);
    CHECK(r.valid);
    va_result_clear(&r);
    free(txt);
}

/* A DNS server that never answers: the deadline bounds the wait. */
static void test_dns_timeout(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    bind(u, (struct sockaddr *)&a, sizeof a);
    getsockname(u, (struct sockaddr *)&a, &l);
    char server[32];
    snprintf(server, sizeof server, "127.0.0.1:%d", ntohs(a.sin_port));
    va_config cfg = {.dns_server = server, .timeout_ms = 600};
    va_request req = {"dns-01", "slow.example.com", false, NULL, "k.a"};
    va_result r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    va_validate(&cfg, &req, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    show("dns timeout", &r);
    CHECK_STR_EQ(short_type(&r), "dns");
    CHECK(ms >= 500 && ms < 1500);
    va_result_clear(&r);
    close(u);
}

/* ---- tls-alpn-01 ------------------------------------------------------- */

static void test_tlsalpn01(void)
{
    va_config cfg = base_cfg();
    va_result r;
    const char *ka = "tokTLS.thumbprint-tls";
    CHECK_INT_EQ(mgmt("/add-tlsalpn01", "{\"host\":\"tls.example.com\",\"content\":"
                                        "\"tokTLS.thumbprint-tls\"}"),
                 200);
    CHECK_INT_EQ(mgmt("/add-tlsalpn01", "{\"host\":\"tlsbad.example.com\",\"content\":"
                                        "\"some.other-key-authorization\"}"),
                 200);

    va_request req = {"tls-alpn-01", "tls.example.com", false, "tokTLS", ka};
    CHECK_INT_EQ(va_validate(&cfg, &req, &r), 0);
    show("tls valid", &r);
    CHECK(r.valid);
    CHECK(contains(r.record_json, "\"hostname\":\"tls.example.com\""));
    CHECK(contains(r.record_json, "\"addressUsed\":\"127.0.0.1\""));
    va_result_clear(&r);

    va_request bad = {"tls-alpn-01", "tlsbad.example.com", false, "tokTLS", ka};
    va_validate(&cfg, &bad, &r);
    show("tls wrong digest", &r);
    CHECK(!r.valid);
    CHECK_STR_EQ(short_type(&r), "unauthorized");
    va_result_clear(&r);

    /* An IP identifier: SNI is the reverse name (RFC 8738 6). Debian's
     * challtestsrv cannot make an iPAddress certificate: it serves a
     * certificate only for an SNI it knows, and its SAN is that SNI as a
     * DNS name. So a handshake that completes proves the reverse-name SNI,
     * and the certificate is then rightly refused (unauthorized, not tls). */
    CHECK_INT_EQ(mgmt("/add-tlsalpn01", "{\"host\":\"1.0.0.127.in-addr.arpa\",\"content\":"
                                        "\"tokIP.thumbprint-ip\"}"),
                 200);
    va_request ip = {"tls-alpn-01", "127.0.0.1", true, "tokIP", "tokIP.thumbprint-ip"};
    va_validate(&cfg, &ip, &r);
    show("tls ip", &r);
    CHECK_STR_EQ(short_type(&r), "unauthorized");
    va_result_clear(&r);

    /* A TLS server that is not there. */
    va_config closed = cfg;
    closed.tls_port = free_port(false);
    va_validate(&closed, &req, &r);
    show("tls closed", &r);
    CHECK_STR_EQ(short_type(&r), "connection");
    va_result_clear(&r);

    /* A plain HTTP server where TLS is expected: a tls problem. */
    va_config plain = cfg;
    plain.tls_port = port_http;
    va_validate(&plain, &req, &r);
    show("tls on http", &r);
    CHECK_STR_EQ(short_type(&r), "tls");
    va_result_clear(&r);
}

/* A one-shot TLS server that presents a correct RFC 8737 certificate but
 * selects no ALPN protocol (challtestsrv always selects acme-tls/1). */
typedef struct {
    int fd;
    SSL_CTX *ctx;
} noalpn_server;

static void *noalpn_serve(void *arg)
{
    noalpn_server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0) return NULL;
    SSL *ssl = SSL_new(s->ctx);
    SSL_set_fd(ssl, c);
    if (SSL_accept(ssl) == 1) SSL_shutdown(ssl);
    SSL_free(ssl);
    close(c);
    return NULL;
}

static void test_tlsalpn01_no_alpn(void)
{
    const char *ka = "tokNA.thumbprint-na";
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *cert = key ? acme_tlsalpn01_cert("noalpn.example.com", false, ka, key) : NULL;
    noalpn_server s = {socket(AF_INET, SOCK_STREAM, 0), SSL_CTX_new(TLS_server_method())};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    pthread_t th;
    CHECK(cert != NULL);
    if (!cert || SSL_CTX_use_certificate(s.ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey(s.ctx, key) != 1 ||
        bind(s.fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s.fd, 1) != 0 ||
        getsockname(s.fd, (struct sockaddr *)&a, &l) != 0) {
        CHECK(!"no-ALPN server set-up");
        goto out;
    }
    pthread_create(&th, NULL, noalpn_serve, &s);
    va_config cfg = base_cfg();
    cfg.tls_port = ntohs(a.sin_port);
    va_request req = {"tls-alpn-01", "noalpn.example.com", false, "tokNA", ka};
    va_result r;
    va_validate(&cfg, &req, &r);
    show("tls no alpn", &r);
    CHECK_STR_EQ(short_type(&r), "tls");
    CHECK(r.problem && contains(r.problem->detail, "acme-tls/1"));
    va_result_clear(&r);
    shutdown(s.fd, SHUT_RDWR); /* wakes accept() if the VA never connected */
    pthread_join(th, NULL);
out:
    close(s.fd);
    SSL_CTX_free(s.ctx);
    X509_free(cert);
    EVP_PKEY_free(key);
}

/* ---- private targets ---------------------------------------------------- */

static void test_private_targets(void)
{
    va_config cfg = base_cfg();
    cfg.deny_private_targets = true;
    va_result r;
    va_request http = {"http-01", "http.example.com", false, "tokHTTP", "tokHTTP.thumbprint-http"};
    va_validate(&cfg, &http, &r);
    show("deny http", &r);
    CHECK(!r.valid);
    CHECK_STR_EQ(short_type(&r), VA_PRIVATE_TARGET_PROBLEM);
    CHECK(r.problem && contains(r.problem->detail, "127.0.0.1"));
    va_result_clear(&r);

    va_request ip = {"http-01", "127.0.0.1", true, "tokHTTP", "tokHTTP.thumbprint-http"};
    va_validate(&cfg, &ip, &r);
    CHECK_STR_EQ(short_type(&r), VA_PRIVATE_TARGET_PROBLEM);
    va_result_clear(&r);

    va_request tls = {"tls-alpn-01", "tls.example.com", false, "tokTLS", "tokTLS.thumbprint-tls"};
    va_validate(&cfg, &tls, &r);
    CHECK_STR_EQ(short_type(&r), VA_PRIVATE_TARGET_PROBLEM);
    va_result_clear(&r);

    /* A redirect from an allowed name to loopback is refused at the hop:
     * here every name resolves to 127.0.0.1, so check the policy table
     * (all of it: tests/unit/server/test_address.c). */
    const char *priv[] = {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                          "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fc00::1", "fd12::1",
                          "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::"};
    const char *pub[] = {"8.8.8.8", "172.32.0.1", "100.128.0.1", "::ffff:8.8.8.8", "11.0.0.1"};
    for (size_t i = 0; i < sizeof priv / sizeof priv[0]; i++) {
        if (!va_addr_is_private(priv[i])) fprintf(stderr, "  not private: %s\n", priv[i]);
        CHECK(va_addr_is_private(priv[i]));
    }
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
        if (va_addr_is_private(pub[i])) fprintf(stderr, "  private: %s\n", pub[i]);
        CHECK(!va_addr_is_private(pub[i]));
    }
}

/* ---- CAA ---------------------------------------------------------------- */

static void add_caa(const char *host, const char *tag, const char *value)
{
    char body[512];
    snprintf(body, sizeof body, "{\"host\":\"%s\",\"policies\":[{\"tag\":\"%s\",\"value\":\"%s\"}]}",
             host, tag, value);
    CHECK_INT_EQ(mgmt("/add-caa", body), 200);
}

static const char *caa(const char *name, bool wildcard, const char *method, const char *acct)
{
    static char type[64];
    va_config cfg = base_cfg();
    acme_problem *p = NULL;
    int rc = va_check_caa(&cfg, name, wildcard, method, acct, caa_ids, 2, &p);
    snprintf(type, sizeof type, "%s", p ? problem_short_type(p->type) : "ok");
    if (getenv("VA_TEST_VERBOSE"))
        fprintf(stderr, "caa %s: rc=%d %s %s\n", name, rc, type, p ? p->detail : "");
    if ((rc == 0) != (p == NULL)) snprintf(type, sizeof type, "inconsistent");
    problem_free(p);
    return type;
}

static void test_caa(void)
{
    const char *acct = "https://ca.test/acme/acct/1";
    add_caa("ok.caa.example.com.", "issue", "aro.test");
    add_caa("no.caa.example.com.", "issue", "other-ca.test");
    add_caa("empty.caa.example.com.", "issue", ";");
    add_caa("acct.caa.example.com.", "issue", "aro.test; accounturi=https://ca.test/acme/acct/1");
    add_caa("meth.caa.example.com.", "issue", "aro.test; validationmethods=dns-01,tls-alpn-01");
    add_caa("wild.caa.example.com.", "issue", "other-ca.test");
    add_caa("wild.caa.example.com.", "issuewild", "aro-alt.test");
    add_caa("iodef.caa.example.com.", "iodef", "mailto:sec@example.com");
    CHECK_INT_EQ(mgmt("/set-servfail", "{\"host\":\"sf.caa.example.com.\"}"), 200);
    add_caa("ok.sf.caa.example.com.", "issue", "aro.test");

    CHECK_STR_EQ(caa("nothing.example.org", false, "http-01", acct), "ok");
    CHECK_STR_EQ(caa("ok.caa.example.com", false, "http-01", acct), "ok");
    CHECK_STR_EQ(caa("OK.caa.example.com.", false, "http-01", acct), "ok");
    CHECK_STR_EQ(caa("no.caa.example.com", false, "http-01", acct), "caa");
    CHECK_STR_EQ(caa("empty.caa.example.com", false, "http-01", acct), "caa");
    /* Climbing: the parent's set is the relevant one. */
    CHECK_STR_EQ(caa("www.ok.caa.example.com", false, "http-01", acct), "ok");
    CHECK_STR_EQ(caa("a.b.no.caa.example.com", false, "http-01", acct), "caa");
    /* RFC 8657 accounturi. */
    CHECK_STR_EQ(caa("acct.caa.example.com", false, "http-01", acct), "ok");
    CHECK_STR_EQ(caa("acct.caa.example.com", false, "http-01", "https://ca.test/acme/acct/2"),
                 "caa");
    CHECK_STR_EQ(caa("acct.caa.example.com", false, "http-01", NULL), "caa");
    /* RFC 8657 validationmethods. */
    CHECK_STR_EQ(caa("meth.caa.example.com", false, "http-01", acct), "caa");
    CHECK_STR_EQ(caa("meth.caa.example.com", false, "dns-01", acct), "ok");
    CHECK_STR_EQ(caa("meth.caa.example.com", false, "tls-alpn-01", acct), "ok");
    /* issuewild governs wildcards; issue the rest. */
    CHECK_STR_EQ(caa("wild.caa.example.com", true, "dns-01", acct), "ok");
    CHECK_STR_EQ(caa("*.wild.caa.example.com", false, "dns-01", acct), "ok");
    CHECK_STR_EQ(caa("wild.caa.example.com", false, "dns-01", acct), "caa");
    CHECK_STR_EQ(caa("no.caa.example.com", true, "dns-01", acct), "caa");
    CHECK_STR_EQ(caa("iodef.caa.example.com", false, "dns-01", acct), "ok");
    /* SERVFAIL fails closed. */
    CHECK_STR_EQ(caa("sf.caa.example.com", false, "dns-01", acct), "dns");
    CHECK_STR_EQ(caa("x.sf.caa.example.com", false, "dns-01", acct), "dns");
    /* All levels are asked at once, but a failure above the relevant
     * RRset changes nothing, as when the climb stopped there. */
    CHECK_STR_EQ(caa("ok.sf.caa.example.com", false, "dns-01", acct), "ok");
    CHECK_STR_EQ(caa("a.b.c.ok.sf.caa.example.com", false, "dns-01", acct), "ok");
    /* IP identifiers: no CAA (RFC 8738 7). */
    CHECK_STR_EQ(caa("127.0.0.1", false, "http-01", acct), "ok");
}

/* challtestsrv cannot set CAA flags: the critical-flag rule and RDATA
 * parsing are tested on hand-made records. */
static void test_caa_records(void)
{
    const char *ids[] = {"aro.test"};
    va_caa_rr rr[2];
    const unsigned char crit[] = "\x80\x05tbsxxsomething";
    const unsigned char issue[] = "\x00\x05issuearo.test";
    const unsigned char badlen[] = "\x00\x20issue";
    CHECK_INT_EQ(va_caa_parse_rr(crit, sizeof crit - 1, &rr[0]), 0);
    CHECK_INT_EQ(va_caa_parse_rr(issue, sizeof issue - 1, &rr[1]), 0);
    CHECK_STR_EQ(rr[1].tag, "issue");
    CHECK_STR_EQ(rr[1].value, "aro.test");
    acme_problem *p = va_caa_evaluate(&rr[1], 1, "x.test", false, "http-01", NULL, ids, 1);
    CHECK(p == NULL);
    problem_free(p);
    p = va_caa_evaluate(rr, 2, "x.test", false, "http-01", NULL, ids, 1);
    CHECK(p && strcmp(problem_short_type(p->type), "caa") == 0);
    problem_free(p);
    /* The same unknown tag without the critical flag is ignored. */
    rr[0].flags = 0;
    p = va_caa_evaluate(rr, 2, "x.test", false, "http-01", NULL, ids, 1);
    CHECK(p == NULL);
    problem_free(p);
    /* A known tag with the critical flag is fine. */
    rr[1].flags = 0x80;
    p = va_caa_evaluate(&rr[1], 1, "x.test", false, "http-01", NULL, ids, 1);
    CHECK(p == NULL);
    problem_free(p);
    va_caa_rr_clear(&rr[0]);
    va_caa_rr_clear(&rr[1]);
    va_caa_rr bad;
    CHECK_INT_EQ(va_caa_parse_rr(badlen, sizeof badlen - 1, &bad), -1);

    /* Parameter syntax: spaces around, several parameters, duplicates. */
    struct {
        const char *value;
        const char *acct;
        const char *method;
        bool ok;
    } cases[] = {
        {"aro.test", NULL, "http-01", true},
        {"  aro.test  ", NULL, "http-01", true},
        {"ARO.TEST", NULL, "http-01", true},
        {"aro.test;", NULL, "http-01", true},
        {"aro.test; validationmethods=http-01 ; accounturi=urn:a", "urn:a", "http-01", true},
        {"aro.test; accounturi=urn:a; accounturi=urn:a", "urn:a", "http-01", false},
        {"aro.test; validationmethods=", NULL, "http-01", false},
        {"aro.test; validationmethods=http-011", NULL, "http-01", false},
        {"aro.test; unknown=value", NULL, "http-01", true},
        {"aro.test; =broken", NULL, "http-01", false},
        {"aro.test junk", NULL, "http-01", false},
        {"aro.testx", NULL, "http-01", false},
        {";", NULL, "http-01", false},
        {"", NULL, "http-01", false},
        {"aro.test; validationmethods=dns-01", NULL, NULL, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        va_caa_rr one = {0, "issue", (char *)cases[i].value};
        p = va_caa_evaluate(&one, 1, "x.test", false, cases[i].method, cases[i].acct, ids, 1);
        if ((p == NULL) != cases[i].ok) fprintf(stderr, "  CAA case %zu: \"%s\"\n", i, cases[i].value);
        CHECK((p == NULL) == cases[i].ok);
        problem_free(p);
    }
}

/* ---- DNS parsing -------------------------------------------------------- */

/* Append a name in wire form. */
static size_t put_name(unsigned char *b, size_t off, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);
        b[off++] = (unsigned char)n;
        memcpy(b + off, name, n);
        off += n;
        name += n + (dot ? 1 : 0);
    }
    b[off++] = 0;
    return off;
}

static size_t put_rr_head(unsigned char *b, size_t off, const char *name, int type,
                          unsigned long ttl, size_t rdlen)
{
    off = put_name(b, off, name);
    b[off++] = (unsigned char)(type >> 8);
    b[off++] = (unsigned char)type;
    b[off++] = 0;
    b[off++] = 1;
    b[off++] = (unsigned char)(ttl >> 24);
    b[off++] = (unsigned char)(ttl >> 16);
    b[off++] = (unsigned char)(ttl >> 8);
    b[off++] = (unsigned char)ttl;
    b[off++] = (unsigned char)(rdlen >> 8);
    b[off++] = (unsigned char)rdlen;
    return off;
}

static void test_dns_parse(void)
{
    unsigned char m[512];
    va_dns_answer a;
    size_t off;

    /* NXDOMAIN with SOA TTL 300, MINIMUM 60: negative TTL 60. */
    memset(m, 0, sizeof m);
    m[3] = 3; /* rcode NXDOMAIN */
    m[5] = 1; /* qdcount */
    m[9] = 1; /* nscount */
    off = put_name(m, 12, "_acme-challenge.x.test");
    m[off++] = 0, m[off++] = 16, m[off++] = 0, m[off++] = 1;
    unsigned char soa[64];
    size_t sl = put_name(soa, 0, "ns.test");
    sl = put_name(soa, sl, "host.test");
    const unsigned char nums[20] = {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 60};
    memcpy(soa + sl, nums, 20);
    sl += 20;
    off = put_rr_head(m, off, "test", VA_T_SOA, 300, sl);
    memcpy(m + off, soa, sl);
    off += sl;
    CHECK_INT_EQ(va_dns_parse(m, off, "_acme-challenge.x.test", VA_T_TXT, &a), VA_DNS_NXDOMAIN);
    CHECK_INT_EQ(a.neg_ttl, 60);
    va_dns_answer_clear(&a);
    /* TTL 30 below MINIMUM: 30. */
    size_t ttl_at = off - sl - 6;
    m[ttl_at + 3] = 30;
    m[ttl_at + 2] = 0;
    m[ttl_at + 1] = 0;
    m[ttl_at] = 0;
    CHECK_INT_EQ(va_dns_parse(m, off, "_acme-challenge.x.test", VA_T_TXT, &a), VA_DNS_NXDOMAIN);
    CHECK_INT_EQ(a.neg_ttl, 30);
    va_dns_answer_clear(&a);
    /* Truncated message. */
    CHECK_INT_EQ(va_dns_parse(m, off - 3, "_acme-challenge.x.test", VA_T_TXT, &a), VA_DNS_ERROR);
    va_dns_answer_clear(&a);

    /* A CNAME chain a -> b -> c with the TXT at c, in one answer. */
    memset(m, 0, sizeof m);
    m[5] = 1;
    m[7] = 3; /* ancount */
    off = put_name(m, 12, "a.test");
    m[off++] = 0, m[off++] = 16, m[off++] = 0, m[off++] = 1;
    unsigned char t[32];
    size_t tl = put_name(t, 0, "b.test");
    off = put_rr_head(m, off, "a.test", VA_T_CNAME, 60, tl);
    memcpy(m + off, t, tl);
    off += tl;
    tl = put_name(t, 0, "c.test");
    off = put_rr_head(m, off, "B.test", VA_T_CNAME, 60, tl);
    memcpy(m + off, t, tl);
    off += tl;
    off = put_rr_head(m, off, "c.test", VA_T_TXT, 60, 7);
    memcpy(m + off, "\x03" "abc" "\x02" "de", 7);
    off += 7;
    CHECK_INT_EQ(va_dns_parse(m, off, "a.test", VA_T_TXT, &a), VA_DNS_OK);
    CHECK_INT_EQ(a.n, 1);
    CHECK_STR_EQ(a.final_name, "c.test");
    if (a.n == 1) {
        char *s = va_txt_join(a.rr[0].data, a.rr[0].len);
        CHECK_STR_EQ(s, "abcde");
        free(s);
    }
    va_dns_answer_clear(&a);
    /* Asking for A at a.test: chain leads to c.test, which has no A here. */
    CHECK_INT_EQ(va_dns_parse(m, off, "a.test", VA_T_A, &a), VA_DNS_NODATA);
    CHECK_STR_EQ(a.final_name, "c.test");
    va_dns_answer_clear(&a);
    /* SERVFAIL rcode. */
    m[3] = 2;
    CHECK_INT_EQ(va_dns_parse(m, off, "a.test", VA_T_TXT, &a), VA_DNS_SERVFAIL);
    va_dns_answer_clear(&a);
}

static void test_reverse_names(void)
{
    char *s = va_reverse_name("192.0.2.1");
    CHECK_STR_EQ(s, "1.2.0.192.in-addr.arpa");
    free(s);
    s = va_reverse_name("2001:db8::1");
    CHECK_STR_EQ(s, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    free(s);
    CHECK(va_reverse_name("example.com") == NULL);
}

/* Validations share no state: several threads at once all succeed. */
static void *worker(void *arg)
{
    va_config cfg = base_cfg();
    int *ok = arg;
    const char *caa_ids1[] = {"aro.test"};
    for (int i = 0; i < 5; i++) {
        va_request reqs[] = {
            {"http-01", "http.example.com", false, "tokHTTP", "tokHTTP.thumbprint-http"},
            {"dns-01", "dns.example.com", false, NULL, "tokDNS.thumbprint-dns"},
            {"tls-alpn-01", "tls.example.com", false, "tokTLS", "tokTLS.thumbprint-tls"},
        };
        for (size_t j = 0; j < 3; j++) {
            va_result r;
            va_validate(&cfg, &reqs[j], &r);
            if (!r.valid) *ok = 0;
            va_result_clear(&r);
        }
        acme_problem *p = NULL;
        if (va_check_caa(&cfg, "ok.caa.example.com", false, "dns-01", NULL, caa_ids1, 1, &p) != 0)
            *ok = 0;
        problem_free(p);
    }
    return NULL;
}

static void test_concurrent(void)
{
    pthread_t th[6];
    int ok[6];
    for (int i = 0; i < 6; i++) {
        ok[i] = 1;
        pthread_create(&th[i], NULL, worker, &ok[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        CHECK(ok[i]);
    }
}

static void test_bad_requests(void)
{
    va_config cfg = base_cfg();
    va_result r;
    va_request unknown = {"smtp-01", "x.test", false, "t", "t.k"};
    CHECK_INT_EQ(va_validate(&cfg, &unknown, &r), -1);
    CHECK(r.problem != NULL);
    va_result_clear(&r);
    va_request dnsip = {"dns-01", "127.0.0.1", true, "t", "t.k"};
    CHECK_INT_EQ(va_validate(&cfg, &dnsip, &r), -1);
    va_result_clear(&r);
}

/* A DNS server on loopback that never answers for one name: the CAA
 * climb's levels are sent together, and one that does not answer above
 * the level that decides must change nothing, as when the climb stopped
 * there (RFC 8659 3). challtestsrv answers everything, so this stub
 * answers CAA itself: t.rv.test and t.silent.rv.test have "issue
 * aro.test", a.silent.rv.test is a CNAME to t.rv.test, silent.rv.test
 * gets no answer, every other name NXDOMAIN. */
static atomic_bool stub_stop;

static void *stub_dns(void *arg)
{
    int u = *(int *)arg;
    struct timeval tv = {0, 100000};
    setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int turns = 0; !atomic_load(&stub_stop) && turns < 600; turns++) { /* 60 s at most */
        unsigned char q[512], r[512];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(u, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
        if (n < 17) continue;
        char qname[256] = "";
        size_t off = 12, ql = 0;
        while (off < (size_t)n && q[off] && ql + q[off] + 1 < sizeof qname) {
            if (ql) qname[ql++] = '.';
            memcpy(qname + ql, q + off + 1, q[off]);
            ql += q[off];
            off += q[off] + 1U;
        }
        qname[ql] = '\0';
        size_t qend = off + 5; /* the root label, QTYPE, QCLASS */
        if (qend > (size_t)n || strcasecmp(qname, "silent.rv.test") == 0) continue;
        memcpy(r, q, qend);
        r[2] = 0x84 | (q[2] & 0x01); /* QR, AA, RD copied */
        r[3] = 0x80;                 /* RA, NOERROR */
        r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
        size_t w = qend;
        if (strcasecmp(qname, "t.rv.test") == 0 || strcasecmp(qname, "t.silent.rv.test") == 0) {
            static const unsigned char caa_rdata[] = "\x00\x05issuearo.test";
            w = put_rr_head(r, w, qname, 257, 60, sizeof caa_rdata - 1);
            memcpy(r + w, caa_rdata, sizeof caa_rdata - 1);
            w += sizeof caa_rdata - 1;
            r[7] = 1;
        } else if (strcasecmp(qname, "a.silent.rv.test") == 0) {
            w = put_rr_head(r, w, qname, 5, 60, 11); /* CNAME t.rv.test: 11 octets on the wire */
            w = put_name(r, w, "t.rv.test");
            r[7] = 1;
        } else {
            r[3] = 0x83; /* NXDOMAIN */
        }
        sendto(u, r, w, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

static void test_caa_silent_parent(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(bind(u, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(u, (struct sockaddr *)&a, &l) == 0);
    char server[32];
    snprintf(server, sizeof server, "127.0.0.1:%d", ntohs(a.sin_port));
    pthread_t th;
    atomic_store(&stub_stop, false);
    CHECK(pthread_create(&th, NULL, stub_dns, &u) == 0);
    va_config cfg = {.dns_server = server, .timeout_ms = 900};
    const char *acct = "https://ca.test/acme/acct/1";
    struct {
        const char *name, *want;
    } cases[] = {
        {"t.silent.rv.test", "ok"},     /* decided at the name; its parent never answers */
        {"a.silent.rv.test", "ok"},     /* a CNAME at the name, to a set that allows */
        {"a.b.c.d.t.rv.test", "ok"},    /* decided at the fifth level, in the second batch */
        {"x.rv.test", "ok"},            /* no CAA anywhere */
        {"x.silent.rv.test", "dns"},    /* nothing at the name, the parent silent: fail closed */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        acme_problem *p = NULL;
        int rc = va_check_caa(&cfg, cases[i].name, false, "http-01", acct, caa_ids, 2, &p);
        const char *got = p ? problem_short_type(p->type) : "ok";
        if (strcmp(got, cases[i].want) != 0 || (rc == 0) != (p == NULL))
            fprintf(stderr, "caa %s: rc=%d %s %s\n", cases[i].name, rc, got, p ? p->detail : "");
        CHECK_STR_EQ(got, cases[i].want);
        problem_free(p);
    }
    atomic_store(&stub_stop, true);
    pthread_join(th, NULL);
    close(u);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    test_dns_parse();
    test_reverse_names();
    test_caa_records();
    test_caa_silent_parent();
    if (access(CHALLTESTSRV, X_OK) != 0) {
        fprintf(stderr, "SKIP: %s not installed; network tests not run\n", CHALLTESTSRV);
    } else if (start_challtestsrv() != 0) {
        testlib_fail(__FILE__, __LINE__, "pebble-challtestsrv did not start");
    } else {
        test_http01();
        test_http01_redirects();
        test_dns01();
        test_dns_timeout();
        test_tlsalpn01();
        test_tlsalpn01_no_alpn();
        test_private_targets();
        test_caa();
        test_bad_requests();
        test_concurrent();
    }
    stop_challtestsrv();
    curl_global_cleanup();
    return testlib_finish();
}
