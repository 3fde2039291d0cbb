#!/bin/bash
# e2e/hostile: a catalogue of hostile and malformed requests (broken and
# tampered JWS, algorithm confusion, replayed and foreign nonces, url and
# kid abuse, oversized and nested bodies, duplicate members, bad CSRs,
# other accounts' objects, expired objects, ...) against a running
# aro-server. Each case checks the problem type, the HTTP status and that
# the store did not change. See tests/e2e/hostile.py.
# Under ASan: the leak suppressions of the suite (h2o's loops live until exit).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ARO_SOURCE_DIR/tests/lsan.supp}
# Exact allocation stacks, so that the suppressions match frames inside
# libssl/libcrypto too (the fast unwinder stops there).
export ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0}
exec /usr/bin/python3 "$ARO_SOURCE_DIR/tests/e2e/hostile.py"
