#!/bin/bash
# e2e/crash_safety: kill -9 aro-server at random moments during concurrent
# issuance, restart it, and check that every acknowledged object exists,
# every status is one the state module allows and the store opens
# cleanly. ARO_CRASH_ROUNDS kills (default 5 here; see docs/hardening.md
# for the long run). See tests/e2e/crash_safety.py.
# Under ASan: the leak suppressions of the suite (h2o's loops live until exit).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ARO_SOURCE_DIR/tests/lsan.supp}
# Exact allocation stacks, so that the suppressions match frames inside
# libssl/libcrypto too (the fast unwinder stops there).
export ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0}
exec /usr/bin/python3 "$ARO_SOURCE_DIR/tests/e2e/crash_safety.py"
