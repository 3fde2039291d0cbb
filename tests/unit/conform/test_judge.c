/* Judging clients (conform/client_judge*.c) on request logs made by hand:
 * each rule passes on a client that keeps it and fails on one that does
 * not, with the timing rules measured against Retry-After. */
#include <stdlib.h>
#include <string.h>

#include "client_judge.h"
#include "json.h"
#include "testlib.h"

#define ORIGIN "https://127.0.0.1:4000"
#define KID ORIGIN "/acme/acct/A1"

typedef struct {
    exchange v[16];
    size_t n;
} xlog;

static yajl_val js(const char *s)
{
    aro_err err;
    return s ? json_parse(s, strlen(s), &err) : NULL;
}

/* One exchange: a POST when prot is given (its protected header, JSON),
 * else a GET. */
static exchange *add(xlog *l, const char *path, const char *prot, const char *payload, long status,
                     const char *resp, double t_req, double t_resp)
{
    exchange *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->method = xstrdup(prot ? "POST" : "GET");
    e->path = xstrdup(path);
    e->user_agent = xstrdup("test/1");
    e->accept_language = xstrdup("en");
    if (prot) {
        e->content_type = xstrdup("application/jose+json");
        e->header = js(prot);
        e->payload = xstrdup(payload ? payload : "");
        e->flattened = true;
    }
    e->status = status;
    e->resp_json = js(resp);
    e->t_req = t_req;
    e->t_resp = t_resp;
    return e;
}

static void clear(xlog *l)
{
    for (size_t i = 0; i < l->n; i++) {
        exchange *e = &l->v[i];
        free(e->method);
        free(e->path);
        free(e->user_agent);
        free(e->accept_language);
        free(e->content_type);
        json_free(e->header);
        free(e->payload);
        json_free(e->resp_json);
        free(e->location);
        free(e->retry_after);
        free(e->replay_nonce);
        free(e->problem);
    }
    l->n = 0;
}

static char *prot(const char *url_path, const char *nonce, bool jwk)
{
    return xasprintf("{\"alg\":\"ES256\",\"nonce\":\"%s\",\"url\":\"%s%s\",%s}", nonce, ORIGIN, url_path,
                     jwk ? "\"jwk\":{\"kty\":\"EC\"}" : "\"kid\":\"" KID "\"");
}

/* directory, newAccount: the start of every log here. */
static void start(xlog *l)
{
    add(l, "/directory", NULL, NULL, 200,
        "{\"newNonce\":\"" ORIGIN "/acme/new-nonce\",\"newAccount\":\"" ORIGIN "/acme/new-account\","
        "\"newOrder\":\"" ORIGIN "/acme/new-order\",\"renewalInfo\":\"" ORIGIN "/acme/renewal-info\"}",
        0.0, 0.01);
    char *p = prot("/acme/new-account", "N0", true);
    exchange *e = add(l, "/acme/new-account", p, "{\"termsOfServiceAgreed\":true}", 201, "{\"status\":\"valid\"}",
                      0.1, 0.11);
    e->location = xstrdup(KID);
    e->replay_nonce = xstrdup("N1");
    free(p);
}

static check_result judge(xlog *l, const char *scenario_name, const char *id)
{
    report r;
    report_init(&r, "client", "test");
    report_add_defs(&r, client_checks, nclient_checks);
    scenario_run run = {.sc = scenario_find(scenario_name), .log = l->v, .n = l->n, .origin = ORIGIN,
                        .orders_created = -1};
    judge_run(&r, &run);
    check_result res = report_find(&r, id)->result;
    report_free(&r);
    return res;
}

