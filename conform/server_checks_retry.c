#include "server_checks_retry.h"

#include "server_checks_retry_hold.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"

#define DRAFT "draft-aro-acme-retry-options-01 "

static const check_def defs[] = {
    {"ro.no-member-without-meta", DRAFT "5.1", LEVEL_MUST,
     "a server that does not advertise the extension puts no \"retry-options\" member in any object"},
    {"ro.hold-without-meta", DRAFT "5.1", LEVEL_MUST,
     "without the extension, a pending-hold request is treated as an unknown member"},
    {"ro.meta", DRAFT "5.1", LEVEL_MUST,
     "meta \"retry-options\" has integer attemptsPerAuthorization and minBackoffSeconds, boolean hold"},
    {"ro.not-on-pending", DRAFT "5.2", LEVEL_MUST,
     "a pending authorization that is not held carries no offer"},
    {"ro.offer", DRAFT "5.2", LEVEL_MUST,
     "after a failure the invalid authorization carries an offer: challenges, notBefore, attemptsRemaining, "
     "expires, url"},
    {"ro.offer-unattempted", DRAFT "5.2", LEVEL_MUST,
     "the offer lists only pending challenges, none attempted, of types offered at creation"},
    {"ro.offer-on-challenge", DRAFT "5.2", LEVEL_MUST, "the failed challenge carries the offer too"},
    {"ro.offer-deadline", DRAFT "6", LEVEL_MUST, "the offer's expires is no later than the authorization's"},
    {"ro.backoff-min", DRAFT "5.1", LEVEL_MUST, "notBefore is at least minBackoffSeconds after the failure"},
    {"ro.order-offer", DRAFT "5.4", LEVEL_MUST,
     "the order invalid because of it carries retry-options with the authorization and notBefore"},
    {"ro.fresh-token-stable", DRAFT "5.2", LEVEL_MUST, "the offer's challenges (URL, token) do not change between reads"},
    {"ro.reenable-too-early", DRAFT "5.5", LEVEL_MUST,
     "a re-enable before notBefore: 429 rateLimited with Retry-After, nothing changed"},
    {"ro.reenable-foreign", DRAFT "5.5", LEVEL_MUST,
     "a re-enable signed by another account: 403 unauthorized, nothing changed"},
    {"ro.reenable-unlisted", DRAFT "5.5", LEVEL_MUST,
     "a re-enable naming a challenge the offer does not list: 400 malformed, nothing changed"},
    {"ro.reenable-bad-payload", DRAFT "5.5", LEVEL_MUST,
     "a re-enable whose payload is not as specified: 400 malformed, nothing changed"},
    {"ro.legacy-post-failed", DRAFT "5.6", LEVEL_MUST,
     "a challenge response to the failed challenge of an invalid authorization changes nothing"},
    {"ro.legacy-post-untried", DRAFT "5.6", LEVEL_MUST,
     "a challenge response to an untried challenge of an invalid authorization changes nothing"},
    {"ro.reenable-accept", DRAFT "5.4", LEVEL_MUST,
     "a re-enable at notBefore answers 200: authorization pending, the named challenge processing"},
    {"ro.offer-gone", DRAFT "5.2", LEVEL_MUST, "once taken, the offer is gone from the authorization and its challenges"},
    {"ro.order-pending", DRAFT "5.4", LEVEL_MUST,
     "the order returns to pending without error, its URLs, identifiers and expires unchanged"},
    {"ro.reenable-repeat", DRAFT "5.4", LEVEL_MUST, "the same re-enable sent again answers 200 and starts nothing"},
    {"ro.order-ready", DRAFT "5.4", LEVEL_MUST, "the same order becomes ready after the re-enabled attempt passes"},
    {"ro.reenable-not-invalid", DRAFT "5.5", LEVEL_MUST,
     "a re-enable of an authorization that is no longer invalid: 403 retryNotAllowed"},
    {"ro.attempts", DRAFT "5.2", LEVEL_MUST,
     "attemptsRemaining counts down by one per failure within attemptsPerAuthorization"},
    {"ro.backoff-grows", DRAFT "6", LEVEL_SHOULD, "notBefore grows with each attempt"},
    {"ro.exhausted", DRAFT "5.5", LEVEL_MUST,
     "with the attempts used up there is no offer, and a re-enable is 403 retryNotAllowed"},
    {"ro.hold-order", DRAFT "5.4", LEVEL_MUST, "an order created with pending-hold carries retry-options with hold true"},
    {"ro.hold-failure", DRAFT "5.3", LEVEL_MUST,
     "a held authorization stays pending with the offer after a failure; the challenge invalid, the order pending"},
    {"ro.hold-no-url", DRAFT "5.2", LEVEL_MUST, "the offer of a held (pending) authorization has no url"},
    {"ro.hold-too-early", DRAFT "5.3", LEVEL_MUST,
     "a response to a listed challenge before notBefore: 429 rateLimited with Retry-After, nothing changed"},
    {"ro.hold-unlisted", DRAFT "5.3", LEVEL_MUST,
     "a response to a challenge the offer does not list: 400 malformed, nothing changed"},
    {"ro.hold-take", DRAFT "5.3", LEVEL_MUST,
     "a response to a listed challenge at notBefore is processed and the same order becomes ready"},
};

