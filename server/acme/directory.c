#include "acme/directory.h"

#include <string.h>

#include "acme/auth.h"
#include "core/urls.h"
#include "json.h"

/* 6.3: "The server MUST allow GET requests for the directory and newNonce
 * resources ..., in addition to POST-as-GET requests for these
 * resources." A POST must then be an authenticated POST-as-GET; 0, or -1
 * with the problem in rs. */
static int post_as_get_only(server *srv, const http_request *rq, http_response *rs, const char *what)
{
    acme_auth a;
    int ret = auth_request(srv, rq, AUTH_KID, &a, rs);
    if (ret == 0 && !a.post_as_get) {
        response_error(rs, "malformed", 400, "%s is read with GET or POST-as-GET (an empty payload)", what);
        ret = -1;
    }
    auth_clear(&a);
    return ret;
}

void handle_directory(server *srv, const http_request *rq, http_response *rs)
{
    const server_config *cfg = &srv->cfg;
    const char *b = rq->base;
    if (strcmp(rq->method, "POST") == 0) {
        if (post_as_get_only(srv, rq, rs, "the directory") < 0)
            return;
    } else if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        response_error(rs, "malformed", 405, "the directory takes GET or POST-as-GET");
        return;
    }
    json_gen *g = jg_new();
    char *u;
#define URL_MEMBER(key, path)                                                                     \
    u = xasprintf("%s%s", b, path);                                                               \
    jg_kv_str(g, key, u);                                                                         \
    free(u)
    jg_obj_open(g);
    URL_MEMBER("newNonce", PATH_NEW_NONCE);
    URL_MEMBER("newAccount", PATH_NEW_ACCOUNT);
    URL_MEMBER("newOrder", PATH_NEW_ORDER);
    if (cfg->new_authz) {
        URL_MEMBER("newAuthz", PATH_NEW_AUTHZ);
    }
    URL_MEMBER("revokeCert", PATH_REVOKE_CERT);
    URL_MEMBER("keyChange", PATH_KEY_CHANGE);
    URL_MEMBER("renewalInfo", PATH_RENEWAL_INFO);
#undef URL_MEMBER
    jg_key(g, "meta");
    jg_obj_open(g);
    jg_kv_str(g, "termsOfService", cfg->terms_of_service);
    jg_kv_str(g, "website", cfg->website);
    if (cfg->ncaa_identities)
        jg_kv_strv(g, "caaIdentities", cfg->caa_identities, cfg->ncaa_identities);
    jg_kv_bool(g, "externalAccountRequired", cfg->eab_required);
    if (cfg->nprofiles) {
        jg_key(g, "profiles");
        jg_obj_open(g);
        for (size_t i = 0; i < cfg->nprofiles; i++)
            jg_kv_str(g, cfg->profiles[i].name, cfg->profiles[i].description);
        jg_obj_close(g);
    }
    /* draft-aro-acme-retry-options: support and the server's policy. */
    if (cfg->retry_options) {
        jg_key(g, "retry-options");
        jg_obj_open(g);
        jg_kv_int(g, "attemptsPerAuthorization", cfg->retry_attempts);
        jg_kv_int(g, "minBackoffSeconds", cfg->retry_min_backoff);
        /* The newOrder/newAuthz opt-in is honoured (pending-hold). */
        if (cfg->pending_hold)
            jg_kv_bool(g, "hold", true);
        jg_obj_close(g);
    }
    jg_obj_close(g);
    jg_obj_close(g);
    response_json(rs, 200, jg_finish(g, NULL));
}

void handle_new_nonce(server *srv, const http_request *rq, http_response *rs)
{
    /* 7.2: HEAD answers 200, GET 204 (and so does POST-as-GET, 6.3); the
     * nonce itself is added to every response by http.c. */
    if (strcmp(rq->method, "HEAD") == 0)
        rs->status = 200;
    else if (strcmp(rq->method, "GET") == 0)
        rs->status = 204;
    else if (strcmp(rq->method, "POST") == 0) {
        if (post_as_get_only(srv, rq, rs, "newNonce") == 0)
            rs->status = 204;
    } else
        response_error(rs, "malformed", 405, "newNonce takes HEAD, GET or POST-as-GET");
}
