#include "acme/certificate.h"

#include <stdlib.h>
#include <string.h>

#include "acme/auth.h"
#include "core/urls.h"
#include "store/repo.h"

void handle_cert(server *srv, const http_request *rq, http_response *rs, const char *serial, int alt)
{
    acme_auth a;
    store_txn *t = NULL;
    rec_cert c;
    bool have = false;
    if (auth_request(srv, rq, AUTH_KID, &a, rs) < 0)
        goto out;
    /* 6.3: a certificate is read with POST-as-GET, whose payload is empty. */
    if (!a.post_as_get) {
        response_error(rs, "malformed", 400, "certificates are read with POST-as-GET (empty payload)");
        goto out;
    }
    t = store_begin(srv->st, false);
    if (auth_found(t ? repo_cert_get(t, serial, &c) : -1, "certificate", rs) < 0)
        goto out;
    have = true;
    if (auth_owns(&a, c.account_id, "certificate", rs) < 0)
        goto out;
    if (alt >= c.nchains) {
        response_error(rs, "malformed", 404, "no such alternate chain");
        goto out;
    }
    /* 7.4.2: rel="alternate" for every other chain. No rel="up": that
     * relation is for formats that carry a single certificate, and this
     * PEM already holds the whole chain; clients that follow "up" (acmez)
     * would append the issuer a second time. Pebble and Boulder send none. */
    for (int i = 0; i < c.nchains; i++) {
        if (i == alt)
            continue;
        char *u = cert_url(rq->base, c.serial, i);
        response_link(rs, u, "alternate");
        free(u);
    }
    response_body(rs, 200, "application/pem-certificate-chain", xstrdup(c.chains[alt]));
out:
    store_abort(t);
    if (have)
        rec_cert_clear(&c);
    auth_clear(&a);
}

/* The issuing intermediate of hierarchy n by itself, at a stable URL that
 * no response links to (the chains carry it). Public, so GET as well as
 * POST-as-GET. */
void handle_issuer(server *srv, const http_request *rq, http_response *rs, int n)
{
    const char *pem = ca_intermediate_pem(srv->ca, n);
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") != 0) {
        response_error(rs, "malformed", 405, "the issuer certificate takes GET or POST-as-GET");
        return;
    }
    if (!pem) {
        response_error(rs, "malformed", 404, "no such issuer");
        return;
    }
    response_body(rs, 200, "application/pem-certificate-chain", xstrdup(pem));
}
