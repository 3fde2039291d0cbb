/* What this CA certifies (RFC 8555 7.4 finalize, 11.1): a CSR must name
 * exactly the order's identifiers and carry a key the CA accepts that is
 * not the requesting account's key. */
#ifndef ARO_RULES_CSR_POLICY_H
#define ARO_RULES_CSR_POLICY_H

#include <openssl/evp.h>

#include "acme_crypto.h"
#include "problem.h"
#include "settings/config.h"
#include "store/records.h"

/* NULL when the CSR may be certified for order o; else a badCSR problem
 * (400) saying what is wrong, the caller's to problem_free. */
acme_problem *csr_check(const server_config *cfg, const rec_order *o, const csr_info *csr,
                        EVP_PKEY *account_key);

#endif
