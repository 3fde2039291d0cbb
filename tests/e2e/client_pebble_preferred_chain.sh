#!/usr/bin/env bash
# Alternate chains (RFC 8555 7.4.2, Link rel="alternate"): with Pebble
# offering a second root, --preferred-chain picks the chain whose topmost
# certificate that root issued; without it aro keeps the default chain.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
export PEBBLE_ALTERNATE_ROOTS=1
start_pebble
OUT="$E2E_TMP/out.json"
ALT_CN=$(curl -sf --cacert "$PEBBLE_CA" "$PEBBLE_MGMT_URL/roots/1" |
    openssl x509 -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
[ -n "$ALT_CN" ] || fail "cannot read Pebble's alternate root"
log "alternate root: $ALT_CN"

aro_pebble --agree-tos --json --http-port "$PEBBLE_HTTP_PORT" --preferred-chain "$ALT_CN" \
    issue chain.example.com >"$OUT" 2>"$E2E_TMP/aro.log" || { cat "$E2E_TMP/aro.log" >&2; fail "issue"; }
cat "$E2E_TMP/aro.log" >&2
TOP=$(awk '/BEGIN CERT/{n++} {print > "'"$E2E_TMP"'/c" n ".pem"}' "$(json_get "$OUT" .certificate)"; ls "$E2E_TMP"/c*.pem | sort | tail -1)
openssl x509 -in "$TOP" -noout -issuer -nameopt multiline | grep -q "$ALT_CN" ||
    fail "the chain's top is not issued by $ALT_CN"
pass
