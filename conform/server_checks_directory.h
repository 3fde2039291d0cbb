/* The directory (RFC 8555 7.1, 7.1.1), newNonce (7.2, 6.5.1) and the GET
 * rule of 6.3, from unauthenticated requests only. */
#ifndef ARO_CONFORM_SERVER_CHECKS_DIRECTORY_H
#define ARO_CONFORM_SERVER_CHECKS_DIRECTORY_H

#include "server_mode.h"

extern const check_area area_directory;

#endif
