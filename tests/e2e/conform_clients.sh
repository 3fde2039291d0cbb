#!/usr/bin/env bash
# aro-conform in client mode against aro, certbot and lego (see conform_clients.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/conform_clients.py" "$@"
