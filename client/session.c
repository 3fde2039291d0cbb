#include "session.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64url.h"
#include "interrupt.h"
#include "jws.h"
#include "keys.h"
#include "msg.h"

int session_open_state(session *S, const aro_opts *o, report *rep)
{
    aro_err err;
    memset(S, 0, sizeof *S);
    S->o = o;
    if (!(S->lock = lock_acquire(o->state_dir, o->invocation, o->lock_wait, &err)) ||
        !(S->st = state_open(o->state_dir, &err))) {
        report_fail(rep, NULL, err.msg);
        return -1;
    }
    return 0;
}

int session_connect(session *S, const aro_opts *o, report *rep)
{
    aro_err err;
    session_disconnect(S);
    S->o = o;
    /* acme_open leaves something to close even when it fails. */
    S->acme_open = true;
    if (acme_open(&S->acme, o->server, o->ca_bundle, &err))
        goto fail;
    S->acme.max_wait = o->max_wait;
    S->key_path = state_account_key_path(S->st, o->server);
    if (access(S->key_path, F_OK) == 0) {
        if (!(S->key = key_load_pem(S->key_path, &err)))
            goto fail;
        S->acme.key = S->key;
    }
    return 0;
fail:
    report_fail(rep, NULL, err.msg);
    return -1;
}

int session_open(session *S, const aro_opts *o, report *rep)
{
    if (session_open_state(S, o, rep))
        return -1;
    return session_connect(S, o, rep);
}

void session_disconnect(session *S)
{
    solvers_free(S->sol);
    S->sol = NULL;
    if (S->acme_open)
        acme_close(&S->acme);
    S->acme_open = false;
    EVP_PKEY_free(S->key);
    S->key = NULL;
    free(S->key_path);
    S->key_path = NULL;
}

void session_close(session *S)
{
    session_disconnect(S);
    state_close(S->st);
    lock_release(S->lock);
    memset(S, 0, sizeof *S);
}

void session_start_solvers(session *S)
{
    const aro_opts *o = S->o;
    solver_config sc = {.http_port = o->http_port, .webroot = o->webroot,
                        .tls_alpn_port = o->tls_alpn_port, .hook = o->hook,
                        .hook_timeout = o->hook_timeout, .bind_addr = o->bind_addr};
    /* Without any solver option, a standalone client on port 80. */
    if (!sc.http_port && !sc.webroot && !sc.hook && !sc.tls_alpn_port)
        sc.http_port = 80;
    S->sol = solvers_new(&sc);
}

void session_interrupted(session *S, report *rep)
{
    interrupt_cleanup_begin();
    char *stopped = solvers_stop(S->sol);
    if (stopped) {
        msg_info("%s", stopped);
        report_add_cleanup(rep, stopped);
        free(stopped);
    }
    aro_buf b = {0};
    buf_printf(&b, "interrupted by %s; ", interrupt_signal() == SIGTERM ? "SIGTERM" : "SIGINT");
    if (!rep->ncleanup)
        buf_puts(&b, "nothing to clean up");
    for (size_t i = 0; i < rep->ncleanup; i++)
        buf_printf(&b, "%s%s", i ? "; " : "cleaned up: ", rep->cleanup[i]);
    if (rep->err_detail && !strstr(rep->err_detail, "interrupted"))
        msg_info("when interrupted: %s", rep->err_detail);
    report_forget_error(rep, NULL);
    report_error(rep, "aro:interrupted", b.data);
    buf_free(&b);
}

void session_write_contacts(json_gen *g, const aro_opts *o)
{
    jg_key(g, "contact");
    jg_arr_open(g);
    for (size_t i = 0; i < o->nemails; i++) {
        char *m = xasprintf("mailto:%s", o->emails[i]);
        jg_str(g, m);
        free(m);
    }
    jg_arr_close(g);
}

/* --eab KID:HMAC (7.3.4). */
static int eab_parse(const char *spec, char **kid, unsigned char **mac, size_t *maclen,
                     aro_err *err)
{
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || !colon[1]) {
        aro_err_set(err, "--eab wants KID:HMAC (the HMAC key base64url-encoded)");
        return -1;
    }
    *kid = xstrndup(spec, (size_t)(colon - spec));
    /* CAs hand out the key base64url, sometimes padded: drop the padding. */
    size_t l = strlen(colon + 1);
    while (l && colon[1 + l - 1] == '=')
        l--;
    if (b64url_decode(colon + 1, l, mac, maclen)) {
        free(*kid);
        *kid = NULL;
        aro_err_set(err, "--eab: the HMAC key is not base64url");
        return -1;
    }
    return 0;
}

/* newAccount (7.3), signed with the JWK. only_existing: 7.3.1, find the
 * account of this key without creating one. 0 account URL known (stored
 * and in S->acme.kid); 1 no such account (only_existing); -1 error. */
