/* Encoding and decoding of the ACME objects (RFC 8555 7.1) and of the
 * retry-options member. Decoders ignore unknown members (7.1: clients
 * ignore fields they do not understand) but refuse known members of the
 * wrong type, naming them. */
#include "acme_objects.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static int dup_str(yajl_val v, const char *key, bool required, char **out, aro_err *err)
{
    const char *s = NULL;
    int rc = json_get_str(v, key, required, &s, err);
    if (rc == 0)
        *out = xstrdup(s);
    return rc < 0 ? -1 : 0;
}

static int dup_str_array(yajl_val v, const char *key, char ***out, size_t *n, aro_err *err)
{
    yajl_val arr = NULL;
    int rc = json_get_arr(v, key, false, &arr, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return 0;
    *out = arr->u.array.len ? xcalloc(arr->u.array.len, sizeof(char *)) : NULL;
    for (size_t i = 0; i < arr->u.array.len; i++) {
        yajl_val e = arr->u.array.values[i];
        if (!YAJL_IS_STRING(e)) {
            aro_err_set(err, "member \"%s\" must be an array of strings", key);
            return -1;
        }
        (*out)[(*n)++] = xstrdup(YAJL_GET_STRING(e));
    }
    return 0;
}

static void free_str_array(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

static int decode_identifier(yajl_val v, acme_identifier *id, aro_err *err)
{
    if (!v || !YAJL_IS_OBJECT(v)) {
        aro_err_set(err, "identifier must be an object");
        return -1;
    }
    if (dup_str(v, "type", true, &id->type, err) < 0 || dup_str(v, "value", true, &id->value, err) < 0)
        return -1;
    return 0;
}

static int decode_problem_member(yajl_val v, const char *key, acme_problem **out, aro_err *err)
{
    yajl_val p = json_member(v, key);
    if (!p || YAJL_IS_NULL(p))
        return 0;
    *out = problem_decode(p);
    if (!*out) {
        aro_err_set(err, "member \"%s\" must be a problem document", key);
        return -1;
    }
    return 0;
}

static int decode_time(yajl_val v, const char *key, time_t *out, aro_err *err)
{
    const char *s = NULL;
    int rc = json_get_str(v, key, false, &s, err);
    if (rc < 0)
        return -1;
    if (rc == 0 && time_parse_rfc3339(s, out) < 0) {
        aro_err_set(err, "member \"%s\" is not an RFC 3339 time", key);
        return -1;
    }
    return 0;
}

/* ---- decoding ---- */

int acme_retry_options_decode(yajl_val v, acme_retry_options *r, aro_err *err)
{
    memset(r, 0, sizeof(*r));
    r->attempts_remaining = -1;
    if (!v || !YAJL_IS_OBJECT(v)) {
        aro_err_set(err, "retry-options must be an object");
        return -1;
    }
    if (dup_str(v, "url", false, &r->url, err) < 0)
        return -1;
    yajl_val chs = NULL;
    int rc = json_get_arr(v, "challenges", false, &chs, err);
    if (rc < 0)
        return -1;
    if (rc == 0 && chs->u.array.len) {
        r->challenges = xcalloc(chs->u.array.len, sizeof(*r->challenges));
        for (size_t i = 0; i < chs->u.array.len; i++) {
            if (acme_challenge_decode(chs->u.array.values[i], &r->challenges[r->nchallenges], err) < 0) {
                acme_challenge_clear(&r->challenges[r->nchallenges]);
                return -1;
            }
            r->nchallenges++;
        }
    }
    if (dup_str_array(v, "authorizations", &r->authorizations, &r->nauthorizations, err) < 0)
        return -1;
    if (decode_time(v, "notBefore", &r->not_before, err) < 0 ||
        decode_time(v, "expires", &r->expires, err) < 0)
        return -1;
    if (json_get_bool(v, "hold", false, &r->hold, err) < 0)
        return -1;
    long long n;
    rc = json_get_int(v, "attemptsRemaining", false, &n, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        r->attempts_remaining = n < 0 ? 0 : (long)n;
    return 0;
}

static int decode_retry_member(yajl_val v, acme_retry_options **out, aro_err *err)
{
    yajl_val ro = json_member(v, "retry-options");
    if (!ro || YAJL_IS_NULL(ro))
        return 0;
    *out = xcalloc(1, sizeof(**out));
    return acme_retry_options_decode(ro, *out, err);
}

int acme_challenge_decode(yajl_val v, acme_challenge *c, aro_err *err)
{
    memset(c, 0, sizeof(*c));
    if (!v || !YAJL_IS_OBJECT(v)) {
        aro_err_set(err, "challenge must be an object");
        return -1;
    }
    const char *status = NULL;
    if (dup_str(v, "type", true, &c->type, err) < 0 || dup_str(v, "url", true, &c->url, err) < 0 ||
        json_get_str(v, "status", true, &status, err) < 0)
        return -1;
    int s = chall_status_parse(status);
    if (s < 0) {
        aro_err_set(err, "unknown challenge status \"%s\"", status);
        return -1;
    }
    c->status = s;
    if (dup_str(v, "token", false, &c->token, err) < 0 ||
        dup_str(v, "validated", false, &c->validated, err) < 0 ||
        decode_problem_member(v, "error", &c->error, err) < 0 ||
        decode_retry_member(v, &c->retry, err) < 0)
        return -1;
    return 0;
}

int acme_authz_decode(yajl_val v, acme_authz *a, aro_err *err)
{
    memset(a, 0, sizeof(*a));
    if (!v || !YAJL_IS_OBJECT(v)) {
        aro_err_set(err, "authorization must be an object");
        return -1;
    }
    const char *status = NULL;
    if (decode_identifier(json_member(v, "identifier"), &a->identifier, err) < 0 ||
        json_get_str(v, "status", true, &status, err) < 0)
        return -1;
    int s = authz_status_parse(status);
    if (s < 0) {
        aro_err_set(err, "unknown authorization status \"%s\"", status);
        return -1;
    }
    a->status = s;
    if (dup_str(v, "expires", false, &a->expires, err) < 0 ||
        json_get_bool(v, "wildcard", false, &a->wildcard, err) < 0)
        return -1;
    yajl_val chs = NULL;
    if (json_get_arr(v, "challenges", true, &chs, err) < 0)
        return -1;
    if (chs->u.array.len)
        a->challenges = xcalloc(chs->u.array.len, sizeof(*a->challenges));
    for (size_t i = 0; i < chs->u.array.len; i++) {
        if (acme_challenge_decode(chs->u.array.values[i], &a->challenges[a->nchallenges], err) < 0) {
            acme_challenge_clear(&a->challenges[a->nchallenges]);
            return -1;
        }
        a->nchallenges++;
    }
    return decode_retry_member(v, &a->retry, err);
}

int acme_order_decode(yajl_val v, acme_order *o, aro_err *err)
{
    memset(o, 0, sizeof(*o));
    if (!v || !YAJL_IS_OBJECT(v)) {
        aro_err_set(err, "order must be an object");
        return -1;
    }
    const char *status = NULL;
    if (json_get_str(v, "status", true, &status, err) < 0)
        return -1;
    int s = order_status_parse(status);
    if (s < 0) {
        aro_err_set(err, "unknown order status \"%s\"", status);
        return -1;
    }
    o->status = s;
    yajl_val ids = NULL;
    if (json_get_arr(v, "identifiers", true, &ids, err) < 0)
        return -1;
    if (ids->u.array.len)
        o->identifiers = xcalloc(ids->u.array.len, sizeof(*o->identifiers));
    for (size_t i = 0; i < ids->u.array.len; i++) {
        if (decode_identifier(ids->u.array.values[i], &o->identifiers[o->nidentifiers], err) < 0) {
            identifier_clear(&o->identifiers[o->nidentifiers]);
            return -1;
        }
        o->nidentifiers++;
    }
    if (dup_str(v, "expires", false, &o->expires, err) < 0 ||
        dup_str(v, "notBefore", false, &o->not_before, err) < 0 ||
        dup_str(v, "notAfter", false, &o->not_after, err) < 0 ||
        dup_str_array(v, "authorizations", &o->authorizations, &o->nauthorizations, err) < 0 ||
        dup_str(v, "finalize", true, &o->finalize, err) < 0 ||
        dup_str(v, "certificate", false, &o->certificate, err) < 0 ||
        dup_str(v, "profile", false, &o->profile, err) < 0 ||
        dup_str(v, "replaces", false, &o->replaces, err) < 0 ||
        decode_problem_member(v, "error", &o->error, err) < 0 ||
        decode_retry_member(v, &o->retry, err) < 0)
        return -1;
    return 0;
}

int acme_account_decode(yajl_val v, acme_account *a, aro_err *err)
{
    memset(a, 0, sizeof(*a));
    if (!v || !YAJL_IS_OBJECT(v)) {
        aro_err_set(err, "account must be an object");
        return -1;
    }
    if (dup_str(v, "status", true, &a->status, err) < 0 ||
        dup_str_array(v, "contact", &a->contact, &a->ncontact, err) < 0 ||
        json_get_bool(v, "termsOfServiceAgreed", false, &a->tos_agreed, err) < 0 ||
        dup_str(v, "orders", false, &a->orders, err) < 0)
        return -1;
    return 0;
}

int acme_directory_decode(yajl_val v, acme_directory *d, aro_err *err)
{
    memset(d, 0, sizeof(*d));
    d->retry_attempts_per_authz = d->retry_min_backoff_seconds = -1;
    if (!v || !YAJL_IS_OBJECT(v)) {
        aro_err_set(err, "directory must be an object");
        return -1;
    }
    if (dup_str(v, "newNonce", true, &d->new_nonce, err) < 0 ||
        dup_str(v, "newAccount", true, &d->new_account, err) < 0 ||
        dup_str(v, "newOrder", true, &d->new_order, err) < 0 ||
        dup_str(v, "newAuthz", false, &d->new_authz, err) < 0 ||
        dup_str(v, "revokeCert", true, &d->revoke_cert, err) < 0 ||
        dup_str(v, "keyChange", true, &d->key_change, err) < 0 ||
        dup_str(v, "renewalInfo", false, &d->renewal_info, err) < 0)
        return -1;
    yajl_val meta = NULL;
    int rc = json_get_obj(v, "meta", false, &meta, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return 0;
    if (dup_str(meta, "termsOfService", false, &d->terms_of_service, err) < 0 ||
        dup_str(meta, "website", false, &d->website, err) < 0 ||
        dup_str_array(meta, "caaIdentities", &d->caa_identities, &d->ncaa_identities, err) < 0 ||
        json_get_bool(meta, "externalAccountRequired", false, &d->external_account_required, err) < 0)
        return -1;
    yajl_val profiles = NULL;
    rc = json_get_obj(meta, "profiles", false, &profiles, err);
    if (rc < 0)
        return -1;
    if (rc == 0 && profiles->u.object.len) {
        d->profiles = xcalloc(profiles->u.object.len, sizeof(*d->profiles));
        for (size_t i = 0; i < profiles->u.object.len; i++) {
            yajl_val desc = profiles->u.object.values[i];
            d->profiles[d->nprofiles].name = xstrdup(profiles->u.object.keys[i]);
            d->profiles[d->nprofiles].description =
                xstrdup(YAJL_IS_STRING(desc) ? YAJL_GET_STRING(desc) : "");
            d->nprofiles++;
        }
    }
    yajl_val ro = NULL;
    rc = json_get_obj(meta, "retry-options", false, &ro, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        long long n;
        d->retry_options = true;
        if (json_get_int(ro, "attemptsPerAuthorization", false, &n, err) == 0)
            d->retry_attempts_per_authz = (long)n;
        if (json_get_int(ro, "minBackoffSeconds", false, &n, err) == 0)
            d->retry_min_backoff_seconds = (long)n;
        if (json_get_bool(ro, "hold", false, &d->retry_hold, err) < 0)
            d->retry_hold = false;  /* not a boolean: not advertised */
    }
    return 0;
}

/* ---- rendering ---- */

static void write_time(json_gen *g, const char *key, time_t t)
{
    char buf[32];
    time_format_rfc3339(t, buf);
    jg_kv_str(g, key, buf);
}

void acme_identifier_write(json_gen *g, const acme_identifier *id)
{
    jg_obj_open(g);
    jg_kv_str(g, "type", id->type);
    jg_kv_str(g, "value", id->value);
    jg_obj_close(g);
}

void acme_retry_options_write(json_gen *g, const acme_retry_options *r)
{
    jg_obj_open(g);
    jg_kv_str(g, "url", r->url);
    if (r->challenges) {
        jg_key(g, "challenges");
        jg_arr_open(g);
        for (size_t i = 0; i < r->nchallenges; i++)
            acme_challenge_write(g, &r->challenges[i]);
        jg_arr_close(g);
    }
    if (r->authorizations)
        jg_kv_strv(g, "authorizations", r->authorizations, r->nauthorizations);
    if (r->not_before)
        write_time(g, "notBefore", r->not_before);
    if (r->expires)
        write_time(g, "expires", r->expires);
    if (r->attempts_remaining >= 0)
        jg_kv_int(g, "attemptsRemaining", r->attempts_remaining);
    if (r->hold)
        jg_kv_bool(g, "hold", true);
    jg_obj_close(g);
}

void acme_challenge_write(json_gen *g, const acme_challenge *c)
{
    jg_obj_open(g);
    jg_kv_str(g, "type", c->type);
    jg_kv_str(g, "url", c->url);
    jg_kv_str(g, "status", chall_status_name(c->status));
    jg_kv_str(g, "token", c->token);
    jg_kv_str(g, "validated", c->validated);
    if (c->error) {
        jg_key(g, "error");
        problem_write(g, c->error);
    }
    if (c->retry) {
        jg_key(g, "retry-options");
        acme_retry_options_write(g, c->retry);
    }
    jg_obj_close(g);
}

void acme_authz_write(json_gen *g, const acme_authz *a)
{
    jg_obj_open(g);
    jg_kv_str(g, "status", authz_status_name(a->status));
    jg_kv_str(g, "expires", a->expires);
    jg_key(g, "identifier");
    acme_identifier_write(g, &a->identifier);
    jg_key(g, "challenges");
    jg_arr_open(g);
    for (size_t i = 0; i < a->nchallenges; i++)
        acme_challenge_write(g, &a->challenges[i]);
    jg_arr_close(g);
    if (a->wildcard)
        jg_kv_bool(g, "wildcard", true);
    if (a->retry) {
        jg_key(g, "retry-options");
        acme_retry_options_write(g, a->retry);
    }
    jg_obj_close(g);
}

void acme_order_write(json_gen *g, const acme_order *o)
{
    jg_obj_open(g);
    jg_kv_str(g, "status", order_status_name(o->status));
    jg_kv_str(g, "expires", o->expires);
    jg_key(g, "identifiers");
    jg_arr_open(g);
    for (size_t i = 0; i < o->nidentifiers; i++)
        acme_identifier_write(g, &o->identifiers[i]);
    jg_arr_close(g);
    jg_kv_str(g, "notBefore", o->not_before);
    jg_kv_str(g, "notAfter", o->not_after);
    jg_kv_str(g, "profile", o->profile);
    jg_kv_str(g, "replaces", o->replaces);
    if (o->error) {
        jg_key(g, "error");
        problem_write(g, o->error);
    }
    jg_key(g, "authorizations");
    jg_arr_open(g);
    for (size_t i = 0; i < o->nauthorizations; i++)
        jg_str(g, o->authorizations[i]);
    jg_arr_close(g);
    jg_kv_str(g, "finalize", o->finalize);
    jg_kv_str(g, "certificate", o->certificate);
    if (o->retry) {
        jg_key(g, "retry-options");
        acme_retry_options_write(g, o->retry);
    }
    jg_obj_close(g);
}

void acme_account_write(json_gen *g, const acme_account *a)
{
    jg_obj_open(g);
    jg_kv_str(g, "status", a->status);
    if (a->ncontact) {
        jg_key(g, "contact");
        jg_arr_open(g);
        for (size_t i = 0; i < a->ncontact; i++)
            jg_str(g, a->contact[i]);
        jg_arr_close(g);
    }
    jg_kv_bool(g, "termsOfServiceAgreed", a->tos_agreed);
    jg_kv_str(g, "orders", a->orders);
    jg_obj_close(g);
}

/* ---- freeing and copying ---- */

void acme_retry_options_free(acme_retry_options *r)
{
    if (!r)
        return;
    free(r->url);
    for (size_t i = 0; i < r->nchallenges; i++)
        acme_challenge_clear(&r->challenges[i]);
    free(r->challenges);
    free_str_array(r->authorizations, r->nauthorizations);
    free(r);
}

void acme_challenge_clear(acme_challenge *c)
{
    free(c->url);
    free(c->type);
    free(c->token);
    free(c->validated);
    problem_free(c->error);
    acme_retry_options_free(c->retry);
    memset(c, 0, sizeof(*c));
}

void acme_challenge_copy(acme_challenge *dst, const acme_challenge *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->url = xstrdup(src->url);
    dst->type = xstrdup(src->type);
    dst->status = src->status;
    dst->token = xstrdup(src->token);
    dst->validated = xstrdup(src->validated);
    dst->error = problem_copy(src->error);
    /* retry-options of a copied challenge are not needed by any caller */
}

void acme_authz_clear(acme_authz *a)
{
    free(a->url);
    identifier_clear(&a->identifier);
    free(a->expires);
    for (size_t i = 0; i < a->nchallenges; i++)
        acme_challenge_clear(&a->challenges[i]);
    free(a->challenges);
    acme_retry_options_free(a->retry);
    memset(a, 0, sizeof(*a));
}

void acme_order_clear(acme_order *o)
{
    free(o->url);
    free(o->expires);
    for (size_t i = 0; i < o->nidentifiers; i++)
        identifier_clear(&o->identifiers[i]);
    free(o->identifiers);
    free(o->not_before);
    free(o->not_after);
    free_str_array(o->authorizations, o->nauthorizations);
    free(o->finalize);
    free(o->certificate);
    problem_free(o->error);
    free(o->profile);
    free(o->replaces);
    acme_retry_options_free(o->retry);
    memset(o, 0, sizeof(*o));
}

void acme_account_clear(acme_account *a)
{
    free(a->url);
    free(a->status);
    free_str_array(a->contact, a->ncontact);
    free(a->orders);
    memset(a, 0, sizeof(*a));
}

void acme_directory_clear(acme_directory *d)
{
    free(d->new_nonce);
    free(d->new_account);
    free(d->new_order);
    free(d->new_authz);
    free(d->revoke_cert);
    free(d->key_change);
    free(d->renewal_info);
    free(d->terms_of_service);
    free(d->website);
    free_str_array(d->caa_identities, d->ncaa_identities);
    for (size_t i = 0; i < d->nprofiles; i++) {
        free(d->profiles[i].name);
        free(d->profiles[i].description);
    }
    free(d->profiles);
    memset(d, 0, sizeof(*d));
}
