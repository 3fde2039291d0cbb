#!/usr/bin/env bash
# aro speaks every retry design the server offers: pending-hold, re-enabling, off, pre-authorization (client_retry_designs.py).
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/client_retry_designs.py" "$@"
