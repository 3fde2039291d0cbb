/* Settings: embedded defaults, then the config file (--config, JSON), then
 * command-line flags. Unknown keys and bad values are refused at start
 * with a message naming them. Pebble's command line, config file and
 * environment variables are read by pebble_compat.c. */
#ifndef ARO_CONFIG_H
#define ARO_CONFIG_H

#include "server.h"

void config_defaults(server_config *cfg);
int config_load_file(server_config *cfg, const char *path, aro_err *err);
/* Parse argv (aro's flags and Pebble's); 1 means "printed help, exit 0". */
int config_from_args(server_config *cfg, int argc, char **argv, aro_err *err);
void config_free(server_config *cfg);

#endif