/* ---- shared steps (server_checks_retry.h) ---------------------------- */

const char *ro_str(yajl_val v, const char *key)
{
    const char *s = json_str(v, key);
    return s ? s : "";
}

yajl_val ro_challenge(yajl_val authz, const char *url)
{
    yajl_val ch = json_member(authz, "challenges");
    for (size_t i = 0; json_array_len(ch) > 0 && i < ch->u.array.len; i++)
        if (!strcmp(ro_str(ch->u.array.values[i], "url"), url))
            return ch->u.array.values[i];
    return NULL;
}

int ro_snapshot(ro_run *ro, ro_snap *s, const char *authz_url, const char *order_url)
{
    aro_err err;
    memset(s, 0, sizeof *s);
    return tobj_fetch(ro->f->alice, authz_url, &s->authz, &err) || tobj_fetch(ro->f->alice, order_url, &s->order, &err)
               ? -1 : 0;
}

bool ro_unchanged(ro_run *ro, const ro_snap *s, const char *id, const char *what)
{
    ro_snap now;
    if (ro_snapshot(ro, &now, s->authz.url, s->order.url)) {
        check_fail(ro->f->rep, id, "%s: cannot read the objects again", what);
        ro_snap_clear(&now);
        return false;
    }
    bool az = json_same(s->authz.json, now.authz.json), od = json_same(s->order.json, now.order.json);
    if (!az || !od)
        check_fail(ro->f->rep, id, "%s changed the %s (authorization now %s, order now %s)", what,
                   !az ? "authorization" : "order", tobj_status(&now.authz), tobj_status(&now.order));
    ro_snap_clear(&now);
    return az && od;
}

void ro_snap_clear(ro_snap *s)
{
    tobj_clear(&s->authz);
    tobj_clear(&s->order);
}

int ro_fail_attempt(ro_run *ro, const char *authz_url, const char *chall_url, tobj *az, time_t *t_resp)
{
    wire_resp r = {0};
    aro_err err;
    *t_resp = time(NULL);
    int rc = target_raw(ro->f->t, ro->f->alice, NULL, chall_url, "{}", &r, &err);
    if (rc == 0 && r.status >= 300) {
        aro_err_set(&err, "the challenge response was refused: %s", DESCRIBE(&r));
        rc = -1;
    }
    /* Poll briskly: the refusals before notBefore need the failure seen
     * early (a few reads a second for a few seconds). */
    ro->f->t->poll_max = 0.25;
    if (rc == 0)
        rc = tobj_poll(ro->f->t, ro->f->alice, authz_url, "valid invalid deactivated expired revoked", chall_url, az,
                       &err);
    ro->f->t->poll_max = 0;
    if (rc)
        snprintf(ro->why, sizeof ro->why, "%s", err.msg);
    wire_resp_clear(&r);
    return rc;
}

