#include "server_checks_orders.h"

#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "random.h"

static const check_def defs[] = {
    {"order.create", "RFC 8555 7.4", LEVEL_MUST, "newOrder answers 201 with the order URL in Location, status pending"},
    {"order.object", "RFC 8555 7.1.3", LEVEL_MUST,
     "the order has its required members: status, identifiers (as asked), authorizations, finalize"},
    {"order.expires", "RFC 8555 7.1.3", LEVEL_MUST, "a pending order has an RFC 3339 \"expires\""},
    {"order.immutable", "RFC 8555 7.1.3", LEVEL_MUST,
     "the identifiers and authorizations arrays do not change between reads"},
    {"authz.object", "RFC 8555 7.1.4", LEVEL_MUST,
     "the authorization has identifier, status pending and challenges with type, url, status"},
    {"authz.no-wildcard-field", "RFC 8555 7.1.4", LEVEL_MUST,
     "an authorization for a name without a wildcard has no \"wildcard\" member"},
    {"chall.token", "RFC 8555 8.3", LEVEL_MUST,
     "http-01 and dns-01 tokens are base64url without padding with at least 128 bits"},
    {"chall.respond", "RFC 8555 7.5.1", LEVEL_MUST, "a challenge response ({}) answers 200 with the challenge"},
    {"chall.up-link", "RFC 8555 7.1", LEVEL_MUST,
     "the challenge answer links its authorization with Link rel=\"up\""},
    {"chall.processing", "RFC 8555 7.1.6", LEVEL_MUST,
     "a challenge answered by the client is processing (or final), never pending again"},
    {"authz.valid", "RFC 8555 7.1.6", LEVEL_MUST, "a passed challenge makes it and its authorization valid"},
    {"chall.validated", "RFC 8555 8", LEVEL_MUST, "a valid challenge has an RFC 3339 \"validated\""},
    {"authz.valid-expires", "RFC 8555 7.5.1", LEVEL_MUST, "a valid authorization has \"expires\""},
    {"order.ready", "RFC 8555 7.1.6", LEVEL_MUST, "the order is ready once its authorizations are valid"},
    {"chall.invalid", "RFC 8555 7.1.6", LEVEL_MUST,
     "a failed challenge makes it and its authorization invalid"},
    {"chall.error", "RFC 8555 8", LEVEL_SHOULD, "an invalid challenge has an \"error\" problem document"},
    {"chall.error-invalid", "RFC 8555 8", LEVEL_MUST, "a challenge with an \"error\" has status invalid"},
    {"authz.keeps-invalid-challenge", "RFC 8555 7.5.1", LEVEL_SHOULD,
     "the invalid authorization still lists the failed challenge"},
    {"order.invalid", "RFC 8555 7.1.6", LEVEL_MUST, "an order whose authorization failed is invalid"},
    {"chall.invalid-final", "RFC 8555 7.1.6", LEVEL_MUST,
     "a response to the failed challenge changes neither it nor its authorization"},
    {"authz.deactivate", "RFC 8555 7.5.2", LEVEL_SHOULD,
     "{\"status\": \"deactivated\"} answers 200 with the authorization deactivated"},
    {"authz.foreign-deactivate", "RFC 8555 7.5.2", LEVEL_MUST,
     "another account cannot deactivate the authorization"},
    {"order.deactivated-authz", "RFC 8555 7.1.6", LEVEL_MUST,
     "an order whose authorization was deactivated is invalid"},
    {"authz.deactivated-insufficient", "RFC 8555 7.5.2", LEVEL_MUST,
     "a deactivated (once valid) authorization does not let its order be finalized"},
    {"authz.wildcard", "RFC 8555 7.1.3", LEVEL_MUST,
     "a wildcard order's authorization names the base domain and has \"wildcard\": true"},
    {"chall.dns01", "RFC 8555 8.4", LEVEL_MUST, "a dns-01 challenge passes with the TXT record provisioned"},
    {"order.newauthz", "RFC 8555 7.4.1", LEVEL_MAY,
     "newAuthz, when offered, answers 201 with a pending authorization and its Location"},
    {"order.unsupported-identifier", "RFC 8555 6.7", LEVEL_PRACTICE,
     "an identifier of an unknown type is refused as unsupportedIdentifier"},
    {"order.bad-identifier", "RFC 8555 7.1.4", LEVEL_PRACTICE, "an order for an invalid DNS name (an empty label) is refused"},
    {"order.foreign-read", "RFC 8555 7.4", LEVEL_PRACTICE, "another account cannot read the order"},
    {"order.not-found", "RFC 8555 7.4", LEVEL_PRACTICE, "POST-as-GET on an order URL that does not exist answers 404"},
};

