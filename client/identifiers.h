/* The names aro is asked for, seen as ACME identifiers: an IP address is
 * an "ip" identifier (RFC 8738), anything else "dns" (RFC 8555 9.7.7), and
 * a wildcard's authorization names the base domain (7.1.4). Pure
 * functions, no network.
 *
 * identifiers_normalize is the check every name passes before an order is
 * sent, so that what a CA would refuse after an order exists is refused
 * first, with the name and the reason:
 *  - a DNS name with non-ASCII characters becomes A-labels (IDNA2008 with
 *    UTS #46 non-transitional mapping, libidn2): bücher.example.com ->
 *    xn--bcher-kva.example.com; an "xn--" label must decode;
 *  - upper case folds to lower case and a final dot goes (DNS names are
 *    case-insensitive: Foo.Example.COM and foo.example.com are one name);
 *  - the syntax certbot enforces: at least two labels, no empty label
 *    ("foo..bar"), labels of 1..63 octets of a-z 0-9 and '-' that neither
 *    start nor end with '-', at most 253 octets; '*' only as the whole
 *    first label;
 *  - IP addresses stay (in their canonical text form);
 *  - a name given twice (after the folding) is dropped, with a note. */
#ifndef ARO_CLIENT_IDENTIFIERS_H
#define ARO_CLIENT_IDENTIFIERS_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* An IPv4 or IPv6 address literal. */
bool identifier_is_ip(const char *name);
/* A wildcard name ("*.example.com"). */
bool identifier_is_wildcard(const char *name);
/* The value an authorization for name carries: name without a leading
 * "*." (a pointer into name). */
const char *identifier_base(const char *name);

/* One name as aro orders it (malloc'd), or NULL with err saying what is
 * wrong with it. */
char *identifier_normalize(const char *name, aro_err *err);
/* Every name of in[]: the normalized names in order, duplicates dropped
 * (*out malloc'd, of malloc'd strings). 0, or -1 with err naming the
 * first bad name. */
int identifiers_normalize(const char *const *in, size_t n, char ***out, size_t *nout, aro_err *err);

#endif
