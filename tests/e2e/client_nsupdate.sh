#!/usr/bin/env bash
# uacme's own /usr/share/uacme/nsupdate.sh, as Debian ships it, answers
# dns-01 for aro through RFC 2136 updates to a real BIND 9 (issue 17).
# nsupdate.sh finds the zone's primary through /etc/resolv.conf and port
# 53, so the whole test runs in a network and mount namespace of its own
# (unshare -m -n: only a loopback interface; /etc/resolv.conf replaced by
# a bind mount that only this namespace sees). named serves example.test
# there (as the zone "test", so that the CAs' CAA lookups up the tree get
# answers); aro-server and Pebble use it as their DNS. Needs root, bind9 and
# bind9-dnsutils (scripts/setup.sh); skipped otherwise.
set -euo pipefail
NSUPDATE_SH=/usr/share/uacme/nsupdate.sh
if [ -z "${ARO_IN_NETNS:-}" ]; then
    for p in named dig nsupdate unshare; do
        command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p missing (bind9, bind9-dnsutils)"; exit 77; }
    done
    [ -x "$NSUPDATE_SH" ] || { echo "SKIP: $NSUPDATE_SH missing (uacme)"; exit 77; }
    [ "$(id -u)" = 0 ] && unshare -m -n true 2>/dev/null ||
        { echo "SKIP: cannot make a network and mount namespace (needs root)"; exit 77; }
    ARO_IN_NETNS=1 exec unshare -m -n -- "$BASH" "$0" "$@"
fi

. "$(dirname "$0")/lib.sh"
ip link set lo up
(cd / && grep " ${NSUPDATE_SH#/}\$" /var/lib/dpkg/info/uacme.md5sums | md5sum -c --quiet) ||
    fail "$NSUPDATE_SH differs from the uacme package's"

# BIND 9: authoritative for test., dynamic updates from loopback.
NS="$E2E_TMP/named"
mkdir -p "$NS"
cat >"$NS/test.zone" <<'EOF2'
$TTL 60
@                IN SOA ns1.example.test. hostmaster.example.test. ( 1 60 60 600 1 )
@                IN NS  ns1.example.test.
ns1.example.test. IN A  127.0.0.1
EOF2
cat >"$NS/named.conf" <<EOF2
options {
    directory "$NS";
    pid-file "$NS/named.pid";
    session-keyfile "$NS/session.key";
    managed-keys-directory "$NS";
    listen-on port 53 { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
};
controls { };
zone "test" { type primary; file "$NS/test.zone"; allow-update { 127.0.0.1; }; };
EOF2
named -g -c "$NS/named.conf" >"$E2E_TMP/named.log" 2>&1 &
E2E_PIDS+=($!)
echo "nameserver 127.0.0.1" >"$E2E_TMP/resolv.conf"
mount --bind "$E2E_TMP/resolv.conf" /etc/resolv.conf
wait_until 20 sh -c 'dig +short ns1.example.test A | grep -q 127.0.0.1' || fail "named did not start"
export CTS_DNS=127.0.0.1:53
log "named: test. on 127.0.0.1:53 (this namespace's resolver)"

nsupdate_case() {
    local label=$1 dir=$2 ca=$3 rc=0
    "$ARO" --server "$dir" --ca-bundle "$ca" --state "$E2E_TMP/st-$label" --agree-tos --json \
        --challenges dns-01 --hook "$NSUPDATE_SH" --hook-timeout 60 issue "$label.example.test" \
        >"$E2E_TMP/run-$label.json" 2>"$E2E_TMP/run-$label.log" || rc=$?
    cat "$E2E_TMP/run-$label.log" >&2
    [ "$rc" = 0 ] || fail "$label: exit $rc: $(cat "$E2E_TMP/run-$label.json")"
    [ "$(json_get "$E2E_TMP/run-$label.json" '.attempts[0].type + " " + .attempts[0].outcome')" = "dns-01 valid" ] ||
        fail "$label: $(cat "$E2E_TMP/run-$label.json")"
    # nsupdate.sh's "done" removed the record again.
    [ -z "$(dig +short "_acme-challenge.$label.example.test" TXT)" ] || fail "$label: the TXT record stayed"
    log "$label: uacme's nsupdate.sh unchanged set and removed the TXT record in BIND"
}

start_aro_server
nsupdate_case aro-server "$ARO_DIR_URL" "$ARO_CA"
start_pebble
nsupdate_case pebble "$PEBBLE_DIR_URL" "$PEBBLE_CA"
pass
