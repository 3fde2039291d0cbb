#include "client_judge_flow.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acme_crypto.h"

#define SLACK 0.1

#define VERDICT(fn, id, ...)                                                      \
    do {                                                                          \
        char d_[600];                                                             \
        snprintf(d_, sizeof d_, __VA_ARGS__);                                     \
        fn(rep, id, "[%s] %s", run->sc->name, d_);                                \
    } while (0)

/* ---- certificates the client downloaded ------------------------------------- */

typedef struct {
    size_t at;          /* index of the exchange */
    char *cert_id;      /* RFC 9773 CertID of the leaf */
    char **names;       /* its DNS SANs */
    size_t nnames;
} downloaded;

static size_t downloads(const scenario_run *run, downloaded **out)
{
    size_t n = 0;
    *out = NULL;
    for (size_t i = 0; i < run->n; i++) {
        const exchange *e = &run->log[i];
        if (e->status != 200 || !e->resp_content_type ||
            strncasecmp(e->resp_content_type, "application/pem-certificate-chain", 33))
            continue;
        X509 **chain = NULL;
        aro_err err;
        int nc = x509_chain_from_pem(e->resp_body, e->resp_len, &chain, &err);
        if (nc < 1)
            continue;
        downloaded d = {.at = i, .cert_id = acme_ari_cert_id(chain[0])};
        GENERAL_NAMES *sans = X509_get_ext_d2i(chain[0], NID_subject_alt_name, NULL, NULL);
        for (int k = 0; sans && k < sk_GENERAL_NAME_num(sans); k++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, k);
            if (g->type != GEN_DNS)
                continue;
            d.names = xrealloc(d.names, (d.nnames + 1) * sizeof *d.names);
            d.names[d.nnames++] = xstrndup((const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                           (size_t)ASN1_STRING_length(g->d.dNSName));
        }
        GENERAL_NAMES_free(sans);
        for (int k = 0; k < nc; k++)
            X509_free(chain[k]);
        free(chain);
        *out = xrealloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] = d;
    }
    return n;
}

static void downloads_free(downloaded *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].cert_id);
        for (size_t k = 0; k < d[i].nnames; k++)
            free(d[i].names[k]);
        free(d[i].names);
    }
    free(d);
}

/* The next POST to the same path after exchange i, or NULL. */
static const exchange *next_post(const scenario_run *run, size_t i)
{
    for (size_t k = i + 1; k < run->n; k++)
        if (!strcmp(run->log[k].method, "POST") && !strcmp(run->log[k].path, run->log[i].path) &&
            run->log[k].t_req >= run->log[i].t_resp - SLACK)
            return &run->log[k];
    return NULL;
}

/* ---- baseline ---------------------------------------------------------------------- */

static void issuance(report *rep, const scenario_run *run, size_t ncerts)
{
    if (!strcmp(run->sc->name, "baseline"))
        check_that(rep, "client.issued", ncerts > 0, "[%s] %zu certificate(s) downloaded; COMMAND exited %d",
                   run->sc->name, ncerts, run->exit_status);
    if (!strcmp(run->sc->name, "processing"))
        check_that(rep, "client.processing", ncerts > 0,
                   "[%s] %zu certificate(s) downloaded after %ld server retr%s of the validation; COMMAND exited %d",
                   run->sc->name, ncerts, run->server_retries, run->server_retries == 1 ? "y" : "ies",
                   run->exit_status);
}

static void alternates(report *rep, const scenario_run *run)
{
    size_t offered = 0, fetched = 0;
    for (size_t i = 0; i < run->n; i++) {
        const exchange *e = &run->log[i];
        for (size_t a = 0; a < e->nalternates; a++) {
            offered++;
            const char *path = e->alternates[a];
            size_t ol = strlen(run->origin);
            if (!strncmp(path, run->origin, ol))
                path += ol;
            for (size_t k = i + 1; k < run->n; k++) {
                const exchange *f = &run->log[k];
                if (strcmp(f->path, path))
                    continue;
                fetched++;
                if (!is_post_as_get(f) || f->status != 200)
                    VERDICT(check_fail, "client.alternates", "the alternate chain %s fetched with %s: HTTP %ld", path,
                            f->method, f->status);
                else
                    VERDICT(check_pass, "client.alternates", "the alternate chain fetched with POST-as-GET");
            }
        }
    }
    if (offered && !fetched)
        VERDICT(check_skip, "client.alternates", "%zu alternate chain(s) offered, none fetched (fetching them is optional)",
                offered);
}

