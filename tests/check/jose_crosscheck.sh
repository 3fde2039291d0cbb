#!/bin/bash
# Cross-check aro's JWS/JWK code against josepy + python3-cryptography
# (Debian packages), both directions, every algorithm. See
# tests/check/jose_crosscheck.py.
set -euo pipefail
src=${ARO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${ARO_BUILD_DIR:-$src/build}
tool=$build/tests/jose_tool
# Debian's python3 has python3-josepy/python3-acme; a pyenv python3 on PATH
# may not. Prefer whichever can import them.
py=
for cand in /usr/bin/python3 python3; do
    if "$cand" -c 'import josepy, acme, cryptography' 2>/dev/null; then
        py=$cand
        break
    fi
done
if [ -z "$py" ]; then
    echo "jose_crosscheck: no python3 with josepy, acme and cryptography" >&2
    exit 1
fi
if [ ! -x "$tool" ]; then
    echo "jose_crosscheck: $tool not built" >&2
    exit 1
fi
exec "$py" "$src/tests/check/jose_crosscheck.py" "$tool"
