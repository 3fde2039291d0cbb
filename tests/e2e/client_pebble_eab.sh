#!/usr/bin/env bash
# External account binding (RFC 8555 7.3.4) with Pebble's EAB config:
# refused without --eab or with a wrong MAC, accepted with the right one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
MAC=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
start_pebble '"externalAccountBindingRequired": true,
  "externalAccountMACKeys": {"kid-1": "'"$MAC"'"}'
OUT="$E2E_TMP/out.json"

rc=0
aro_pebble --json --agree-tos account new >"$OUT" 2>"$E2E_TMP/noeab.log" || rc=$?
cat "$E2E_TMP/noeab.log" >&2
[ "$rc" = 2 ] || fail "account new without EAB exited $rc"
json_get "$OUT" .error.detail | grep -q -- "--eab" || fail "the error does not point at --eab: $(cat "$OUT")"

rc=0
aro_pebble --json --agree-tos --eab "kid-1:AAAA${MAC:4}" account new >"$OUT" 2>"$E2E_TMP/bad.log" || rc=$?
cat "$E2E_TMP/bad.log" >&2
[ "$rc" = 2 ] || fail "a wrong MAC key was accepted"
json_get "$OUT" .error.type | grep -q '^urn:ietf:params:acme:error:' || fail "error type: $(cat "$OUT")"

rc=0
aro_pebble --json --agree-tos --eab "kid-1:$MAC" account new >"$OUT" 2>"$E2E_TMP/eab.log" || rc=$?
cat "$E2E_TMP/eab.log" >&2
[ "$rc" = 0 ] || fail "account new with EAB exited $rc: $(cat "$OUT")"
[ "$(json_get "$OUT" .result)" = created ] || fail "result: $(cat "$OUT")"
aro_pebble --json --http-port "$PEBBLE_HTTP_PORT" issue eab.example.com >"$OUT" 2>>"$E2E_TMP/eab.log" ||
    fail "issue with the EAB-bound account: $(cat "$OUT")"
pass
