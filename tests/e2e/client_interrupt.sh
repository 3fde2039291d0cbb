#!/usr/bin/env bash
# SIGINT and SIGTERM (issue 17). The CA's validation is held up (a tarpit
# on the port it validates http-01 on accepts and never answers), and aro
# is interrupted while it polls: it removes its webroot files, runs the
# hook's "failed" for what it provisioned, stops its http-01 server,
# deactivates the pending authorizations (--deactivate pending), says what
# it cleaned up, and exits 130 (SIGINT) or 143 (SIGTERM); against
# aro-server and Pebble. With --deactivate none the interrupted order stays
# pending and a rerun resumes it. Interrupted during an asynchronous finalization
# (aro-server's faultFinalizeDelayMs), a rerun resumes the same order with
# the key saved for it instead of opening a second one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
cat >"$E2E_TMP/aro-server.json" <<EOF2
{"faultFinalizeDelayMs": 6000, "validationTimeoutSeconds": 30}
EOF2
start_aro_server --config "$E2E_TMP/aro-server.json"
start_pebble

# tarpit PORT: accept and say nothing.
tarpit() {
    "$E2E_PY" - "$1" >"$E2E_TMP/tarpit-$1.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
PY
    E2E_PIDS+=($!)
    wait_until 10 "$E2E_PY" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" ||
        fail "tarpit on $1 did not start"
}

# run_and_interrupt SIGNAL LOG PATTERN COUNT ARO_ARGS...: run aro in the
# background, send SIGNAL once LOG has COUNT lines matching PATTERN;
# sets RC.
run_and_interrupt() {
    local sig=$1 log=$2 pattern=$3 count=$4
    shift 4
    "$ARO" "$@" >"$log.json" 2>"$log" &
    local pid=$!
    local n=0
    for _ in $(seq 300); do
        n=$(grep -c -- "$pattern" "$log" || true)
        [ "$n" -ge "$count" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ "$n" -ge "$count" ] || { cat "$log" >&2; fail "aro never got to \"$pattern\" x$count"; }
    sleep 0.5
    kill -"$sig" "$pid"
    RC=0
    wait "$pid" || RC=$?
    cat "$log" >&2
}

cleanup_cases() {
    local label=$1 dir=$2 ca=$3
    local base=(--server "$dir" --ca-bundle "$ca" --state "$E2E_TMP/st-$label" --agree-tos --json)
    local out

    # Webroot, SIGINT.
    local web="$E2E_TMP/www-$label"
    mkdir -p "$web"
    run_and_interrupt INT "$E2E_TMP/$label-web.log" ": answering http-01" 2 \
        "${base[@]}" --challenges http-01 --webroot "$web" issue i1.example.com i2.example.com
    out="$E2E_TMP/$label-web.log.json"
    [ "$RC" = 130 ] || fail "$label webroot: SIGINT exit $RC: $(cat "$out")"
    [ "$(json_get "$out" .error.type)" = aro:interrupted ] || fail "$label webroot: $(cat "$out")"
    [ -z "$(ls -A "$web/.well-known/acme-challenge")" ] || fail "$label webroot: files left behind"
    [ "$(json_get "$out" '[.cleanup[] | select(startswith("removed '"$web"'"))] | length')" = 2 ] ||
        fail "$label webroot: cleanup does not list the removed files: $(cat "$out")"
    [ "$(json_get "$out" '[.cleanup[] | select(startswith("deactivated the authorization"))] | length')" = 2 ] ||
        fail "$label webroot: pending authorizations not deactivated: $(cat "$out")"
    json_get "$out" .error.detail | grep -q "interrupted by SIGINT; cleaned up: " || fail "$label: detail"

    # A hook, SIGTERM: "failed" for each provisioned challenge.
    local calls="$E2E_TMP/$label-calls"
    cat >"$E2E_TMP/hook-$label.sh" <<EOS
#!/bin/sh
echo "\$1 \$2 \$3" >>"$calls"
[ "\$2" = http-01 ] || exit 1
EOS
    chmod +x "$E2E_TMP/hook-$label.sh"
    run_and_interrupt TERM "$E2E_TMP/$label-hook.log" ": answering http-01" 2 \
        "${base[@]}" --challenges http-01 --hook "$E2E_TMP/hook-$label.sh" issue h1.example.com h2.example.com
    out="$E2E_TMP/$label-hook.log.json"
    [ "$RC" = 143 ] || fail "$label hook: SIGTERM exit $RC: $(cat "$out")"
    [ "$(grep -c '^failed http-01 h[12].example.com$' "$calls")" = 2 ] || fail "$label hook: calls $(cat "$calls")"
    json_get "$out" .error.detail | grep -q "interrupted by SIGTERM" || fail "$label hook: $(cat "$out")"

    # The built-in http-01 server, SIGINT: stopped, and said so.
    local port
    take_port port
    run_and_interrupt INT "$E2E_TMP/$label-http.log" ": answering http-01" 1 \
        "${base[@]}" --challenges http-01 --http-port "$port" --bind 127.0.0.1 issue s1.example.com
    out="$E2E_TMP/$label-http.log.json"
    [ "$RC" = 130 ] || fail "$label http: exit $RC"
    json_get "$out" '.cleanup | join("\n")' | grep -q "stopped the http-01 server on port $port" ||
        fail "$label http: $(cat "$out")"
    # --deactivate none: the interrupted order stays pending, and a rerun
    # resumes it (interrupted again once it says so).
    run_and_interrupt INT "$E2E_TMP/$label-keep.log" ": answering http-01" 1 \
        "${base[@]}" --deactivate none --challenges http-01 --webroot "$web" issue k1.example.com
    [ "$RC" = 130 ] || fail "$label keep: exit $RC"
    local order
    order=$(grep -o 'order [^ ]* for k1.example.com' "$E2E_TMP/$label-keep.log" | awk '{print $2}')
    ! grep -q "deactivated" "$E2E_TMP/$label-keep.log" || fail "$label keep: deactivated with --deactivate none"
    run_and_interrupt INT "$E2E_TMP/$label-keep2.log" "resuming the order" 1 \
        "${base[@]}" --deactivate none --challenges http-01 --webroot "$web" issue k1.example.com
    grep -q "resuming the order $order of an earlier run (pending)" "$E2E_TMP/$label-keep2.log" ||
        fail "$label keep: the rerun did not resume $order"
    log "$label: SIGINT/SIGTERM cleaned up webroot files, hook, server and authorizations; a pending order resumed"
}

