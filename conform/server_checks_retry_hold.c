#include "server_checks_retry_hold.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A listed challenge to fail again: http-01 when listed (its failure is
 * quick and certain), else the first. */
static yajl_val pick_to_fail(yajl_val offer)
{
    yajl_val ch = json_member(offer, "challenges");
    for (size_t i = 0; json_array_len(ch) > 0 && i < ch->u.array.len; i++)
        if (!strcmp(ro_str(ch->u.array.values[i], "type"), "http-01"))
            return ch->u.array.values[i];
    return json_array_len(ch) > 0 ? ch->u.array.values[0] : NULL;
}

void ro_exhaust(ro_run *ro)
{
    report *rep = ro->f->rep;
    tacct *a = ro->f->alice;
    aro_err err;
    tobj o = {0}, az = {0};
    wire_resp r = {0};
    char *name = target_name(ro->f->t, "exhaust");
    const char *names[] = {name};
    long remaining[16], backoff[16];
    size_t n = 0;
    char last_url[1024] = "", other[1024] = "";
    if (order_new(a, names, 1, NULL, &o, &err) || !order_first_authz(&o) || tobj_fetch(a, order_first_authz(&o), &az, &err) ||
        !challenge_of(az.json, "http-01")) {
        check_skip(rep, "ro.attempts", "setup: %s", err.msg);
        goto out;
    }
    char *az_url = xstrdup(az.url);
    snprintf(ro->failed, sizeof ro->failed, "%s", ro_str(challenge_of(az.json, "http-01"), "url"));
    time_t t_resp;
    if (ro_fail_attempt(ro, az_url, ro->failed, &az, &t_resp)) {
        check_skip(rep, "ro.attempts", "the first failing attempt: %s", ro->why);
        free(az_url);
        goto out;
    }
    for (;;) {
        yajl_val off = json_member(az.json, "retry-options");
        if (!off || strcmp(tobj_status(&az), "invalid"))
            break;
        yajl_val ar = json_member(off, "attemptsRemaining");
        if (n < 16) {
            remaining[n] = ar && YAJL_IS_INTEGER(ar) ? YAJL_GET_INTEGER(ar) : -1;
            backoff[n] = (long)(json_time(off, "notBefore") - t_resp);
            n++;
        }
        snprintf(last_url, sizeof last_url, "%s", ro_str(off, "url"));
        yajl_val pick = pick_to_fail(off);
        /* Another listed challenge than the one taken: naming the taken
         * one again would be a repeat (5.4), answered 200. */
        yajl_val lc = json_member(off, "challenges");
        for (size_t i = 0; pick && json_array_len(lc) > 0 && i < lc->u.array.len; i++)
            if (lc->u.array.values[i] != pick)
                snprintf(other, sizeof other, "%s", ro_str(lc->u.array.values[i], "url"));
        if (!pick || n >= 16 || !ro_wait_not_before(ro, json_time(off, "notBefore"), "ro.attempts"))
            break;
        char *chall = xstrdup(ro_str(pick, "url"));
        char *payload = ro_choice(chall);
        t_resp = time(NULL);
        int rc = ro_reenable(ro, a, last_url, payload, &r);
        free(payload);
        if (rc || r.status != 200) {
            check_fail(rep, "ro.attempts", "a re-enable at notBefore was refused: %s", DESCRIBE(&r));
            free(chall);
            break;
        }
        snprintf(ro->failed, sizeof ro->failed, "%s", chall);
        free(chall);
        if (tobj_poll(ro->f->t, a, az_url, "valid invalid deactivated expired revoked", ro->failed, &az, &err)) {
            check_fail(rep, "ro.attempts", "the re-enabled attempt: %s", err.msg);
            break;
        }
    }
    free(az_url);
    const check_entry *e = report_find(rep, "ro.attempts");
    if (e->result == RESULT_FAIL || (e->result == RESULT_SKIP && e->observations))
        goto out;
    bool down = n > 0;
    for (size_t i = 0; down && i < n; i++)
        down = remaining[i] >= 1 && (i == 0 || remaining[i] == remaining[i - 1] - 1);
    size_t made = n + 1;
    check_that(rep, "ro.attempts", down && (ro->attempts <= 0 || (long)made <= ro->attempts),
               "%zu attempt(s) made, attemptsRemaining %ld..%ld, attemptsPerAuthorization %ld", made,
               n ? remaining[0] : -1, n ? remaining[n - 1] : -1, ro->attempts);
    if (n >= 2) {
        bool grows = true;
        for (size_t i = 1; i < n; i++)
            grows = grows && backoff[i] > backoff[i - 1];
        check_that(rep, "ro.backoff-grows", grows, "backoffs after each failure: %ld s, then %ld s%s", backoff[0],
                   backoff[1], n > 2 ? ", ..." : "");
    } else {
        check_skip(rep, "ro.backoff-grows", "fewer than two offers to compare");
    }
    if (!json_member(az.json, "retry-options") && !strcmp(tobj_status(&az), "invalid") && *last_url && *other) {
        char *payload = ro_choice(other);
        if (ro_reenable(ro, a, last_url, payload, &r) == 0)
            judge_refusal(rep, "ro.exhausted", &r, 403, "retryNotAllowed", "a re-enable after the last attempt");
        free(payload);
    } else {
        check_skip(rep, "ro.exhausted", "the authorization ended %s %s", tobj_status(&az),
                   json_member(az.json, "retry-options") ? "with an offer" : "without a re-enable URL seen");
    }
out:
    free(name);
    tobj_clear(&o);
    tobj_clear(&az);
    wire_resp_clear(&r);
}

