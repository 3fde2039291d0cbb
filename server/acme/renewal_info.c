#include "acme/renewal_info.h"

#include <string.h>

#include "json.h"
#include "store/repo.h"

void handle_renewal_info(server *srv, const http_request *rq, http_response *rs, const char *cert_id)
{
    store_txn *t = NULL;
    rec_cert c;
    bool have = false;
    if (strcmp(rq->method, "GET") != 0) {
        response_error(rs, "malformed", 405, "renewalInfo takes GET (RFC 9773 4.2)");
        goto out;
    }
    t = store_begin(srv->st, false);
    if (!t || repo_cert_by_ari_id(t, cert_id, &c) != 0) {
        response_error(rs, "malformed", 404, "no certificate with this CertID");
        goto out;
    }
    have = true;
    /* 4.2: a window in the last third of the lifetime; for a revoked
     * certificate a window that has already begun, so clients renew now. */
    time_t life = c.not_after - c.not_before, start, end;
    if (c.revoked) {
        start = rq->now - 3600;
        end = rq->now;
    } else {
        start = c.not_before + life * 2 / 3;
        end = c.not_before + life * 5 / 6;
    }
    char s[32], e[32];
    time_format_rfc3339(start, s);
    time_format_rfc3339(end, e);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_key(g, "suggestedWindow");
    jg_obj_open(g);
    jg_kv_str(g, "start", s);
    jg_kv_str(g, "end", e);
    jg_obj_close(g);
    jg_obj_close(g);
    rs->retry_after = 21600;
    response_json(rs, 200, jg_finish(g, NULL));
out:
    store_abort(t);
    if (have)
        rec_cert_clear(&c);
}

