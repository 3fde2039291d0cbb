#include "target.h"

#include <errno.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme_crypto.h"
#include "b64url.h"
#include "challtest.h"
#include "forge.h"
#include "random.h"

#define POLL_MIN_SECONDS 0.3
#define POLL_MAX_SECONDS 3.0

static void sleep_for(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void sleep_until(time_t t, double margin, long max)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double wait = (double)t - ((double)now.tv_sec + (double)now.tv_nsec / 1e9) + margin;
    if (wait > (double)max)
        wait = (double)max;
    sleep_for(wait);
}

static const char *dir_url(yajl_val dir, const char *key)
{
    const char *s = json_str(dir, key);
    return s && *s ? s : NULL;
}

int target_open(target *t, aro_err *err)
{
    wire_resp r = {0};
    int ret = -1;
    if (!t->w && !(t->w = wire_new(t->ca_bundle, err)))
        return -1;
    if (wire_get(t->w, t->directory_url, &r, err))
        goto out;
    if (r.status != 200 || !r.json || !YAJL_IS_OBJECT(r.json)) {
        char d[256];
        aro_err_set(err, "GET %s: %s, not a JSON object", t->directory_url, wire_describe(&r, d, sizeof d));
        ret = 1;
        goto out;
    }
    t->dir = r.json;
    r.json = NULL;
    t->new_nonce = dir_url(t->dir, "newNonce");
    t->new_account = dir_url(t->dir, "newAccount");
    t->new_order = dir_url(t->dir, "newOrder");
    t->new_authz = dir_url(t->dir, "newAuthz");
    t->revoke_cert = dir_url(t->dir, "revokeCert");
    t->key_change = dir_url(t->dir, "keyChange");
    t->renewal_info = dir_url(t->dir, "renewalInfo");
    yajl_val meta = json_member(t->dir, "meta");
    yajl_val ro = json_member(meta, "retry-options");
    if (ro && YAJL_IS_OBJECT(ro)) {
        t->ro_meta = ro;
        yajl_val hold = json_member(ro, "hold");
        t->ro_hold = hold && YAJL_IS_TRUE(hold);
    }
    ret = 0;
out:
    wire_resp_clear(&r);
    return ret;
}

void target_close(target *t)
{
    json_free(t->dir);
    t->dir = NULL;
    wire_free(t->w);
    t->w = NULL;
    free(t->nonce);
    t->nonce = NULL;
}

char *target_name(target *t, const char *label)
{
    char *rnd = random_id(4);
    for (char *p = rnd; *p; p++)
        if (*p == '_' || *p == '-')
            *p = 'x';
        else if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    char *n = xasprintf("%s-%u-%s.%s", label, ++t->seq, rnd, t->domain);
    free(rnd);
    return n;
}

char *target_nonce(target *t)
{
    if (t->nonce) {
        char *n = t->nonce;
        t->nonce = NULL;
        return n;
    }
    wire_resp r = {0};
    aro_err err;
    char *n = NULL;
    if (t->new_nonce && wire_request(t->w, "HEAD", t->new_nonce, NULL, NULL, NULL, &r, &err) == 0 &&
        r.replay_nonce)
        n = xstrdup(r.replay_nonce);
    wire_resp_clear(&r);
    /* A server that gives none still gets a request to judge. */
    return n ? n : xstrdup("no-nonce-from-the-server");
}

int target_send(target *t, const char *url, const char *jws, wire_resp *r, aro_err *err)
{
    if (!jws) {
        aro_err_set(err, "cannot sign the request to %s", url);
        return -1;
    }
    int rc = wire_post(t->w, url, jws, r, err);
    if (rc == 0 && r->replay_nonce) {
        free(t->nonce);
        t->nonce = xstrdup(r->replay_nonce);
    }
    return rc;
}

int target_raw(target *t, const tacct *a, EVP_PKEY *key, const char *url, const char *payload,
               wire_resp *r, aro_err *err)
{
    char *nonce = target_nonce(t);
    forge_spec s = {.key = a ? a->key : key, .kid = a ? a->kid : NULL, .jwk = !a, .nonce = nonce,
                    .url = url, .payload = payload};
    char *jws = forge_jws(&s);
    int rc = target_send(t, url, jws, r, err);
    free(jws);
    free(nonce);
    return rc;
}

int target_raw_accept(target *t, const tacct *a, const char *url, const char *accept, wire_resp *r, aro_err *err)
{
    char *nonce = target_nonce(t);
    forge_spec s = {.key = a->key, .kid = a->kid, .nonce = nonce, .url = url};
    char *jws = forge_jws(&s);
    int rc = jws ? wire_request(t->w, "POST", url, jws, "application/jose+json", accept, r, err) : -1;
    if (!jws)
        aro_err_set(err, "cannot sign the request to %s", url);
    if (rc == 0 && r->replay_nonce) {
        free(t->nonce);
        t->nonce = xstrdup(r->replay_nonce);
    }
    free(jws);
    free(nonce);
    return rc;
}

