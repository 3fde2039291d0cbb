/* The HTTP front end on libh2o (evloop flavour): HTTPS with HTTP/1.1 and
 * HTTP/2 (ALPN), one event loop per thread on its own SO_REUSEPORT
 * socket, and the management listener on a loop of its own. */
#ifndef ARO_HTTP_H
#define ARO_HTTP_H

#include "core/server.h"

/* Runs until http_stop() is called (from a signal handler). 0 on a clean
 * stop, -1 when a listener could not start (message on stderr). */
int http_run(server *srv);
void http_stop(void);
/* A listening TCP socket on "ADDR:PORT" ("[V6]:PORT"), SO_REUSEADDR and
 * no SO_REUSEPORT (a port another process holds fails loudly); -1 with
 * err. Also the validation-only perspective's (mpic/perspective.c). */
int http_listen_on(const char *addr_port, aro_err *err);
/* The read callback of a listening h2o socket whose data is its
 * h2o_accept_ctx_t: accepts one connection into that context. */
typedef struct st_h2o_socket_t h2o_socket_t;
void http_on_accept(h2o_socket_t *listener, const char *err);

#endif
