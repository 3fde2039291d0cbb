#include "server_checks_accounts.h"

#include <stdlib.h>
#include <string.h>

#include "forge.h"
#include "jws.h"

static const check_def defs[] = {
    {"account.create", "RFC 8555 7.3", LEVEL_MUST,
     "newAccount answers 201 with the account URL in Location and status valid"},
    {"account.orders-url", "RFC 8555 7.1.2", LEVEL_MUST, "the account object has its required \"orders\" URL"},
    {"account.no-reflect", "RFC 8555 7.3", LEVEL_MUST,
     "unrecognized fields and onlyReturnExisting are not reflected in the account object"},
    {"account.existing", "RFC 8555 7.3.1", LEVEL_MUST,
     "newAccount with a registered key answers 200 with that account's URL in Location"},
    {"account.only-return-existing", "RFC 8555 7.3.1", LEVEL_MUST,
     "onlyReturnExisting with an unknown key: 400 accountDoesNotExist, no account made"},
    {"account.only-return-existing-known", "RFC 8555 7.3.1", LEVEL_MUST,
     "onlyReturnExisting with a registered key answers 200 with its URL"},
    {"account.tos-required", "RFC 8555 7.3", LEVEL_PRACTICE,
     "a server that publishes termsOfService refuses newAccount without termsOfServiceAgreed"},
    {"account.update", "RFC 8555 7.3.2", LEVEL_MUST, "a contact update answers 200 with the updated account"},
    {"account.unsupported-contact", "RFC 8555 7.3", LEVEL_MUST,
     "a contact refused for its scheme (tel:) is refused as unsupportedContact"},
    {"account.invalid-contact", "RFC 8555 7.3", LEVEL_SHOULD, "an invalid mailto: contact is refused"},
    {"account.invalid-contact-type", "RFC 8555 7.3", LEVEL_MUST,
     "a mailto: contact refused for its value is refused as invalidContact"},
    {"account.mailto-hfields", "RFC 8555 7.3", LEVEL_SHOULD, "a mailto: contact with hfields is refused"},
    {"account.orders-list", "RFC 8555 7.1.2.1", LEVEL_MUST,
     "POST-as-GET on the orders URL answers an object whose \"orders\" is an array of URLs"},
    {"account.orders-list-pending", "RFC 8555 7.1.2.1", LEVEL_SHOULD, "the orders list includes a pending order"},
    {"account.rollover", "RFC 8555 7.3.5", LEVEL_MUST,
     "keyChange answers 200 and the account then answers to the new key"},
    {"account.rollover-old-key", "RFC 8555 7.3.5", LEVEL_MUST, "after a rollover the old key is refused"},
    {"account.rollover-keeps-orders", "RFC 8555 7.3.5", LEVEL_MUST,
     "a rollover does not invalidate the account's pending orders"},
    {"account.rollover-url", "RFC 8555 7.3.5", LEVEL_MUST,
     "keyChange whose inner \"url\" differs from the outer one is refused, the key unchanged"},
    {"account.rollover-conflict", "RFC 8555 7.3.5", LEVEL_SHOULD,
     "keyChange to a key of another account: 409 with that account's URL in Location"},
    {"account.deactivate", "RFC 8555 7.3.6", LEVEL_MUST,
     "{\"status\": \"deactivated\"} answers 200 with the account deactivated"},
    {"account.deactivated-401", "RFC 8555 7.3.6", LEVEL_MUST,
     "requests of a deactivated account are refused with 401 unauthorized"},
    {"account.foreign-deactivate", "RFC 8555 7.3.6", LEVEL_MUST,
     "another account's key cannot deactivate an account"},
};

static void check_created(fixture *f, acme_resp *r)
{
    report *rep = f->rep;
    const char *status = json_str(r->json, "status");
    check_that(rep, "account.create", r->status == 201 && r->location && status && !strcmp(status, "valid"),
               "HTTP %ld, Location %s, status %s", r->status, r->location ? r->location : "(none)",
               status ? status : "(none)");
    const char *orders = json_str(r->json, "orders");
    check_that(rep, "account.orders-url", orders != NULL, "orders: %s", orders ? orders : "(absent)");
}

