#!/usr/bin/env bash
# aro renew: remembered settings, a result per certificate, exit statuses, deploy hooks (client_renew.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/client_renew.py" "$@"
