/* aro-server's command line: its own flags and Pebble's (-config,
 * -dnsserver, -strict), read with getopt_long_only so single-dash long
 * flags work as in Go. The config file named on the line is read first,
 * so flags override it wherever they stand. */
#ifndef ARO_SETTINGS_CMDLINE_H
#define ARO_SETTINGS_CMDLINE_H

#include "settings/config.h"

/* 0 ready to run; 1 printed help (exit 0); -1 with err (exit 2). */
int config_from_args(server_config *cfg, int argc, char **argv, aro_err *err);

#endif