tacct *tacct_new(target *t, const char *who, key_type kt, acme_resp *out, aro_err *err)
{
    tacct *a = xcalloc(1, sizeof *a);
    acme_resp r = {.retry_after = -1};
    a->who = xstrdup(who);
    a->key = key_generate(kt);
    if (!a->key) {
        aro_err_set(err, "cannot make a %s key", key_type_name(kt));
        goto fail;
    }
    if (acme_open(&a->ctx, t->directory_url, t->ca_bundle, err))
        goto fail;
    a->ctx.key = a->key;
    a->ctx.max_wait = t->max_wait;
    if (acme_post_key(&a->ctx, a->key, NULL, a->ctx.dir.new_account,
                      "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:conform@example.com\"]}", &r,
                      err))
        goto fail;
    if (!r.location) {
        aro_err_set(err, "newAccount answered %ld without a Location", r.status);
        goto fail;
    }
    a->kid = xstrdup(r.location);
    a->ctx.kid = xstrdup(r.location);
    if (out) {
        acme_resp_clear(out);
        *out = r;
    } else {
        acme_resp_clear(&r);
    }
    return a;
fail:
    if (out) {
        acme_resp_clear(out);
        *out = r;
    } else {
        acme_resp_clear(&r);
    }
    tacct_free(a);
    return NULL;
}

void tacct_free(tacct *a)
{
    if (!a)
        return;
    if (a->ctx.curl)
        acme_close(&a->ctx);
    EVP_PKEY_free(a->key);
    free(a->kid);
    free(a->who);
    free(a);
}

void tobj_clear(tobj *o)
{
    free(o->url);
    json_free(o->json);
    memset(o, 0, sizeof *o);
}

const char *tobj_status(const tobj *o)
{
    const char *s = json_str(o->json, "status");
    return s ? s : "(none)";
}

/* url may point into o itself (re-reading an object into its tobj). */
static void take(tobj *o, const char *url, acme_resp *r)
{
    char *u = xstrdup(r->location && !url ? r->location : url);
    tobj_clear(o);
    o->url = u;
    o->json = r->json;
    o->status = r->status;
    o->retry_after = r->retry_after;
    r->json = NULL;
}

int tobj_fetch(tacct *a, const char *url, tobj *o, aro_err *err)
{
    acme_resp r = {.retry_after = -1};
    int rc = acme_post(&a->ctx, url, NULL, &r, err);
    take(o, url, &r);
    acme_resp_clear(&r);
    return rc;
}

static bool word_in(const char *word, const char *list)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return true;
    return false;
}

static yajl_val challenge_by_url(yajl_val authz, const char *url)
{
    yajl_val ch = json_member(authz, "challenges");
    if (!ch || !YAJL_IS_ARRAY(ch))
        return NULL;
    for (size_t i = 0; i < ch->u.array.len; i++) {
        const char *u = json_str(ch->u.array.values[i], "url");
        if (u && !strcmp(u, url))
            return ch->u.array.values[i];
    }
    return NULL;
}

int tobj_poll(target *t, tacct *a, const char *url_in, const char *stop, const char *chall_url, tobj *o,
              aro_err *err)
{
    char url[2048];
    snprintf(url, sizeof url, "%s", url_in); /* url_in may be o->url, which each read replaces */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double wait = t->poll_max > 0 && t->poll_max < POLL_MIN_SECONDS ? t->poll_max : POLL_MIN_SECONDS, budget = t->max_wait > 30 ? (double)t->max_wait : 30.0;
    for (unsigned i = 0;; i++) {
        sleep_for(wait);
        if (tobj_fetch(a, url, o, err))
            return -1;
        if (word_in(tobj_status(o), stop))
            return 0;
        if (chall_url) {
            const char *cs = json_str(challenge_by_url(o->json, chall_url), "status");
            if (cs && strcmp(cs, "pending") && strcmp(cs, "processing"))
                return 0;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - t0.tv_sec) > budget) {
            aro_err_set(err, "%s still %s after %.0f s", url, tobj_status(o), budget);
            return -1;
        }
        wait = o->retry_after >= 0 ? (double)o->retry_after : POLL_MIN_SECONDS * (1 + i / 4);
        if (wait < POLL_MIN_SECONDS)
            wait = POLL_MIN_SECONDS;
        if (t->poll_max > 0 && wait > t->poll_max)
            wait = t->poll_max;
        double cap = t->poll_max > 0 ? t->poll_max : POLL_MAX_SECONDS;
        if (wait > cap)
            wait = cap;
    }
}

