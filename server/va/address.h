/* Which addresses the validation authority may contact. With
 * deny_private_targets (hardening; off by default, aro-server is a test
 * CA) it refuses loopback, private, link-local and other addresses that
 * are not globally reachable, and a name any of whose addresses is one. */
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
