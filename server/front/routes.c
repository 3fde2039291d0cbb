#include "front/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/account.h"
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

static bool path_is(const char *path, const char *want) { return strcmp(path, want) == 0; }

static void route(server *srv, const http_request *rq, http_response *rs)
{
    const char *p = rq->path;
    char *id = NULL;
    if (path_is(p, PATH_DIRECTORY) || (srv->cfg.pebble_mode && path_is(p, PATH_DIRECTORY_PEBBLE))) {
        rs->endpoint = "directory";
        handle_directory(srv, rq, rs);
    } else if (path_is(p, PATH_NEW_NONCE)) {
        rs->endpoint = "new-nonce";
        handle_new_nonce(srv, rq, rs);
    } else if (path_is(p, PATH_NEW_ACCOUNT)) {
        rs->endpoint = "new-account";
        handle_new_account(srv, rq, rs);
    } else if (path_is(p, PATH_NEW_ORDER)) {
        rs->endpoint = "new-order";
        handle_new_order(srv, rq, rs);
    } else if (path_is(p, PATH_NEW_AUTHZ)) {
        rs->endpoint = "new-authz";
        handle_new_authz(srv, rq, rs);
    } else if (path_is(p, PATH_REVOKE_CERT)) {
        rs->endpoint = "revoke-cert";
        handle_revoke(srv, rq, rs);
    } else if (path_is(p, PATH_KEY_CHANGE)) {
        rs->endpoint = "key-change";
        handle_key_change(srv, rq, rs);
    } else if (strncmp(p, PATH_RENEWAL_INFO "/", strlen(PATH_RENEWAL_INFO) + 1) == 0) {
        rs->endpoint = "renewal-info";
        handle_renewal_info(srv, rq, rs, p + strlen(PATH_RENEWAL_INFO) + 1);
    } else if ((id = id_from_path(p, "acct", "/orders"))) {
        rs->endpoint = "account-orders";
        handle_account_orders(srv, rq, rs, id);
    } else if ((id = id_from_path(p, "acct", NULL))) {
        rs->endpoint = "account";
        handle_account(srv, rq, rs, id);
    } else if ((id = id_from_path(p, "order", "/finalize"))) {
        rs->endpoint = "finalize";
        handle_finalize(srv, rq, rs, id);
    } else if ((id = id_from_path(p, "order", NULL))) {
        rs->endpoint = "order";
        handle_order(srv, rq, rs, id);
    } else if ((id = id_from_path(p, "authz", "/retry"))) {
        rs->endpoint = "authz-retry";
        handle_authz_retry(srv, rq, rs, id);
    } else if ((id = id_from_path(p, "authz", NULL))) {
        rs->endpoint = "authz";
        handle_authz(srv, rq, rs, id);
    } else if ((id = id_from_path(p, "chall", NULL))) {
        rs->endpoint = "challenge";
        handle_challenge(srv, rq, rs, id);
    } else if ((id = id_from_path(p, "cert", NULL))) {
        rs->endpoint = "certificate";
        handle_cert(srv, rq, rs, id, 0);
    } else if (strncmp(p, "/acme/issuer/", 13) == 0) {
        int n = -1;
        char tail;
        rs->endpoint = "issuer";
        if (sscanf(p + 13, "%d%c", &n, &tail) == 1 && n >= 0 && n < 100)
            handle_issuer(srv, rq, rs, n);
        else
            response_error(rs, "malformed", 404, "no such resource");
    } else if (strncmp(p, "/acme/cert/", 11) == 0) {
        /* /acme/cert/SERIAL/N: alternate chain N */
        char serial[64];
        int alt = 0;
        rs->endpoint = "certificate";
        if (sscanf(p + 11, "%63[0-9a-f]/%d", serial, &alt) == 2 && alt > 0 && alt < 100)
            handle_cert(srv, rq, rs, serial, alt);
        else
            response_error(rs, "malformed", 404, "no such resource");
    } else {
        rs->endpoint = "unknown";
        response_error(rs, "malformed", 404, "no such resource: %s", p);
    }
    free(id);
}

/* Fault injection: random 429/500 answers to POSTs, before any work, so
 * nothing changes (the client must simply retry). */
static bool inject_fault(server *srv, const http_request *rq, http_response *rs)
{
    if (strcmp(rq->method, "POST") != 0)
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

void router_dispatch(server *srv, const http_request *rq, http_response *rs)
{
    rs->retry_after = -1;
    if (!inject_fault(srv, rq, rs))
        route(srv, rq, rs);
    char labels[128];
    snprintf(labels, sizeof(labels), "endpoint=\"%s\",status=\"%d\"", rs->endpoint ? rs->endpoint : "unknown",
             rs->status);
    metrics_inc(srv->m, "aro_http_requests_total", labels);
}

bool router_wants_prepare(const http_request *rq)
{
    char *id = strcmp(rq->method, "POST") == 0 ? id_from_path(rq->path, "authz", "/retry") : NULL;
    free(id);
    return id != NULL;
}

void *router_prepare(server *srv, const http_request *rq, void (**release)(void *))
{
    char *id = id_from_path(rq->path, "authz", "/retry");
    void *p = id ? authz_retry_prepare(srv, rq, id) : NULL;
    *release = authz_retry_prepared_free;
    free(id);
    return p;
}
