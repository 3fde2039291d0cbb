#include "server_checks_directory.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const check_def defs[] = {
    {"directory.get", "RFC 8555 7.1.1", LEVEL_MUST, "GET on the directory URL answers 200 with a JSON object"},
    {"directory.content-type", "RFC 8555 7.1.1", LEVEL_PRACTICE,
     "the directory is served as application/json"},
    {"directory.resources", "RFC 8555 7.1", LEVEL_MUST,
     "newNonce, newAccount and newOrder are advertised as https URLs"},
    {"directory.revoke-keychange", "RFC 8555 7.1.1", LEVEL_PRACTICE, "revokeCert and keyChange are advertised"},
    {"directory.meta", "RFC 8555 7.1.1", LEVEL_MUST,
     "meta, when present, is an object with members of the registered types"},
    {"nonce.head", "RFC 8555 7.2", LEVEL_MUST, "HEAD newNonce answers with a Replay-Nonce"},
    {"nonce.head-200", "RFC 8555 7.2", LEVEL_SHOULD, "HEAD newNonce answers 200"},
    {"nonce.get-204", "RFC 8555 7.2", LEVEL_MUST, "GET newNonce answers 204 with a Replay-Nonce and no body"},
    {"nonce.no-store", "RFC 8555 7.2", LEVEL_MUST,
     "newNonce answers carry Cache-Control with the no-store directive"},
    {"nonce.fresh", "RFC 8555 6.5.1", LEVEL_MUST, "20 newNonce answers give 20 different nonces"},
    {"http.get-405", "RFC 8555 6.3", LEVEL_MUST,
     "a GET on newAccount or newOrder is refused with 405 and type malformed"},
};

static bool is_https_url(const char *s)
{
    return s && !strncasecmp(s, "https://", 8) && s[8];
}

static bool has_no_store(const wire_resp *r)
{
    if (!r->cache_control)
        return false;
    const char *p = r->cache_control;
    while ((p = strcasestr(p, "no-store"))) {
        bool start = p == r->cache_control || p[-1] == ' ' || p[-1] == ',';
        char e = p[8];
        if (start && (e == '\0' || e == ',' || e == ' ' || e == ';'))
            return true;
        p += 8;
    }
    return false;
}

static void check_meta(fixture *f, yajl_val dir)
{
    report *rep = f->rep;
    yajl_val meta = json_member(dir, "meta");
    if (!meta) {
        check_pass(rep, "directory.meta", "no meta (it is optional)");
        return;
    }
    if (!YAJL_IS_OBJECT(meta)) {
        check_fail(rep, "directory.meta", "meta is not a JSON object");
        return;
    }
    static const struct {
        const char *key;
        int kind; /* 0 string, 1 array of strings, 2 boolean */
    } members[] = {{"termsOfService", 0}, {"website", 0}, {"caaIdentities", 1}, {"externalAccountRequired", 2}};
    for (size_t i = 0; i < sizeof members / sizeof *members; i++) {
        yajl_val v = json_member(meta, members[i].key);
        if (!v)
            continue;
        bool ok = members[i].kind == 0 ? YAJL_IS_STRING(v)
                : members[i].kind == 2 ? YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)
                : YAJL_IS_ARRAY(v);
        for (size_t j = 0; ok && members[i].kind == 1 && j < v->u.array.len; j++)
            ok = YAJL_IS_STRING(v->u.array.values[j]);
        if (!ok) {
            check_fail(rep, "directory.meta", "meta.%s has the wrong type", members[i].key);
            return;
        }
    }
    check_pass(rep, "directory.meta", "meta is an object; its registered members have their types");
}

