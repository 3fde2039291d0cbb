/* Asking the remote perspectives, all at once: one HTTPS request each
 * (POST /validate, mutual TLS with the channel's credentials, ca/channel.h)
 * on a thread of the round's own, driven by one libcurl multi handle, so
 * the primary's worker runs its own look meanwhile. Every request is
 * bounded by the round's timeout; a perspective that has not answered by
 * then failed. Each round opens new connections and shares nothing with
 * any other round (BR 3.2.2.9: a retry never relies on corroborations of
 * an earlier attempt). */
#ifndef ARO_MPIC_REMOTE_H
#define ARO_MPIC_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "ca/channel.h"
#include "mpic/quorum.h"

typedef struct {
    const char *name;       /* the name its certificate must carry */
    const char *address;    /* "HOST:PORT" or "[V6]:PORT" to connect to */
} remote_target;

typedef struct remote_round remote_round;

/* Start asking every target with request body (JSON, copied); caa: the
 * request asks for CAA, so every answer must hold it. Never NULL. */
remote_round *remote_round_start(const remote_target *targets, size_t n, const channel_credentials *cred,
                                 long timeout_ms, const char *body, bool caa);
/* Wait until the answers decide the quorum (mpic_quorum is not OPEN) or
 * every request has ended. */
void remote_round_wait(remote_round *r);
/* Abandon what is still pending, end the round's thread, and hand over
 * the results (n of them, in the targets' order; the caller frees them
 * with remote_results_free). */
mpic_remote *remote_round_finish(remote_round *r);
void remote_results_free(mpic_remote *r, size_t n);

#endif