/* A listed challenge the checks can answer: dns-01 first, then http-01. */
yajl_val ro_pick(yajl_val offer)
{
    yajl_val ch = json_member(offer, "challenges");
    const char *prefer[] = {"dns-01", "http-01"};
    for (size_t p = 0; p < 2; p++)
        for (size_t i = 0; json_array_len(ch) > 0 && i < ch->u.array.len; i++)
            if (!strcmp(ro_str(ch->u.array.values[i], "type"), prefer[p]))
                return ch->u.array.values[i];
    return NULL;
}

int ro_reenable(ro_run *ro, const tacct *a, const char *url, const char *payload, wire_resp *r)
{
    aro_err err;
    return target_raw(ro->f->t, a, NULL, url, payload, r, &err);
}

char *ro_choice(const char *chall_url)
{
    return xasprintf("{\"challenge\":\"%s\"}", chall_url);
}

bool ro_wait_not_before(ro_run *ro, time_t not_before, const char *id)
{
    long wait = (long)(not_before - time(NULL));
    if (wait > ro->f->t->max_wait) {
        check_skip(ro->f->rep, id, "notBefore is %ld s away, more than --max-wait %ld s", wait, ro->f->t->max_wait);
        return false;
    }
    sleep_until(not_before, 1.2, ro->f->t->max_wait + 2);
    return true;
}

void ro_too_early(ro_run *ro, const ro_snap *s, const char *id, time_t not_before, const char *url,
                  const char *payload, const char *what)
{
    wire_resp r = {0};
    if (time(NULL) + 1 >= not_before) {
        check_skip(ro->f->rep, id, "notBefore had passed when the failure was seen");
        return;
    }
    if (ro_reenable(ro, ro->f->alice, url, payload, &r) == 0 &&
        judge_refusal(ro->f->rep, id, &r, 429, "rateLimited", what)) {
        if (!r.retry_after)
            check_fail(ro->f->rep, id, "the 429 has no Retry-After");
        ro_unchanged(ro, s, id, "the refused request");
    }
    wire_resp_clear(&r);
}

/* ---- the offer on an invalid authorization ---------------------------- */

static void check_meta(ro_run *ro)
{
    yajl_val m = ro->f->t->ro_meta;
    yajl_val a = json_member(m, "attemptsPerAuthorization"), b = json_member(m, "minBackoffSeconds"),
             h = json_member(m, "hold");
    bool ok = a && YAJL_IS_INTEGER(a) && YAJL_GET_INTEGER(a) >= 1 && b && YAJL_IS_INTEGER(b) &&
              YAJL_GET_INTEGER(b) >= 0 && (!h || YAJL_IS_TRUE(h) || YAJL_IS_FALSE(h));
    check_that(ro->f->rep, "ro.meta", ok, "attemptsPerAuthorization %s, minBackoffSeconds %s, hold %s",
               a && YAJL_IS_NUMBER(a) ? a->u.number.r : "(missing)", b && YAJL_IS_NUMBER(b) ? b->u.number.r : "(missing)",
               !h ? "(absent)" : YAJL_IS_TRUE(h) ? "true" : YAJL_IS_FALSE(h) ? "false" : "(not a boolean)");
    ro->attempts = a && YAJL_IS_INTEGER(a) ? YAJL_GET_INTEGER(a) : 0;
    ro->min_backoff = b && YAJL_IS_INTEGER(b) ? YAJL_GET_INTEGER(b) : 0;
}

