#include "store/records.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

/* ---- encode helpers ---- */

static void put_problem(json_gen *g, const char *key, const acme_problem *p)
{
    if (!p)
        return;
    jg_key(g, key);
    problem_write(g, p);
}

/* ---- decode helpers ---- */

static char *get_dup(yajl_val v, const char *key) { return xstrdup(json_str(v, key)); }

static void get_fixed(yajl_val v, const char *key, char *out, size_t size)
{
    const char *s = json_str(v, key);
    out[0] = 0;
    if (s && strlen(s) < size)
        strcpy(out, s);
}

static long long get_int(yajl_val v, const char *key)
{
    yajl_val m = json_member(v, key);
    return (m && YAJL_IS_INTEGER(m)) ? YAJL_GET_INTEGER(m) : 0;
}

static bool get_bool(yajl_val v, const char *key)
{
    yajl_val m = json_member(v, key);
    return m && YAJL_IS_TRUE(m);
}

static void get_strv(yajl_val v, const char *key, char ***out, size_t *n)
{
    yajl_val a = json_member(v, key);
    *out = NULL;
    *n = 0;
    if (!a || !YAJL_IS_ARRAY(a))
        return;
    for (size_t i = 0; i < a->u.array.len; i++)
        if (YAJL_IS_STRING(a->u.array.values[i]))
            strv_push(out, n, YAJL_GET_STRING(a->u.array.values[i]));
}

/* Records are the generator's own output (rec_*_to_json): parsed without
 * the checks json_parse makes for documents from outside. */
static yajl_val parse_rec(const char *s, size_t len) { return json_parse_trusted(s, len); }

/* ---- account ---- */

char *rec_account_to_json(const rec_account *r)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "id", r->id);
    jg_kv_str(g, "thumbprint", r->thumbprint);
    jg_kv_str(g, "jwk", r->jwk);
    jg_kv_str(g, "status", account_status_name(r->status));
    jg_kv_strv(g, "contact", r->contact, r->ncontact);
    jg_kv_bool(g, "tos", r->tos_agreed);
    jg_kv_str(g, "eabKid", r->eab_kid);
    jg_kv_int(g, "created", r->created);
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

int rec_account_from_json(const char *s, size_t len, rec_account *r)
{
    memset(r, 0, sizeof(*r));
    yajl_val v = parse_rec(s, len);
    if (!v)
        return -1;
    get_fixed(v, "id", r->id, sizeof(r->id));
    r->thumbprint = get_dup(v, "thumbprint");
    r->jwk = get_dup(v, "jwk");
    int st = account_status_parse(json_str(v, "status"));
    r->status = st < 0 ? ACCOUNT_DEACTIVATED : (account_status)st;
    get_strv(v, "contact", &r->contact, &r->ncontact);
    r->tos_agreed = get_bool(v, "tos");
    r->eab_kid = get_dup(v, "eabKid");
    r->created = get_int(v, "created");
    json_free(v);
    return 0;
}

void rec_account_clear(rec_account *r)
{
    free(r->thumbprint);
    free(r->jwk);
    strv_free(r->contact, r->ncontact);
    free(r->eab_kid);
    memset(r, 0, sizeof(*r));
}

/* ---- order ---- */

char *rec_order_to_json(const rec_order *r)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "id", r->id);
    jg_kv_str(g, "account", r->account_id);
    jg_kv_str(g, "status", order_status_name(r->status));
    jg_kv_int(g, "invalidReason", r->invalid_reason);
    jg_kv_int(g, "created", r->created);
    jg_kv_int(g, "expires", r->expires);
    jg_key(g, "identifiers");
    jg_arr_open(g);
    for (size_t i = 0; i < r->nidentifiers; i++) {
        jg_obj_open(g);
        jg_kv_str(g, "type", r->identifiers[i].type);
        jg_kv_str(g, "value", r->identifiers[i].value);
        jg_obj_close(g);
    }
    jg_arr_close(g);
    jg_kv_str(g, "notBefore", r->not_before);
    jg_kv_str(g, "notAfter", r->not_after);
    jg_kv_strv(g, "authzs", r->authz_ids, r->nauthz);
    jg_kv_str(g, "profile", r->profile);
    jg_kv_str(g, "replaces", r->replaces);
    put_problem(g, "error", r->error);
    jg_kv_str(g, "cert", r->cert_serial);
    jg_kv_int(g, "finalizeAt", r->finalize_at);
    jg_kv_str(g, "csr", r->csr);
    if (r->hold)
        jg_kv_bool(g, "hold", true);
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

