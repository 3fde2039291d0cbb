/* Settings: embedded defaults, then the config file (--config, JSON), then
 * command-line flags. Unknown keys and bad values are refused at start
 * with a message naming them. Pebble's command line, config file and
 * environment variables are read by pebble_compat.c. */
#ifndef ARO_CONFIG_H
#define ARO_CONFIG_H

#include "json.h"
#include "core/server.h"

void config_defaults(server_config *cfg);
int config_load_file(server_config *cfg, const char *path, aro_err *err);
/* One key of aro's own JSON settings (file names the source in messages);
 * pebble_compat.c reuses it for the keys both formats share. */
int config_apply_key(server_config *cfg, const char *file, const char *key, yajl_val v, aro_err *err);
/* Parse argv (aro's flags and Pebble's); 1 means "printed help, exit 0". */
int config_from_args(server_config *cfg, int argc, char **argv, aro_err *err);
void config_free(server_config *cfg);

/* pebble_compat.c. Pebble mode is chosen by the file's shape
 * ({"pebble": {...}}), whichever of -config/--config named it. */
bool pebble_config_is_pebble(const char *path);
void pebble_mode_defaults(server_config *cfg);
int pebble_load_config(server_config *cfg, const char *path, aro_err *err);
int pebble_apply_env(server_config *cfg, aro_err *err);
/* "-dnsserver :5053" means this host to Pebble (Go's dialer). */
char *pebble_normalize_addr(const char *addr, const char *empty_host);

#endif
