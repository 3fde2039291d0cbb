#!/usr/bin/env bash
# Several names at once (issue 17): all challenges of an order are
# provisioned (the hook's "begin" for every name) before any is answered
# and validated, and answered before any is polled to the end; progress
# per name. With http-01 blocked, every name is re-enabled with dns-01 in
# the same order (aro-server, retry-options), or gets dns-01 in one second
# order (Pebble: the legacy fallback), per name.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
HOOK="$E2E_TMP/hook.sh"
CALLS="$E2E_TMP/calls"
cat >"$HOOK" <<EOS
#!/bin/sh
# uacme hook: METHOD TYPE IDENT TOKEN AUTH; logs every call in order.
echo "\$1 \$2 \$3" >>"$CALLS"
[ "\$2" = dns-01 ] || exit 1
case "\$1" in
begin) curl -sS --max-time 10 -X POST -d "{\"host\":\"_acme-challenge.\$3.\",\"value\":\"\$5\"}" "$CTS_MGMT/set-txt" >/dev/null ;;
*) curl -sS --max-time 10 -X POST -d "{\"host\":\"_acme-challenge.\$3.\"}" "$CTS_MGMT/clear-txt" >/dev/null ;;
esac
EOS
chmod +x "$HOOK"
NAMES=(c1.example.com c2.example.com c3.example.com)

# all_before FILE A B: every line matching A comes before the first line
# matching B.
all_before() {
    local last first
    last=$(grep -a -n -- "$2" "$1" | tail -1 | cut -d: -f1)
    first=$(grep -a -n -- "$3" "$1" | head -1 | cut -d: -f1)
    [ -n "$last" ] && [ -n "$first" ] && [ "$last" -lt "$first" ]
}

# dns-01 for three names at once: provisioned, answered, then validated.
three_at_once() {
    local label=$1 dir=$2 ca=$3
    : >"$CALLS"
    local rc=0
    "$ARO" --server "$dir" --ca-bundle "$ca" --state "$E2E_TMP/state-$label" --agree-tos --json \
        --challenges dns-01 --hook "$HOOK" issue "${NAMES[@]}" \
        >"$E2E_TMP/run-$label.json" 2>"$E2E_TMP/run-$label.log" || rc=$?
    cat "$E2E_TMP/run-$label.log" >&2
    [ "$rc" = 0 ] || fail "$label: exit $rc: $(cat "$E2E_TMP/run-$label.json")"
    [ "$(grep -c '^begin dns-01' "$CALLS")" = 3 ] || fail "$label: begins: $(cat "$CALLS")"
    all_before "$CALLS" '^begin ' '^done ' || fail "$label: a done before every begin: $(cat "$CALLS")"
    all_before "$E2E_TMP/run-$label.log" ': answering dns-01' ': valid with dns-01' ||
        fail "$label: a name was validated before every name was answered"
    grep -q "3 of 3 names valid" "$E2E_TMP/run-$label.log" || fail "$label: no progress per name"
    log "$label: three names provisioned, answered and validated together"
}

# http-01 blocked: each name falls back to dns-01, per name.
fallback() {
    local label=$1 dir=$2 ca=$3 orders=$4 via=$5
    : >"$CALLS"
    local rc=0 blocked
    take_port blocked
    "$ARO" --server "$dir" --ca-bundle "$ca" --state "$E2E_TMP/state-fb-$label" --agree-tos --json \
        --challenges http-01,dns-01 --http-port "$blocked" --bind 127.0.0.1 --hook "$HOOK" \
        issue "${NAMES[@]}" >"$E2E_TMP/fb-$label.json" 2>"$E2E_TMP/fb-$label.log" || rc=$?
    cat "$E2E_TMP/fb-$label.log" >&2
    local out="$E2E_TMP/fb-$label.json"
    [ "$rc" = 0 ] || fail "fallback $label: exit $rc: $(cat "$out")"
    [ "$(json_get "$out" '.orders | length')" = "$orders" ] || fail "fallback $label: orders $(cat "$out")"
    local n
    for n in "${NAMES[@]}"; do
        [ "$(jq -r --arg n "$n" '[.attempts[] | select(.identifier == $n) | .type + "/" + .outcome + "/" + .via] | join(" ")' "$out")" = \
            "http-01/invalid/first dns-01/valid/$via" ] || fail "fallback $label: attempts of $n: $(cat "$out")"
    done
    log "fallback $label: every name http-01 invalid, then dns-01 valid via $via ($orders order(s))"
}

echo '{"retryMinBackoffSeconds": 1, "validationSleepMs": 300}' >"$E2E_TMP/aro-server.json"
start_aro_server --config "$E2E_TMP/aro-server.json"
three_at_once aro-server "$ARO_DIR_URL" "$ARO_CA"
fallback aro-server "$ARO_DIR_URL" "$ARO_CA" 1 retry-options
start_pebble
three_at_once pebble "$PEBBLE_DIR_URL" "$PEBBLE_CA"
fallback pebble "$PEBBLE_DIR_URL" "$PEBBLE_CA" 2 new-order
pass
