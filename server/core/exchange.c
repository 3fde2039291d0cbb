#include "core/exchange.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util.h"

void response_clear(http_response *rs)
{
    free(rs->body);
    free(rs->location);
    for (int i = 0; i < rs->nlinks; i++)
        free(rs->links[i]);
    free(rs->problem_type);
    memset(rs, 0, sizeof(*rs));
    rs->retry_after = -1;
}

void response_body(http_response *rs, int status, const char *content_type, char *body)
{
    free(rs->body);
    rs->status = status;
    rs->body = body;
    rs->body_len = body ? strlen(body) : 0;
    rs->content_type = content_type;
}

void response_json(http_response *rs, int status, char *body)
{
    response_body(rs, status, "application/json", body);
}

void response_problem(http_response *rs, const acme_problem *p)
{
    response_body(rs, p->status ? p->status : 400, "application/problem+json", problem_to_json(p));
    free(rs->problem_type);
    rs->problem_type = xstrdup(problem_short_type(p->type));
}

void response_error(http_response *rs, const char *type, int status, const char *fmt, ...)
{
    acme_problem p = {0};
    p.type = strchr(type, ':') ? xstrdup(type) : xasprintf(ACME_ERROR_PREFIX "%s", type);
    p.status = status;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&p.detail, fmt, ap) < 0)
        p.detail = NULL;
    va_end(ap);
    response_problem(rs, &p);
    problem_clear(&p);
}

void response_store_error(http_response *rs)
{
    if (store_failed_for_space()) {
        response_error(rs, "serverInternal", 503, "the store is full; nothing was changed; retry later");
        rs->retry_after = STORE_FULL_RETRY_AFTER;
        return;
    }
    response_error(rs, "serverInternal", 500, "the store failed; nothing was changed");
}

void response_link(http_response *rs, const char *url, const char *rel)
{
    if (rs->nlinks < MAX_LINKS)
        rs->links[rs->nlinks++] = xasprintf("<%s>;rel=\"%s\"", url, rel);
}
