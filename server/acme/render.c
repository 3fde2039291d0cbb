#include "acme/render.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "rules/policy.h"

char *url_for(const char *base, const char *kind, const char *id)
{
    return xasprintf("%s/acme/%s/%s", base, kind, id);
}

char *id_from_path(const char *path, const char *kind, const char *suffix)
{
    char *prefix = xasprintf("/acme/%s/", kind);
    size_t pl = strlen(prefix);
    char *id = NULL;
    if (strncmp(path, prefix, pl) == 0) {
        const char *start = path + pl;
        size_t n = strcspn(start, "/");
        const char *rest = start + n;
        bool suffix_ok = suffix ? strcmp(rest, suffix) == 0 : *rest == 0;
        if (n > 0 && n < ID_LEN + 24 && suffix_ok)
            id = xstrndup(start, n);
    }
    free(prefix);
    return id;
}

const char *id_in_url(const char *base, const char *url, const char *kind)
{
    size_t bl = strlen(base), kl = strlen(kind);
    if (!url || strncmp(url, base, bl) != 0 || strncmp(url + bl, "/acme/", 6) != 0 ||
        strncmp(url + bl + 6, kind, kl) != 0 || url[bl + 6 + kl] != '/')
        return NULL;
    const char *id = url + bl + 6 + kl + 1;
    return (*id && !strchr(id, '/') && strlen(id) < ID_LEN) ? id : NULL;
}

static void time_str(time_t t, char out[32]) { time_format_rfc3339(t, out); }

void challenge_from_rec(acme_challenge *out, const char *base, const rec_chall *c)
{
    memset(out, 0, sizeof(*out));
    out->url = url_for(base, "chall", c->id);
    out->type = xstrdup(c->type);
    out->status = c->status;
    out->token = xstrdup(c->token);
    if (c->status == CHALL_VALID && c->validated) {
        char ts[32];
        time_str(c->validated, ts);
        out->validated = xstrdup(ts);
    }
    out->error = problem_copy(c->error);
}

acme_retry_options *render_authz_retry(server *srv, store_txn *t, const char *base,
                                       const rec_authz *a, time_t now)
{
    const server_config *cfg = &srv->cfg;
    if (!cfg->retry_options || !a->offer_made || authz_effective_status(a, now) != AUTHZ_INVALID)
        return NULL;
    long left = policy_attempts_remaining(cfg, a);
    if (left == 0 || now >= a->expires || policy_blocked(cfg, a->identifier.value))
        return NULL;
    acme_retry_options *r = xcalloc(1, sizeof(*r));
    r->url = xasprintf("%s/acme/authz/%s/retry", base, a->id);
    r->attempts_remaining = left;
    r->not_before = policy_retry_not_before(cfg, a);
    r->expires = a->expires;
    /* Choices: the untried challenges (still pending in the authorization),
     * then the fresh same-type ones created when the offer was made. */
    for (int pass = 0; pass < 2; pass++) {
        char **ids = pass == 0 ? a->chall_ids : a->offer_chall_ids;
        size_t n = pass == 0 ? a->nchall : a->noffer;
        for (size_t i = 0; i < n; i++) {
            rec_chall c;
            if (db_get_chall(t, ids[i], &c) != 0)
                continue;
            if (c.status == CHALL_PENDING) {
                r->challenges = xrealloc(r->challenges, (r->nchallenges + 1) * sizeof(*r->challenges));
                challenge_from_rec(&r->challenges[r->nchallenges++], base, &c);
            }
            rec_chall_clear(&c);
        }
    }
    if (r->nchallenges == 0) {
        acme_retry_options_free(r);
        return NULL;
    }
    return r;
}

acme_retry_options *render_order_retry(server *srv, store_txn *t, const char *base,
                                       const rec_order *o, time_t now)
{
    if (!srv->cfg.retry_options || o->status != ORDER_INVALID || o->invalid_reason != INVALID_AUTHZ ||
        now >= o->expires)
        return NULL;
    /* An order can come back only if every authorization that made it
     * invalid can: one without an offer (or deactivated, expired, revoked)
     * means no offer for the order either. */
    acme_retry_options *r = xcalloc(1, sizeof(*r));
    r->attempts_remaining = -1;
    bool usable = true;
    for (size_t i = 0; i < o->nauthz && usable; i++) {
        rec_authz a;
        if (db_get_authz(t, o->authz_ids[i], &a) != 0) {
            usable = false;
            break;
        }
        authz_status st = authz_effective_status(&a, now);
        if (st == AUTHZ_INVALID) {
            acme_retry_options *ar = render_authz_retry(srv, t, base, &a, now);
            if (ar) {
                char *url = url_for(base, "authz", a.id);
                strv_push(&r->authorizations, &r->nauthorizations, url);
                free(url);
                /* The earliest time something can be done for this order. */
                if (!r->not_before || ar->not_before < r->not_before)
                    r->not_before = ar->not_before;
                acme_retry_options_free(ar);
            } else {
                usable = false;
            }
        } else if (st != AUTHZ_PENDING && st != AUTHZ_VALID) {
            usable = false;
        }
        rec_authz_clear(&a);
    }
    if (!usable || r->nauthorizations == 0) {
        acme_retry_options_free(r);
        return NULL;
    }
    return r;
}

