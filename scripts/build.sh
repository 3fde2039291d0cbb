#!/usr/bin/env bash
# Configures and builds into build/ (or $ARO_BUILD_DIR). Extra arguments go
# to cmake's configure step, e.g. -DARO_SANITIZE=ON.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ARO_BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -DARO_WERROR=ON "$@" >/dev/null
# The compiler's messages only; a failed build fails here, so that nothing
# runs against the binaries of an earlier build.
rc=0
cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 || rc=$?
grep -Ev '^\[|^-- |Built target|Scanning dependencies|Consolidate compiler' "$build/build.log" || true
[ "$rc" = 0 ] || { echo "build.sh: the build failed (above; all of it in $build/build.log)" >&2; exit 1; }
test -x "$build/aro-server" || { echo "build.sh: aro-server was not built" >&2; exit 1; }
