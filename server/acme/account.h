/* Accounts (RFC 8555 7.3): newAccount with external account binding
 * (7.3.4) and onlyReturnExisting, the account resource (read, contact
 * update 7.3.2, deactivation 7.3.6), its orders list (7.1.2.1, paged) and
 * key rollover (7.3.5). */
#ifndef ARO_ACME_ACCOUNT_H
#define ARO_ACME_ACCOUNT_H

#include "core/exchange.h"
#include "core/server.h"

void handle_new_account(server *srv, const http_request *rq, http_response *rs);
void handle_account(server *srv, const http_request *rq, http_response *rs, const char *id);
void handle_account_orders(server *srv, const http_request *rq, http_response *rs, const char *id);
void handle_key_change(server *srv, const http_request *rq, http_response *rs);

#endif
