/* libFuzzer harness: the client's parsing of what a server sends back. A
 * hostile or broken CA controls every byte: the directory, orders,
 * authorizations, challenges, the retry-options member, problem documents
 * and the Retry-After header. The input is one response body, decoded as
 * each of those (the client decides the type by the URL it asked, not by
 * the content, so every body can reach every decoder).
 *
 * Property: what the client decodes, the server's renderer can write, and
 * the written form decodes again (both sides share acme_objects.c; a
 * value that decodes but cannot be re-rendered would mean the two sides
 * disagree about the wire format). Decoders leave partial results on
 * failure and the caller clears them, as client/authorize.c and
 * client/order.c do. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme_objects.h"
#include "backoff.h"

static void redecode_fail(const char *what, const char *json, const char *why)
{
    fprintf(stderr, "fuzz_objects: rendered %s does not decode again (%s):\n%s\n", what, why, json);
    abort();
}

/* Render with write, parse, decode with decode: must succeed. */
#define ROUNDTRIP(what, type, writefn, decodefn, clearfn, obj)                 \
    do {                                                                       \
        json_gen *g_ = jg_new();                                               \
        writefn(g_, (obj));                                                    \
        size_t l_ = 0;                                                         \
        char *s_ = jg_finish(g_, &l_);                                         \
        if (s_) {                                                              \
            aro_err e_;                                                        \
            yajl_val v_ = json_parse(s_, l_, &e_);                             \
            type o2_;                                                          \
            if (!v_)                                                           \
                redecode_fail(what, s_, e_.msg);                               \
            if (decodefn(v_, &o2_, &e_) != 0)                                  \
                redecode_fail(what, s_, e_.msg);                               \
            clearfn(&o2_);                                                     \
            json_free(v_);                                                     \
            free(s_);                                                          \
        }                                                                      \
    } while (0)

static void retry_clear(acme_retry_options *r)
{
    /* acme_retry_options_free frees the struct too; this one is on the stack. */
    acme_retry_options *h = malloc(sizeof(*h));
    if (!h)
        abort();
    *h = *r;
    acme_retry_options_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Retry-After is a header: the first line of the input, as text. */
    char hdr[128];
    size_t hl = size < sizeof(hdr) - 1 ? size : sizeof(hdr) - 1;
    memcpy(hdr, data, hl);
    hdr[hl] = '\0';
    (void)retry_after_parse(hdr, (time_t)1700000000);

    aro_err err;
    yajl_val v = json_parse((const char *)data, size, &err);
    if (!v)
        return 0;

    acme_directory d;
    (void)acme_directory_decode(v, &d, &err);
    acme_directory_clear(&d);

    acme_account a;
    if (acme_account_decode(v, &a, &err) == 0)
        ROUNDTRIP("account", acme_account, acme_account_write, acme_account_decode, acme_account_clear, &a);
    acme_account_clear(&a);

    acme_order o;
    if (acme_order_decode(v, &o, &err) == 0)
        ROUNDTRIP("order", acme_order, acme_order_write, acme_order_decode, acme_order_clear, &o);
    acme_order_clear(&o);

    acme_authz az;
    if (acme_authz_decode(v, &az, &err) == 0)
        ROUNDTRIP("authorization", acme_authz, acme_authz_write, acme_authz_decode, acme_authz_clear, &az);
    acme_authz_clear(&az);

    acme_challenge c;
    if (acme_challenge_decode(v, &c, &err) == 0)
        ROUNDTRIP("challenge", acme_challenge, acme_challenge_write, acme_challenge_decode,
                  acme_challenge_clear, &c);
    acme_challenge_clear(&c);

    acme_retry_options r;
    if (acme_retry_options_decode(v, &r, &err) == 0)
        ROUNDTRIP("retry-options", acme_retry_options, acme_retry_options_write,
                  acme_retry_options_decode, retry_clear, &r);
    retry_clear(&r);

    acme_problem *p = problem_decode(v);
    if (p) {
        (void)problem_short_type(p->type);
        char *s = problem_to_json(p);
        if (s) {
            yajl_val pv = json_parse(s, strlen(s), &err);
            acme_problem *p2 = problem_decode(pv);
            if (!p2)
                redecode_fail("problem", s, "problem_decode");
            problem_free(p2);
            json_free(pv);
            free(s);
        }
        acme_problem *cp = problem_copy(p);
        problem_free(cp);
        problem_free(p);
    }
    json_free(v);
    return 0;
}
