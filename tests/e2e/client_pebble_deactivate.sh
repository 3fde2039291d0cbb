#!/usr/bin/env bash
# Account deactivation (RFC 8555 7.3.6): aro keeps the dead key aside, so
# issue says there is no account and the next account new makes a new one;
# the dead key, put back, is refused by account new (it does not say
# "existing" and exit 0), and the CA refuses its requests.
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

KEYDIR=$(dirname "$(ls "$E2E_TMP"/state/accounts/*/key.pem.deactivated)")
[ ! -e "$KEYDIR/key.pem" ] || fail "the deactivated key is still the account key"

# No account now: issue says so and what to do.
rc=0
aro_pebble --json --http-port "$PEBBLE_HTTP_PORT" issue deact.example.com >"$OUT" 2>"$E2E_TMP/issue.log" || rc=$?
cat "$E2E_TMP/issue.log" >&2
[ "$rc" = 2 ] || fail "issue after deactivation exited $rc"
[ "$(json_get "$OUT" .result)" = failed ] || fail "issue after deactivation: $(cat "$OUT")"
json_get "$OUT" .error.detail | grep -q "aro account new" || fail "error detail: $(cat "$OUT")"

# The dead key put back: account new refuses it; the CA refuses an issue.
cp "$KEYDIR/key.pem.deactivated" "$KEYDIR/key.pem"
rc=0
aro_pebble --json --agree-tos account new >"$OUT" 2>"$E2E_TMP/dead.log" || rc=$?
cat "$E2E_TMP/dead.log" >&2
[ "$rc" = 2 ] || fail "account new with a deactivated account's key exited $rc: $(cat "$OUT")"
[ "$(json_get "$OUT" .result)" = failed ] || fail "dead key: $(cat "$OUT")"
rm "$KEYDIR/key.pem"

# A new account with a new key.
aro_pebble --json --agree-tos account new >"$OUT" 2>>"$E2E_TMP/aro.log" || fail "account new after deactivation"
[ "$(json_get "$OUT" .result)" = created ] || fail "not created: $(cat "$OUT")"
[ "$(json_get "$OUT" .account)" != "$ACCT" ] || fail "the new account has the old URL"
pass
