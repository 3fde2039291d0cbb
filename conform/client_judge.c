#include "client_judge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acme_crypto.h"
#include "b64url.h"
#include "backoff.h"
#include "client_judge_flow.h"

#define DRAFT "draft-aro-acme-retry-options-01 "
#define SLACK 0.1 /* seconds of measurement noise allowed in timing rules */

const check_def client_checks[] = {
    {"client.user-agent", "RFC 8555 6.1", LEVEL_MUST, "every request carries a User-Agent"},
    {"client.accept-language", "RFC 8555 6.1", LEVEL_SHOULD, "requests carry Accept-Language"},
    {"client.content-type", "RFC 8555 6.2", LEVEL_MUST, "every POST has Content-Type application/jose+json"},
    {"client.flattened", "RFC 8555 6.2", LEVEL_MUST,
     "every POST body is a flattened JWS: protected, payload, signature and nothing else"},
    {"client.alg", "RFC 8555 6.2", LEVEL_MUST, "no JWS uses \"none\" or a MAC algorithm"},
    {"client.jwk-kid", "RFC 8555 6.2", LEVEL_MUST,
     "jwk on newAccount (and certificate-key revocations), the account URL as kid elsewhere, never both"},
    {"client.url", "RFC 8555 6.4", LEVEL_MUST, "every JWS \"url\" is exactly the URL it is posted to"},
    {"client.nonce", "RFC 8555 6.5", LEVEL_MUST, "every JWS carries a base64url \"nonce\""},
    {"client.nonce-once", "RFC 8555 6.5", LEVEL_PRACTICE, "no nonce is sent twice"},
    {"client.post-as-get", "RFC 8555 6.3", LEVEL_MUST,
     "resources are fetched with POST-as-GET; GET only for the directory, newNonce and renewalInfo"},
    {"client.no-replay-nonce-header", "RFC 8555 6.5.1", LEVEL_SHOULD, "requests carry no Replay-Nonce header"},
    {"client.challenge-response", "RFC 8555 7.5.1", LEVEL_MUST,
     "a POST to a challenge is a JSON object ({}) or a POST-as-GET"},
    {"client.csr", "RFC 8555 7.4", LEVEL_MUST, "the CSR names exactly the order's identifiers"},
    {"client.poll-interval", "RFC 8555 7.5.1", LEVEL_PRACTICE,
     "polls of a pending or processing object no faster than its Retry-After (1 s without one)"},
    {"client.deactivate-abandoned", "RFC 8555 7.5.2", LEVEL_PRACTICE,
     "authorizations the client leaves pending are deactivated"},
    {"client.no-response-to-invalid", DRAFT "7", LEVEL_SHOULD,
     "no challenge response to a challenge of an invalid authorization"},
    {"client.issued", "RFC 8555 7.4.2", LEVEL_PRACTICE, "baseline: the client obtains its certificate"},
    {"client.alternates", "RFC 8555 7.4.2", LEVEL_MAY,
     "alternate chains, when the client fetches them, with POST-as-GET"},
    {"client.ari-get", "RFC 9773 4.1", LEVEL_MUST, "renewalInfo, when the client asks for it, is an unauthenticated GET"},
    {"client.ari-certid", "RFC 9773 4.1", LEVEL_MUST, "the renewalInfo path is the certificate's CertID, unpadded"},
    {"client.ari-replaces", "RFC 9773 5", LEVEL_SHOULD,
     "an order renewing an issued certificate names it in \"replaces\""},
    {"client.badnonce-retry", "RFC 8555 6.5", LEVEL_SHOULD, "badnonce: a badNonce answer is followed by a retry"},
    {"client.badnonce-nonce", "RFC 8555 6.5", LEVEL_MUST, "badnonce: the retry uses the nonce of the badNonce answer"},
    {"client.retry-after-429", "RFC 8555 6.6", LEVEL_PRACTICE,
     "ratelimited: after a 429, the request is not repeated before its Retry-After"},
    {"client.retry-after-5xx", "RFC 9110 10.2.3", LEVEL_PRACTICE,
     "unavailable: after a 5xx with Retry-After, the request is not repeated before it"},
    {"client.processing", "RFC 8555 7.1.6", LEVEL_PRACTICE,
     "processing: the client waits out a processing challenge (8.2 retry) and order and gets its certificate"},
    {"client.ro-offer-taken", DRAFT "7", LEVEL_MAY,
     "retry-offer: the client takes the offer (a re-enable, or a response to a held authorization's choice)"},
    {"client.ro-hold", DRAFT "7", LEVEL_MUST, "retry-offer: a client taking offers asks for pending-hold when offered"},
    {"client.ro-notbefore", DRAFT "7", LEVEL_MUST, "retry-offer: it waits until notBefore"},
    {"client.ro-same-order", DRAFT "7", LEVEL_MUST, "retry-offer: it finalizes the same order"},
};

