/* Which addresses the validation authority may contact. With
 * deny_private_targets (hardening; off by default, aro-server is a test
 * CA) it refuses every address the IANA IPv4 and IPv6 special-purpose
 * registries mark as not globally reachable (loopback, private,
 * link-local, documentation, benchmarking, discard-only, ...), non-unicast
 * and reserved space, addresses whose embedded IPv4 address is refused
 * (IPv4-mapped and -compatible, NAT64, 6to4, Teredo), and a name any of
 * whose addresses is one of those. The table and its sources are in
 * address.c. */
#ifndef ARO_VA_ADDRESS_H
#define ARO_VA_ADDRESS_H

#include <stdbool.h>

#include "va/internal.h"

bool va_is_ip_literal(const char *s);
/* True for an address this CA refuses to contact (and for a string that
 * is not an address at all). */
bool va_addr_is_private(const char *addr);
/* NULL when every address may be contacted under ctx's policy, else the
 * problem (VA_PRIVATE_TARGET_PROBLEM) naming the refused address. */
acme_problem *va_check_targets(const va_ctx *ctx, const char *host, const va_addrs *a);

#endif
