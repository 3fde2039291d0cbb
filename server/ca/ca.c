/* The certificate authority: the issuing hierarchies under DATA/ca, the
 * listener's HTTPS certificate, and leaf issuance (RFC 8555 7.4, 7.4.2).
 *
 * Layout of one hierarchy n (n = 0 .. alternate roots):
 *   root-n                   self-signed trust anchor
 *   intermediate-n-(N-1) ..  signed by the root, then each by the previous
 *   intermediate-n-0         the issuing CA, signs every leaf
 * N = chain_length - 2; with chain_length 2 the root itself is the issuing
 * CA.
 *
 * Alternate roots (Pebble's PEBBLE_ALTERNATE_ROOTS) are separate roots, not
 * cross-signatures. One leaf must chain to every one of them, so the issuing
 * CA of every hierarchy has the same subject name and the same key: the
 * leaf's issuer name and authority key identifier (RFC 5280 4.1.2.4,
 * 4.2.1.1) then match each hierarchy's issuing certificate, and its
 * signature verifies under each. With chain_length 2 the issuing CA is the
 * root, so the alternate roots share key and name and differ only in
 * serial number; that is the only way a directly-signed leaf can verify
 * under more than one root.
 *
 * Creation is crash-safe: everything is written into DATA/ca.tmp-XXXXXX,
 * which is renamed to DATA/ca only when complete; leftovers of an
 * interrupted creation are removed on the next start. After creation the
 * hierarchy is loaded back from disk by the same code that loads it on
 * every later start, so there is one path that checks the files.
 *
 * Thread safety: after ca_open nothing in struct ca is written. ca_issue
 * only reads it; the issuer name is kept as DER and decoded per call
 * because an X509_NAME caches its encodings lazily. The issuing key is an
 * EVP_PKEY shared read-only between threads, which OpenSSL 3 allows. */
#include "ca/ca.h"

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

#include "ca/internal.h"
#include "random.h"

/* ---- open and close ------------------------------------------------- */

static int config_apply(ca *c, const ca_config *cfg, aro_err *err)
{
    ca_config d;
    ca_config_defaults(&d);
    if (!cfg)
        cfg = &d;
    int chain = cfg->chain_length ? cfg->chain_length : CA_DEFAULT_CHAIN;
    c->kt = cfg->key_type;
    c->validity = cfg->validity_seconds ? cfg->validity_seconds : CA_DEFAULT_VALIDITY;
    if (chain < 2 || chain > CA_MAX_CHAIN) {
        aro_err_set(err, "chain length %d out of range 2..%d", chain, CA_MAX_CHAIN);
        return -1;
    }
    if (cfg->alternate_roots < 0 || cfg->alternate_roots > CA_MAX_ALTERNATES) {
        aro_err_set(err, "alternate roots %d out of range 0..%d", cfg->alternate_roots,
                    CA_MAX_ALTERNATES);
        return -1;
    }
    if (c->validity < 0) {
        aro_err_set(err, "negative certificate validity");
        return -1;
    }
    if (c->kt == KEY_ED25519) {
        aro_err_set(err, "Ed25519 is not supported for CA keys");
        return -1;
    }
    c->nint = chain - 2;
    c->nh = 1 + cfg->alternate_roots;
    return 0;
}

void ca_config_defaults(ca_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->key_type = KEY_EC256;
    cfg->chain_length = CA_DEFAULT_CHAIN;
    cfg->validity_seconds = CA_DEFAULT_VALIDITY;
}

ca *ca_open(const char *data_dir, const ca_config *cfg, aro_err *err)
{
    ca *c = xcalloc(1, sizeof *c);
    if (config_apply(c, cfg, err) < 0)
        goto fail;
    c->h = xcalloc((size_t)c->nh, sizeof *c->h);
    if (mkdir_p(data_dir, 0700) < 0) {
        aro_err_set(err, "cannot create %s: %s", data_dir, strerror(errno));
        goto fail;
    }
    if (ca_hierarchies_open(c, data_dir, err) < 0 || ca_https_open(c, data_dir, cfg, err) < 0)
        goto fail;
    return c;
fail:
    ca_close(c);
    return NULL;
}