const size_t nclient_checks = sizeof client_checks / sizeof *client_checks;

/* ---- shared helpers --------------------------------------------------------- */

bool path_is(const char *path, const char *prefix)
{
    return *prefix && !strncmp(path, prefix, strlen(prefix));
}

const char *fixed_path(const scenario_run *run, const char *resource)
{
    for (size_t i = 0; i < run->n; i++) {
        const exchange *e = &run->log[i];
        const char *u = json_str(e->resp_json, resource);
        if (e->status == 200 && json_member(e->resp_json, "newNonce") && u) {
            size_t ol = strlen(run->origin);
            return !strncmp(u, run->origin, ol) ? u + ol : "";
        }
    }
    static const struct {
        const char *res, *path;
    } fallback[] = {{"newNonce", "/acme/new-nonce"}, {"newAccount", "/acme/new-account"},
                    {"newOrder", "/acme/new-order"}, {"revokeCert", "/acme/revoke-cert"},
                    {"keyChange", "/acme/key-change"}, {"renewalInfo", "/acme/renewal-info"}};
    for (size_t i = 0; i < sizeof fallback / sizeof *fallback; i++)
        if (!strcmp(fallback[i].res, resource))
            return fallback[i].path;
    return "";
}

bool is_post_as_get(const exchange *e)
{
    return !strcmp(e->method, "POST") && e->payload && !*e->payload;
}

const char *resp_status(const exchange *e)
{
    const char *s = json_str(e->resp_json, "status");
    return s ? s : "";
}

double retry_after_of(const exchange *e)
{
    long v = retry_after_parse(e->retry_after, time(NULL));
    return v < 0 ? -1 : (double)v;
}

static bool b64url_value(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return false;
    return true;
}

/* ---- every request ---------------------------------------------------------- */

typedef struct {
    report *rep;
    const scenario_run *run;
    const char *name;
    size_t posts, with_lang, requests;
} rules;

#define FAIL(id, ...)                                                                     \
    do {                                                                                  \
        char d_[600];                                                                     \
        snprintf(d_, sizeof d_, __VA_ARGS__);                                             \
        check_fail(ru->rep, id, "[%s] %s", ru->name, d_);                                 \
    } while (0)

static bool known_account(const scenario_run *run, size_t upto, const char *kid)
{
    for (size_t i = 0; i < upto; i++)
        if (run->log[i].location && !strcmp(run->log[i].location, kid) &&
            path_is(run->log[i].path, fixed_path(run, "newAccount")))
            return true;
    return false;
}

