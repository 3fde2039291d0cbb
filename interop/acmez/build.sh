#!/usr/bin/env bash
# interop/acmez/build.sh OUT_DIR: builds aro-acmez OFFLINE in GOPATH mode
# from Debian's Go toolchain and packages (golang-go, and
# golang-github-mholt-acmez-dev 0.1.3 with the -dev packages it depends on,
# under /usr/share/gocode), against a copy of Debian's acmez with
# acmez-0.1.3-retry-options.patch applied. The patched copy comes first in
# GOPATH, so it shadows Debian's; nothing under /usr/share/gocode changes.
# Prints the binary's path. No network: GOPROXY=off.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT_DIR}
src=/usr/share/gocode/src/github.com/mholt/acmez
for need in go patch; do
  command -v "$need" >/dev/null || { echo "build.sh: $need not found (apt-get install golang-go patch)" >&2; exit 1; }
done
[ -d "$src" ] || { echo "build.sh: $src missing (apt-get install golang-github-mholt-acmez-dev)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
gopath=$out/gopath
dst=$gopath/src/github.com/mholt/acmez
rm -rf "$dst"
mkdir -p "$(dirname "$dst")"
cp -r "$src" "$dst"
chmod -R u+w "$dst"
patch -s -p1 -d "$dst" < "$here/acmez-0.1.3-retry-options.patch"
export GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="$gopath:/usr/share/gocode" \
       GOCACHE="$out/gocache" CGO_ENABLED=0
(cd "$here" && go build -o "$out/aro-acmez" .)
echo "$out/aro-acmez"
