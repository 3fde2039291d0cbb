#include "order.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme_crypto.h"
#include "b64url.h"
#include "choose.h"
#include "identifiers.h"
#include "backoff.h"
#include "interrupt.h"
#include "json.h"
#include "keys.h"
#include "msg.h"
#include "status.h"

/* Decode r as the order at url. */
static int order_decode(const acme_resp *r, const char *url, acme_order *o, aro_err *err)
{
    aro_err derr;
    char *u = xstrdup(url);     /* url may be o->url itself */
    acme_order_clear(o);
    if (!r->json || acme_order_decode(r->json, o, &derr)) {
        aro_err_set(err, "order %s: %s", u, r->json ? derr.msg : "not JSON");
        free(u);
        return -1;
    }
    if (!o->url)
        o->url = u;
    else
        free(u);
    return 0;
}

bool order_request_hold(json_gen *g, const session *S)
{
    if (!choose_ask_hold(S->o->retry, &S->acme.dir))
        return false;
    jg_key(g, "retry-options");
    jg_obj_open(g);
    jg_kv_bool(g, "hold", true);
    jg_obj_close(g);
    return true;
}

int order_new(session *S, char *const *names, size_t nnames, const char *replaces, acme_order *o,
              acme_resp *r, aro_err *err)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_key(g, "identifiers");
    jg_arr_open(g);
    for (size_t i = 0; i < nnames; i++) {
        jg_obj_open(g);
        jg_kv_str(g, "type", identifier_is_ip(names[i]) ? "ip" : "dns");
        jg_kv_str(g, "value", names[i]);
        jg_obj_close(g);
    }
    jg_arr_close(g);
    if (S->o->profile)
        jg_kv_str(g, "profile", S->o->profile);
    if (replaces)
        jg_kv_str(g, "replaces", replaces);
    order_request_hold(g, S);
    jg_obj_close(g);
    char *payload = jg_finish(g, NULL);
    int rc = acme_post(&S->acme, S->acme.dir.new_order, payload, r, err);
    free(payload);
    if (rc)
        return -1;
    if (!r->location) {
        aro_err_set(err, "newOrder: the CA sent no Location for the order");
        return -1;
    }
    return order_decode(r, r->location, o, err);
}

/* Poll until the order leaves "pending" (and "processing" too when
 * wait_processing), honouring Retry-After (7.4), for at most
 * ACME_POLL_DEADLINE_SECONDS. */
static int order_poll(session *S, acme_order *o, bool wait_processing, aro_err *err)
{
    acme_resp r = {0};
    int ret = -1;
    char *url = xstrdup(o->url);
    time_t deadline = time(NULL) + ACME_POLL_DEADLINE_SECONDS;
    for (unsigned i = 0;; i++) {
        if (acme_post(&S->acme, url, NULL, &r, err) || order_decode(&r, url, o, err))
            goto out;
        if (o->status != ORDER_PENDING && !(wait_processing && o->status == ORDER_PROCESSING))
            break;
        if (time(NULL) > deadline) {
            aro_err_set(err, "order %s still %s after %d s", url, order_status_name(o->status),
                        ACME_POLL_DEADLINE_SECONDS);
            goto out;
        }
        if (interrupt_stop()) {
            aro_err_set(err, "interrupted while order %s was %s", url, order_status_name(o->status));
            goto out;
        }
        double w = acme_poll_wait(&S->acme, &r, i);
        msg_info("order %s is %s; waited %.1f s", url, order_status_name(o->status), w);
    }
    ret = 0;
out:
    free(url);
    acme_resp_clear(&r);
    return ret;
}

/* --preferred-chain: like certbot, match the issuer CN of the topmost
 * certificate of a chain, or any certificate's subject CN in it. */
static bool chain_matches(const char *pem, size_t len, const char *want)
{
    X509 **certs = NULL;
    aro_err err;
    int n = x509_chain_from_pem(pem, len, &certs, &err);
    bool m = false;
    char buf[256];
    if (n > 0)
        m = X509_NAME_get_text_by_NID(X509_get_issuer_name(certs[n - 1]), NID_commonName, buf,
                                      sizeof buf) >= 0 && !strcmp(buf, want);
    for (int i = 0; i < n && !m; i++)
        m = X509_NAME_get_text_by_NID(X509_get_subject_name(certs[i]), NID_commonName, buf,
                                      sizeof buf) >= 0 && !strcmp(buf, want);
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    return m;
}