int rec_order_from_json(const char *s, size_t len, rec_order *r)
{
    memset(r, 0, sizeof(*r));
    yajl_val v = parse_rec(s, len);
    if (!v)
        return -1;
    get_fixed(v, "id", r->id, sizeof(r->id));
    get_fixed(v, "account", r->account_id, sizeof(r->account_id));
    int st = order_status_parse(json_str(v, "status"));
    r->status = st < 0 ? ORDER_INVALID : st;
    r->invalid_reason = get_int(v, "invalidReason");
    r->created = get_int(v, "created");
    r->expires = get_int(v, "expires");
    yajl_val ids = json_member(v, "identifiers");
    if (ids && YAJL_IS_ARRAY(ids) && ids->u.array.len) {
        r->identifiers = xcalloc(ids->u.array.len, sizeof(*r->identifiers));
        for (size_t i = 0; i < ids->u.array.len; i++) {
            r->identifiers[i].type = get_dup(ids->u.array.values[i], "type");
            r->identifiers[i].value = get_dup(ids->u.array.values[i], "value");
        }
        r->nidentifiers = ids->u.array.len;
    }
    r->not_before = get_dup(v, "notBefore");
    r->not_after = get_dup(v, "notAfter");
    get_strv(v, "authzs", &r->authz_ids, &r->nauthz);
    r->profile = get_dup(v, "profile");
    r->replaces = get_dup(v, "replaces");
    r->error = problem_decode(json_member(v, "error"));
    r->cert_serial = get_dup(v, "cert");
    r->finalize_at = get_int(v, "finalizeAt");
    r->csr = get_dup(v, "csr");
    r->hold = get_bool(v, "hold");
    json_free(v);
    return 0;
}

void rec_order_clear(rec_order *r)
{
    for (size_t i = 0; i < r->nidentifiers; i++)
        identifier_clear(&r->identifiers[i]);
    free(r->identifiers);
    free(r->not_before);
    free(r->not_after);
    strv_free(r->authz_ids, r->nauthz);
    free(r->profile);
    free(r->replaces);
    problem_free(r->error);
    free(r->cert_serial);
    free(r->csr);
    memset(r, 0, sizeof(*r));
}

/* ---- authorization ---- */

