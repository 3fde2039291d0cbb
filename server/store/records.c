#include "store/records.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "store/record_reader.h"

/* ---- encode helpers ---- */

static void put_problem(json_gen *g, const char *key, const acme_problem *p)
{
    if (!p)
        return;
    jg_key(g, key);
    problem_write(g, p);
}

/* ---- decode helpers ---- */

/* Records are the generator's own output (rec_*_to_json), read in one pass
 * by store/record_reader.c. A member's name is compared as written. */
#define KEY(name) rr_key_is(k, kl, name)

/* A status member: its name, parsed by the status table's parser. */
static int read_status(rec_reader *rd, int (*parse)(const char *))
{
    char name[32];
    rr_fixed(rd, name, sizeof(name));
    return parse(name);
}

static void read_problem(rec_reader *rd, acme_problem **out)
{
    yajl_val v = rr_tree(rd);
    problem_free(*out);
    *out = problem_decode(v);
    json_free(v);
}

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
    int status = -1;
    rec_reader rd;
    const char *k;
    size_t kl;
    for (rr_init(&rd, s, len); rr_member(&rd, &k, &kl);) {
        if (KEY("id")) rr_fixed(&rd, r->id, sizeof(r->id));
        else if (KEY("thumbprint")) rr_str(&rd, &r->thumbprint);
        else if (KEY("jwk")) rr_str(&rd, &r->jwk);
        else if (KEY("status")) status = read_status(&rd, account_status_parse);
        else if (KEY("contact")) rr_strv(&rd, &r->contact, &r->ncontact);
        else if (KEY("tos")) r->tos_agreed = rr_bool(&rd);
        else if (KEY("eabKid")) rr_str(&rd, &r->eab_kid);
        else if (KEY("created")) r->created = rr_int(&rd);
        else rr_skip(&rd);
    }
    r->status = status < 0 ? ACCOUNT_DEACTIVATED : (account_status)status;
    if (!rr_done(&rd)) {
        rec_account_clear(r);
        return -1;
    }
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

static void read_identifiers(rec_reader *rd, rec_order *r)
{
    if (!rr_array(rd))
        return;
    while (rr_element(rd)) {
        r->identifiers = xrealloc(r->identifiers, (r->nidentifiers + 1) * sizeof(*r->identifiers));
        acme_identifier *id = &r->identifiers[r->nidentifiers++];
        memset(id, 0, sizeof(*id));
        const char *k;
        size_t kl;
        while (rr_member(rd, &k, &kl)) {
            if (KEY("type")) rr_str(rd, &id->type);
            else if (KEY("value")) rr_str(rd, &id->value);
            else rr_skip(rd);
        }
    }
}

