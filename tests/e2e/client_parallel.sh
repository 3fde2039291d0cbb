#!/usr/bin/env bash
# Parallel runs on one state directory (issue 17): three `aro issue` of the
# same name at once, 20 rounds against aro-server and 5 against Pebble;
# after every round the files on disk are one set: cert.pem's public key
# is key.pem's, fullchain.pem starts with cert.pem and continues with
# chain.pem. The runs take turns on the state directory's lock, and one
# of them says it waits. Two `aro account new` at once on a fresh state
# create one account: one says "created", the other "existing", with the
# same URL, and the account works afterwards.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS_ARO=${ROUNDS_ARO:-20}
ROUNDS_PEBBLE=${ROUNDS_PEBBLE:-5}

# check_set DIR: the four files belong together.
check_set() {
    local d=$1
    [ "$(openssl x509 -in "$d/cert.pem" -noout -pubkey)" = "$(openssl pkey -in "$d/key.pem" -pubout)" ] ||
        return 1
    cmp -s <(cat "$d/cert.pem" "$d/chain.pem") "$d/fullchain.pem" || return 1
}

# rounds LABEL N DIRECTORY CA HTTP_PORT: N rounds of three concurrent issues.
rounds() {
    local label=$1 n=$2 r i rc
    local ca=(--server "$3" --ca-bundle "$4")
    set -- "${ca[@]}" --http-port "$5" --bind 127.0.0.1
    local state="$E2E_TMP/state-$label"
    "$ARO" "${ca[@]}" --state "$state" --json --agree-tos account new >/dev/null 2>&1 ||
        fail "$label: account new"
    for r in $(seq 1 "$n"); do
        local pids=()
        for i in 1 2 3; do
            "$ARO" "$@" --state "$state" --json issue par.example.com \
                >"$E2E_TMP/$label-$r-$i.json" 2>"$E2E_TMP/$label-$r-$i.log" &
            pids+=($!)
        done
        for i in 0 1 2; do
            rc=0
            wait "${pids[$i]}" || rc=$?
            [ "$rc" = 0 ] || { cat "$E2E_TMP/$label-$r-$((i + 1)).log" >&2; fail "$label round $r: run $((i + 1)) exited $rc"; }
        done
        check_set "$state/certs/par.example.com" || fail "$label round $r: cert, key and fullchain are not one set"
        # Each run's own certificate was whole when it was stored: the
        # fullchain it reports is the live one or one of the kept sets.
        for i in 1 2 3; do
            [ "$(json_get "$E2E_TMP/$label-$r-$i.json" .result)" = issued ] || fail "$label round $r: run $i result"
        done
    done
    grep -m1 -h "is in use by pid" "$E2E_TMP/$label"-*.log >&2 ||
        fail "$label: no run said it waited for the lock"
    # Every kept set is a set too.
    local s
    for s in "$state"/certs/par.example.com/sets/*/; do
        check_set "$s" || fail "$label: kept set $s is not one set"
    done
    log "$label: $n rounds of three parallel issues, every set whole"
}

# Two account new at once on a fresh state, five times.
accounts() {
    local label=$1 r
    shift
    for r in 1 2 3 4 5; do
        local state="$E2E_TMP/acct-$label-$r"
        "$ARO" "$@" --state "$state" --json --agree-tos account new >"$E2E_TMP/a1.json" 2>/dev/null &
        local p1=$!
        "$ARO" "$@" --state "$state" --json --agree-tos account new >"$E2E_TMP/a2.json" 2>/dev/null &
        local p2=$!
        wait $p1 || fail "$label: account new 1"
        wait $p2 || fail "$label: account new 2"
        local res
        res=$(jq -rs 'map(.result) | sort | join(",")' "$E2E_TMP/a1.json" "$E2E_TMP/a2.json")
        [ "$res" = "created,existing" ] || fail "$label round $r: results $res"
        [ "$(json_get "$E2E_TMP/a1.json" .account)" = "$(json_get "$E2E_TMP/a2.json" .account)" ] ||
            fail "$label round $r: two account URLs"
        "$ARO" "$@" --state "$state" --json account show >"$E2E_TMP/show.json" 2>"$E2E_TMP/show.log" ||
            { cat "$E2E_TMP/show.log" >&2; fail "$label round $r: account show after parallel account new"; }
    done
    log "$label: parallel account new made one account, five times"
}

start_challtestsrv
start_aro_server
accounts aro-server --server "$ARO_DIR_URL" --ca-bundle "$ARO_CA"
rounds aro-server "$ROUNDS_ARO" "$ARO_DIR_URL" "$ARO_CA" "$ARO_HTTP_PORT"

start_pebble
accounts pebble --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA"
rounds pebble "$ROUNDS_PEBBLE" "$PEBBLE_DIR_URL" "$PEBBLE_CA" "$PEBBLE_HTTP_PORT"
pass
