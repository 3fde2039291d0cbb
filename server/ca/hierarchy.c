#include "ca/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the hierarchies ---------------------------------------------------- */

void ca_hierarchy_free(struct hierarchy *h, int nint)
{
    X509_free(h->root);
    EVP_PKEY_free(h->root_key);
    for (int m = 0; m < nint; m++) {
        X509_free(h->inter[m]);
        EVP_PKEY_free(h->inter_key[m]);
    }
    free(h->root_pem);
    free(h->root_key_pem);
    free(h->issuer_pem);
    free(h->issuer_key_pem);
    free(h->chain_tail);
    memset(h, 0, sizeof *h);
}

static char *name_root(int n) { return xasprintf("root-%d", n); }
static char *name_inter(int n, int m) { return xasprintf("intermediate-%d-%d", n, m); }

/* Build hierarchy n in memory. The issuing CA uses the shared ikey and
 * icn (see the top of the file); with no intermediates that is the root. */
static int hierarchy_build(struct hierarchy *h, int nint, key_type kt, EVP_PKEY *ikey,
                           const char *icn, const char *shared_root_cn, aro_err *err)
{
    int rc = -1;
    char *cn = NULL;
    if (nint == 0) {
        h->root_key = ikey;
        EVP_PKEY_up_ref(ikey);
        cn = xstrdup(shared_root_cn);
    } else {
        h->root_key = key_generate(kt);
        cn = ca_random_hex(3);
        char *full = xasprintf("aro root %s", cn);
        free(cn);
        cn = full;
    }
    if (!h->root_key) {
        ca_ossl_fail(err, "cannot generate root key");
        goto out;
    }
    h->root = ca_cert_make(cn, h->root_key, NULL, h->root_key, -1, ROOT_LIFETIME, err);
    if (!h->root)
        goto out;
    X509 *parent = h->root;
    EVP_PKEY *parent_key = h->root_key;
    /* From the root side down: pathlen counts the intermediates below. */
    for (int m = nint - 1; m >= 0; m--) {
        free(cn);
        cn = NULL;
        if (m == 0) {
            h->inter_key[m] = ikey;
            EVP_PKEY_up_ref(ikey);
            cn = xstrdup(icn);
        } else {
            char *hex = ca_random_hex(3);
            h->inter_key[m] = key_generate(kt);
            cn = xasprintf("aro intermediate %s", hex);
            free(hex);
        }
        if (!h->inter_key[m]) {
            ca_ossl_fail(err, "cannot generate intermediate key");
            goto out;
        }
        h->inter[m] = ca_cert_make(cn, h->inter_key[m], parent, parent_key, m,
                                   INTERMEDIATE_LIFETIME, err);
        if (!h->inter[m])
            goto out;
        parent = h->inter[m];
        parent_key = h->inter_key[m];
    }
    rc = 0;
out:
    free(cn);
    return rc;
}

static int hierarchy_save(const struct hierarchy *h, int n, int nint, const char *dir,
                          aro_err *err)
{
    char *name = name_root(n);
    int rc = ca_pair_save(dir, name, h->root, h->root_key, err);
    free(name);
    for (int m = 0; rc == 0 && m < nint; m++) {
        name = name_inter(n, m);
        rc = ca_pair_save(dir, name, h->inter[m], h->inter_key[m], err);
        free(name);
    }
    return rc;
}

/* Create every hierarchy in DATA/ca.tmp-XXXXXX, then rename it to cadir:
 * DATA/ca appears complete or not at all. */
