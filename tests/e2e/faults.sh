#!/usr/bin/env bash
# Fault injection: with 30% of nonces rejected lego and aro still get
# certificates; injected 429/500 and delays are counted in /metrics.
exec /usr/bin/python3 "${ARO_SOURCE_DIR:-$(dirname "$0")/../..}/tests/e2e/faults.py"
