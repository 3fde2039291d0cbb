#include "core/urls.h"

#include <stdlib.h>
#include <string.h>

#include "store/records.h"  /* ID_LEN */
#include "util.h"

char *url_for(const char *base, const char *kind, const char *id)
{
    return xasprintf("%s/acme/%s/%s", base, kind, id);
}

char *url_for_sub(const char *base, const char *kind, const char *id, const char *suffix)
{
    return xasprintf("%s/acme/%s/%s/%s", base, kind, id, suffix);
}

char *account_url(const char *base, const char *id) { return url_for(base, "acct", id); }

char *cert_url(const char *base, const char *serial, int alt)
{
    return alt ? xasprintf("%s/acme/cert/%s/%d", base, serial, alt) : url_for(base, "cert", serial);
}


char *id_from_path(const char *path, const char *kind, const char *suffix)
{
    char *prefix = xasprintf("/acme/%s/", kind);
    size_t pl = strlen(prefix);
    char *id = NULL;
    if (strncmp(path, prefix, pl) == 0) {
        const char *start = path + pl;
        size_t n = strcspn(start, "/");
        const char *rest = start + n;
        bool suffix_ok = suffix ? strcmp(rest, suffix) == 0 : *rest == 0;
        if (n > 0 && n < ID_LEN + 24 && suffix_ok)
            id = xstrndup(start, n);
    }
    free(prefix);
    return id;
}

const char *id_in_url(const char *base, const char *url, const char *kind)
{
    size_t bl = strlen(base), kl = strlen(kind);
    if (!url || strncmp(url, base, bl) != 0 || strncmp(url + bl, "/acme/", 6) != 0 ||
        strncmp(url + bl + 6, kind, kl) != 0 || url[bl + 6 + kl] != '/')
        return NULL;
    const char *id = url + bl + 6 + kl + 1;
    return (*id && !strchr(id, '/') && strlen(id) < ID_LEN) ? id : NULL;
}