static void jws_rules(void)
{
    xlog l = {0};
    start(&l);
    char *p = prot("/acme/new-order", "N1", false);
    add(&l, "/acme/new-order", p, "{\"identifiers\":[]}", 400, NULL, 0.2, 0.21);
    free(p);
    CHECK_INT_EQ(judge(&l, "baseline", "client.url"), RESULT_PASS);
    CHECK_INT_EQ(judge(&l, "baseline", "client.jwk-kid"), RESULT_PASS);
    CHECK_INT_EQ(judge(&l, "baseline", "client.user-agent"), RESULT_PASS);
    CHECK_INT_EQ(judge(&l, "baseline", "client.issued"), RESULT_FAIL);
    /* The url of another resource, then a kid nobody issued. */
    p = prot("/acme/revoke-cert", "N2", false);
    add(&l, "/acme/new-order", p, "{}", 401, NULL, 0.3, 0.31);
    free(p);
    CHECK_INT_EQ(judge(&l, "baseline", "client.url"), RESULT_FAIL);
    add(&l, "/acme/new-order", "{\"alg\":\"ES256\",\"nonce\":\"N3\",\"url\":\"" ORIGIN "/acme/new-order\","
        "\"kid\":\"" ORIGIN "/acme/acct/OTHER\"}", "{}", 400, NULL, 0.4, 0.41);
    CHECK_INT_EQ(judge(&l, "baseline", "client.jwk-kid"), RESULT_FAIL);
    /* A nonce sent twice, a GET on an order, a request without User-Agent. */
    p = prot("/acme/new-order", "N3", false);
    add(&l, "/acme/new-order", p, "{}", 400, NULL, 0.5, 0.51);
    free(p);
    CHECK_INT_EQ(judge(&l, "baseline", "client.nonce-once"), RESULT_FAIL);
    exchange *g = add(&l, "/acme/order/O1", NULL, NULL, 405, NULL, 0.6, 0.61);
    free(g->user_agent);
    g->user_agent = NULL;
    CHECK_INT_EQ(judge(&l, "baseline", "client.post-as-get"), RESULT_FAIL);
    CHECK_INT_EQ(judge(&l, "baseline", "client.user-agent"), RESULT_FAIL);
    clear(&l);
}

static void polling(void)
{
    xlog l = {0};
    for (int polite = 0; polite < 2; polite++) {
        start(&l);
        char *p = prot("/acme/authz/Z1", "N1", false);
        exchange *e = add(&l, "/acme/authz/Z1", p, "", 200,
                          "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
                          "\"challenges\":[]}", 1.0, 1.01);
        e->retry_after = xstrdup("1");
        free(p);
        p = prot("/acme/authz/Z1", "N2", false);
        add(&l, "/acme/authz/Z1", p, "", 200,
            "{\"status\":\"valid\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"challenges\":[]}",
            polite ? 2.05 : 1.5, polite ? 2.06 : 1.51);
        free(p);
        CHECK_INT_EQ(judge(&l, "baseline", "client.poll-interval"), polite ? RESULT_PASS : RESULT_FAIL);
        clear(&l);
    }
}

static void bad_nonces(void)
{
    xlog l = {0};
    /* retry with the error's nonce, with another, or none at all */
    const char *retry_nonce[] = {"FRESH", "OTHER", NULL};
    const check_result nonce_want[] = {RESULT_PASS, RESULT_FAIL, RESULT_SKIP};
    const check_result retry_want[] = {RESULT_PASS, RESULT_PASS, RESULT_FAIL};
    for (int k = 0; k < 3; k++) {
        add(&l, "/directory", NULL, NULL, 200, "{\"newNonce\":\"" ORIGIN "/acme/new-nonce\",\"newAccount\":\""
            ORIGIN "/acme/new-account\"}", 0, 0.01);
        char *p = prot("/acme/new-account", "N0", true);
        exchange *e = add(&l, "/acme/new-account", p, "{}", 400, "{\"type\":\"urn:ietf:params:acme:error:badNonce\"}",
                          0.1, 0.11);
        e->problem = xstrdup("badNonce");
        e->replay_nonce = xstrdup("FRESH");
        free(p);
        if (retry_nonce[k]) {
            p = prot("/acme/new-account", retry_nonce[k], true);
            add(&l, "/acme/new-account", p, "{}", 201, "{\"status\":\"valid\"}", 0.2, 0.21);
            free(p);
        }
        CHECK_INT_EQ(judge(&l, "badnonce", "client.badnonce-nonce"), nonce_want[k]);
        CHECK_INT_EQ(judge(&l, "badnonce", "client.badnonce-retry"), retry_want[k]);
        clear(&l);
    }
}

static void retry_after(void)
{
    xlog l = {0};
    for (int polite = 0; polite < 2; polite++) {
        start(&l);
        char *p = prot("/acme/new-order", "N1", false);
        exchange *e = add(&l, "/acme/new-order", p, "{}", 429, NULL, 1.0, 1.01);
        e->retry_after = xstrdup("2");
        free(p);
        p = prot("/acme/new-order", "N2", false);
        add(&l, "/acme/new-order", p, "{}", 201, NULL, polite ? 3.05 : 1.2, polite ? 3.06 : 1.21);
        free(p);
        CHECK_INT_EQ(judge(&l, "ratelimited", "client.retry-after-429"), polite ? RESULT_PASS : RESULT_FAIL);
        clear(&l);
    }
}

int main(void)
{
    jws_rules();
    polling();
    bad_nonces();
    retry_after();
    return testlib_finish();
}
