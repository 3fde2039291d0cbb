/* aro's state directory: an LMDB store (account URL per server, learned
 * challenge success rates per CA+identifier+type, certificate metadata,
 * the orders in progress) and PEM files written atomically with previous
 * versions kept.
 *
 *   STATE/store.mdb                 the LMDB store (MDB_NOSUBDIR)
 *   STATE/accounts/<server>/key.pem account key per server
 *   STATE/certs/NAME/{cert,chain,fullchain,key}.pem  (certfiles.h)
 */
#ifndef ARO_CLIENT_STATE_H
#define ARO_CLIENT_STATE_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct state state;

/* Creates dir (0700) and the store when missing. */
state *state_open(const char *dir, aro_err *err);
void state_close(state *s);
const char *state_dir(const state *s);

/* Default: $XDG_DATA_HOME/aro, else $HOME/.local/share/aro. malloc'd. */
char *state_default_dir(void);

/* Account URL for a directory URL. 0 found (*url malloc'd), 1 none, -1 error. */
int state_account_get(state *s, const char *server, char **url, aro_err *err);
int state_account_put(state *s, const char *server, const char *url, aro_err *err);
int state_account_del(state *s, const char *server, aro_err *err);
/* STATE/accounts/<server as a file name>/key.pem, malloc'd. */
char *state_account_key_path(state *s, const char *server);

/* Learned challenge outcomes per CA, identifier and challenge type. */
int state_stats_get(state *s, const char *ca, const char *ident, const char *type,
                    unsigned *success, unsigned *failure);
int state_stats_record(state *s, const char *ca, const char *ident, const char *type,
                       bool success, aro_err *err);
/* Laplace-smoothed success rate (s+1)/(s+f+2): 0.5 without history. */
double state_stats_score(unsigned success, unsigned failure);

/* Certificate metadata, a JSON document per certificate name. */
int state_cert_put(state *s, const char *name, const char *json, aro_err *err);
int state_cert_get(state *s, const char *name, char **json, aro_err *err);   /* 0/1/-1 */
/* All certificate names (malloc'd array of malloc'd strings). */
int state_cert_list(state *s, char ***names, size_t *n, aro_err *err);

/* The order in progress per CA and name set (inflight.h), a JSON
 * document per key. get: 0 found, 1 none, -1 error. */
int state_inflight_put(state *s, const char *key, const char *json, aro_err *err);
int state_inflight_get(state *s, const char *key, char **json, aro_err *err);
int state_inflight_del(state *s, const char *key, aro_err *err);

/* STATE/certs/NAME (a wildcard's '*' becomes '_'), malloc'd. */
char *state_cert_dir(state *s, const char *name);

/* How many previous versions of a key or certificate file aro keeps. */
#define STATE_KEEP_VERSIONS 5

/* Write path atomically (temp file + rename) keeping up to 'keep'
 * previous versions as path.1 (newest) .. path.keep. */
int state_write_versioned(const char *path, const void *data, size_t len, int mode, int keep,
                          aro_err *err);

/* Save a private key as PEM at path (0600), creating its directory (0700)
 * first: key_save_pem does not. 0, or -1 with err. */
int state_key_save(EVP_PKEY *key, const char *path, aro_err *err);

#endif
