#include "acme/payload.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

acme_problem *payload_retry_options(const server_config *cfg, yajl_val payload, bool *hold)
{
    *hold = false;
    yajl_val ro = json_member(payload, "retry-options");
    aro_err err;
    if (!ro || !cfg->retry_options || !cfg->pending_hold)
        return NULL;
    if (!YAJL_IS_OBJECT(ro) || json_get_bool(ro, "hold", false, hold, &err) < 0)
        return problem_new("malformed", 400, "\"retry-options\" must be an object with an optional boolean \"hold\"");
    return NULL;
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

/* RFC 5322 3.2.3 dot-atom for the local part (without the characters a
 * mailto: URI would read as header fields, RFC 6068 2), a DNS name of two
 * labels or more for the domain (RFC 1035 2.3.4), as Boulder asks. */
static bool email_ok(const char *addr)
{
    const char *at = strchr(addr, '@');
    if (!at || at == addr || strchr(at + 1, '@'))
        return false;
    for (const char *p = addr; p < at; p++) {
        bool dot = *p == '.';
        if (dot && (p == addr || p + 1 == at || p[1] == '.'))
            return false;
        if (!dot && !isalnum((unsigned char)*p) && !strchr("!#$'*+/=^_`{|}~-", *p))
            return false;
    }
    const char *d = at + 1;
    size_t len = strlen(d), labels = 0;
    if (len == 0 || len > 253)
        return false;
    while (*d) {
        size_t ll = strcspn(d, ".");
        if (ll == 0 || ll > 63 || d[0] == '-' || d[ll - 1] == '-')
            return false;
        for (size_t i = 0; i < ll; i++)
            if (!isalnum((unsigned char)d[i]) && d[i] != '-')
                return false;
        labels++;
        d += ll;
        if (*d == '.' && !*++d)
            return false; /* a trailing dot */
    }
    return labels >= 2;
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
        /* URI schemes are case-insensitive (RFC 3986 3.1). */
        if (strncasecmp(s, "mailto:", 7) != 0)
            return problem_new("unsupportedContact", 400, "contact \"%s\": only mailto: is supported", s);
        if (!email_ok(s + 7))
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

