/* The CA: creation and reload of the hierarchy files, the leaf profile,
 * chain verification under every root as `openssl verify -CAfile root
 * -untrusted chain` would do it (purpose sslserver, X509_STRICT as Python
 * 3.13 uses), the HTTPS certificate, ca_issued_by_us, and the refusals. */
#include <arpa/inet.h>
#include <ftw.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/ca.h"
#include "testlib.h"

static char tmpdir[] = "/tmp/aro-test-ca-XXXXXX";

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static bool exists(const char *dir, const char *name)
{
    char *p = xasprintf("%s/%s", dir, name);
    struct stat st;
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

static int file_mode(const char *dir, const char *name)
{
    char *p = xasprintf("%s/%s", dir, name);
    struct stat st;
    int mode = stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
    free(p);
    return mode;
}

static X509 *pem_cert(const char *pem)
{
    X509 **certs = NULL;
    aro_err err;
    X509 *x = NULL;
    int n = x509_chain_from_pem(pem, strlen(pem), &certs, &err);
    if (n >= 1) {
        x = certs[0];
        for (int i = 1; i < n; i++)
            X509_free(certs[i]);
    }
    free(certs);
    return x;
}

/* A parsed CSR for names, with a fresh key of type kt. */
static int make_csr(key_type kt, const char *const *names, size_t n, csr_info *out)
{
    aro_err err;
    unsigned char *der = NULL;
    size_t len = 0;
    EVP_PKEY *key = key_generate(kt);
    int rc = csr_create_der(key, names, n, &der, &len, &err);
    if (rc == 0)
        rc = csr_parse_der(der, len, out, &err);
    if (rc < 0)
        fprintf(stderr, "csr: %s\n", err.msg);
    free(der);
    EVP_PKEY_free(key);
    return rc;
}

/* `openssl verify -CAfile root -untrusted chain -purpose sslserver
 * -x509_strict [-verify_hostname host]` in C. */
static int verify_chain(const char *root_pem, const char *chain_pem, const char *host,
                        const char *ip)
{
    X509 **certs = NULL;
    aro_err err;
    int n = x509_chain_from_pem(chain_pem, strlen(chain_pem), &certs, &err);
    X509 *root = pem_cert(root_pem);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int rc = -1;
    if (n < 1 || !root || !X509_STORE_add_cert(store, root))
        goto out;
    for (int i = 1; i < n; i++)
        sk_X509_push(untrusted, certs[i]);
    if (!X509_STORE_CTX_init(ctx, store, certs[0], untrusted))
        goto out;
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT);
    if (host)
        X509_VERIFY_PARAM_set1_host(vp, host, 0);
    if (ip)
        X509_VERIFY_PARAM_set1_ip_asc(vp, ip);
    /* 0 or the X509_V_ERR_ code, which CHECK_INT_EQ then shows. */
    rc = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
out:
    ERR_clear_error();
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(root);
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    return rc;
}

static int count_certs(const char *pem)
{
    int n = 0;
    for (const char *p = pem; (p = strstr(p, "-----BEGIN CERTIFICATE-----")); p++)
        n++;
    return n;
}

/* Names in the SAN, as "DNS:x" / "IP:y", comma-separated. */
static char *san_string(X509 *x, int *critical)
{
    aro_buf b = {0};
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, critical, NULL);
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (i)
            buf_puts(&b, ",");
        if (g->type == GEN_DNS) {
            buf_printf(&b, "DNS:%s", (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            char ip[INET6_ADDRSTRLEN] = "?";
            int len = ASN1_STRING_length(g->d.iPAddress);
            if (len == 4 || len == 16)
                inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress),
                          ip, sizeof ip);
            buf_printf(&b, "IP:%s", ip);
        }
    }
    GENERAL_NAMES_free(gens);
    buf_puts(&b, "");
    return buf_steal(&b);
}

