#!/usr/bin/env bash
# certbot, lego and uacme against aro-server (see peers.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/peers.py" "$@"
