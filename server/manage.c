/* The management API on its own HTTPS listener, Pebble-compatible where
 * Pebble has it: /roots/N, /root-keys/N, /intermediates/N,
 * /intermediate-keys/N, /cert-status-by-serial/HEX; plus /metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "metrics.h"
#include "server.h"
#include "workers.h"

static void pem_response(http_response *rs, const char *pem)
{
    if (!pem) {
        rs->status = 404;
        rs->body = xstrdup("not found\n");
    } else {
        rs->status = 200;
        rs->body = xstrdup(pem);
    }
    rs->body_len = strlen(rs->body);
    rs->content_type = "application/pem-certificate-chain";
}

static void metrics_response(server *srv, http_response *rs)
{
    char *counters = metrics_render(srv->m);
    rs->status = 200;
    rs->body = xasprintf("%s"
                         "# TYPE aro_store_bytes_written_total counter\naro_store_bytes_written_total %llu\n"
                         "# TYPE aro_store_transactions_total counter\naro_store_transactions_total %llu\n"
                         "# TYPE aro_worker_queue_length gauge\naro_worker_queue_length %zu\n",
                         counters, (unsigned long long)store_bytes_written(srv->st),
                         (unsigned long long)store_transactions(srv->st), worker_queue_length(srv->workers));
    free(counters);
    rs->body_len = strlen(rs->body);
    rs->content_type = "text/plain; version=0.0.4";
}

static void cert_status(server *srv, const char *serial, http_response *rs)
{
    store_txn *t = store_begin(srv->st, false);
    rec_cert c;
    char *lower = xstrdup(serial);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    /* Serials are stored without leading zero bytes. */
    const char *s = lower;
    while (s[0] == '0' && s[1] == '0' && s[2])
        s += 2;
    if (!t || db_get_cert(t, s, &c) != 0) {
        rs->status = 404;
        rs->body = xstrdup("{\"error\":\"no certificate with this serial\"}");
    } else {
        char rev[32];
        time_format_rfc3339(c.revoked_at, rev);
        json_gen *g = jg_new();
        jg_obj_open(g);
        jg_kv_str(g, "Status", c.revoked ? "Revoked" : "Valid");
        jg_kv_str(g, "Serial", c.serial);
        if (c.revoked) {
            jg_kv_str(g, "RevokedAt", rev);
            jg_kv_int(g, "Reason", c.reason);
        }
        jg_kv_str(g, "Certificate", c.chains[0]);
        jg_obj_close(g);
        rs->status = 200;
        rs->body = jg_finish(g, NULL);
        rec_cert_clear(&c);
    }
    store_abort(t);
    free(lower);
    rs->body_len = strlen(rs->body);
    rs->content_type = "application/json";
}

void manage_dispatch(server *srv, const http_request *rq, http_response *rs)
{
    const char *p = rq->path;
    int n = 0;
    char rest[256];
    rs->endpoint = "manage";
    if (!strcmp(p, "/metrics"))
        metrics_response(srv, rs);
    else if (sscanf(p, "/roots/%d", &n) == 1)
        pem_response(rs, ca_root_pem(srv->ca, n));
    else if (sscanf(p, "/root-keys/%d", &n) == 1)
        pem_response(rs, ca_root_key_pem(srv->ca, n));
    else if (sscanf(p, "/intermediates/%d", &n) == 1)
        pem_response(rs, ca_intermediate_pem(srv->ca, n));
    else if (sscanf(p, "/intermediate-keys/%d", &n) == 1)
        pem_response(rs, ca_intermediate_key_pem(srv->ca, n));
    else if (sscanf(p, "/cert-status-by-serial/%255[0-9a-fA-F]", rest) == 1)
        cert_status(srv, rest, rs);
    else {
        rs->status = 404;
        rs->body = xstrdup("not found\n");
        rs->body_len = strlen(rs->body);
        rs->content_type = "text/plain";
    }
}
