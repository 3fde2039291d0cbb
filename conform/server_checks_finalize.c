#include "server_checks_finalize.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "acme_crypto.h"
#include "keys.h"

static const check_def defs[] = {
    {"finalize.not-ready", "RFC 8555 7.4", LEVEL_MUST, "finalizing a pending order is refused with 403 orderNotReady"},
    {"finalize.bad-csr", "RFC 8555 7.4", LEVEL_SHOULD, "a CSR for other identifiers is refused as badCSR"},
    {"finalize.bad-csr-stays-ready", "RFC 8555 7.4", LEVEL_SHOULD, "after a refused CSR the order is still ready"},
    {"finalize.accepted", "RFC 8555 7.4", LEVEL_MUST,
     "finalize with a good CSR answers 200 with the order processing or valid"},
    {"order.valid", "RFC 8555 7.1.6", LEVEL_MUST, "the order becomes valid with a \"certificate\" URL"},
    {"order.valid-expires", "RFC 8555 7.1.3", LEVEL_MUST, "a valid order has \"expires\""},
    {"cert.download", "RFC 8555 7.4.2", LEVEL_MUST,
     "POST-as-GET on the certificate answers 200 application/pem-certificate-chain"},
    {"cert.pem", "RFC 8555 9.1", LEVEL_MUST, "the chain is strict PEM certificates without explanatory text"},
    {"cert.end-entity-first", "RFC 8555 9.1", LEVEL_MUST, "the first certificate is the end-entity certificate"},
    {"cert.chain", "RFC 8555 9.1", LEVEL_SHOULD, "each following certificate certifies the one before it"},
    {"cert.matches", "RFC 8555 7.4", LEVEL_MUST, "the certificate has exactly the order's names and the CSR's key"},
    {"cert.alternates", "RFC 8555 7.4.2", LEVEL_SHOULD,
     "each Link rel=\"alternate\" chain starts with the same end-entity certificate"},
    {"ari.window", "RFC 9773 4.2", LEVEL_MUST,
     "renewalInfo for the certificate answers a suggestedWindow whose end is after its start"},
    {"ari.retry-after", "RFC 9773 4.3", LEVEL_MUST, "the renewalInfo answer carries Retry-After"},
    {"ari.replaces", "RFC 9773 5", LEVEL_MUST, "a newOrder with \"replaces\" reflects it in the order"},
    {"ari.replaced-twice", "RFC 9773 5", LEVEL_SHOULD,
     "a second order replacing a certificate already being replaced is refused"},
    {"ari.already-replaced", "RFC 9773 5", LEVEL_MUST, "that refusal is 409 alreadyReplaced"},
};

static char *finalize_payload(EVP_PKEY *key, const char *name)
{
    char *csr = csr_b64(key, &name, 1);
    char *p = xasprintf("{\"csr\":\"%s\"}", csr ? csr : "");
    free(csr);
    return p;
}

static void check_not_ready(fixture *f)
{
    tobj o = {0};
    wire_resp r = {0};
    aro_err err;
    char *name = target_name(f->t, "notready");
    const char *names[] = {name};
    if (order_new(f->alice, names, 1, NULL, &o, &err) || !json_str(o.json, "finalize")) {
        check_skip(f->rep, "finalize.not-ready", "setup: %s", err.msg);
    } else {
        EVP_PKEY *k = key_generate(KEY_EC256);
        char *p = finalize_payload(k, name);
        if (target_raw(f->t, f->alice, NULL, json_str(o.json, "finalize"), p, &r, &err) == 0)
            judge_refusal(f->rep, "finalize.not-ready", &r, 403, "orderNotReady", "finalize of a pending order");
        free(p);
        EVP_PKEY_free(k);
    }
    free(name);
    tobj_clear(&o);
    wire_resp_clear(&r);
}

