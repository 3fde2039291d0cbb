#!/usr/bin/env bash
# aro renew with ARI against aro-server (ari_renew.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/ari_renew.py" "$@"
