#!/bin/sh
# interop/screenshot.sh: render interop/results/index.html in headless Chromium
# (Debian's package) and write interop/results/matrix.png; fails if the page
# does not render.  Run interop/run first.  Installs chromium when missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
page="$here/results/index.html"
png="${1:-$here/results/matrix.png}"
[ -f "$page" ] || { echo "screenshot: $page missing: run interop/run first" >&2; exit 1; }
if ! command -v chromium >/dev/null 2>&1; then
    apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$png"
# the page is a local file with no external resources: nothing leaves the machine
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --hide-scrollbars --user-data-dir="$profile" \
    --window-size=2300,1100 --screenshot="$png" "file://$page" >/dev/null 2>&1 || true
[ -s "$png" ] || { echo "screenshot: chromium wrote no image" >&2; exit 1; }
# a PNG file starts with \211PNG; a blank page would be a tiny file
head -c 4 "$png" | od -c | grep -q 'P   N   G' || { echo "screenshot: $png is not a PNG" >&2; exit 1; }
size=$(wc -c < "$png")
[ "$size" -gt 20000 ] || { echo "screenshot: $png is only $size bytes: blank page?" >&2; exit 1; }
echo "screenshot: $png ($size bytes)"