/* Strict PEM (RFC 7468 3): only BEGIN/END lines and base64 lines. */
static bool strict_pem(const char *pem, size_t *ncerts)
{
    *ncerts = 0;
    bool inside = false;
    const char *p = pem;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n == 27 && !strncmp(p, "-----BEGIN CERTIFICATE-----", 27) && !inside)
            inside = true;
        else if (n == 25 && !strncmp(p, "-----END CERTIFICATE-----", 25) && inside)
            inside = false, (*ncerts)++;
        else if (inside && n > 0 && n <= 64 && strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") >= n)
            ;
        else if (n > 0)
            return false;
        p = e ? e + 1 : p + strlen(p);
    }
    return !inside && *ncerts > 0;
}

static bool leaf_matches(X509 *leaf, const char *name, EVP_PKEY *key, char *why, size_t len)
{
    EVP_PKEY *pub = X509_get0_pubkey(leaf);
    if (!pub || EVP_PKEY_eq(pub, key) != 1) {
        snprintf(why, len, "the public key is not the CSR's");
        return false;
    }
    GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    int n = sans ? sk_GENERAL_NAME_num(sans) : 0, dns = 0, match = 0;
    for (int i = 0; i < n; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != GEN_DNS)
            continue;
        dns++;
        const char *s = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
        match += s && (size_t)ASN1_STRING_length(g->d.dNSName) == strlen(name) && !strcmp(s, name);
    }
    GENERAL_NAMES_free(sans);
    snprintf(why, len, "%d SAN(s) of type dNSName, %d equal to %s, total SANs %d", dns, match, name, n);
    return n == 1 && match == 1;
}

/* Judges a downloaded chain; keeps the leaf DER in c when it parses. */
static void judge_chain(fixture *f, const char *pem, const char *name, EVP_PKEY *key, issued *c)
{
    report *rep = f->rep;
    size_t ncerts;
    bool strict = strict_pem(pem, &ncerts);
    check_that(rep, "cert.pem", strict, "%zu certificate(s)%s", ncerts, strict ? ", strict PEM" : "; text that is not "
               "strict PEM certificates");
    X509 **chain = NULL;
    aro_err err;
    int n = x509_chain_from_pem(pem, strlen(pem), &chain, &err);
    if (n < 1) {
        check_fail(rep, "cert.pem", "no certificate parses: %s", err.msg);
        return;
    }
    check_that(rep, "cert.end-entity-first", X509_check_ca(chain[0]) == 0, "the first certificate is %s",
               X509_check_ca(chain[0]) ? "a CA certificate" : "an end-entity certificate");
    bool linked = true;
    for (int i = 0; i + 1 < n && linked; i++)
        linked = X509_check_issued(chain[i + 1], chain[i]) == X509_V_OK &&
                 X509_verify(chain[i], X509_get0_pubkey(chain[i + 1])) == 1;
    if (n > 1)
        check_that(rep, "cert.chain", linked, "%d certificates, %s", n, linked ? "each signed by the next" : "not a chain");
    else
        check_skip(rep, "cert.chain", "a single certificate");
    char why[200];
    check_that(rep, "cert.matches", leaf_matches(chain[0], name, key, why, sizeof why), "%s", why);
    int dl = i2d_X509(chain[0], NULL);
    if (c && dl > 0 && !c->der) {
        unsigned char *p = c->der = xmalloc((size_t)dl);
        i2d_X509(chain[0], &p);
        c->der_len = (size_t)dl;
    }
    for (int i = 0; i < n; i++)
        X509_free(chain[i]);
    free(chain);
}

static bool same_leaf(const char *pem, const issued *c)
{
    X509 **chain = NULL;
    aro_err err;
    int n = x509_chain_from_pem(pem, strlen(pem), &chain, &err);
    bool same = false;
    if (n >= 1) {
        unsigned char *der = NULL;
        int dl = i2d_X509(chain[0], &der);
        same = dl > 0 && (size_t)dl == c->der_len && !memcmp(der, c->der, c->der_len);
        OPENSSL_free(der);
    }
    for (int i = 0; i < n; i++)
        X509_free(chain[i]);
    free(chain);
    return same;
}

