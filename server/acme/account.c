#include "acme/account.h"

#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "acme/payload.h"
#include "acme/render.h"
#include "core/urls.h"
#include "keys.h"
#include "rules/lifecycle.h"
#include "store/repo.h"

/* A contact list the payload may carry: 0, or -1 with the problem in rs. */
static int contacts_ok(yajl_val contact, http_response *rs)
{
    acme_problem *p = payload_contacts(contact);
    if (!p)
        return 0;
    response_problem(rs, p);
    problem_free(p);
    return -1;
}

/* 7.3.4: the inner JWS is HS256 over the account's JWK, with a kid the CA
 * issued and the newAccount URL. */
static bool check_eab(server *srv, const http_request *rq, yajl_val eab, EVP_PKEY *acct_key,
                      char **kid_out, http_response *rs)
{
    jws_msg m;
    aro_err err = {{0}};
    bool ok = false;
    if (jws_parse_value(eab, JWS_EAB_INNER, &m, &err) != JWS_OK) {
        response_error(rs, "malformed", 400, "externalAccountBinding: %s", err.msg);
        return false;
    }
    char *url = xasprintf("%s%s", rq->base, rq->path);
    const eab_key *k = NULL;
    for (size_t i = 0; i < srv->cfg.neab_keys; i++)
        if (strcmp(srv->cfg.eab_keys[i].kid, m.kid) == 0)
            k = &srv->cfg.eab_keys[i];
    if (strcmp(m.url, url) != 0) {
        response_error(rs, "malformed", 400, "externalAccountBinding url must be the newAccount URL");
        goto out;
    }
    if (!k) {
        response_error(rs, "unauthorized", 403, "externalAccountBinding: unknown key id \"%s\"", m.kid);
        goto out;
    }
    if (jws_verify_hmac(&m, k->key, k->keylen, &err) != JWS_OK) {
        response_error(rs, "unauthorized", 403, "externalAccountBinding: %s", err.msg);
        goto out;
    }
    yajl_val inner = json_parse((const char *)m.payload, m.payload_len, &err);
    EVP_PKEY *bound = inner ? jwk_import(inner, &err) : NULL;
    json_free(inner);
    if (!bound || !key_public_equal(bound, acct_key)) {
        response_error(rs, "malformed", 400, "externalAccountBinding payload must be the account's JWK");
        EVP_PKEY_free(bound);
        goto out;
    }
    EVP_PKEY_free(bound);
    *kid_out = xstrdup(m.kid);
    ok = true;
out:
    free(url);
    jws_msg_free(&m);
    return ok;
}