/* The offer's shape (5.2) on an invalid or held authorization. */
void ro_judge_offer(ro_run *ro, const tobj *az, const char *failed_url, const char *created_types, time_t t_resp,
                    bool held)
{
    report *rep = ro->f->rep;
    yajl_val off = json_member(az->json, "retry-options");
    yajl_val ch = json_member(off, "challenges"), ar = json_member(off, "attemptsRemaining");
    bool shape = json_array_len(ch) > 0 && json_time(off, "notBefore") && ar && YAJL_IS_INTEGER(ar) &&
                 YAJL_GET_INTEGER(ar) >= 1 && json_time(off, "expires") && (held || json_str(off, "url"));
    const char *id_shape = held ? "ro.hold-failure" : "ro.offer";
    if (!shape)
        check_fail(rep, id_shape, "the offer lacks a member or has the wrong type (challenges %ld, notBefore %s, "
                   "attemptsRemaining %s, expires %s, url %s)", json_array_len(ch), ro_str(off, "notBefore"),
                   ar && YAJL_IS_NUMBER(ar) ? ar->u.number.r : "(missing)", ro_str(off, "expires"),
                   json_str(off, "url") ? json_str(off, "url") : "(absent)");
    else if (!held)
        check_pass(rep, "ro.offer", "%ld challenge(s), notBefore %s, attemptsRemaining %s, url %s", json_array_len(ch),
                   ro_str(off, "notBefore"), ar->u.number.r, ro_str(off, "url"));
    if (held)
        check_that(rep, "ro.hold-no-url", !json_member(off, "url"), "the held offer %s a url",
                   json_member(off, "url") ? "has" : "has no");
    bool clean = json_array_len(ch) > 0;
    const char *why = "";
    for (size_t i = 0; clean && i < ch->u.array.len; i++) {
        yajl_val c = ch->u.array.values[i];
        if (strcmp(ro_str(c, "status"), "pending"))
            clean = false, why = "a listed challenge is not pending";
        else if (!strcmp(ro_str(c, "url"), failed_url))
            clean = false, why = "the failed challenge is listed";
        else if (!strstr(created_types, ro_str(c, "type")))
            clean = false, why = "a listed type was not offered at creation";
    }
    check_that(rep, "ro.offer-unattempted", clean, "%s", clean ? "only untried pending challenges" : why);
    /* The failed challenge, read at its own URL, describes the offer. */
    tobj fc = {0};
    aro_err err;
    if (tobj_fetch(ro->f->alice, failed_url, &fc, &err) == 0)
        check_that(rep, "ro.offer-on-challenge", json_same(json_member(fc.json, "retry-options"), off),
                   "POST-as-GET on the failed challenge: %s", !json_member(fc.json, "retry-options")
                   ? "no retry-options" : json_same(json_member(fc.json, "retry-options"), off)
                   ? "the authorization's offer" : "another offer than the authorization's");
    else
        check_fail(rep, "ro.offer-on-challenge", "POST-as-GET on the failed challenge: %s", err.msg);
    tobj_clear(&fc);
    time_t ae = json_time(az->json, "expires"), oe = json_time(off, "expires");
    if (ae && oe)
        check_that(rep, "ro.offer-deadline", oe <= ae, "offer expires %s, authorization %s", ro_str(off, "expires"),
                   ro_str(az->json, "expires"));
    time_t nb = json_time(off, "notBefore");
    if (nb)
        check_that(rep, "ro.backoff-min", nb + 1 >= t_resp + ro->min_backoff,
                   "notBefore %s, %ld s after the challenge response; minBackoffSeconds %ld", ro_str(off, "notBefore"),
                   (long)(nb - t_resp), ro->min_backoff);
}

char *ro_types(yajl_val authz)
{
    aro_buf b = {0};
    yajl_val ch = json_member(authz, "challenges");
    for (size_t i = 0; json_array_len(ch) > 0 && i < ch->u.array.len; i++)
        buf_printf(&b, "%s ", ro_str(ch->u.array.values[i], "type"));
    return b.data ? buf_steal(&b) : xstrdup("");
}

