#include "acme/auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "keys.h"
#include "acme/key_cache.h"
#include "acme/nonce.h"
#include "random.h"
#include "core/metrics.h"
#include "core/urls.h"
#include "rules/limits.h"
#include "store/repo.h"
#include "strv.h"

static void count_jws(server *srv, const char *alg, const char *result)
{
    char labels[96];
    snprintf(labels, sizeof(labels), "alg=\"%s\",result=\"%s\"", alg ? alg : "unknown", result);
    metrics_inc(srv->m, "aro_jws_verifications_total", labels);
}

/* 6.2: badSignatureAlgorithm "MUST" list the algorithms accepted. */
static void bad_algorithm(http_response *rs, const char *why)
{
    acme_problem *p = problem_new("badSignatureAlgorithm", 400, "%s", why);
    const char *const *algs;
    size_t n = jws_request_algorithms(&algs);
    for (size_t i = 0; i < n; i++)
        strv_push(&p->algorithms, &p->nalgorithms, algs[i]);
    response_problem(rs, p);
    problem_free(p);
}

static int load_account(server *srv, const char *id, rec_account *out)
{
    store_txn *t = store_begin(srv->st, false);
    if (!t)
        return -1;
    int rc = repo_account_get(t, id, out);
    store_abort(t);
    return rc;
}

/* The account is usable (7.3.6: a deactivated account's requests are
 * refused) and its current key is a->key. 0, or -1 with the problem. */
static int account_key(server *srv, acme_auth *a, http_response *rs)
{
    aro_err err = {{0}};
    if (a->acct.status != ACCOUNT_VALID) {
        response_error(rs, "unauthorized", 401, "account is %s", account_status_name(a->acct.status));
        return -1;
    }
    EVP_PKEY_free(a->key);
    EVP_PKEY_CTX_free(a->verify);
    a->key = key_cache_get(srv->keys, a->acct.thumbprint, a->acct.jwk, &a->verify, &err);
    if (!a->key) {
        response_error(rs, "serverInternal", 500, "stored account key unusable");
        return -1;
    }
    return 0;
}

/* 6.2: the signature under a->key; with count, the verification counts. */
static int verify_signature(server *srv, acme_auth *a, http_response *rs, bool count)
{
    aro_err err = {{0}};
    jws_result jr = jws_verify_prepared(&a->jws, a->key, a->verify, &err);
    if (count)
        count_jws(srv, a->jws.alg, jr == JWS_OK ? "valid" : "invalid");
    if (jr == JWS_ERR_BAD_ALG) {
        bad_algorithm(rs, err.msg);
        return -1;
    }
    if (jr != JWS_OK) {
        response_error(rs, "malformed", 400, "JWS verification error: %s", err.msg);
        return -1;
    }
    return 0;
}

static int authenticate(server *srv, const http_request *rq, auth_key_mode mode, acme_auth *a,
                        http_response *rs)
{
    aro_err err = {{0}};
    memset(a, 0, sizeof(*a));
    a->mode = mode;
    char *url = NULL;
    int ret = -1;

    if (strcmp(rq->method, "POST") != 0) {
        response_error(rs, "malformed", 405, "this resource takes POST (RFC 8555 6.3)");
        goto out;
    }
    /* 6.2: the body is application/jose+json; 415 for anything else. */
    if (!rq->content_type || strncasecmp(rq->content_type, "application/jose+json", 21) != 0) {
        response_error(rs, "malformed", 415, "Content-Type must be application/jose+json");
        goto out;
    }
    jws_result jr = jws_parse(rq->body, rq->body_len, JWS_ACME_REQUEST, &a->jws, &err);
    if (jr == JWS_ERR_NO_NONCE) {
        response_error(rs, "badNonce", 400, "%s", err.msg);
        goto out;
    }
    if (jr == JWS_ERR_BAD_ALG) {
        bad_algorithm(rs, err.msg);
        count_jws(srv, a->jws.alg, "badAlgorithm");
        goto out;
    }
    if (jr == JWS_ERR_BAD_KEY) {
        response_error(rs, "badPublicKey", 400, "%s", err.msg);
        goto out;
    }
    if (jr != JWS_OK) {
        response_error(rs, "malformed", 400, "%s", err.msg);
        goto out;
    }
    /* 6.4: "url" must be exactly the URL this request went to. */
    url = xasprintf("%s%s%s%s", rq->base, rq->path, rq->query ? "?" : "", rq->query ? rq->query : "");
    if (strcmp(a->jws.url, url) != 0) {
        response_error(rs, "unauthorized", 401, "JWS url \"%s\" does not match the request URL \"%s\"",
                       a->jws.url, url);
        goto out;
    }
    /* 6.5: each nonce once; fault injection can refuse good ones too. */
    bool nonce_ok = nonce_consume(srv->nonces, a->jws.nonce);
    if (nonce_ok && srv->cfg.fault_nonce_reject > 0) {
        unsigned r;
        random_bytes(&r, sizeof(r));
        if ((double)r / 4294967296.0 < srv->cfg.fault_nonce_reject) {
            nonce_ok = false;
            metrics_inc(srv->m, "aro_faults_injected_total", "kind=\"badNonce\"");
        }
    }
    if (!nonce_ok) {
        response_error(rs, "badNonce", 400, "JWS has an invalid anti-replay nonce");
        goto out;
    }
    /* 6.2: jwk only for newAccount (and revokeCert by certificate key). */
    if (a->jws.jwk) {
        if (mode == AUTH_KID) {
            response_error(rs, "malformed", 400, "this request must use \"kid\", not \"jwk\"");
            goto out;
        }
        a->key = a->jws.jwk;
        a->jws.jwk = NULL;
    } else {
        if (mode == AUTH_JWK) {
            response_error(rs, "malformed", 400, "newAccount requests must carry \"jwk\", not \"kid\"");
            goto out;
        }
        const char *id = id_in_url(rq->base, a->jws.kid, "acct");
        int rc = id ? load_account(srv, id, &a->acct) : 1;
        if (rc < 0) {
            response_error(rs, "serverInternal", 500, "store error");
            goto out;
        }
        if (rc == 1) {
            response_error(rs, "accountDoesNotExist", 400, "no account at \"%s\"", a->jws.kid);
            goto out;
        }
        a->has_acct = true;
        if (account_key(srv, a, rs) < 0)
            goto out;
    }
    if (verify_signature(srv, a, rs, true) < 0)
        goto out;
    if (a->jws.payload_len == 0) {
        a->post_as_get = true; /* 6.3 */
    } else {
        a->payload = json_parse((const char *)a->jws.payload, a->jws.payload_len, &err);
        if (!a->payload || !YAJL_IS_OBJECT(a->payload)) {
            response_error(rs, "malformed", 400, "payload is not a JSON object: %s",
                           a->payload ? "wrong type" : err.msg);
            goto out;
        }
    }
    ret = 0;
out:
    free(url);
    return ret;
}

