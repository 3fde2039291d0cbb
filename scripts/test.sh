#!/usr/bin/env bash
# Sets up, builds and runs the whole default test suite: unit tests, the
# draft check, end-to-end tests against real peers on loopback, the quick
# interop subset; the quick benchmark is one of the ctest tests (bench/quick).
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   ASan + UBSan (+ LeakSanitizer) build in build-asan/,
#                                unit and end-to-end tests only
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
# Running the tests must leave the work tree as it was: everything they
# write goes to the (ignored) build directories or to temporary ones.
tree_state() { git -C "$top" status --porcelain --untracked-files=all 2>/dev/null || true; }
tree_before=$(tree_state)
mode=normal
[ "${1:-}" = "--sanitize" ] && mode=sanitize
if [ "$mode" = sanitize ]; then
  export ARO_BUILD_DIR=${ARO_BUILD_DIR:-$top/build-asan}
  CC=clang "$top/scripts/build.sh" -DARO_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0
  ctest --test-dir "$ARO_BUILD_DIR" -L 'unit|e2e' -j2 --output-on-failure --timeout 300
else
  export ARO_BUILD_DIR=${ARO_BUILD_DIR:-$top/build}
  "$top/scripts/build.sh"
  ctest --test-dir "$ARO_BUILD_DIR" -j2 --output-on-failure --timeout 300
  if [ -x "$top/interop/run" ]; then
    "$top/interop/run" --quick
  fi
fi
tree_after=$(tree_state)
if [ "$tree_before" != "$tree_after" ]; then
  echo "test.sh: the tests changed the work tree (git status --porcelain, before and after):" >&2
  diff <(printf '%s\n' "$tree_before") <(printf '%s\n' "$tree_after") >&2 || true
  exit 1
fi
