#!/bin/bash
# check/fuzz_quick: every libFuzzer harness of tests/fuzz/ runs for a few
# seconds (ARO_FUZZ_SECONDS, default 10) from the checked-in seeds, with
# ASan and UBSan, and finds nothing. A smoke test that the harnesses
# build and run; the long runs are in docs/hardening.md.
#
# Builds in its own directory under the ctest build directory (clang, not
# the compiler of the main build). Exit 0 = pass, 1 = finding or build
# failure, 77 = clang or libFuzzer runtime missing (skip).
set -u
src=${ARO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${ARO_BUILD_DIR:-$src/build}
export ARO_SOURCE_DIR=$src
export ARO_FUZZ_BUILD=${ARO_FUZZ_BUILD:-$build/fuzz-quick}
# A fresh work directory each time: the check is about the seeds and this
# build, not about a corpus grown by earlier runs.
export ARO_FUZZ_WORK=$(mktemp -d "${TMPDIR:-/tmp}/aro-fuzz-quick.XXXXXX")
trap 'rm -rf "$ARO_FUZZ_WORK"' EXIT
rc=0
bash "$src/tests/fuzz/run.sh" "${ARO_FUZZ_SECONDS:-10}" || rc=$?
if [ "$rc" = 1 ]; then
  # Keep the reproducers and logs for the report before the trap removes them.
  keep="$build/fuzz-quick-findings"
  rm -rf "$keep" && cp -r "$ARO_FUZZ_WORK" "$keep" && echo "findings and logs kept in $keep" >&2
fi
exit $rc
