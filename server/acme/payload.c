#include "acme/payload.h"

#include <stdlib.h>
#include <string.h>

#include "rules/identifiers.h"
#include "rules/limits.h"
#include "strv.h"

acme_problem *payload_identifiers(const server_config *cfg, yajl_val arr, rec_order *o)
{
    if (!arr || !YAJL_IS_ARRAY(arr) || arr->u.array.len == 0)
        return problem_new("malformed", 400, "\"identifiers\" must be a non-empty array");
    acme_problem *limit = limit_identifiers_per_order(cfg, arr->u.array.len);
    if (limit)
        return limit;
    acme_problem *top = NULL;
    o->identifiers = xcalloc(arr->u.array.len, sizeof(*o->identifiers));
    for (size_t i = 0; i < arr->u.array.len; i++) {
        yajl_val v = arr->u.array.values[i];
        const char *type = json_str(v, "type"), *value = json_str(v, "value");
        if (!type || !value) {
            problem_free(top);
            return problem_new("malformed", 400, "each identifier needs string \"type\" and \"value\"");
        }
        char *canon = NULL;
        bool wildcard = false;
        acme_problem *p = identifier_check(cfg, type, value, &canon, &wildcard);
        if (p) {
            if (!top)
                top = problem_new(problem_short_type(p->type), p->status, "%s", "");
            problem_add_sub(top, p->type, type, value, p->detail);
            free(top->detail);
            top->detail = top->nsub == 1 ? xstrdup(p->detail)
                                         : xasprintf("%zu identifiers were refused", top->nsub);
            problem_free(p);
            continue;
        }
        /* The stored value keeps "*." so the order echoes what was asked. */
        char *stored = wildcard ? xasprintf("*.%s", canon) : xstrdup(canon);
        free(canon);
        bool dup = false;
        for (size_t j = 0; j < o->nidentifiers; j++)
            if (strcmp(o->identifiers[j].type, type) == 0 && strcmp(o->identifiers[j].value, stored) == 0)
                dup = true;
        if (dup) {
            free(stored);
            continue;
        }
        o->identifiers[o->nidentifiers].type = xstrdup(type);
        o->identifiers[o->nidentifiers].value = stored;
        o->nidentifiers++;
    }
    return top;
}

acme_problem *payload_time(yajl_val payload, const char *key, char **out)
{
    const char *s = NULL;
    aro_err err;
    time_t t;
    *out = NULL;
    int rc = json_get_str(payload, key, false, &s, &err);
    if (rc < 0 || (rc == 0 && time_parse_rfc3339(s, &t) < 0))
        return problem_new("malformed", 400, "\"%s\" must be an RFC 3339 time", key);
    *out = xstrdup(s);
    return NULL;
}

acme_problem *payload_contacts(yajl_val contact)
{
    if (!contact)
        return NULL;
    if (!YAJL_IS_ARRAY(contact))
        return problem_new("malformed", 400, "\"contact\" must be an array of URLs");
    for (size_t i = 0; i < contact->u.array.len; i++) {
        yajl_val c = contact->u.array.values[i];
        if (!YAJL_IS_STRING(c))
            return problem_new("malformed", 400, "\"contact\" must be an array of URLs");
        const char *s = YAJL_GET_STRING(c);
        if (strncmp(s, "mailto:", 7) != 0)
            return problem_new("unsupportedContact", 400, "contact \"%s\": only mailto: is supported", s);
        const char *addr = s + 7, *at = strchr(addr, '@');
        if (!at || at == addr || !strchr(at, '.') || strpbrk(addr, ",?&% \t<>") || at[1] == '.' ||
            addr[strlen(addr) - 1] == '.')
            return problem_new("invalidContact", 400, "contact \"%s\" is not a valid email address", s);
    }
    return NULL;
}

void payload_set_contacts(rec_account *a, yajl_val contact)
{
    strv_free(a->contact, a->ncontact);
    a->contact = NULL;
    a->ncontact = 0;
    for (size_t i = 0; contact && i < contact->u.array.len; i++)
        strv_push(&a->contact, &a->ncontact, YAJL_GET_STRING(contact->u.array.values[i]));
}