static void check_download(fixture *f, issued *c)
{
    report *rep = f->rep;
    wire_resp r = {0};
    aro_err err;
    /* POST-as-GET with the Accept of 7.4.2. */
    if (target_raw_accept(f->t, f->alice, c->cert_url, "application/pem-certificate-chain", &r, &err)) {
        check_fail(rep, "cert.download", "%s", err.msg);
        return;
    }
    check_that(rep, "cert.download", r.status == 200 && wire_content_type_is(&r, "application/pem-certificate-chain"),
               "%s, Content-Type %s", DESCRIBE(&r), r.content_type ? r.content_type : "(none)");
    if (r.status != 200 || !r.body) {
        wire_resp_clear(&r);
        return;
    }
    c->pem = xstrdup(r.body);
    judge_chain(f, c->pem, c->name, c->cert_key, c);
    size_t nalt = wire_link_count(&r, "alternate");
    if (!nalt) {
        check_skip(rep, "cert.alternates", "no alternate chains offered (they are optional)");
    } else {
        for (size_t i = 0; i < r.nlinks; i++)
            if (!strcmp(r.links[i].rel, "alternate")) {
                c->alternates = xrealloc(c->alternates, (c->nalternates + 1) * sizeof *c->alternates);
                c->alternates[c->nalternates++] = xstrdup(r.links[i].url);
            }
        for (size_t i = 0; i < c->nalternates; i++) {
            wire_resp a = {0};
            if (target_raw(f->t, f->alice, NULL, c->alternates[i], NULL, &a, &err) == 0)
                check_that(rep, "cert.alternates", a.status == 200 && a.body && same_leaf(a.body, c),
                           "%zu alternate(s); %s: %s", c->nalternates, c->alternates[i],
                           a.status == 200 ? (a.body && same_leaf(a.body, c) ? "same leaf" : "another leaf")
                                           : DESCRIBE(&a));
            wire_resp_clear(&a);
        }
    }
    wire_resp_clear(&r);
}

static void check_finalize(fixture *f)
{
    report *rep = f->rep;
    tacct *a = f->alice;
    tobj o = {0};
    wire_resp r = {0};
    aro_err err;
    issued *c = &f->cert;
    if (!f->ready_order || tobj_fetch(a, f->ready_order, &o, &err) || strcmp(tobj_status(&o), "ready")) {
        check_skip_rest(rep, "finalize.", "no ready order (the orders area did not make one)");
        check_skip_rest(rep, "order.valid", "no ready order");
        check_skip_rest(rep, "cert.", "no ready order");
        goto out;
    }
    char *fin = xstrdup(json_str(o.json, "finalize"));
    EVP_PKEY *other = key_generate(KEY_EC256);
    char *wrong_name = target_name(f->t, "not-in-the-order");
    char *p = finalize_payload(other, wrong_name);
    if (target_raw(f->t, a, NULL, fin, p, &r, &err) == 0) {
        judge_refusal(rep, "finalize.bad-csr", &r, 400, "badCSR", "a CSR for a name not in the order");
        if (r.status >= 400 && tobj_fetch(a, f->ready_order, &o, &err) == 0)
            check_that(rep, "finalize.bad-csr-stays-ready", !strcmp(tobj_status(&o), "ready"), "the order is %s",
                       tobj_status(&o));
    }
    free(p);
    free(wrong_name);
    EVP_PKEY_free(other);
    memset(c, 0, sizeof *c);
    c->name = xstrdup(f->ready_name);
    c->owner = a;
    c->order_url = xstrdup(f->ready_order);
    c->cert_key = key_generate(KEY_EC256);
    p = finalize_payload(c->cert_key, c->name);
    int rc = target_raw(f->t, a, NULL, fin, p, &r, &err);
    free(p);
    free(fin);
    if (rc) {
        check_fail(rep, "finalize.accepted", "%s", err.msg);
        goto out;
    }
    const char *st = json_str(r.json, "status");
    check_that(rep, "finalize.accepted", r.status == 200 && st && (!strcmp(st, "processing") || !strcmp(st, "valid")),
               "%s, order status %s", DESCRIBE(&r), st ? st : "(none)");
    if (tobj_poll(f->t, a, f->ready_order, "valid invalid", NULL, &o, &err)) {
        check_fail(rep, "order.valid", "%s", err.msg);
        goto out;
    }
    const char *cert = json_str(o.json, "certificate");
    check_that(rep, "order.valid", !strcmp(tobj_status(&o), "valid") && cert, "order %s, certificate %s",
               tobj_status(&o), cert ? cert : "(absent)");
    if (!strcmp(tobj_status(&o), "valid"))
        check_that(rep, "order.valid-expires", json_str(o.json, "expires") != NULL, "expires %s",
                   json_str(o.json, "expires") ? json_str(o.json, "expires") : "(absent)");
    if (!cert) {
        check_skip_rest(rep, "cert.", "no certificate URL");
        goto out;
    }
    c->cert_url = xstrdup(cert);
    check_download(f, c);
    f->have_cert = c->der != NULL;
out:
    tobj_clear(&o);
    wire_resp_clear(&r);
}

