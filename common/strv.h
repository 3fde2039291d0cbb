/* Growable arrays of owned C strings ("string vectors"), as records and
 * reports keep them: a pointer and a count, each element malloc'd. */
#ifndef ARO_STRV_H
#define ARO_STRV_H

#include <stdbool.h>
#include <stddef.h>

/* Appends a copy of s. */
void strv_push(char ***v, size_t *n, const char *s);
bool strv_contains(char *const *v, size_t n, const char *s);
/* Removes the first element equal to s, if any, keeping the order. */
void strv_remove(char **v, size_t *n, const char *s);
void strv_free(char **v, size_t n);

#endif
