/* What this CA certifies (RFC 8555 7.4 finalize, 11.1): a CSR must name
 * exactly the order's identifiers, be signed with an accepted algorithm
 * (SHA-256, SHA-384 or SHA-512 with RSA PKCS#1 v1.5 or ECDSA: never MD5
 * or SHA-1), and carry a key the key policy accepts (rules/key_policy.c)
 * that is no ACME account's key, the requester's or any other (11.1: the
 * server MUST check against any known account key). */
#ifndef ARO_RULES_CSR_POLICY_H
#define ARO_RULES_CSR_POLICY_H

#include "acme_crypto.h"
#include "problem.h"
#include "settings/config.h"
#include "store/records.h"
#include "store/store.h"

/* NULL when the CSR may be certified for order o; else a badCSR problem
 * (400) saying what is wrong (serverInternal 500 when the store failed),
 * the caller's to problem_free. t: a transaction to look up account keys
 * in. */
acme_problem *csr_check(const server_config *cfg, store_txn *t, const rec_order *o, const csr_info *csr);

#endif
