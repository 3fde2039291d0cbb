#!/usr/bin/env bash
# aro-conform in server mode against aro-server and Pebble 2.4 (see conform_server.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/conform_server.py" "$@"
