/* An order's own steps (RFC 8555 7.4): newOrder, and, once its
 * authorizations are valid (authorize.h), waiting for "ready", finalizing
 * with a CSR, waiting while "processing", and downloading the certificate
 * chain (7.4.2), the alternate chain that --preferred-chain names when the
 * default one does not match.
 *
 * Both return 0 on success and -1 with err saying what failed; neither
 * touches the report: the caller decides how a failure counts. */
#ifndef ARO_CLIENT_ORDER_H
#define ARO_CLIENT_ORDER_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "acme.h"
#include "acme_objects.h"
#include "json.h"
#include "session.h"

/* The pending-hold request (draft-aro-acme-retry-options, "Pending-hold"),
 * "retry-options": {"hold": true}, into the request object being written
 * in g, when choose_ask_hold says so for S's options and directory.
 * Returns whether it was written. newOrder and newAuthz (preauth.h). */
bool order_request_hold(json_gen *g, const session *S);

/* newOrder for names ("ip" identifiers for addresses, RFC 8738), with
 * --profile, "replaces" (RFC 9773 5) when non-NULL, and pending-hold
 * (order_request_hold). On success *o is
 * the order with o->url its Location. On failure r holds the CA's answer
 * (r->problem when it said why). *o and *r are cleared by the next call;
 * the caller clears them at the end. */
int order_new(session *S, char *const *names, size_t nnames, const char *replaces, acme_order *o,
              acme_resp *r, aro_err *err);

/* POST-as-GET an order (a resumed one, inflight.h) into *o. */
int order_fetch(session *S, const char *url, acme_order *o, aro_err *err);

/* From valid authorizations to the certificate: poll o until it leaves
 * "pending" (it must be ready, or already processing or valid), finalize
 * when ready with a CSR for names and key, poll while "processing"
 * (asynchronous issuance), download. On success *pem and *len are the
 * chain as the CA sent it (malloc'd). SIGINT/SIGTERM end the polling. */
int order_complete(session *S, acme_order *o, char *const *names, size_t nnames,
                   EVP_PKEY *key, char **pem, size_t *len, aro_err *err);

#endif
