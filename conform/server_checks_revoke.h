/* Revocation (RFC 8555 7.6) three ways: by the issuing account, by the
 * certificate's own key, by another account that holds authorizations for
 * every identifier of the certificate; and its refusals: a disallowed
 * reason, an account without authority, a certificate revoked already. */
#ifndef ARO_CONFORM_SERVER_CHECKS_REVOKE_H
#define ARO_CONFORM_SERVER_CHECKS_REVOKE_H

#include "server_mode.h"

extern const check_area area_revoke;

#endif
