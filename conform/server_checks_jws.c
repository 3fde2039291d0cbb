#include "server_checks_jws.h"

#include <stdlib.h>
#include <string.h>

#include "forge.h"
#include "random.h"

static const check_def defs[] = {
    {"jws.es256", "RFC 8555 6.2", LEVEL_MUST, "the server accepts ES256 (an ES256 account was made)"},
    {"jws.eddsa", "RFC 8555 6.2", LEVEL_SHOULD, "the server accepts EdDSA with Ed25519 (newAccount)"},
    {"jws.rs256", "RFC 8555 6.2", LEVEL_PRACTICE, "the server accepts RS256 with a 2048-bit key (newAccount)"},
    {"jws.alg-none", "RFC 8555 6.2", LEVEL_MUST, "\"alg\": \"none\" is refused with 400 badSignatureAlgorithm"},
    {"jws.alg-mac", "RFC 8555 6.2", LEVEL_MUST, "a MAC algorithm (HS256) is refused with 400 badSignatureAlgorithm"},
    {"jws.algorithms-field", "RFC 8555 6.2", LEVEL_MUST,
     "a badSignatureAlgorithm problem lists the supported algorithms in \"algorithms\""},
    {"jws.alg-mismatch", "RFC 8555 6.2", LEVEL_MUST, "an \"alg\" that does not match the key (RS256 on EC) is refused"},
    {"jws.bad-signature", "RFC 8555 6.2", LEVEL_MUST, "a signature that does not verify is refused"},
    {"jws.jwk-and-kid", "RFC 8555 6.2", LEVEL_MUST, "a request with both \"jwk\" and \"kid\" is refused"},
    {"jws.neither", "RFC 8555 6.2", LEVEL_MUST, "a request with neither \"jwk\" nor \"kid\" is refused"},
    {"jws.kid-required", "RFC 8555 6.2", LEVEL_MUST, "\"jwk\" instead of \"kid\" on newOrder is refused"},
    {"jws.jwk-required", "RFC 8555 6.2", LEVEL_MUST, "\"kid\" instead of \"jwk\" on newAccount is refused"},
    {"jws.unknown-kid", "RFC 8555 6.2", LEVEL_MUST, "a \"kid\" that names no account is refused"},
    {"jws.url-mismatch", "RFC 8555 6.4", LEVEL_MUST, "a \"url\" of another resource is refused as unauthorized"},
    {"jws.url-exact", "RFC 8555 6.4", LEVEL_MUST,
     "a \"url\" that differs from the request URL only by a query is refused as unauthorized"},
    {"jws.url-missing", "RFC 8555 6.4.1", LEVEL_MUST, "a request without \"url\" is refused"},
    {"jws.content-type", "RFC 8555 6.2", LEVEL_MUST, "Content-Type application/json is refused with 415"},
    {"jws.no-content-type", "RFC 8555 6.2", LEVEL_MUST, "a request without Content-Type is refused with 415"},
    {"jws.nonce-missing", "RFC 8555 6.5", LEVEL_MUST, "a request without \"nonce\" is refused with 400 badNonce"},
    {"jws.nonce-invented", "RFC 8555 6.5", LEVEL_MUST, "a nonce the server never issued is refused with 400 badNonce"},
    {"jws.nonce-replayed", "RFC 8555 6.5", LEVEL_MUST, "a nonce used once already is refused with 400 badNonce"},
    {"jws.nonce-malformed", "RFC 8555 6.5.2", LEVEL_MUST, "a nonce that is not base64url is refused (400)"},
    {"jws.badnonce-retry", "RFC 8555 6.5", LEVEL_MUST,
     "a badNonce answer carries a Replay-Nonce that the retry is accepted with"},
    {"jws.post-as-get", "RFC 8555 6.3", LEVEL_MUST, "POST-as-GET on the account answers 200 with the account"},
    {"jws.post-as-get-bootstrap", "RFC 8555 6.3", LEVEL_MUST,
     "POST-as-GET is allowed on the directory and on newNonce"},
    {"jws.get-order-405", "RFC 8555 6.3", LEVEL_MUST, "a GET on an order URL is refused with 405 malformed"},
};

