#!/bin/bash
# e2e/mpic: multi-perspective issuance corroboration (BR 3.2.2.9): a
# primary and three remote perspectives (aro-server --perspective), each
# with its own pebble-challtestsrv, one in a network namespace of its own;
# agreement, a differing perspective, a failed quorum with per-perspective
# subproblems and no same-type retry offer, CAA, a perspective down or too
# slow, and mutual TLS refusing whoever lacks the channel's credentials.
# See tests/e2e/mpic.py. Exit 77 when network namespaces cannot be made.
# Under ASan: the leak suppressions of the suite (h2o's loops live until exit).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ARO_SOURCE_DIR/tests/lsan.supp}
export ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0}
exec /usr/bin/python3 "$ARO_SOURCE_DIR/tests/e2e/mpic.py"
