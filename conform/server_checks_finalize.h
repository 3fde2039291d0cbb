/* Finalization and certificates (RFC 8555 7.4, 7.4.2, 9.1) on the order the
 * orders area left ready, then renewal information (RFC 9773) for the
 * certificate when the directory offers renewalInfo. The certificate is
 * kept in the fixture for the revocation area. */
#ifndef ARO_CONFORM_SERVER_CHECKS_FINALIZE_H
#define ARO_CONFORM_SERVER_CHECKS_FINALIZE_H

#include "server_mode.h"

extern const check_area area_finalize;

#endif
