#include "precheck.h"

#include <stdlib.h>
#include <string.h>

#include "certfiles.h"
#include "identifiers.h"
#include "msg.h"
#include "strv.h"

static int usage(report *rep, const char *detail)
{
    report_error(rep, "usage", detail);
    return ARO_EXIT_USAGE;
}

/* Whether the CA may validate name with type (RFC 8555 7.1.3, 8.4; RFC
 * 8738 7). */
static bool type_fits(const char *name, const char *type)
{
    if (identifier_is_wildcard(name))
        return !strcmp(type, "dns-01");
    if (identifier_is_ip(name))
        return strcmp(type, "dns-01") != 0;
    return true;
}

int precheck_solvers(session *S, char *const *names, size_t n, report *rep)
{
    const aro_opts *o = S->o;
    aro_err err;
    char **used = NULL;
    size_t nused = 0;
    int ret = 0;
    for (size_t i = 0; i < n && !ret; i++) {
        bool fits = false;
        for (size_t j = 0; j < o->nchallenges; j++) {
            const char *t = o->challenges[j];
            if (!type_fits(names[i], t) || !solvers_have(S->sol, t))
                continue;
            fits = true;
            if (!strv_contains(used, nused, t))
                strv_push(&used, &nused, t);
        }
        if (fits)
            continue;
        if (identifier_is_wildcard(names[i]))
            aro_err_set(&err, "%s: a wildcard is validated with dns-01 only (RFC 8555 7.1.3): "
                        "put dns-01 in --challenges and give a --hook that sets the TXT record",
                        names[i]);
        else if (identifier_is_ip(names[i]))
            aro_err_set(&err, "%s: an IP address is validated with http-01 or tls-alpn-01 (RFC 8738), "
                        "and --challenges or the solvers allow neither", names[i]);
        else
            aro_err_set(&err, "%s: no type in --challenges has a solver (http-01: --http-port, "
                        "--webroot or --hook; dns-01: --hook; tls-alpn-01: --tls-alpn-port or "
                        "--hook)", names[i]);
        ret = usage(rep, err.msg);
    }
    if (!ret && solvers_prepare(S->sol, used, nused, &err)) {
        report_fail(rep, NULL, err.msg);
        ret = ARO_EXIT_FAILED;
    }
    strv_free(used, nused);
    return ret;
}

int precheck_profile(session *S, report *rep)
{
    const char *want = S->o->profile;
    const acme_directory *d = &S->acme.dir;
    if (!want)
        return 0;
    aro_buf names = {0};
    for (size_t i = 0; i < d->nprofiles; i++) {
        if (!strcmp(d->profiles[i].name, want)) {
            buf_free(&names);
            return 0;
        }
        buf_printf(&names, "%s%s", i ? ", " : "", d->profiles[i].name);
    }
    aro_err err;
    if (d->nprofiles)
        aro_err_set(&err, "--profile %s: the CA at %s offers the profiles %s", want, S->o->server,
                    names.data);
    else
        aro_err_set(&err, "--profile %s: the CA at %s offers no profiles", want, S->o->server);
    buf_free(&names);
    return usage(rep, err.msg);
}

/* Whether a and b hold the same names (as sets). */
static bool same_set(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!strv_contains(b, nb, a[i]))
            return false;
    return true;
}

int precheck_cert_names(session *S, char **names, size_t n, report *rep)
{
    aro_err err;
    char **certs = NULL;
    size_t ncerts = 0;
    int ret = 0;
    if (state_cert_list(S->st, &certs, &ncerts, &err)) {
        report_fail(rep, NULL, err.msg);
        return ARO_EXIT_FAILED;
    }
    /* The same names in another order: that certificate's own order. */
    for (size_t c = 0; c < ncerts; c++) {
        certfiles_meta m;
        if (strcmp(certs[c], names[0]) && certfiles_load(S->st, certs[c], &m, &err) == 0) {
            if (same_set(m.names, m.nnames, names, n)) {
                msg_info("%s already has a certificate for these names; issuing it again", certs[c]);
                for (size_t i = 0; i < n; i++) {
                    free(names[i]);
                    names[i] = xstrdup(m.names[i]);
                }
            }
            certfiles_meta_clear(&m);
        }
    }
    if (!S->o->change_names && strv_contains(certs, ncerts, names[0])) {
        certfiles_meta m;
        if (certfiles_load(S->st, names[0], &m, &err) == 0) {
            if (!same_set(m.names, m.nnames, names, n)) {
                aro_buf had = {0}, want = {0};
                for (size_t i = 0; i < m.nnames; i++)
                    buf_printf(&had, "%s%s", i ? ", " : "", m.names[i]);
                for (size_t i = 0; i < n; i++)
                    buf_printf(&want, "%s%s", i ? ", " : "", names[i]);
                aro_err_set(&err, "the certificate %s is for %s; issuing it for %s would change its "
                            "names: pass --change-names to do that", names[0], had.data, want.data);
                buf_free(&had);
                buf_free(&want);
                ret = usage(rep, err.msg);
            }
            certfiles_meta_clear(&m);
        }
    }
    strv_free(certs, ncerts);
    return ret;
}