/* "{...}" + extra members (raw JSON), as forge.c does for headers. */
static char *with_extra(char *json, const char *extra)
{
    if (!json || !extra || !*extra)
        return json;
    size_t n = strlen(json);
    char *out = xasprintf("%.*s%s%s}", (int)(n - 1), json, n > 2 ? "," : "", extra);
    free(json);
    return out;
}

int order_new(tacct *a, const char *const *names, size_t n, const char *extra, tobj *o, aro_err *err)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_key(g, "identifiers");
    jg_arr_open(g);
    for (size_t i = 0; i < n; i++) {
        jg_obj_open(g);
        jg_kv_str(g, "type", "dns");
        jg_kv_str(g, "value", names[i]);
        jg_obj_close(g);
    }
    jg_arr_close(g);
    jg_obj_close(g);
    char *payload = with_extra(jg_finish(g, NULL), extra);
    acme_resp r = {.retry_after = -1};
    int rc = acme_post(&a->ctx, a->ctx.dir.new_order, payload, &r, err);
    if (rc == 0 && !r.location) {
        aro_err_set(err, "newOrder answered %ld without a Location", r.status);
        rc = -1;
    }
    take(o, r.location ? r.location : a->ctx.dir.new_order, &r);
    acme_resp_clear(&r);
    free(payload);
    return rc;
}

const char *order_first_authz(const tobj *o)
{
    yajl_val azs = json_member(o->json, "authorizations");
    return azs && YAJL_IS_ARRAY(azs) && azs->u.array.len ? YAJL_GET_STRING(azs->u.array.values[0]) : NULL;
}

yajl_val challenge_of(yajl_val authz, const char *type)
{
    yajl_val ch = json_member(authz, "challenges");
    if (!ch || !YAJL_IS_ARRAY(ch))
        return NULL;
    for (size_t i = 0; i < ch->u.array.len; i++) {
        const char *ty = json_str(ch->u.array.values[i], "type");
        const char *st = json_str(ch->u.array.values[i], "status");
        /* The one to answer: pending when there is a choice. */
        if (ty && !strcmp(ty, type) && (!st || !strcmp(st, "pending")))
            return ch->u.array.values[i];
    }
    for (size_t i = 0; i < ch->u.array.len; i++) {
        const char *ty = json_str(ch->u.array.values[i], "type");
        if (ty && !strcmp(ty, type))
            return ch->u.array.values[i];
    }
    return NULL;
}

int challenge_provision(target *t, tacct *a, const char *name, yajl_val chall, aro_err *err)
{
    const char *type = json_str(chall, "type"), *token = json_str(chall, "token");
    if (!t->cts) {
        aro_err_set(err, "no --challtestsrv: cannot answer %s challenges", type ? type : "the");
        return -1;
    }
    if (!type || !token) {
        aro_err_set(err, "the challenge has no type or token");
        return -1;
    }
    char *ka = acme_key_authorization(token, a->key);
    int rc;
    if (!strcmp(type, "http-01")) {
        rc = cts_add_http01(t->cts, token, ka, err);
    } else if (!strcmp(type, "dns-01")) {
        if (!strncmp(name, "*.", 2))
            name += 2;
        char *host = xasprintf("_acme-challenge.%s", name);
        char *txt = acme_dns01_txt_value(ka);
        rc = cts_set_txt(t->cts, host, txt, err);
        free(host);
        free(txt);
    } else {
        aro_err_set(err, "aro-conform answers http-01 and dns-01 only, not %s", type);
        rc = -1;
    }
    free(ka);
    return rc;
}

int authz_validate(target *t, tacct *a, const char *authz_url, const char *type, tobj *final,
                   aro_err *err)
{
    acme_resp r = {.retry_after = -1};
    int rc = -1;
    if (tobj_fetch(a, authz_url, final, err))
        goto out;
    if (!strcmp(tobj_status(final), "valid"))
        return 0;
    const char *name = json_str(json_member(final->json, "identifier"), "value");
    yajl_val ch = challenge_of(final->json, type);
    if (!name || !ch || !json_str(ch, "url")) {
        aro_err_set(err, "%s offers no %s challenge", authz_url, type);
        goto out;
    }
    char *curl = xstrdup(json_str(ch, "url"));
    if (challenge_provision(t, a, name, ch, err) || acme_post(&a->ctx, curl, "{}", &r, err) ||
        tobj_poll(t, a, authz_url, "valid invalid deactivated expired revoked", curl, final, err)) {
        free(curl);
        goto out;
    }
    free(curl);
    rc = 0;
out:
    acme_resp_clear(&r);
    return rc;
}

