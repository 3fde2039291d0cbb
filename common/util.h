/* Small shared utilities: error text, growable buffers, time in RFC 3339.
 * Everything that allocates aborts on out-of-memory: a CA that cannot
 * allocate a few bytes cannot do anything useful, and one policy beats
 * a NULL check on every line. */
#ifndef ARO_UTIL_H
#define ARO_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* An error message carried out of a function that failed. */
typedef struct {
    char msg[512];
} aro_err;

void aro_err_set(aro_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);            /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* len bytes as 2 * len lowercase hex digits, NUL-terminated (new string). */
char *hex_lower(const void *data, size_t len);

/* A growable byte buffer, always NUL-terminated after its data. */
typedef struct {
    char *data;
    size_t len, cap;
} aro_buf;

void buf_append(aro_buf *b, const void *data, size_t len);
void buf_puts(aro_buf *b, const char *s);
void buf_printf(aro_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *buf_steal(aro_buf *b);             /* returns data (NUL-terminated), resets b */
void buf_free(aro_buf *b);

/* RFC 3339 UTC timestamps ("2026-11-28T13:40:19Z"). */
void time_format_rfc3339(time_t t, char out[32]);
/* Accepts "Z" or numeric offsets and fractional seconds; -1 on error. */
int time_parse_rfc3339(const char *s, time_t *out);

/* Write a file atomically: temp file in the same directory, fsync, rename.
 * mode is applied to the new file (e.g. 0600 for keys). Keeps nothing else. */
int file_write_atomic(const char *path, const void *data, size_t len, int mode, aro_err *err);
/* Read a whole file; NUL-terminates; limit caps the size. */
char *file_read_all(const char *path, size_t limit, size_t *len_out, aro_err *err);
/* mkdir -p */
int mkdir_p(const char *path, int mode);

#endif