static bool is_b64url_token(const char *s, size_t min_bytes)
{
    unsigned char *raw = NULL;
    size_t n = 0;
    if (!s || b64url_decode(s, strlen(s), &raw, &n))
        return false;
    free(raw);
    return n >= min_bytes;
}

static const char *member_str(yajl_val v, const char *key)
{
    const char *s = json_str(v, key);
    return s ? s : "";
}

static void check_order_object(fixture *f, const tobj *o, const char *name)
{
    report *rep = f->rep;
    yajl_val ids = json_member(o->json, "identifiers"), azs = json_member(o->json, "authorizations");
    bool ids_ok = json_array_len(ids) == 1 && !strcmp(member_str(ids->u.array.values[0], "value"), name) &&
                  !strcmp(member_str(ids->u.array.values[0], "type"), "dns");
    bool ok = json_str(o->json, "status") && ids_ok && json_array_len(azs) >= 1 && json_str(o->json, "finalize");
    for (size_t i = 0; ok && i < azs->u.array.len; i++)
        ok = YAJL_IS_STRING(azs->u.array.values[i]);
    check_that(rep, "order.object", ok, "status %s, %ld identifier(s)%s, %ld authorization(s), finalize %s",
               member_str(o->json, "status"), json_array_len(ids), ids_ok ? " as asked" : " NOT as asked",
               json_array_len(azs), json_str(o->json, "finalize") ? "present" : "absent");
    check_that(rep, "order.expires", json_time(o->json, "expires") != 0, "expires %s",
               json_str(o->json, "expires") ? json_str(o->json, "expires") : "(absent)");
}

/* The immutable arrays of 7.1.3, compared with the first read. */
static void check_immutable(fixture *f, yajl_val first, const tobj *now, const char *when)
{
    const char *k[] = {"identifiers", "authorizations"};
    for (size_t i = 0; i < 2; i++)
        if (!json_same(json_member(first, k[i]), json_member(now->json, k[i]))) {
            check_fail(f->rep, "order.immutable", "%s changed %s", k[i], when);
            return;
        }
    check_pass(f->rep, "order.immutable", "identifiers and authorizations unchanged %s", when);
}

static void check_authz_object(fixture *f, const tobj *az, const char *name)
{
    report *rep = f->rep;
    yajl_val id = json_member(az->json, "identifier"), ch = json_member(az->json, "challenges");
    bool ok = !strcmp(member_str(id, "type"), "dns") && !strcmp(member_str(id, "value"), name) &&
              !strcmp(tobj_status(az), "pending") && json_array_len(ch) > 0;
    bool tokens = true;
    size_t ntok = 0;
    for (size_t i = 0; json_array_len(ch) > 0 && i < ch->u.array.len; i++) {
        yajl_val c = ch->u.array.values[i];
        ok = ok && json_str(c, "type") && json_str(c, "url") && json_str(c, "status");
        const char *ty = member_str(c, "type");
        if (!strcmp(ty, "http-01") || !strcmp(ty, "dns-01")) {
            ntok++;
            tokens = tokens && is_b64url_token(json_str(c, "token"), 16);
        }
    }
    check_that(rep, "authz.object", ok, "identifier %s %s, status %s, %ld challenge(s)%s", member_str(id, "type"),
               member_str(id, "value"), tobj_status(az), json_array_len(ch), ok ? "" : " (a member is missing)");
    if (ntok)
        check_that(rep, "chall.token", tokens, "%zu token(s) %s", ntok,
                   tokens ? "base64url, 16 bytes or more" : "not base64url or shorter than 128 bits");
    else
        check_skip(rep, "chall.token", "no http-01 or dns-01 challenge");
    check_that(rep, "authz.no-wildcard-field", !json_member(az->json, "wildcard"), "\"wildcard\" %s",
               json_member(az->json, "wildcard") ? "present" : "absent");
}