static void check_leaf_profile(X509 *leaf, bool rsa)
{
    int crit = -1;
    char *san = san_string(leaf, &crit);
    CHECK_STR_EQ(san, "DNS:a.example.com,DNS:b.example.com,IP:192.0.2.7");
    CHECK_INT_EQ(crit, 0);
    free(san);

    char cn[128] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn);
    CHECK_STR_EQ(cn, "a.example.com");

    CHECK(X509_get_extended_key_usage(leaf) == XKU_SSL_SERVER);
    CHECK(X509_get_key_usage(leaf) ==
          (rsa ? (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT) : KU_DIGITAL_SIGNATURE));
    int ku_crit = -1, bc_crit = -1;
    ASN1_BIT_STRING *ku = X509_get_ext_d2i(leaf, NID_key_usage, &ku_crit, NULL);
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(leaf, NID_basic_constraints, &bc_crit, NULL);
    CHECK_INT_EQ(ku_crit, 1);
    CHECK_INT_EQ(bc_crit, 1);
    CHECK(bc && !bc->ca);
    ASN1_BIT_STRING_free(ku);
    BASIC_CONSTRAINTS_free(bc);
    CHECK(X509_get0_subject_key_id(leaf) != NULL);
    CHECK(X509_get0_authority_key_id(leaf) != NULL);
    CHECK_INT_EQ(X509_get_version(leaf), X509_VERSION_3);
}

static void check_serial(X509 *leaf, const char *hex)
{
    const ASN1_INTEGER *s = X509_get0_serialNumber(leaf);
    BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
    char *h = BN_bn2hex(bn);
    CHECK(!BN_is_negative(bn) && !BN_is_zero(bn));
    CHECK(BN_num_bits(bn) <= 159);
    CHECK(ASN1_STRING_length(s) <= 20);
    CHECK(strlen(hex) >= 2 && strlen(hex) <= 40 && strlen(hex) % 2 == 0);
    CHECK(strcasecmp(h, hex) == 0);
    for (const char *p = hex; *p; p++)
        CHECK(strchr("0123456789abcdef", *p) != NULL);
    OPENSSL_free(h);
    BN_free(bn);
}

static time_t asn1_to_time(const ASN1_TIME *t)
{
    struct tm tm;
    ASN1_TIME_to_tm(t, &tm);
    return timegm(&tm);
}

static void check_issue(ca *c, int chain_length, key_type leaf_kt)
{
    static const char *const names[] = {"a.example.com", "b.example.com", "192.0.2.7"};
    csr_info csr = {0};
    ca_issued is;
    aro_err err;
    CHECK(make_csr(leaf_kt, names, 3, &csr) == 0);
    time_t before = time(NULL);
    int rc = ca_issue(c, &csr, 0, 0, &is, &err);
    CHECK_INT_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "ca_issue: %s\n", err.msg);
        csr_info_free(&csr);
        return;
    }
    X509 *leaf = pem_cert(is.leaf_pem);
    CHECK(leaf != NULL);
    check_leaf_profile(leaf, leaf_kt == KEY_RSA2048);
    check_serial(leaf, is.serial_hex);
    /* The serial begins with the issuance time in milliseconds (then 112
     * random bits), so that the store takes it near the last one. */
    unsigned char raw[20];
    BIGNUM *sn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    CHECK(sn && BN_bn2binpad(sn, raw, sizeof raw) == 20);
    BN_free(sn);
    unsigned long long ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | raw[i];
    /* The serial's clock is CLOCK_REALTIME; time() may read the coarse
     * clock, a tick behind it, so the bound after is taken from the same
     * clock as the serial (else an issuance just past a second boundary
     * fails the check now and then). */
    struct timespec after;
    clock_gettime(CLOCK_REALTIME, &after);
    CHECK((time_t)(ms / 1000) >= before && (time_t)(ms / 1000) <= after.tv_sec);
    CHECK(is.not_before >= before - 61 && is.not_before <= time(NULL) - 59);
    CHECK_INT_EQ(is.not_after - is.not_before, 90L * 86400);
    CHECK_INT_EQ(asn1_to_time(X509_get0_notBefore(leaf)), is.not_before);
    CHECK_INT_EQ(asn1_to_time(X509_get0_notAfter(leaf)), is.not_after);
    CHECK(ca_issued_by_us(c, leaf));

    CHECK_INT_EQ(is.nchains, ca_hierarchies(c));
    for (int i = 0; i < is.nchains; i++) {
        CHECK_INT_EQ(count_certs(is.chain_pem[i]), chain_length - 1);
        CHECK(strncmp(is.chain_pem[i], is.leaf_pem, strlen(is.leaf_pem)) == 0);
        CHECK_INT_EQ(verify_chain(ca_root_pem(c, i), is.chain_pem[i], "b.example.com", NULL), 0);
        CHECK_INT_EQ(verify_chain(ca_root_pem(c, i), is.chain_pem[i], NULL, "192.0.2.7"), 0);
        CHECK(verify_chain(ca_root_pem(c, i), is.chain_pem[i], "c.example.com", NULL) != 0);
        /* Separate hierarchies: intermediates of one do not lead to another's root
         * (with chain length 2 there are none and the roots share the key). */
        if (chain_length > 2)
            CHECK(verify_chain(ca_root_pem(c, (i + 1) % is.nchains), is.chain_pem[i],
                               NULL, NULL) != 0);
    }
    X509_free(leaf);
    ca_issued_clear(&is);
    csr_info_free(&csr);
}

