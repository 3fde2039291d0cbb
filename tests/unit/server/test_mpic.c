/* Multi-perspective issuance corroboration, the parts that need no
 * network: the quorum table of BR 3.2.2.9 and the decision built on it
 * (early decisions, the two determinations counted apart), the problem
 * of a refusal, the wire form both ends speak, the channel's credentials
 * (roles kept apart by their key usages, the names), and the histogram
 * the per-perspective latency goes into. The processes themselves are
 * tested end to end in tests/e2e/mpic.py. */
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca/channel.h"
#include "core/metrics.h"
#include "mpic/quorum.h"
#include "testlib.h"

/* ---- the quorum ------------------------------------------------------- */

static void test_table(void)
{
    /* BR 3.2.2.9 v2.2.6, "Quorum Requirements": 2-5 -> 1, 6+ -> 2; below
     * the table none may fail. */
    static const size_t want[] = {0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2};
    for (size_t n = 0; n < sizeof(want) / sizeof(want[0]); n++)
        CHECK_INT_EQ(mpic_allowed_non_corroborations(n), want[n]);
}

/* A remote with the given state; for ANSWERED, whether its challenge
 * passed and whether CAA permitted. */
static mpic_remote remote(const char *name, remote_state st, bool challenge_ok, bool caa_ok)
{
    mpic_remote r;
    memset(&r, 0, sizeof(r));
    r.name = name;
    r.state = st;
    if (st == REMOTE_ANSWERED) {
        r.view.challenge_checked = true;
        r.view.challenge.valid = challenge_ok;
        if (!challenge_ok)
            r.view.challenge.problem = problem_new("incorrectResponse", 400, "saw %s", "something else");
        r.view.caa_checked = true;
        if (!caa_ok)
            r.view.caa_problem = problem_new("caa", 403, "CAA record for example.com prevents issuance");
    } else if (st == REMOTE_FAILED) {
        r.failure = problem_new("serverInternal", 500, "no answer within 1000 ms");
    }
    return r;
}

static void clear_all(mpic_remote *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mpic_view_clear(&r[i].view);
        problem_free(r[i].failure);
    }
}

static void test_quorum_states(void)
{
    mpic_remote r[3];
    /* Three agree. */
    r[0] = remote("p1", REMOTE_ANSWERED, true, true);
    r[1] = remote("p2", REMOTE_ANSWERED, true, true);
    r[2] = remote("p3", REMOTE_ANSWERED, true, true);
    CHECK_INT_EQ(mpic_quorum(r, 3, true), QUORUM_MET);
    clear_all(r, 3);
    /* One differs: still met (1 of 3 allowed). */
    r[0] = remote("p1", REMOTE_ANSWERED, true, true);
    r[1] = remote("p2", REMOTE_ANSWERED, false, true);
    r[2] = remote("p3", REMOTE_ANSWERED, true, true);
    CHECK_INT_EQ(mpic_quorum(r, 3, true), QUORUM_MET);
    CHECK(!mpic_remote_corroborates(&r[1], true));
    clear_all(r, 3);
    /* Two differ: failed. */
    r[0] = remote("p1", REMOTE_ANSWERED, true, true);
    r[1] = remote("p2", REMOTE_ANSWERED, false, true);
    r[2] = remote("p3", REMOTE_FAILED, false, false);
    CHECK_INT_EQ(mpic_quorum(r, 3, true), QUORUM_FAILED);
    clear_all(r, 3);
    /* Decided early: two corroborations of three are enough, whatever the
     * third says; two failures end it too; one of each is still open. */
    r[0] = remote("p1", REMOTE_ANSWERED, true, true);
    r[1] = remote("p2", REMOTE_ANSWERED, true, true);
    r[2] = remote("p3", REMOTE_PENDING, false, false);
    CHECK_INT_EQ(mpic_quorum(r, 3, true), QUORUM_MET);
    clear_all(r, 3);
    r[0] = remote("p1", REMOTE_FAILED, false, false);
    r[1] = remote("p2", REMOTE_ANSWERED, false, true);
    r[2] = remote("p3", REMOTE_PENDING, false, false);
    CHECK_INT_EQ(mpic_quorum(r, 3, true), QUORUM_FAILED);
    clear_all(r, 3);
    r[0] = remote("p1", REMOTE_ANSWERED, true, true);
    r[1] = remote("p2", REMOTE_ANSWERED, false, true);
    r[2] = remote("p3", REMOTE_PENDING, false, false);
    CHECK_INT_EQ(mpic_quorum(r, 3, true), QUORUM_OPEN);
    clear_all(r, 3);
    /* The determinations count apart: one fails the challenge, another
     * CAA; each quorum allows one. */
    r[0] = remote("p1", REMOTE_ANSWERED, false, true);
    r[1] = remote("p2", REMOTE_ANSWERED, true, false);
    r[2] = remote("p3", REMOTE_ANSWERED, true, true);
    CHECK_INT_EQ(mpic_quorum(r, 3, true), QUORUM_MET);
    /* Without CAA (an IP identifier) p2's CAA answer does not count. */
    CHECK(mpic_remote_corroborates(&r[1], false));
    clear_all(r, 3);
    /* One remote perspective (below the table): it must corroborate. */
    r[0] = remote("p1", REMOTE_ANSWERED, false, true);
    CHECK_INT_EQ(mpic_quorum(r, 1, true), QUORUM_FAILED);
    clear_all(r, 1);
}

