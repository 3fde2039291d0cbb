/* How a certificate was obtained, remembered in its metadata (certfiles.h,
 * "settings") so that renew obtains the next one the same way: the
 * server and CA bundle, the key type, the profile, the preferred chain,
 * the challenge preferences, the solvers (--http-port, --tls-alpn-port,
 * --webroot, --bind, --hook, --hook-timeout), the deploy hook, and how
 * failures are retried (--retry-options, --preauthorize). Paths are
 * remembered absolute: cron does not run in the directory issue ran in.
 * A flag given to renew overrides the remembered value (options.h,
 * `given`) and is remembered in turn, when the renewal stores its
 * certificate. The names are the certificate's own (metadata "names"). */
#ifndef ARO_CLIENT_REMEMBERED_H
#define ARO_CLIENT_REMEMBERED_H

#include "certfiles.h"
#include "json.h"
#include "options.h"

/* --retry-options as the command line and the settings spell it:
 * "hold", "reenable", "off"; an unknown or absent name is dflt. */
const char *retry_mode_name(retry_mode m);
retry_mode retry_mode_from_name(const char *s, retry_mode dflt);

/* The settings object of o, as a parsed tree (json_free it). */
yajl_val remembered_settings(const aro_opts *o);

/* Options for renewing one certificate; owns what o points to. */
typedef struct {
    aro_opts o;
    char **owned;
    size_t nowned;
    const char **challenges;
} remembered;

/* r->o: cli's options, with every remembered setting of m that cli did
 * not give (metadata without "settings", from before aro remembered them:
 * its server, keyType and profile), and m's names. Keep m alive while
 * r->o is used. */
void remembered_apply(remembered *r, const aro_opts *cli, const certfiles_meta *m);
void remembered_clear(remembered *r);

#endif