static ca *open_ca(const char *dir, key_type kt, int chain, int alt)
{
    ca_config cfg;
    aro_err err;
    ca_config_defaults(&cfg);
    cfg.key_type = kt;
    cfg.chain_length = chain;
    cfg.alternate_roots = alt;
    ca *c = ca_open(dir, &cfg, &err);
    if (!c)
        fprintf(stderr, "ca_open %s (chain %d, %d alternates): %s\n", dir, chain, alt,
                err.msg);
    return c;
}

/* Create, reopen, issue, for one chain length with one alternate root. */
static void test_chain(int chain)
{
    char *dir = xasprintf("%s/chain%d", tmpdir, chain);
    char *cadir = xasprintf("%s/ca", dir);
    ca *c = open_ca(dir, KEY_EC256, chain, 1);
    CHECK(c != NULL);
    if (!c)
        goto out;
    CHECK_INT_EQ(ca_hierarchies(c), 2);
    CHECK(exists(cadir, "root-0.pem") && exists(cadir, "root-0.key"));
    CHECK(exists(cadir, "root-1.pem") && exists(cadir, "root-1.key"));
    CHECK(!exists(cadir, "root-2.pem"));
    CHECK_INT_EQ(file_mode(cadir, "root-0.key"), 0600);
    for (int m = 0; m < chain - 2; m++) {
        char name[64];
        snprintf(name, sizeof name, "intermediate-1-%d.pem", m);
        CHECK(exists(cadir, name));
        snprintf(name, sizeof name, "intermediate-0-%d.key", m);
        CHECK_INT_EQ(file_mode(cadir, name), 0600);
    }
    CHECK(ca_root_pem(c, 2) == NULL && ca_root_pem(c, -1) == NULL);
    CHECK(strcmp(ca_root_pem(c, 0), ca_root_pem(c, 1)) != 0);
    CHECK(strstr(ca_root_key_pem(c, 0), "PRIVATE KEY") != NULL);
    CHECK(strstr(ca_intermediate_key_pem(c, 0), "PRIVATE KEY") != NULL);

    char *root0 = xstrdup(ca_root_pem(c, 0)), *root1 = xstrdup(ca_root_pem(c, 1));
    char *inter0 = xstrdup(ca_intermediate_pem(c, 0));
    char *https = NULL;
    size_t hl = 0;
    aro_err err;
    https = file_read_all(ca_https_cert_path(c), 1 << 20, &hl, &err);
    ca_close(c);

    c = open_ca(dir, KEY_EC256, chain, 1);
    CHECK(c != NULL);
    if (c) {
        CHECK_STR_EQ(ca_root_pem(c, 0), root0);
        CHECK_STR_EQ(ca_root_pem(c, 1), root1);
        CHECK_STR_EQ(ca_intermediate_pem(c, 0), inter0);
        char *https2 = file_read_all(ca_https_cert_path(c), 1 << 20, &hl, &err);
        CHECK_STR_EQ(https2, https);
        free(https2);
        check_issue(c, chain, KEY_EC256);
        check_issue(c, chain, KEY_RSA2048);
        ca_close(c);
    }
    /* Another shape over existing files is refused, not silently changed. */
    c = open_ca(dir, KEY_EC256, chain == 2 ? 3 : chain - 1, 1);
    CHECK(c == NULL);
    ca_close(c);
    c = open_ca(dir, KEY_EC256, chain, 0);
    CHECK(c == NULL);
    ca_close(c);
    free(root0);
    free(root1);
    free(inter0);
    free(https);
out:
    free(dir);
    free(cadir);
}

