/* Orders, authorizations and challenges (RFC 8555 7.1.3-7.1.6, 7.4, 7.4.1,
 * 7.5, 8, 8.3, 8.4): the objects' shapes, and each status of 7.1.6 that a
 * client can bring about: challenge pending -> processing -> valid or
 * invalid; authorization pending -> valid, invalid, deactivated (from
 * pending and from valid); order pending -> ready, and invalid through a
 * failed or a deactivated authorization. (expired and revoked take the
 * server's clock or the server's decision; "processing" and "valid" of
 * orders are the finalize area's.) Leaves one order "ready" for the
 * finalize area. */
#ifndef ARO_CONFORM_SERVER_CHECKS_ORDERS_H
#define ARO_CONFORM_SERVER_CHECKS_ORDERS_H

#include "server_mode.h"

extern const check_area area_orders;

#endif
