#include "rules/new_order.h"

#include <string.h>

#include "random.h"
#include "store/repo.h"

size_t order_challenge_types(const acme_identifier *id, bool wildcard, const char *out[3])
{
    size_t n = 0;
    if (wildcard) {
        out[n++] = "dns-01";
    } else if (strcmp(id->type, "ip") == 0) {
        out[n++] = "http-01";
        out[n++] = "tls-alpn-01";
    } else {
        out[n++] = "http-01";
        out[n++] = "dns-01";
        out[n++] = "tls-alpn-01";
    }
    return n;
}

int order_reusable_authz(const server_config *cfg, store_txn *t, const char *account_id,
                         const acme_identifier *id, bool wildcard, bool hold, time_t now, rec_authz *out)
{
    int rc = repo_authz_newest(t, account_id, id, wildcard, out);
    if (rc != 0)
        return rc;
    authz_status s = authz_status_at(out->status, out->expires, now);
    unsigned draw = 0;
    if (cfg->reuse_valid_pct > 0 && cfg->reuse_valid_pct < 100)
        random_bytes(&draw, sizeof(draw));
    bool drawn = cfg->reuse_valid_pct >= 100 || (int)(draw % 100) < cfg->reuse_valid_pct;
    bool ok = (s == AUTHZ_VALID && cfg->reuse_valid_authz && drawn && out->expires > now + cfg->order_lifetime) ||
              (s == AUTHZ_PENDING && cfg->reuse_pending_authz && !out->active_chall_id[0] && out->hold == hold);
    if (ok)
        return 0;
    rec_authz_clear(out);
    return 1;
}
