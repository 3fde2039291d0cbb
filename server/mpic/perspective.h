/* aro-server as a remote validation perspective (--perspective ADDR:PORT):
 * a validation-only mode with no ACME, no store and no issuing CA. It
 * listens for its primary on HTTPS with mutual TLS 1.3 (ca/channel.h: its
 * own certificate from DATA/perspective.{pem,key}, and a client
 * certificate for clientAuth under DATA/channel-ca.pem required of every
 * connection; anything else fails the handshake), and answers POST
 * /validate with its look (mpic/look.h) through the same validation
 * authority (va/) the primary runs, with this process's own settings:
 * its resolver (--dns), ports, deadline and address policy. The looks run
 * on worker threads (jobs/workers.h), never on the event loop. */
#ifndef ARO_MPIC_PERSPECTIVE_H
#define ARO_MPIC_PERSPECTIVE_H

#include "settings/config.h"

/* Runs until perspective_stop() (from a signal handler). 0 on a clean
 * stop, -1 when it could not start (message on stderr). */
int perspective_run(const server_config *cfg);
void perspective_stop(void);

#endif
