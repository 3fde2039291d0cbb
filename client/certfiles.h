/* A certificate's files in the state directory and its metadata:
 *
 *   STATE/certs/NAME/key.pem        the certificate's private key (0600)
 *   STATE/certs/NAME/cert.pem       the leaf
 *   STATE/certs/NAME/chain.pem      the issuers (the rest of the chain)
 *   STATE/certs/NAME/fullchain.pem  as the CA sent it (RFC 8555 7.4.2)
 *
 * each replaced atomically (temporary file + rename) with the previous
 * versions kept as FILE.1 (newest) .. FILE.5, and a JSON document in the
 * store (server, names, notBefore, notAfter, ariCertID (RFC 9773 4.1),
 * order, fullchain, keyType, profile) that renew and list read back.
 * NAME is the first name; a wildcard's '*' becomes '_' (state_cert_dir).
 * Settings that renew should remember per certificate belong in this
 * metadata. Nothing here talks to the CA. */
#ifndef ARO_CLIENT_CERTFILES_H
#define ARO_CLIENT_CERTFILES_H

#include <openssl/evp.h>
#include <stddef.h>
#include <time.h>

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
} certfiles_origin;

/* Write the set for pem (the chain, leaf first) and its key: key.pem first,
 * so that no fullchain.pem ever points at a key not yet written, then
 * cert.pem, chain.pem, fullchain.pem, then the metadata. 0 with *fullchain
 * the path of fullchain.pem (malloc'd); -1 with err (files written before
 * the failure stay: each one is whole, old or new). */
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
} certfiles_meta;

/* 0 with *m filled; -1 with err (no such certificate, unreadable). */
int certfiles_load(state *st, const char *name, certfiles_meta *m, aro_err *err);
void certfiles_meta_clear(certfiles_meta *m);

#endif
