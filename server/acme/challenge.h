/* Challenges (RFC 8555 7.5.1): reading one (POST-as-GET), and the
 * client's response that starts its validation. Only a pending
 * authorization's listed pending challenge starts an attempt; a repeated
 * response while processing is no new attempt (8.2); a bare POST to any
 * challenge of an invalid authorization changes nothing, so legacy
 * clients that re-POST never revive anything (only the explicit
 * re-enable request of retry-options does, acme/authz.c). */
#ifndef ARO_ACME_CHALLENGE_H
#define ARO_ACME_CHALLENGE_H

#include "core/exchange.h"
#include "core/server.h"

void handle_challenge(server *srv, const http_request *rq, http_response *rs, const char *id);

#endif
