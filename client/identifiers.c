#include "identifiers.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "strv.h"

bool identifier_is_ip(const char *name)
{
    unsigned char b[16];
    return inet_pton(AF_INET, name, b) == 1 || inet_pton(AF_INET6, name, b) == 1;
}

bool identifier_is_wildcard(const char *name)
{
    return !strncmp(name, "*.", 2);
}

const char *identifier_base(const char *name)
{
    return strncmp(name, "*.", 2) ? name : name + 2;
}

/* An IP literal in its canonical form (RFC 8738 3: as inet_ntop writes
 * it; RFC 5952 for IPv6). */
static char *ip_canonical(const char *name)
{
    unsigned char b[16];
    char out[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, name, b) == 1)
        return xstrdup(inet_ntop(AF_INET, b, out, sizeof out));
    inet_pton(AF_INET6, name, b);
    return xstrdup(inet_ntop(AF_INET6, b, out, sizeof out));
}

/* The LDH syntax of an ASCII name in lower case (RFC 1123 2.1, RFC 5890
 * 2.3.1). 0, or -1 with err. */
static int check_ldh(const char *orig, const char *n, aro_err *err)
{
    size_t len = strlen(n);
    if (len > 253) {
        aro_err_set(err, "\"%s\" is %zu octets long; a DNS name has at most 253", orig, len);
        return -1;
    }
    if (!strchr(n, '.')) {
        aro_err_set(err, "\"%s\" is not a fully qualified domain name (it has one label)", orig);
        return -1;
    }
    const char *label = n;
    for (;;) {
        const char *dot = strchr(label, '.');
        size_t l = dot ? (size_t)(dot - label) : strlen(label);
        if (l == 0) {
            aro_err_set(err, "\"%s\" has an empty label", orig);
            return -1;
        }
        if (l > 63) {
            aro_err_set(err, "\"%s\" has a label of %zu octets; at most 63 are allowed", orig, l);
            return -1;
        }
        if (label[0] == '-' || label[l - 1] == '-') {
            aro_err_set(err, "\"%s\": the label \"%.*s\" starts or ends with a hyphen", orig, (int)l,
                        label);
            return -1;
        }
        for (size_t i = 0; i < l; i++) {
            char c = label[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                if (c == '*')
                    aro_err_set(err, "\"%s\": '*' is allowed only as the whole first label "
                                "(\"*.example.com\")", orig);
                else
                    aro_err_set(err, "\"%s\" contains the character '%c', which a DNS name cannot "
                                "hold (letters, digits and '-' only)", orig, c);
                return -1;
            }
        }
        /* RFC 5891 4.4: an "xn--" label must be a valid A-label. */
        if (l > 4 && !strncmp(label, "xn--", 4)) {
            char *a = xstrndup(label, l), *u = NULL;
            int rc = idn2_to_unicode_8z8z(a, &u, 0);
            free(a);
            idn2_free(u);
            if (rc != IDN2_OK) {
                aro_err_set(err, "\"%s\": \"%.*s\" is not a valid A-label (%s)", orig, (int)l, label,
                            idn2_strerror(rc));
                return -1;
            }
        }
        if (!dot)
            return 0;
        label = dot + 1;
    }
}

char *identifier_normalize(const char *name, aro_err *err)
{
    if (!*name) {
        aro_err_set(err, "an empty name");
        return NULL;
    }
    if (identifier_is_ip(name))
        return ip_canonical(name);
    bool wild = identifier_is_wildcard(name);
    const char *base = wild ? name + 2 : name;
    size_t len = strlen(base);
    char *b = xstrndup(base, len && base[len - 1] == '.' && len > 1 ? len - 1 : len);
    bool ascii = true;
    for (char *p = b; *p; p++) {
        if ((unsigned char)*p >= 0x80)
            ascii = false;
        else if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    if (!ascii) {
        char *a = NULL;
        int rc = idn2_to_ascii_8z(b, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK) {
            aro_err_set(err, "\"%s\" is not a valid internationalized domain name (%s)", name,
                        idn2_strerror(rc));
            free(b);
            return NULL;
        }
        free(b);
        b = xstrdup(a);
        idn2_free(a);
        for (char *p = b; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    }
    if (check_ldh(name, b, err)) {
        free(b);
        return NULL;
    }
    char *out = wild ? xasprintf("*.%s", b) : xstrdup(b);
    free(b);
    if (!ascii)
        msg_info("%s is %s in DNS (IDNA A-labels)", name, out);
    return out;
}

int identifiers_normalize(const char *const *in, size_t n, char ***out, size_t *nout, aro_err *err)
{
    *out = NULL;
    *nout = 0;
    for (size_t i = 0; i < n; i++) {
        char *v = identifier_normalize(in[i], err);
        if (!v) {
            strv_free(*out, *nout);
            *out = NULL;
            *nout = 0;
            return -1;
        }
        if (strv_contains(*out, *nout, v))
            msg_note("%s is given twice (as %s); ordering it once", in[i], v);
        else
            strv_push(out, nout, v);
        free(v);
    }
    return 0;
}