static void test_problem(void)
{
    mpic_remote r[3];
    r[0] = remote("p1", REMOTE_ANSWERED, true, true);
    r[1] = remote("p2", REMOTE_ANSWERED, false, true);
    r[2] = remote("p3", REMOTE_FAILED, false, false);
    acme_problem *p = mpic_corroboration_problem(r, 3, true, "dns", "example.com");
    CHECK_STR_EQ(p->type, ACME_ERR("unauthorized"));
    CHECK(strstr(p->detail, "multi-perspective corroboration failed: 2 of 3") != NULL);
    CHECK_INT_EQ(p->nsub, 2);
    if (p->nsub == 2) {
        CHECK_STR_EQ(p->subproblems[0].type, ACME_ERR("incorrectResponse"));
        CHECK_STR_EQ(p->subproblems[0].detail, "perspective p2: saw something else");
        CHECK_STR_EQ(p->subproblems[0].identifier.type, "dns");
        CHECK_STR_EQ(p->subproblems[0].identifier.value, "example.com");
        CHECK_STR_EQ(p->subproblems[1].type, ACME_ERR("serverInternal"));
        CHECK_STR_EQ(p->subproblems[1].detail, "perspective p3: no answer within 1000 ms");
    }
    problem_free(p);
    clear_all(r, 3);
    /* CAA forbids at two: caa, with the CAA findings as subproblems. */
    r[0] = remote("p1", REMOTE_ANSWERED, true, true);
    r[1] = remote("p2", REMOTE_ANSWERED, true, false);
    r[2] = remote("p3", REMOTE_ANSWERED, false, false);
    p = mpic_corroboration_problem(r, 3, true, "dns", "example.com");
    CHECK_STR_EQ(p->type, ACME_ERR("caa"));
    CHECK_INT_EQ(p->nsub, 2);
    for (size_t i = 0; i < p->nsub; i++)
        CHECK_STR_EQ(p->subproblems[i].type, ACME_ERR("caa"));
    problem_free(p);
    clear_all(r, 3);
}

/* ---- the wire form ---------------------------------------------------- */

