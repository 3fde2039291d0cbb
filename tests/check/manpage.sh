#!/bin/bash
# check/manpage: client/aro.1 is clean under `mandoc -Tlint` and covers
# what aro has: every command, every option aro's own help lists, every
# exit status and the environment variables aro reads or sets.
# Exit 0 = pass, 1 = fail, 77 = mandoc or aro missing (skip).
set -u
src=${ARO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${ARO_BUILD_DIR:-$src/build}
page="$src/client/aro.1"
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v mandoc >/dev/null 2>&1 || { echo "SKIP: mandoc missing (scripts/setup.sh installs it)"; exit 77; }
[ -x "$build/aro" ] || { echo "SKIP: no $build/aro"; exit 77; }
out=$(mandoc -Tlint "$page" 2>&1) || fail "mandoc -Tlint: $out"
# "outdated mandoc.db" is about this machine's index of manuals (makewhatis
# not run since a package came), not about the page: left out.
out=$(printf '%s\n' "$out" | grep -v '^mandoc: outdated mandoc.db lacks ' || true)
[ -z "$out" ] || fail "mandoc -Tlint is not clean: $out"

for c in account issue renew revoke list help; do
    grep -q "^\.Cm $c\b\|^\.It Cm $c\b" "$page" || fail "the command $c is not in aro.1"
done
for c in account issue renew revoke list; do
    # Every option of `aro help CMD`, as .Fl in the page.
    for o in $("$build/aro" help "$c" | grep -o -- '--[a-z-]*' | sort -u); do
        grep -q -- "^\.It Fl ${o#-}\b\|^\.It Fl [a-z] , Fl ${o#-}\b" "$page" ||
            fail "aro help $c lists $o, which aro.1 does not describe"
    done
done
for st in 0 2 64 130; do
    grep -q "^\.It $st\b" "$page" || fail "exit status $st is not in aro.1"
done
for e in ARO_DIRECTORY XDG_DATA_HOME UACME_METHOD UACME_AUTH UACME_CHALLENGE_PATH RENEWED_LINEAGE \
         RENEWED_DOMAINS ARO_RENEW_OPTS; do
    grep -q "$e" "$page" || fail "$e is not in aro.1"
done
echo "PASS: aro.1 is lint-clean and covers every command, option, exit status and variable"