/* Refusals on the invalid authorization, each re-reading the objects. */
static void refusals(ro_run *ro, const ro_snap *s, yajl_val off, const char *failed_url)
{
    report *rep = ro->f->rep;
    wire_resp r = {0};
    const char *url = ro_str(off, "url");
    yajl_val pick = ro_pick(off);
    char *listed = ro_choice(pick ? ro_str(pick, "url") : ro_str(json_member(off, "challenges")->u.array.values[0], "url"));
    ro_too_early(ro, s, "ro.reenable-too-early", json_time(off, "notBefore"), url, listed,
                 "a re-enable before notBefore");
    if (ro->f->bob && ro_reenable(ro, ro->f->bob, url, listed, &r) == 0 &&
        judge_refusal(rep, "ro.reenable-foreign", &r, 403, "unauthorized", "bob re-enabling alice's authorization"))
        ro_unchanged(ro, s, "ro.reenable-foreign", "bob's refused re-enable");
    char *unlisted = ro_choice(failed_url);
    if (ro_reenable(ro, ro->f->alice, url, unlisted, &r) == 0 &&
        judge_refusal(rep, "ro.reenable-unlisted", &r, 400, "malformed", "a re-enable naming the failed challenge"))
        ro_unchanged(ro, s, "ro.reenable-unlisted", "the refused re-enable");
    free(unlisted);
    if (ro_reenable(ro, ro->f->alice, url, "{\"challenge\":7}", &r) == 0 &&
        judge_refusal(rep, "ro.reenable-bad-payload", &r, 400, "malformed", "{\"challenge\": 7}"))
        ro_unchanged(ro, s, "ro.reenable-bad-payload", "the refused re-enable");
    /* Legacy clients' challenge responses (5.6). */
    if (target_raw(ro->f->t, ro->f->alice, NULL, failed_url, "{}", &r, &(aro_err){0}) == 0 &&
        ro_unchanged(ro, s, "ro.legacy-post-failed", "{} to the failed challenge"))
        check_pass(rep, "ro.legacy-post-failed", "answered %s; nothing changed", DESCRIBE(&r));
    yajl_val untried = NULL, ch = json_member(s->authz.json, "challenges");
    for (size_t i = 0; json_array_len(ch) > 0 && i < ch->u.array.len && !untried; i++)
        if (!strcmp(ro_str(ch->u.array.values[i], "status"), "pending"))
            untried = ch->u.array.values[i];
    if (!untried) {
        check_skip(rep, "ro.legacy-post-untried", "the invalid authorization lists no untried challenge");
    } else if (target_raw(ro->f->t, ro->f->alice, NULL, ro_str(untried, "url"), "{}", &r, &(aro_err){0}) == 0) {
        sleep_seconds(0.5); /* a validation it started would show by now */
        if (ro_unchanged(ro, s, "ro.legacy-post-untried", "{} to an untried challenge"))
            check_pass(rep, "ro.legacy-post-untried", "answered %s; nothing changed", DESCRIBE(&r));
    }
    free(listed);
    wire_resp_clear(&r);
}