static void check_ari(fixture *f)
{
    report *rep = f->rep;
    target *t = f->t;
    if (!t->renewal_info) {
        check_skip_rest(rep, "ari.", "the directory offers no renewalInfo");
        return;
    }
    if (!f->have_cert) {
        check_skip_rest(rep, "ari.", "no certificate to ask about");
        return;
    }
    const unsigned char *p = f->cert.der;
    X509 *x = d2i_X509(NULL, &p, (long)f->cert.der_len);
    char *id = x ? acme_ari_cert_id(x) : NULL;
    X509_free(x);
    if (!id) {
        check_skip_rest(rep, "ari.", "the certificate has no authority key identifier");
        return;
    }
    wire_resp r = {0};
    aro_err err;
    char *url = xasprintf("%s%s%s", t->renewal_info, t->renewal_info[strlen(t->renewal_info) - 1] == '/' ? "" : "/", id);
    if (wire_get(t->w, url, &r, &err) == 0) {
        yajl_val w = json_member(r.json, "suggestedWindow");
        time_t s = json_time(w, "start"), e = json_time(w, "end");
        check_that(rep, "ari.window", r.status == 200 && s && e && e > s, "%s, start %s, end %s", DESCRIBE(&r),
                   json_str(w, "start") ? json_str(w, "start") : "(none)", json_str(w, "end") ? json_str(w, "end") : "(none)");
        check_that(rep, "ari.retry-after", r.retry_after && wire_retry_after(&r) >= 0, "Retry-After: %s",
                   r.retry_after ? r.retry_after : "(absent)");
    } else {
        check_fail(rep, "ari.window", "%s", err.msg);
    }
    tobj o = {0};
    const char *names[] = {f->cert.name};
    char *extra = xasprintf("\"replaces\":\"%s\"", id);
    if (order_new(f->alice, names, 1, extra, &o, &err) == 0) {
        const char *rep_got = json_str(o.json, "replaces");
        check_that(rep, "ari.replaces", rep_got && !strcmp(rep_got, id), "replaces in the order: %s",
                   rep_got ? rep_got : "(absent)");
        char *payload = xasprintf("{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}],%s}", f->cert.name, extra);
        if (target_raw(t, f->alice, NULL, t->new_order, payload, &r, &err) == 0) {
            if (r.status < 300) {
                check_fail(rep, "ari.replaced-twice", "the second order was accepted: %s", DESCRIBE(&r));
                check_skip(rep, "ari.already-replaced", "not refused");
            } else {
                check_pass(rep, "ari.replaced-twice", "%s", DESCRIBE(&r));
                judge_refusal(rep, "ari.already-replaced", &r, 409, "alreadyReplaced",
                              "a second order replacing the same certificate");
            }
        }
        free(payload);
    } else {
        check_fail(rep, "ari.replaces", "newOrder with replaces: %s", err.msg);
        check_skip(rep, "ari.replaced-twice", "no first replacing order");
        check_skip(rep, "ari.already-replaced", "no first replacing order");
    }
    tobj_clear(&o);
    free(extra);
    free(url);
    free(id);
    wire_resp_clear(&r);
}

static void run(fixture *f)
{
    if (!f->alice) {
        check_skip_rest(f->rep, "finalize.", "no account");
        return;
    }
    check_not_ready(f);
    check_finalize(f);
    check_ari(f);
}

const check_area area_finalize = {"finalize", defs, sizeof defs / sizeof *defs, run};