/* 7.4.2: download, choosing among alternate chains (Link rel="alternate"). */
static int download(session *S, const char *url, char **pem, size_t *len, aro_err *err)
{
    acme_resp r = {0}, alt = {0};
    const char *want = S->o->preferred_chain;
    const acme_resp *chosen = &r;
    if (acme_post_pem(&S->acme, url, &r, err))
        goto fail;
    if (!r.body_len) {
        aro_err_set(err, "certificate %s: empty body", url);
        goto fail;
    }
    if (want && !chain_matches(r.body, r.body_len, want)) {
        chosen = NULL;
        for (size_t i = 0; i < r.nalternates && !chosen; i++) {
            aro_err aerr;
            if (acme_post_pem(&S->acme, r.alternates[i], &alt, &aerr)) {
                msg_warn("alternate chain %s: %s", r.alternates[i], aerr.msg);
                continue;
            }
            if (alt.body_len && chain_matches(alt.body, alt.body_len, want)) {
                msg_info("using the alternate chain %s (issuer %s)", r.alternates[i], want);
                chosen = &alt;
            }
        }
        if (!chosen) {
            msg_warn("no chain matches --preferred-chain \"%s\"; using the default chain", want);
            chosen = &r;
        }
    }
    *pem = xstrndup(chosen->body, chosen->body_len);
    *len = chosen->body_len;
    acme_resp_clear(&r);
    acme_resp_clear(&alt);
    return 0;
fail:
    acme_resp_clear(&r);
    acme_resp_clear(&alt);
    return -1;
}

int order_fetch(session *S, const char *url, acme_order *o, aro_err *err)
{
    acme_resp r = {0};
    char *u = xstrdup(url);     /* url may be o->url itself */
    int rc = acme_post(&S->acme, u, NULL, &r, err) || order_decode(&r, u, o, err) ? -1 : 0;
    free(u);
    acme_resp_clear(&r);
    return rc;
}

int order_complete(session *S, acme_order *o, char *const *names, size_t nnames,
                   EVP_PKEY *key, char **pem, size_t *len, aro_err *err)
{
    int ret = -1;
    acme_resp r = {0};
    unsigned char *der = NULL;
    size_t der_len = 0;
    char *csr = NULL, *payload = NULL;
    if (order_poll(S, o, false, err))
        goto out;
    if (o->status != ORDER_READY && o->status != ORDER_VALID && o->status != ORDER_PROCESSING) {
        aro_err_set(err, "order %s is %s although its authorizations are valid: %s", o->url,
                    order_status_name(o->status), o->error && o->error->detail ? o->error->detail : "");
        goto out;
    }
    /* A resumed order may be past its finalization already. */
    if (o->status == ORDER_READY) {
        if (csr_create_der(key, (const char *const *)names, nnames, &der, &der_len, err))
            goto out;
        csr = b64url_encode(der, der_len);
        payload = xasprintf("{\"csr\":\"%s\"}", csr);
        msg_info("finalizing order %s", o->url);
        if (acme_post(&S->acme, o->finalize, payload, &r, err) || order_decode(&r, o->url, o, err))
            goto out;
        /* 7.4: a processing order's Retry-After says when to look. */
        if (o->status == ORDER_PROCESSING && r.retry_after > 0)
            sleep_seconds((double)(r.retry_after < S->o->max_wait ? r.retry_after : S->o->max_wait));
    }
    if (o->status != ORDER_VALID && order_poll(S, o, true, err))
        goto out;
    if (o->status != ORDER_VALID || !o->certificate) {
        aro_err_set(err, "order %s ended %s: %s: %s", o->url, order_status_name(o->status),
                    o->error && o->error->type ? o->error->type : "(no problem document)",
                    o->error && o->error->detail ? o->error->detail : "");
        goto out;
    }
    if (download(S, o->certificate, pem, len, err))
        goto out;
    ret = 0;
out:
    free(der);
    free(csr);
    free(payload);
    acme_resp_clear(&r);
    return ret;
}
