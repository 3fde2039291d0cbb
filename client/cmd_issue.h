/* aro issue NAME...: get a certificate for the names (RFC 8555 7.4) and
 * store it (certfiles.h). Exit status 0 issued, 2 failed; prints the
 * result (report_print_issue: --json object of contracts.md, or a line). */
#ifndef ARO_CLIENT_CMD_ISSUE_H
#define ARO_CLIENT_CMD_ISSUE_H

#include "options.h"
#include "report.h"
#include "session.h"

int cmd_issue(const aro_opts *o);

/* One issuance for rep->names, shared with renew: orders until one gives a
 * certificate. With retry-options an order is carried to the end; without,
 * the legacy fallback opens a new order that skips the failed types when
 * choose_next_order says so, at most --max-orders orders. replaces: the
 * RFC 9773 CertID of the certificate this one replaces, or NULL.
 * 0 with rep->certificate the stored fullchain.pem; -1 with the error in
 * rep. Orders and attempts accumulate in rep either way. This is where
 * deploy hooks would run once a certificate is stored. */
int issue_obtain(session *S, report *rep, const char *replaces);

#endif