static void jws_rules(rules *ru, size_t i, const exchange *e)
{
    const scenario_run *run = ru->run;
    if (!e->content_type || strncasecmp(e->content_type, "application/jose+json", 21))
        FAIL("client.content-type", "POST %s with Content-Type %s", e->path, e->content_type ? e->content_type : "(none)");
    if (!e->flattened) {
        FAIL("client.flattened", "POST %s: the body is not a flattened JWS (%.80s)", e->path, e->body);
        return;
    }
    const char *alg = json_str(e->header, "alg");
    if (!alg || !strcmp(alg, "none") || !strncmp(alg, "HS", 2))
        FAIL("client.alg", "POST %s with alg %s", e->path, alg ? alg : "(none)");
    bool jwk = json_member(e->header, "jwk") != NULL;
    const char *kid = json_str(e->header, "kid");
    bool new_account = !strcmp(e->path, fixed_path(run, "newAccount"));
    bool revoke = !strcmp(e->path, fixed_path(run, "revokeCert"));
    if (jwk && kid)
        FAIL("client.jwk-kid", "POST %s carries both jwk and kid", e->path);
    else if (new_account && !jwk)
        FAIL("client.jwk-kid", "newAccount without jwk");
    else if (!new_account && !revoke && !kid)
        FAIL("client.jwk-kid", "POST %s without kid", e->path);
    else if (!new_account && kid && !known_account(run, i, kid))
        FAIL("client.jwk-kid", "POST %s with kid %s, which is no account URL the server gave", e->path, kid);
    const char *url = json_str(e->header, "url");
    char *want = xasprintf("%s%s", run->origin, e->path);
    if (!url || strcmp(url, want))
        FAIL("client.url", "POST %s with url %s", want, url ? url : "(none)");
    free(want);
    const char *nonce = json_str(e->header, "nonce");
    if (!b64url_value(nonce))
        FAIL("client.nonce", "POST %s with nonce %s", e->path, nonce ? nonce : "(none)");
    for (size_t j = 0; nonce && j < i; j++) {
        const char *other = json_str(run->log[j].header, "nonce");
        if (other && !strcmp(other, nonce)) {
            FAIL("client.nonce-once", "POST %s reuses the nonce of POST %s", e->path, run->log[j].path);
            break;
        }
    }
    if (path_is(e->path, "/acme/chall/") && e->payload && *e->payload) {
        aro_err err;
        yajl_val v = json_parse(e->payload, strlen(e->payload), &err);
        if (!v || !YAJL_IS_OBJECT(v))
            FAIL("client.challenge-response", "POST %s with payload %.80s", e->path, e->payload);
        json_free(v);
    }
}

static void request_rules(rules *ru)
{
    const scenario_run *run = ru->run;
    const char *dir = "/directory", *nonce = fixed_path(run, "newNonce"), *ari = fixed_path(run, "renewalInfo");
    for (size_t i = 0; i < run->n; i++) {
        const exchange *e = &run->log[i];
        ru->requests++;
        if (!e->user_agent || !*e->user_agent)
            FAIL("client.user-agent", "%s %s without a User-Agent", e->method, e->path);
        ru->with_lang += e->accept_language != NULL;
        if (e->replay_nonce_header)
            FAIL("client.no-replay-nonce-header", "%s %s carries a Replay-Nonce header", e->method, e->path);
        if (!strcmp(e->method, "GET") || !strcmp(e->method, "HEAD")) {
            bool ok = !strcmp(e->path, dir) || !strcmp(e->path, nonce) || (path_is(e->path, ari) && *ari);
            if (!ok)
                FAIL("client.post-as-get", "%s %s (a resource to fetch with POST-as-GET)", e->method, e->path);
        } else if (!strcmp(e->method, "POST")) {
            ru->posts++;
            jws_rules(ru, i, e);
        }
    }
}

/* ---- CSRs ------------------------------------------------------------------- */

/* The identifiers of the order at order_path, from the latest answer. */
static yajl_val order_identifiers(const scenario_run *run, size_t upto, const char *order_path)
{
    char *url = xasprintf("%s%s", run->origin, order_path);
    yajl_val ids = NULL;
    for (size_t i = 0; i < upto; i++) {
        const exchange *e = &run->log[i];
        bool same = !strcmp(e->path, order_path) || (e->location && !strcmp(e->location, url));
        if (same && json_member(e->resp_json, "identifiers"))
            ids = json_member(e->resp_json, "identifiers");
    }
    free(url);
    return ids;
}

