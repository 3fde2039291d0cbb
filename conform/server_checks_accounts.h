/* Accounts (RFC 8555 7.3): creation and what it must not reflect, finding
 * an account by key (7.3.1), updates and contacts (7.3, 7.3.2), the orders
 * list (7.1.2.1), key rollover (7.3.5) and deactivation (7.3.6). Creates
 * the fixture's accounts alice and bob; rollover and deactivation use
 * accounts of their own. */
#ifndef ARO_CONFORM_SERVER_CHECKS_ACCOUNTS_H
#define ARO_CONFORM_SERVER_CHECKS_ACCOUNTS_H

#include "server_mode.h"

extern const check_area area_accounts;

#endif