typedef struct {
    fixture *f;
    char *payload;      /* a valid newOrder payload */
    char *order_url;    /* a pending order of alice */
} jctx;

/* Send s (nonce filled in unless the case sets one) to url. */
static int send_spec(jctx *c, forge_spec *s, const char *url, const char *content_type, wire_resp *r,
                     const char *id)
{
    target *t = c->f->t;
    aro_err err;
    char *nonce = NULL;
    if (!s->nonce)
        s->nonce = nonce = target_nonce(t);
    char *jws = forge_jws(s);
    int rc;
    if (content_type)
        rc = wire_request(t->w, "POST", url, jws, *content_type ? content_type : NULL, NULL, r, &err);
    else
        rc = target_send(t, url, jws, r, &err);
    if (rc)
        check_fail(c->f->rep, id, "no HTTP answer: %s", err.msg);
    free(jws);
    free(nonce);
    return rc;
}

/* A well-formed newOrder by alice with one change applied by the caller. */
static forge_spec base(jctx *c)
{
    return (forge_spec){.key = c->f->alice->key, .kid = c->f->alice->kid, .url = c->f->t->new_order,
                        .payload = c->payload};
}

static void refused(jctx *c, const char *id, forge_spec s, const char *url, int status, const char *types,
                    const char *what)
{
    wire_resp r = {0};
    if (send_spec(c, &s, url ? url : c->f->t->new_order, NULL, &r, id) == 0)
        judge_refusal(c->f->rep, id, &r, status, types, what);
    wire_resp_clear(&r);
}

static void check_algorithms(jctx *c)
{
    fixture *f = c->f;
    report *rep = f->rep;
    aro_err err;
    acme_resp ar = {.retry_after = -1};
    check_pass(rep, "jws.es256", "alice signs with ES256");
    static const struct {
        const char *id;
        key_type kt;
    } keys[] = {{"jws.eddsa", KEY_ED25519}, {"jws.rs256", KEY_RSA2048}};
    for (size_t i = 0; i < 2; i++) {
        tacct *a = tacct_new(f->t, "algorithm", keys[i].kt, &ar, &err);
        check_that(rep, keys[i].id, a != NULL, "newAccount with a %s key: %s", key_type_name(keys[i].kt),
                   a ? "created" : err.msg);
        tacct_free(a);
        acme_resp_clear(&ar);
    }
    wire_resp r = {0};
    forge_spec s = base(c);
    s.alg = "none";
    s.sig = SIG_EMPTY;
    if (send_spec(c, &s, f->t->new_order, NULL, &r, "jws.alg-none") == 0) {
        judge_refusal(rep, "jws.alg-none", &r, 400, "badSignatureAlgorithm", "alg none, empty signature");
        if (!strcmp(wire_problem(&r) ? wire_problem(&r) : "", "badSignatureAlgorithm")) {
            yajl_val algs = r.json ? json_member(r.json, "algorithms") : NULL;
            bool ok = json_array_len(algs) > 0;
            for (size_t i = 0; ok && i < algs->u.array.len; i++)
                ok = YAJL_IS_STRING(algs->u.array.values[i]);
            check_that(rep, "jws.algorithms-field", ok, "the badSignatureAlgorithm problem %s",
                       ok ? "lists the algorithms" : "has no \"algorithms\" array of strings");
        }
    }
    s = base(c);
    s.alg = "HS256";
    s.sig = SIG_HMAC;
    if (send_spec(c, &s, f->t->new_order, NULL, &r, "jws.alg-mac") == 0)
        judge_refusal(rep, "jws.alg-mac", &r, 400, "badSignatureAlgorithm", "alg HS256 keyed with the public JWK");
    if (report_find(rep, "jws.algorithms-field")->result == RESULT_NOT_RUN)
        check_skip(rep, "jws.algorithms-field", "no badSignatureAlgorithm answer to look at");
    wire_resp_clear(&r);
    s = base(c);
    s.alg = "RS256";
    refused(c, "jws.alg-mismatch", s, NULL, 0, NULL, "alg RS256 on an ES256 signature");
    s = base(c);
    s.sig = SIG_FLIPPED;
    refused(c, "jws.bad-signature", s, NULL, 0, NULL, "signature with one bit flipped");
}

