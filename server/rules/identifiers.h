/* Which identifiers this CA accepts in a new order (RFC 8555 7.4, RFC
 * 8738) and in what canonical form: lower-case DNS names of two labels or
 * more, at most one leading "*." (7.1.3), IP addresses as inet_ntop
 * prints them (under --deny-private-targets only globally reachable
 * ones, va/address.h); and the operator's blocklist of domain suffixes. */
#ifndef ARO_RULES_IDENTIFIERS_H
#define ARO_RULES_IDENTIFIERS_H

#include <stdbool.h>

#include "problem.h"
#include "settings/config.h"

/* Check and canonicalize one identifier. On success returns NULL, with
 * *canonical the canonical value without "*." (malloc'd) and *wildcard
 * set. On failure returns the problem (rejectedIdentifier,
 * unsupportedIdentifier, malformed) with the identifier attached. */
acme_problem *identifier_check(const server_config *cfg, const char *type, const char *value,
                               char **canonical, bool *wildcard);
/* The name, or a domain it is under, is on the blocklist. */
bool identifier_blocked(const server_config *cfg, const char *name);

#endif
