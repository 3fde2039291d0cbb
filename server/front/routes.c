#include "front/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/account.h"
#include "acme/auth.h"
#include "acme/authz.h"
#include "acme/certificate.h"
#include "acme/challenge.h"
#include "acme/directory.h"
#include "acme/finalize.h"
#include "acme/new_authz.h"
#include "acme/order.h"
#include "acme/renewal_info.h"
#include "acme/revoke.h"
#include "core/metrics.h"
#include "random.h"
#include "core/urls.h"

typedef enum {
    RES_DIRECTORY, RES_NEW_NONCE, RES_NEW_ACCOUNT, RES_NEW_ORDER, RES_NEW_AUTHZ, RES_REVOKE_CERT,
    RES_KEY_CHANGE, RES_RENEWAL_INFO, RES_ACCOUNT_ORDERS, RES_ACCOUNT, RES_FINALIZE, RES_ORDER,
    RES_AUTHZ_RETRY, RES_AUTHZ, RES_CHALLENGE, RES_CERT, RES_ISSUER, RES_UNKNOWN,
} resource;

#define NO_JWS (-1)

/* Per resource: the endpoint label of /metrics and the log; how its POSTs
 * are signed (RFC 8555 6.2: jwk for newAccount, either for revokeCert,
 * kid everywhere else; NO_JWS: no request of it may write, so that all
 * are answered on the event loop: the directory's and newNonce's POSTs
 * can only be POST-as-GET (6.3), their handler checks the JWS itself); and
 * whether a POST-as-GET of it only reads the store, so that it is
 * answered on the event loop from committed state and never waits for
 * the writer. */
static const struct {
    const char *endpoint;
    int auth;
    bool post_as_get_reads;
} resources[] = {
    [RES_DIRECTORY] = {"directory", NO_JWS, false},
    [RES_NEW_NONCE] = {"new-nonce", NO_JWS, false},
    [RES_NEW_ACCOUNT] = {"new-account", AUTH_JWK, false},
    [RES_NEW_ORDER] = {"new-order", AUTH_KID, false},
    [RES_NEW_AUTHZ] = {"new-authz", AUTH_KID, false},
    [RES_REVOKE_CERT] = {"revoke-cert", AUTH_EITHER, false},
    [RES_KEY_CHANGE] = {"key-change", AUTH_KID, false},
    [RES_RENEWAL_INFO] = {"renewal-info", NO_JWS, false},
    [RES_ACCOUNT_ORDERS] = {"account-orders", AUTH_KID, true},
    [RES_ACCOUNT] = {"account", AUTH_KID, true},
    [RES_FINALIZE] = {"finalize", AUTH_KID, false},
    [RES_ORDER] = {"order", AUTH_KID, true},
    [RES_AUTHZ_RETRY] = {"authz-retry", AUTH_KID, false},
    [RES_AUTHZ] = {"authz", AUTH_KID, true},
    [RES_CHALLENGE] = {"challenge", AUTH_KID, true},
    [RES_CERT] = {"certificate", AUTH_KID, true},
    [RES_ISSUER] = {"issuer", NO_JWS, false},
    [RES_UNKNOWN] = {"unknown", NO_JWS, false},
};

/* A path resolved: the resource and the object it names. */
typedef struct {
    resource res;
    char id[64];        /* the ID of /acme/KIND/ID, the serial of an alternate chain */
    const char *tail;   /* renewal-info: the CertID */
    int n;              /* issuer: its number; certificate: the alternate chain (0: the default) */
} route;

/* The objects of /acme/KIND/ID[SUFFIX]. */
static const struct {
    const char *kind, *suffix;
    resource res;
} objects[] = {
    {"acct", "/orders", RES_ACCOUNT_ORDERS}, {"acct", "", RES_ACCOUNT},   {"order", "/finalize", RES_FINALIZE},
    {"order", "", RES_ORDER},                {"authz", "/retry", RES_AUTHZ_RETRY},
    {"authz", "", RES_AUTHZ},                {"chall", "", RES_CHALLENGE}, {"cert", "", RES_CERT},
};

