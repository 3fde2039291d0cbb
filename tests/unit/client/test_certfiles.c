/* A certificate's files: the set written by certfiles_store (key, leaf,
 * issuers, full chain; modes; switched as one set through "live";
 * previous sets kept and pruned; the earlier flat layout migrated), its
 * metadata read back by certfiles_load, and a failed store that leaves
 * the set alone. */
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acme_crypto.h"
#include "certfiles.h"
#include "keys.h"
#include "state.h"
#include "testlib.h"
#include "util.h"

static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn,
                       long serial, long days)
{
    X509 *x = X509_new();
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_NAME_free(n);
    X509_set_pubkey(x, key);
    /* SKI on the issuer, AKI on the leaf: the ARI CertID needs the AKI. */
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, issuer ? NID_authority_key_identifier
                                                               : NID_subject_key_identifier,
                                            issuer ? "keyid:always" : "hash");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    X509_sign(x, issuer_key, EVP_sha256());
    return x;
}

static char *slurp(const char *path)
{
    aro_err err;
    return file_read_all(path, 1 << 20, NULL, &err);
}

/* A symbolic link's target (malloc'd), or NULL. */
static char *link_of(const char *path)
{
    char buf[256];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (int)(st.st_mode & 0777);
}

/* The full chain as a CA sends it: leaf first, then the issuer. */
static char *chain_pem(X509 *leaf, X509 *ca)
{
    char *a = x509_to_pem(leaf), *b = x509_to_pem(ca);
    char *s = xasprintf("%s%s", a, b);
    free(a);
    free(b);
    return s;
}