static int hierarchies_create(const ca *c, const char *data_dir, const char *cadir, aro_err *err)
{
    int rc = -1;
    struct hierarchy h = {0};
    char *tmp = xasprintf("%s/ca.tmp-XXXXXX", data_dir);
    char *hex = ca_random_hex(3), *hex2 = ca_random_hex(3);
    char *icn = xasprintf("aro intermediate %s", hex);
    char *rcn = xasprintf("aro root %s", hex2);
    bool made = false;
    EVP_PKEY *ikey = key_generate(c->kt);
    if (!ikey) {
        ca_ossl_fail(err, "cannot generate issuing key");
        goto out;
    }
    if (!mkdtemp(tmp)) {
        aro_err_set(err, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    made = true;
    for (int n = 0; n < c->nh; n++) {
        int r = hierarchy_build(&h, c->nint, c->kt, ikey, icn, rcn, err);
        if (r == 0)
            r = hierarchy_save(&h, n, c->nint, tmp, err);
        ca_hierarchy_free(&h, c->nint);
        if (r < 0)
            goto out;
    }
    if (ca_fsync_dir(tmp, err) < 0)
        goto out;
    if (rename(tmp, cadir) < 0) {
        aro_err_set(err, "cannot rename %s to %s: %s", tmp, cadir, strerror(errno));
        goto out;
    }
    made = false;
    rc = ca_fsync_dir(data_dir, err);
out:
    if (made)
        ca_remove_flat_dir(tmp);
    EVP_PKEY_free(ikey);
    free(tmp);
    free(hex);
    free(hex2);
    free(icn);
    free(rcn);
    return rc;
}

/* Is x signed by parent, by name and by signature? */
static bool issued_by(X509 *x, X509 *parent, EVP_PKEY *parent_key)
{
    bool ok = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(parent)) == 0 &&
              X509_verify(x, parent_key) == 1;
    ERR_clear_error();
    return ok;
}

/* Load hierarchy n and check that its files belong together. */
static int hierarchy_load(struct hierarchy *h, int n, int nint, const char *dir, aro_err *err)
{
    char *name = name_root(n);
    int rc = -1;
    if (ca_pair_load(dir, name, &h->root, &h->root_key, err) < 0)
        goto out;
    if (!issued_by(h->root, h->root, h->root_key)) {
        aro_err_set(err, "%s/%s.pem is not a self-signed certificate", dir, name);
        goto out;
    }
    X509 *parent = h->root;
    EVP_PKEY *parent_key = h->root_key;
    for (int m = nint - 1; m >= 0; m--) {
        free(name);
        name = name_inter(n, m);
        if (ca_pair_load(dir, name, &h->inter[m], &h->inter_key[m], err) < 0)
            goto out;
        if (!issued_by(h->inter[m], parent, parent_key)) {
            aro_err_set(err, "%s/%s.pem is not signed by the certificate above it", dir, name);
            goto out;
        }
        parent = h->inter[m];
        parent_key = h->inter_key[m];
    }
    rc = 0;
out:
    free(name);
    return rc;
}

/* PEM texts of a loaded hierarchy, for the accessors and chain building. */
static int hierarchy_pems(struct hierarchy *h, int nint, aro_err *err)
{
    aro_buf tail = {0};
    X509 *issuer = nint ? h->inter[0] : h->root;
    EVP_PKEY *issuer_key = nint ? h->inter_key[0] : h->root_key;
    h->root_pem = x509_to_pem(h->root);
    h->root_key_pem = key_to_pem(h->root_key);
    h->issuer_pem = x509_to_pem(issuer);
    h->issuer_key_pem = key_to_pem(issuer_key);
    for (int m = 0; m < nint; m++) {
        char *p = x509_to_pem(h->inter[m]);
        if (!p)
            break;
        buf_puts(&tail, p);
        free(p);
    }
    buf_puts(&tail, "");      /* an empty tail is "" rather than NULL */
    h->chain_tail = buf_steal(&tail);
    if (!h->root_pem || !h->root_key_pem || !h->issuer_pem || !h->issuer_key_pem) {
        ca_ossl_fail(err, "cannot encode CA certificates");
        return -1;
    }
    return 0;
}

/* The files must be the shape configured: no more roots, no more
 * intermediates. A silent change would invalidate what clients trust, so
 * this is an error the operator resolves by removing DATA/ca. */
static int hierarchy_check_shape(const ca *c, const char *cadir, aro_err *err)
{
    char *last_root = xasprintf("%s/root-%d.pem", cadir, c->nh - 1);
    char *extra_root = xasprintf("%s/root-%d.pem", cadir, c->nh);
    char *last_inter = xasprintf("%s/intermediate-0-%d.pem", cadir, c->nint - 1);
    char *extra_inter = xasprintf("%s/intermediate-0-%d.pem", cadir, c->nint);
    int rc = 0;
    if (!ca_file_exists(last_root) || ca_file_exists(extra_root) ||
        (c->nint > 0 && !ca_file_exists(last_inter)) || ca_file_exists(extra_inter)) {
        aro_err_set(err,
                    "%s holds a hierarchy of another shape than configured (chain length %d, "
                    "%d alternate roots); remove it to create a new one",
                    cadir, c->nint + 2, c->nh - 1);
        rc = -1;
    }
    free(last_root);
    free(extra_root);
    free(last_inter);
    free(extra_inter);
    return rc;
}

/* Every hierarchy's issuing CA must have hierarchy 0's name and key, or a
 * leaf would not verify under the alternate roots. */
static int hierarchy_check_shared(const ca *c, aro_err *err)
{
    X509 *i0 = c->nint ? c->h[0].inter[0] : c->h[0].root;
    EVP_PKEY *k0 = c->nint ? c->h[0].inter_key[0] : c->h[0].root_key;
    for (int n = 0; n < c->nh; n++) {
        X509 *in = c->nint ? c->h[n].inter[0] : c->h[n].root;
        EVP_PKEY *kn = c->nint ? c->h[n].inter_key[0] : c->h[n].root_key;
        if (!ca_key_is_type(c->h[n].root_key, c->kt) || !ca_key_is_type(kn, c->kt)) {
            aro_err_set(err, "CA keys of hierarchy %d are not of the configured type %s", n,
                        key_type_name(c->kt));
            return -1;
        }
        if (X509_NAME_cmp(X509_get_subject_name(in), X509_get_subject_name(i0)) != 0 ||
            EVP_PKEY_eq(kn, k0) != 1) {
            aro_err_set(err, "issuing CA of hierarchy %d differs from hierarchy 0's", n);
            return -1;
        }
    }
    return 0;
}

/* What ca_issue needs of the issuing CA, copied out so that issuing never
 * touches the shared X509 objects. */
static int issuer_setup(ca *c, aro_err *err)
{
    X509 *issuer = c->nint ? c->h[0].inter[0] : c->h[0].root;
    c->issuer_key = c->nint ? c->h[0].inter_key[0] : c->h[0].root_key;
    c->md = ca_sign_md(c->issuer_key);
    if (!c->md) {
        aro_err_set(err, "unsupported CA key type %s", EVP_PKEY_get0_type_name(c->issuer_key));
        return -1;
    }
    c->issuer_name_len = i2d_X509_NAME(X509_get_subject_name(issuer), &c->issuer_name_der);
    if (c->issuer_name_len <= 0) {
        ca_ossl_fail(err, "cannot encode issuer name");
        return -1;
    }
    if (ca_cert_skid(issuer, c->issuer_skid, &c->issuer_skid_len) < 0) {
        aro_err_set(err, "issuing CA certificate has no subjectKeyIdentifier");
        return -1;
    }
    return 0;
}

int ca_hierarchies_open(ca *c, const char *data_dir, aro_err *err)
{
    int rc = -1;
    char *cadir = xasprintf("%s/ca", data_dir);
    char *root0 = xasprintf("%s/root-0.pem", cadir);
    ca_remove_stale_tmp(data_dir);
    if (!ca_file_exists(root0) && hierarchies_create(c, data_dir, cadir, err) < 0)
        goto out;
    if (hierarchy_check_shape(c, cadir, err) < 0)
        goto out;
    for (int n = 0; n < c->nh; n++) {
        if (hierarchy_load(&c->h[n], n, c->nint, cadir, err) < 0 ||
            hierarchy_pems(&c->h[n], c->nint, err) < 0)
            goto out;
    }
    if (hierarchy_check_shared(c, err) < 0 || issuer_setup(c, err) < 0)
        goto out;
    rc = 0;
out:
    free(cadir);
    free(root0);
    return rc;
}

