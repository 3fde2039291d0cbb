/* A one-pass reader of the store's records: JSON objects that the
 * generator (common/json.c, rec_*_to_json) wrote, read member by member
 * straight into the record's fields, with no tree and no allocation but
 * the strings the record keeps. It replaces yajl_tree_parse for records,
 * which built a node per value and freed them all again on every read
 * (7% of aro-server's CPU at concurrency 64, docs/benchmarks.md).
 *
 * What the generator writes is all it needs to read: objects, arrays,
 * strings with the escapes of RFC 8259 section 7 (\uXXXX and surrogate
 * pairs included), integers, true, false and null. It is not a validator:
 * a record whose structure is not JSON makes the reader fail (rr_done
 * false), it never reads outside the buffer and never crashes (tests/fuzz/
 * fuzz_records.c), but the content of strings is taken as it is (a raw
 * control character or invalid UTF-8, which the generator never writes,
 * is not refused), so documents from outside go through json_parse.
 *
 * Use: rr_init, then `while (rr_member(&r, &key, &klen))` and for each key
 * exactly one value call (rr_str, rr_fixed, rr_int, rr_bool, rr_strv,
 * rr_tree, an rr_array loop, or rr_skip); then rr_done says whether the
 * whole document was one well-formed object. A value of another type than
 * asked is skipped and yields the zero value, as a missing member does. */
#ifndef ARO_STORE_RECORD_READER_H
#define ARO_STORE_RECORD_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#define RR_MAX_DEPTH 8   /* records nest two deep */

typedef struct {
    const char *p, *end;
    bool bad;              /* set once the input stops being JSON; sticky */
    bool at_value;         /* positioned before a value the caller must read */
    int depth;             /* open containers */
    bool first[RR_MAX_DEPTH]; /* per open container: no element read yet */
} rec_reader;

void rr_init(rec_reader *r, const char *s, size_t len);
/* The next member of the current object: true with its name (not
 * NUL-terminated, escapes left as written: record names have none), false
 * at the object's end or on bad input. The top-level object is opened by
 * the first call. */
bool rr_member(rec_reader *r, const char **key, size_t *klen);
/* key, klen as rr_member gave them, equal to the C string name (inline:
 * the decoders compare every member against literals, whose length the
 * compiler then knows). */
static inline bool rr_key_is(const char *key, size_t klen, const char *name)
{
    return strlen(name) == klen && memcmp(key, name, klen) == 0;
}
/* A string (or null: NULL). Replaces and frees *out. */
void rr_str(rec_reader *r, char **out);
/* A string into out when shorter than size, else out is "". */
void rr_fixed(rec_reader *r, char *out, size_t size);
long long rr_int(rec_reader *r);
bool rr_bool(rec_reader *r);
/* An array of strings (other elements skipped). Replaces and frees *v. */
void rr_strv(rec_reader *r, char ***v, size_t *n);
/* Arrays element by element: rr_array opens one (false if the value is
 * not an array: it was skipped), rr_element is true before each element,
 * which the caller then reads with one value call (rr_member works on an
 * element that is an object), false after the last. */
bool rr_array(rec_reader *r);
bool rr_element(rec_reader *r);
/* The value as a yajl tree (NULL for bad input), for the rare members with
 * their own decoder (a problem document): json_free it. */
yajl_val rr_tree(rec_reader *r);
void rr_skip(rec_reader *r);
/* True when the document was exactly one object, read to its end. */
bool rr_done(rec_reader *r);

#endif