void ca_close(ca *c)
{
    if (!c)
        return;
    for (int n = 0; c->h && n < c->nh; n++)
        ca_hierarchy_free(&c->h[n], c->nint);
    free(c->h);
    OPENSSL_free(c->issuer_name_der);
    free(c->https_cert);
    free(c->https_key);
    free(c);
}

/* ---- issuance -------------------------------------------------------- */

/* The leaf's extensions (RFC 8555 7.4 leaves the profile to the CA; this
 * is the usual TLS server profile). */
static int leaf_extensions(const ca *c, X509 *x, const csr_info *csr, bool empty_subject,
                           aro_err *err)
{
    unsigned ku = 1u << KU_BIT_DIGITAL_SIGNATURE;
    /* RSA keys can also be used for RSA key transport in TLS 1.2. */
    if (EVP_PKEY_is_a(csr->pubkey, "RSA"))
        ku |= 1u << KU_BIT_KEY_ENCIPHERMENT;
    /* RFC 5280 4.2.1.6: with an empty subject the SAN MUST be critical. */
    if (ca_add_san(x, (const char *const *)csr->dns, csr->ndns, (const char *const *)csr->ips,
                csr->nips, empty_subject, err) < 0 ||
        ca_add_basic_constraints(x, false, -1, err) < 0 || ca_add_key_usage(x, ku, err) < 0 ||
        ca_add_eku_server_auth(x, err) < 0 || ca_add_ski(x, err) < 0 ||
        ca_add_aki(x, c->issuer_skid, c->issuer_skid_len, err) < 0)
        return -1;
    return 0;
}

/* chain_pem[i]: the leaf followed by hierarchy i's intermediates. */
static void issued_fill(const ca *c, X509 *leaf, ca_issued *out)
{
    out->leaf_pem = x509_to_pem(leaf);
    out->ari_id = acme_ari_cert_id(leaf);
    out->nchains = c->nh;
    out->chain_pem = xcalloc((size_t)c->nh, sizeof *out->chain_pem);
    for (int n = 0; n < c->nh; n++)
        out->chain_pem[n] = xasprintf("%s%s", out->leaf_pem, c->h[n].chain_tail);
}

int ca_issue(ca *c, const csr_info *csr, time_t not_before, time_t not_after, ca_issued *out,
             aro_err *err)
{
    int rc = -1;
    X509 *x = NULL;
    X509_NAME *iname = NULL;
    const unsigned char *p = c->issuer_name_der;
    memset(out, 0, sizeof *out);
    if (!csr->pubkey || csr->ndns + csr->nips == 0) {
        aro_err_set(err, "CSR has no public key or no names");
        goto out;
    }
    out->not_before = not_before ? not_before : time(NULL) - LEAF_BACKDATE;
    out->not_after = not_after ? not_after : out->not_before + c->validity;
    if (out->not_after <= out->not_before) {
        aro_err_set(err, "certificate would expire before it begins");
        goto out;
    }
    if (out->not_after > ca_chain_not_after(c)) {
        aro_err_set(err, "certificate would outlive its issuing chain");
        goto out;
    }
    /* CN only when it fits ub-common-name (RFC 5280 Appendix A: 64). */
    const char *cn = csr->ndns && strlen(csr->dns[0]) <= 64 ? csr->dns[0] : NULL;
    x = ca_cert_skeleton(cn, csr->spki ? NULL : csr->pubkey, out->not_before, out->not_after, out->serial_hex,
                         err);
    if (!x || (csr->spki && ca_copy_spki(x, csr->spki, err) < 0))
        goto out;
    if (!(iname = d2i_X509_NAME(NULL, &p, c->issuer_name_len)) || !X509_set_issuer_name(x, iname)) {
        ca_ossl_fail(err, "cannot set issuer name");
        goto out;
    }
    if (leaf_extensions(c, x, csr, cn == NULL, err) < 0)
        goto out;
    if (X509_sign(x, c->issuer_key, c->md) <= 0) {
        ca_ossl_fail(err, "cannot sign certificate");
        goto out;
    }
    issued_fill(c, x, out);
    rc = out->leaf_pem ? 0 : -1;
    if (rc < 0)
        ca_ossl_fail(err, "cannot encode certificate");
out:
    if (rc < 0)
        ca_issued_clear(out);
    X509_NAME_free(iname);
    X509_free(x);
    return rc;
}