static void take_held_offer(ro_run *ro, ro_snap *s, yajl_val off)
{
    report *rep = ro->f->rep;
    tacct *a = ro->f->alice;
    wire_resp r = {0};
    aro_err err;
    tobj az = {0}, od = {0};
    yajl_val pick = ro_pick(off);
    if (!pick) {
        check_skip(rep, "ro.hold-take", "the offer lists no dns-01 or http-01 challenge");
        return;
    }
    char *chall = xstrdup(ro_str(pick, "url"));
    const char *name = ro_str(json_member(s->authz.json, "identifier"), "value");
    ro_too_early(ro, s, "ro.hold-too-early", json_time(off, "notBefore"), chall, "{}",
                 "a response before notBefore");
    if (target_raw(ro->f->t, a, NULL, ro->failed, "{}", &r, &err) == 0 &&
        judge_refusal(rep, "ro.hold-unlisted", &r, 400, "malformed", "a response to the failed challenge"))
        ro_unchanged(ro, s, "ro.hold-unlisted", "the refused response");
    if (challenge_provision(ro->f->t, a, name, pick, &err)) {
        check_skip(rep, "ro.hold-take", "%s", err.msg);
        goto out;
    }
    if (!ro_wait_not_before(ro, json_time(off, "notBefore"), "ro.hold-take"))
        goto out;
    if (target_raw(ro->f->t, a, NULL, chall, "{}", &r, &err)) {
        check_fail(rep, "ro.hold-take", "%s", err.msg);
        goto out;
    }
    const char *st = ro_str(r.json, "status");
    if (r.status != 200 || (strcmp(st, "processing") && strcmp(st, "valid"))) {
        check_fail(rep, "ro.hold-take", "the response at notBefore: %s, challenge %s", DESCRIBE(&r), st);
        goto out;
    }
    if (tobj_poll(ro->f->t, a, s->authz.url, "valid invalid", chall, &az, &err) ||
        tobj_poll(ro->f->t, a, s->order.url, "ready invalid valid", NULL, &od, &err)) {
        check_fail(rep, "ro.hold-take", "%s", err.msg);
        goto out;
    }
    check_that(rep, "ro.hold-take", !strcmp(tobj_status(&az), "valid") && !strcmp(tobj_status(&od), "ready"),
               "challenge %s; authorization %s, the same order %s", st, tobj_status(&az), tobj_status(&od));
out:
    free(chall);
    tobj_clear(&az);
    tobj_clear(&od);
    wire_resp_clear(&r);
}

void ro_hold(ro_run *ro)
{
    report *rep = ro->f->rep;
    tacct *a = ro->f->alice;
    aro_err err;
    tobj o = {0}, az = {0};
    ro_snap s = {0};
    if (!ro->f->t->ro_hold) {
        const char *ids[] = {"ro.hold-order", "ro.hold-failure", "ro.hold-no-url", "ro.hold-too-early",
                             "ro.hold-unlisted", "ro.hold-take"};
        for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
            check_skip(rep, ids[i], "meta \"retry-options\" does not offer hold");
        return;
    }
    char *name = target_name(ro->f->t, "hold");
    const char *names[] = {name};
    if (order_new(a, names, 1, "\"retry-options\":{\"hold\":true}", &o, &err) || !order_first_authz(&o)) {
        check_skip(rep, "ro.hold-order", "setup: %s", err.msg);
        goto out;
    }
    yajl_val h = json_member(json_member(o.json, "retry-options"), "hold");
    check_that(rep, "ro.hold-order", h && YAJL_IS_TRUE(h), "the order's retry-options %s",
               h ? (YAJL_IS_TRUE(h) ? "says hold: true" : "has hold, not true") : "is absent or has no hold");
    char *az_url = xstrdup(order_first_authz(&o));
    if (tobj_fetch(a, az_url, &az, &err) || !challenge_of(az.json, "http-01")) {
        check_skip(rep, "ro.hold-failure", "no http-01 challenge to fail");
        free(az_url);
        goto out;
    }
    char *types = ro_types(az.json);
    snprintf(ro->failed, sizeof ro->failed, "%s", ro_str(challenge_of(az.json, "http-01"), "url"));
    time_t t_resp;
    if (ro_fail_attempt(ro, az_url, ro->failed, &az, &t_resp) || ro_snapshot(ro, &s, az_url, o.url)) {
        check_skip(rep, "ro.hold-failure", "the failing attempt: %s", ro->why);
        free(types);
        free(az_url);
        goto out;
    }
    yajl_val off = json_member(s.authz.json, "retry-options");
    yajl_val fc = ro_challenge(s.authz.json, ro->failed);
    bool held = !strcmp(tobj_status(&s.authz), "pending") && off && !strcmp(ro_str(fc, "status"), "invalid") &&
                !strcmp(tobj_status(&s.order), "pending");
    check_that(rep, "ro.hold-failure", held, "authorization %s %s, failed challenge %s, order %s",
               tobj_status(&s.authz), off ? "with an offer" : "without an offer", ro_str(fc, "status"),
               tobj_status(&s.order));
    if (held) {
        ro_judge_offer(ro, &s.authz, ro->failed, types, t_resp, true);
        take_held_offer(ro, &s, off);
    }
    free(types);
    free(az_url);
out:
    free(name);
    ro_snap_clear(&s);
    tobj_clear(&o);
    tobj_clear(&az);
}