int rec_order_from_json(const char *s, size_t len, rec_order *r)
{
    memset(r, 0, sizeof(*r));
    int status = -1;
    rec_reader rd;
    const char *k;
    size_t kl;
    for (rr_init(&rd, s, len); rr_member(&rd, &k, &kl);) {
        if (KEY("id")) rr_fixed(&rd, r->id, sizeof(r->id));
        else if (KEY("account")) rr_fixed(&rd, r->account_id, sizeof(r->account_id));
        else if (KEY("status")) status = read_status(&rd, order_status_parse);
        else if (KEY("invalidReason")) r->invalid_reason = (invalid_reason)rr_int(&rd);
        else if (KEY("created")) r->created = rr_int(&rd);
        else if (KEY("expires")) r->expires = rr_int(&rd);
        else if (KEY("identifiers") && !r->identifiers) read_identifiers(&rd, r);
        else if (KEY("notBefore")) rr_str(&rd, &r->not_before);
        else if (KEY("notAfter")) rr_str(&rd, &r->not_after);
        else if (KEY("authzs")) rr_strv(&rd, &r->authz_ids, &r->nauthz);
        else if (KEY("profile")) rr_str(&rd, &r->profile);
        else if (KEY("replaces")) rr_str(&rd, &r->replaces);
        else if (KEY("error")) read_problem(&rd, &r->error);
        else if (KEY("cert")) rr_str(&rd, &r->cert_serial);
        else if (KEY("finalizeAt")) r->finalize_at = rr_int(&rd);
        else if (KEY("csr")) rr_str(&rd, &r->csr);
        else if (KEY("hold")) r->hold = rr_bool(&rd);
        else rr_skip(&rd);
    }
    r->status = status < 0 ? ORDER_INVALID : (order_status)status;
    if (!rr_done(&rd)) {
        rec_order_clear(r);
        return -1;
    }
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

static void read_failures(rec_reader *rd, rec_authz *r)
{
    if (!rr_array(rd))
        return;
    while (rr_element(rd)) {
        r->failures = xrealloc(r->failures, (r->nfailures + 1) * sizeof(*r->failures));
        rec_failure *f = &r->failures[r->nfailures++];
        memset(f, 0, sizeof(*f));
        const char *k;
        size_t kl;
        while (rr_member(rd, &k, &kl)) {
            if (KEY("at")) f->at = rr_int(rd);
            else if (KEY("type")) rr_fixed(rd, f->chall_type, sizeof(f->chall_type));
            else if (KEY("problem")) rr_fixed(rd, f->problem_type, sizeof(f->problem_type));
            else if (KEY("negTtl")) f->dns_negative_ttl = (long)rr_int(rd);
            else if (KEY("corroboration")) f->corroboration = rr_bool(rd);
            else rr_skip(rd);
        }
    }
}

int rec_authz_from_json(const char *s, size_t len, rec_authz *r)
{
    memset(r, 0, sizeof(*r));
    int status = -1;
    rec_reader rd;
    const char *k;
    size_t kl;
    for (rr_init(&rd, s, len); rr_member(&rd, &k, &kl);) {
        if (KEY("id")) rr_fixed(&rd, r->id, sizeof(r->id));
        else if (KEY("account")) rr_fixed(&rd, r->account_id, sizeof(r->account_id));
        else if (KEY("status")) status = read_status(&rd, authz_status_parse);
        else if (KEY("identType")) rr_str(&rd, &r->identifier.type);
        else if (KEY("identValue")) rr_str(&rd, &r->identifier.value);
        else if (KEY("wildcard")) r->wildcard = rr_bool(&rd);
        else if (KEY("created")) r->created = rr_int(&rd);
        else if (KEY("expires")) r->expires = rr_int(&rd);
        else if (KEY("challs")) rr_strv(&rd, &r->chall_ids, &r->nchall);
        else if (KEY("attempts")) r->attempts = (unsigned)rr_int(&rd);
        else if (KEY("attemptSeq")) r->attempt_seq = (unsigned)rr_int(&rd);
        else if (KEY("active")) rr_fixed(&rd, r->active_chall_id, sizeof(r->active_chall_id));
        else if (KEY("last")) rr_fixed(&rd, r->last_chall_id, sizeof(r->last_chall_id));
        else if (KEY("lastByReenable")) r->last_by_reenable = rr_bool(&rd);
        else if (KEY("failures") && !r->failures) read_failures(&rd, r);
        else if (KEY("offerMade")) r->offer_made = rr_bool(&rd);
        else if (KEY("noOfferReason")) rr_str(&rd, &r->no_offer_reason);
        else if (KEY("offerChalls")) rr_strv(&rd, &r->offer_chall_ids, &r->noffer);
        else if (KEY("caaExcluded")) rr_strv(&rd, &r->caa_excluded, &r->ncaa_excluded);
        else if (KEY("hold")) r->hold = rr_bool(&rd);
        else if (KEY("orders")) rr_strv(&rd, &r->legacy_order_ids, &r->nlegacy_orders);
        else rr_skip(&rd);
    }
    r->status = status < 0 ? AUTHZ_INVALID : (authz_status)status;
    if (!rr_done(&rd)) {
        rec_authz_clear(r);
        return -1;
    }
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
    int status = -1;
    rec_reader rd;
    const char *k;
    size_t kl;
    for (rr_init(&rd, s, len); rr_member(&rd, &k, &kl);) {
        if (KEY("id")) rr_fixed(&rd, r->id, sizeof(r->id));
        else if (KEY("authz")) rr_fixed(&rd, r->authz_id, sizeof(r->authz_id));
        else if (KEY("type")) rr_str(&rd, &r->type);
        else if (KEY("status")) status = read_status(&rd, chall_status_parse);
        else if (KEY("token")) rr_str(&rd, &r->token);
        else if (KEY("validated")) r->validated = rr_int(&rd);
        else if (KEY("error")) read_problem(&rd, &r->error);
        else if (KEY("record")) rr_str(&rd, &r->record_json);
        else rr_skip(&rd);
    }
    r->status = status < 0 ? CHALL_INVALID : (chall_status)status;
    if (!rr_done(&rd)) {
        rec_chall_clear(r);
        return -1;
    }
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
    size_t nchains = 0;
    rec_reader rd;
    const char *k;
    size_t kl;
    for (rr_init(&rd, s, len); rr_member(&rd, &k, &kl);) {
        if (KEY("serial")) rr_fixed(&rd, r->serial, sizeof(r->serial));
        else if (KEY("account")) rr_fixed(&rd, r->account_id, sizeof(r->account_id));
        else if (KEY("order")) rr_fixed(&rd, r->order_id, sizeof(r->order_id));
        else if (KEY("chains")) rr_strv(&rd, &r->chains, &nchains);
        else if (KEY("notBefore")) r->not_before = rr_int(&rd);
        else if (KEY("notAfter")) r->not_after = rr_int(&rd);
        else if (KEY("dns")) rr_strv(&rd, &r->dns, &r->ndns);
        else if (KEY("ips")) rr_strv(&rd, &r->ips, &r->nips);
        else if (KEY("ari")) rr_str(&rd, &r->ari_id);
        else if (KEY("revoked")) r->revoked = rr_bool(&rd);
        else if (KEY("reason")) r->reason = (int)rr_int(&rd);
        else if (KEY("revokedAt")) r->revoked_at = rr_int(&rd);
        else if (KEY("replacedBy")) rr_fixed(&rd, r->replaced_by, sizeof(r->replaced_by));
        else if (KEY("claimedBy")) rr_fixed(&rd, r->claimed_by, sizeof(r->claimed_by));
        else rr_skip(&rd);
    }
    r->nchains = (int)nchains;
    if (!rr_done(&rd)) {
        rec_cert_clear(r);
        return -1;
    }
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
