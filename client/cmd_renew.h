/* aro renew [NAME...]: renew the named certificates (default: all in the
 * state directory) that were issued by --server and are due (or all, with
 * --force). Due: at a random time in the CA's ARI suggested window (RFC
 * 9773 4.2) when the directory offers renewalInfo, then the new order
 * carries "replaces"; else after two thirds of the lifetime.
 * Exit status 0 renewed, 1 nothing due, 2 a certificate failed; one
 * result (report_print_issue) for the whole run. */
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
