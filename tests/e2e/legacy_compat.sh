#!/usr/bin/env bash
# Legacy clients behave the same against aro-server and Pebble (legacy_compat.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/legacy_compat.py" "$@"
