#!/usr/bin/env bash
# retry-options -01 end to end against a real aro-server (see retry_options_01.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/retry_options_01.py" "$@"
