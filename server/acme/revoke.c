#include "acme/revoke.h"

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "b64url.h"
#include "keys.h"
#include "store/repo.h"

static char *serial_hex_of(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *h = bn ? BN_bn2hex(bn) : NULL, *out = NULL;
    if (h) {
        out = xstrdup(h);
        for (char *p = out; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                *p = (char)(*p - 'A' + 'a');
    }
    OPENSSL_free(h);
    BN_free(bn);
    return out;
}

/* 7.6: the account holds valid authorizations for every name. */
static bool authorized_for_all(store_txn *t, const char *account_id, const rec_cert *c, time_t now)
{
    for (int pass = 0; pass < 2; pass++) {
        char **names = pass ? c->ips : c->dns;
        size_t n = pass ? c->nips : c->ndns;
        for (size_t i = 0; i < n; i++) {
            bool wildcard = strncmp(names[i], "*.", 2) == 0;
            acme_identifier id = {.type = pass ? "ip" : "dns", .value = names[i] + (wildcard ? 2 : 0)};
            rec_authz az;
            if (repo_authz_valid_for(t, account_id, &id, wildcard, now, now, &az) != 0)
                return false;
            rec_authz_clear(&az);
        }
    }
    return true;
}

void handle_revoke(server *srv, const http_request *rq, http_response *rs)
{
    acme_auth a;
    store_txn *t = NULL;
    X509 *x = NULL;
    unsigned char *der = NULL;
    size_t der_len = 0;
    char *serial = NULL;
    rec_cert c;
    bool have = false;
    if (auth_request(srv, rq, AUTH_EITHER, &a, rs) < 0)
        goto out;
    const char *cert_b64 = a.payload ? json_str(a.payload, "certificate") : NULL;
    long long reason = 0;
    aro_err err;
    if (!cert_b64 || json_get_int(a.payload, "reason", false, &reason, &err) < 0) {
        response_error(rs, "malformed", 400, "revokeCert needs {\"certificate\": \"<base64url DER>\", \"reason\": N}");
        goto out;
    }
    /* RFC 5280 5.3.1 codes a subscriber may use: not 2 (CA compromise),
     * 7 (unused), 8 (removeFromCRL), 10 (AA compromise); not 6
     * (certificateHold: the Baseline Requirements 7.2.2 forbid it) nor 9
     * (privilegeWithdrawn: BR 4.9.1.1 makes it the CA's to decide). */
    if (reason < 0 || reason > 10 || reason == 2 || reason == 6 || reason == 7 || reason == 8 || reason == 9 ||
        reason == 10) {
        response_error(rs, "badRevocationReason", 400, "reason %lld is not allowed", reason);
        goto out;
    }
    const unsigned char *p;
    if (b64url_decode(cert_b64, strlen(cert_b64), &der, &der_len) < 0 || !(p = der) ||
        !(x = d2i_X509(NULL, &p, (long)der_len)) || !ca_issued_by_us(srv->ca, x)) {
        response_error(rs, "malformed", 404, "the certificate was not issued by this CA");
        goto out;
    }
    serial = serial_hex_of(x);
    t = store_begin(srv->st, true);
    if (!t || !serial || repo_cert_get(t, serial, &c) != 0) {
        response_error(rs, "malformed", 404, "no such certificate");
        goto out;
    }
    have = true;
    bool allowed;
    if (a.has_acct) {
        allowed = strcmp(c.account_id, a.acct.id) == 0 ||
                  authorized_for_all(t, a.acct.id, &c, rq->now);
    } else {
        /* Signed with the certificate's own key (7.6). */
        EVP_PKEY *pub = X509_get0_pubkey(x);
        allowed = pub && key_public_equal(pub, a.key);
    }
    if (!allowed) {
        response_error(rs, "unauthorized", 403, "not authorized to revoke this certificate");
        goto out;
    }
    if (c.revoked) {
        response_error(rs, "alreadyRevoked", 400, "the certificate is already revoked");
        goto out;
    }
    c.revoked = true;
    c.reason = (int)reason;
    c.revoked_at = rq->now;
    if (repo_cert_save(t, &c) < 0 || store_commit(t, NULL) < 0) {
        t = NULL;
        response_store_error(rs);
        goto out;
    }
    t = NULL;
    rs->status = 200;
out:
    store_abort(t);
    if (have)
        rec_cert_clear(&c);
    X509_free(x);
    free(der);
    free(serial);
    auth_clear(&a);
}