static void csr_rules(rules *ru)
{
    const scenario_run *run = ru->run;
    for (size_t i = 0; i < run->n; i++) {
        const exchange *e = &run->log[i];
        size_t pl = strlen(e->path);
        if (strcmp(e->method, "POST") || !path_is(e->path, "/acme/order/") || pl < 9 ||
            strcmp(e->path + pl - 9, "/finalize") || !e->payload)
            continue;
        aro_err err;
        yajl_val p = json_parse(e->payload, strlen(e->payload), &err);
        const char *csr = json_str(p, "csr");
        unsigned char *der = NULL;
        size_t dl = 0;
        csr_info ci = {0};
        char *order = xstrndup(e->path, pl - 9);
        yajl_val ids = order_identifiers(run, i, order);
        if (!csr || b64url_decode(csr, strlen(csr), &der, &dl) || csr_parse_der(der, dl, &ci, &err)) {
            FAIL("client.csr", "finalize %s: the csr does not parse", e->path);
        } else if (ids) {
            bool same = (size_t)ids->u.array.len == ci.ndns + ci.nips;
            for (size_t k = 0; same && k < ids->u.array.len; k++) {
                const char *v = json_str(ids->u.array.values[k], "value");
                bool found = false;
                for (size_t d = 0; v && d < ci.ndns; d++)
                    found = found || !strcasecmp(ci.dns[d], v);
                for (size_t d = 0; v && d < ci.nips; d++)
                    found = found || !strcmp(ci.ips[d], v);
                same = found;
            }
            if (same)
                check_pass(ru->rep, "client.csr", "[%s] the CSR names the order's %zu identifier(s)", ru->name,
                           ci.ndns + ci.nips);
            else
                FAIL("client.csr", "finalize %s: the CSR names %zu identifier(s), the order has %zu", e->path,
                     ci.ndns + ci.nips, (size_t)ids->u.array.len);
        }
        csr_info_free(&ci);
        free(der);
        free(order);
        json_free(p);
    }
}

/* ---- polling ------------------------------------------------------------------ */

/* The object a request reads or acts on: the order for its finalize URL. */
static char *object_of(const char *path)
{
    size_t n = strlen(path);
    if (path_is(path, "/acme/order/") && n > 9 && !strcmp(path + n - 9, "/finalize"))
        return xstrndup(path, n - 9);
    return xstrdup(path);
}

static bool pollable(const char *path)
{
    return path_is(path, "/acme/order/") || path_is(path, "/acme/authz/") || path_is(path, "/acme/chall/");
}

static void poll_rules(rules *ru)
{
    const scenario_run *run = ru->run;
    size_t polls = 0;
    double tightest = 1e9;
    for (size_t i = 0; i < run->n; i++) {
        const exchange *e = &run->log[i];
        if (!is_post_as_get(e) || !pollable(e->path))
            continue;
        char *obj = object_of(e->path);
        /* The previous exchange about the same object, by this client. */
        const exchange *prev = NULL;
        for (size_t j = i; j-- > 0;) {
            char *o = object_of(run->log[j].path);
            bool same = !strcmp(o, obj) && !strcmp(run->log[j].method, "POST");
            free(o);
            if (same) {
                prev = &run->log[j];
                break;
            }
        }
        free(obj);
        if (!prev || prev->status != 200)
            continue;
        const char *st = resp_status(prev);
        if (strcmp(st, "pending") && strcmp(st, "processing"))
            continue;
        double ra = retry_after_of(prev), want = ra >= 0 ? ra : 1.0, gap = e->t_req - prev->t_resp;
        polls++;
        if (gap < tightest)
            tightest = gap;
        if (gap + SLACK < want)
            FAIL("client.poll-interval", "%s polled %.2f s after an answer (%s) with Retry-After %s", e->path, gap, st,
                 prev->retry_after ? prev->retry_after : "(none: 1 s expected)");
    }
    if (polls)
        check_pass(ru->rep, "client.poll-interval", "[%s] %zu polls, the shortest gap %.2f s", ru->name, polls,
                   tightest);
}

/* ---- abandoned and invalid authorizations -------------------------------------- */

