/* The rules of what each scenario provokes (scenarios.h), judged on one
 * run: baseline (the certificate obtained, alternate chains, RFC 9773
 * renewal information and "replaces"), badnonce (6.5: retried, with the
 * nonce of the error), ratelimited and unavailable (Retry-After honoured),
 * processing (7.1.6, 8.2: waited out), retry-offer (the draft's client
 * behaviour: the offer taken, pending-hold asked for, notBefore kept, the
 * same order finalized). Checks that a scenario does not inform are left
 * alone; client_mode marks them skipped at the end. */
#ifndef ARO_CONFORM_CLIENT_JUDGE_FLOW_H
#define ARO_CONFORM_CLIENT_JUDGE_FLOW_H

#include "client_judge.h"

void judge_flow(report *rep, const scenario_run *run);

#endif
