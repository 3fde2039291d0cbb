/* libFuzzer harness: the server's decoding of JWS payloads, the part of a
 * request that is only checked after the signature (so any account holder
 * reaches it): newOrder's identifiers, notBefore/notAfter (7.4, RFC 8738),
 * newAccount's contacts and flags (7.3), the re-enable request's
 * "challenge" URL (draft retry-options), finalize's "csr" (7.4), and the
 * kid URL of every request (6.2).
 *
 * It calls the decoders the resources call (server/acme/payload.h), linked
 * from the server's library built with coverage (tests/fuzz/CMakeLists.txt).
 *
 * Property: an identifier the policy accepts is canonical, i.e. checking
 * its canonical form again accepts it unchanged (orders, authorization
 * reuse and CSR matching all compare canonical strings with strcmp). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/payload.h"
#include "acme_crypto.h"
#include "b64url.h"
#include "core/urls.h"
#include "rules/identifiers.h"
#include "settings/config.h"
#include "strv.h"

static struct {
    server_config cfg;
} srv;
static const char *BASE = "https://acme.test:14000";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    config_defaults(&srv.cfg);
    /* A blocklist, so that policy_blocked's suffix matching runs too. */
    strv_push(&srv.cfg.blocklist, &srv.cfg.nblocklist, "blocked.example");
    strv_push(&srv.cfg.blocklist, &srv.cfg.nblocklist, "example.net");
    return 0;
}

static void check_canonical(const acme_identifier *id)
{
    const char *value = id->value;
    char *canon = NULL;
    bool wild = false;
    acme_problem *p = identifier_check(&srv.cfg, id->type, value, &canon, &wild);
    if (p) {
        fprintf(stderr, "fuzz_payload: accepted identifier %s:%s refused when checked again: %s\n", id->type,
                value, p->detail ? p->detail : "");
        abort();
    }
    char *again = wild ? xasprintf("*.%s", canon) : xstrdup(canon);
    if (strcmp(again, value) != 0) {
        fprintf(stderr, "fuzz_payload: canonical form %s:%s is not stable (-> %s)\n", id->type, value, again);
        abort();
    }
    free(again);
    free(canon);
}

static void new_order(yajl_val pl)
{
    rec_order o = {0};
    acme_problem *p = payload_identifiers(&srv.cfg, json_member(pl, "identifiers"), &o);
    if (!p) {
        if (o.nidentifiers == 0) {
            fprintf(stderr, "fuzz_payload: order accepted with no identifiers\n");
            abort();
        }
        for (size_t i = 0; i < o.nidentifiers; i++)
            check_canonical(&o.identifiers[i]);
    } else {
        /* Every refusal is a problem the client can read. */
        char *s = problem_to_json(p);
        if (!s)
            abort();
        free(s);
        problem_free(p);
    }
    char *nb = NULL, *na = NULL;
    acme_problem *tp = payload_time(pl, "notBefore", &nb);
    if (!tp)
        tp = payload_time(pl, "notAfter", &na);
    problem_free(tp);
    free(nb);
    free(na);
    rec_order_clear(&o);
}

static void new_account(yajl_val pl)
{
    aro_err err;
    bool b;
    yajl_val eab;
    (void)json_get_bool(pl, "onlyReturnExisting", false, &b, &err);
    (void)json_get_bool(pl, "termsOfServiceAgreed", false, &b, &err);
    (void)json_get_obj(pl, "externalAccountBinding", false, &eab, &err);
    yajl_val contact = json_member(pl, "contact");
    acme_problem *p = payload_contacts(contact);
    if (!p) {
        rec_account acct = {0};
        payload_set_contacts(&acct, contact);
        rec_account_clear(&acct);
    }
    problem_free(p);
}

static void reenable_and_kid(yajl_val pl)
{
    const char *u = json_str(pl, "challenge");
    if (u) {
        const char *id = id_in_url(BASE, u, "chall");
        if (id && (strchr(id, '/') || strlen(id) >= ID_LEN))
            abort();
    }
    const char *kid = json_str(pl, "account");
    if (kid)
        (void)id_in_url(BASE, kid, "acct");
}

static void finalize(yajl_val pl)
{
    const char *csr = json_str(pl, "csr");
    unsigned char *der = NULL;
    size_t len = 0;
    if (csr && b64url_decode(csr, strlen(csr), &der, &len) == 0) {
        csr_info c;
        aro_err err;
        if (csr_parse_der(der, len, &c, &err) == 0)
            csr_info_free(&c);
    }
    free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aro_err err;
    yajl_val pl = json_parse((const char *)data, size, &err);
    /* auth_request refuses payloads that are not objects before any handler. */
    if (pl && YAJL_IS_OBJECT(pl)) {
        new_order(pl);
        new_account(pl);
        reenable_and_kid(pl);
        finalize(pl);
    }
    json_free(pl);
    return 0;
}