static yajl_val challenge_by_url(yajl_val authz, const char *url)
{
    yajl_val ch = json_member(authz, "challenges");
    for (size_t i = 0; json_array_len(ch) > 0 && i < ch->u.array.len; i++)
        if (!strcmp(member_str(ch->u.array.values[i], "url"), url))
            return ch->u.array.values[i];
    return NULL;
}

/* Respond to the challenge and poll its authorization until final,
 * judging every status of the challenge on the way (chall.processing). */
static int respond_and_follow(fixture *f, tacct *a, const char *authz_url, const char *chall_url, tobj *final,
                              aro_err *err)
{
    report *rep = f->rep;
    wire_resp r = {0};
    if (target_raw(f->t, a, NULL, chall_url, "{}", &r, err))
        return -1;
    const char *st = json_str(r.json, "status");
    check_that(rep, "chall.respond", r.status == 200 && st && json_str(r.json, "type") && json_str(r.json, "url"),
               "%s, challenge status %s", DESCRIBE(&r), st ? st : "(none)");
    const char *up = wire_link_rel(&r, "up");
    check_that(rep, "chall.up-link", up && !strcmp(up, authz_url), "Link rel=\"up\": %s", up ? up : "(absent)");
    if (st)
        check_that(rep, "chall.processing", strcmp(st, "pending") != 0, "status %s in the answer to the response", st);
    wire_resp_clear(&r);
    if (tobj_poll(f->t, a, authz_url, "valid invalid deactivated expired revoked", NULL, final, err))
        return -1;
    return 0;
}

/* One polled read must not show the challenge pending again. */
static void judge_followed(fixture *f, const tobj *final, const char *chall_url)
{
    const char *cs = member_str(challenge_by_url(final->json, chall_url), "status");
    if (!strcmp(cs, "pending"))
        check_fail(f->rep, "chall.processing", "the challenge reads pending after the response");
}

static void check_success(fixture *f, char **order_url, char **name_out)
{
    report *rep = f->rep;
    tacct *a = f->alice;
    aro_err err;
    tobj o = {0}, az = {0}, fin = {0};
    char *name = target_name(f->t, "order");
    const char *names[] = {name};
    if (order_new(a, names, 1, NULL, &o, &err)) {
        check_fail(rep, "order.create", "%s", err.msg);
        goto out;
    }
    check_that(rep, "order.create", o.status == 201 && !strcmp(tobj_status(&o), "pending"),
               "HTTP %ld, Location %s, status %s", o.status, o.url, tobj_status(&o));
    check_order_object(f, &o, name);
    yajl_val first = o.json;
    o.json = NULL;
    const char *az_url = YAJL_GET_STRING(json_member(first, "authorizations")->u.array.values[0]);
    if (!az_url || tobj_fetch(a, az_url, &az, &err)) {
        check_skip_rest(rep, "authz.", "cannot read the authorization");
        json_free(first);
        goto out;
    }
    check_authz_object(f, &az, name);
    yajl_val ch = challenge_of(az.json, "http-01");
    if (!ch || !json_str(ch, "url")) {
        check_skip(rep, "chall.respond", "no http-01 challenge offered");
        json_free(first);
        goto out;
    }
    char *curl = xstrdup(json_str(ch, "url"));
    if (challenge_provision(f->t, a, name, ch, &err) ||
        respond_and_follow(f, a, az_url, curl, &fin, &err)) {
        check_skip(rep, "authz.valid", "%s", err.msg);
        free(curl);
        json_free(first);
        goto out;
    }
    judge_followed(f, &fin, curl);
    yajl_val vc = challenge_by_url(fin.json, curl);
    check_that(rep, "authz.valid", !strcmp(tobj_status(&fin), "valid") && !strcmp(member_str(vc, "status"), "valid"),
               "authorization %s, challenge %s", tobj_status(&fin), member_str(vc, "status"));
    if (!strcmp(member_str(vc, "status"), "valid"))
        check_that(rep, "chall.validated", json_time(vc, "validated") != 0, "validated %s",
                   json_str(vc, "validated") ? json_str(vc, "validated") : "(absent)");
    if (!strcmp(tobj_status(&fin), "valid"))
        check_that(rep, "authz.valid-expires", json_time(fin.json, "expires") != 0, "expires %s",
                   json_str(fin.json, "expires") ? json_str(fin.json, "expires") : "(absent)");
    free(curl);
    if (tobj_poll(f->t, a, o.url, "ready invalid valid", NULL, &o, &err) == 0) {
        check_that(rep, "order.ready", !strcmp(tobj_status(&o), "ready"), "order %s", tobj_status(&o));
        check_immutable(f, first, &o, "between pending and ready");
        if (!strcmp(tobj_status(&o), "ready")) {
            *order_url = xstrdup(o.url);
            *name_out = xstrdup(name);
        }
    } else {
        check_fail(rep, "order.ready", "%s", err.msg);
    }
    json_free(first);
out:
    free(name);
    tobj_clear(&o);
    tobj_clear(&az);
    tobj_clear(&fin);
}

