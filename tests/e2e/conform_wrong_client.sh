#!/usr/bin/env bash
# Every aro-conform client check fails for a deliberately wrong client (see conform_wrong_client.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/conform_wrong_client.py" "$@"