typedef struct {
    char *authz;        /* path */
    char *status;       /* last seen */
    char *order;        /* path of an order listing it */
    bool deactivated;
} authz_state;

static authz_state *state_of(authz_state **v, size_t *n, const char *path)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i].authz, path))
            return &(*v)[i];
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[*n] = (authz_state){.authz = xstrdup(path)};
    return &(*v)[(*n)++];
}

static const char *path_of(const scenario_run *run, const char *url)
{
    size_t ol = strlen(run->origin);
    return !strncmp(url, run->origin, ol) ? url + ol : url;
}

static void authz_rules(rules *ru)
{
    const scenario_run *run = ru->run;
    authz_state *st = NULL;
    size_t nst = 0;
    char **order_done = NULL; /* orders seen ready, processing or valid */
    size_t ndone = 0;
    /* challenge path -> authorization path */
    char **chall = NULL, **chall_authz = NULL;
    size_t nchall = 0;
    for (size_t i = 0; i < run->n; i++) {
        const exchange *e = &run->log[i];
        /* A challenge response to a challenge of an invalid authorization. */
        if (!strcmp(e->method, "POST") && path_is(e->path, "/acme/chall/") && e->payload && *e->payload) {
            for (size_t c = 0; c < nchall; c++)
                if (!strcmp(chall[c], e->path)) {
                    authz_state *a = state_of(&st, &nst, chall_authz[c]);
                    if (a->status && !strcmp(a->status, "invalid"))
                        FAIL("client.no-response-to-invalid", "a response to %s, whose authorization %s is invalid",
                             e->path, a->authz);
                }
        }
        if (!strcmp(e->method, "POST") && path_is(e->path, "/acme/authz/") && e->payload && e->status == 200) {
            aro_err err;
            yajl_val p = json_parse(e->payload, strlen(e->payload), &err);
            const char *s = json_str(p, "status");
            if (s && !strcmp(s, "deactivated"))
                state_of(&st, &nst, e->path)->deactivated = true;
            json_free(p);
        }
        yajl_val j = e->resp_json;
        if (e->status >= 300 || !j)
            continue;
        if (json_member(j, "identifier") && json_member(j, "challenges") && path_is(e->path, "/acme/authz/")) {
            /* The authorization itself, or the answer to its re-enable. */
            char *ap = xstrdup(e->path);
            char *slash = strchr(ap + 12, '/');
            if (slash)
                *slash = '\0';
            authz_state *a = state_of(&st, &nst, ap);
            free(ap);
            free(a->status);
            a->status = xstrdup(resp_status(e));
            yajl_val ch = json_member(j, "challenges");
            for (size_t c = 0; ch && YAJL_IS_ARRAY(ch) && c < ch->u.array.len; c++) {
                const char *u = json_str(ch->u.array.values[c], "url");
                if (!u)
                    continue;
                chall = xrealloc(chall, (nchall + 1) * sizeof *chall);
                chall_authz = xrealloc(chall_authz, (nchall + 1) * sizeof *chall_authz);
                chall[nchall] = xstrdup(path_of(run, u));
                chall_authz[nchall++] = xstrdup(a->authz);
            }
        }
        yajl_val azs = json_member(j, "authorizations");
        if (json_member(j, "finalize") && azs && YAJL_IS_ARRAY(azs)) {
            const char *op = e->location ? path_of(run, e->location) : e->path;
            char *order = object_of(op);
            for (size_t k = 0; k < azs->u.array.len; k++) {
                const char *u = YAJL_GET_STRING(azs->u.array.values[k]);
                if (!u)
                    continue;
                authz_state *a = state_of(&st, &nst, path_of(run, u));
                free(a->order);
                a->order = xstrdup(order);
                if (!a->status)
                    a->status = xstrdup(!strcmp(resp_status(e), "pending") ? "pending" : resp_status(e));
            }
            const char *s = resp_status(e);
            if (!strcmp(s, "ready") || !strcmp(s, "processing") || !strcmp(s, "valid")) {
                order_done = xrealloc(order_done, (ndone + 1) * sizeof *order_done);
                order_done[ndone++] = xstrdup(order);
            }
            free(order);
        }
    }
    size_t abandoned = 0, deactivated = 0;
    for (size_t i = 0; i < nst; i++) {
        authz_state *a = &st[i];
        deactivated += a->deactivated;
        if (!a->status || strcmp(a->status, "pending") || a->deactivated)
            continue;
        bool done = false;
        for (size_t k = 0; a->order && k < ndone; k++)
            done = done || !strcmp(order_done[k], a->order);
        if (done)
            continue;
        abandoned++;
        FAIL("client.deactivate-abandoned", "authorization %s left pending, not deactivated", a->authz);
    }
    if (nst && !abandoned)
        check_pass(ru->rep, "client.deactivate-abandoned", "[%s] %zu authorization(s): none left pending (%zu deactivated)",
                   ru->name, nst, deactivated);
    for (size_t i = 0; i < nst; i++) {
        free(st[i].authz);
        free(st[i].status);
        free(st[i].order);
    }
    free(st);
    for (size_t i = 0; i < ndone; i++)
        free(order_done[i]);
    free(order_done);
    for (size_t i = 0; i < nchall; i++) {
        free(chall[i]);
        free(chall_authz[i]);
    }
    free(chall);
    free(chall_authz);
}