char *rec_authz_to_json(const rec_authz *r)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "id", r->id);
    jg_kv_str(g, "account", r->account_id);
    jg_kv_str(g, "status", authz_status_name(r->status));
    jg_kv_str(g, "identType", r->identifier.type);
    jg_kv_str(g, "identValue", r->identifier.value);
    jg_kv_bool(g, "wildcard", r->wildcard);
    jg_kv_int(g, "created", r->created);
    jg_kv_int(g, "expires", r->expires);
    jg_kv_strv(g, "challs", r->chall_ids, r->nchall);
    jg_kv_int(g, "attempts", r->attempts);
    jg_kv_int(g, "attemptSeq", r->attempt_seq);
    jg_kv_str(g, "active", r->active_chall_id);
    jg_kv_str(g, "last", r->last_chall_id);
    if (r->last_by_reenable)
        jg_kv_bool(g, "lastByReenable", true);
    jg_key(g, "failures");
    jg_arr_open(g);
    for (size_t i = 0; i < r->nfailures; i++) {
        jg_obj_open(g);
        jg_kv_int(g, "at", r->failures[i].at);
        jg_kv_str(g, "type", r->failures[i].chall_type);
        jg_kv_str(g, "problem", r->failures[i].problem_type);
        jg_kv_int(g, "negTtl", r->failures[i].dns_negative_ttl);
        if (r->failures[i].corroboration) /* absent: records written before corroboration existed */
            jg_kv_bool(g, "corroboration", true);
        jg_obj_close(g);
    }
    jg_arr_close(g);
    jg_kv_bool(g, "offerMade", r->offer_made);
    jg_kv_str(g, "noOfferReason", r->no_offer_reason);
    jg_kv_strv(g, "offerChalls", r->offer_chall_ids, r->noffer);
    if (r->ncaa_excluded)
        jg_kv_strv(g, "caaExcluded", r->caa_excluded, r->ncaa_excluded);
    if (r->hold)
        jg_kv_bool(g, "hold", true);
    if (r->nlegacy_orders)
        jg_kv_strv(g, "orders", r->legacy_order_ids, r->nlegacy_orders);
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

int rec_authz_from_json(const char *s, size_t len, rec_authz *r)
{
    memset(r, 0, sizeof(*r));
    yajl_val v = parse_rec(s, len);
    if (!v)
        return -1;
    get_fixed(v, "id", r->id, sizeof(r->id));
    get_fixed(v, "account", r->account_id, sizeof(r->account_id));
    int st = authz_status_parse(json_str(v, "status"));
    r->status = st < 0 ? AUTHZ_INVALID : st;
    r->identifier.type = get_dup(v, "identType");
    r->identifier.value = get_dup(v, "identValue");
    r->wildcard = get_bool(v, "wildcard");
    r->created = get_int(v, "created");
    r->expires = get_int(v, "expires");
    get_strv(v, "challs", &r->chall_ids, &r->nchall);
    r->attempts = get_int(v, "attempts");
    r->attempt_seq = get_int(v, "attemptSeq");
    get_fixed(v, "active", r->active_chall_id, sizeof(r->active_chall_id));
    get_fixed(v, "last", r->last_chall_id, sizeof(r->last_chall_id));
    r->last_by_reenable = get_bool(v, "lastByReenable");
    yajl_val f = json_member(v, "failures");
    if (f && YAJL_IS_ARRAY(f) && f->u.array.len) {
        r->failures = xcalloc(f->u.array.len, sizeof(*r->failures));
        for (size_t i = 0; i < f->u.array.len; i++) {
            yajl_val e = f->u.array.values[i];
            r->failures[i].at = get_int(e, "at");
            get_fixed(e, "type", r->failures[i].chall_type, sizeof(r->failures[i].chall_type));
            get_fixed(e, "problem", r->failures[i].problem_type, sizeof(r->failures[i].problem_type));
            r->failures[i].dns_negative_ttl = get_int(e, "negTtl");
            r->failures[i].corroboration = get_bool(e, "corroboration");
        }
        r->nfailures = f->u.array.len;
    }
    r->offer_made = get_bool(v, "offerMade");
    r->no_offer_reason = get_dup(v, "noOfferReason");
    get_strv(v, "offerChalls", &r->offer_chall_ids, &r->noffer);
    get_strv(v, "caaExcluded", &r->caa_excluded, &r->ncaa_excluded);
    r->hold = get_bool(v, "hold");
    get_strv(v, "orders", &r->legacy_order_ids, &r->nlegacy_orders);
    json_free(v);
    return 0;
}

void rec_authz_clear(rec_authz *r)
{
    identifier_clear(&r->identifier);
    strv_free(r->chall_ids, r->nchall);
    free(r->failures);
    free(r->no_offer_reason);
    strv_free(r->offer_chall_ids, r->noffer);
    strv_free(r->caa_excluded, r->ncaa_excluded);
    strv_free(r->legacy_order_ids, r->nlegacy_orders);
    memset(r, 0, sizeof(*r));
}

