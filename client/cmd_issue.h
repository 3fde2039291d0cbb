/* aro issue NAME...: get a certificate for the names (RFC 8555 7.4) and
 * store it (certfiles.h). The names are checked and normalized first
 * (identifiers.h), then what else can be checked before an order
 * (precheck.h). Exit status 0 issued, 2 failed, 64 a usage error, 130/143
 * interrupted (after cleaning up); prints the result
 * (report_print_issue: the --json object of contracts.md, or a line). */
#ifndef ARO_CLIENT_CMD_ISSUE_H
#define ARO_CLIENT_CMD_ISSUE_H

#include "options.h"
#include "report.h"
#include "session.h"

int cmd_issue(const aro_opts *o);

/* One issuance for rep->names with S->o's settings, shared with renew:
 * orders until one gives a certificate. The order an interrupted run
 * left is resumed first (inflight.h). With retry-options an order is
 * carried to the end; without, the legacy fallback opens a new order that
 * skips the failed types when choose_next_order says so, at most
 * --max-orders orders. replaces: the RFC 9773 CertID of the certificate
 * this one replaces, or NULL. Once the certificate is stored (with the
 * settings, remembered.h), the deploy hook runs (--deploy-hook: sh -c
 * CMD with RENEWED_LINEAGE, RENEWED_DOMAINS and ARO_* in its
 * environment). 0 with rep->certificate the stored fullchain.pem (and
 * rep's error set when the deploy hook failed); -1 with the error in
 * rep. Orders and attempts accumulate in rep either way. */
int issue_obtain(session *S, report *rep, const char *replaces);

/* Exit status of an issue-like run: interrupted (128 + signal), usage
 * error (64), failed (2), or 0. */
int issue_exit_status(const report *rep);

#endif
