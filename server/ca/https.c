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

/* ---- the HTTPS listener certificate --------------------------------- */

static const char *const https_ips[] = {"127.0.0.1", "::1"};

/* Self-signed, CA:TRUE so that it can go straight into a trust bundle
 * (OpenSSL, curl, Go and Python accept it as its own anchor), and
 * serverAuth with digitalSignature so that it also passes as the leaf. */
static X509 *https_cert_make(EVP_PKEY *key, aro_err *err)
{
    static const char *const dns[] = {"localhost"};
    time_t nb = time(NULL) - CA_BACKDATE;
    unsigned char skid[EVP_MAX_MD_SIZE];
    int skid_len = 0;
    char *hex = ca_random_hex(3);
    char *cn = xasprintf("aro localhost %s", hex);
    X509 *x = ca_cert_skeleton(cn, key, nb, nb + HTTPS_LIFETIME, NULL, err);
    if (!x)
        goto out;
    if (!X509_set_issuer_name(x, X509_get_subject_name(x))) {
        ca_ossl_fail(err, "cannot set issuer");
        goto fail;
    }
    if (ca_add_basic_constraints(x, true, -1, err) < 0 ||
        ca_add_key_usage(x, 1u << KU_BIT_DIGITAL_SIGNATURE | 1u << KU_BIT_KEY_CERT_SIGN, err) < 0 ||
        ca_add_eku_server_auth(x, err) < 0 || ca_add_san(x, dns, 1, https_ips, 2, 0, err) < 0 ||
        ca_add_ski(x, err) < 0 || ca_cert_skid(x, skid, &skid_len) < 0 ||
        ca_add_aki(x, skid, skid_len, err) < 0 || ca_cert_sign(x, key, err) < 0)
        goto fail;
    goto out;
fail:
    X509_free(x);
    x = NULL;
out:
    free(hex);
    free(cn);
    return x;
}

static int https_check(const char *cpath, const char *kpath, aro_err *err)
{
    int rc = -1;
    EVP_PKEY *key = NULL;
    X509 *x = ca_cert_load(cpath, err);
    if (!x || !(key = key_load_pem(kpath, err)))
        goto out;
    if (X509_check_private_key(x, key) != 1) {
        ERR_clear_error();
        aro_err_set(err, "%s does not hold the key of %s", kpath, cpath);
        goto out;
    }
    rc = 0;
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

/* Key first, then certificate: the certificate's presence means both are
 * complete, so an interrupted first start just generates them again. */
static int https_create(const char *cpath, const char *kpath, aro_err *err)
{
    int rc = -1;
    X509 *x = NULL;
    EVP_PKEY *key = key_generate(KEY_EC256);
    if (!key) {
        ca_ossl_fail(err, "cannot generate HTTPS key");
        goto out;
    }
    if (!(x = https_cert_make(key, err)) || key_save_pem(key, kpath, err) < 0 ||
        ca_cert_save(x, cpath, err) < 0)
        goto out;
    rc = 0;
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

int ca_https_open(ca *c, const char *data_dir, const ca_config *cfg, aro_err *err)
{
    if (cfg && (cfg->https_cert || cfg->https_key)) {
        if (!cfg->https_cert || !cfg->https_key) {
            aro_err_set(err, "an HTTPS certificate needs both a certificate and a key file");
            return -1;
        }
        c->https_cert = xstrdup(cfg->https_cert);
        c->https_key = xstrdup(cfg->https_key);
    } else {
        c->https_cert = xasprintf("%s/https-cert.pem", data_dir);
        c->https_key = xasprintf("%s/https-key.pem", data_dir);
        if ((!ca_file_exists(c->https_cert) || !ca_file_exists(c->https_key)) &&
            https_create(c->https_cert, c->https_key, err) < 0)
            return -1;
    }
    return https_check(c->https_cert, c->https_key, err);
}

