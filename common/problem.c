/* Problem documents (RFC 8555 6.7). */
#include "problem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

static char *full_type(const char *type)
{
    if (strchr(type, ':'))
        return xstrdup(type);
    return xasprintf(ACME_ERROR_PREFIX "%s", type);
}

acme_problem *problem_new(const char *type, int status, const char *fmt, ...)
{
    acme_problem *p = xcalloc(1, sizeof(*p));
    p->type = full_type(type);
    p->status = status;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        char *d = NULL;
        if (vasprintf(&d, fmt, ap) < 0)
            abort();
        va_end(ap);
        p->detail = d;
    }
    return p;
}

void problem_add_sub(acme_problem *p, const char *type, const char *ident_type,
                     const char *ident_value, const char *detail)
{
    p->subproblems = xrealloc(p->subproblems, (p->nsub + 1) * sizeof(*p->subproblems));
    acme_problem *s = &p->subproblems[p->nsub++];
    memset(s, 0, sizeof(*s));
    s->type = full_type(type);
    s->detail = xstrdup(detail);
    s->identifier.type = xstrdup(ident_type);
    s->identifier.value = xstrdup(ident_value);
}

void identifier_clear(acme_identifier *id)
{
    free(id->type);
    free(id->value);
    id->type = id->value = NULL;
}

void identifier_copy(acme_identifier *dst, const acme_identifier *src)
{
    dst->type = xstrdup(src->type);
    dst->value = xstrdup(src->value);
}

static void copy_into(acme_problem *dst, const acme_problem *src)
{
    dst->type = xstrdup(src->type);
    dst->detail = xstrdup(src->detail);
    dst->status = src->status;
    identifier_copy(&dst->identifier, &src->identifier);
    dst->nsub = src->nsub;
    dst->subproblems = src->nsub ? xcalloc(src->nsub, sizeof(*dst->subproblems)) : NULL;
    for (size_t i = 0; i < src->nsub; i++)
        copy_into(&dst->subproblems[i], &src->subproblems[i]);
    dst->algorithms = NULL;
    dst->nalgorithms = 0;
    for (size_t i = 0; i < src->nalgorithms; i++)
        strv_push(&dst->algorithms, &dst->nalgorithms, src->algorithms[i]);
}

acme_problem *problem_copy(const acme_problem *p)
{
    if (!p)
        return NULL;
    acme_problem *c = xcalloc(1, sizeof(*c));
    copy_into(c, p);
    return c;
}

void problem_clear(acme_problem *p)
{
    if (!p)
        return;
    free(p->type);
    free(p->detail);
    identifier_clear(&p->identifier);
    for (size_t i = 0; i < p->nsub; i++)
        problem_clear(&p->subproblems[i]);
    free(p->subproblems);
    strv_free(p->algorithms, p->nalgorithms);
    memset(p, 0, sizeof(*p));
}

void problem_free(acme_problem *p)
{
    problem_clear(p);
    free(p);
}

void problem_write(json_gen *g, const acme_problem *p)
{
    jg_obj_open(g);
    jg_kv_str(g, "type", p->type);
    jg_kv_str(g, "detail", p->detail);
    if (p->status)
        jg_kv_int(g, "status", p->status);
    if (p->identifier.type) {
        jg_key(g, "identifier");
        jg_obj_open(g);
        jg_kv_str(g, "type", p->identifier.type);
        jg_kv_str(g, "value", p->identifier.value);
        jg_obj_close(g);
    }
    if (p->nsub) {
        jg_key(g, "subproblems");
        jg_arr_open(g);
        for (size_t i = 0; i < p->nsub; i++)
            problem_write(g, &p->subproblems[i]);
        jg_arr_close(g);
    }
    if (p->nalgorithms)
        jg_kv_strv(g, "algorithms", p->algorithms, p->nalgorithms);
    jg_obj_close(g);
}

char *problem_to_json(const acme_problem *p)
{
    json_gen *g = jg_new();
    problem_write(g, p);
    return jg_finish(g, NULL);
}

static int decode_into(yajl_val v, acme_problem *p)
{
    const char *type = json_str(v, "type");
    if (!type)
        return -1;
    p->type = xstrdup(type);
    p->detail = xstrdup(json_str(v, "detail"));
    yajl_val st = json_member(v, "status");
    if (st && YAJL_IS_INTEGER(st))
        p->status = (int)YAJL_GET_INTEGER(st);
    yajl_val id = json_member(v, "identifier");
    if (id && YAJL_IS_OBJECT(id)) {
        p->identifier.type = xstrdup(json_str(id, "type"));
        p->identifier.value = xstrdup(json_str(id, "value"));
    }
    yajl_val subs = json_member(v, "subproblems");
    if (subs && YAJL_IS_ARRAY(subs) && subs->u.array.len) {
        p->subproblems = xcalloc(subs->u.array.len, sizeof(*p->subproblems));
        for (size_t i = 0; i < subs->u.array.len; i++)
            if (decode_into(subs->u.array.values[i], &p->subproblems[p->nsub]) == 0)
                p->nsub++;
    }
    yajl_val algs = json_member(v, "algorithms");
    for (size_t i = 0; algs && YAJL_IS_ARRAY(algs) && i < algs->u.array.len; i++)
        if (YAJL_IS_STRING(algs->u.array.values[i]))
            strv_push(&p->algorithms, &p->nalgorithms, YAJL_GET_STRING(algs->u.array.values[i]));
    return 0;
}

acme_problem *problem_decode(yajl_val v)
{
    if (!v || !YAJL_IS_OBJECT(v))
        return NULL;
    acme_problem *p = xcalloc(1, sizeof(*p));
    if (decode_into(v, p) < 0) {
        problem_free(p);
        return NULL;
    }
    return p;
}

const char *problem_short_type(const char *type)
{
    if (type && strncmp(type, ACME_ERROR_PREFIX, strlen(ACME_ERROR_PREFIX)) == 0)
        return type + strlen(ACME_ERROR_PREFIX);
    return type;
}
