#include "server_checks_errors.h"

#include <stdlib.h>
#include <string.h>

#include "random.h"

static const check_def defs[] = {
    {"error.problem-document", "RFC 8555 6.7", LEVEL_SHOULD,
     "every error answer is an application/problem+json document with a \"type\""},
    {"error.status-member", "RFC 7807 3.1", LEVEL_MUST,
     "a problem document's \"status\", when present, is the HTTP status of the answer"},
    {"error.acme-namespace", "RFC 8555 6.7", LEVEL_MUST,
     "types in the ACME URN namespace are registered ones (or of an extension the server offers)"},
    {"error.identifier-top-level", "RFC 8555 6.7.1", LEVEL_MUST,
     "\"identifier\" appears only in subproblems, never at the top level"},
    {"error.malformed-json", "RFC 8555 6.7", LEVEL_PRACTICE, "a body that is not JSON is refused as malformed"},
    {"error.account-does-not-exist", "RFC 8555 6.7", LEVEL_PRACTICE,
     "a kid naming no account is refused as accountDoesNotExist"},
    {"nonce.post-success", "RFC 8555 6.5", LEVEL_MUST, "every successful answer to a POST carries a Replay-Nonce"},
    {"nonce.post-error", "RFC 8555 6.5", LEVEL_SHOULD, "error answers to POSTs carry a Replay-Nonce too"},
    {"nonce.syntax", "RFC 8555 6.5.1", LEVEL_MUST, "every Replay-Nonce value is base64url (1*base64url)"},
    {"nonce.unique", "RFC 8555 6.5.1", LEVEL_MUST, "no Replay-Nonce value is given twice in the run"},
    {"link.index", "RFC 8555 7.1", LEVEL_MUST,
     "every answer other than the directory's carries Link rel=\"index\" to the directory"},
};

/* What the observer has counted so far. */
struct errors_seen {
    size_t answers, errors, post_ok, post_err, post_err_nonce, nonces, indexed;
    char **nonce_list;
    size_t nnonce, cap;
    size_t ro_members;
};

static const char *const registered[] = {
    "accountDoesNotExist", "alreadyRevoked", "badCSR", "badNonce", "badPublicKey", "badRevocationReason",
    "badSignatureAlgorithm", "caa", "compound", "connection", "dns", "externalAccountRequired",
    "incorrectResponse", "invalidContact", "malformed", "orderNotReady", "rateLimited", "rejectedIdentifier",
    "serverInternal", "tls", "unauthorized", "unsupportedContact", "unsupportedIdentifier", "userActionRequired",
    "alreadyReplaced", /* RFC 9773 7.4 */
    "invalidProfile",  /* draft-ietf-acme-profiles */
};

static bool type_registered(const char *shorttype, bool ro_offered)
{
    for (size_t i = 0; i < sizeof registered / sizeof *registered; i++)
        if (!strcmp(shorttype, registered[i]))
            return true;
    /* The draft's own type, from a server that offers the draft. */
    return ro_offered && !strcmp(shorttype, "retryNotAllowed");
}

static bool b64url_value(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return false;
    return true;
}

static size_t count_member(yajl_val v, const char *key)
{
    size_t n = 0;
    if (!v)
        return 0;
    if (YAJL_IS_OBJECT(v))
        for (size_t i = 0; i < v->u.object.len; i++)
            n += !strcmp(v->u.object.keys[i], key) + count_member(v->u.object.values[i], key);
    else if (YAJL_IS_ARRAY(v))
        for (size_t i = 0; i < v->u.array.len; i++)
            n += count_member(v->u.array.values[i], key);
    return n;
}

static void judge_problem(fixture *f, const char *method, const char *url, const wire_resp *r)
{
    report *rep = f->rep;
    if (!r->problem || !wire_content_type_is(r, "application/problem+json")) {
        check_fail(rep, "error.problem-document", "%s %s answered HTTP %ld with Content-Type %s%s", method, url,
                   r->status, r->content_type ? r->content_type : "(none)", r->problem ? "" : " and no problem type");
        return;
    }
    yajl_val st = json_member(r->json, "status");
    if (st && (!YAJL_IS_INTEGER(st) || YAJL_GET_INTEGER(st) != r->status))
        check_fail(rep, "error.status-member", "%s %s: HTTP %ld, problem status %s", method, url, r->status,
                   YAJL_IS_NUMBER(st) ? st->u.number.r : "(not a number)");
    const char *type = r->problem->type;
    if (!strncmp(type, ACME_ERROR_PREFIX, strlen(ACME_ERROR_PREFIX)) &&
        !type_registered(type + strlen(ACME_ERROR_PREFIX), f->t->ro_meta != NULL))
        check_fail(rep, "error.acme-namespace", "%s %s: unregistered type %s", method, url, type);
    if (json_member(r->json, "identifier"))
        check_fail(rep, "error.identifier-top-level", "%s %s: a top-level \"identifier\"", method, url);
}