static void resolve(const server *srv, const char *p, route *r)
{
    memset(r, 0, sizeof(*r));
    r->res = RES_UNKNOWN;
    static const struct {
        const char *path;
        resource res;
    } fixed[] = {{PATH_DIRECTORY, RES_DIRECTORY},     {PATH_NEW_NONCE, RES_NEW_NONCE},
                 {PATH_NEW_ACCOUNT, RES_NEW_ACCOUNT}, {PATH_NEW_ORDER, RES_NEW_ORDER},
                 {PATH_NEW_AUTHZ, RES_NEW_AUTHZ},     {PATH_REVOKE_CERT, RES_REVOKE_CERT},
                 {PATH_KEY_CHANGE, RES_KEY_CHANGE}};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(p, fixed[i].path) == 0) {
            r->res = fixed[i].res;
            return;
        }
    if (srv->cfg.pebble_mode && strcmp(p, PATH_DIRECTORY_PEBBLE) == 0) {
        r->res = RES_DIRECTORY;
        return;
    }
    if (strncmp(p, PATH_RENEWAL_INFO "/", strlen(PATH_RENEWAL_INFO) + 1) == 0) {
        r->res = RES_RENEWAL_INFO;
        r->tail = p + strlen(PATH_RENEWAL_INFO) + 1;
        return;
    }
    if (strncmp(p, "/acme/", 6) != 0)
        return;
    const char *kind = p + 6, *slash = strchr(kind, '/');
    if (!slash)
        return;
    size_t kl = (size_t)(slash - kind), n = strcspn(slash + 1, "/");
    const char *rest = slash + 1 + n;
    if (kl == 6 && strncmp(kind, "issuer", 6) == 0) {
        char tail;
        r->res = RES_ISSUER;
        r->n = sscanf(slash + 1, "%d%c", &r->n, &tail) == 1 && r->n >= 0 && r->n < 100 ? r->n : -1;
        return;
    }
    if (kl == 4 && strncmp(kind, "cert", 4) == 0 && *rest == '/') {
        /* /acme/cert/SERIAL/N: alternate chain N */
        r->res = RES_CERT;
        if (sscanf(slash + 1, "%63[0-9a-f]/%d", r->id, &r->n) != 2 || r->n <= 0 || r->n >= 100)
            r->n = -1;
        return;
    }
    /* As id_from_path: a non-empty ID of bounded length, then exactly the
     * suffix. */
    if (n == 0 || n >= ID_LEN + 24)
        return;
    for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
        if (strlen(objects[i].kind) == kl && strncmp(kind, objects[i].kind, kl) == 0 &&
            strcmp(rest, objects[i].suffix) == 0) {
            r->res = objects[i].res;
            memcpy(r->id, slash + 1, n);
            r->id[n] = '\0';
            return;
        }
}

static void call(server *srv, const route *r, const http_request *rq, http_response *rs)
{
    rs->endpoint = resources[r->res].endpoint;
    switch (r->res) {
    case RES_DIRECTORY: handle_directory(srv, rq, rs); break;
    case RES_NEW_NONCE: handle_new_nonce(srv, rq, rs); break;
    case RES_NEW_ACCOUNT: handle_new_account(srv, rq, rs); break;
    case RES_NEW_ORDER: handle_new_order(srv, rq, rs); break;
    case RES_NEW_AUTHZ: handle_new_authz(srv, rq, rs); break;
    case RES_REVOKE_CERT: handle_revoke(srv, rq, rs); break;
    case RES_KEY_CHANGE: handle_key_change(srv, rq, rs); break;
    case RES_RENEWAL_INFO: handle_renewal_info(srv, rq, rs, r->tail); break;
    case RES_ACCOUNT_ORDERS: handle_account_orders(srv, rq, rs, r->id); break;
    case RES_ACCOUNT: handle_account(srv, rq, rs, r->id); break;
    case RES_FINALIZE: handle_finalize(srv, rq, rs, r->id); break;
    case RES_ORDER: handle_order(srv, rq, rs, r->id); break;
    case RES_AUTHZ_RETRY: handle_authz_retry(srv, rq, rs, r->id); break;
    case RES_AUTHZ: handle_authz(srv, rq, rs, r->id); break;
    case RES_CHALLENGE: handle_challenge(srv, rq, rs, r->id); break;
    case RES_CERT:
        if (r->n >= 0)
            handle_cert(srv, rq, rs, r->id, r->n);
        else
            response_error(rs, "malformed", 404, "no such resource");
        break;
    case RES_ISSUER:
        if (r->n >= 0)
            handle_issuer(srv, rq, rs, r->n);
        else
            response_error(rs, "malformed", 404, "no such resource");
        break;
    case RES_UNKNOWN: response_error(rs, "malformed", 404, "no such resource: %s", rq->path); break;
    }
}

/* Fault injection: random 429/500 answers to POSTs, before any work, so
 * nothing changes (the client must simply retry). */