static void check_find_by_key(fixture *f)
{
    target *t = f->t;
    report *rep = f->rep;
    wire_resp r = {0};
    aro_err err;
    EVP_PKEY *k = key_generate(KEY_EC256);

    if (target_raw(t, NULL, k, t->new_account,
                   "{\"termsOfServiceAgreed\":true,\"onlyReturnExisting\":false,\"conformUnknownMember\":\"x\"}",
                   &r, &err) == 0 && r.status == 201)
        check_that(rep, "account.no-reflect",
                   !json_member(r.json, "conformUnknownMember") && !json_member(r.json, "onlyReturnExisting"),
                   "the new account object %s", json_member(r.json, "conformUnknownMember") ? "reflects "
                   "conformUnknownMember" : json_member(r.json, "onlyReturnExisting") ? "reflects onlyReturnExisting"
                   : "has neither member");
    else
        check_skip(rep, "account.no-reflect", "newAccount with an extra member: %s", DESCRIBE(&r));

    if (target_raw(t, NULL, f->alice->key, t->new_account, "{\"termsOfServiceAgreed\":true}", &r, &err) == 0)
        check_that(rep, "account.existing", r.status == 200 && r.location && !strcmp(r.location, f->alice->kid),
                   "%s, Location %s (the account is %s)", DESCRIBE(&r), r.location ? r.location : "(none)",
                   f->alice->kid);
    EVP_PKEY *k2 = key_generate(KEY_EC256);
    if (target_raw(t, NULL, k2, t->new_account, "{\"onlyReturnExisting\":true}", &r, &err) == 0) {
        judge_refusal(rep, "account.only-return-existing", &r, 400, "accountDoesNotExist",
                      "onlyReturnExisting with a new key");
        /* No account may have been made: asking again still finds none. */
        if (r.status == 400 &&
            target_raw(t, NULL, k2, t->new_account, "{\"onlyReturnExisting\":true}", &r, &err) == 0 &&
            r.status < 300)
            check_fail(rep, "account.only-return-existing", "the first request made an account: %s",
                       DESCRIBE(&r));
    }
    if (target_raw(t, NULL, f->alice->key, t->new_account, "{\"onlyReturnExisting\":true}", &r, &err) == 0)
        check_that(rep, "account.only-return-existing-known",
                   r.status == 200 && r.location && !strcmp(r.location, f->alice->kid), "%s, Location %s",
                   DESCRIBE(&r), r.location ? r.location : "(none)");
    yajl_val meta = json_member(t->dir, "meta");
    if (json_str(meta, "termsOfService")) {
        EVP_PKEY *k3 = key_generate(KEY_EC256);
        if (target_raw(t, NULL, k3, t->new_account, "{\"contact\":[\"mailto:conform@example.com\"]}", &r,
                       &err) == 0)
            judge_refusal(rep, "account.tos-required", &r, 0, NULL, "newAccount without termsOfServiceAgreed");
        EVP_PKEY_free(k3);
    } else {
        check_skip(rep, "account.tos-required", "the directory publishes no termsOfService");
    }
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    wire_resp_clear(&r);
}

static void contact_case(fixture *f, const char *contact, const char *reject_id, const char *type_id,
                         const char *type)
{
    wire_resp r = {0};
    aro_err err;
    char *payload = xasprintf("{\"contact\":[\"%s\"]}", contact);
    if (target_raw(f->t, f->alice, NULL, f->alice->kid, payload, &r, &err)) {
        check_fail(f->rep, reject_id ? reject_id : type_id, "%s", err.msg);
    } else if (r.status < 300) {
        if (reject_id)
            check_fail(f->rep, reject_id, "contact %s accepted: %s", contact, DESCRIBE(&r));
        else
            check_pass(f->rep, type_id, "contact %s accepted (the server supports it; nothing to refuse)",
                       contact);
        if (reject_id && type_id)
            check_skip(f->rep, type_id, "the contact was accepted");
    } else {
        if (reject_id)
            check_pass(f->rep, reject_id, "contact %s: %s", contact, DESCRIBE(&r));
        if (type_id) {
            char what[200];
            snprintf(what, sizeof what, "contact %s", contact);
            judge_refusal(f->rep, type_id, &r, 0, type, what);
        }
    }
    free(payload);
    wire_resp_clear(&r);
}

static void check_update(fixture *f)
{
    wire_resp r = {0};
    aro_err err;
    const char *c = "mailto:conform-updated@example.com";
    if (target_raw(f->t, f->alice, NULL, f->alice->kid, "{\"contact\":[\"mailto:conform-updated@example.com\"]}",
                   &r, &err) == 0) {
        yajl_val got = json_member(r.json, "contact");
        bool ok = r.status == 200 && json_array_len(got) == 1 &&
                  !strcmp(json_string_or_empty(got->u.array.values[0]), c);
        check_that(f->rep, "account.update", ok, "%s, contact %s", DESCRIBE(&r),
                   ok ? c : "not the one sent");
    }
    wire_resp_clear(&r);
    contact_case(f, "tel:+15555550100", NULL, "account.unsupported-contact", "unsupportedContact");
    contact_case(f, "mailto:not-an-address", "account.invalid-contact", "account.invalid-contact-type",
                 "invalidContact");
    contact_case(f, "mailto:conform@example.com?subject=hello", "account.mailto-hfields", NULL, NULL);
}

