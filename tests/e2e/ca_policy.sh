#!/bin/bash
# e2e/ca_policy: what aro-server certifies and when it refuses, as flows
# (docs/ca-policy.md): a hand-made CSR with a sound key is issued (the
# control of the hostile catalogue's weak keys), notBefore/notAfter within
# the bounds, CAA checked again at issuance for an old validation, a late
# validation result after expiry, deactivation during validation, one
# live order per replaced certificate, invalid orders out of the orders
# list. See tests/e2e/ca_policy.py.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ARO_SOURCE_DIR/tests/lsan.supp}
export ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0}
exec /usr/bin/python3 "$ARO_SOURCE_DIR/tests/e2e/ca_policy.py" "$@"
