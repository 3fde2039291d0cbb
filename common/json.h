/* JSON on yajl 2.1. Parsing is stricter than yajl alone: a size and a
 * depth limit, no comments, no duplicate member names (yajl keeps the
 * first silently, which lets two JSON parsers disagree about one JWS),
 * valid UTF-8 only. Generation validates UTF-8. */
#ifndef ARO_JSON_H
#define ARO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "util.h"

#define JSON_DEFAULT_MAX_BYTES (256 * 1024)
#define JSON_DEFAULT_MAX_DEPTH 32

/* Parse len bytes (need not be NUL-terminated). NULL on error with err set
 * to a message naming the problem ("duplicate member \"kid\"", ...). */
yajl_val json_parse(const char *buf, size_t len, aro_err *err);
yajl_val json_parse_limits(const char *buf, size_t len, size_t max_bytes, int max_depth,
                           aro_err *err);
/* A document this program wrote itself (the server's stored records, by
 * the generator below): one pass of yajl_tree_parse, without the strict
 * checks json_parse makes for what comes from outside (each of them holds
 * for the generator's output already). NULL when it does not parse. */
yajl_val json_parse_trusted(const char *buf, size_t len);
void json_free(yajl_val v);

/* Member lookup on an object; NULL when obj is not an object or lacks key. */
yajl_val json_member(yajl_val obj, const char *key);

/* Typed accessors. Return 0 when the member is present with the right type,
 * 1 when it is absent and !required (out untouched), -1 with err set
 * ("member \"x\" is missing" / "member \"x\" must be a string") otherwise.
 * Returned strings point into the tree. */
int json_get_str(yajl_val obj, const char *key, bool required, const char **out, aro_err *err);
int json_get_int(yajl_val obj, const char *key, bool required, long long *out, aro_err *err);
int json_get_bool(yajl_val obj, const char *key, bool required, bool *out, aro_err *err);
int json_get_obj(yajl_val obj, const char *key, bool required, yajl_val *out, aro_err *err);
int json_get_arr(yajl_val obj, const char *key, bool required, yajl_val *out, aro_err *err);

/* Convenience: string member or NULL. */
const char *json_str(yajl_val obj, const char *key);

/* Generator. All calls are no-ops after an error; jg_finish reports it. */
typedef struct json_gen json_gen;

json_gen *jg_new(void);
void jg_free(json_gen *g);
void jg_obj_open(json_gen *g);
void jg_obj_close(json_gen *g);
void jg_arr_open(json_gen *g);
void jg_arr_close(json_gen *g);
void jg_key(json_gen *g, const char *key);
void jg_str(json_gen *g, const char *s);     /* NULL emits null */
void jg_strn(json_gen *g, const char *s, size_t len);
void jg_int(json_gen *g, long long v);
void jg_bool(json_gen *g, bool v);
void jg_null(json_gen *g);
void jg_value(json_gen *g, yajl_val v);      /* emit a parsed tree */
/* Key + value shorthands. jg_kv_str with a NULL value emits nothing. */
void jg_kv_str(json_gen *g, const char *key, const char *v);
void jg_kv_int(json_gen *g, const char *key, long long v);
void jg_kv_bool(json_gen *g, const char *key, bool v);
/* key: an array of the n strings of v. */
void jg_kv_strv(json_gen *g, const char *key, char *const *v, size_t n);
/* Returns the malloc'd, NUL-terminated document and frees g; NULL if any
 * call failed (invalid UTF-8, unbalanced nesting). */
char *jg_finish(json_gen *g, size_t *len);

#endif
