#!/usr/bin/env bash
# Revocation (RFC 8555 7.6) by the account, with a reason code; and by the
# certificate's own key when the state has no account for the CA.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
start_pebble
OUT="$E2E_TMP/out.json"
aro_pebble --agree-tos --http-port "$PEBBLE_HTTP_PORT" issue revoke.example.com >/dev/null 2>"$E2E_TMP/aro.log" ||
    fail "issue failed"
CERT="$E2E_TMP/state/certs/revoke.example.com/cert.pem"
SERIAL=$(openssl x509 -in "$CERT" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')

rc=0
aro_pebble --json revoke "$CERT" --reason 4 >"$OUT" 2>"$E2E_TMP/revoke.log" || rc=$?
cat "$E2E_TMP/revoke.log" >&2
[ "$rc" = 0 ] || fail "revoke exited $rc: $(cat "$OUT")"
[ "$(json_get "$OUT" .result)" = revoked ] || fail "result: $(cat "$OUT")"
# Pebble's management API reports revoked certificates by serial.
curl -sf --cacert "$PEBBLE_CA" "$PEBBLE_MGMT_URL/cert-status-by-serial/$SERIAL" >"$E2E_TMP/status.json" 2>/dev/null &&
    { grep -qi revoked "$E2E_TMP/status.json" || fail "Pebble does not report the certificate revoked"; }

# Revoking again: the CA says alreadyRevoked; exit 2 with its problem type.
rc=0
aro_pebble --json revoke "$CERT" >"$OUT" 2>"$E2E_TMP/revoke2.log" || rc=$?
cat "$E2E_TMP/revoke2.log" >&2
[ "$rc" = 2 ] || fail "second revoke exited $rc"
[ "$(json_get "$OUT" .error.type)" = urn:ietf:params:acme:error:alreadyRevoked ] ||
    fail "second revoke error: $(cat "$OUT")"

# With the certificate key, from a state directory without an account.
aro_pebble --http-port "$PEBBLE_HTTP_PORT" issue revoke2.example.com >/dev/null 2>>"$E2E_TMP/aro.log" ||
    fail "second issue failed"
mkdir -p "$E2E_TMP/c2"
cp "$E2E_TMP/state/certs/revoke2.example.com/"{cert,key}.pem "$E2E_TMP/c2/"
rc=0
"$ARO" --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA" --state "$E2E_TMP/empty-state" --json \
    revoke "$E2E_TMP/c2/cert.pem" >"$OUT" 2>"$E2E_TMP/revoke3.log" || rc=$?
cat "$E2E_TMP/revoke3.log" >&2
[ "$rc" = 0 ] || fail "revoke with the certificate key exited $rc: $(cat "$OUT")"
pass
