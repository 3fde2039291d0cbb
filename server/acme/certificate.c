/* Finalization and issuance (7.4), certificate download (7.4.2),
 * revocation (7.6), renewal information (RFC 9773). */
#include <openssl/bn.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acme/auth.h"
#include "b64url.h"
#include "store/db.h"
#include "acme/handlers.h"
#include "keys.h"
#include "rules/lifecycle.h"
#include "core/metrics.h"
#include "rules/policy.h"
#include "acme/render.h"
#include "jobs/workers.h"
#include "jobs/writer.h"

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

/* ---- finalize ---- */

static bool names_match_order(const rec_order *o, const csr_info *csr, char *why, size_t whylen)
{
    size_t want = o->nidentifiers, got = csr->ndns + csr->nips;
    for (size_t i = 0; i < o->nidentifiers; i++) {
        const acme_identifier *id = &o->identifiers[i];
        bool found = strcmp(id->type, "dns") == 0 ? strv_contains(csr->dns, csr->ndns, id->value)
                                                  : strv_contains(csr->ips, csr->nips, id->value);
        if (!found) {
            snprintf(why, whylen, "the CSR lacks the order's identifier \"%s\"", id->value);
            return false;
        }
    }
    if (got != want) {
        snprintf(why, whylen, "the CSR names %zu identifiers, the order %zu: they must be the same", got, want);
        return false;
    }
    return true;
}

/* CA/Browser Forum key policy: RSA 2048-4096 bits (multiple of 8), EC
 * P-256 or P-384. */
static bool key_allowed(EVP_PKEY *k, char *why, size_t whylen)
{
    int id = EVP_PKEY_get_base_id(k);
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(k);
        if (bits < 2048 || bits > 4096 || bits % 8) {
            snprintf(why, whylen, "RSA keys must have 2048 to 4096 bits (this one has %d)", bits);
            return false;
        }
        return true;
    }
    if (id == EVP_PKEY_EC) {
        char curve[32] = "";
        size_t cl = 0;
        EVP_PKEY_get_utf8_string_param(k, "group", curve, sizeof(curve), &cl);
        if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "secp384r1") == 0)
            return true;
        snprintf(why, whylen, "EC keys must be P-256 or P-384 (not %s)", curve);
        return false;
    }
    snprintf(why, whylen, "the CSR's key type is not accepted (RSA, P-256, P-384)");
    return false;
}

typedef struct {
    server *srv;
    char order_id[ID_LEN];
    unsigned char *csr;
    size_t csr_len;
} issuance_job;

static void finish_issuance(issuance_job *j, ca_issued *iss, const char *failure)
{
    server *srv = j->srv;
    rec_order o;
    rec_cert cert = {0};
    bool have_o = false;
    store_txn *t = store_begin(srv->st, true);
    if (!t || db_get_order(t, j->order_id, &o) != 0)
        goto out;
    have_o = true;
    if (o.status != ORDER_PROCESSING)
        goto out;
    order_status next;
    if (failure) {
        order_transition(o.status, ORDER_EV_ISSUE_FAILED, &next);
        o.status = next;
        o.invalid_reason = INVALID_ISSUANCE;
        o.error = problem_new("serverInternal", 0, "issuance failed: %s", failure);
    } else {
        X509 **chain = NULL;
        aro_err err;
        int n = x509_chain_from_pem(iss->leaf_pem, strlen(iss->leaf_pem), &chain, &err);
        snprintf(cert.serial, sizeof(cert.serial), "%s", iss->serial_hex);
        snprintf(cert.account_id, sizeof(cert.account_id), "%s", o.account_id);
        snprintf(cert.order_id, sizeof(cert.order_id), "%s", o.id);
        for (int i = 0; i < iss->nchains; i++) {
            size_t nc = (size_t)cert.nchains;
            strv_push(&cert.chains, &nc, iss->chain_pem[i]);
            cert.nchains = (int)nc;
        }
        cert.not_before = iss->not_before;
        cert.not_after = iss->not_after;
        for (size_t i = 0; i < o.nidentifiers; i++) {
            if (strcmp(o.identifiers[i].type, "dns") == 0)
                strv_push(&cert.dns, &cert.ndns, o.identifiers[i].value);
            else
                strv_push(&cert.ips, &cert.nips, o.identifiers[i].value);
        }
        cert.ari_id = n > 0 ? acme_ari_cert_id(chain[0]) : NULL;
        for (int i = 0; i < n; i++)
            X509_free(chain[i]);
        free(chain);
        if (db_put_cert(t, &cert) < 0 || (cert.ari_id && db_put_str(t, TBL_CERT_ARI, cert.ari_id, cert.serial) < 0))
            goto out;
        /* RFC 9773 5: the replaced certificate is now consumed. */
        if (o.replaces) {
            char *serial = NULL;
            rec_cert old;
            if (db_get_str(t, TBL_CERT_ARI, o.replaces, &serial) == 0 && db_get_cert(t, serial, &old) == 0) {
                snprintf(old.replaced_by, sizeof(old.replaced_by), "%s", o.id);
                db_put_cert(t, &old);
                rec_cert_clear(&old);
            }
            free(serial);
        }
        order_transition(o.status, ORDER_EV_ISSUED, &next);
        o.status = next;
        o.cert_serial = xstrdup(cert.serial);
    }
    free(o.csr);
    o.csr = NULL;
    if (db_put_order(t, &o) < 0)
        goto out;
    store_commit(t, NULL);
    t = NULL;
    metrics_inc(srv->m, "aro_certificates_issued_total", NULL);
out:
    store_abort(t);
    if (have_o)
        rec_order_clear(&o);
    rec_cert_clear(&cert);
}