void handle_new_account(server *srv, const http_request *rq, http_response *rs)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_account acct = {0};
    char *thumb = NULL, *eab_kid = NULL;
    if (auth_request(srv, rq, AUTH_JWK, &a, rs) < 0)
        goto out;
    if (a.post_as_get) {
        response_error(rs, "malformed", 400, "newAccount needs a payload");
        goto out;
    }
    bool only_existing = false, tos = false;
    aro_err err;
    yajl_val contact = NULL, eab = NULL;
    if (json_get_bool(a.payload, "onlyReturnExisting", false, &only_existing, &err) < 0 ||
        json_get_bool(a.payload, "termsOfServiceAgreed", false, &tos, &err) < 0 ||
        json_get_obj(a.payload, "externalAccountBinding", false, &eab, &err) < 0) {
        response_error(rs, "malformed", 400, "%s", err.msg);
        goto out;
    }
    contact = json_member(a.payload, "contact");
    thumb = jwk_thumbprint(a.key);
    t = store_begin(srv->st, true);
    if (!t) {
        response_store_error(rs);
        goto out;
    }
    int rc = repo_account_by_key(t, thumb, &acct);
    if (rc < 0) {
        response_store_error(rs);
        goto out;
    }
    if (rc == 0 && acct.status != ACCOUNT_VALID) {
        /* 7.3.6: requests of a deactivated account get 401 unauthorized;
         * the key stays bound to it (a new account needs a new key). */
        response_error(rs, "unauthorized", 401, "the account with this key is %s",
                       account_status_name(acct.status));
        goto out;
    }
    if (rc == 0) {
        /* 7.3.1: a known key returns its account, 200 and Location. */
        rs->location = account_url(rq->base, acct.id);
        response_json(rs, 200, render_account(rq->base, &acct));
        goto out;
    }
    if (only_existing) {
        response_error(rs, "accountDoesNotExist", 400, "no account exists with this key");
        goto out;
    }
    if (srv->cfg.terms_of_service && !tos) {
        response_error(rs, "malformed", 400, "the terms of service must be agreed to (termsOfServiceAgreed)");
        goto out;
    }
    if (contacts_ok(contact, rs) < 0)
        goto out;
    if (eab && !check_eab(srv, rq, eab, a.key, &eab_kid, rs))
        goto out;
    if (srv->cfg.eab_required && !eab_kid) {
        response_error(rs, "externalAccountRequired", 400, "this CA requires external account binding");
        goto out;
    }
    repo_new_id(acct.id);
    acct.thumbprint = xstrdup(thumb);
    acct.jwk = jwk_to_json(a.key);
    payload_set_contacts(&acct, contact);
    acct.tos_agreed = tos;
    acct.eab_kid = eab_kid;
    eab_kid = NULL;
    acct.created = rq->now;
    if (lifecycle_account_create(t, &acct) < 0) {
        response_store_error(rs);
        goto out;
    }
    rs->location = account_url(rq->base, acct.id);
    auth_commit_answer(&t, rs, 201, render_account(rq->base, &acct));
out:
    store_abort(t);
    rec_account_clear(&acct);
    free(thumb);
    free(eab_kid);
    auth_clear(&a);
}

void handle_account(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    if (auth_owns(&a, id, "account", rs) < 0)
        goto out;
    rs->location = account_url(rq->base, id);
    if (a.post_as_get) {
        response_json(rs, 200, render_account(rq->base, &a.acct));
        goto out;
    }
    /* 7.3.2 update contact; 7.3.6 deactivate. */
    const char *status = NULL;
    aro_err err;
    if (json_get_str(a.payload, "status", false, &status, &err) < 0) {
        response_error(rs, "malformed", 400, "%s", err.msg);
        goto out;
    }
    if (status && strcmp(status, "deactivated") != 0) {
        response_error(rs, "malformed", 400, "an account can only be set to \"deactivated\"");
        goto out;
    }
    yajl_val contact = json_member(a.payload, "contact");
    if (contacts_ok(contact, rs) < 0)
        goto out;
    t = store_begin(srv->st, true);
    rec_account cur;
    if (!t || repo_account_get(t, id, &cur) != 0) {
        response_store_error(rs);
        goto out;
    }
    if (contact)
        payload_set_contacts(&cur, contact);
    int rc = status ? lifecycle_account_deactivate(t, &cur) : repo_account_save(t, &cur);
    if (rc == 1)
        response_error(rs, "malformed", 400, "the account is %s", account_status_name(cur.status));
    else if (rc < 0)
        response_store_error(rs);
    else
        auth_commit_answer(&t, rs, 200, render_account(rq->base, &cur));
    rec_account_clear(&cur);
out:
    store_abort(t);
    auth_clear(&a);
}

