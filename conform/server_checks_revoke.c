#include "server_checks_revoke.h"

#include <stdlib.h>
#include <string.h>

#include "b64url.h"

static const check_def defs[] = {
    {"revoke.bad-reason", "RFC 8555 7.6", LEVEL_MUST,
     "a disallowed reason code (7, unused in RFC 5280) is refused as badRevocationReason"},
    {"revoke.by-cert-key", "RFC 8555 7.6", LEVEL_MUST, "a request signed with the certificate's key revokes it (200)"},
    {"revoke.unauthorized", "RFC 8555 7.6", LEVEL_MUST,
     "an account without authority over the certificate is refused as unauthorized"},
    {"revoke.by-authorized-account", "RFC 8555 7.6", LEVEL_MUST,
     "another account holding authorizations for its identifiers revokes it (200)"},
    {"revoke.by-account", "RFC 8555 7.6", LEVEL_MUST, "the issuing account revokes its certificate (200)"},
    {"revoke.already", "RFC 8555 7.6", LEVEL_MUST, "revoking it again is refused with 400 alreadyRevoked"},
};

static char *payload_for(const issued *c, int reason)
{
    char *der = b64url_encode(c->der, c->der_len);
    char *p = reason >= 0 ? xasprintf("{\"certificate\":\"%s\",\"reason\":%d}", der, reason)
                          : xasprintf("{\"certificate\":\"%s\"}", der);
    free(der);
    return p;
}

/* Revoke c as account a, or with key alone (jwk) when a is NULL. */
static int revoke(fixture *f, const tacct *a, EVP_PKEY *key, const issued *c, int reason, wire_resp *r)
{
    aro_err err;
    char *p = payload_for(c, reason);
    int rc = target_raw(f->t, a, key, f->t->revoke_cert, p, r, &err);
    free(p);
    return rc;
}

static void by_cert_key(fixture *f)
{
    issued b = {0};
    wire_resp r = {0};
    aro_err err;
    char *name = target_name(f->t, "revoke-key");
    if (issue_certificate(f->t, f->alice, name, &b, &err)) {
        check_skip(f->rep, "revoke.bad-reason", "setup: %s", err.msg);
        check_skip(f->rep, "revoke.by-cert-key", "setup: %s", err.msg);
        goto out;
    }
    if (revoke(f, f->alice, NULL, &b, 7, &r) == 0)
        judge_refusal(f->rep, "revoke.bad-reason", &r, 400, "badRevocationReason", "reason 7");
    if (revoke(f, NULL, b.cert_key, &b, -1, &r) == 0)
        check_that(f->rep, "revoke.by-cert-key", r.status == 200, "signed with the certificate key (jwk): %s",
                   DESCRIBE(&r));
out:
    free(name);
    issued_clear(&b);
    wire_resp_clear(&r);
}

static void by_authorized_account(fixture *f)
{
    issued c = {0};
    tobj o = {0}, az = {0};
    wire_resp r = {0};
    aro_err err;
    char *name = target_name(f->t, "revoke-other");
    const char *names[] = {name};
    tacct *carol = NULL;
    if (!f->bob || issue_certificate(f->t, f->alice, name, &c, &err)) {
        check_skip(f->rep, "revoke.by-authorized-account", "setup: %s", f->bob ? err.msg : "no second account");
        check_skip(f->rep, "revoke.unauthorized", "setup: %s", f->bob ? err.msg : "no second account");
        goto out;
    }
    carol = tacct_new(f->t, "carol", KEY_EC256, NULL, &err);
    if (carol && revoke(f, carol, NULL, &c, -1, &r) == 0)
        judge_refusal(f->rep, "revoke.unauthorized", &r, 0, "unauthorized", "carol, who has no authorization");
    /* bob proves control of the name in an order of his own. */
    yajl_val azs;
    if (order_new(f->bob, names, 1, NULL, &o, &err) || json_array_len(azs = json_member(o.json, "authorizations")) < 1 ||
        authz_validate(f->t, f->bob, YAJL_GET_STRING(azs->u.array.values[0]), "http-01", &az, &err) ||
        strcmp(tobj_status(&az), "valid")) {
        check_skip(f->rep, "revoke.by-authorized-account", "bob's authorization: %s", err.msg);
        goto out;
    }
    if (revoke(f, f->bob, NULL, &c, -1, &r) == 0)
        check_that(f->rep, "revoke.by-authorized-account", r.status == 200,
                   "bob, with a valid authorization for %s, revoking alice's certificate: %s", name, DESCRIBE(&r));
out:
    free(name);
    issued_clear(&c);
    tobj_clear(&o);
    tobj_clear(&az);
    wire_resp_clear(&r);
    tacct_free(carol);
}

static void by_account(fixture *f)
{
    wire_resp r = {0};
    if (!f->have_cert) {
        check_skip(f->rep, "revoke.by-account", "no certificate from the finalize area");
        check_skip(f->rep, "revoke.already", "no certificate from the finalize area");
        return;
    }
    if (revoke(f, f->alice, NULL, &f->cert, -1, &r) == 0) {
        check_that(f->rep, "revoke.by-account", r.status == 200, "alice revoking her certificate: %s", DESCRIBE(&r));
        if (r.status == 200 && revoke(f, f->alice, NULL, &f->cert, -1, &r) == 0)
            judge_refusal(f->rep, "revoke.already", &r, 400, "alreadyRevoked", "the same revocation again");
    }
    wire_resp_clear(&r);
}

static void run(fixture *f)
{
    if (!f->alice || !f->t->revoke_cert) {
        check_skip_rest(f->rep, "revoke.", f->alice ? "the directory has no revokeCert" : "no account");
        return;
    }
    by_cert_key(f);
    by_authorized_account(f);
    by_account(f);
}

const check_area area_revoke = {"revoke", defs, sizeof defs / sizeof *defs, run};
