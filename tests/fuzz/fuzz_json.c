/* libFuzzer harness: json_parse, the gate every request body and every
 * server response passes (size and depth limits, duplicate members,
 * UTF-8). Beyond "no crash", it checks one property: whatever the parser
 * accepts, the generator writes back, and that text parses again to the
 * same text (a value that cannot be re-emitted would break rendering of
 * stored payloads such as a problem's detail). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static char *emit(yajl_val v, size_t *len)
{
    json_gen *g = jg_new();
    jg_value(g, v);
    return jg_finish(g, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aro_err err;
    yajl_val v = json_parse((const char *)data, size, &err);
    if (!v)
        return 0;
    /* The typed accessors on whatever came in (they must not trust the type). */
    const char *s;
    long long i;
    bool b;
    yajl_val o;
    (void)json_get_str(v, "type", false, &s, &err);
    (void)json_get_int(v, "status", false, &i, &err);
    (void)json_get_bool(v, "wildcard", false, &b, &err);
    (void)json_get_obj(v, "meta", false, &o, &err);
    (void)json_get_arr(v, "identifiers", false, &o, &err);
    (void)json_str(v, "detail");

    size_t len1 = 0, len2 = 0;
    char *out1 = emit(v, &len1);
    json_free(v);
    if (!out1) {
        fprintf(stderr, "fuzz_json: accepted document could not be re-emitted\n");
        abort();
    }
    yajl_val v2 = json_parse(out1, len1, &err);
    if (!v2) {
        fprintf(stderr, "fuzz_json: re-emitted document does not parse: %s\n%s\n", err.msg, out1);
        abort();
    }
    char *out2 = emit(v2, &len2);
    json_free(v2);
    if (!out2 || len1 != len2 || memcmp(out1, out2, len1) != 0) {
        fprintf(stderr, "fuzz_json: emit(parse(emit(x))) != emit(x)\n%s\n%s\n", out1, out2 ? out2 : "(null)");
        abort();
    }
    free(out1);
    free(out2);
    return 0;
}