static void check_failure(fixture *f)
{
    report *rep = f->rep;
    tacct *a = f->alice;
    aro_err err;
    tobj o = {0}, az = {0}, fin = {0};
    wire_resp r = {0};
    char *name = target_name(f->t, "fail");
    const char *names[] = {name};
    if (order_new(a, names, 1, NULL, &o, &err) || !order_first_authz(&o) || tobj_fetch(a, order_first_authz(&o), &az, &err)) {
        check_skip(rep, "chall.invalid", "setup: %s", err.msg);
        goto out;
    }
    yajl_val ch = challenge_of(az.json, "http-01");
    if (!ch) {
        check_skip(rep, "chall.invalid", "no http-01 challenge");
        goto out;
    }
    /* Nothing serves the token: the validation must fail. */
    char *curl = xstrdup(json_str(ch, "url"));
    char *az_url = xstrdup(az.url);
    if (target_raw(f->t, a, NULL, curl, "{}", &r, &err) ||
        tobj_poll(f->t, a, az_url, "valid invalid deactivated expired revoked", curl, &fin, &err)) {
        check_skip(rep, "chall.invalid", "%s", err.msg);
        goto out2;
    }
    yajl_val fc = challenge_by_url(fin.json, curl);
    check_that(rep, "chall.invalid", !strcmp(tobj_status(&fin), "invalid") && !strcmp(member_str(fc, "status"), "invalid"),
               "authorization %s, challenge %s", tobj_status(&fin), fc ? member_str(fc, "status") : "(no longer listed)");
    check_that(rep, "authz.keeps-invalid-challenge", fc != NULL, "the failed challenge is %s",
               fc ? "still listed" : "gone from the authorization");
    yajl_val e = json_member(fc, "error");
    if (fc && !strcmp(member_str(fc, "status"), "invalid"))
        check_that(rep, "chall.error", e && json_str(e, "type"), "error %s", e ? member_str(e, "type") : "(absent)");
    yajl_val all = json_member(fin.json, "challenges");
    for (size_t i = 0; json_array_len(all) > 0 && i < all->u.array.len; i++) {
        yajl_val c = all->u.array.values[i];
        if (json_member(c, "error"))
            check_that(f->rep, "chall.error-invalid", !strcmp(member_str(c, "status"), "invalid"),
                       "a %s challenge with an error has status %s", member_str(c, "type"), member_str(c, "status"));
    }
    if (tobj_poll(f->t, a, o.url, "invalid valid ready", NULL, &o, &err) == 0)
        check_that(rep, "order.invalid", !strcmp(tobj_status(&o), "invalid"), "order %s", tobj_status(&o));
    /* 7.1.6: invalid is final for the challenge, so a second response
     * (a client's retry request) changes nothing. */
    if (target_raw(f->t, a, NULL, curl, "{}", &r, &err) == 0) {
        tobj again = {0};
        if (tobj_fetch(a, az_url, &again, &err) == 0) {
            yajl_val ac = challenge_by_url(again.json, curl);
            check_that(rep, "chall.invalid-final",
                       !strcmp(tobj_status(&again), "invalid") && (!ac || !strcmp(member_str(ac, "status"), "invalid")),
                       "answer %s; then authorization %s, challenge %s", DESCRIBE(&r), tobj_status(&again),
                       ac ? member_str(ac, "status") : "(not listed)");
        }
        tobj_clear(&again);
    }
out2:
    free(curl);
    free(az_url);
out:
    free(name);
    tobj_clear(&o);
    tobj_clear(&az);
    tobj_clear(&fin);
    wire_resp_clear(&r);
}

