#include "rules/identifiers.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "va/address.h"

bool identifier_blocked(const server_config *cfg, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < cfg->nblocklist; i++) {
        const char *b = cfg->blocklist[i];
        size_t bl = strlen(b);
        if (nl == bl && strcasecmp(name, b) == 0)
            return true;
        if (nl > bl && name[nl - bl - 1] == '.' && strcasecmp(name + nl - bl, b) == 0)
            return true;
    }
    return false;
}

static bool valid_dns_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 253)
        return false;
    int labels = 0;
    const char *p = s;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t ll = dot ? (size_t)(dot - p) : strlen(p);
        if (ll == 0 || ll > 63 || p[0] == '-' || p[ll - 1] == '-')
            return false;
        for (size_t i = 0; i < ll; i++)
            if (!(isalnum((unsigned char)p[i]) || p[i] == '-'))
                return false;
        labels++;
        if (!dot)
            break;
        p = dot + 1;
        if (!*p)
            return false; /* trailing dot */
    }
    /* A single label is not a public name; the TLD must not be numeric. */
    const char *tld = strrchr(s, '.');
    if (labels < 2 || !tld)
        return false;
    for (const char *q = tld + 1; *q; q++)
        if (!isdigit((unsigned char)*q))
            return true;
    return false;
}

acme_problem *identifier_check(const server_config *cfg, const char *type, const char *value,
                                      char **canonical, bool *wildcard)
{
    acme_problem *p = NULL;
    *canonical = NULL;
    *wildcard = false;
    if (strcmp(type, "dns") == 0) {
        char *v = xstrdup(value);
        for (char *c = v; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        const char *name = v;
        if (strncmp(v, "*.", 2) == 0) {
            *wildcard = true;
            name = v + 2;
        }
        unsigned char buf[16];
        if (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1)
            p = problem_new("rejectedIdentifier", 400, "\"%s\" is an IP address: use an \"ip\" identifier", value);
        else if (!valid_dns_name(name))
            p = problem_new("rejectedIdentifier", 400, "\"%s\" is not a valid DNS name", value);
        else if (identifier_blocked(cfg, name))
            p = problem_new("rejectedIdentifier", 400, "\"%s\" is refused by policy (blocklist)", value);
        if (!p)
            *canonical = xstrdup(name);
        free(v);
    } else if (strcmp(type, "ip") == 0) {
        unsigned char buf[16];
        char out[INET6_ADDRSTRLEN];
        if (inet_pton(AF_INET, value, buf) == 1 && inet_ntop(AF_INET, buf, out, sizeof(out)))
            *canonical = xstrdup(out);
        else if (inet_pton(AF_INET6, value, buf) == 1 && inet_ntop(AF_INET6, buf, out, sizeof(out)))
            *canonical = xstrdup(out);
        else
            p = problem_new("malformed", 400, "\"%s\" is not an IP address", value);
        /* Under --deny-private-targets an address the validation would
         * refuse to contact is refused here already, before anything is
         * stored (as Boulder's policy authority refuses reserved IPs). */
        if (*canonical && cfg->va.deny_private_targets && va_addr_is_private(*canonical)) {
            p = problem_new("rejectedIdentifier", 400,
                            "\"%s\" is not a globally reachable address (IANA special-purpose registries); "
                            "this server does not validate it",
                            value);
            free(*canonical);
            *canonical = NULL;
        }
    } else {
        p = problem_new("unsupportedIdentifier", 400, "identifier type \"%s\" is not supported", type);
    }
    if (p) {
        p->identifier.type = xstrdup(type);
        p->identifier.value = xstrdup(value);
    }
    return p;
}
