#include "cmd_account.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jws.h"
#include "keys.h"
#include "msg.h"
#include "report.h"
#include "session.h"

/* 7.3.5: the inner JWS is signed by the new key, the outer by the old.
 * The new key is saved aside first, so a crash between the CA's answer
 * and our write cannot lose the account. */
static int account_rollover(session *S, report *rep)
{
    int ret = -1;
    aro_err err;
    acme_resp r = {0};
    char *inner = NULL, *pem = NULL, *next = xasprintf("%s.next", S->key_path);
    EVP_PKEY *nk = key_generate(S->o->account_key_type);
    if (!S->acme.dir.key_change) {
        aro_err_set(&err, "the CA at %s offers no keyChange", S->o->server);
        goto fail;
    }
    if (!nk || state_key_save(nk, next, &err)) {
        if (!nk)
            aro_err_set(&err, "cannot generate a new account key");
        goto fail;
    }
    inner = jws_sign_keychange(nk, S->key, S->acme.kid, S->acme.dir.key_change);
    if (!inner) {
        aro_err_set(&err, "cannot sign the key change");
        goto fail;
    }
    if (acme_post(&S->acme, S->acme.dir.key_change, inner, &r, &err))
        goto fail;
    pem = key_to_pem(nk);
    if (state_write_versioned(S->key_path, pem, strlen(pem), 0600, STATE_KEEP_VERSIONS, &err))
        goto fail;
    unlink(next);
    EVP_PKEY_free(S->key);
    S->key = nk;
    S->acme.key = nk;
    nk = NULL;
    msg_info("the old account key is kept as %s.1", S->key_path);
    ret = 0;
    goto out;
fail:
    unlink(next);
    report_fail(rep, r.problem, err.msg);
out:
    if (pem)
        OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    free(inner);
    free(next);
    EVP_PKEY_free(nk);
    acme_resp_clear(&r);
    return ret;
}

int cmd_account(const aro_opts *o, const char *sub)
{
    session S;
    report rep = {.result = "failed"};
    acme_resp r = {0};
    aro_err err;
    bool created = false;
    char *payload = NULL;
    const char *done = NULL;
    yajl_val shown = NULL;

    if (session_open(&S, o, &rep))
        goto out;
    if (!strcmp(sub, "new")) {
        if (session_account(&S, ACCOUNT_NEW, &created, &rep))
            goto out;
        rep.result = created ? "created" : "existing";
        goto out;
    }
    if (session_account(&S, ACCOUNT_EXISTING, NULL, &rep))
        goto out;
    if (!strcmp(sub, "rollover")) {
        if (account_rollover(&S, &rep) == 0)
            rep.result = "rolled";
        goto out;
    }
    /* The rest is one POST to the account URL. */
    if (!strcmp(sub, "show")) {
        done = "shown";             /* POST-as-GET (6.3) */
    } else if (!strcmp(sub, "update")) {
        json_gen *g = jg_new();     /* 7.3.2: the contacts replace the old ones */
        jg_obj_open(g);
        session_write_contacts(g, o);
        jg_obj_close(g);
        payload = jg_finish(g, NULL);
        done = "updated";
    } else if (!strcmp(sub, "deactivate")) {
        /* 7.3.6: final; the CA refuses the account's requests afterwards. */
        payload = xstrdup("{\"status\":\"deactivated\"}");
        done = "deactivated";
    } else {
        aro_err_set(&err, "unknown account command \"%s\" (new, show, update, deactivate, rollover)", sub);
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    if (acme_post(&S.acme, S.acme.kid, payload, &r, &err)) {
        report_fail(&rep, r.problem, err.msg);
        goto out;
    }
    rep.result = done;
    if (!strcmp(done, "shown")) {
        shown = r.json;
        r.json = NULL;
    } else if (!strcmp(done, "deactivated")) {
        /* 7.3.6: the CA refuses this key from now on. Keep it aside, so
         * that the next "account new" makes a new key and a new account
         * instead of finding the dead one. */
        char *dead = xasprintf("%s.deactivated", S.key_path);
        if (state_account_del(S.st, o->server, &err) || rename(S.key_path, dead))
            msg_warn("the deactivated account's key stays at %s: %s", S.key_path,
                     strerror(errno));
        else
            msg_info("the deactivated account's key is kept as %s", dead);
        free(dead);
    }
out:
    if (o->json || !o->quiet || rep.err_type)
        report_print_simple(&rep, o->json, shown ? "url" : "account",
                            S.acme_open ? S.acme.kid : NULL, shown, stdout);
    int code = rep.err_type ? 2 : 0;
    free(payload);
    json_free(shown);
    acme_resp_clear(&r);
    report_clear(&rep);
    session_close(&S);
    return code;
}