static void test_wire(void)
{
    const char *const ids[] = {"aro.test", "aro-alt.test"};
    mpic_query q = {.challenge = {.type = "dns-01", .identifier = "example.com", .token = "tok",
                                  .key_authorization = "tok.thumb"},
                    .check_caa = true,
                    .caa = {.wildcard = true, .method = "dns-01", .account_uri = "https://ca/acct/1",
                            .identities = ids, .nidentities = 2}};
    char *text = mpic_query_to_json(&q);
    mpic_query_decoded d;
    aro_err err = {{0}};
    CHECK(text && mpic_query_from_json(text, strlen(text), &d, &err) == 0);
    if (d.tree) {
        CHECK_STR_EQ(d.q.challenge.type, "dns-01");
        CHECK_STR_EQ(d.q.challenge.identifier, "example.com");
        CHECK(!d.q.challenge.is_ip);
        CHECK_STR_EQ(d.q.challenge.key_authorization, "tok.thumb");
        CHECK(d.q.check_caa && d.q.caa.wildcard);
        CHECK_INT_EQ(d.q.caa.nidentities, 2);
        CHECK_STR_EQ(d.q.caa.identities[1], "aro-alt.test");
        mpic_query_decoded_clear(&d);
    }
    free(text);
    static const char *const bad[] = {
        "", "[]", "{}", "{\"challenge\": {\"type\": \"dns-01\"}}",
        "{\"challenge\": {\"type\": \"dns-01\", \"identifier\": \"a\", \"ip\": \"no\", \"token\": \"t\", "
        "\"keyAuthorization\": \"k\"}}",
        "{\"challenge\": {\"type\": \"dns-01\", \"identifier\": \"a\", \"ip\": false, \"token\": \"t\", "
        "\"keyAuthorization\": \"k\"}, \"caa\": {\"wildcard\": false}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(mpic_query_from_json(bad[i], strlen(bad[i]), &d, &err) < 0);

    /* An answer: challenge failed with a problem, CAA permitted. */
    mpic_view v;
    memset(&v, 0, sizeof(v));
    v.challenge_checked = true;
    v.challenge.problem = problem_new("dns", 400, "no TXT record");
    v.caa_checked = true;
    text = mpic_view_to_json(&v);
    mpic_view back;
    CHECK(text && mpic_view_from_json(text, strlen(text), true, &back, &err) == 0);
    CHECK(!back.challenge.valid && back.challenge.problem);
    CHECK_STR_EQ(back.challenge.problem ? back.challenge.problem->detail : NULL, "no TXT record");
    CHECK(back.caa_checked && !back.caa_problem);
    mpic_view_clear(&back);
    free(text);
    mpic_view_clear(&v);
    /* An answer without the CAA asked for, or a failure without its
     * problem, is no answer. */
    const char *no_caa = "{\"challenge\": {\"valid\": true}}";
    CHECK(mpic_view_from_json(no_caa, strlen(no_caa), true, &back, &err) < 0);
    CHECK(mpic_view_from_json(no_caa, strlen(no_caa), false, &back, &err) == 0 && back.challenge.valid);
    mpic_view_clear(&back);
    const char *bare = "{\"challenge\": {\"valid\": false}}";
    CHECK(mpic_view_from_json(bare, strlen(bare), false, &back, &err) < 0);
}

/* ---- the channel's credentials ---------------------------------------- */

static X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

static bool verifies(X509 *leaf, X509 *root, int purpose)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_add_cert(st, root);
    X509_STORE_CTX_init(ctx, st, leaf, NULL);
    X509_STORE_CTX_set_purpose(ctx, purpose);
    bool ok = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return ok;
}