static void renewal_info(report *rep, const scenario_run *run, const downloaded *certs, size_t ncerts)
{
    const char *ari = fixed_path(run, "renewalInfo");
    size_t al = strlen(ari);
    for (size_t i = 0; *ari && i < run->n; i++) {
        const exchange *e = &run->log[i];
        if (strncmp(e->path, ari, al) || e->path[al] != '/')
            continue;
        if (strcmp(e->method, "GET"))
            VERDICT(check_fail, "client.ari-get", "renewalInfo asked with %s", e->method);
        else
            VERDICT(check_pass, "client.ari-get", "renewalInfo asked with GET");
        const char *id = e->path + al + 1;
        bool known = false;
        for (size_t c = 0; c < ncerts; c++)
            known = known || (certs[c].cert_id && !strcmp(certs[c].cert_id, id));
        if (known && !strchr(id, '='))
            VERDICT(check_pass, "client.ari-certid", "renewalInfo for the CertID %s of its certificate", id);
        else
            VERDICT(check_fail, "client.ari-certid", "renewalInfo for %s, which is no CertID of a certificate it "
                    "downloaded", id);
    }
    /* Renewals: a new order after a certificate, for the same names. */
    const char *no = fixed_path(run, "newOrder");
    for (size_t c = 0; c < ncerts; c++)
        for (size_t i = certs[c].at + 1; i < run->n; i++) {
            const exchange *e = &run->log[i];
            if (strcmp(e->method, "POST") || strcmp(e->path, no) || !e->payload)
                continue;
            aro_err err;
            yajl_val p = json_parse(e->payload, strlen(e->payload), &err);
            yajl_val ids = json_member(p, "identifiers");
            bool same = ids && YAJL_IS_ARRAY(ids) && ids->u.array.len == certs[c].nnames;
            for (size_t k = 0; same && k < ids->u.array.len; k++) {
                const char *v = json_str(ids->u.array.values[k], "value");
                bool found = false;
                for (size_t d = 0; v && d < certs[c].nnames; d++)
                    found = found || !strcasecmp(v, certs[c].names[d]);
                same = found;
            }
            const char *rp = json_str(p, "replaces");
            if (same && *fixed_path(run, "renewalInfo")) {
                if (rp && certs[c].cert_id && !strcmp(rp, certs[c].cert_id))
                    VERDICT(check_pass, "client.ari-replaces", "the renewal order replaces %s", rp);
                else
                    VERDICT(check_fail, "client.ari-replaces", "a renewal order with replaces %s (the certificate is %s)",
                            rp ? rp : "(absent)", certs[c].cert_id ? certs[c].cert_id : "?");
            }
            json_free(p);
        }
}

/* ---- faults ---------------------------------------------------------------------- */

static void bad_nonces(report *rep, const scenario_run *run)
{
    size_t answers = 0, retried = 0;
    for (size_t i = 0; i < run->n; i++) {
        const exchange *e = &run->log[i];
        if (!e->problem || strcmp(e->problem, "badNonce"))
            continue;
        answers++;
        const exchange *k = next_post(run, i);
        if (!k) {
            /* A client may stop after retrying: only the first refusal of
             * a request must be retried. */
            bool was_retry = false;
            for (size_t j = i; j-- > 0;)
                if (!strcmp(run->log[j].method, "POST") && !strcmp(run->log[j].path, e->path)) {
                    was_retry = run->log[j].problem && !strcmp(run->log[j].problem, "badNonce");
                    break;
                }
            if (!was_retry)
                VERDICT(check_fail, "client.badnonce-retry", "POST %s got badNonce and was not retried", e->path);
            continue;
        }
        retried++;
        const char *used = json_str(k->header, "nonce");
        if (!e->replay_nonce || !used || strcmp(used, e->replay_nonce))
            VERDICT(check_fail, "client.badnonce-nonce", "the retry of POST %s used %s, not the badNonce answer's %s",
                    e->path, used ? used : "(none)", e->replay_nonce ? e->replay_nonce : "(none)");
    }
    if (answers && retried) {
        VERDICT(check_pass, "client.badnonce-retry", "%zu badNonce answers, %zu retried", answers, retried);
        VERDICT(check_pass, "client.badnonce-nonce", "%zu retries, each with the nonce of the badNonce answer", retried);
    } else if (answers) {
        VERDICT(check_skip, "client.badnonce-nonce", "no retry to look at");
    }
}

