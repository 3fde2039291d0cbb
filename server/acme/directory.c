#include "acme/directory.h"

#include <string.h>

#include "core/urls.h"
#include "json.h"

void handle_directory(server *srv, const http_request *rq, http_response *rs)
{
    const server_config *cfg = &srv->cfg;
    const char *b = rq->base;
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        response_error(rs, "malformed", 405, "the directory takes GET");
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
    (void)srv;
    /* 7.2: HEAD answers 200, GET 204; the nonce itself is added to every
     * response by http.c. */
    if (strcmp(rq->method, "HEAD") == 0)
        rs->status = 200;
    else if (strcmp(rq->method, "GET") == 0)
        rs->status = 204;
    else
        response_error(rs, "malformed", 405, "newNonce takes HEAD or GET");
}
