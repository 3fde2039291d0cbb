#!/usr/bin/env bash
# tls-alpn-01 with aro's built-in responder (RFC 8737: ALPN acme-tls/1,
# the certificate chosen by SNI) on the port Pebble validates.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
start_pebble
OUT="$E2E_TMP/out.json"
rc=0
aro_pebble --agree-tos --json --challenges tls-alpn-01 --tls-alpn-port "$PEBBLE_TLS_PORT" \
    issue alpn.example.com alpn2.example.com >"$OUT" 2>"$E2E_TMP/aro.log" || rc=$?
cat "$E2E_TMP/aro.log" >&2
[ "$rc" = 0 ] || fail "issue exited $rc: $(cat "$OUT")"
[ "$(json_get "$OUT" '[.attempts[] | select(.type == "tls-alpn-01" and .outcome == "valid")] | length')" = 2 ] ||
    fail "attempts: $(cat "$OUT")"
[ -s "$(json_get "$OUT" .certificate)" ] || fail "no certificate"
pass
