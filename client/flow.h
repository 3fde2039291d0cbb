/* aro's commands as readable ACME sequences (RFC 8555 7.3-7.6), named
 * after what they do, uacme-style. Each returns the process exit status:
 * 0 done (issued, renewed, created...), 1 nothing to do (not due),
 * 2 failure; and prints the result (--json: one JSON object on stdout,
 * contracts.md; otherwise a one-line summary). */
#ifndef ARO_CLIENT_FLOW_H
#define ARO_CLIENT_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

int flow_account(const aro_opts *o, const char *sub);
int flow_issue(const aro_opts *o);
int flow_renew(const aro_opts *o);
int flow_revoke(const aro_opts *o, const char *certfile);
int flow_list(const aro_opts *o);

#endif
