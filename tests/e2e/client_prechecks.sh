#!/usr/bin/env bash
# aro's checks before any order, against aro-server and Pebble (client_prechecks.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/client_prechecks.py" "$@"