static void check_orders_list(fixture *f)
{
    report *rep = f->rep;
    tobj acct = {0}, order = {0}, list = {0};
    aro_err err;
    char *name = target_name(f->t, "list");
    const char *names[] = {name};
    if (tobj_fetch(f->alice, f->alice->kid, &acct, &err) || order_new(f->alice, names, 1, NULL, &order, &err)) {
        check_skip(rep, "account.orders-list", "setup: %s", err.msg);
        check_skip(rep, "account.orders-list-pending", "setup: %s", err.msg);
        goto out;
    }
    const char *url = json_str(acct.json, "orders");
    if (!url) {
        check_fail(rep, "account.orders-list", "the account object has no orders URL");
        check_skip(rep, "account.orders-list-pending", "no orders URL");
        goto out;
    }
    if (tobj_fetch(f->alice, url, &list, &err)) {
        check_fail(rep, "account.orders-list", "POST-as-GET %s: %s", url, err.msg);
        goto out;
    }
    yajl_val arr = json_member(list.json, "orders");
    bool ok = json_array_len(arr) >= 0, found = false;
    for (size_t i = 0; ok && i < arr->u.array.len; i++) {
        const char *u = YAJL_GET_STRING(arr->u.array.values[i]);
        ok = u != NULL;
        found = found || (u && !strcmp(u, order.url));
    }
    check_that(rep, "account.orders-list", ok, "%ld URLs", json_array_len(arr));
    check_that(rep, "account.orders-list-pending", found, "the pending order %s is %s", order.url,
               found ? "listed" : "not on the first page");
out:
    free(name);
    tobj_clear(&acct);
    tobj_clear(&order);
    tobj_clear(&list);
}

/* keyChange (7.3.5) of account a to new_key with the inner "url" given. */
static int keychange(fixture *f, tacct *a, EVP_PKEY *new_key, const char *inner_url, wire_resp *r, aro_err *err)
{
    char *inner = jws_sign_keychange(new_key, a->key, a->kid, inner_url);
    char *nonce = target_nonce(f->t);
    forge_spec s = {.key = a->key, .kid = a->kid, .nonce = nonce, .url = f->t->key_change, .payload = inner};
    char *jws = forge_jws(&s);
    int rc = target_send(f->t, f->t->key_change, jws, r, err);
    free(jws);
    free(nonce);
    free(inner);
    return rc;
}

static void check_rollover(fixture *f)
{
    target *t = f->t;
    report *rep = f->rep;
    wire_resp r = {0};
    tobj order = {0};
    aro_err err;
    if (!t->key_change) {
        check_skip_rest(rep, "account.rollover", "the directory has no keyChange");
        return;
    }
    tacct *erin = tacct_new(t, "erin", KEY_EC256, NULL, &err);
    char *name = target_name(t, "rollover");
    const char *names[] = {name};
    if (!erin || order_new(erin, names, 1, NULL, &order, &err)) {
        check_skip_rest(rep, "account.rollover", "setup: %s", err.msg);
        goto out;
    }
    EVP_PKEY *nk = key_generate(KEY_EC256);
    if (keychange(f, erin, nk, t->new_order, &r, &err) == 0) {
        judge_refusal(rep, "account.rollover-url", &r, 0, NULL, "keyChange with the inner url of newOrder");
        if (target_raw(t, erin, NULL, erin->kid, NULL, &r, &err) == 0 && r.status != 200)
            check_fail(rep, "account.rollover-url", "afterwards the old key no longer works: %s", DESCRIBE(&r));
    }
    if (f->bob && keychange(f, erin, f->bob->key, t->key_change, &r, &err) == 0) {
        bool ok = r.status == 409 && r.location && !strcmp(r.location, f->bob->kid);
        check_that(rep, "account.rollover-conflict", ok, "%s, Location %s (bob is %s)", DESCRIBE(&r),
                   r.location ? r.location : "(none)", f->bob->kid);
    }
    if (keychange(f, erin, nk, t->key_change, &r, &err)) {
        check_fail(rep, "account.rollover", "%s", err.msg);
        EVP_PKEY_free(nk);
        goto out;
    }
    long kc_status = r.status;
    char kc[320];
    wire_describe(&r, kc, sizeof kc);
    EVP_PKEY *old = erin->key;
    erin->key = nk;
    erin->ctx.key = nk;
    if (kc_status != 200) {
        check_fail(rep, "account.rollover", "keyChange: %s", kc);
        erin->key = old;
        erin->ctx.key = old;
        EVP_PKEY_free(nk);
        goto out;
    }
    if (target_raw(t, erin, NULL, erin->kid, NULL, &r, &err) == 0)
        check_that(rep, "account.rollover", r.status == 200, "keyChange: %s; the account with the new key: %s", kc,
                   DESCRIBE(&r));
    tacct tmp = {.key = old, .kid = erin->kid};
    if (target_raw(t, &tmp, NULL, erin->kid, NULL, &r, &err) == 0)
        judge_refusal(rep, "account.rollover-old-key", &r, 0, NULL, "POST-as-GET of the account with the old key");
    EVP_PKEY_free(old);
    tobj o2 = {0};
    if (tobj_fetch(erin, order.url, &o2, &err) == 0)
        check_that(rep, "account.rollover-keeps-orders", !strcmp(tobj_status(&o2), "pending"),
                   "the order made before the rollover is %s", tobj_status(&o2));
    else
        check_fail(rep, "account.rollover-keeps-orders", "%s", err.msg);
    tobj_clear(&o2);
out:
    free(name);
    tobj_clear(&order);
    wire_resp_clear(&r);
    tacct_free(erin);
}