static bool inject_fault(server *srv, const http_request *rq, http_response *rs)
{
    /* No draw from the CSPRNG (a system call in OpenSSL's fork check) for
     * every POST when no fault is asked for. */
    if (strcmp(rq->method, "POST") != 0 || srv->cfg.fault_rate_limited + srv->cfg.fault_server_internal <= 0)
        return false;
    unsigned r;
    random_bytes(&r, sizeof(r));
    double x = (double)r / 4294967296.0;
    if (x < srv->cfg.fault_rate_limited) {
        metrics_inc(srv->m, "aro_faults_injected_total", "kind=\"rateLimited\"");
        response_error(rs, "rateLimited", 429, "injected fault: rate limited, retry later");
        rs->retry_after = 1;
        return true;
    }
    if (x < srv->cfg.fault_rate_limited + srv->cfg.fault_server_internal) {
        metrics_inc(srv->m, "aro_faults_injected_total", "kind=\"serverInternal\"");
        response_error(rs, "serverInternal", 500, "injected fault: internal error, retry later");
        rs->retry_after = 1;
        return true;
    }
    return false;
}

static void count_request(server *srv, const http_response *rs)
{
    /* endpoint="...",status="NNN", without printf: every request counts. */
    char labels[128], *p = labels;
    const char *ep = rs->endpoint ? rs->endpoint : "unknown";
    size_t n = strlen(ep) < 64 ? strlen(ep) : 64;
    memcpy(p, "endpoint=\"", 10);
    memcpy(p += 10, ep, n);
    memcpy(p += n, "\",status=\"", 10);
    p += 10;
    char digits[12];
    int nd = 0;
    unsigned status = rs->status > 0 ? (unsigned)rs->status : 0;
    do
        digits[nd++] = (char)('0' + status % 10);
    while ((status /= 10) > 0);
    while (nd > 0)
        *p++ = digits[--nd];
    memcpy(p, "\"", 2);
    metrics_inc(srv->m, "aro_http_requests_total", labels);
}

void router_dispatch(server *srv, const http_request *rq, http_response *rs)
{
    route r;
    resolve(srv, rq->path, &r);
    rs->retry_after = -1;
    rs->endpoint = resources[r.res].endpoint;
    if (rq->accepted || !inject_fault(srv, rq, rs))
        call(srv, &r, rq, rs);
    count_request(srv, rs);
}

route_next router_accept(server *srv, http_request *rq, http_response *rs)
{
    route r;
    resolve(srv, rq->path, &r);
    rs->retry_after = -1;
    rs->endpoint = resources[r.res].endpoint;
    rq->accepted = true;
    bool post = strcmp(rq->method, "POST") == 0;
    if (inject_fault(srv, rq, rs)) {
        count_request(srv, rs);
        return ROUTE_ANSWERED;
    }
    /* Only a POST with a JWS may change anything. newAuthz on a server
     * without pre-authorization is a 404 whatever the request carries. */
    bool may_write = post && resources[r.res].auth != NO_JWS && !(r.res == RES_NEW_AUTHZ && !srv->cfg.new_authz);
    /* Its JWS is checked here (the signature is the costliest step of a
     * request), on the loop, in parallel with the writer; the resource
     * then takes the result over (auth_request). */
    if (may_write && auth_ahead(srv, rq, (auth_key_mode)resources[r.res].auth, rs) < 0) {
        count_request(srv, rs);
        return ROUTE_ANSWERED;
    }
    /* What changes nothing is answered here, from committed state: GETs
     * and HEADs, requests of resources without a JWS, POST-as-GET reads. */
    if (!may_write || (auth_ahead_post_as_get(rq) && resources[r.res].post_as_get_reads)) {
        call(srv, &r, rq, rs);
        count_request(srv, rs);
        return ROUTE_ANSWERED;
    }
    auth_ahead_defer(rq);
    return r.res == RES_AUTHZ_RETRY ? ROUTE_PREPARE : r.res == RES_FINALIZE ? ROUTE_PREPARE_HERE : ROUTE_WRITE;
}

void router_release(http_request *rq) { auth_ahead_release(rq); }

void *router_prepare(server *srv, const http_request *rq, void (**release)(void *))
{
    route r;
    resolve(srv, rq->path, &r);
    switch (r.res) {
    case RES_AUTHZ_RETRY:
        *release = authz_retry_prepared_free;
        return authz_retry_prepare(srv, rq, r.id);
    case RES_FINALIZE:
        *release = finalize_prepared_free;
        return finalize_prepare(rq);
    default:
        *release = NULL;
        return NULL;
    }
}