static void check_keys(jctx *c)
{
    fixture *f = c->f;
    forge_spec s = base(c);
    s.jwk = true;
    refused(c, "jws.jwk-and-kid", s, NULL, 0, NULL, "both jwk and kid");
    s = base(c);
    s.kid = NULL;
    refused(c, "jws.neither", s, NULL, 0, NULL, "neither jwk nor kid");
    s = base(c);
    s.kid = NULL;
    s.jwk = true;
    refused(c, "jws.kid-required", s, NULL, 0, NULL, "jwk on newOrder");
    EVP_PKEY *k = key_generate(KEY_EC256);
    s = (forge_spec){.key = k, .kid = f->alice->kid, .url = f->t->new_account,
                     .payload = "{\"termsOfServiceAgreed\":true}"};
    refused(c, "jws.jwk-required", s, f->t->new_account, 0, NULL, "kid on newAccount");
    EVP_PKEY_free(k);
    s = base(c);
    const char *slash = strrchr(f->alice->kid, '/');
    char *rnd = random_id(12);
    char *unknown = xasprintf("%.*s/%s", (int)(slash ? slash - f->alice->kid : 0), f->alice->kid, rnd);
    s.kid = unknown;
    refused(c, "jws.unknown-kid", s, NULL, 0, NULL, "kid of an account that does not exist");
    free(unknown);
    free(rnd);
}

static void check_url(jctx *c)
{
    fixture *f = c->f;
    forge_spec s = base(c);
    if (f->t->revoke_cert) {
        s.url = f->t->revoke_cert;
        refused(c, "jws.url-mismatch", s, NULL, 0, "unauthorized", "url of revokeCert posted to newOrder");
    }
    char *q = xasprintf("%s?conform=1", f->t->new_order);
    s = base(c);
    s.url = q;
    refused(c, "jws.url-exact", s, NULL, 0, "unauthorized", "url with a query appended");
    free(q);
    s = base(c);
    s.url = NULL;
    refused(c, "jws.url-missing", s, NULL, 0, NULL, "no url");
}

static void check_content_type(jctx *c)
{
    wire_resp r = {0};
    forge_spec s = base(c);
    if (send_spec(c, &s, c->f->t->new_order, "application/json", &r, "jws.content-type") == 0)
        judge_refusal(c->f->rep, "jws.content-type", &r, 415, NULL, "Content-Type: application/json");
    s = base(c);
    if (send_spec(c, &s, c->f->t->new_order, "", &r, "jws.no-content-type") == 0)
        judge_refusal(c->f->rep, "jws.no-content-type", &r, 415, NULL, "no Content-Type");
    wire_resp_clear(&r);
}

