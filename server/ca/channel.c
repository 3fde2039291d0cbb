#include "ca/channel.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme_crypto.h"
#include "ca/internal.h"
#include "keys.h"

/* Long enough for a test CA never to see them lapse, short of the issuing
 * hierarchy's; start over by deleting DATA/perspectives (channel.h). */
#define CHANNEL_ROOT_LIFETIME (10 * YEAR_SECONDS)
#define CHANNEL_LEAF_LIFETIME (5 * YEAR_SECONDS)

bool channel_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 32 || name[0] == '-' || name[n - 1] == '-' || strcmp(name, "primary") == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
            return false;
    return true;
}

static char *dir_of(const char *data_dir) { return xasprintf("%s/perspectives", data_dir); }

/* The channel's root: loaded, or made (key first, then certificate: the
 * certificate's presence means both are complete). */
static int root_open(const char *dir, X509 **cert, EVP_PKEY **key, aro_err *err)
{
    char *cpath = xasprintf("%s/channel-ca.pem", dir);
    bool exists = ca_file_exists(cpath);
    free(cpath);
    if (exists)
        return ca_pair_load(dir, "channel-ca", cert, key, err);
    if (mkdir_p(dir, 0700) < 0) {
        aro_err_set(err, "cannot create %s", dir);
        return -1;
    }
    *key = key_generate(KEY_EC256);
    char *hex = ca_random_hex(3);
    char *cn = xasprintf("aro perspective channel root %s", hex);
    *cert = *key ? ca_cert_make(cn, *key, NULL, *key, 0, CHANNEL_ROOT_LIFETIME, err) : NULL;
    free(hex);
    free(cn);
    if (!*key)
        ca_ossl_fail(err, "cannot generate the channel root's key");
    if (!*cert || ca_pair_save(dir, "channel-ca", *cert, *key, err) < 0 || ca_fsync_dir(dir, err) < 0)
        return -1;
    return 0;
}

/* An end-entity certificate of the channel: serverAuth with dNSName cn for
 * a perspective, clientAuth for the primary. */
