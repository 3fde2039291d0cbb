/* Validation jobs: one attempt on one challenge, run through the job
 * pipeline (jobs/pipeline.c). The work reads the authorization, the
 * challenge and the account's current key (a key rollover between
 * attempts changes the key authorization), checks CAA (RFC 8659, RFC
 * 8657) and the challenge in the validation authority (va/), corroborated
 * by remote perspectives when they are configured (mpic/), with RFC 8555
 * 8.2 server-side retries when configured, each a complete attempt of its
 * own; the result is applied by
 * rules/lifecycle.c. Attempts are numbered: a result whose number is not
 * the authorization's current attempt is dropped. */
#ifndef ARO_JOBS_VALIDATION_H
#define ARO_JOBS_VALIDATION_H

#include "core/server.h"
#include "store/records.h"

/* Validate challenge chall_id of authorization a as its current attempt,
 * once the caller's transaction (which made it "processing") is durable.
 * base is the URL prefix of the request (the account URL for CAA
 * accounturi). */
void validation_submit(server *srv, const char *base, const rec_authz *a, const char *chall_id);
/* At start-up: attempts that were processing at the last stop run again
 * (8.2 allows the server to retry a processing challenge). */
void validation_resume_all(server *srv);

#endif