typedef struct {
    issuance_job *job;
    ca_issued iss;
    char *failure;
} issued_result;

static void finish_queued(void *arg)
{
    issued_result *ir = arg;
    finish_issuance(ir->job, &ir->iss, ir->failure);
}

/* Not committed: the order stays "processing" with its CSR stored, and
 * issuance_resume_all issues again at the next start. */
static void issued_free(void *arg, bool committed)
{
    (void)committed;
    issued_result *ir = arg;
    ca_issued_clear(&ir->iss);
    free(ir->failure);
    free(ir->job->csr);
    free(ir->job);
    free(ir);
}

static void run_issuance(void *arg)
{
    issuance_job *j = arg;
    server *srv = j->srv;
    csr_info csr = {0};
    ca_issued iss = {0};
    aro_err err = {{0}};
    rec_order o;
    const char *failure = NULL;
    time_t nb = 0, na = 0;
    store_txn *t = store_begin(srv->st, false);
    bool have_o = t && db_get_order(t, j->order_id, &o) == 0;
    store_abort(t);
    if (!have_o)
        goto out;
    if (srv->cfg.fault_finalize_delay_ms > 0) {
        struct timespec ts = {srv->cfg.fault_finalize_delay_ms / 1000,
                              (srv->cfg.fault_finalize_delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        metrics_inc(srv->m, "aro_faults_injected_total", "kind=\"delay\"");
    }
    if (o.not_before)
        time_parse_rfc3339(o.not_before, &nb);
    if (o.not_after)
        time_parse_rfc3339(o.not_after, &na);
    for (size_t i = 0; o.profile && i < srv->cfg.nprofiles; i++)
        if (strcmp(srv->cfg.profiles[i].name, o.profile) == 0 && srv->cfg.profiles[i].validity_seconds && !na)
            na = (nb ? nb : time(NULL)) + srv->cfg.profiles[i].validity_seconds;
    if (csr_parse_der(j->csr, j->csr_len, &csr, &err) < 0 || ca_issue(srv->ca, &csr, nb, na, &iss, &err) < 0)
        failure = err.msg;
    rec_order_clear(&o);
    if (srv->writer) {
        /* Signing is done; the store write joins the writer's next batch. */
        issued_result *ir = xcalloc(1, sizeof(*ir));
        ir->job = j;
        ir->iss = iss;
        ir->failure = failure ? xstrdup(failure) : NULL;
        memset(&iss, 0, sizeof(iss));
        if (writer_submit(srv->writer, finish_queued, issued_free, ir)) {
            j = NULL;
        } else {
            iss = ir->iss;
            finish_issuance(j, &iss, ir->failure);
            free(ir->failure);
            free(ir);
        }
    } else {
        finish_issuance(j, &iss, failure);
    }
out:
    csr_info_free(&csr);
    ca_issued_clear(&iss);
    if (j) {
        free(j->csr);
        free(j);
    }
}

static void start_issuance(void *arg, bool committed)
{
    issuance_job *j = arg;
    if (committed && worker_submit(j->srv->workers, run_issuance, j))
        return;
    /* Not committed: no order to issue for. Queue full: the order stays
     * "processing" with its CSR stored; issuance_resume_all finishes it. */
    free(j->csr);
    free(j);
}

bool issuance_submit(server *srv, const char *order_id, const unsigned char *der, size_t len)
{
    issuance_job *j = xcalloc(1, sizeof(*j));
    j->srv = srv;
    snprintf(j->order_id, sizeof(j->order_id), "%s", order_id);
    j->csr = xmalloc(len);
    memcpy(j->csr, der, len);
    j->csr_len = len;
    /* The job reads the "processing" order: start it once that is durable. */
    store_after_commit(srv->st, start_issuance, j);
    return true;
}

static int resume_issuance(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)key;
    (void)klen;
    server *srv = arg;
    rec_order o;
    if (rec_order_from_json(val, vlen, &o) < 0)
        return 0;
    unsigned char *der = NULL;
    size_t len = 0;
    if (o.status == ORDER_PROCESSING && o.csr && b64url_decode(o.csr, strlen(o.csr), &der, &len) == 0)
        issuance_submit(srv, o.id, der, len);
    free(der);
    rec_order_clear(&o);
    return 0;
}

void issuance_resume_all(server *srv)
{
    store_txn *t = store_begin(srv->st, false);
    if (t) {
        store_scan(t, TBL_ORDERS, "", NULL, resume_issuance, srv);
        store_abort(t);
    }
}

void handle_finalize(server *srv, const http_request *rq, http_response *rs, const char *id)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_order o;
    csr_info csr = {0};
    unsigned char *der = NULL;
    size_t der_len = 0;
    bool have_o = false;
    char why[256];
    aro_err err = {{0}};
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    const char *csr_b64 = a.payload ? json_str(a.payload, "csr") : NULL;
    if (!csr_b64) {
        response_error(rs, "malformed", 400, "finalize needs {\"csr\": \"<base64url DER>\"}");
        goto out;
    }
    t = store_begin(srv->st, true);
    int rc = t ? db_get_order(t, id, &o) : -1;
    if (rc != 0) {
        if (rc == 1)
            response_error(rs, "malformed", 404, "no such order");
        else
            response_store_error(rs);
        goto out;
    }
    have_o = true;
    if (strcmp(o.account_id, a.acct.id) != 0) {
        response_error(rs, "unauthorized", 403, "this order belongs to another account");
        goto out;
    }
    order_status st = order_effective_status(&o, rq->now), next;
    if (!order_transition(st, ORDER_EV_FINALIZE, &next)) {
        response_error(rs, "orderNotReady", 403, "the order is %s, not ready", order_status_name(st));
        goto out;
    }
    if (b64url_decode(csr_b64, strlen(csr_b64), &der, &der_len) < 0) {
        response_error(rs, "badCSR", 400, "the CSR is not base64url");
        goto out;
    }
    if (csr_parse_der(der, der_len, &csr, &err) < 0) {
        response_error(rs, "badCSR", 400, "%s", err.msg);
        goto out;
    }
    if (!names_match_order(&o, &csr, why, sizeof(why)) || !key_allowed(csr.pubkey, why, sizeof(why))) {
        response_error(rs, "badCSR", 400, "%s", why);
        goto out;
    }
    if (key_public_equal(csr.pubkey, a.key)) {
        response_error(rs, "badCSR", 400, "the certificate key must not be the account key");
        goto out;
    }
    o.status = next;
    o.finalize_at = rq->now;
    o.csr = xstrdup(csr_b64);
    if (db_put_order(t, &o) < 0) {
        response_store_error(rs);
        goto out;
    }
    char *body = render_order(srv, t, rq->base, &o, rq->now);
    rc = store_commit(t, NULL);
    t = NULL;
    if (rc < 0) {
        free(body);
        response_store_error(rs);
        goto out;
    }
    /* Asynchronous finalization: "processing" now, "valid" when signed.
     * A full queue leaves it for the restart path (the CSR is stored). */
    issuance_submit(srv, o.id, der, der_len);
    rs->location = url_for(rq->base, "order", o.id);
    rs->retry_after = srv->cfg.retry_after_order;
    response_json(rs, 200, body);
out:
    store_abort(t);
    if (have_o)
        rec_order_clear(&o);
    csr_info_free(&csr);
    free(der);
    auth_clear(&a);
}