static void test_https(void)
{
    char *dir = xasprintf("%s/https", tmpdir);
    ca *c = open_ca(dir, KEY_EC256, 3, 0);
    CHECK(c != NULL);
    if (!c)
        goto out;
    char *expect = xasprintf("%s/https-cert.pem", dir);
    CHECK_STR_EQ(ca_https_cert_path(c), expect);
    free(expect);
    CHECK_INT_EQ(file_mode(dir, "https-key.pem"), 0600);
    aro_err err;
    size_t len;
    char *pem = file_read_all(ca_https_cert_path(c), 1 << 20, &len, &err);
    X509 *x = pem ? pem_cert(pem) : NULL;
    CHECK(x != NULL);
    if (x) {
        int crit = -1;
        char *san = san_string(x, &crit);
        CHECK_STR_EQ(san, "DNS:localhost,IP:127.0.0.1,IP:::1");
        free(san);
        BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
        CHECK(bc && bc->ca);
        CHECK_INT_EQ(crit, 1);
        BASIC_CONSTRAINTS_free(bc);
        CHECK(X509_get_key_usage(x) == (KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN));
        CHECK(X509_get_extended_key_usage(x) == XKU_SSL_SERVER);
        EVP_PKEY *pub = X509_get0_pubkey(x);
        CHECK(EVP_PKEY_is_a(pub, "EC") && EVP_PKEY_get_bits(pub) == 256);
        long life = (long)(asn1_to_time(X509_get0_notAfter(x)) -
                           asn1_to_time(X509_get0_notBefore(x)));
        CHECK(life >= 5 * 365L * 86400 && life <= 5 * 366L * 86400);
        CHECK(X509_check_issued(x, x) == X509_V_OK);
        /* Trusted as its own anchor, for each name it serves. */
        CHECK_INT_EQ(verify_chain(pem, pem, "localhost", NULL), 0);
        CHECK_INT_EQ(verify_chain(pem, pem, NULL, "127.0.0.1"), 0);
        CHECK_INT_EQ(verify_chain(pem, pem, NULL, "::1"), 0);
        CHECK(verify_chain(pem, pem, "example.com", NULL) != 0);
    }
    X509_free(x);
    free(pem);
    ca_close(c);

    /* Given paths are used as they are. */
    ca_config cfg;
    ca_config_defaults(&cfg);
    char *cert = xasprintf("%s/https-cert.pem", dir), *key = xasprintf("%s/https-key.pem", dir);
    char *dir2 = xasprintf("%s/https2", tmpdir);
    cfg.https_cert = cert;
    cfg.https_key = key;
    c = ca_open(dir2, &cfg, &err);
    CHECK(c != NULL);
    if (c) {
        CHECK_STR_EQ(ca_https_cert_path(c), cert);
        CHECK_STR_EQ(ca_https_key_path(c), key);
        CHECK(!exists(dir2, "https-cert.pem"));
    }
    ca_close(c);
    cfg.https_key = "/nonexistent/key.pem";
    c = ca_open(dir2, &cfg, &err);
    CHECK(c == NULL);
    ca_close(c);
    free(cert);
    free(key);
    free(dir2);
out:
    free(dir);
}

/* A foreign self-signed certificate. */
static X509 *self_signed(void)
{
    X509 *x = X509_new();
    EVP_PKEY *k = key_generate(KEY_EC256);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
    X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_commonName, MBSTRING_UTF8,
                               (const unsigned char *)"foreign", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_sign(x, k, EVP_sha256());
    EVP_PKEY_free(k);
    return x;
}

