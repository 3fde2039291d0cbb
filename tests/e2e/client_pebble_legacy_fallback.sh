#!/usr/bin/env bash
# Legacy fallback against a CA without retry-options (Pebble 2.4):
# http-01 cannot pass (aro's http-01 server is not on the port Pebble
# validates, as when port 80 is blocked); aro opens a second order that
# skips http-01 and passes dns-01 through a uacme-style hook. Exactly two
# orders; the first attempt "first"/invalid/connection, the second
# "new-order"/valid.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
start_pebble
HOOK=$(make_dns_hook)
take_port BLOCKED   # nothing of Pebble's validates here

rc=0
aro_pebble --agree-tos --json --challenges http-01,dns-01 --http-port "$BLOCKED" --hook "$HOOK" \
    issue fallback.example.com >"$E2E_TMP/out.json" 2>"$E2E_TMP/aro.log" || rc=$?
cat "$E2E_TMP/aro.log" >&2
jq . "$E2E_TMP/out.json" >&2 || fail "stdout is not JSON"
[ "$rc" = 0 ] || fail "aro exited $rc"

OUT="$E2E_TMP/out.json"
[ "$(json_get "$OUT" .result)" = issued ] || fail "result is not issued"
[ "$(json_get "$OUT" '.orders | length')" = 2 ] || fail "expected exactly two orders"
[ "$(json_get "$OUT" '.attempts | length')" = 2 ] || fail "expected exactly two attempts"
[ "$(json_get "$OUT" '.attempts[0].type')" = http-01 ] || fail "first attempt is not http-01"
[ "$(json_get "$OUT" '.attempts[0].outcome')" = invalid ] || fail "http-01 did not fail"
[ "$(json_get "$OUT" '.attempts[0].via')" = first ] || fail "first attempt not via first"
[ "$(json_get "$OUT" '.attempts[0].problem')" = urn:ietf:params:acme:error:connection ] ||
    fail "http-01 failure is not a connection problem"
[ "$(json_get "$OUT" '.attempts[0].order')" = "$(json_get "$OUT" '.orders[0]')" ] || fail "attempt 0 order"
[ "$(json_get "$OUT" '.attempts[1].type')" = dns-01 ] || fail "second attempt is not dns-01"
[ "$(json_get "$OUT" '.attempts[1].outcome')" = valid ] || fail "dns-01 did not pass"
[ "$(json_get "$OUT" '.attempts[1].via')" = new-order ] || fail "second attempt not via new-order"
[ "$(json_get "$OUT" '.attempts[1].order')" = "$(json_get "$OUT" '.orders[1]')" ] || fail "attempt 1 order"
[ "$(json_get "$OUT" .error)" = null ] || fail "error is not null"
CERT=$(json_get "$OUT" .certificate)
[ -s "$CERT" ] || fail "no certificate at $CERT"
openssl x509 -in "$CERT" -noout -ext subjectAltName | grep -q fallback.example.com ||
    fail "certificate lacks the name"

# Learned success: the store now prefers dns-01 for this name at this CA,
# so the next run goes straight to it (one order, one attempt). It runs
# under a new account (RFC 8555 7.3.6; the store learns per CA, name and
# type, not per account): Pebble would reuse the old account's valid
# authorization for 1% of orders even at PEBBLE_AUTHZREUSE=0 (wfe.go
# newOrder: rand.Intn(100) > authzReusePercent), and then nothing is tried.
aro_pebble --json account deactivate >/dev/null 2>>"$E2E_TMP/aro.log" || fail "account deactivate"
aro_pebble --json --agree-tos account new >/dev/null 2>>"$E2E_TMP/aro.log" || fail "account new"
rc=0
aro_pebble --json --challenges http-01,dns-01 --http-port "$BLOCKED" --hook "$HOOK" \
    issue fallback.example.com >"$OUT" 2>"$E2E_TMP/aro2.log" || rc=$?
cat "$E2E_TMP/aro2.log" >&2
[ "$rc" = 0 ] || fail "second run exited $rc"
[ "$(json_get "$OUT" '.orders | length')" = 1 ] || fail "learned run used more than one order"
[ "$(json_get "$OUT" '.attempts | length')" = 1 ] || fail "learned run: not exactly one attempt"
[ "$(json_get "$OUT" '.attempts[0].type')" = dns-01 ] || fail "learned run did not start with dns-01"

# A failure no other type could fix, and no other solver: one order, exit 2.
rc=0
aro_pebble --json --challenges http-01 --http-port "$BLOCKED" \
    issue nofallback.example.com >"$OUT" 2>"$E2E_TMP/aro3.log" || rc=$?
cat "$E2E_TMP/aro3.log" >&2
[ "$rc" = 2 ] || fail "a hopeless issue exited $rc, not 2"
[ "$(json_get "$OUT" .result)" = failed ] || fail "result is not failed"
[ "$(json_get "$OUT" '.orders | length')" = 1 ] || fail "no solver for another type, yet more orders"
[ "$(json_get "$OUT" .error.type)" = urn:ietf:params:acme:error:connection ] || fail "error type"
grep -q "nofallback.example.com" "$E2E_TMP/aro3.log" || fail "the error does not name the identifier"
pass
