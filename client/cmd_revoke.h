/* aro revoke CERTFILE [--reason N]: revoke a certificate (RFC 8555 7.6),
 * signed by this server's account, or, when the state has none, by the
 * certificate's own key (key.pem beside CERTFILE). Exit status 0, or 2;
 * prints {"result": "revoked", "certificate": CERTFILE, "error": ...}. */
#ifndef ARO_CLIENT_CMD_REVOKE_H
#define ARO_CLIENT_CMD_REVOKE_H

#include "options.h"

int cmd_revoke(const aro_opts *o, const char *certfile);

#endif