static void retry_after(report *rep, const scenario_run *run, const char *id, bool (*match)(const exchange *))
{
    size_t answers = 0, repeated = 0;
    double shortest = 1e9;
    for (size_t i = 0; i < run->n; i++) {
        const exchange *e = &run->log[i];
        double ra = retry_after_of(e);
        if (!match(e) || ra < 0)
            continue;
        answers++;
        const exchange *k = next_post(run, i);
        if (!k)
            continue;
        repeated++;
        double gap = k->t_req - e->t_resp;
        if (gap < shortest)
            shortest = gap;
        if (gap + SLACK < ra)
            VERDICT(check_fail, id, "POST %s repeated %.2f s after HTTP %ld with Retry-After: %s", e->path, gap,
                    e->status, e->retry_after);
    }
    if (answers && repeated)
        VERDICT(check_pass, id, "%zu answers with Retry-After, %zu repeated, the shortest wait %.2f s", answers,
                repeated, shortest);
    else if (answers)
        VERDICT(check_pass, id, "%zu answers with Retry-After; the client stopped (it did not repeat early)", answers);
}

static bool is_429(const exchange *e)
{
    return e->status == 429;
}

static bool is_5xx(const exchange *e)
{
    return e->status >= 500;
}

/* ---- retry-options offers ---------------------------------------------------------- */

/* Whether the challenge list ch names the challenge path chall. */
static bool lists_chall(const scenario_run *run, yajl_val ch, const char *chall)
{
    size_t ol = strlen(run->origin);
    for (size_t k = 0; ch && YAJL_IS_ARRAY(ch) && k < ch->u.array.len; k++) {
        const char *u = json_str(ch->u.array.values[k], "url");
        if (u && !strncmp(u, run->origin, ol) && !strcmp(u + ol, chall))
            return true;
    }
    return false;
}

static bool listed_in_offer(const scenario_run *run, size_t upto, const char *chall_path)
{
    for (size_t i = 0; i < upto; i++) {
        yajl_val ch = json_member(json_member(run->log[i].resp_json, "retry-options"), "challenges");
        if (!strcmp(resp_status(&run->log[i]), "pending") && lists_chall(run, ch, chall_path))
            return true;
    }
    return false;
}

/* The authorization (path) a challenge path belongs to, from the
 * authorization answers before upto: among its challenges, or among its
 * offer's (a fresh same-type challenge is listed only there); "" when
 * unknown. */
static void authz_of_chall(const scenario_run *run, size_t upto, const char *chall, char *out, size_t len)
{
    *out = '\0';
    for (size_t i = 0; i < upto; i++) {
        const exchange *e = &run->log[i];
        if (!json_member(e->resp_json, "identifier") || !path_is(e->path, "/acme/authz/"))
            continue;
        if (lists_chall(run, json_member(e->resp_json, "challenges"), chall) ||
            lists_chall(run, json_member(json_member(e->resp_json, "retry-options"), "challenges"), chall)) {
            snprintf(out, len, "%.*s", (int)strcspn(e->path + 12, "/") + 12, e->path);
            return;
        }
    }
}

/* Was an order that lists authz (created before index at) finalized
 * after it? 7.4: a finalize answered 200. */