int main(void)
{
    char tmpl[] = "/tmp/aro-test-certfiles.XXXXXX";
    char *tmp = mkdtemp(tmpl);
    CHECK(tmp != NULL);
    char *sdir = xasprintf("%s/state", tmp);
    aro_err err;
    state *st = state_open(sdir, &err);
    CHECK(st != NULL);
    if (!st)
        return testlib_finish();

    EVP_PKEY *cakey = key_generate(KEY_EC256), *k1 = key_generate(KEY_EC256),
             *k2 = key_generate(KEY_EC256);
    X509 *ca = make_cert(cakey, cakey, NULL, "Test Issuer", 1, 3650);
    X509 *leaf1 = make_cert(k1, cakey, ca, "www.example.com", 2, 90);
    X509 *leaf2 = make_cert(k2, cakey, ca, "www.example.com", 3, 30);
    char *full1 = chain_pem(leaf1, ca), *full2 = chain_pem(leaf2, ca);
    char *names[] = {"www.example.com", "example.com"};
    certfiles_origin from = {.server = "https://ca/dir", .names = names, .nnames = 2,
                             .order = "https://ca/order/1", .key_type = "ec256"};

    /* The first set. */
    char *fullchain = NULL;
    CHECK_INT_EQ(certfiles_store(st, &from, full1, strlen(full1), k1, &fullchain, &err), 0);
    char *dir = xasprintf("%s/certs/www.example.com", sdir);
    char *p_full = xasprintf("%s/fullchain.pem", dir), *p_cert = xasprintf("%s/cert.pem", dir),
         *p_chain = xasprintf("%s/chain.pem", dir), *p_key = xasprintf("%s/key.pem", dir);
    CHECK_STR_EQ(fullchain, p_full);
    free(fullchain);
    char *leaf1_pem = x509_to_pem(leaf1), *ca_pem = x509_to_pem(ca), *s;
    CHECK_STR_EQ(s = slurp(p_cert), leaf1_pem);
    free(s);
    CHECK_STR_EQ(s = slurp(p_chain), ca_pem);
    free(s);
    CHECK_STR_EQ(s = slurp(p_full), full1);
    free(s);
    /* The private key is for the owner only; the certificates are public. */
    CHECK_INT_EQ(mode_of(p_key), 0600);
    CHECK_INT_EQ(mode_of(p_cert), 0644);
    CHECK_INT_EQ(mode_of(p_full), 0644);
    EVP_PKEY *back = key_load_pem(p_key, &err);
    CHECK(back != NULL && key_public_equal(back, k1));
    EVP_PKEY_free(back);
    /* The names are links through "live" to the first set. */
    char *p_live = xasprintf("%s/live", dir), *p_cert1 = xasprintf("%s/sets/0/cert.pem", dir),
         *p_key1 = xasprintf("%s/sets/0/key.pem", dir);
    CHECK_STR_EQ(s = link_of(p_live), "sets/0");
    free(s);
    CHECK_STR_EQ(s = link_of(p_cert), "live/cert.pem");
    free(s);
    CHECK_STR_EQ(s = link_of(p_key), "live/key.pem");
    free(s);

    /* The metadata says what renew and list need. */
    certfiles_meta m;
    CHECK_INT_EQ(certfiles_load(st, "www.example.com", &m, &err), 0);
    CHECK_INT_EQ(m.nnames, 2);
    if (m.nnames == 2)
        CHECK_STR_EQ(m.names[1], "example.com");
    CHECK_STR_EQ(m.server, "https://ca/dir");
    CHECK_STR_EQ(m.fullchain, p_full);
    char *id1 = acme_ari_cert_id(leaf1);
    CHECK(id1 != NULL);
    CHECK_STR_EQ(m.ari_id, id1);
    time_t now = time(NULL);
    CHECK(m.not_before <= now && m.not_before > now - 60);
    CHECK(m.not_after - m.not_before == 90 * 86400);
    certfiles_meta_clear(&m);
    CHECK(m.names == NULL && m.server == NULL);

    /* The next certificate replaces every file and keeps the old ones. */
    from.order = "https://ca/order/2";
    CHECK_INT_EQ(certfiles_store(st, &from, full2, strlen(full2), k2, &fullchain, &err), 0);
    free(fullchain);
    char *leaf2_pem = x509_to_pem(leaf2);
    CHECK_STR_EQ(s = slurp(p_cert), leaf2_pem);
    free(s);
    CHECK_STR_EQ(s = slurp(p_cert1), leaf1_pem);
    free(s);
    CHECK_STR_EQ(s = link_of(p_live), "sets/1");
    free(s);
    back = key_load_pem(p_key1, &err);
    CHECK(back != NULL && key_public_equal(back, k1));
    EVP_PKEY_free(back);
    back = key_load_pem(p_key, &err);
    CHECK(back != NULL && key_public_equal(back, k2));
    EVP_PKEY_free(back);
    CHECK_INT_EQ(mode_of(p_key1), 0600);
    CHECK_INT_EQ(certfiles_load(st, "www.example.com", &m, &err), 0);
    char *id2 = acme_ari_cert_id(leaf2);
    CHECK_STR_EQ(m.ari_id, id2);
    CHECK(m.not_after - m.not_before == 30 * 86400);
    certfiles_meta_clear(&m);

    /* What is not a certificate is refused before any file is touched. */
    fullchain = NULL;
    CHECK_INT_EQ(certfiles_store(st, &from, "not a certificate", 17, k1, &fullchain, &err), -1);
    CHECK(fullchain == NULL);
    CHECK(err.msg[0] != '\0');
    CHECK_STR_EQ(s = slurp(p_cert), leaf2_pem);
    free(s);
    char *p_cert2 = xasprintf("%s/sets/2", dir);
    CHECK(access(p_cert2, F_OK) != 0);
    CHECK_STR_EQ(s = link_of(p_live), "sets/1");
    free(s);

    /* Six sets at most: the live one and STATE_KEEP_VERSIONS before it. */
    for (int i = 0; i < 6; i++) {
        CHECK_INT_EQ(certfiles_store(st, &from, full2, strlen(full2), k2, &fullchain, &err), 0);
        free(fullchain);
    }
    CHECK_STR_EQ(s = link_of(p_live), "sets/7");
    free(s);
    CHECK(access(p_cert1, F_OK) != 0);
    char *p_set2 = xasprintf("%s/sets/2/cert.pem", dir), *p_set1 = xasprintf("%s/sets/1", dir);
    CHECK(access(p_set2, F_OK) == 0);
    CHECK(access(p_set1, F_OK) != 0);
    free(p_set2);
    free(p_set1);

    /* The earlier flat layout: its files become set 0, the new set 1. */
    char *old = xasprintf("%s/certs/old.example.com", sdir);
    CHECK_INT_EQ(mkdir_p(old, 0700), 0);
    const char *files[] = {"key.pem", "cert.pem", "chain.pem", "fullchain.pem"};
    char *kp1 = key_to_pem(k1);
    const char *contents[] = {kp1, leaf1_pem, ca_pem, full1};
    for (int i = 0; i < 4; i++) {
        char *f = xasprintf("%s/%s", old, files[i]);
        CHECK_INT_EQ(file_write_atomic(f, contents[i], strlen(contents[i]), 0600, &err), 0);
        free(f);
    }
    free(kp1);
    char *oldnames[] = {"old.example.com"};
    certfiles_origin ofrom = {.server = "https://ca/dir", .names = oldnames, .nnames = 1,
                              .order = "https://ca/order/9", .key_type = "ec256"};
    CHECK_INT_EQ(certfiles_store(st, &ofrom, full2, strlen(full2), k2, &fullchain, &err), 0);
    free(fullchain);
    char *ocert = xasprintf("%s/cert.pem", old), *ocert0 = xasprintf("%s/sets/0/cert.pem", old),
         *olive = xasprintf("%s/live", old);
    CHECK_STR_EQ(s = slurp(ocert), leaf2_pem);
    free(s);
    CHECK_STR_EQ(s = slurp(ocert0), leaf1_pem);
    free(s);
    CHECK_STR_EQ(s = link_of(olive), "sets/1");
    free(s);
    free(ocert);
    free(ocert0);
    free(olive);
    free(old);
    back = key_load_pem(p_key, &err);
    CHECK(back != NULL && key_public_equal(back, k2));
    EVP_PKEY_free(back);

    /* A wildcard's directory has '_' for '*'; its metadata is under its name. */
    char *wild[] = {"*.example.com"};
    certfiles_origin wfrom = {.server = "https://ca/dir", .names = wild, .nnames = 1,
                              .order = "https://ca/order/3", .key_type = "ec256",
                              .profile = "shortlived"};
    CHECK_INT_EQ(certfiles_store(st, &wfrom, full1, strlen(full1), k1, &fullchain, &err), 0);
    char *wfull = xasprintf("%s/certs/_.example.com/fullchain.pem", sdir);
    CHECK_STR_EQ(fullchain, wfull);
    free(fullchain);
    CHECK_INT_EQ(certfiles_load(st, "*.example.com", &m, &err), 0);
    CHECK_STR_EQ(m.fullchain, wfull);
    certfiles_meta_clear(&m);
    char *json = NULL;
    CHECK_INT_EQ(state_cert_get(st, "*.example.com", &json, &err), 0);
    CHECK(json && strstr(json, "\"profile\":\"shortlived\"") && strstr(json, "\"keyType\":\"ec256\"") &&
          strstr(json, "\"order\":\"https://ca/order/3\""));
    free(json);

    /* Unknown names are an error, not an empty record. */
    CHECK_INT_EQ(certfiles_load(st, "nothing.example", &m, &err), -1);
    CHECK(strstr(err.msg, "nothing.example") != NULL);

    state_close(st);
    char *cmd = xasprintf("rm -rf '%s'", tmp);
    CHECK_INT_EQ(system(cmd), 0);
    free(cmd);
    free(wfull);
    free(p_cert2);
    free(id1);
    free(id2);
    free(leaf1_pem);
    free(leaf2_pem);
    free(ca_pem);
    free(p_cert1);
    free(p_key1);
    free(p_live);
    free(p_full);
    free(p_cert);
    free(p_chain);
    free(p_key);
    free(dir);
    free(full1);
    free(full2);
    X509_free(ca);
    X509_free(leaf1);
    X509_free(leaf2);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    free(sdir);
    return testlib_finish();
}
