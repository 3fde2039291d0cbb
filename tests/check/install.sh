#!/bin/bash
# check/install: `cmake --install` puts aro, aro-server, aro's manual page
# and its systemd units under the prefix; the service runs the installed
# aro; `systemd-analyze verify` accepts both units with nothing to say
# (it also finds the installed manual page their Documentation= names).
# Installs into a temporary prefix it removes. Exit 0 = pass, 1 = fail,
# 77 = systemd-analyze or the build missing (skip).
set -u
src=${ARO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${ARO_BUILD_DIR:-$src/build}
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$build/aro" ] && [ -x "$build/aro-server" ] || { echo "SKIP: $build is not built"; exit 77; }
command -v systemd-analyze >/dev/null 2>&1 || { echo "SKIP: no systemd-analyze"; exit 77; }

prefix=$(mktemp -d "${TMPDIR:-/tmp}/aro-install.XXXXXX") || fail "mktemp"
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >"$prefix.log" 2>&1 || { cat "$prefix.log" >&2; rm -f "$prefix.log"; fail "cmake --install"; }
rm -f "$prefix.log"
for f in bin/aro bin/aro-server share/man/man1/aro.1 lib/systemd/system/aro-renew.service \
         lib/systemd/system/aro-renew.timer; do
    [ -s "$prefix/$f" ] || fail "cmake --install did not install $f"
done
"$prefix/bin/aro" --version | grep -q '^aro ' || fail "the installed aro does not run"
grep -q "^ExecStart=$prefix/bin/aro --state /var/lib/aro --quiet renew" "$prefix/lib/systemd/system/aro-renew.service" ||
    fail "ExecStart does not run the installed aro: $(grep ExecStart "$prefix/lib/systemd/system/aro-renew.service")"
out=$(cd "$prefix" && MANPATH="$prefix/share/man" systemd-analyze verify \
      lib/systemd/system/aro-renew.service lib/systemd/system/aro-renew.timer 2>&1) ||
    fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify has something to say: $out"
echo "PASS: installed under a prefix; systemd-analyze verify accepts the units"