static bool same_order_finalized(const scenario_run *run, size_t at, const char *authz)
{
    size_t ol = strlen(run->origin);
    for (size_t i = 0; i < at; i++) {
        const exchange *e = &run->log[i];
        yajl_val azs = json_member(e->resp_json, "authorizations");
        if (!json_member(e->resp_json, "finalize") || !azs || !YAJL_IS_ARRAY(azs))
            continue;
        bool lists = false;
        for (size_t k = 0; k < azs->u.array.len; k++) {
            const char *u = YAJL_GET_STRING(azs->u.array.values[k]);
            lists = lists || (u && !strncmp(u, run->origin, ol) && !strcmp(u + ol, authz));
        }
        const char *fin = json_str(e->resp_json, "finalize");
        if (!lists || !fin || strncmp(fin, run->origin, ol))
            continue;
        for (size_t k = at; k < run->n; k++)
            if (!strcmp(run->log[k].path, fin + ol) && !strcmp(run->log[k].method, "POST") &&
                run->log[k].status == 200)
                return true;
    }
    return false;
}

static void offers(report *rep, const scenario_run *run, size_t ncerts)
{
    size_t attempts = 0, taken = 0, early = 0, orders = 0, holds = 0, same = 0;
    char refused[300] = "";
    const char *no = fixed_path(run, "newOrder");
    for (size_t i = 0; i < run->n; i++) {
        const exchange *e = &run->log[i];
        if (strcmp(e->method, "POST") || !e->payload)
            continue;
        if (!strcmp(e->path, no)) {
            orders += e->status == 201;
            aro_err err;
            yajl_val p = json_parse(e->payload, strlen(e->payload), &err);
            yajl_val h = json_member(json_member(p, "retry-options"), "hold");
            holds += h && YAJL_IS_TRUE(h);
            json_free(p);
            continue;
        }
        size_t pl = strlen(e->path);
        bool reenable = path_is(e->path, "/acme/authz/") && pl > 6 && !strcmp(e->path + pl - 6, "/retry");
        bool held = path_is(e->path, "/acme/chall/") && *e->payload && listed_in_offer(run, i, e->path);
        if (!reenable && !held)
            continue;
        attempts++;
        if (e->status == 200) {
            char authz[512];
            if (reenable)
                snprintf(authz, sizeof authz, "%.*s", (int)(pl - 6), e->path);
            else
                authz_of_chall(run, i, e->path, authz, sizeof authz);
            taken++;
            same += *authz && same_order_finalized(run, i, authz);
        }
        else if (e->status == 429)
            early++;
        else if (!*refused)
            snprintf(refused, sizeof refused, "%s %s: HTTP %ld %s", reenable ? "re-enable" : "held response", e->path,
                     e->status, e->problem ? e->problem : "");
    }
    if (!attempts) {
        VERDICT(check_skip, "client.ro-offer-taken", "the client did not take the offer (it does not use retry-options;"
                " %zu order(s), COMMAND exited %d)", orders, run->exit_status);
        return;
    }
    if (taken)
        VERDICT(check_pass, "client.ro-offer-taken", "%zu attempt(s) through the offer, %zu accepted", attempts, taken);
    else
        VERDICT(check_fail, "client.ro-offer-taken", "%zu attempt(s) through the offer, none accepted (%s)", attempts,
                *refused ? refused : "too early");
    check_that(rep, "client.ro-hold", holds > 0, "[%s] %zu of %zu newOrder request(s) asked for pending-hold",
               run->sc->name, holds, orders);
    check_that(rep, "client.ro-notbefore", early == 0, "[%s] %zu attempt(s) refused as before notBefore",
               run->sc->name, early);
    if (taken)
        check_that(rep, "client.ro-same-order", same == taken,
                   "[%s] %zu offer(s) taken, %zu of them finalized in the order they belong to; %zu order(s) made "
                   "(the server counted %ld), %zu certificate(s)", run->sc->name, taken, same, orders,
                   run->orders_created, ncerts);
}

void judge_flow(report *rep, const scenario_run *run)
{
    downloaded *certs;
    size_t ncerts = downloads(run, &certs);
    issuance(rep, run, ncerts);
    alternates(rep, run);
    renewal_info(rep, run, certs, ncerts);
    if (!strcmp(run->sc->name, "badnonce"))
        bad_nonces(rep, run);
    if (!strcmp(run->sc->name, "ratelimited"))
        retry_after(rep, run, "client.retry-after-429", is_429);
    if (!strcmp(run->sc->name, "unavailable"))
        retry_after(rep, run, "client.retry-after-5xx", is_5xx);
    if (!strcmp(run->sc->name, "retry-offer"))
        offers(rep, run, ncerts);
    downloads_free(certs, ncerts);
}
