#include "http_fields.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

bool http_field_split(const char *line, size_t n, const char **name, size_t *nlen, char **value)
{
    const char *colon = memchr(line, ':', n);
    if (!colon)
        return false;
    *name = line;
    *nlen = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vn = n - *nlen - 1;
    /* RFC 9110 5.5: leading and trailing whitespace is not the value. */
    while (vn && isspace((unsigned char)*v))
        v++, vn--;
    while (vn && isspace((unsigned char)v[vn - 1]))
        vn--;
    *value = xstrndup(v, vn);
    return true;
}

bool http_field_is(const char *name, size_t nlen, const char *want)
{
    return nlen == strlen(want) && strncasecmp(name, want, nlen) == 0;
}

bool http_media_type_is(const char *content_type, const char *type)
{
    if (!content_type)
        return false;
    size_t n = strlen(type);
    return !strncasecmp(content_type, type, n) &&
           (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

void http_links_each(const char *value, bool (*fn)(char *url, const char *rel, void *ud), void *ud)
{
    const char *p = value;
    while ((p = strchr(p, '<'))) {
        const char *e = strchr(p, '>');
        if (!e)
            return;
        /* RFC 8288 3: the link's parameters run to the comma before the
         * next link. */
        const char *next = strchr(e, ',');
        size_t plen = next ? (size_t)(next - e) : strlen(e);
        char *params = xstrndup(e + 1, plen ? plen - 1 : 0);
        char rel[64] = "";
        const char *q = strcasestr(params, "rel=");
        if (q) {
            q += 4;
            if (*q == '"')
                q++;
            size_t i = 0;
            while (q[i] && q[i] != '"' && q[i] != ';' && q[i] != ',' && !isspace((unsigned char)q[i]) &&
                   i < sizeof rel - 1) {
                rel[i] = q[i];
                i++;
            }
            rel[i] = '\0';
        }
        char *url = xstrndup(p + 1, (size_t)(e - p - 1));
        if (!fn(url, rel, ud))
            free(url);
        free(params);
        p = e + 1;
    }
}

bool http_body_append(char **body, size_t *len, const char *data, size_t n, size_t max)
{
    if (n > max || *len > max - n)
        return false;
    *body = xrealloc(*body, *len + n + 1);
    memcpy(*body + *len, data, n);
    *len += n;
    (*body)[*len] = '\0';
    return true;
}
