#include "scenarios.h"

#include <string.h>

const scenario scenarios[] = {
    {"baseline", "plain issuance, with an alternate chain and renewal information", "{\"alternateRoots\": 1}", 0,
     FAIL_NONE},
    {"badnonce", "every good nonce refused with badNonce", "{\"faultNonceRejectRate\": 1}", 20, FAIL_NONE},
    {"ratelimited", "every POST answered 429 rateLimited with Retry-After: 1", "{\"faultRateLimitedRate\": 1}", 20,
     FAIL_NONE},
    {"unavailable", "every POST answered 500 serverInternal with Retry-After: 1",
     "{\"faultServerInternalRate\": 1}", 20, FAIL_NONE},
    {"processing", "the first validation query fails, the server retries it (8.2); finalize takes 3 s",
     "{\"serverRetries\": 1, \"serverRetryDelayMs\": 2000, \"faultFinalizeDelayMs\": 3000}", 0, FAIL_FIRST_QUERY},
    {"retry-offer", "the first attempt of each identifier fails; retry-options offers another after 2 s",
     "{\"retryMinBackoffSeconds\": 2, \"retryAttemptsPerAuthorization\": 3}", 0, FAIL_FIRST_ATTEMPT},
};

const size_t nscenarios = sizeof scenarios / sizeof *scenarios;

const scenario *scenario_find(const char *name)
{
    for (size_t i = 0; i < nscenarios; i++)
        if (!strcmp(scenarios[i].name, name))
            return &scenarios[i];
    return NULL;
}