static void test_issued_by_us(void)
{
    char *dir = xasprintf("%s/byus", tmpdir);
    ca *c = open_ca(dir, KEY_EC256, 3, 0);
    CHECK(c != NULL);
    if (!c)
        goto out;
    /* The HTTPS certificate is ours on disk but not issued by the CA. */
    aro_err err;
    size_t len;
    char *pem = file_read_all(ca_https_cert_path(c), 1 << 20, &len, &err);
    X509 *x = pem_cert(pem);
    CHECK(x && !ca_issued_by_us(c, x));
    X509_free(x);
    free(pem);
    /* Nor is the issuing CA's own certificate. */
    x = pem_cert(ca_intermediate_pem(c, 0));
    CHECK(x && !ca_issued_by_us(c, x));
    X509_free(x);
    x = self_signed();
    CHECK(x && !ca_issued_by_us(c, x));
    X509_free(x);
    /* Another CA instance's leaf is not ours. */
    char *dir2 = xasprintf("%s/byus2", tmpdir);
    ca *other = open_ca(dir2, KEY_EC256, 3, 0);
    static const char *const names[] = {"x.example"};
    csr_info csr = {0};
    ca_issued is;
    CHECK(other && make_csr(KEY_EC256, names, 1, &csr) == 0);
    if (other && ca_issue(other, &csr, 0, 0, &is, &err) == 0) {
        x = pem_cert(is.leaf_pem);
        CHECK(!ca_issued_by_us(c, x));
        CHECK(ca_issued_by_us(other, x));
        X509_free(x);
        ca_issued_clear(&is);
    }
    /* Our issuer name and AKI with someone else's signature is not ours. */
    if (ca_issue(c, &csr, 0, 0, &is, &err) == 0) {
        x = pem_cert(is.leaf_pem);
        CHECK(ca_issued_by_us(c, x));
        EVP_PKEY *k = key_generate(KEY_EC256);
        X509_sign(x, k, EVP_sha256());
        CHECK(!ca_issued_by_us(c, x));
        EVP_PKEY_free(k);
        X509_free(x);
        ca_issued_clear(&is);
    }
    csr_info_free(&csr);
    ca_close(other);
    free(dir2);
    ca_close(c);
out:
    free(dir);
}

