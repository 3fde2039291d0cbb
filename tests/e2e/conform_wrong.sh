#!/usr/bin/env bash
# Every aro-conform server check fails against a deliberately wrong ACME server (see conform_wrong.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/conform_wrong.py" "$@"
