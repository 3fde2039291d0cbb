#!/bin/bash
# Build the Internet-Draft from its kramdown-rfc source, offline.
#   draft/build.sh [OUTDIR]     (default: draft/, next to the source)
# Produces draft-aro-acme-retry-options-01.xml (RFCXML v3). References come
# only from draft/.refcache/ (KRAMDOWN_OFFLINE=1): a missing one is an error.
# A .txt/.html rendering needs xml2rfc, which is not packaged here; if an
# xml2rfc executable is on PATH it is used, otherwise no text is produced.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
out=$(cd "$out" && pwd)
src=draft-aro-acme-retry-options.md
docname=$(sed -n 's/^docname: *//p' "$here/$src" | head -1)
[ -n "$docname" ] || { echo "build.sh: no docname in $src" >&2; exit 1; }

if command -v kramdown-rfc >/dev/null 2>&1; then
  kd=(kramdown-rfc)
elif command -v kramdown-rfc2629 >/dev/null 2>&1; then
  kd=(kramdown-rfc2629 --v3)
else
  echo "build.sh: kramdown-rfc not found (Debian: ruby-kramdown-rfc2629)" >&2; exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Run from draft/ so that .refcache is found; KRAMDOWN_REFCACHEDIR is explicit.
( cd "$here" && KRAMDOWN_OFFLINE=1 KRAMDOWN_REFCACHEDIR="$here/.refcache" \
    "${kd[@]}" "$src" ) > "$out/$docname.xml.tmp" 2> "$log" || {
  cat "$log" >&2; rm -f "$out/$docname.xml.tmp"; echo "build.sh: kramdown-rfc failed" >&2; exit 1; }
cat "$log" >&2
if grep -q 'BROKEN REFERENCE' "$out/$docname.xml.tmp" ||
   grep -Eqi 'broken reference|no such file|reference xml|unknown reference|fetching' "$log"; then
  rm -f "$out/$docname.xml.tmp"
  echo "build.sh: broken reference (add a bibxml file to draft/.refcache/)" >&2; exit 1
fi
mv "$out/$docname.xml.tmp" "$out/$docname.xml"
if command -v xmllint >/dev/null 2>&1; then
  xmllint --noout "$out/$docname.xml"
fi
echo "wrote $out/$docname.xml"
if command -v xml2rfc >/dev/null 2>&1; then
  xml2rfc --text -o "$out/$docname.txt" "$out/$docname.xml"
  echo "wrote $out/$docname.txt"
else
  echo "xml2rfc not installed: no .txt produced"
fi
