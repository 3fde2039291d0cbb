#include "cmd_revoke.h"

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "acme_crypto.h"
#include "b64url.h"
#include "keys.h"
#include "msg.h"
#include "report.h"
#include "session.h"

int cmd_revoke(const aro_opts *o, const char *certfile)
{
    session S;
    report rep = {0};
    aro_err err;
    acme_resp r = {0};
    char *pem = NULL, *b64 = NULL, *payload = NULL, *keyfile = NULL;
    unsigned char *der = NULL;
    X509 **certs = NULL;
    int n = 0;
    EVP_PKEY *ckey = NULL;
    size_t len;
    if (session_open(&S, o, &rep))
        goto out;
    if (!(pem = file_read_all(certfile, 1 << 20, &len, &err)) ||
        (n = x509_chain_from_pem(pem, len, &certs, &err)) <= 0) {
        if (n == 0 && pem)
            aro_err_set(&err, "%s holds no certificate", certfile);
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    int dl = i2d_X509(certs[0], &der);
    if (dl <= 0) {
        aro_err_set(&err, "%s: cannot encode the certificate", certfile);
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    b64 = b64url_encode(der, (size_t)dl);
    if (o->reason >= 0)
        payload = xasprintf("{\"certificate\":\"%s\",\"reason\":%d}", b64, o->reason);
    else
        payload = xasprintf("{\"certificate\":\"%s\"}", b64);
    if (!S.acme.dir.revoke_cert) {
        aro_err_set(&err, "the CA at %s offers no revokeCert", o->server);
        report_fail(&rep, NULL, err.msg);
        goto out;
    }
    /* 7.6: signed by the account that holds the certificate, or, without
     * an account here, by the certificate's own key (key.pem beside it). */
    char *url = NULL;
    int have = S.key ? state_account_get(S.st, o->server, &url, &err) : 1;
    if (have == 0) {
        S.acme.kid = url;
        if (acme_post(&S.acme, S.acme.dir.revoke_cert, payload, &r, &err)) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
    } else {
        free(url);
        char *slash = strrchr(certfile, '/');
        keyfile = slash ? xasprintf("%.*s/key.pem", (int)(slash - certfile), certfile)
                        : xstrdup("key.pem");
        if (!(ckey = key_load_pem(keyfile, &err))) {
            aro_err_set(&err, "no account for %s and no certificate key %s to revoke with", o->server,
                        keyfile);
            report_fail(&rep, NULL, err.msg);
            goto out;
        }
        if (acme_post_key(&S.acme, ckey, NULL, S.acme.dir.revoke_cert, payload, &r, &err)) {
            report_fail(&rep, r.problem, err.msg);
            goto out;
        }
    }
out:
    rep.result = "revoked";
    if (o->json || !o->quiet || rep.err_type)
        report_print_simple(&rep, o->json, "certificate", certfile, NULL, stdout);
    int code = rep.err_type ? 2 : 0;
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    EVP_PKEY_free(ckey);
    OPENSSL_free(der);
    free(pem);
    free(b64);
    free(payload);
    free(keyfile);
    acme_resp_clear(&r);
    report_clear(&rep);
    session_close(&S);
    return code;
}
