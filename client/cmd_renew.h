/* aro renew [NAME...]: renew the named certificates (default: all in the
 * state directory) that are due, or all of them with --force, each with
 * the settings it was obtained with (remembered.h: its own CA, key type,
 * profile, solvers, deploy hook...), flags given here overriding them and
 * remembered in turn. Due: at a random time in the CA's ARI suggested
 * window (RFC 9773 4.2) when the directory offers renewalInfo, then the
 * new order carries "replaces"; else after two thirds of the lifetime.
 * Each certificate is its own result: one line each, or under --json one
 * entry each in "certificates" (contracts.md, "aro renew --json"). Exit
 * status 0 when none failed (renewed or not due), 2 when any failed, 64
 * for a usage error, 130/143 when interrupted (after cleaning up). The
 * deploy hook runs once per renewed certificate. */
#ifndef ARO_CLIENT_CMD_RENEW_H
#define ARO_CLIENT_CMD_RENEW_H

#include <stdint.h>
#include <time.h>

#include "json.h"
#include "options.h"

int cmd_renew(const aro_opts *o);

/* The renewal time without ARI: two thirds into [not_before, not_after]. */
time_t renew_lifetime_due(time_t not_before, time_t not_after);
/* The renewal time from a renewalInfo answer (RFC 9773 4.2): a point in
 * its suggestedWindow, rnd (uniform over 32 bits) saying where: 0 is the
 * start, larger values later, never past the end. 0 with *at; -1 when the
 * answer has no usable window (start or end missing or unparseable, end
 * before start). */
int renew_ari_pick(yajl_val renewal_info, uint32_t rnd, time_t *at);

#endif
