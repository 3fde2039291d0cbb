#!/usr/bin/env bash
# Account deactivation (RFC 8555 7.3.6): afterwards the CA refuses the
# account (unauthorized) and aro says so.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
start_pebble
OUT="$E2E_TMP/out.json"
aro_pebble --json --agree-tos account new >"$OUT" 2>"$E2E_TMP/aro.log" || fail "account new"
ACCT=$(json_get "$OUT" .account)
rc=0
aro_pebble --json account deactivate >"$OUT" 2>"$E2E_TMP/deact.log" || rc=$?
cat "$E2E_TMP/deact.log" >&2
[ "$rc" = 0 ] || fail "deactivate exited $rc: $(cat "$OUT")"
[ "$(json_get "$OUT" .result)" = deactivated ] || fail "result"
[ "$(json_get "$OUT" .account)" = "$ACCT" ] || fail "account"

# The key's account is gone for good: issue fails with the CA's problem.
rc=0
aro_pebble --json --http-port "$PEBBLE_HTTP_PORT" issue deact.example.com >"$OUT" 2>"$E2E_TMP/issue.log" || rc=$?
cat "$E2E_TMP/issue.log" >&2
[ "$rc" = 2 ] || fail "issue after deactivation exited $rc"
[ "$(json_get "$OUT" .result)" = failed ] || fail "issue after deactivation: $(cat "$OUT")"
json_get "$OUT" .error.type | grep -q '^urn:ietf:params:acme:error:' || fail "error type: $(cat "$OUT")"
pass