static void check_nonces(jctx *c)
{
    fixture *f = c->f;
    target *t = f->t;
    report *rep = f->rep;
    wire_resp r = {0};
    aro_err err;
    forge_spec s = base(c);
    s.nonce = NULL;
    /* send_spec fills a missing nonce in: build this one by hand. */
    char *jws = forge_jws(&s);
    if (target_send(t, t->new_order, jws, &r, &err) == 0)
        judge_refusal(rep, "jws.nonce-missing", &r, 400, "badNonce", "no nonce");
    free(jws);
    char *rnd = random_id(16);
    s = base(c);
    s.nonce = rnd;
    refused(c, "jws.nonce-invented", s, NULL, 400, "badNonce", "a random nonce");
    free(rnd);
    s = base(c);
    s.nonce = "not+base64url/=";
    refused(c, "jws.nonce-malformed", s, NULL, 400, "malformed badNonce", "nonce \"not+base64url/=\"");

    /* A nonce that served a successful POST-as-GET, used again. */
    char *used = target_nonce(t);
    s = (forge_spec){.key = f->alice->key, .kid = f->alice->kid, .url = f->alice->kid, .nonce = used};
    jws = forge_jws(&s);
    if (target_send(t, f->alice->kid, jws, &r, &err) == 0) {
        if (r.status == 200) {
            s = base(c);
            s.nonce = used;
            refused(c, "jws.nonce-replayed", s, NULL, 400, "badNonce", "the nonce of the previous request");
        } else {
            check_skip(rep, "jws.nonce-replayed", "the first use failed: %s", DESCRIBE(&r));
        }
    }
    free(jws);
    free(used);

    /* badNonce, then the retry with the nonce of that answer. */
    s = (forge_spec){.key = f->alice->key, .kid = f->alice->kid, .url = f->alice->kid, .nonce = "AAAAAAAAAAAAAAAA"};
    jws = forge_jws(&s);
    if (target_send(t, f->alice->kid, jws, &r, &err) == 0) {
        if (!wire_problem(&r) || strcmp(wire_problem(&r), "badNonce")) {
            check_skip(rep, "jws.badnonce-retry", "no badNonce to retry: %s", DESCRIBE(&r));
        } else if (!r.replay_nonce) {
            check_fail(rep, "jws.badnonce-retry", "the badNonce answer has no Replay-Nonce");
        } else {
            char *fresh = xstrdup(r.replay_nonce);
            free(t->nonce); /* the retry must use exactly that nonce */
            t->nonce = NULL;
            s.nonce = fresh;
            char *retry = forge_jws(&s);
            if (target_send(t, f->alice->kid, retry, &r, &err) == 0)
                check_that(rep, "jws.badnonce-retry", r.status == 200, "retry with the badNonce answer's nonce: %s",
                           DESCRIBE(&r));
            free(retry);
            free(fresh);
        }
    }
    free(jws);
    wire_resp_clear(&r);
}

static void check_post_as_get(jctx *c)
{
    fixture *f = c->f;
    target *t = f->t;
    report *rep = f->rep;
    wire_resp r = {0};
    aro_err err;
    if (target_raw(t, f->alice, NULL, f->alice->kid, NULL, &r, &err) == 0) {
        const char *st = json_str(r.json, "status");
        check_that(rep, "jws.post-as-get", r.status == 200 && st, "POST-as-GET on the account: %s, status %s",
                   DESCRIBE(&r), st ? st : "(none)");
    }
    if (target_raw(t, f->alice, NULL, t->directory_url, NULL, &r, &err) == 0)
        check_that(rep, "jws.post-as-get-bootstrap", r.status == 200 && r.json && json_member(r.json, "newOrder"),
                   "POST-as-GET on the directory: %s", DESCRIBE(&r));
    if (t->new_nonce && target_raw(t, f->alice, NULL, t->new_nonce, NULL, &r, &err) == 0)
        check_that(rep, "jws.post-as-get-bootstrap", (r.status == 200 || r.status == 204) && r.replay_nonce,
                   "POST-as-GET on newNonce: %s, Replay-Nonce %s", DESCRIBE(&r), r.replay_nonce ? "present" : "absent");
    if (c->order_url && wire_get(t->w, c->order_url, &r, &err) == 0)
        judge_refusal(rep, "jws.get-order-405", &r, 405, "malformed", "GET on an order URL");
    wire_resp_clear(&r);
}

static void run(fixture *f)
{
    if (!f->alice) {
        check_skip_rest(f->rep, "jws.", "no account to sign with");
        return;
    }
    aro_err err;
    tobj o = {0};
    char *name = target_name(f->t, "jws");
    const char *names[] = {name};
    jctx c = {.f = f};
    c.payload = xasprintf("{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}", name);
    if (order_new(f->alice, names, 1, NULL, &o, &err) == 0)
        c.order_url = xstrdup(o.url);
    else
        check_skip(f->rep, "jws.get-order-405", "no order: %s", err.msg);
    check_algorithms(&c);
    check_keys(&c);
    check_url(&c);
    check_content_type(&c);
    check_nonces(&c);
    check_post_as_get(&c);
    tobj_clear(&o);
    free(c.payload);
    free(c.order_url);
    free(name);
}

const check_area area_jws = {"jws", defs, sizeof defs / sizeof *defs, run};
