/* The credentials of the channel between a primary aro-server and its
 * remote validation perspectives (server/mpic/): mutual TLS under a small
 * CA of the channel's own, which the primary's CA module keeps beside its
 * issuing hierarchies and never mixes with them. Every ACME subscriber can
 * get a certificate from the issuing hierarchy; none may ever speak on
 * this channel, so the channel trusts its own root and nothing else.
 *
 *   DATA/perspectives/channel-ca.{pem,key}   the channel's root (pathlen 0)
 *   DATA/perspectives/primary.{pem,key}      the primary: clientAuth only
 *   DATA/perspectives/NAME/perspective.{pem,key}, channel-ca.pem
 *                                            perspective NAME: serverAuth
 *                                            only, dNSName NAME; the
 *                                            directory is what NAME's
 *                                            process gets as --data
 *
 * The extended key usages keep the roles apart: a perspective's
 * credentials cannot act as the primary, and the name in a perspective's
 * certificate keeps one perspective from answering as another (each one
 * counts in the quorum). Everything is made at first use, then kept;
 * delete DATA/perspectives to start over (every perspective then needs its
 * credentials again). Functions returning int give 0, or -1 with err. */
#ifndef ARO_CA_CHANNEL_H
#define ARO_CA_CHANNEL_H

#include <stdbool.h>

#include "util.h"

typedef struct {
    char *ca_pem;    /* the channel's root: the only trust anchor at either end */
    char *cert_pem;  /* this end's certificate */
    char *key_pem;   /* and its private key */
} channel_credentials;

/* A perspective name is one DNS label of lower-case letters, digits and
 * hyphens (it is the dNSName of its certificate), at most 32 long, not
 * "primary" (the primary's own label in the metrics). */
bool channel_name_ok(const char *name);

/* The primary's end, made at first use. */
int channel_primary_open(const char *data_dir, channel_credentials *out, aro_err *err);
/* Perspective name's credentials, made at first use (the channel's root
 * and the primary's end too): *dir is DATA/perspectives/NAME (malloc'd). */
int channel_issue_perspective(const char *data_dir, const char *name, char **dir, aro_err *err);
/* A perspective's end, as channel_issue_perspective wrote it into dir. */
int channel_perspective_open(const char *dir, channel_credentials *out, aro_err *err);
void channel_credentials_clear(channel_credentials *c);

#endif
