#!/bin/bash
# e2e/abuse: validation abuse and request limits: private, loopback and
# link-local targets refused under --deny-private-targets (also through
# CNAMEs and redirects, without a retry offer); redirect, size and time
# limits of validation; failed-validation and re-enable limits per account
# and identifier; body size, nesting, HTTP/2 streams and slow clients.
# See tests/e2e/abuse.py.
# Under ASan: the leak suppressions of the suite (h2o's loops live until exit).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ARO_SOURCE_DIR/tests/lsan.supp}
# Exact allocation stacks, so that the suppressions match frames inside
# libssl/libcrypto too (the fast unwinder stops there).
export ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0}
exec /usr/bin/python3 "$ARO_SOURCE_DIR/tests/e2e/abuse.py"
