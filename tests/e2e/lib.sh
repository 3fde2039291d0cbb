# Shared shell library for the end-to-end tests. Source it from a test
# script running under `set -euo pipefail`:
#
#   . "$(dirname "$0")/lib.sh"
#   start_challtestsrv; start_pebble
#   ... "$ARO" --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA" ...
#   pass
#
# Everything a test starts is stopped, and every temporary directory
# removed, by the EXIT trap. Every wait is bounded. Nothing listens or
# resolves outside loopback (design/clarifications.md, "Network and DNS").

: "${ARO_BUILD_DIR:?ARO_BUILD_DIR must name the build directory}"
: "${ARO_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
ARO="$ARO_BUILD_DIR/aro"
# aro's default CA is Let's Encrypt: a test that forgets --server must fail
# on loopback, never reach it (contracts.md, ARO_DIRECTORY).
export ARO_DIRECTORY="https://127.0.0.1:9/no-server-given-to-aro"

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aro-e2e.XXXXXX")
E2E_PIDS=()
E2E_PORTS=" "
# The system python (a pyenv shim on PATH costs seconds per call).
if [ -x /usr/bin/python3 ]; then E2E_PY=/usr/bin/python3; else E2E_PY=python3; fi

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Print the last lines of every log we started, to explain a failure.
dump_logs() {
    local f
    for f in "$E2E_TMP"/*.log; do
        [ -f "$f" ] || continue
        echo "----- $(basename "$f") (last 40 lines)" >&2
        tail -n 40 "$f" >&2
    done
}

fail() {
    echo "FAIL: $*" >&2
    dump_logs
    exit 1
}

pass() {
    echo "PASS: $(basename "$0" .sh)" >&2
    exit 0
}

e2e_cleanup() {
    local rc=$?
    local pid
    for pid in "${E2E_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${E2E_PIDS[@]}"; do
        # bounded: give each a moment, then insist
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    release_ports
    if [ -n "${E2E_KEEP:-}" ]; then
        echo "kept $E2E_TMP" >&2
    else
        rm -rf "$E2E_TMP"
    fi
    exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# take_port VAR: set VAR to a loopback port reserved for this test, free for
# TCP and UDP, never handed out twice, also not to another test running at
# the same time: the protocol of ports.py (outside the ephemeral range, an
# exclusive flock on $ARO_PORT_DIR/PORT held until the test ends). It sets a
# variable instead of printing because $(...) would run it in a subshell,
# which would drop the lock (and forget the ports already handed out).
E2E_PORT_DIR=${ARO_PORT_DIR:-${TMPDIR:-/tmp}/aro-test-ports}
E2E_PORT_FDS=()
read -r _eph_lo _eph_hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { _eph_lo=32768; _eph_hi=60999; }
if [ $((_eph_lo - 10000)) -ge $((65535 - _eph_hi)) ]; then
    E2E_PORT_LO=10000 E2E_PORT_SPAN=$((_eph_lo - 10000))
else
    E2E_PORT_LO=$((_eph_hi + 1)) E2E_PORT_SPAN=$((65535 - _eph_hi))
fi
take_port() {
    local __var=$1 p i fd path
    mkdir -p "$E2E_PORT_DIR"
    for i in $(seq 1 1000); do
        p=$((E2E_PORT_LO + (RANDOM * 32768 + RANDOM) % E2E_PORT_SPAN))
        case " 14000 15000 8053 8055 $E2E_PORTS" in *" $p "*) continue ;; esac
        path="$E2E_PORT_DIR/$p"
        { exec {fd}<>"$path"; } 2>/dev/null || continue
        if flock -n "$fd" &&
            [ "$(stat -L -c %d:%i "/dev/fd/$fd")" = "$(stat -c %d:%i "$path" 2>/dev/null)" ]; then
            if "$E2E_PY" - "$p" 2>/dev/null <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", int(sys.argv[1])))
EOF
            then
                E2E_PORTS="$E2E_PORTS$p "
                E2E_PORT_FDS+=("$fd:$path")
                printf -v "$__var" '%s' "$p"
                return 0
            fi
            rm -f "$path"   # ours, but something else listens there
        fi
        exec {fd}>&-
    done
    fail "no free port found"
}

# Give every reserved port back (the EXIT trap does, once all is stopped).
release_ports() {
    local e fd
    for e in "${E2E_PORT_FDS[@]}"; do
        fd=${e%%:*}
        rm -f "${e#*:}"     # while still holding the lock
        { exec {fd}>&-; } 2>/dev/null || true
    done
    E2E_PORT_FDS=()
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds.
wait_until() {
    local limit=$1
    shift
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# wait_ready PID CMD...: wait until CMD succeeds, for at most
# E2E_START_TIMEOUT seconds (default 60: a loaded machine, two suites at
# once, sanitizers, can take many seconds to start a server; the wait ends
# as soon as it is ready), and not at all once process PID has exited.
E2E_START_TIMEOUT=${ARO_TEST_START_TIMEOUT:-60}
wait_ready() {
    local pid=$1
    shift
    local end=$((SECONDS + E2E_START_TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || { log "process $pid exited before it was ready"; return 1; }
        [ "$SECONDS" -lt "$end" ] || { log "not ready after ${E2E_START_TIMEOUT}s"; return 1; }
        sleep 0.1
    done
}

# pebble-challtestsrv with every listener on a free loopback port; answers
# A queries with 127.0.0.1 and no AAAA. Exports CTS_DNS (host:port for
# -dnsserver / --dns), CTS_MGMT (http://127.0.0.1:PORT), CTS_HTTP01_PORT,
# CTS_TLSALPN01_PORT.
start_challtestsrv() {
    local dns mgmt http https alpn
    take_port dns; take_port mgmt; take_port http; take_port https; take_port alpn
    pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
        -dns01 "127.0.0.1:$dns" -http01 "127.0.0.1:$http" -https01 "127.0.0.1:$https" \
        -tlsalpn01 "127.0.0.1:$alpn" -management "127.0.0.1:$mgmt" \
        >"$E2E_TMP/challtestsrv.log" 2>&1 &
    E2E_PIDS+=($!)
    export CTS_DNS="127.0.0.1:$dns" CTS_MGMT="http://127.0.0.1:$mgmt"
    export CTS_HTTP01_PORT=$http CTS_TLSALPN01_PORT=$alpn
    wait_ready "${E2E_PIDS[-1]}" curl -s --max-time 5 -o /dev/null -X POST -d '{}' "$CTS_MGMT/dns-request-history" ||
        fail "pebble-challtestsrv did not start"
    log "challtestsrv: dns $CTS_DNS, management $CTS_MGMT"
}

cts_post() {
    curl -sS --max-time 10 -X POST -d "$2" "$CTS_MGMT/$1" >/dev/null
}

# cts_set_txt NAME VALUE: TXT for _acme-challenge.NAME.
cts_set_txt() {
    cts_post set-txt "{\"host\":\"_acme-challenge.${1%.}.\",\"value\":\"$2\"}"
}

cts_clear_txt() {
    cts_post clear-txt "{\"host\":\"_acme-challenge.${1%.}.\"}"
}

# cts_add_http01 TOKEN CONTENT: challtestsrv answers http-01 itself.
cts_add_http01() {
    cts_post add-http01 "{\"token\":\"$1\",\"content\":\"$2\"}"
}

# Make a throwaway CA and a certificate for 127.0.0.1/localhost in DIR.
# Prints nothing; writes DIR/ca.pem, DIR/cert.pem, DIR/key.pem.
make_tls_cert() {
    local d=$1
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=aro e2e test root" -keyout "$d/ca-key.pem" -out "$d/ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        >/dev/null 2>&1 || fail "openssl: cannot make the test root"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
        -keyout "$d/key.pem" -out "$d/req.pem" >/dev/null 2>&1 ||
        fail "openssl: cannot make the test CSR"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$d/ext.cnf"
    openssl x509 -req -in "$d/req.pem" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
        -days 2 -extfile "$d/ext.cnf" -out "$d/cert.pem" >/dev/null 2>&1 ||
        fail "openssl: cannot sign the test certificate"
}

# start_pebble [EXTRA_JSON_MEMBERS]: Pebble on free ports, validating
# against challtestsrv's DNS. EXTRA_JSON_MEMBERS is inserted into the
# "pebble" object, e.g. '"externalAccountBindingRequired": true, ...'.
# Exports PEBBLE_DIR_URL, PEBBLE_CA, PEBBLE_HTTP_PORT, PEBBLE_TLS_PORT,
# PEBBLE_MGMT_URL.
start_pebble() {
    local extra=${1:-}
    [ -n "${CTS_DNS:-}" ] || fail "start_challtestsrv before start_pebble"
    local d="$E2E_TMP/pebble" listen mgmt http tls
    make_tls_cert "$d"
    take_port listen; take_port mgmt; take_port http; take_port tls
    cat >"$d/config.json" <<EOF
{"pebble": {
  "listenAddress": "127.0.0.1:$listen",
  "managementListenAddress": "127.0.0.1:$mgmt",
  "certificate": "$d/cert.pem",
  "privateKey": "$d/key.pem",
  "httpPort": $http,
  "tlsPort": $tls,
  "ocspResponderURL": ""${extra:+,
  $extra}
}}
EOF
    # AUTHZREUSE=0 still reuses an account's valid authorization for 1% of
    # orders (wfe.go newOrder: rand.Intn(100) > authzReusePercent): a later
    # order that must validate needs a fresh name or account.
    (cd "$d" && PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
        exec pebble -config "$d/config.json" -dnsserver "$CTS_DNS") >"$E2E_TMP/pebble.log" 2>&1 &
    E2E_PIDS+=($!)
    export PEBBLE_DIR_URL="https://127.0.0.1:$listen/dir" PEBBLE_CA="$d/ca.pem"
    export PEBBLE_HTTP_PORT=$http PEBBLE_TLS_PORT=$tls PEBBLE_MGMT_URL="https://127.0.0.1:$mgmt"
    wait_ready "${E2E_PIDS[-1]}" curl -sf --max-time 5 --cacert "$PEBBLE_CA" "$PEBBLE_DIR_URL" || fail "pebble did not start"
    log "pebble: $PEBBLE_DIR_URL (http-01 on $http, tls-alpn-01 on $tls)"
}

# start_aro_server [ARGS...]: aro-server on free ports, its DNS pointed at
# challtestsrv. Exports ARO_DIR_URL, ARO_CA, ARO_MGMT_URL, ARO_HTTP_PORT,
# ARO_TLS_PORT, ARO_DATA.
start_aro_server() {
    [ -n "${CTS_DNS:-}" ] || fail "start_challtestsrv before start_aro_server"
    [ -x "$ARO_BUILD_DIR/aro-server" ] || fail "aro-server is not built in $ARO_BUILD_DIR"
    local listen mgmt http tls
    take_port listen; take_port mgmt; take_port http; take_port tls
    export ARO_DATA="$E2E_TMP/aro-server"
    mkdir -p "$ARO_DATA"
    "$ARO_BUILD_DIR/aro-server" --listen "127.0.0.1:$listen" --manage "127.0.0.1:$mgmt" \
        --data "$ARO_DATA" --http-port "$http" --tls-port "$tls" --dns "$CTS_DNS" "$@" \
        >"$E2E_TMP/aro-server.log" 2>&1 &
    E2E_PIDS+=($!)
    export ARO_DIR_URL="https://127.0.0.1:$listen/directory" ARO_CA="$ARO_DATA/https-cert.pem"
    export ARO_MGMT_URL="https://127.0.0.1:$mgmt" ARO_HTTP_PORT=$http ARO_TLS_PORT=$tls
    wait_ready "${E2E_PIDS[-1]}" sh -c "[ -f '$ARO_CA' ] && curl -sf --max-time 5 --cacert '$ARO_CA' '$ARO_DIR_URL'" ||
        fail "aro-server did not start"
    log "aro-server: $ARO_DIR_URL"
}

# A dns-01 hook for aro (uacme's protocol) that sets and clears TXT records
# in challtestsrv; declines every other type. Prints its path.
make_dns_hook() {
    local h="$E2E_TMP/dns-hook.sh"
    cat >"$h" <<EOF
#!/bin/sh
# uacme hook: METHOD TYPE IDENT TOKEN AUTH
[ "\$2" = "dns-01" ] || exit 1
case "\$1" in
begin) curl -sS --max-time 10 -X POST -d "{\"host\":\"_acme-challenge.\$3.\",\"value\":\"\$5\"}" "$CTS_MGMT/set-txt" >/dev/null ;;
done|failed) curl -sS --max-time 10 -X POST -d "{\"host\":\"_acme-challenge.\$3.\"}" "$CTS_MGMT/clear-txt" >/dev/null ;;
esac
EOF
    chmod +x "$h"
    echo "$h"
}

# Run aro against Pebble with a fresh state directory per test. Extra
# arguments follow. Output: stdout to $E2E_TMP/out.json, stderr to aro.log.
# ARO_WRAPPER (e.g. "valgrind -q --leak-check=full --error-exitcode=99")
# runs aro under a tool.
aro_pebble() {
    ${ARO_WRAPPER:-} "$ARO" --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA" --state "$E2E_TMP/state" "$@"
}

# json_get FILE JQ_FILTER
json_get() {
    jq -r "$2" "$1"
}