void errors_observe(void *ud, const char *method, const char *url, const wire_resp *r)
{
    fixture *f = ud;
    report *rep = f->rep;
    if (!f->seen)
        f->seen = xcalloc(1, sizeof *f->seen);
    errors_seen *s = f->seen;
    bool post = !strcmp(method, "POST");
    s->answers++;
    if (r->status >= 400) {
        s->errors++;
        judge_problem(f, method, url, r);
    }
    if (post && r->status >= 200 && r->status < 300) {
        s->post_ok++;
        if (!r->replay_nonce)
            check_fail(rep, "nonce.post-success", "%s %s answered HTTP %ld without a Replay-Nonce", method, url,
                       r->status);
    }
    if (post && r->status >= 400) {
        s->post_err++;
        if (r->replay_nonce)
            s->post_err_nonce++;
        else
            check_fail(rep, "nonce.post-error", "%s %s answered HTTP %ld without a Replay-Nonce", method, url,
                       r->status);
    }
    if (r->replay_nonce) {
        s->nonces++;
        if (!b64url_value(r->replay_nonce))
            check_fail(rep, "nonce.syntax", "%s %s: Replay-Nonce \"%.60s\"", method, url, r->replay_nonce);
        for (size_t i = 0; i < s->nnonce; i++)
            if (!strcmp(s->nonce_list[i], r->replay_nonce)) {
                check_fail(rep, "nonce.unique", "%s %s gave the nonce %.40s a second time", method, url,
                           r->replay_nonce);
                break;
            }
        if (s->nnonce == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 64;
            s->nonce_list = xrealloc(s->nonce_list, s->cap * sizeof *s->nonce_list);
        }
        s->nonce_list[s->nnonce++] = xstrdup(r->replay_nonce);
    }
    bool directory = !strcmp(url, f->t->directory_url);
    if (!directory && r->status != 404) {
        const char *idx = wire_link_rel(r, "index");
        if (idx && !strcmp(idx, f->t->directory_url))
            s->indexed++;
        else
            check_fail(rep, "link.index", "%s %s answered HTTP %ld with %s", method, url, r->status,
                       idx ? "an index link to another URL" : "no Link rel=\"index\"");
    }
    if (!f->t->ro_meta && r->json) {
        size_t n = count_member(r->json, "retry-options");
        s->ro_members += n;
        if (n)
            check_fail(rep, "ro.no-member-without-meta",
                       "%s %s: a \"retry-options\" member from a server whose directory does not advertise it",
                       method, url);
    }
}

static void own_requests(fixture *f)
{
    wire_resp r = {0};
    aro_err err;
    if (!f->alice) {
        check_skip(f->rep, "error.malformed-json", "no account");
        check_skip(f->rep, "error.account-does-not-exist", "no account");
        return;
    }
    if (wire_post(f->t->w, f->t->new_order, "this is not JSON", &r, &err) == 0)
        judge_refusal(f->rep, "error.malformed-json", &r, 400, "malformed", "a body that is not JSON");
    const char *slash = strrchr(f->alice->kid, '/');
    char *rnd = random_id(12);
    tacct ghost = {.key = f->alice->key};
    ghost.kid = xasprintf("%.*s/%s", (int)(slash ? slash - f->alice->kid : 0), f->alice->kid, rnd);
    if (target_raw(f->t, &ghost, NULL, ghost.kid, NULL, &r, &err) == 0)
        judge_refusal(f->rep, "error.account-does-not-exist", &r, 0, "accountDoesNotExist",
                      "POST-as-GET with the kid of no account");
    free(ghost.kid);
    free(rnd);
    wire_resp_clear(&r);
}

static void run(fixture *f)
{
    own_requests(f);
    errors_seen *s = f->seen;
    report *rep = f->rep;
    if (!s) {
        check_skip_rest(rep, "error.", "no answers observed");
        return;
    }
    check_pass(rep, "error.problem-document", "%zu error answers, all problem documents", s->errors);
    check_pass(rep, "error.status-member", "%zu error answers, no status disagreement", s->errors);
    check_pass(rep, "error.acme-namespace", "%zu error answers, only registered ACME types", s->errors);
    check_pass(rep, "error.identifier-top-level", "%zu error answers, none with a top-level identifier", s->errors);
    if (s->post_ok)
        check_pass(rep, "nonce.post-success", "%zu successful POST answers, all with a Replay-Nonce", s->post_ok);
    if (s->post_err)
        check_pass(rep, "nonce.post-error", "%zu error answers to POSTs, all with a Replay-Nonce", s->post_err);
    check_pass(rep, "nonce.syntax", "%zu Replay-Nonce values, all base64url", s->nonces);
    check_pass(rep, "nonce.unique", "%zu Replay-Nonce values, all different", s->nonces);
    check_pass(rep, "link.index", "%zu answers with Link rel=\"index\"", s->indexed);
    if (!f->t->ro_meta)
        check_pass(rep, "ro.no-member-without-meta", "%zu answers, none with a \"retry-options\" member",
                   s->answers);
}

void errors_seen_free(errors_seen *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnonce; i++)
        free(s->nonce_list[i]);
    free(s->nonce_list);
    free(s);
}

const check_area area_errors = {"errors", defs, sizeof defs / sizeof *defs, run};
