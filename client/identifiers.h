/* The names aro is asked for, seen as ACME identifiers: an IP address is
 * an "ip" identifier (RFC 8738), anything else "dns" (RFC 8555 9.7.7), and
 * a wildcard's authorization names the base domain (7.1.4). Pure
 * functions. Checks that must pass before a newOrder is sent (IDNA
 * A-labels, name syntax) belong here. */
#ifndef ARO_CLIENT_IDENTIFIERS_H
#define ARO_CLIENT_IDENTIFIERS_H

#include <stdbool.h>

/* An IPv4 or IPv6 address literal. */
bool identifier_is_ip(const char *name);
/* The value an authorization for name carries: name without a leading
 * "*." (a pointer into name). */
const char *identifier_base(const char *name);

#endif
