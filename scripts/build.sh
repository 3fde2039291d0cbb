#!/usr/bin/env bash
# Configures and builds into build/ (or $ARO_BUILD_DIR). Extra arguments go
# to cmake's configure step, e.g. -DARO_SANITIZE=ON.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ARO_BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -DARO_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" 2>&1 | grep -Ev '^\[|^-- |Built target|Scanning dependencies|Consolidate compiler' || true
test -x "$build/aro-server" || { echo "build.sh: aro-server was not built" >&2; exit 1; }