static void check_deactivation(fixture *f)
{
    report *rep = f->rep;
    tacct *a = f->alice;
    aro_err err;
    tobj o = {0}, az = {0};
    wire_resp r = {0};
    char *name = target_name(f->t, "deactivate");
    const char *names[] = {name};
    if (order_new(a, names, 1, NULL, &o, &err) || !order_first_authz(&o)) {
        check_skip(rep, "authz.deactivate", "setup: %s", err.msg);
        goto valid;
    }
    char *az_url = xstrdup(order_first_authz(&o));
    if (f->bob && target_raw(f->t, f->bob, NULL, az_url, "{\"status\":\"deactivated\"}", &r, &err) == 0) {
        judge_refusal(rep, "authz.foreign-deactivate", &r, 0, NULL, "bob deactivating alice's authorization");
        if (tobj_fetch(a, az_url, &az, &err) == 0 && strcmp(tobj_status(&az), "pending"))
            check_fail(rep, "authz.foreign-deactivate", "the authorization is now %s", tobj_status(&az));
    }
    if (target_raw(f->t, a, NULL, az_url, "{\"status\":\"deactivated\"}", &r, &err) == 0) {
        const char *st = json_str(r.json, "status");
        check_that(rep, "authz.deactivate", r.status == 200 && st && !strcmp(st, "deactivated"), "%s, status %s",
                   DESCRIBE(&r), st ? st : "(none)");
    }
    if (tobj_fetch(a, o.url, &o, &err) == 0)
        check_that(rep, "order.deactivated-authz", !strcmp(tobj_status(&o), "invalid"),
                   "the order of a deactivated pending authorization is %s", tobj_status(&o));
    free(az_url);
valid:
    /* A valid authorization, then deactivated: its ready order must not
     * be finalized any more. */
    free(name);
    name = target_name(f->t, "deactivate-valid");
    names[0] = name;
    if (order_new(a, names, 1, NULL, &o, &err) || !order_first_authz(&o) ||
        authz_validate(f->t, a, order_first_authz(&o), "http-01", &az, &err) || strcmp(tobj_status(&az), "valid") ||
        tobj_poll(f->t, a, o.url, "ready invalid", NULL, &o, &err) || strcmp(tobj_status(&o), "ready")) {
        check_skip(rep, "authz.deactivated-insufficient", "setup: %s", err.msg);
        goto out;
    }
    if (target_raw(f->t, a, NULL, order_first_authz(&o), "{\"status\":\"deactivated\"}", &r, &err) || r.status != 200) {
        check_skip(rep, "authz.deactivated-insufficient", "deactivating the valid authorization: %s", DESCRIBE(&r));
        goto out;
    }
    EVP_PKEY *k = key_generate(KEY_EC256);
    char *csr = csr_b64(k, names, 1);
    char *payload = xasprintf("{\"csr\":\"%s\"}", csr ? csr : "");
    const char *fin = json_str(o.json, "finalize");
    char *order_url = xstrdup(o.url);
    if (fin && target_raw(f->t, a, NULL, fin, payload, &r, &err) == 0) {
        char ans[320];
        wire_describe(&r, ans, sizeof ans);
        const char *st = json_str(r.json, "status");
        bool issued = r.status == 200 && st && (!strcmp(st, "processing") || !strcmp(st, "valid"));
        if (!issued && tobj_fetch(a, order_url, &o, &err) == 0)
            issued = !strcmp(tobj_status(&o), "valid") || !strcmp(tobj_status(&o), "processing");
        check_that(rep, "authz.deactivated-insufficient", !issued, "finalize after the deactivation: %s; order %s", ans,
                   tobj_status(&o));
    }
    free(order_url);
    free(payload);
    free(csr);
    EVP_PKEY_free(k);
out:
    free(name);
    tobj_clear(&o);
    tobj_clear(&az);
    wire_resp_clear(&r);
}