void handle_account_orders(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    if (auth_owns(&a, id, "account", rs) < 0)
        goto out;
    if (!a.post_as_get) {
        response_error(rs, "malformed", 400, "the orders list is read with POST-as-GET (empty payload)");
        goto out;
    }
    /* 7.1.2.1: paged, with Link rel="next". */
    const char *cursor = rq->query && strncmp(rq->query, "cursor=", 7) == 0 ? rq->query + 7 : NULL;
    char **ids = NULL, *next = NULL;
    size_t n = 0;
    t = store_begin(srv->st, false);
    if (!t || repo_orders_of_account(t, id, cursor, srv->cfg.orders_per_page, rq->now, &ids, &n, &next) < 0) {
        response_store_error(rs);
        goto out;
    }
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_key(g, "orders");
    jg_arr_open(g);
    for (size_t i = 0; i < n; i++) {
        char *u = url_for(rq->base, "order", ids[i]);
        jg_str(g, u);
        free(u);
    }
    jg_arr_close(g);
    jg_obj_close(g);
    if (next) {
        char *link = xasprintf("%s/acme/acct/%s/orders?cursor=%s", rq->base, id, next);
        response_link(rs, link, "next");
        free(link);
    }
    response_json(rs, 200, jg_finish(g, NULL));
    strv_free(ids, n);
    free(next);
out:
    store_abort(t);
    auth_clear(&a);
}

void handle_key_change(server *srv, const http_request *rq, http_response *rs)
{
    acme_auth a;
    jws_msg inner;
    bool have_inner = false;
    store_txn *t = NULL;
    EVP_PKEY *old = NULL;
    char *thumb = NULL, *kid = NULL;
    aro_err err = {{0}};
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    if (a.post_as_get) {
        response_error(rs, "malformed", 400, "keyChange needs a payload");
        goto out;
    }
    /* 7.3.5: the payload is a JWS signed by the new key. */
    if (jws_parse_value(a.payload, JWS_KEYCHANGE_INNER, &inner, &err) != JWS_OK) {
        response_error(rs, "malformed", 400, "inner JWS: %s", err.msg);
        goto out;
    }
    have_inner = true;
    if (jws_verify(&inner, inner.jwk, &err) != JWS_OK) {
        response_error(rs, "malformed", 400, "inner JWS: %s", err.msg);
        goto out;
    }
    if (strcmp(inner.url, a.jws.url) != 0) {
        response_error(rs, "malformed", 400, "inner JWS url must equal the outer url");
        goto out;
    }
    yajl_val body = json_parse((const char *)inner.payload, inner.payload_len, &err);
    const char *acct = json_str(body, "account");
    yajl_val oldkey = json_member(body, "oldKey");
    kid = account_url(rq->base, a.acct.id);
    old = oldkey ? jwk_import(oldkey, &err) : NULL;
    bool match = acct && strcmp(acct, kid) == 0 && old && key_public_equal(old, a.key);
    json_free(body);
    if (!match) {
        response_error(rs, "malformed", 400, "inner payload must name this account and its current key");
        goto out;
    }
    thumb = jwk_thumbprint(inner.jwk);
    t = store_begin(srv->st, true);
    if (!t) {
        response_store_error(rs);
        goto out;
    }
    rec_account other;
    if (repo_account_by_key(t, thumb, &other) == 0) {
        rs->location = account_url(rq->base, other.id);
        rec_account_clear(&other);
        /* 7.3.5 fixes the status (409) and the Location, not a problem
         * type; "malformed" is the registered one that fits, as in
         * Boulder's probs.Conflict. */
        response_error(rs, "malformed", 409, "the new key is already in use by an account");
        goto out;
    }
    rec_account cur;
    if (repo_account_get(t, a.acct.id, &cur) != 0) {
        response_store_error(rs);
        goto out;
    }
    char *jwk = jwk_to_json(inner.jwk);
    int rc = repo_account_rekey(t, &cur, thumb, jwk);
    free(jwk);
    if (rc < 0)
        response_store_error(rs);
    else
        auth_commit_answer(&t, rs, 200, render_account(rq->base, &cur));
    rec_account_clear(&cur);
out:
    store_abort(t);
    if (have_inner)
        jws_msg_free(&inner);
    EVP_PKEY_free(old);
    free(thumb);
    free(kid);
    auth_clear(&a);
}
