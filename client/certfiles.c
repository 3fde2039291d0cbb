#include "certfiles.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "acme_crypto.h"
#include "json.h"
#include "keys.h"
#include "strv.h"

static time_t asn1_time_t(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return timegm(&tm);
}

static char *metadata_json(const certfiles_origin *from, X509 *leaf, const char *fullchain)
{
    char nb[32], na[32];
    time_format_rfc3339(asn1_time_t(X509_get0_notBefore(leaf)), nb);
    time_format_rfc3339(asn1_time_t(X509_get0_notAfter(leaf)), na);
    char *id = acme_ari_cert_id(leaf);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "server", from->server);
    jg_key(g, "names");
    jg_arr_open(g);
    for (size_t i = 0; i < from->nnames; i++)
        jg_str(g, from->names[i]);
    jg_arr_close(g);
    jg_kv_str(g, "notBefore", nb);
    jg_kv_str(g, "notAfter", na);
    jg_kv_str(g, "ariCertID", id);
    jg_kv_str(g, "order", from->order);
    jg_kv_str(g, "fullchain", fullchain);
    jg_kv_str(g, "keyType", from->key_type);
    if (from->profile)
        jg_kv_str(g, "profile", from->profile);
    jg_obj_close(g);
    free(id);
    return jg_finish(g, NULL);
}

int certfiles_store(state *st, const certfiles_origin *from, const char *pem, size_t len,
                    EVP_PKEY *key, char **fullchain, aro_err *err)
{
    int ret = -1;
    X509 **certs = NULL;
    int n = x509_chain_from_pem(pem, len, &certs, err);
    char *dir = state_cert_dir(st, from->names[0]);
    char *leaf = NULL, *kpem = NULL, *meta = NULL, *path = NULL;
    aro_buf chain = {0};
    if (n <= 0) {
        if (n == 0)
            aro_err_set(err, "the certificate from the CA holds no certificate");
        goto out;
    }
    if (mkdir_p(dir, 0700)) {
        aro_err_set(err, "cannot create %s: %s", dir, strerror(errno));
        goto out;
    }
    leaf = x509_to_pem(certs[0]);
    for (int i = 1; i < n; i++) {
        char *c = x509_to_pem(certs[i]);
        buf_puts(&chain, c);
        free(c);
    }
    kpem = key_to_pem(key);
    /* In this order: the key first, fullchain.pem (what servers load) last. */
    const struct {
        const char *file;
        const char *data;
        size_t len;
        int mode;
    } set[] = {
        {"key.pem", kpem, strlen(kpem), 0600},
        {"cert.pem", leaf, strlen(leaf), 0644},
        {"chain.pem", chain.data ? chain.data : "", chain.len, 0644},
        {"fullchain.pem", pem, len, 0644},
    };
    for (size_t i = 0; i < sizeof set / sizeof *set; i++) {
        free(path);
        path = xasprintf("%s/%s", dir, set[i].file);
        if (state_write_versioned(path, set[i].data, set[i].len, set[i].mode, STATE_KEEP_VERSIONS,
                                  err))
            goto out;
    }
    /* path is fullchain.pem now. */
    meta = metadata_json(from, certs[0], path);
    if (!meta || state_cert_put(st, from->names[0], meta, err))
        goto out;
    *fullchain = path;
    path = NULL;
    ret = 0;
out:
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    if (kpem)
        OPENSSL_cleanse(kpem, strlen(kpem));
    free(kpem);
    free(leaf);
    free(dir);
    free(path);
    free(meta);
    buf_free(&chain);
    return ret;
}

int certfiles_load(state *st, const char *name, certfiles_meta *m, aro_err *err)
{
    char *json = NULL;
    yajl_val v = NULL;
    int ret = -1;
    memset(m, 0, sizeof *m);
    int rc = state_cert_get(st, name, &json, err);
    if (rc) {
        if (rc > 0)
            aro_err_set(err, "%s: no certificate in the state directory", name);
        goto out;
    }
    if (!(v = json_parse(json, strlen(json), err)))
        goto out;
    yajl_val names = json_member(v, "names");
    if (YAJL_IS_ARRAY(names))
        for (size_t i = 0; i < names->u.array.len; i++)
            if (YAJL_IS_STRING(names->u.array.values[i]))
                strv_push(&m->names, &m->nnames, names->u.array.values[i]->u.string);
    if (!m->nnames)
        strv_push(&m->names, &m->nnames, name);
    time_parse_rfc3339(json_str(v, "notBefore") ? json_str(v, "notBefore") : "", &m->not_before);
    time_parse_rfc3339(json_str(v, "notAfter") ? json_str(v, "notAfter") : "", &m->not_after);
    m->ari_id = xstrdup(json_str(v, "ariCertID"));
    m->fullchain = xstrdup(json_str(v, "fullchain"));
    m->server = xstrdup(json_str(v, "server"));
    ret = 0;
out:
    json_free(v);
    free(json);
    return ret;
}

void certfiles_meta_clear(certfiles_meta *m)
{
    strv_free(m->names, m->nnames);
    free(m->ari_id);
    free(m->fullchain);
    free(m->server);
    memset(m, 0, sizeof *m);
}