/* ---- download ---- */

void handle_cert(server *srv, const http_request *rq, http_response *rs, const char *serial, int alt)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_cert c;
    bool have = false;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    t = store_begin(srv->st, false);
    int rc = t ? db_get_cert(t, serial, &c) : -1;
    if (rc != 0) {
        if (rc == 1)
            response_error(rs, "malformed", 404, "no such certificate");
        else
            response_store_error(rs);
        goto out;
    }
    have = true;
    if (strcmp(c.account_id, a.acct.id) != 0) {
        response_error(rs, "unauthorized", 403, "this certificate belongs to another account");
        goto out;
    }
    if (alt >= c.nchains) {
        response_error(rs, "malformed", 404, "no such alternate chain");
        goto out;
    }
    /* 7.4.2: Link rel="up" to the issuer's certificate, rel="alternate"
     * for every other chain. */
    char *up = xasprintf("%s/acme/issuer/%d", rq->base, alt);
    response_link(rs, up, "up");
    free(up);
    for (int i = 0; i < c.nchains; i++) {
        if (i == alt)
            continue;
        char *u = i == 0 ? url_for(rq->base, "cert", c.serial) : xasprintf("%s/acme/cert/%s/%d", rq->base, c.serial, i);
        response_link(rs, u, "alternate");
        free(u);
    }
    rs->status = 200;
    rs->body = xstrdup(c.chains[alt]);
    rs->body_len = strlen(rs->body);
    rs->content_type = "application/pem-certificate-chain";