/* ---- challenge ---- */

char *rec_chall_to_json(const rec_chall *r)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "id", r->id);
    jg_kv_str(g, "authz", r->authz_id);
    jg_kv_str(g, "type", r->type);
    jg_kv_str(g, "status", chall_status_name(r->status));
    jg_kv_str(g, "token", r->token);
    jg_kv_int(g, "validated", r->validated);
    put_problem(g, "error", r->error);
    jg_kv_str(g, "record", r->record_json);
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

int rec_chall_from_json(const char *s, size_t len, rec_chall *r)
{
    memset(r, 0, sizeof(*r));
    yajl_val v = parse_rec(s, len);
    if (!v)
        return -1;
    get_fixed(v, "id", r->id, sizeof(r->id));
    get_fixed(v, "authz", r->authz_id, sizeof(r->authz_id));
    r->type = get_dup(v, "type");
    int st = chall_status_parse(json_str(v, "status"));
    r->status = st < 0 ? CHALL_INVALID : st;
    r->token = get_dup(v, "token");
    r->validated = get_int(v, "validated");
    r->error = problem_decode(json_member(v, "error"));
    r->record_json = get_dup(v, "record");
    json_free(v);
    return 0;
}

void rec_chall_clear(rec_chall *r)
{
    free(r->type);
    free(r->token);
    problem_free(r->error);
    free(r->record_json);
    memset(r, 0, sizeof(*r));
}

/* ---- certificate ---- */

char *rec_cert_to_json(const rec_cert *r)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "serial", r->serial);
    jg_kv_str(g, "account", r->account_id);
    jg_kv_str(g, "order", r->order_id);
    jg_kv_strv(g, "chains", r->chains, (size_t)r->nchains);
    jg_kv_int(g, "notBefore", r->not_before);
    jg_kv_int(g, "notAfter", r->not_after);
    jg_kv_strv(g, "dns", r->dns, r->ndns);
    jg_kv_strv(g, "ips", r->ips, r->nips);
    jg_kv_str(g, "ari", r->ari_id);
    jg_kv_bool(g, "revoked", r->revoked);
    jg_kv_int(g, "reason", r->reason);
    jg_kv_int(g, "revokedAt", r->revoked_at);
    jg_kv_str(g, "replacedBy", r->replaced_by);
    if (r->claimed_by[0])
        jg_kv_str(g, "claimedBy", r->claimed_by);
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

int rec_cert_from_json(const char *s, size_t len, rec_cert *r)
{
    memset(r, 0, sizeof(*r));
    yajl_val v = parse_rec(s, len);
    if (!v)
        return -1;
    get_fixed(v, "serial", r->serial, sizeof(r->serial));
    get_fixed(v, "account", r->account_id, sizeof(r->account_id));
    get_fixed(v, "order", r->order_id, sizeof(r->order_id));
    size_t n = 0;
    get_strv(v, "chains", &r->chains, &n);
    r->nchains = (int)n;
    r->not_before = get_int(v, "notBefore");
    r->not_after = get_int(v, "notAfter");
    get_strv(v, "dns", &r->dns, &r->ndns);
    get_strv(v, "ips", &r->ips, &r->nips);
    r->ari_id = get_dup(v, "ari");
    r->revoked = get_bool(v, "revoked");
    r->reason = get_int(v, "reason");
    r->revoked_at = get_int(v, "revokedAt");
    get_fixed(v, "replacedBy", r->replaced_by, sizeof(r->replaced_by));
    get_fixed(v, "claimedBy", r->claimed_by, sizeof(r->claimed_by));
    json_free(v);
    return 0;
}

void rec_cert_clear(rec_cert *r)
{
    strv_free(r->chains, (size_t)r->nchains);
    strv_free(r->dns, r->ndns);
    strv_free(r->ips, r->nips);
    free(r->ari_id);
    memset(r, 0, sizeof(*r));
}