void ca_issued_clear(ca_issued *i)
{
    if (!i)
        return;
    free(i->leaf_pem);
    free(i->ari_id);
    for (int n = 0; i->chain_pem && n < i->nchains; n++)
        free(i->chain_pem[n]);
    free(i->chain_pem);
    memset(i, 0, sizeof *i);
}

/* ---- accessors and issuer check ------------------------------------- */

int ca_hierarchies(const ca *c) { return c->nh; }

long ca_leaf_validity(const ca *c) { return c->validity; }

static time_t not_after_of(const X509 *x)
{
    struct tm tm;
    if (!x || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
        return 0;
    return timegm(&tm);
}

time_t ca_chain_not_after(const ca *c)
{
    time_t earliest = 0;
    for (int n = 0; n < c->nh; n++) {
        const struct hierarchy *h = &c->h[n];
        for (int i = -1; i < c->nint; i++) {
            time_t t = not_after_of(i < 0 ? h->root : h->inter[i]);
            if (!earliest || t < earliest)
                earliest = t;
        }
    }
    return earliest;
}

const char *ca_root_pem(const ca *c, int n)
{
    return n >= 0 && n < c->nh ? c->h[n].root_pem : NULL;
}

const char *ca_root_key_pem(const ca *c, int n)
{
    return n >= 0 && n < c->nh ? c->h[n].root_key_pem : NULL;
}

const char *ca_intermediate_pem(const ca *c, int n)
{
    return n >= 0 && n < c->nh ? c->h[n].issuer_pem : NULL;
}

const char *ca_intermediate_key_pem(const ca *c, int n)
{
    return n >= 0 && n < c->nh ? c->h[n].issuer_key_pem : NULL;
}

const char *ca_https_cert_path(const ca *c) { return c->https_cert; }
const char *ca_https_key_path(const ca *c) { return c->https_key; }

/* Ours when the issuer name and authority key identifier are those of our
 * issuing CA (RFC 5280 4.1.2.4, 4.2.1.1) and the signature verifies with
 * its key; the last is what matters, the first two make a foreign
 * certificate fail fast and clearly. */
bool ca_issued_by_us(const ca *c, X509 *cert)
{
    bool ok = false;
    const unsigned char *p = c->issuer_name_der;
    X509_NAME *ours = d2i_X509_NAME(NULL, &p, c->issuer_name_len);
    AUTHORITY_KEYID *akid = X509_get_ext_d2i(cert, NID_authority_key_identifier, NULL, NULL);
    if (!ours || !akid || !akid->keyid ||
        X509_NAME_cmp(X509_get_issuer_name(cert), ours) != 0)
        goto out;
    if (ASN1_STRING_length(akid->keyid) != c->issuer_skid_len ||
        memcmp(ASN1_STRING_get0_data(akid->keyid), c->issuer_skid, (size_t)c->issuer_skid_len))
        goto out;
    ok = X509_verify(cert, c->issuer_key) == 1;
out:
    ERR_clear_error();
    AUTHORITY_KEYID_free(akid);
    X509_NAME_free(ours);
    return ok;
}