void judge_run(report *rep, const scenario_run *run)
{
    rules ru = {.rep = rep, .run = run, .name = run->sc->name};
    if (!run->n) {
        report_note(rep, "%s: COMMAND made no request to the server", run->sc->name);
        if (!strcmp(run->sc->name, "baseline"))
            check_fail(rep, "client.issued", "[baseline] COMMAND made no request (it exited %d)", run->exit_status);
        return;
    }
    request_rules(&ru);
    if (ru.posts) {
        check_pass(rep, "client.content-type", "[%s] %zu POSTs", ru.name, ru.posts);
        check_pass(rep, "client.flattened", "[%s] %zu flattened JWS", ru.name, ru.posts);
        check_pass(rep, "client.alg", "[%s] %zu JWS, none with none or a MAC", ru.name, ru.posts);
        check_pass(rep, "client.jwk-kid", "[%s] %zu JWS with jwk/kid as required", ru.name, ru.posts);
        check_pass(rep, "client.url", "[%s] %zu JWS url equal to their request URL", ru.name, ru.posts);
        check_pass(rep, "client.nonce", "[%s] %zu nonces, all base64url", ru.name, ru.posts);
        check_pass(rep, "client.nonce-once", "[%s] %zu nonces, none sent twice", ru.name, ru.posts);
    }
    check_pass(rep, "client.user-agent", "[%s] %zu requests with a User-Agent", ru.name, ru.requests);
    check_pass(rep, "client.no-replay-nonce-header", "[%s] %zu requests without Replay-Nonce", ru.name, ru.requests);
    check_pass(rep, "client.post-as-get", "[%s] GET only on the directory, newNonce, renewalInfo", ru.name);
    if (ru.with_lang == ru.requests)
        check_pass(rep, "client.accept-language", "[%s] %zu of %zu requests with Accept-Language", ru.name, ru.with_lang,
                   ru.requests);
    else
        check_fail(rep, "client.accept-language", "[%s] %zu of %zu requests with Accept-Language", ru.name, ru.with_lang,
                   ru.requests);
    csr_rules(&ru);
    poll_rules(&ru);
    authz_rules(&ru);
    /* A challenge response the server saw, with nothing wrong about it. */
    for (size_t i = 0; i < run->n; i++)
        if (path_is(run->log[i].path, "/acme/chall/") && !strcmp(run->log[i].method, "POST") &&
            run->log[i].payload && *run->log[i].payload) {
            check_pass(rep, "client.challenge-response", "[%s] challenge responses are JSON objects", ru.name);
            check_pass(rep, "client.no-response-to-invalid", "[%s] no response to an invalid authorization's challenge",
                       ru.name);
            break;
        }
    judge_flow(rep, run);
}
