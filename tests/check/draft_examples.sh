#!/bin/bash
# check/draft_examples: every JSON example in the Internet-Draft is what
# aro-server actually sends. Runs draft/examples/generate.py, which starts
# pebble-challtestsrv and aro-server ($ARO_BUILD_DIR/aro-server) on loopback,
# drives the draft's scenario, normalizes URLs, ids, tokens, nonces and
# times, and compares each "<!-- example: NAME -->" block of the draft with
# the server's response, structurally. Writes only into a temporary
# directory. Exit 0 = agree, 1 = disagree (a diff is printed), 77 = a tool
# is missing (skip). Fix: draft/examples/generate.py --update (see
# draft/examples/README.md).
set -u
src=${ARO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${ARO_BUILD_DIR:-$src/build}
export ARO_SOURCE_DIR="$src" ARO_BUILD_DIR="$build"

[ -x "$build/aro-server" ] || { echo "SKIP: no $build/aro-server (build it first)" >&2; exit 77; }
command -v pebble-challtestsrv >/dev/null 2>&1 ||
  { echo "SKIP: pebble-challtestsrv not installed (Debian: pebble)" >&2; exit 77; }
/usr/bin/python3 -c 'import requests, cryptography' 2>/dev/null ||
  { echo "SKIP: python3-requests / python3-cryptography missing" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aro-draft-examples.XXXXXX") || { echo "FAIL: mktemp" >&2; exit 1; }
trap 'rm -rf "$tmp"' EXIT

# generate.py needs about 20 s (it waits out two backoffs of the default
# policy); the bound only stops a hung run (under ctest's 300 s), it is not a
# speed check: a loaded machine (two suites at once) can take several times
# as long.
timeout -k 5 240 /usr/bin/python3 "$src/draft/examples/generate.py" --out "$tmp"
rc=$?
[ $rc -eq 124 ] && echo "FAIL: generate.py timed out" >&2
[ $rc -eq 0 ] || exit 1
exit 0
