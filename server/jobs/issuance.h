/* Issuance jobs (RFC 8555 7.4, asynchronous finalization): through the
 * job pipeline (jobs/pipeline.c), the work checks CAA again for every
 * authorization validated more than 7 hours ago (CA/B Forum BR 3.2.2.8:
 * within 8 hours before issuance),
 * parses the CSR and signs the certificate (ca/), with the validity
 * rules/validity.c gives; the result is applied by rules/lifecycle.c
 * (order valid with its certificate, or invalid with the caa problem or
 * serverInternal). */
#ifndef ARO_JOBS_ISSUANCE_H
#define ARO_JOBS_ISSUANCE_H

#include <stddef.h>

#include "acme_crypto.h"
#include "core/server.h"
#include "store/records.h"

/* Issue for processing order order_id (of account_id) from the CSR's DER,
 * once the caller's transaction is durable. base: the request's URL
 * prefix (account URLs for CAA accounturi). parsed: the CSR already
 * parsed from der (taken and zeroed), or NULL to parse it in the job. */
void issuance_submit(server *srv, const char *base, const char *order_id, const char *account_id,
                     const unsigned char *der, size_t len, csr_info *parsed);
/* At start-up: orders that were processing at the last stop are issued. */
void issuance_resume_all(server *srv);
/* The certificate record of what the CA issued for order o (also what
 * the benchmark's store prefill, tests/bench/prefill.c, writes). */
void issuance_cert_record(const rec_order *o, const ca_issued *iss, rec_cert *cert);

#endif