static void check_wildcard(fixture *f)
{
    report *rep = f->rep;
    aro_err err;
    tobj o = {0}, az = {0}, fin = {0};
    char *base_name = target_name(f->t, "wild");
    char *wild = xasprintf("*.%s", base_name);
    const char *names[] = {wild};
    if (order_new(f->alice, names, 1, NULL, &o, &err) || !order_first_authz(&o) ||
        tobj_fetch(f->alice, order_first_authz(&o), &az, &err)) {
        check_skip(rep, "authz.wildcard", "a wildcard order: %s", err.msg);
        check_skip(rep, "chall.dns01", "no wildcard order to validate with dns-01");
        goto out;
    }
    yajl_val w = json_member(az.json, "wildcard");
    const char *v = member_str(json_member(az.json, "identifier"), "value");
    check_that(rep, "authz.wildcard", w && YAJL_IS_TRUE(w) && !strcmp(v, base_name), "identifier %s, wildcard %s", v,
               w ? (YAJL_IS_TRUE(w) ? "true" : "not true") : "absent");
    if (!challenge_of(az.json, "dns-01")) {
        check_skip(rep, "chall.dns01", "no dns-01 challenge offered");
        goto out;
    }
    if (authz_validate(f->t, f->alice, az.url, "dns-01", &fin, &err))
        check_fail(rep, "chall.dns01", "%s", err.msg);
    else
        check_that(rep, "chall.dns01", !strcmp(tobj_status(&fin), "valid"), "the authorization is %s",
                   tobj_status(&fin));
out:
    free(base_name);
    free(wild);
    tobj_clear(&o);
    tobj_clear(&az);
    tobj_clear(&fin);
}

static void check_new_authz(fixture *f)
{
    if (!f->t->new_authz) {
        check_skip(f->rep, "order.newauthz", "the directory offers no newAuthz");
        return;
    }
    wire_resp r = {0};
    aro_err err;
    char *name = target_name(f->t, "preauth");
    char *payload = xasprintf("{\"identifier\":{\"type\":\"dns\",\"value\":\"%s\"}}", name);
    if (target_raw(f->t, f->alice, NULL, f->t->new_authz, payload, &r, &err) == 0) {
        const char *st = json_str(r.json, "status");
        check_that(f->rep, "order.newauthz",
                   r.status == 201 && r.location && st && !strcmp(st, "pending") &&
                       json_array_len(json_member(r.json, "challenges")) > 0,
                   "%s, Location %s, status %s", DESCRIBE(&r), r.location ? r.location : "(none)", st ? st : "(none)");
    }
    free(payload);
    free(name);
    wire_resp_clear(&r);
}

static void check_refusals(fixture *f, const char *order_url)
{
    wire_resp r = {0};
    aro_err err;
    if (target_raw(f->t, f->alice, NULL, f->t->new_order,
                   "{\"identifiers\":[{\"type\":\"email\",\"value\":\"conform@example.com\"}]}", &r, &err) == 0)
        judge_refusal(f->rep, "order.unsupported-identifier", &r, 400, "unsupportedIdentifier",
                      "an identifier of type email");
    char *bad = xasprintf("{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a..%s\"}]}", f->t->domain);
    if (target_raw(f->t, f->alice, NULL, f->t->new_order, bad, &r, &err) == 0)
        judge_refusal(f->rep, "order.bad-identifier", &r, 0, NULL, "an order for a name with an empty label");
    free(bad);
    if (order_url && f->bob && target_raw(f->t, f->bob, NULL, order_url, NULL, &r, &err) == 0)
        judge_refusal(f->rep, "order.foreign-read", &r, 0, NULL, "bob reading alice's order");
    if (order_url) {
        const char *slash = strrchr(order_url, '/');
        char *rnd = random_id(12);
        char *missing = xasprintf("%.*s/%s", (int)(slash - order_url), order_url, rnd);
        if (target_raw(f->t, f->alice, NULL, missing, NULL, &r, &err) == 0)
            judge_refusal(f->rep, "order.not-found", &r, 404, NULL, "POST-as-GET on an order that does not exist");
        free(missing);
        free(rnd);
    }
    wire_resp_clear(&r);
}

static void run(fixture *f)
{
    if (!f->alice) {
        check_skip_rest(f->rep, "order.", "no account");
        check_skip_rest(f->rep, "authz.", "no account");
        check_skip_rest(f->rep, "chall.", "no account");
        return;
    }
    check_success(f, &f->ready_order, &f->ready_name);
    check_failure(f);
    check_deactivation(f);
    check_wildcard(f);
    check_new_authz(f);
    check_refusals(f, f->ready_order);
}

const check_area area_orders = {"orders", defs, sizeof defs / sizeof *defs, run};