/* Take the offer: re-enable with a provisioned challenge, then follow. */
static void take_offer(ro_run *ro, ro_snap *s, yajl_val off)
{
    report *rep = ro->f->rep;
    target *t = ro->f->t;
    tacct *a = ro->f->alice;
    wire_resp r = {0};
    aro_err err;
    tobj az = {0}, od = {0};
    yajl_val pick = ro_pick(off);
    if (!pick) {
        check_skip(rep, "ro.reenable-accept", "the offer lists no dns-01 or http-01 challenge to answer");
        return;
    }
    char *chall = xstrdup(ro_str(pick, "url"));
    char *url = xstrdup(ro_str(off, "url"));
    const char *name = ro_str(json_member(s->authz.json, "identifier"), "value");
    if (challenge_provision(t, a, name, pick, &err)) {
        check_skip(rep, "ro.reenable-accept", "%s", err.msg);
        goto out;
    }
    if (!ro_wait_not_before(ro, json_time(off, "notBefore"), "ro.reenable-accept"))
        goto out;
    char *payload = ro_choice(chall);
    if (ro_reenable(ro, a, url, payload, &r)) {
        check_fail(rep, "ro.reenable-accept", "no answer");
        free(payload);
        goto out;
    }
    yajl_val nc = ro_challenge(r.json, chall);
    const char *ns = ro_str(nc, "status");
    bool ok = r.status == 200 && !strcmp(ro_str(r.json, "status"), "pending") && !json_member(r.json, "retry-options") &&
              (!strcmp(ns, "processing") || !strcmp(ns, "valid"));
    check_that(rep, "ro.reenable-accept", ok, "%s; authorization %s, the named challenge %s%s", DESCRIBE(&r),
               ro_str(r.json, "status"), nc ? ns : "not listed", json_member(r.json, "retry-options") ? ", offer still "
               "present" : "");
    if (r.status != 200) {
        free(payload);
        goto out;
    }
    size_t nchall = (size_t)json_array_len(json_member(r.json, "challenges"));
    if (tobj_fetch(a, s->order.url, &od, &err) == 0) {
        bool same = json_same(json_member(od.json, "authorizations"), json_member(s->order.json, "authorizations")) &&
                    json_same(json_member(od.json, "identifiers"), json_member(s->order.json, "identifiers")) &&
                    !strcmp(ro_str(od.json, "expires"), ro_str(s->order.json, "expires"));
        const char *os = tobj_status(&od);
        check_that(rep, "ro.order-pending", (!strcmp(os, "pending") || !strcmp(os, "ready")) &&
                   !json_member(od.json, "error") && same, "order %s%s%s", os,
                   json_member(od.json, "error") ? ", still with an error" : "", same ? "" : ", its members changed");
    }
    /* The repeat: same request, 200, nothing new started. */
    if (ro_reenable(ro, a, url, payload, &r) == 0)
        check_that(rep, "ro.reenable-repeat", r.status == 200 &&
                   (size_t)json_array_len(json_member(r.json, "challenges")) == nchall,
                   "%s, %ld challenge(s) (was %zu)", DESCRIBE(&r), json_array_len(json_member(r.json, "challenges")),
                   nchall);
    free(payload);
    tobj fc = {0};
    if (tobj_poll(t, a, s->authz.url, "valid invalid", NULL, &az, &err) == 0 &&
        tobj_fetch(a, ro->failed, &fc, &err) == 0) {
        bool gone = !json_member(az.json, "retry-options") && !json_member(fc.json, "retry-options");
        check_that(rep, "ro.offer-gone", gone, "authorization %s, %s", tobj_status(&az),
                   gone ? "no offer on it or on the failed challenge" : "an offer is still shown");
    }
    tobj_clear(&fc);
    if (tobj_poll(t, a, s->order.url, "ready invalid valid", NULL, &od, &err) == 0)
        check_that(rep, "ro.order-ready", !strcmp(tobj_status(&od), "ready"), "the same order is %s", tobj_status(&od));
    /* Another listed challenge, now that the authorization is valid. */
    yajl_val lch = json_member(off, "challenges");
    for (size_t i = 0; json_array_len(lch) > 0 && i < lch->u.array.len; i++) {
        const char *u = ro_str(lch->u.array.values[i], "url");
        if (!strcmp(u, chall))
            continue;
        char *other = ro_choice(u);
        if (ro_reenable(ro, a, url, other, &r) == 0)
            judge_refusal(rep, "ro.reenable-not-invalid", &r, 403, "retryNotAllowed",
                          "a re-enable of the now valid authorization naming another challenge");
        free(other);
        break;
    }
out:
    free(chall);
    free(url);
    tobj_clear(&az);
    tobj_clear(&od);
    wire_resp_clear(&r);
}