static void check_deactivation(fixture *f)
{
    target *t = f->t;
    report *rep = f->rep;
    wire_resp r = {0};
    aro_err err;
    tacct *dave = tacct_new(t, "dave", KEY_EC256, NULL, &err);
    if (!dave) {
        check_skip_rest(rep, "account.deactivate", "setup: %s", err.msg);
        check_skip(rep, "account.foreign-deactivate", "setup: %s", err.msg);
        return;
    }
    if (f->bob) {
        /* bob's key on dave's kid: the signature cannot verify for dave. */
        tacct forged = {.key = f->bob->key, .kid = dave->kid};
        if (target_raw(t, &forged, NULL, dave->kid, "{\"status\":\"deactivated\"}", &r, &err) == 0) {
            judge_refusal(rep, "account.foreign-deactivate", &r, 0, NULL, "bob's key deactivating dave");
            if (target_raw(t, dave, NULL, dave->kid, NULL, &r, &err) == 0)
                check_that(rep, "account.foreign-deactivate",
                           r.status == 200 && !strcmp(json_str(r.json, "status") ? json_str(r.json, "status") : "",
                                                      "valid"),
                           "dave afterwards: %s", DESCRIBE(&r));
        }
    }
    if (target_raw(t, dave, NULL, dave->kid, "{\"status\":\"deactivated\"}", &r, &err) == 0) {
        const char *st = json_str(r.json, "status");
        check_that(rep, "account.deactivate", r.status == 200 && st && !strcmp(st, "deactivated"), "%s, status %s",
                   DESCRIBE(&r), st ? st : "(none)");
    }
    if (target_raw(t, dave, NULL, dave->kid, NULL, &r, &err) == 0)
        judge_refusal(rep, "account.deactivated-401", &r, 401, "unauthorized", "POST-as-GET by a deactivated account");
    char *name = target_name(t, "deactivated");
    char *payload = xasprintf("{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}", name);
    if (target_raw(t, dave, NULL, t->new_order, payload, &r, &err) == 0)
        judge_refusal(rep, "account.deactivated-401", &r, 401, "unauthorized", "newOrder by a deactivated account");
    free(name);
    free(payload);
    wire_resp_clear(&r);
    tacct_free(dave);
}

static void run(fixture *f)
{
    aro_err err;
    acme_resp r = {.retry_after = -1};
    f->alice = tacct_new(f->t, "alice", KEY_EC256, &r, &err);
    check_created(f, &r);
    const char *pt = acme_resp_problem(&r);
    if (!f->alice && pt && (!strcmp(pt, "badSignatureAlgorithm") || !strcmp(pt, "badPublicKey")))
        check_fail(f->rep, "jws.es256", "newAccount with an ES256 key refused: %s", err.msg);
    acme_resp_clear(&r);
    if (!f->alice) {
        check_fail(f->rep, "account.create", "%s", err.msg);
        return;
    }
    f->bob = tacct_new(f->t, "bob", KEY_EC256, NULL, &err);
    check_find_by_key(f);
    check_update(f);
    check_orders_list(f);
    check_rollover(f);
    check_deactivation(f);
}

const check_area area_accounts = {"accounts", defs, sizeof defs / sizeof *defs, run};
