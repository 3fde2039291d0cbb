/* aro list: the certificates in the state directory, from their metadata
 * (certfiles.h); no CA is contacted. Exit status 0, or 2 when the state
 * cannot be read; prints report_print_list. */
#ifndef ARO_CLIENT_CMD_LIST_H
#define ARO_CLIENT_CMD_LIST_H

#include "options.h"

int cmd_list(const aro_opts *o);

#endif
