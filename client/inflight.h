/* The order in progress, per CA and set of names: recorded in the state
 * when the order is created and forgotten once it gave a certificate or
 * was given up, so that a run that was interrupted (or killed) continues
 * that order when run again instead of opening another: a pending order
 * goes on with its authorizations, a ready one is finalized, a processing
 * or valid one is polled and its certificate downloaded.
 *
 * The certificate key is saved before the finalization is sent
 * (STATE/certs/NAME/pending-key.pem, 0600): the certificate the CA issues
 * is for that key, and a resumed run needs it. */
#ifndef ARO_CLIENT_INFLIGHT_H
#define ARO_CLIENT_INFLIGHT_H

#include <openssl/evp.h>
#include <stddef.h>

#include "session.h"

/* The recorded order URL for names at S->o->server (malloc'd), or NULL. */
char *inflight_find(session *S, char *const *names, size_t n);
void inflight_record(session *S, char *const *names, size_t n, const char *order_url);
/* Forget the order and remove its saved key. */
void inflight_forget(session *S, char *const *names, size_t n);

/* The certificate key for a finalization: the saved one when resume is
 * true and there is one, else a new --key-type key, saved before it is
 * returned. NULL with err. */
EVP_PKEY *inflight_cert_key(session *S, char *const *names, bool resume, aro_err *err);

#endif