out:
    store_abort(t);
    if (have)
        rec_cert_clear(&c);
    auth_clear(&a);
}

/* ---- revocation ---- */

/* 7.6: the account holds valid authorizations for every name. */
static bool authorized_for_all(server *srv, store_txn *t, const char *account_id, const rec_cert *c, time_t now)
{
    (void)srv;
    for (int pass = 0; pass < 2; pass++) {
        char **names = pass ? c->ips : c->dns;
        size_t n = pass ? c->nips : c->ndns;
        for (size_t i = 0; i < n; i++) {
            bool wildcard = strncmp(names[i], "*.", 2) == 0;
            char *key = xasprintf("%s/%s:%s", account_id, pass ? "ip" : "dns", names[i]);
            char *aid = NULL;
            rec_authz az;
            bool ok = false;
            if (db_get_str(t, TBL_AUTHZ_INDEX, key, &aid) == 0 && db_get_authz(t, aid, &az) == 0) {
                ok = authz_effective_status(&az, now) == AUTHZ_VALID;
                rec_authz_clear(&az);
            }
            (void)wildcard;
            free(aid);
            free(key);
            if (!ok)
                return false;
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
     * 7 (unused), 8 (removeFromCRL), 10 (AA compromise). */
    if (reason < 0 || reason > 10 || reason == 2 || reason == 7 || reason == 8 || reason == 10) {
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
    if (!t || !serial || db_get_cert(t, serial, &c) != 0) {
        response_error(rs, "malformed", 404, "no such certificate");
        goto out;
    }
    have = true;
    bool allowed;
    if (a.has_acct) {
        allowed = strcmp(c.account_id, a.acct.id) == 0 ||
                  authorized_for_all(srv, t, a.acct.id, &c, rq->now);
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
    if (db_put_cert(t, &c) < 0 || store_commit(t, NULL) < 0) {
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

/* ---- renewal information ---- */

void handle_renewal_info(server *srv, const http_request *rq, http_response *rs, const char *cert_id)
{
    store_txn *t = NULL;
    char *serial = NULL;
    rec_cert c;
    bool have = false;
    if (strcmp(rq->method, "GET") != 0) {
        response_error(rs, "malformed", 405, "renewalInfo takes GET (RFC 9773 4.2)");
        goto out;
    }
    t = store_begin(srv->st, false);
    if (!t || db_get_str(t, TBL_CERT_ARI, cert_id, &serial) != 0 || db_get_cert(t, serial, &c) != 0) {
        response_error(rs, "malformed", 404, "no certificate with this CertID");
        goto out;
    }
    have = true;
    /* 4.2: a window in the last third of the lifetime; for a revoked
     * certificate a window that has already begun, so clients renew now. */
    time_t life = c.not_after - c.not_before, start, end;
    if (c.revoked) {
        start = rq->now - 3600;
        end = rq->now;
    } else {
        start = c.not_before + life * 2 / 3;
        end = c.not_before + life * 5 / 6;
    }
    char s[32], e[32];
    time_format_rfc3339(start, s);
    time_format_rfc3339(end, e);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_key(g, "suggestedWindow");
    jg_obj_open(g);
    jg_kv_str(g, "start", s);
    jg_kv_str(g, "end", e);
    jg_obj_close(g);
    jg_obj_close(g);
    rs->retry_after = 21600;
    response_json(rs, 200, jg_finish(g, NULL));
out:
    store_abort(t);
    if (have)
        rec_cert_clear(&c);
    free(serial);
}

/* The issuing intermediate of hierarchy n, the target of Link rel="up" on
 * certificate responses (7.4.2). Public, so GET as well as POST-as-GET. */
void handle_issuer(server *srv, const http_request *rq, http_response *rs, int n)
{
    const char *pem = ca_intermediate_pem(srv->ca, n);
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") != 0) {
        response_error(rs, "malformed", 405, "the issuer certificate takes GET or POST-as-GET");
        return;
    }
    if (!pem) {
        response_error(rs, "malformed", 404, "no such issuer");
        return;
    }
    rs->status = 200;
    rs->body = xstrdup(pem);
    rs->body_len = strlen(rs->body);
    rs->content_type = "application/pem-certificate-chain";
}
