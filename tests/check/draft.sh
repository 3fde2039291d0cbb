#!/bin/bash
# check/draft: the Internet-Draft converts offline, with every reference
# resolved from draft/.refcache/, and the result is well-formed XML.
#
# Run by ctest with ARO_SOURCE_DIR set (or by hand from the repo root).
# Works in a temporary copy of draft/ that it removes; writes nothing into
# the source tree. Exit 0 = pass, 1 = fail, 77 = tool missing (skip).
set -u
src=${ARO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
draft="$src/draft"
md=draft-aro-acme-retry-options.md
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -f "$draft/$md" ] || fail "no $draft/$md"
[ -d "$draft/.refcache" ] || fail "no $draft/.refcache"
if command -v kramdown-rfc >/dev/null 2>&1; then
  kd=(kramdown-rfc)
elif command -v kramdown-rfc2629 >/dev/null 2>&1; then
  kd=(kramdown-rfc2629 --v3)
else
  echo "SKIP: kramdown-rfc not installed (Debian: ruby-kramdown-rfc2629)" >&2; exit 77
fi
command -v xmllint >/dev/null 2>&1 || { echo "SKIP: xmllint not installed (libxml2-utils)" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aro-draft-check.XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
cp "$draft/$md" "$tmp/" || fail "copy source"
cp -r "$draft/.refcache" "$tmp/.refcache" || fail "copy refcache"

docname=$(sed -n 's/^docname: *//p' "$tmp/$md" | head -1)
[ "$docname" = "draft-aro-acme-retry-options-01" ] || fail "docname is '$docname'"
xml="$tmp/$docname.xml"

# Offline: nothing is fetched; a missing cache file becomes a broken reference.
( cd "$tmp" && KRAMDOWN_OFFLINE=1 KRAMDOWN_REFCACHEDIR="$tmp/.refcache" \
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
    "${kd[@]}" "$md" ) > "$xml" 2> "$tmp/stderr"
rc=$?
if [ -s "$tmp/stderr" ]; then
  echo "--- kramdown-rfc messages:" >&2; cat "$tmp/stderr" >&2
fi
[ $rc -eq 0 ] || fail "kramdown-rfc exited $rc"
[ -s "$xml" ] || fail "empty output"

# Any kramdown(-rfc) error or warning about references fails the check:
# missing cache files, unparsable bibxml, fetch attempts, undefined
# [link]/[citation] ids, overwritten or unknown references.
if grep -Eqi 'BROKEN REFERENCE|no such file|reference xml|fetching|renewing|KRAMDOWN_OFFLINE|no link definition|overwriting|unknown reference|undefined reference|missing anchor|Huh:|error' "$tmp/stderr"; then
  fail "kramdown-rfc reported a reference problem (see messages above)"
fi
grep -q 'BROKEN REFERENCE' "$xml" && fail "BROKEN REFERENCE in output"

xmllint --noout "$xml" || fail "xmllint rejects the output"

# Every xref target and every cited reference exists in the document.
missing=$(xmllint --xpath '//xref/@target' "$xml" 2>/dev/null |
  sed 's/ target="\([^"]*\)"/\1\n/g' | sed '/^$/d' | sort -u |
  while read -r t; do
    n=$(xmllint --xpath "count(//*[@anchor='$t'])" "$xml" 2>/dev/null)
    [ "${n:-0}" != "0" ] || echo "$t"
  done)
[ -z "$missing" ] || fail "xref targets without an anchor: $missing"

# Every bibxml file in the cache is well-formed and carries its anchor.
for f in "$tmp"/.refcache/reference.*.xml; do
  xmllint --noout "$f" || fail "bad bibxml $(basename "$f")"
done

# The JSON examples are marked for draft/examples/generate.sh.
for ex in directory-meta authz-invalid-with-retry-options authz-held-with-retry-options \
          order-invalid-with-retry-options neworder-request-hold \
          reenable-request reenable-response reenable-refused-too-early \
          reenable-refused-not-allowed challenge-post-on-invalid-authz; do
  grep -q "^<!-- example: $ex -->" "$tmp/$md" || fail "example marker '$ex' missing"
done

# Every figure of the draft is the one the benchmark's and the interop
# matrix's committed results give (draft/fill_measured_costs.py).
python3 "$draft/fill_measured_costs.py" --check ||
  fail "the draft's figures differ from tests/bench/results (run draft/fill_measured_costs.py)"

# The size of the document: words of the sections before the appendices
# (the normative core) and of the whole, prose and examples apart.
python3 - "$tmp/$md" <<'PY' || fail "word count"
import re, sys
text = open(sys.argv[1]).read()
body = text.split("--- middle", 1)[1]
core, back = body.split("--- back", 1)
def words(s):
    prose = re.sub(r"~~~.*?~~~", " ", s, flags=re.S)
    prose = re.sub(r"<!--.*?-->", " ", prose, flags=re.S)
    return len(prose.split()), len(s.split())
c, b = words(core), words(back)
print(f"words: sections before the appendices {c[0]} (with examples {c[1]}); appendices {b[0]}; "
      f"whole document {c[0] + b[0]} (with examples {c[1] + b[1]})")
PY

echo "OK: $docname.xml converts offline and is well-formed" \
     "($(grep -c '<reference ' "$xml") references)"
exit 0