char *render_challenge(server *srv, store_txn *t, const char *base, const rec_chall *c,
                       const rec_authz *a, time_t now)
{
    acme_challenge ch;
    challenge_from_rec(&ch, base, c);
    /* The failed challenge carries its authorization's offer, so clients
     * that poll the challenge rather than the authorization see it. */
    if (c->status == CHALL_INVALID && a)
        ch.retry = render_authz_retry(srv, t, base, a, now);
    json_gen *g = jg_new();
    acme_challenge_write(g, &ch);
    acme_challenge_clear(&ch);
    return jg_finish(g, NULL);
}

char *render_authz(server *srv, store_txn *t, const char *base, const rec_authz *a, time_t now)
{
    acme_authz out = {0};
    char ts[32];
    out.identifier = a->identifier;
    out.status = authz_effective_status(a, now);
    time_str(a->expires, ts);
    out.expires = ts;
    out.wildcard = a->wildcard;
    out.challenges = a->nchall ? xcalloc(a->nchall, sizeof(*out.challenges)) : NULL;
    for (size_t i = 0; i < a->nchall; i++) {
        rec_chall c;
        if (db_get_chall(t, a->chall_ids[i], &c) != 0)
            continue;
        challenge_from_rec(&out.challenges[out.nchallenges++], base, &c);
        rec_chall_clear(&c);
    }
    out.retry = render_authz_retry(srv, t, base, a, now);
    json_gen *g = jg_new();
    acme_authz_write(g, &out);
    for (size_t i = 0; i < out.nchallenges; i++)
        acme_challenge_clear(&out.challenges[i]);
    free(out.challenges);
    acme_retry_options_free(out.retry);
    return jg_finish(g, NULL);
}

char *render_order(server *srv, store_txn *t, const char *base, const rec_order *o, time_t now)
{
    acme_order out = {0};
    char ts[32];
    out.status = order_effective_status(o, now);
    time_str(o->expires, ts);
    out.expires = ts;
    out.identifiers = o->identifiers;
    out.nidentifiers = o->nidentifiers;
    out.not_before = o->not_before;
    out.not_after = o->not_after;
    out.profile = o->profile;
    out.replaces = o->replaces;
    out.error = o->error;
    acme_problem expired = {0};
    if (out.status == ORDER_INVALID && o->status != ORDER_INVALID) {
        expired.type = ACME_ERR("malformed");
        expired.detail = "order expired";
        out.error = &expired;
    }
    out.authorizations = xcalloc(o->nauthz + 1, sizeof(char *));
    for (size_t i = 0; i < o->nauthz; i++)
        out.authorizations[i] = url_for(base, "authz", o->authz_ids[i]);
    out.nauthorizations = o->nauthz;
    char *fin = xasprintf("%s/acme/order/%s/finalize", base, o->id);
    out.finalize = fin;
    char *cert = NULL;
    if (out.status == ORDER_VALID && o->cert_serial)
        cert = url_for(base, "cert", o->cert_serial);
    out.certificate = cert;
    out.retry = render_order_retry(srv, t, base, o, now);
    json_gen *g = jg_new();
    acme_order_write(g, &out);
    strv_free(out.authorizations, out.nauthorizations);
    free(fin);
    free(cert);
    acme_retry_options_free(out.retry);
    return jg_finish(g, NULL);
}

char *render_account(const char *base, const rec_account *a)
{
    acme_account out = {0};
    out.status = a->status;
    out.contact = a->contact;
    out.ncontact = a->ncontact;
    out.tos_agreed = a->tos_agreed;
    char *orders = xasprintf("%s/acme/acct/%s/orders", base, a->id);
    out.orders = orders;
    json_gen *g = jg_new();
    acme_account_write(g, &out);
    free(orders);
    return jg_finish(g, NULL);
}
