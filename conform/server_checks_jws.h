/* Request authentication (RFC 8555 6.2), POST-as-GET (6.3), the "url"
 * header (6.4) and nonces (6.5): each case is one request that is wrong
 * in exactly one way, sent with alice's account to newOrder unless said
 * otherwise. */
#ifndef ARO_CONFORM_SERVER_CHECKS_JWS_H
#define ARO_CONFORM_SERVER_CHECKS_JWS_H

#include "server_mode.h"

extern const check_area area_jws;

#endif