static X509 *end_entity_make(const char *cn, bool server, EVP_PKEY *key, X509 *root, EVP_PKEY *root_key,
                             aro_err *err)
{
    time_t nb = time(NULL) - CA_BACKDATE;
    unsigned char akid[EVP_MAX_MD_SIZE];
    int akid_len = 0;
    const char *const dns[] = {cn};
    X509 *x = ca_cert_skeleton(cn, key, nb, nb + CHANNEL_LEAF_LIFETIME, NULL, err);
    if (!x)
        return NULL;
    if (!X509_set_issuer_name(x, X509_get_subject_name(root))) {
        ca_ossl_fail(err, "cannot set issuer");
        goto fail;
    }
    if (ca_add_basic_constraints(x, false, -1, err) < 0 ||
        ca_add_key_usage(x, 1u << KU_BIT_DIGITAL_SIGNATURE, err) < 0 ||
        ca_add_eku(x, server ? NID_server_auth : NID_client_auth, err) < 0 ||
        (server && ca_add_san(x, dns, 1, NULL, 0, 0, err) < 0) || ca_add_ski(x, err) < 0 ||
        ca_cert_skid(root, akid, &akid_len) < 0 || ca_add_aki(x, akid, akid_len, err) < 0 ||
        ca_cert_sign(x, root_key, err) < 0)
        goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

/* dir/name.{pem,key}: loaded when there, else made under the root. */
static int end_entity_open(const char *dir, const char *name, const char *cn, bool server, X509 *root,
                           EVP_PKEY *root_key, X509 **cert, EVP_PKEY **key, aro_err *err)
{
    char *cpath = xasprintf("%s/%s.pem", dir, name);
    bool exists = ca_file_exists(cpath);
    free(cpath);
    if (exists) {
        if (ca_pair_load(dir, name, cert, key, err) < 0)
            return -1;
        EVP_PKEY *root_pub = X509_get0_pubkey(root);
        if (!root_pub || X509_verify(*cert, root_pub) != 1) {
            ERR_clear_error();
            aro_err_set(err, "%s/%s.pem was not issued by the channel root (perspectives/channel-ca.pem)", dir, name);
            return -1;
        }
        return 0;
    }
    if (mkdir_p(dir, 0700) < 0) {
        aro_err_set(err, "cannot create %s", dir);
        return -1;
    }
    if (!(*key = key_generate(KEY_EC256))) {
        ca_ossl_fail(err, "cannot generate a channel key");
        return -1;
    }
    if (!(*cert = end_entity_make(cn, server, *key, root, root_key, err)) ||
        ca_pair_save(dir, name, *cert, *key, err) < 0 || ca_fsync_dir(dir, err) < 0)
        return -1;
    return 0;
}

static void fill(channel_credentials *out, X509 *root, X509 *cert, EVP_PKEY *key)
{
    out->ca_pem = x509_to_pem(root);
    out->cert_pem = x509_to_pem(cert);
    out->key_pem = key_to_pem(key);
}

int channel_primary_open(const char *data_dir, channel_credentials *out, aro_err *err)
{
    memset(out, 0, sizeof(*out));
    char *dir = dir_of(data_dir);
    X509 *root = NULL, *cert = NULL;
    EVP_PKEY *root_key = NULL, *key = NULL;
    int rc = -1;
    if (root_open(dir, &root, &root_key, err) == 0 &&
        end_entity_open(dir, "primary", "aro primary", false, root, root_key, &cert, &key, err) == 0) {
        fill(out, root, cert, key);
        rc = 0;
    }
    X509_free(root);
    X509_free(cert);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(key);
    free(dir);
    return rc;
}

int channel_issue_perspective(const char *data_dir, const char *name, char **pdir, aro_err *err)
{
    *pdir = NULL;
    if (!channel_name_ok(name)) {
        aro_err_set(err, "perspective name \"%s\" must be a DNS label of a-z, 0-9 and '-' (at most 32, not "
                    "\"primary\")", name ? name : "");
        return -1;
    }
    char *dir = dir_of(data_dir);
    char *mine = xasprintf("%s/%s", dir, name);
    X509 *root = NULL, *cert = NULL, *prim = NULL;
    EVP_PKEY *root_key = NULL, *key = NULL, *prim_key = NULL;
    int rc = -1;
    /* The primary's end with the first perspective, so that a provisioned
     * channel is complete before either end starts. */
    if (root_open(dir, &root, &root_key, err) == 0 &&
        end_entity_open(dir, "primary", "aro primary", false, root, root_key, &prim, &prim_key, err) == 0 &&
        end_entity_open(mine, "perspective", name, true, root, root_key, &cert, &key, err) == 0) {
        /* The perspective's copy of the root: all it needs in its own
         * directory to recognise the primary. */
        char *ca_path = xasprintf("%s/channel-ca.pem", mine);
        rc = ca_cert_save(root, ca_path, err);
        free(ca_path);
    }
    X509_free(root);
    X509_free(cert);
    X509_free(prim);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(key);
    EVP_PKEY_free(prim_key);
    free(dir);
    if (rc == 0)
        *pdir = mine;
    else
        free(mine);
    return rc;
}

int channel_perspective_open(const char *dir, channel_credentials *out, aro_err *err)
{
    memset(out, 0, sizeof(*out));
    X509 *cert = NULL, *root = NULL;
    EVP_PKEY *key = NULL;
    char *ca_path = xasprintf("%s/channel-ca.pem", dir);
    int rc = -1;
    if (ca_pair_load(dir, "perspective", &cert, &key, err) == 0 && (root = ca_cert_load(ca_path, err))) {
        fill(out, root, cert, key);
        rc = 0;
    } else {
        char why[sizeof(err->msg)];
        snprintf(why, sizeof(why), "%s", err->msg);
        aro_err_set(err, "no perspective credentials in %s (aro-server --data PRIMARY_DATA --issue-perspective "
                    "NAME writes them): %s", dir, why);
    }
    X509_free(cert);
    X509_free(root);
    EVP_PKEY_free(key);
    free(ca_path);
    return rc;
}

void channel_credentials_clear(channel_credentials *c)
{
    free(c->ca_pem);
    free(c->cert_pem);
    if (c->key_pem) {
        OPENSSL_cleanse(c->key_pem, strlen(c->key_pem));
        free(c->key_pem);
    }
    memset(c, 0, sizeof(*c));
}