char *csr_b64(EVP_PKEY *key, const char *const *names, size_t n)
{
    unsigned char *der = NULL;
    size_t len = 0;
    aro_err err;
    if (csr_create_der(key, names, n, &der, &len, &err))
        return NULL;
    char *b = b64url_encode(der, len);
    free(der);
    return b;
}

void issued_clear(issued *c)
{
    free(c->name);
    free(c->order_url);
    free(c->cert_url);
    free(c->pem);
    for (size_t i = 0; i < c->nalternates; i++)
        free(c->alternates[i]);
    free(c->alternates);
    EVP_PKEY_free(c->cert_key);
    free(c->der);
    memset(c, 0, sizeof *c);
}

int issue_certificate(target *t, tacct *a, const char *name, issued *out, aro_err *err)
{
    tobj o = {0}, az = {0};
    acme_resp r = {.retry_after = -1};
    int rc = -1;
    memset(out, 0, sizeof *out);
    out->name = xstrdup(name);
    out->owner = a;
    if (order_new(a, &name, 1, NULL, &o, err))
        goto out;
    out->order_url = xstrdup(o.url);
    yajl_val azs = json_member(o.json, "authorizations");
    for (size_t i = 0; azs && YAJL_IS_ARRAY(azs) && i < azs->u.array.len; i++) {
        const char *u = YAJL_GET_STRING(azs->u.array.values[i]);
        if (!u || authz_validate(t, a, u, "http-01", &az, err))
            goto out;
        if (strcmp(tobj_status(&az), "valid")) {
            aro_err_set(err, "authorization %s is %s", u, tobj_status(&az));
            goto out;
        }
    }
    if (tobj_poll(t, a, out->order_url, "ready invalid valid", NULL, &o, err))
        goto out;
    const char *fin = json_str(o.json, "finalize");
    if (!fin) {
        aro_err_set(err, "the order has no finalize URL");
        goto out;
    }
    out->cert_key = key_generate(KEY_EC256);
    char *csr = csr_b64(out->cert_key, &name, 1);
    char *payload = xasprintf("{\"csr\":\"%s\"}", csr ? csr : "");
    free(csr);
    int frc = acme_post(&a->ctx, fin, payload, &r, err);
    free(payload);
    if (frc || tobj_poll(t, a, out->order_url, "valid invalid", NULL, &o, err))
        goto out;
    const char *cert = json_str(o.json, "certificate");
    if (strcmp(tobj_status(&o), "valid") || !cert) {
        aro_err_set(err, "the order ended %s without a certificate URL", tobj_status(&o));
        goto out;
    }
    out->cert_url = xstrdup(cert);
    if (acme_post_pem(&a->ctx, out->cert_url, &r, err))
        goto out;
    out->pem = xstrndup(r.body ? r.body : "", r.body_len);
    out->alternates = r.alternates;
    out->nalternates = r.nalternates;
    r.alternates = NULL;
    r.nalternates = 0;
    X509 **chain = NULL;
    int nc = x509_chain_from_pem(out->pem, strlen(out->pem), &chain, err);
    if (nc < 1)
        goto out;
    int dl = i2d_X509(chain[0], NULL);
    if (dl > 0) {
        unsigned char *p = out->der = xmalloc((size_t)dl);
        i2d_X509(chain[0], &p);
        out->der_len = (size_t)dl;
    }
    for (int i = 0; i < nc; i++)
        X509_free(chain[i]);
    free(chain);
    rc = out->der ? 0 : -1;
out:
    tobj_clear(&o);
    tobj_clear(&az);
    acme_resp_clear(&r);
    return rc;
}

bool json_same(yajl_val a, yajl_val b)
{
    if (!a || !b)
        return a == b;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case yajl_t_string: return !strcmp(a->u.string, b->u.string);
    case yajl_t_number: return !strcmp(a->u.number.r, b->u.number.r);
    case yajl_t_array:
        if (a->u.array.len != b->u.array.len)
            return false;
        for (size_t i = 0; i < a->u.array.len; i++)
            if (!json_same(a->u.array.values[i], b->u.array.values[i]))
                return false;
        return true;
    case yajl_t_object:
        if (a->u.object.len != b->u.object.len)
            return false;
        for (size_t i = 0; i < a->u.object.len; i++)
            if (!json_same(a->u.object.values[i], json_member(b, a->u.object.keys[i])))
                return false;
        return true;
    default: return true; /* true, false, null: the type says it all */
    }
}

const char *json_string_or_empty(yajl_val v)
{
    return v && YAJL_IS_STRING(v) ? v->u.string : "";
}

long json_array_len(yajl_val v)
{
    return v && YAJL_IS_ARRAY(v) ? (long)v->u.array.len : -1;
}

time_t json_time(yajl_val obj, const char *key)
{
    const char *s = json_str(obj, key);
    time_t t;
    return s && time_parse_rfc3339(s, &t) == 0 ? t : 0;
}
