/* Request authentication made ahead on the event loop (acme/auth.c
 * auth_ahead) and taken over by the resource (auth_request): taken over
 * as it is when the request did not wait; read again in the resource's
 * transaction when it did, so that a deactivation (RFC 8555 7.3.6) or a
 * key rollover (7.3.5) committed in between refuses the request. On a
 * real LMDB store in a temporary directory. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "acme/key_cache.h"
#include "acme/nonce.h"
#include "core/metrics.h"
#include "keys.h"
#include "store/repo.h"
#include "testlib.h"

#define BASE "https://ca.test"

static char tmpdir[] = "/tmp/aro-test-auth-XXXXXX";
static server srv;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void save_account(rec_account *a, EVP_PKEY *key, bool create)
{
    char *thumb = jwk_thumbprint(key), *jwk = jwk_to_json(key);
    store_txn *t = store_begin(srv.st, true);
    if (create) {
        a->thumbprint = thumb;
        a->jwk = jwk;
        CHECK_INT_EQ(repo_account_create(t, a), 0);
    } else {
        CHECK_INT_EQ(repo_account_rekey(t, a, thumb, jwk), 0);
        free(thumb);
        free(jwk);
    }
    CHECK_INT_EQ(store_commit(t, NULL), 0);
}

static void deactivate(const char *id)
{
    rec_account a;
    store_txn *t = store_begin(srv.st, true);
    CHECK_INT_EQ(repo_account_get(t, id, &a), 0);
    a.status = ACCOUNT_DEACTIVATED;
    CHECK_INT_EQ(repo_account_save(t, &a), 0);
    CHECK_INT_EQ(store_commit(t, NULL), 0);
    rec_account_clear(&a);
}

/* A newOrder-shaped POST by the account with key, and its authentication
 * made ahead; 0 when that succeeded. */
static int request_ahead(EVP_PKEY *key, const char *id, http_request *rq, char **body, http_response *rs)
{
    char nonce[48], *kid = xasprintf(BASE "/acme/acct/%s", id);
    nonce_issue(srv.nonces, nonce);
    const char *payload = "{\"identifiers\":[]}";
    *body = jws_sign(key, kid, nonce, BASE "/acme/new-order", payload, strlen(payload));
    free(kid);
    *rq = (http_request){.method = "POST", .path = "/acme/new-order", .base = BASE, .body = *body,
                         .body_len = strlen(*body), .content_type = "application/jose+json"};
    *rs = (http_response){.retry_after = -1};
    return auth_ahead(&srv, rq, AUTH_KID, rs);
}

/* auth_request's answer for an authentication made ahead, after the
 * request waited (deferred) or not. */
static int taken_over(EVP_PKEY *key, const char *id, bool deferred, void (*meanwhile)(void), int *status)
{
    http_request rq;
    http_response rs;
    char *body;
    acme_auth a;
    CHECK_INT_EQ(request_ahead(key, id, &rq, &body, &rs), 0);
    CHECK(rq.auth != NULL);
    if (deferred)
        auth_ahead_defer(&rq);
    if (meanwhile)
        meanwhile();
    int rc = auth_request(&srv, &rq, AUTH_KID, &a, &rs);
    *status = rs.status;
    /* Taken over: nothing left for the request to free but the shell. */
    CHECK(!rq.auth->has_acct && !rq.auth->key);
    auth_clear(&a);
    auth_ahead_release(&rq);
    CHECK(rq.auth == NULL);
    response_clear(&rs);
    free(body);
    return rc;
}

static EVP_PKEY *key1, *key2, *key3;

static void to_deactivated(void) { deactivate("acct1"); }

/* acct2's key from key2 to key3. */
static void to_key3(void)
{
    rec_account a;
    store_txn *t = store_begin(srv.st, false);
    CHECK_INT_EQ(repo_account_get(t, "acct2", &a), 0);
    store_abort(t);
    save_account(&a, key3, false);
    rec_account_clear(&a);
}

int main(void)
{
    aro_err err;
    CHECK(mkdtemp(tmpdir) != NULL);
    config_defaults(&srv.cfg);
    srv.st = store_open(tmpdir, 1 << 26, &err);
    srv.nonces = nonce_pool_new();
    srv.keys = key_cache_new(16);
    srv.m = metrics_new();
    key1 = key_generate(KEY_EC256);
    key2 = key_generate(KEY_EC256);
    key3 = key_generate(KEY_EC256);
    rec_account a1 = {.id = "acct1", .status = ACCOUNT_VALID}, a2 = {.id = "acct2", .status = ACCOUNT_VALID};
    save_account(&a1, key1, true);
    save_account(&a2, key2, true);
    rec_account_clear(&a1);
    rec_account_clear(&a2);
    int status = 0;

    /* Not deferred (a read answered on the loop at once): taken over as
     * made. */
    CHECK_INT_EQ(taken_over(key1, "acct1", false, NULL, &status), 0);
    /* Deferred, nothing changed: accepted. */
    CHECK_INT_EQ(taken_over(key1, "acct1", true, NULL, &status), 0);
    /* Deferred across a deactivation: 401 unauthorized. */
    CHECK_INT_EQ(taken_over(key1, "acct1", true, to_deactivated, &status), -1);
    CHECK_INT_EQ(status, 401);
    /* Deferred across a rollover: signed with the old key, so refused. */
    CHECK_INT_EQ(taken_over(key2, "acct2", true, to_key3, &status), -1);
    CHECK_INT_EQ(status, 400);
    /* With the new key the account goes on. */
    CHECK_INT_EQ(taken_over(key3, "acct2", true, NULL, &status), 0);

    /* A bad JWS is refused ahead, nothing kept. */
    http_request rq = {.method = "POST", .path = "/acme/new-order", .base = BASE, .body = "{}", .body_len = 2,
                       .content_type = "application/jose+json"};
    http_response rs = {.retry_after = -1};
    CHECK_INT_EQ(auth_ahead(&srv, &rq, AUTH_KID, &rs), -1);
    CHECK(rq.auth == NULL);
    CHECK_INT_EQ(rs.status, 400);
    response_clear(&rs);

    EVP_PKEY_free(key1);
    EVP_PKEY_free(key2);
    EVP_PKEY_free(key3);
    key_cache_free(srv.keys);
    nonce_pool_free(srv.nonces);
    metrics_free(srv.m);
    store_close(srv.st);
    config_free(&srv.cfg);
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return testlib_finish();
}
