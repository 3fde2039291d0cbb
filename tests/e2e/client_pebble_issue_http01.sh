#!/usr/bin/env bash
# aro account new + issue with the built-in http-01 server against Pebble;
# the --json contract, exit codes, file layout and modes, kept sets,
# list, renew's "not due" (exit 0, contracts.md; it was 1 before issue 17),
# and a name refused before any order.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
start_pebble
OUT="$E2E_TMP/out.json"

aro_pebble --json --agree-tos --email admin@example.com account new >"$OUT" 2>"$E2E_TMP/aro.log" ||
    fail "account new failed"
[ "$(json_get "$OUT" .result)" = created ] || fail "account new result: $(cat "$OUT")"
ACCT=$(json_get "$OUT" .account)
aro_pebble --json --agree-tos account new >"$OUT" 2>>"$E2E_TMP/aro.log" || fail "account new (again)"
[ "$(json_get "$OUT" .account)" = "$ACCT" ] || fail "second account new did not find the same account"
aro_pebble --json account show >"$OUT" 2>>"$E2E_TMP/aro.log" || fail "account show failed"
[ "$(json_get "$OUT" .account.status)" = valid ] || fail "account show: $(cat "$OUT")"
aro_pebble --json --email other@example.com account update >"$OUT" 2>>"$E2E_TMP/aro.log" ||
    fail "account update failed"
[ "$(json_get "$OUT" .result)" = updated ] || fail "account update result"

rc=0
aro_pebble --json --http-port "$PEBBLE_HTTP_PORT" issue www.example.com example.com \
    >"$OUT" 2>"$E2E_TMP/issue.log" || rc=$?
cat "$E2E_TMP/issue.log" >&2
[ "$rc" = 0 ] || fail "issue exited $rc: $(cat "$OUT")"
[ "$(jq -c 'keys' "$OUT")" = '["attempts","certificate","error","names","orders","result"]' ] ||
    fail "JSON members differ from the contract: $(jq -c keys "$OUT")"
[ "$(json_get "$OUT" .result)" = issued ] || fail "result"
[ "$(json_get "$OUT" '.names | join(",")')" = "www.example.com,example.com" ] || fail "names"
[ "$(json_get "$OUT" '.orders | length')" = 1 ] || fail "orders"
[ "$(json_get "$OUT" '[.attempts[] | select(.outcome == "valid" and .type == "http-01" and .via == "first")] | length')" = 2 ] ||
    fail "attempts"
[ "$(wc -l <"$OUT")" = 1 ] || fail "stdout holds more than one line"
D="$E2E_TMP/state/certs/www.example.com"
for f in cert.pem chain.pem fullchain.pem key.pem; do
    [ -s "$D/$f" ] || fail "missing $D/$f"
done
[ "$(stat -L -c %a "$D/key.pem")" = 600 ] || fail "key.pem is not 0600"
[ "$(json_get "$OUT" .certificate)" = "$D/fullchain.pem" ] || fail "certificate path"
openssl x509 -in "$D/cert.pem" -noout -ext subjectAltName | grep -q "DNS:example.com" || fail "SAN"
cmp -s <(cat "$D/cert.pem" "$D/chain.pem") "$D/fullchain.pem" || fail "fullchain != cert + chain"
openssl verify -partial_chain -CAfile "$D/chain.pem" "$D/cert.pem" >/dev/null || fail "chain does not verify"
# The key matches the certificate.
[ "$(openssl x509 -in "$D/cert.pem" -noout -pubkey)" = "$(openssl pkey -in "$D/key.pem" -pubout)" ] ||
    fail "key.pem does not match cert.pem"

# Without --json: one summary line on stdout.
aro_pebble --http-port "$PEBBLE_HTTP_PORT" --key-type rsa2048 issue www.example.com example.com \
    >"$E2E_TMP/summary" 2>/dev/null || fail "plain issue failed"
[ "$(wc -l <"$E2E_TMP/summary")" = 1 ] || fail "summary is not one line"
[ -s "$D/sets/0/cert.pem" ] && [ -s "$D/sets/0/key.pem" ] || fail "the previous set was not kept"
[ "$(readlink "$D/live")" = sets/1 ] || fail "live is not the second set"
[ "$(stat -c %a "$D/sets/0/key.pem")" = 600 ] || fail "sets/0/key.pem is not 0600"
openssl pkey -in "$D/key.pem" -noout -text | grep -q "2048 bit" || fail "--key-type rsa2048 ignored"

aro_pebble --json list >"$OUT" 2>/dev/null || fail "list failed"
[ "$(json_get "$OUT" '.certificates[0].name')" = www.example.com ] || fail "list: $(cat "$OUT")"

# Pebble's certificates live five years: not due.
rc=0
aro_pebble --json --http-port "$PEBBLE_HTTP_PORT" renew >"$OUT" 2>"$E2E_TMP/renew.log" || rc=$?
cat "$E2E_TMP/renew.log" >&2
[ "$rc" = 0 ] || fail "renew of a fresh certificate exited $rc, not 0"
[ "$(json_get "$OUT" .result)" = not-due ] || fail "renew result: $(cat "$OUT")"
[ "$(json_get "$OUT" '.certificates[0].name + " " + .certificates[0].result')" = "www.example.com not-due" ] ||
    fail "renew entry: $(cat "$OUT")"
rc=0
aro_pebble --json --force --http-port "$PEBBLE_HTTP_PORT" renew www.example.com >"$OUT" 2>>"$E2E_TMP/renew.log" || rc=$?
[ "$rc" = 0 ] || fail "forced renew exited $rc: $(cat "$OUT")"
[ "$(json_get "$OUT" .result)" = renewed ] || fail "forced renew result"
[ -s "$D/sets/1/cert.pem" ] && [ "$(readlink "$D/live")" = sets/2 ] || fail "second previous set not kept"

# A name that is no DNS name: refused before any order, exit 64.
orders_before=$(grep -c "POST /order-plz" "$E2E_TMP/pebble.log" || true)
rc=0
aro_pebble --json --http-port "$PEBBLE_HTTP_PORT" issue "bad..name.example" >"$OUT" 2>"$E2E_TMP/bad.log" || rc=$?
cat "$E2E_TMP/bad.log" >&2
[ "$rc" = 64 ] || fail "a bad name exited $rc"
[ "$(json_get "$OUT" .result)" = failed ] || fail "refused: result"
[ "$(json_get "$OUT" .error.type)" = usage ] || fail "refused: error type $(cat "$OUT")"
json_get "$OUT" .error.detail | grep -q "bad..name.example" || fail "refused: detail $(cat "$OUT")"
[ "$(grep -c "POST /order-plz" "$E2E_TMP/pebble.log" || true)" = "$orders_before" ] ||
    fail "an order was sent for a bad name"
pass
