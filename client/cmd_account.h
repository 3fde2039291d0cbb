/* aro account new|show|update|deactivate|rollover (RFC 8555 7.3):
 *   new         newAccount: create, or find the account of the state's key
 *   show        the account object (POST-as-GET)
 *   update      replace the contacts with the --email list (7.3.2)
 *   deactivate  for good (7.3.6); the stored URL is forgotten
 *   rollover    a new --account-key-type key (7.3.5); the old one is kept
 *               as key.pem.1
 * Exit status 0, or 2; prints {"result": "created"|"existing"|"shown"|
 * "updated"|"deactivated"|"rolled", "account": URL, ..., "error": ...}. */
#ifndef ARO_CLIENT_CMD_ACCOUNT_H
#define ARO_CLIENT_CMD_ACCOUNT_H

#include "options.h"

int cmd_account(const aro_opts *o, const char *sub);

#endif