static void offer_on_invalid(ro_run *ro)
{
    report *rep = ro->f->rep;
    tacct *a = ro->f->alice;
    aro_err err;
    tobj o = {0}, az = {0};
    ro_snap s = {0};
    char *name = target_name(ro->f->t, "retry");
    const char *names[] = {name};
    yajl_val azs;
    if (order_new(a, names, 1, NULL, &o, &err) || json_array_len(azs = json_member(o.json, "authorizations")) < 1 ||
        tobj_fetch(a, YAJL_GET_STRING(azs->u.array.values[0]), &az, &err)) {
        check_skip(rep, "ro.offer", "setup: %s", err.msg);
        goto out;
    }
    check_that(rep, "ro.not-on-pending", !json_member(az.json, "retry-options"), "the new pending authorization %s",
               json_member(az.json, "retry-options") ? "carries retry-options" : "carries none");
    yajl_val ch = challenge_of(az.json, "http-01");
    if (!ch) {
        check_skip(rep, "ro.offer", "no http-01 challenge to fail");
        goto out;
    }
    char *types = ro_types(az.json);
    snprintf(ro->failed, sizeof ro->failed, "%s", ro_str(ch, "url"));
    time_t t_resp;
    char *az_url = xstrdup(az.url);
    if (ro_fail_attempt(ro, az_url, ro->failed, &az, &t_resp)) {
        check_skip(rep, "ro.offer", "the failing attempt: %s", ro->why);
        free(types);
        free(az_url);
        goto out;
    }
    yajl_val off = json_member(az.json, "retry-options");
    if (strcmp(tobj_status(&az), "invalid") || !off) {
        if (!strcmp(tobj_status(&az), "invalid"))
            check_skip(rep, "ro.offer", "no offer after this failure (a server may decline to make one)");
        else if (off)
            check_fail(rep, "ro.not-on-pending", "after the failure the authorization, which did not ask for "
                       "pending-hold, is %s with an offer", tobj_status(&az));
        else
            check_skip(rep, "ro.offer", "after the failure the authorization is %s", tobj_status(&az));
        free(types);
        free(az_url);
        goto out;
    }
    ro_judge_offer(ro, &az, ro->failed, types, t_resp, false);
    free(types);
    if (ro_snapshot(ro, &s, az_url, o.url) == 0) {
        yajl_val oo = json_member(s.order.json, "retry-options");
        yajl_val oa = json_member(oo, "authorizations");
        bool ok = !strcmp(tobj_status(&s.order), "invalid") && json_array_len(oa) == 1 &&
                  !strcmp(json_string_or_empty(oa->u.array.values[0]), az_url) &&
                  json_time(oo, "notBefore");
        check_that(rep, "ro.order-offer", ok, "order %s, retry-options %s", tobj_status(&s.order),
                   oo ? (ok ? "names the authorization and notBefore" : "incomplete") : "absent");
        check_that(rep, "ro.fresh-token-stable",
                   json_same(json_member(json_member(s.authz.json, "retry-options"), "challenges"),
                             json_member(off, "challenges")),
                   "two reads of the offer list %s challenges", json_same(json_member(json_member(s.authz.json,
                   "retry-options"), "challenges"), json_member(off, "challenges")) ? "the same" : "different");
        refusals(ro, &s, json_member(s.authz.json, "retry-options"), ro->failed);
        take_offer(ro, &s, json_member(s.authz.json, "retry-options"));
    }
    free(az_url);
out:
    free(name);
    ro_snap_clear(&s);
    tobj_clear(&o);
    tobj_clear(&az);
}

static void without_meta(ro_run *ro)
{
    report *rep = ro->f->rep;
    for (size_t i = 0; i < sizeof defs / sizeof *defs; i++)
        if (strcmp(defs[i].id, "ro.no-member-without-meta") && strcmp(defs[i].id, "ro.hold-without-meta"))
            check_skip(rep, defs[i].id, "the directory does not advertise retry-options");
    wire_resp r = {0};
    aro_err err;
    char *name = target_name(ro->f->t, "nohold");
    char *p = xasprintf("{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}],\"retry-options\":{\"hold\":true}}",
                        name);
    if (target_raw(ro->f->t, ro->f->alice, NULL, ro->f->t->new_order, p, &r, &err) == 0)
        check_that(rep, "ro.hold-without-meta", r.status == 201 && !json_member(r.json, "retry-options"),
                   "newOrder with a pending-hold request: %s%s", DESCRIBE(&r),
                   json_member(r.json, "retry-options") ? ", and the order carries retry-options" : "");
    free(p);
    free(name);
    wire_resp_clear(&r);
}

static void run(fixture *f)
{
    ro_run ro = {.f = f};
    if (!f->alice) {
        check_skip_rest(f->rep, "ro.", "no account");
        return;
    }
    if (!f->t->ro_meta) {
        without_meta(&ro);
        return;
    }
    check_skip(f->rep, "ro.no-member-without-meta", "the directory advertises the extension");
    check_skip(f->rep, "ro.hold-without-meta", "the directory advertises the extension");
    check_meta(&ro);
    if (!f->t->cts) {
        check_skip_rest(f->rep, "ro.", "no --challtestsrv: the offers need failed and passed challenges");
        return;
    }
    offer_on_invalid(&ro);
    ro_exhaust(&ro);
    ro_hold(&ro);
}

const check_area area_retry = {"retry-options", defs, sizeof defs / sizeof *defs, run};
