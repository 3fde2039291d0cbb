/* A certificate's files in the state directory and its metadata:
 *
 *   STATE/certs/NAME/key.pem        -> live/key.pem   the private key (0600)
 *   STATE/certs/NAME/cert.pem       -> live/cert.pem  the leaf
 *   STATE/certs/NAME/chain.pem      -> live/chain.pem the issuers
 *   STATE/certs/NAME/fullchain.pem  -> live/fullchain.pem, as the CA sent it (RFC 8555 7.4.2)
 *   STATE/certs/NAME/live           -> sets/N         the current set
 *   STATE/certs/NAME/sets/N/        one set per certificate obtained, N counting up
 *
 * The four files of a certificate are replaced as one set: a new set is
 * written whole into a directory of its own, then the one symbolic link
 * "live" is switched to it with rename(2), so that a reader (a web server
 * reloading) sees the old set or the new one, never the key of one and
 * the certificate of another. The previous STATE_KEEP_VERSIONS sets stay
 * under sets/. Certificate directories of the earlier layout (regular
 * files, FILE.1 .. FILE.5 versions) become set 0 on the next store.
 *
 * The metadata is a JSON document in the store: server, names,
 * notBefore, notAfter, ariCertID (RFC 9773 4.1), order, fullchain,
 * keyType, profile, and "settings": how the certificate was obtained
 * (remembered.h), which renew uses again. NAME is the first name; a
 * wildcard's '*' becomes '_' (state_cert_dir). Nothing here talks to the
 * CA. */
#ifndef ARO_CLIENT_CERTFILES_H
#define ARO_CLIENT_CERTFILES_H

#include <openssl/evp.h>
#include <stddef.h>
#include <time.h>

#include "json.h"
#include "state.h"
#include "util.h"

/* Where a new certificate came from: what the metadata records besides
 * what the certificate itself says. All borrowed. */
typedef struct {
    const char *server;         /* the CA's directory URL */
    char *const *names;         /* names[0] names the directory */
    size_t nnames;
    const char *order;          /* the order's URL */
    const char *key_type;       /* key_type_name() of the certificate key */
    const char *profile;        /* or NULL */
    yajl_val settings;          /* object (remembered_settings), or NULL */
} certfiles_origin;

/* Write the set for pem (the chain, leaf first) and its key, switch
 * "live" to it, then write the metadata. 0 with *fullchain the path of
 * NAME/fullchain.pem (malloc'd); -1 with err, the live set unchanged
 * unless the failure came after the switch (then only the metadata is
 * old). */
int certfiles_store(state *st, const certfiles_origin *from, const char *pem, size_t len,
                    EVP_PKEY *key, char **fullchain, aro_err *err);

/* The metadata read back (everything malloc'd). */
typedef struct {
    char **names;               /* never empty: the certificate's name at least */
    size_t nnames;
    time_t not_before, not_after;   /* 0 when unknown */
    char *ari_id;               /* RFC 9773 CertID, or NULL */
    char *fullchain;
    char *server;
    char *key_type;             /* key_type_name(), or NULL */
    char *profile;              /* or NULL */
    yajl_val settings;          /* "settings" object, or NULL; points into doc */
    yajl_val doc;               /* the whole document (owned) */
} certfiles_meta;

/* 0 with *m filled; -1 with err (no such certificate, unreadable). */
int certfiles_load(state *st, const char *name, certfiles_meta *m, aro_err *err);
void certfiles_meta_clear(certfiles_meta *m);

#endif