static int new_account(session *S, bool only_existing, bool *created, report *rep)
{
    const aro_opts *o = S->o;
    int ret = -1;
    acme_resp r = {0};
    aro_err err;
    char *payload = NULL, *eab_kid = NULL, *eab = NULL;
    unsigned char *mac = NULL;
    size_t maclen = 0;
    yajl_val eabv = NULL;

    json_gen *g = jg_new();
    jg_obj_open(g);
    if (only_existing) {
        jg_kv_bool(g, "onlyReturnExisting", true);
    } else {
        if (o->agree_tos)
            jg_kv_bool(g, "termsOfServiceAgreed", true);
        if (o->nemails)
            session_write_contacts(g, o);
        if (o->eab) {
            /* 7.3.4: the inner JWS MACs our public key with the CA's key. */
            if (eab_parse(o->eab, &eab_kid, &mac, &maclen, &err))
                goto fail;
            eab = jws_sign_eab(mac, maclen, eab_kid, S->acme.dir.new_account, S->key);
            if (!eab || !(eabv = json_parse(eab, strlen(eab), &err))) {
                aro_err_set(&err, "cannot build the external account binding");
                goto fail;
            }
            jg_key(g, "externalAccountBinding");
            jg_value(g, eabv);
        } else if (S->acme.dir.external_account_required) {
            aro_err_set(&err, "the CA at %s requires external account binding: pass --eab KID:HMAC",
                        o->server);
            goto fail;
        }
    }
    jg_obj_close(g);
    payload = jg_finish(g, NULL);
    g = NULL;

    if (acme_post_key(&S->acme, S->key, NULL, S->acme.dir.new_account, payload, &r, &err)) {
        const char *pt = acme_resp_problem(&r);
        if (only_existing && pt && !strcmp(pt, "accountDoesNotExist")) {
            ret = 1;
            goto out;
        }
        goto fail;
    }
    if (!r.location) {
        aro_err_set(&err, "newAccount at %s: no Location header in the answer", o->server);
        goto fail;
    }
    /* 7.3.6: a CA may answer the key of a deactivated account with the
     * account object: that is no account to use. */
    const char *status = json_str(r.json, "status");
    if (status && strcmp(status, "valid")) {
        aro_err_set(&err, "the account of this key at %s is %s (RFC 8555 7.3.6): %s; move %s aside "
                    "and run 'aro account new' for a new account", o->server, status, r.location,
                    S->key_path);
        goto fail;
    }
    /* 7.3: 201 for a new account, 200 for an existing one of this key. */
    if (created)
        *created = r.status == 201;
    free(S->acme.kid);
    S->acme.kid = xstrdup(r.location);
    if (state_account_put(S->st, o->server, r.location, &err))
        goto fail;
    ret = 0;
    goto out;
fail:
    report_fail(rep, r.problem, err.msg);
out:
    jg_free(g);
    json_free(eabv);
    free(eab);
    free(eab_kid);
    free(mac);
    free(payload);
    acme_resp_clear(&r);
    return ret;
}

int session_account(session *S, account_need need, bool *created, report *rep)
{
    const aro_opts *o = S->o;
    const char *tos = S->acme.dir.terms_of_service;
    aro_err err;
    if (need == ACCOUNT_NEW) {
        if (tos && !o->agree_tos) {
            aro_err_set(&err, "the CA's terms of service (%s) must be agreed: pass --agree-tos", tos);
            goto fail;
        }
    } else {
        char *url = NULL;
        int rc = state_account_get(S->st, o->server, &url, &err);
        if (rc < 0)
            goto fail;
        if (rc == 0 && S->key) {
            S->acme.kid = url;
            return 0;
        }
        free(url);
        /* A key without a stored URL (a lost store): ask the CA (7.3.1). */
        if (S->key && (rc = new_account(S, true, NULL, rep)) <= 0)
            return rc;
        if (need == ACCOUNT_EXISTING || (tos && !o->agree_tos)) {
            aro_err_set(&err, "no account at %s yet: run 'aro account new%s' first", o->server,
                        tos ? " --agree-tos" : "");
            goto fail;
        }
        msg_info("registering a new account at %s", o->server);
    }
    if (!S->key) {
        if (!(S->key = key_generate(o->account_key_type))) {
            aro_err_set(&err, "cannot generate a %s account key", key_type_name(o->account_key_type));
            goto fail;
        }
        if (state_key_save(S->key, S->key_path, &err))
            goto fail;
        S->acme.key = S->key;
    }
    return new_account(S, false, created, rep) ? -1 : 0;
fail:
    report_fail(rep, NULL, err.msg);
    return -1;
}
