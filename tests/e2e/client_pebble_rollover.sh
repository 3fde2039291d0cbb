#!/usr/bin/env bash
# Account key rollover (RFC 8555 7.3.5): the account URL stays, the new key
# signs from then on, the old one is kept as key.pem.1 and no longer works.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
start_pebble
OUT="$E2E_TMP/out.json"
aro_pebble --json --agree-tos account new >"$OUT" 2>"$E2E_TMP/aro.log" || fail "account new"
ACCT=$(json_get "$OUT" .account)
KEY=$(ls "$E2E_TMP"/state/accounts/*/key.pem)
OLD=$(openssl pkey -in "$KEY" -pubout)

rc=0
aro_pebble --json --account-key-type ec384 account rollover >"$OUT" 2>"$E2E_TMP/roll.log" || rc=$?
cat "$E2E_TMP/roll.log" >&2
[ "$rc" = 0 ] || fail "rollover exited $rc: $(cat "$OUT")"
[ "$(json_get "$OUT" .result)" = rolled ] || fail "result: $(cat "$OUT")"
[ "$(json_get "$OUT" .account)" = "$ACCT" ] || fail "account URL changed"
[ "$OLD" != "$(openssl pkey -in "$KEY" -pubout)" ] || fail "key.pem did not change"
[ "$OLD" = "$(openssl pkey -in "$KEY.1" -pubout)" ] || fail "old key not kept as key.pem.1"
openssl pkey -in "$KEY" -noout -text | grep -q "384" || fail "new key is not P-384"
[ "$(stat -c %a "$KEY")" = 600 ] || fail "new key not 0600"

# The new key works: show and issue.
aro_pebble --json account show >"$OUT" 2>>"$E2E_TMP/roll.log" || fail "show with the new key"
aro_pebble --json --http-port "$PEBBLE_HTTP_PORT" issue roll.example.com >"$OUT" 2>>"$E2E_TMP/roll.log" ||
    fail "issue with the new key: $(cat "$OUT")"

# The old key finds no account (7.3.1 onlyReturnExisting via a fresh state).
mkdir -p "$E2E_TMP/old/accounts/$(basename "$(dirname "$KEY")")"
cp "$KEY.1" "$E2E_TMP/old/accounts/$(basename "$(dirname "$KEY")")/key.pem"
rc=0
"$ARO" --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA" --state "$E2E_TMP/old" --json \
    account show >"$OUT" 2>"$E2E_TMP/old.log" || rc=$?
cat "$E2E_TMP/old.log" >&2
[ "$rc" = 2 ] || fail "the old key still finds the account"
pass