static void test_channel(void)
{
    CHECK(channel_name_ok("p1") && channel_name_ok("eu-west-2"));
    CHECK(!channel_name_ok("") && !channel_name_ok("primary") && !channel_name_ok("P1") &&
          !channel_name_ok("-p") && !channel_name_ok("a.b") && !channel_name_ok("../x") &&
          !channel_name_ok("abcdefghijabcdefghijabcdefghijabc"));
    char tmpl[] = "/tmp/aro-test-mpic-XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    aro_err err = {{0}};
    char *dir = NULL;
    CHECK(channel_issue_perspective(tmpl, "p1", &dir, &err) == 0);
    channel_credentials prim, persp, again;
    CHECK(channel_primary_open(tmpl, &prim, &err) == 0);
    CHECK(dir && channel_perspective_open(dir, &persp, &err) == 0);
    char *refused = NULL;
    CHECK(channel_issue_perspective(tmpl, "primary", &refused, &err) < 0 && refused == NULL);
    if (prim.ca_pem && persp.ca_pem) {
        /* One root at both ends; made once, then kept. */
        CHECK_STR_EQ(prim.ca_pem, persp.ca_pem);
        CHECK(channel_primary_open(tmpl, &again, &err) == 0);
        CHECK_STR_EQ(again.cert_pem, prim.cert_pem);
        channel_credentials_clear(&again);
        X509 *root = pem_cert(prim.ca_pem), *pc = pem_cert(prim.cert_pem), *sc = pem_cert(persp.cert_pem);
        /* The roles: the primary's certificate is a client's only, the
         * perspective's a server's only, and the perspective's names it. */
        CHECK(verifies(pc, root, X509_PURPOSE_SSL_CLIENT));
        CHECK(!verifies(pc, root, X509_PURPOSE_SSL_SERVER));
        CHECK(verifies(sc, root, X509_PURPOSE_SSL_SERVER));
        CHECK(!verifies(sc, root, X509_PURPOSE_SSL_CLIENT));
        CHECK(X509_check_host(sc, "p1", 0, 0, NULL) == 1);
        CHECK(X509_check_host(sc, "p2", 0, 0, NULL) != 1);
        X509_free(root);
        X509_free(pc);
        X509_free(sc);
    }
    channel_credentials_clear(&prim);
    channel_credentials_clear(&persp);
    free(dir);
    char *cmd = xasprintf("rm -rf '%s'", tmpl);
    CHECK(system(cmd) == 0);
    free(cmd);
}

/* ---- the histogram ---------------------------------------------------- */

static void test_histogram(void)
{
    metrics *m = metrics_new();
    metrics_observe(m, "aro_perspective_validation_seconds", "perspective=\"p1\"", 0.004);
    metrics_observe(m, "aro_perspective_validation_seconds", "perspective=\"p1\"", 0.2);
    metrics_observe(m, "aro_perspective_validation_seconds", "perspective=\"p2\"", 20);
    char *text = metrics_render(m);
    CHECK(strstr(text, "# TYPE aro_perspective_validation_seconds histogram\n") != NULL);
    /* One TYPE line for both series of the name. */
    char *first = strstr(text, "# TYPE aro_perspective_validation_seconds");
    CHECK(first && !strstr(first + 1, "# TYPE aro_perspective_validation_seconds"));
    CHECK(strstr(text, "aro_perspective_validation_seconds_bucket{perspective=\"p1\",le=\"0.005\"} 1\n") != NULL);
    CHECK(strstr(text, "aro_perspective_validation_seconds_bucket{perspective=\"p1\",le=\"0.25\"} 2\n") != NULL);
    CHECK(strstr(text, "aro_perspective_validation_seconds_bucket{perspective=\"p2\",le=\"10\"} 0\n") != NULL);
    CHECK(strstr(text, "aro_perspective_validation_seconds_bucket{perspective=\"p2\",le=\"+Inf\"} 1\n") != NULL);
    CHECK(strstr(text, "aro_perspective_validation_seconds_count{perspective=\"p1\"} 2\n") != NULL);
    CHECK(strstr(text, "aro_perspective_validation_seconds_sum{perspective=\"p1\"} 0.204000\n") != NULL);
    free(text);
    metrics_free(m);
}

int main(void)
{
    test_table();
    test_quorum_states();
    test_problem();
    test_wire();
    test_channel();
    test_histogram();
    return testlib_finish();
}