/* Explicit validity, a name too long for the CN, IP-only. */
static void test_leaf_variants(void)
{
    char *dir = xasprintf("%s/variants", tmpdir);
    ca *c = open_ca(dir, KEY_EC384, 3, 0);
    CHECK(c != NULL);
    if (!c)
        goto out;
    char longname[80];
    memset(longname, 'a', 70);
    strcpy(longname + 70, ".example");
    const char *names[] = {longname, "short.example"};
    csr_info csr = {0};
    ca_issued is;
    aro_err err;
    CHECK(make_csr(KEY_EC256, names, 2, &csr) == 0);
    CHECK(ca_issue(c, &csr, 1700000000, 1700086400, &is, &err) == 0);
    X509 *x = pem_cert(is.leaf_pem);
    CHECK(x != NULL);
    if (x) {
        CHECK_INT_EQ(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
        int crit = -1;
        char *san = san_string(x, &crit);
        CHECK_INT_EQ(crit, 1);     /* RFC 5280 4.2.1.6, empty subject */
        free(san);
        CHECK_INT_EQ(asn1_to_time(X509_get0_notBefore(x)), 1700000000);
        CHECK_INT_EQ(asn1_to_time(X509_get0_notAfter(x)), 1700086400);
        /* A P-384 issuer signs with SHA-384. */
        CHECK_INT_EQ(X509_get_signature_nid(x), NID_ecdsa_with_SHA384);
        CHECK(ca_issued_by_us(c, x));
    }
    X509_free(x);
    ca_issued_clear(&is);
    /* not_after before not_before is refused. */
    CHECK(ca_issue(c, &csr, 1700000000, 1600000000, &is, &err) < 0);
    csr_info_free(&csr);

    const char *ips[] = {"2001:db8::1"};
    CHECK(make_csr(KEY_EC256, ips, 1, &csr) == 0);
    CHECK(ca_issue(c, &csr, 0, 0, &is, &err) == 0);
    if (is.leaf_pem)
        CHECK_INT_EQ(verify_chain(ca_root_pem(c, 0), is.chain_pem[0], NULL, "2001:db8::1"), 0);
    ca_issued_clear(&is);
    csr_info_free(&csr);
    ca_close(c);
out:
    free(dir);
}

static void test_rsa(void)
{
    char *dir = xasprintf("%s/rsa", tmpdir);
    ca *c = open_ca(dir, KEY_RSA2048, 3, 1);
    CHECK(c != NULL);
    if (c) {
        X509 *root = pem_cert(ca_root_pem(c, 0));
        EVP_PKEY *pub = X509_get0_pubkey(root);
        CHECK(EVP_PKEY_is_a(pub, "RSA") && EVP_PKEY_get_bits(pub) == 2048);
        CHECK_INT_EQ(X509_get_signature_nid(root), NID_sha256WithRSAEncryption);
        X509_free(root);
        check_issue(c, 3, KEY_EC256);
        ca_close(c);
    }
    /* The same files opened as EC are refused. */
    c = open_ca(dir, KEY_EC256, 3, 1);
    CHECK(c == NULL);
    ca_close(c);
    free(dir);
}

/* The refusals and crash recovery of ca_open. */
static void test_open_errors(void)
{
    char *dir = xasprintf("%s/errors", tmpdir);
    ca *c = open_ca(dir, KEY_ED25519, 3, 0);
    CHECK(c == NULL);
    c = open_ca(dir, KEY_EC256, 7, 0);
    CHECK(c == NULL);
    c = open_ca(dir, KEY_EC256, 1, 0);
    CHECK(c == NULL);
    CHECK(!exists(dir, "ca"));

    /* An interrupted creation left a partial temporary directory: it is
     * removed and a complete hierarchy created. */
    char *stale = xasprintf("%s/ca.tmp-abcdef", dir);
    mkdir_p(stale, 0700);
    char *junk = xasprintf("%s/root-0.key", stale);
    file_write_atomic(junk, "junk", 4, 0600, &(aro_err){0});
    c = open_ca(dir, KEY_EC256, 3, 0);
    CHECK(c != NULL);
    CHECK(!exists(dir, "ca.tmp-abcdef"));
    CHECK(exists(dir, "ca/root-0.pem"));
    ca_close(c);

    /* An interrupted HTTPS creation (key without certificate) is redone. */
    char *hc = xasprintf("%s/https-cert.pem", dir);
    unlink(hc);
    c = open_ca(dir, KEY_EC256, 3, 0);
    CHECK(c != NULL);
    CHECK(exists(dir, "https-cert.pem"));
    ca_close(c);

    /* Files that do not belong together are refused. */
    char *k0 = xasprintf("%s/ca/intermediate-0-0.key", dir);
    EVP_PKEY *k = key_generate(KEY_EC256);
    CHECK(key_save_pem(k, k0, &(aro_err){0}) == 0);
    EVP_PKEY_free(k);
    c = open_ca(dir, KEY_EC256, 3, 0);
    CHECK(c == NULL);
    ca_close(c);
    free(k0);
    free(hc);
    free(junk);
    free(stale);
    free(dir);
}

struct thread_arg {
    ca *c;
    csr_info *csr;
    int failures;
};

static void *issue_many(void *p)
{
    struct thread_arg *a = p;
    for (int i = 0; i < 25; i++) {
        ca_issued is;
        aro_err err;
        if (ca_issue(a->c, a->csr, 0, 0, &is, &err) < 0) {
            a->failures++;
            continue;
        }
        X509 *x = pem_cert(is.leaf_pem);
        if (!x || !ca_issued_by_us(a->c, x))
            a->failures++;
        X509_free(x);
        ca_issued_clear(&is);
    }
    return NULL;
}

static void test_threads(void)
{
    char *dir = xasprintf("%s/threads", tmpdir);
    ca *c = open_ca(dir, KEY_EC256, 3, 1);
    static const char *const names[] = {"t.example"};
    csr_info csr = {0};
    CHECK(c && make_csr(KEY_EC256, names, 1, &csr) == 0);
    if (c) {
        pthread_t t[4];
        struct thread_arg a[4];
        for (int i = 0; i < 4; i++) {
            a[i] = (struct thread_arg){c, &csr, 0};
            pthread_create(&t[i], NULL, issue_many, &a[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(t[i], NULL);
            CHECK_INT_EQ(a[i].failures, 0);
        }
    }
    csr_info_free(&csr);
    ca_close(c);
    free(dir);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_chain(2);
    test_chain(3);
    test_chain(4);
    test_chain(6);
    test_https();
    test_issued_by_us();
    test_leaf_variants();
    test_rsa();
    test_open_errors();
    test_threads();
    rm_rf(tmpdir);
    return testlib_finish();
}
