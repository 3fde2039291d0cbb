/* Pebble drop-in: Pebble's JSON config file ({"pebble": {...}}) and its
 * environment variables, read the way Debian's pebble 2.4 reads them
 * (docs/replacing-pebble.md). Pebble mode is chosen by the file's shape,
 * whichever of -config/--config named it. */
#ifndef ARO_SETTINGS_PEBBLE_H
#define ARO_SETTINGS_PEBBLE_H

#include <stdbool.h>

#include "settings/config.h"

bool pebble_config_is_pebble(const char *path);
/* Pebble's own defaults where they differ from aro's, before its file. */
void pebble_mode_defaults(server_config *cfg);
/* 0, or -1 with err saying which key is wrong. */
int pebble_load_config(server_config *cfg, const char *path, aro_err *err);
int pebble_apply_env(server_config *cfg, aro_err *err);
/* "-dnsserver :5053" means this host to Pebble (Go's dialer). malloc'd. */
char *pebble_normalize_addr(const char *addr, const char *empty_host);

#endif