/* An authentication made ahead, taken over in the transaction of its
 * request: the account read there again, since it may have been
 * deactivated (7.3.6) or given a new key (7.3.5) in between; under a new
 * key the request must verify again (it was signed with the old one). */
static int account_again(server *srv, acme_auth *a, http_response *rs)
{
    rec_account now;
    int rc = load_account(srv, a->acct.id, &now);
    if (rc != 0) {
        if (rc < 0)
            response_error(rs, "serverInternal", 500, "store error");
        else
            response_error(rs, "accountDoesNotExist", 400, "no account at \"%s\"", a->jws.kid);
        return -1;
    }
    bool same_key = strcmp(now.thumbprint, a->acct.thumbprint) == 0;
    rec_account_clear(&a->acct);
    a->acct = now;
    if (same_key && a->acct.status == ACCOUNT_VALID)
        return 0;
    return account_key(srv, a, rs) < 0 || verify_signature(srv, a, rs, false) < 0 ? -1 : 0;
}

int auth_request(server *srv, const http_request *rq, auth_key_mode mode, acme_auth *a, http_response *rs)
{
    if (!rq->auth)
        return authenticate(srv, rq, mode, a, rs);
    *a = *rq->auth;
    memset(rq->auth, 0, sizeof(*rq->auth));
    if (a->mode != mode) {
        response_error(rs, "serverInternal", 500, "the route and the resource disagree on the request's key");
        return -1;
    }
    return a->deferred && a->has_acct ? account_again(srv, a, rs) : 0;
}

int auth_ahead(server *srv, http_request *rq, auth_key_mode mode, http_response *rs)
{
    acme_auth *a = xmalloc(sizeof(*a));
    if (authenticate(srv, rq, mode, a, rs) < 0) {
        auth_clear(a);
        free(a);
        return -1;
    }
    rq->auth = a;
    return 0;
}

bool auth_ahead_post_as_get(const http_request *rq) { return rq->auth && rq->auth->post_as_get; }

void auth_ahead_defer(http_request *rq)
{
    if (rq->auth)
        rq->auth->deferred = true;
}

void auth_ahead_release(http_request *rq)
{
    if (!rq->auth)
        return;
    auth_clear(rq->auth);
    free(rq->auth);
    rq->auth = NULL;
}

void auth_clear(acme_auth *a)
{
    jws_msg_free(&a->jws);
    json_free(a->payload);
    if (a->has_acct)
        rec_account_clear(&a->acct);
    EVP_PKEY_free(a->key);
    EVP_PKEY_CTX_free(a->verify);
    memset(a, 0, sizeof(*a));
}

int auth_found(int rc, const char *what, http_response *rs)
{
    if (rc == 1)
        response_error(rs, "malformed", 404, "no such %s", what);
    else if (rc < 0)
        response_store_error(rs);
    return rc == 0 ? 0 : -1;
}

int auth_owns(const acme_auth *a, const char *owner, const char *what, http_response *rs)
{
    if (strcmp(owner, a->acct.id) == 0)
        return 0;
    response_error(rs, "unauthorized", 403, "this %s belongs to another account", what);
    return -1;
}

int auth_within_failure_limit(server *srv, store_txn *t, const char *account_id, const acme_identifier *id,
                              time_t now, http_response *rs)
{
    long retry = 0;
    acme_problem *p = limit_failed_validations(&srv->cfg, t, account_id, id, now, &retry);
    if (!p)
        return 0;
    response_problem(rs, p);
    rs->retry_after = retry;
    problem_free(p);
    return -1;
}

int auth_commit_answer(store_txn **t, http_response *rs, int status, char *body)
{
    int rc = store_commit(*t, NULL);
    *t = NULL;
    if (rc < 0) {
        free(body);
        response_store_error(rs);
        return -1;
    }
    response_json(rs, status, body);
    return 0;
}
