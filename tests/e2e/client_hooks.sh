#!/usr/bin/env bash
# Hooks as a sysadmin brings them (issue 17):
#  - uacme's own /usr/share/uacme/uacme.sh, byte for byte as Debian ships
#    it, answers http-01 through UACME_CHALLENGE_PATH inherited from aro's
#    environment (a web server serves that directory), against aro-server
#    and Pebble;
#  - a hook that hangs: progress while aro waits, the --hook-timeout
#    limit, and the hook's whole process group (its child too) killed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

UACME_SH=/usr/share/uacme/uacme.sh
[ -x "$UACME_SH" ] || { echo "SKIP: $UACME_SH missing (Debian's uacme)"; exit 77; }
# The hook as shipped: the package's own checksum.
(cd / && grep " ${UACME_SH#/}\$" /var/lib/dpkg/info/uacme.md5sums | md5sum -c --quiet) ||
    fail "$UACME_SH differs from the uacme package's"

start_challtestsrv
start_aro_server
start_pebble

# serve_webroot DIR PORT: a plain web server for the http-01 files.
serve_webroot() {
    "$E2E_PY" -m http.server "$2" --bind 127.0.0.1 --directory "$1" >"$E2E_TMP/web-$2.log" 2>&1 &
    E2E_PIDS+=($!)
    wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$2/" || fail "web server on $2 did not start"
}

uacme_sh() {
    local label=$1 dir=$2 ca=$3 port=$4
    local web="$E2E_TMP/www-$label"
    mkdir -p "$web/.well-known/acme-challenge"
    serve_webroot "$web" "$port"
    local rc=0
    UACME_CHALLENGE_PATH="$web/.well-known/acme-challenge" \
        "$ARO" --server "$dir" --ca-bundle "$ca" --state "$E2E_TMP/state-$label" --agree-tos --json \
        --challenges http-01 --hook "$UACME_SH" issue uacme-sh.example.com \
        >"$E2E_TMP/$label.json" 2>"$E2E_TMP/$label.log" || rc=$?
    cat "$E2E_TMP/$label.log" >&2
    [ "$rc" = 0 ] || fail "$label: aro with uacme.sh exited $rc: $(cat "$E2E_TMP/$label.json")"
    [ "$(json_get "$E2E_TMP/$label.json" '.attempts[0].type + " " + .attempts[0].outcome')" = "http-01 valid" ] ||
        fail "$label: attempts $(cat "$E2E_TMP/$label.json")"
    # uacme.sh's "done" removed its file again.
    [ -z "$(ls -A "$web/.well-known/acme-challenge")" ] || fail "$label: uacme.sh's done left files"
    log "$label: uacme.sh unchanged answered http-01 through UACME_CHALLENGE_PATH"
}
uacme_sh aro-server "$ARO_DIR_URL" "$ARO_CA" "$ARO_HTTP_PORT"
uacme_sh pebble "$PEBBLE_DIR_URL" "$PEBBLE_CA" "$PEBBLE_HTTP_PORT"

# A hook that never answers "begin", with a child of its own.
HANG="$E2E_TMP/hang.sh"
cat >"$HANG" <<EOS
#!/bin/sh
[ "\$1" = begin ] || exit 0
sleep 300 &
echo \$! >"$E2E_TMP/child.pid"
wait
EOS
chmod +x "$HANG"
rc=0
"$ARO" --server "$ARO_DIR_URL" --ca-bundle "$ARO_CA" --state "$E2E_TMP/state-hang" --agree-tos --json \
    --challenges dns-01 --hook "$HANG" --hook-timeout 7 issue hang.example.com \
    >"$E2E_TMP/hang.json" 2>"$E2E_TMP/hang.log" || rc=$?
cat "$E2E_TMP/hang.log" >&2
[ "$rc" = 2 ] || fail "a hanging hook: exit $rc"
grep -q "hook $HANG begin dns-01 hang.example.com: still running after [0-9]* s" "$E2E_TMP/hang.log" ||
    fail "no progress while the hook ran"
grep -q "no answer in 7 s (--hook-timeout)" "$E2E_TMP/hang.log" || fail "the timeout was not said"
child=$(cat "$E2E_TMP/child.pid")
# The hook's child ended with it (or is a zombie waiting for init).
for _ in $(seq 50); do
    state=$(awk '{print $3}' "/proc/$child/stat" 2>/dev/null || echo gone)
    [ "$state" = gone ] || [ "$state" = Z ] && break
    sleep 0.1
done
[ "$state" = gone ] || [ "$state" = Z ] || fail "the hook's child $child is still running ($state)"
json_get "$E2E_TMP/hang.json" .error.detail | grep -q "timed out after 7 s" ||
    fail "the result does not say the hook timed out: $(cat "$E2E_TMP/hang.json")"
log "a hanging hook: progress, killed with its child at --hook-timeout"
pass
