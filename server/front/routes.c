/* Routing and the response helpers. Paths:
 *   /directory (/dir in Pebble mode)     /acme/new-nonce  /acme/new-account
 *   /acme/new-order  /acme/revoke-cert   /acme/key-change
 *   /acme/renewal-info/CERTID            /acme/acct/ID[/orders]
 *   /acme/order/ID[/finalize]            /acme/authz/ID[/retry]
 *   /acme/chall/ID                       /acme/cert/SERIAL[/N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/handlers.h"
#include "core/metrics.h"
#include "random.h"
#include "acme/render.h"

void response_clear(http_response *rs)
{
    free(rs->body);
    free(rs->location);
    for (int i = 0; i < rs->nlinks; i++)
        free(rs->links[i]);
    free(rs->problem_type);
    memset(rs, 0, sizeof(*rs));
    rs->retry_after = -1;
}

void response_json(http_response *rs, int status, char *body)
{
    free(rs->body);
    rs->status = status;
    rs->body = body;
    rs->body_len = body ? strlen(body) : 0;
    rs->content_type = "application/json";
}

void response_problem(http_response *rs, const acme_problem *p)
{
    free(rs->body);
    rs->status = p->status ? p->status : 400;
    rs->body = problem_to_json(p);
    rs->body_len = strlen(rs->body);
    rs->content_type = "application/problem+json";
    free(rs->problem_type);
    rs->problem_type = xstrdup(problem_short_type(p->type));
}

void response_error(http_response *rs, const char *type, int status, const char *fmt, ...)
{
    acme_problem p = {0};
    p.type = strchr(type, ':') ? xstrdup(type) : xasprintf(ACME_ERROR_PREFIX "%s", type);
    p.status = status;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&p.detail, fmt, ap) < 0)
        p.detail = NULL;
    va_end(ap);
    response_problem(rs, &p);
    problem_clear(&p);
}

void response_link(http_response *rs, const char *url, const char *rel)
{
    if (rs->nlinks < MAX_LINKS)
        rs->links[rs->nlinks++] = xasprintf("<%s>;rel=\"%s\"", url, rel);
}

void response_store_error(http_response *rs)
{
    response_error(rs, "serverInternal", 500, "the store failed; nothing was changed");
}

static bool path_is(const char *path, const char *want) { return strcmp(path, want) == 0; }

static void route(server *srv, const http_request *rq, http_response *rs)
{
    const char *p = rq->path;
    char *id = NULL;
    if (path_is(p, "/directory") || (srv->cfg.pebble_mode && path_is(p, "/dir"))) {
        rs->endpoint = "directory";
        handle_directory(srv, rq, rs);
    } else if (path_is(p, "/acme/new-nonce")) {
        rs->endpoint = "new-nonce";
        handle_new_nonce(srv, rq, rs);
    } else if (path_is(p, "/acme/new-account")) {
        rs->endpoint = "new-account";
        handle_new_account(srv, rq, rs);
    } else if (path_is(p, "/acme/new-order")) {
        rs->endpoint = "new-order";
        handle_new_order(srv, rq, rs);
    } else if (path_is(p, "/acme/revoke-cert")) {
        rs->endpoint = "revoke-cert";
        handle_revoke(srv, rq, rs);
    } else if (path_is(p, "/acme/key-change")) {
        rs->endpoint = "key-change";
        handle_key_change(srv, rq, rs);
    } else if (strncmp(p, "/acme/renewal-info/", 19) == 0) {
        rs->endpoint = "renewal-info";
        handle_renewal_info(srv, rq, rs, p + 19);
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
