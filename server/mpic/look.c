#include "mpic/look.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CAA_IDENTITIES 64

void mpic_look(const va_config *cfg, const mpic_query *q, bool stop_at_caa, mpic_view *out)
{
    memset(out, 0, sizeof(*out));
    out->challenge.dns_negative_ttl = -1;
    if (q->check_caa) {
        out->caa_checked = true;
        /* CAA at every attempt and at every perspective (RFC 8659 3; RFC
         * 8657 binds the method and the account): no perspective relies
         * on another's lookups (BR 3.2.2.9: no shared cache). */
        va_check_caa(cfg, q->challenge.identifier, q->caa.wildcard, q->caa.method, q->caa.account_uri,
                     q->caa.identities, q->caa.nidentities, &out->caa_problem);
        if (out->caa_problem && stop_at_caa)
            return;
    }
    out->challenge_checked = true;
    va_validate(cfg, &q->challenge, &out->challenge);
}

bool mpic_view_passed(const mpic_view *v)
{
    return !v->caa_problem && v->challenge_checked && v->challenge.valid;
}

void mpic_view_clear(mpic_view *v)
{
    problem_free(v->caa_problem);
    va_result_clear(&v->challenge);
    memset(v, 0, sizeof(*v));
    v->challenge.dns_negative_ttl = -1;
}

/* ---- the wire form ---------------------------------------------------- */

char *mpic_query_to_json(const mpic_query *q)
{
    json_gen *g = jg_new();
    const va_request *c = &q->challenge;
    jg_obj_open(g);
    jg_key(g, "challenge");
    jg_obj_open(g);
    jg_kv_str(g, "type", c->type);
    jg_kv_str(g, "identifier", c->identifier);
    jg_kv_bool(g, "ip", c->is_ip);
    jg_kv_str(g, "token", c->token);
    jg_kv_str(g, "keyAuthorization", c->key_authorization);
    jg_obj_close(g);
    if (q->check_caa) {
        jg_key(g, "caa");
        jg_obj_open(g);
        jg_kv_bool(g, "wildcard", q->caa.wildcard);
        jg_kv_str(g, "method", q->caa.method);
        jg_kv_str(g, "accountUri", q->caa.account_uri);
        jg_key(g, "identities");
        jg_arr_open(g);
        for (size_t i = 0; i < q->caa.nidentities; i++)
            jg_str(g, q->caa.identities[i]);
        jg_arr_close(g);
        jg_obj_close(g);
    }
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

static int decode_caa(yajl_val v, mpic_query_decoded *d, aro_err *err)
{
    mpic_caa_query *caa = &d->q.caa;
    yajl_val ids;
    if (json_get_bool(v, "wildcard", true, &caa->wildcard, err) < 0 ||
        json_get_str(v, "method", true, &caa->method, err) < 0 ||
        json_get_str(v, "accountUri", true, &caa->account_uri, err) < 0 ||
        json_get_arr(v, "identities", true, &ids, err) < 0)
        return -1;
    if (ids->u.array.len > MAX_CAA_IDENTITIES) {
        aro_err_set(err, "more than %d CAA identities", MAX_CAA_IDENTITIES);
        return -1;
    }
    d->identities = xcalloc(ids->u.array.len + 1, sizeof(*d->identities));
    for (size_t i = 0; i < ids->u.array.len; i++) {
        if (!YAJL_IS_STRING(ids->u.array.values[i])) {
            aro_err_set(err, "CAA identities must be strings");
            return -1;
        }
        d->identities[i] = YAJL_GET_STRING(ids->u.array.values[i]);
    }
    caa->identities = d->identities;
    caa->nidentities = ids->u.array.len;
    d->q.check_caa = true;
    return 0;
}

int mpic_query_from_json(const char *text, size_t len, mpic_query_decoded *d, aro_err *err)
{
    memset(d, 0, sizeof(*d));
    yajl_val ch, caa = NULL;
    va_request *c = &d->q.challenge;
    if (!(d->tree = json_parse(text, len, err)) || json_get_obj(d->tree, "challenge", true, &ch, err) < 0 ||
        json_get_str(ch, "type", true, &c->type, err) < 0 ||
        json_get_str(ch, "identifier", true, &c->identifier, err) < 0 ||
        json_get_bool(ch, "ip", true, &c->is_ip, err) < 0 || json_get_str(ch, "token", true, &c->token, err) < 0 ||
        json_get_str(ch, "keyAuthorization", true, &c->key_authorization, err) < 0 ||
        json_get_obj(d->tree, "caa", false, &caa, err) < 0 || (caa && decode_caa(caa, d, err) < 0)) {
        mpic_query_decoded_clear(d);
        return -1;
    }
    return 0;
}

void mpic_query_decoded_clear(mpic_query_decoded *d)
{
    json_free(d->tree);
    free(d->identities);
    memset(d, 0, sizeof(*d));
}

char *mpic_view_to_json(const mpic_view *v)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    /* A look that stopped at CAA reports the challenge as not checked:
     * only the primary's own look stops there, and it is never sent. */
    jg_key(g, "challenge");
    jg_obj_open(g);
    jg_kv_bool(g, "valid", v->challenge_checked && v->challenge.valid);
    if (v->challenge.problem) {
        jg_key(g, "problem");
        problem_write(g, v->challenge.problem);
    }
    jg_obj_close(g);
    if (v->caa_checked) {
        jg_key(g, "caa");
        jg_obj_open(g);
        jg_kv_bool(g, "permitted", !v->caa_problem);
        if (v->caa_problem) {
            jg_key(g, "problem");
            problem_write(g, v->caa_problem);
        }
        jg_obj_close(g);
    }
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

/* {"<flag>": true} or {"<flag>": false, "problem": {...}}: *problem is NULL
 * for true, the decoded problem for false. */
static int decode_determination(yajl_val v, const char *flag, acme_problem **problem, aro_err *err)
{
    bool ok;
    yajl_val p = NULL;
    *problem = NULL;
    if (json_get_bool(v, flag, true, &ok, err) < 0 || json_get_obj(v, "problem", !ok, &p, err) < 0)
        return -1;
    if (ok)
        return 0;
    if (!(*problem = problem_decode(p))) {
        aro_err_set(err, "a problem needs a \"type\"");
        return -1;
    }
    return 0;
}

int mpic_view_from_json(const char *text, size_t len, bool caa_expected, mpic_view *out, aro_err *err)
{
    memset(out, 0, sizeof(*out));
    out->challenge.dns_negative_ttl = -1;
    yajl_val tree = json_parse(text, len, err), ch, caa = NULL;
    int rc = -1;
    if (!tree || json_get_obj(tree, "challenge", true, &ch, err) < 0 ||
        decode_determination(ch, "valid", &out->challenge.problem, err) < 0 ||
        json_get_obj(tree, "caa", caa_expected, &caa, err) < 0 ||
        (caa && decode_determination(caa, "permitted", &out->caa_problem, err) < 0))
        goto out;
    out->challenge_checked = true;
    out->challenge.valid = out->challenge.problem == NULL;
    out->caa_checked = caa != NULL;
    rc = 0;
out:
    json_free(tree);
    if (rc < 0)
        mpic_view_clear(out);
    return rc;
}