static void check_directory(fixture *f)
{
    target *t = f->t;
    report *rep = f->rep;
    wire_resp r = {0};
    aro_err err;
    if (wire_get(t->w, t->directory_url, &r, &err)) {
        check_fail(rep, "directory.get", "%s", err.msg);
        return;
    }
    check_that(rep, "directory.get", r.status == 200 && r.json && YAJL_IS_OBJECT(r.json), "%s%s",
               DESCRIBE(&r), r.json && YAJL_IS_OBJECT(r.json) ? ", a JSON object" : ", not a JSON object");
    check_that(rep, "directory.content-type", wire_content_type_is(&r, "application/json"), "Content-Type: %s",
               r.content_type ? r.content_type : "(none)");
    wire_resp_clear(&r);

    const char *missing = !is_https_url(t->new_nonce) ? "newNonce"
                        : !is_https_url(t->new_account) ? "newAccount"
                        : !is_https_url(t->new_order) ? "newOrder" : NULL;
    if (missing)
        check_fail(rep, "directory.resources", "%s is missing or not an https URL", missing);
    else
        check_pass(rep, "directory.resources", "newNonce %s, newAccount %s, newOrder %s", t->new_nonce,
                   t->new_account, t->new_order);
    check_that(rep, "directory.revoke-keychange", is_https_url(t->revoke_cert) && is_https_url(t->key_change),
               "revokeCert %s, keyChange %s", t->revoke_cert ? t->revoke_cert : "(absent)",
               t->key_change ? t->key_change : "(absent)");
    check_meta(f, t->dir);
}

static void check_nonces(fixture *f)
{
    target *t = f->t;
    report *rep = f->rep;
    wire_resp r = {0};
    aro_err err;
    if (!t->new_nonce) {
        check_skip_rest(rep, "nonce.", "no newNonce in the directory");
        return;
    }
    if (wire_request(t->w, "HEAD", t->new_nonce, NULL, NULL, NULL, &r, &err)) {
        check_fail(rep, "nonce.head", "%s", err.msg);
        return;
    }
    check_that(rep, "nonce.head", r.replay_nonce != NULL, "HEAD: %s, Replay-Nonce %s", DESCRIBE(&r),
               r.replay_nonce ? r.replay_nonce : "absent");
    check_that(rep, "nonce.head-200", r.status == 200, "HEAD: HTTP %ld", r.status);
    bool head_store = has_no_store(&r);
    char *head_cc = xstrdup(r.cache_control ? r.cache_control : "(none)");
    if (wire_get(t->w, t->new_nonce, &r, &err) == 0) {
        check_that(rep, "nonce.get-204", r.status == 204 && r.replay_nonce && r.body_len == 0,
                   "GET: HTTP %ld, Replay-Nonce %s, %zu body bytes", r.status, r.replay_nonce ? "present" : "absent",
                   r.body_len);
        check_that(rep, "nonce.no-store", head_store && has_no_store(&r), "Cache-Control: HEAD %s; GET %s", head_cc,
                   r.cache_control ? r.cache_control : "(none)");
    } else {
        check_fail(rep, "nonce.get-204", "%s", err.msg);
    }
    free(head_cc);

    char *seen[20] = {0};
    size_t n = 0, dup = 0;
    for (size_t i = 0; i < 20; i++) {
        if (wire_request(t->w, "HEAD", t->new_nonce, NULL, NULL, NULL, &r, &err) || !r.replay_nonce)
            break;
        for (size_t j = 0; j < n; j++)
            dup += !strcmp(seen[j], r.replay_nonce);
        seen[n++] = xstrdup(r.replay_nonce);
    }
    if (n < 20)
        check_fail(rep, "nonce.fresh", "only %zu of 20 HEAD requests gave a nonce", n);
    else
        check_that(rep, "nonce.fresh", dup == 0, "20 nonces, %zu repeated", dup);
    for (size_t i = 0; i < n; i++)
        free(seen[i]);
    wire_resp_clear(&r);
}

static void check_get_refused(fixture *f)
{
    target *t = f->t;
    const char *urls[] = {t->new_account, t->new_order};
    wire_resp r = {0};
    aro_err err;
    for (size_t i = 0; i < 2; i++) {
        if (!urls[i])
            continue;
        if (wire_get(t->w, urls[i], &r, &err)) {
            check_fail(f->rep, "http.get-405", "%s", err.msg);
            continue;
        }
        char what[300];
        snprintf(what, sizeof what, "GET %s", urls[i]);
        judge_refusal(f->rep, "http.get-405", &r, 405, "malformed", what);
    }
    wire_resp_clear(&r);
}

static void run(fixture *f)
{
    check_directory(f);
    check_nonces(f);
    check_get_refused(f);
}

const check_area area_directory = {"directory", defs, sizeof defs / sizeof *defs, run};
