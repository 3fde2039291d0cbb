/* One HTTP exchange as the ACME code sees it: the request (plain strings,
 * never h2o) and the response a resource fills in, with the helpers that
 * answer with a problem document (RFC 8555 6.7, RFC 7807). front/http.c
 * turns an h2o request into an http_request and sends the http_response
 * back; everything between runs on any thread and can be tested without
 * a socket. */
#ifndef ARO_CORE_EXCHANGE_H
#define ARO_CORE_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "problem.h"

struct acme_auth;

typedef struct {
    const char *method;     /* "GET", "HEAD", "POST" */
    const char *path;       /* without query, NUL-terminated */
    const char *query;      /* after '?', or NULL */
    const char *base;       /* "https://authority", the URL prefix of this request */
    const char *body;
    size_t body_len;
    const char *content_type;
    time_t now;
    /* What the resource worked out before its transaction, off the
     * writer (front/routes.c router_prepare), or NULL. */
    const void *prepared;
    /* router_accept ran (faults injected, the JWS checked), and the
     * request's authentication it made (acme/auth.c auth_ahead), which
     * the resource's auth_request takes over; NULL when there is none. */
    bool accepted;
    struct acme_auth *auth;
} http_request;

#define MAX_LINKS 8
typedef struct {
    int status;
    char *body;
    size_t body_len;
    const char *content_type;   /* static string */
    char *location;
    char *links[MAX_LINKS];     /* full header values: <url>;rel="up" */
    int nlinks;
    long retry_after;           /* seconds, -1 = none */
    const char *endpoint;       /* metrics/log label (static) */
    char *problem_type;         /* short type for the log */
} http_response;

/* Frees what the response holds and makes it empty again (retry_after -1). */
void response_clear(http_response *rs);
/* A JSON body (takes ownership of body). */
void response_json(http_response *rs, int status, char *body);
/* A body of another type (takes ownership of body). */
void response_body(http_response *rs, int status, const char *content_type, char *body);
/* The problem document of p, with p's status (400 when it has none). */
void response_problem(http_response *rs, const acme_problem *p);
/* Shorthand: a problem of a type (short "malformed" or full URN) with a
 * formatted detail. */
void response_error(http_response *rs, const char *type, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The store failed and nothing was changed: serverInternal 500, or, when
 * it failed for want of room (store_failed_for_space on this thread),
 * serverInternal 503 "the store is full" with Retry-After
 * STORE_FULL_RETRY_AFTER (reads go on working; writes again once an
 * operator gives the store room). */
#define STORE_FULL_RETRY_AFTER 60
void response_store_error(http_response *rs);
void response_link(http_response *rs, const char *url, const char *rel);

#endif
