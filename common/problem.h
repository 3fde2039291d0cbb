/* Problem documents (RFC 7807 as profiled by RFC 8555 6.7), with
 * subproblems per identifier. */
#ifndef ARO_PROBLEM_H
#define ARO_PROBLEM_H

#include <stddef.h>

#include "json.h"

#define ACME_ERROR_PREFIX "urn:ietf:params:acme:error:"
#define ACME_ERR(x) ACME_ERROR_PREFIX x

/* An identifier (7.1.3, RFC 8738): type "dns" or "ip". */
typedef struct {
    char *type;
    char *value;
} acme_identifier;

typedef struct acme_problem {
    char *type;                 /* full URN */
    char *detail;
    int status;                 /* HTTP status, 0 when absent */
    acme_identifier identifier; /* type NULL when absent */
    struct acme_problem *subproblems;
    size_t nsub;
    /* badSignatureAlgorithm (RFC 8555 6.2): the algorithms the server
     * accepts; written as "algorithms" when there are any. */
    char **algorithms;
    size_t nalgorithms;
} acme_problem;

/* A new problem with a formatted detail. type is the short name
 * ("malformed") or a full URN. */
acme_problem *problem_new(const char *type, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void problem_add_sub(acme_problem *p, const char *type, const char *ident_type,
                     const char *ident_value, const char *detail);
acme_problem *problem_copy(const acme_problem *p);
void problem_free(acme_problem *p);         /* frees p itself */
void problem_clear(acme_problem *p);        /* frees members only */
void problem_write(json_gen *g, const acme_problem *p);
char *problem_to_json(const acme_problem *p);
/* Decode; NULL when v is not a problem object (needs "type"). */
acme_problem *problem_decode(yajl_val v);
/* The short name of an ACME type ("connection"), or the URN itself. */
const char *problem_short_type(const char *type);

void identifier_clear(acme_identifier *id);
void identifier_copy(acme_identifier *dst, const acme_identifier *src);

#endif
