#!/usr/bin/env bash
# A setup written for Pebble (its config file, flags and environment) runs
# unchanged against aro-server, with certbot and lego; the management API
# answers like Pebble's; Pebble mode stays throwaway.
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/pebble_dropin.py"
