#include "acme/render.h"

#include <stdlib.h>
#include <string.h>

#include "acme_objects.h"
#include "core/urls.h"

static void challenge_from_rec(acme_challenge *out, const char *base, const rec_chall *c)
{
    memset(out, 0, sizeof(*out));
    out->url = url_for(base, "chall", c->id);
    out->type = xstrdup(c->type);
    out->status = c->status;
    out->token = xstrdup(c->token);
    if (c->status == CHALL_VALID && c->validated) {
        char ts[32];
        time_format_rfc3339(c->validated, ts);
        out->validated = xstrdup(ts);
    }
    out->error = problem_copy(c->error);
}

/* The authorization's retry-options member, or NULL when no offer is open. */
static acme_retry_options *authz_retry(const char *base, const char *authz_id, const authz_offer *offer)
{
    if (!offer || offer->state != OFFER_OPEN)
        return NULL;
    acme_retry_options *r = xcalloc(1, sizeof(*r));
    /* Pending-hold needs no re-enable: the client answers a choice. */
    r->url = offer->reenable ? url_for_sub(base, "authz", authz_id, "retry") : NULL;
    r->attempts_remaining = offer->attempts_remaining;
    r->not_before = offer->not_before;
    r->expires = offer->expires;
    r->challenges = xcalloc(offer->nchoices, sizeof(*r->challenges));
    for (size_t i = 0; i < offer->nchoices; i++)
        challenge_from_rec(&r->challenges[r->nchallenges++], base, offer->choices[i]);
    return r;
}

char *render_challenge(const char *base, const rec_chall *c, const authz_offer *offer)
{
    acme_challenge ch;
    challenge_from_rec(&ch, base, c);
    if (c->status == CHALL_INVALID)
        ch.retry = authz_retry(base, c->authz_id, offer);
    json_gen *g = jg_new();
    acme_challenge_write(g, &ch);
    acme_challenge_clear(&ch);
    return jg_finish(g, NULL);
}

char *render_authz(const char *base, const authz_view *v, const authz_offer *offer, time_t now)
{
    const rec_authz *a = &v->authz;
    acme_authz out = {0};
    char ts[32];
    out.identifier = a->identifier;
    out.status = authz_status_at(a->status, a->expires, now);
    time_format_rfc3339(a->expires, ts);
    out.expires = ts;
    out.wildcard = a->wildcard;
    out.challenges = v->nlisted ? xcalloc(v->nlisted, sizeof(*out.challenges)) : NULL;
    for (size_t i = 0; i < v->nlisted; i++)
        challenge_from_rec(&out.challenges[out.nchallenges++], base, &v->listed[i]);
    out.retry = authz_retry(base, a->id, offer);
    json_gen *g = jg_new();
    acme_authz_write(g, &out);
    for (size_t i = 0; i < out.nchallenges; i++)
        acme_challenge_clear(&out.challenges[i]);
    free(out.challenges);
    acme_retry_options_free(out.retry);
    return jg_finish(g, NULL);
}

char *render_order(const char *base, const rec_order *o, const order_offer *offer, time_t now)
{
    acme_order out = {0};
    char ts[32];
    out.status = order_status_at(o->status, o->expires, now);
    time_format_rfc3339(o->expires, ts);
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
    char *fin = url_for_sub(base, "order", o->id, "finalize");
    out.finalize = fin;
    char *cert = NULL;
    if (out.status == ORDER_VALID && o->cert_serial)
        cert = url_for(base, "cert", o->cert_serial);
    out.certificate = cert;
    if (offer && (offer->open || offer->hold)) {
        out.retry = xcalloc(1, sizeof(*out.retry));
        out.retry->attempts_remaining = -1;
        out.retry->hold = offer->hold; /* the client asked for pending-hold */
    }
    if (offer && offer->open) {
        out.retry->not_before = offer->not_before;
        for (size_t i = 0; i < offer->nauthz; i++) {
            char *u = url_for(base, "authz", offer->authz_ids[i]);
            strv_push(&out.retry->authorizations, &out.retry->nauthorizations, u);
            free(u);
        }
    }
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
    out.status = (char *)account_status_name(a->status);
    out.contact = a->contact;
    out.ncontact = a->ncontact;
    out.tos_agreed = a->tos_agreed;
    char *orders = url_for_sub(base, "acct", a->id, "orders");
    out.orders = orders;
    json_gen *g = jg_new();
    acme_account_write(g, &out);
    free(orders);
    return jg_finish(g, NULL);
}
