#include "rules/limits.h"

#include "store/repo.h"

acme_problem *limit_failed_validations(const server_config *cfg, store_txn *t, const char *account_id,
                                       const acme_identifier *id, time_t now, long *retry_after)
{
    time_t oldest = 0;
    int n = repo_failures_since(t, account_id, id, now - cfg->failed_validation_window, &oldest);
    if (n < cfg->failed_validation_limit)
        return NULL;
    long wait = (long)(oldest + cfg->failed_validation_window - now);
    *retry_after = wait > 0 ? wait : 1;
    return problem_new("rateLimited", 429, "too many failed validations for \"%s\" in the last %ld s",
                       id->value, cfg->failed_validation_window);
}

int limit_failed_validation_record(const server_config *cfg, store_txn *t, const char *account_id,
                                   const acme_identifier *id, time_t now)
{
    return repo_failure_record(t, account_id, id, now, now - cfg->failed_validation_window);
}