# aro-server and Pebble validate http-01 on these ports: tarpits there.
tarpit "$ARO_HTTP_PORT"
tarpit "$PEBBLE_HTTP_PORT"
cleanup_cases aro-server "$ARO_DIR_URL" "$ARO_CA"
cleanup_cases pebble "$PEBBLE_DIR_URL" "$PEBBLE_CA"

# Interrupted while the order is processing, then run again: the same
# order, resumed; no second order.
HOOK=$(make_dns_hook)
RB=(--server "$ARO_DIR_URL" --ca-bundle "$ARO_CA" --state "$E2E_TMP/st-resume" --agree-tos --json
    --challenges dns-01 --hook "$HOOK")
orders0=$(curl -sf --cacert "$ARO_CA" "$ARO_MGMT_URL/metrics" | awk '/^aro_orders_created_total/ {print $2}')
run_and_interrupt INT "$E2E_TMP/resume1.log" "finalizing order" 1 "${RB[@]}" issue resume.example.com
[ "$RC" = 130 ] || fail "resume: first run exit $RC"
first=$(grep -o 'finalizing order [^ ]*' "$E2E_TMP/resume1.log" | awk '{print $3}')
rc=0
"$ARO" "${RB[@]}" issue resume.example.com >"$E2E_TMP/resume2.json" 2>"$E2E_TMP/resume2.log" || rc=$?
cat "$E2E_TMP/resume2.log" >&2
[ "$rc" = 0 ] || fail "resume: rerun exit $rc: $(cat "$E2E_TMP/resume2.json")"
grep -q "resuming the order $first of an earlier run (processing)" "$E2E_TMP/resume2.log" ||
    fail "the rerun did not resume $first"
[ "$(json_get "$E2E_TMP/resume2.json" '.orders | join(" ")')" = "$first" ] || fail "resume: orders"
orders1=$(curl -sf --cacert "$ARO_CA" "$ARO_MGMT_URL/metrics" | awk '/^aro_orders_created_total/ {print $2}')
[ "$((orders1 - orders0))" = 1 ] || fail "resume: $((orders1 - orders0)) orders, not 1"
D="$E2E_TMP/st-resume/certs/resume.example.com"
[ "$(openssl x509 -in "$D/cert.pem" -noout -pubkey)" = "$(openssl pkey -in "$D/key.pem" -pubout)" ] ||
    fail "resume: the certificate is not for the saved key"
[ ! -e "$D/pending-key.pem" ] || fail "resume: the saved key was not cleared"
log "an interrupted finalization resumed: one order"
pass
