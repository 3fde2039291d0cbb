#!/usr/bin/env bash
# The main job, in under a minute: aro-server on embedded defaults (plus
# --dns, so nothing leaves this machine) and aro getting a certificate
# from it for demo.example.com with --challenges http-01,dns-01, where
# http-01 cannot pass (aro's http-01 responder is not on the port the
# server validates, as when port 80 is blocked) and dns-01 goes through a
# hook that sets the TXT record in pebble-challtestsrv. aro asks for
# pending-hold (the server's directory advertises it), so the failure
# leaves the authorization pending with an offer, and aro answers the
# offered dns-01 in the same order: one order, the failed attempt, the
# held one, the certificate, no re-enable and no second order (the design
# the benchmark favours, docs/benchmarks.md). Then it stops all it started.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh"
build=${ARO_BUILD_DIR:-$top/build}

work=$(mktemp -d /tmp/aro-demo-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DNS=$(port); MGMT=$(port)
pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 127.0.0.1:$DNS \
  -management 127.0.0.1:$MGMT -http01 "" -https01 "" -tlsalpn01 "" >"$work/challtestsrv.log" 2>&1 &
pids+=($!)

# aro-server on its embedded defaults: https://127.0.0.1:14000/directory,
# http-01 validated on port 5002, management on 127.0.0.1:15000.
(cd "$work" && exec "$build/aro-server" --dns 127.0.0.1:$DNS) >"$work/aro-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -sf --cacert "$work/aro-data/https-cert.pem" https://127.0.0.1:14000/directory >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== aro-server is up: https://127.0.0.1:14000/directory (retry-options on), DNS via pebble-challtestsrv"
echo "== aro issue demo.example.com --challenges http-01,dns-01   (http-01 blocked: responder on the wrong port)"
set +e
CTS_MGMT=127.0.0.1:$MGMT "$build/aro" issue demo.example.com \
  --server https://127.0.0.1:14000/directory --ca-bundle "$work/aro-data/https-cert.pem" --state "$work/aro-state" --agree-tos \
  --email demo@example.com --challenges http-01,dns-01 --http-port 5999 \
  --hook "$top/scripts/hooks/challtestsrv-dns01.sh" --json >"$work/result.json" 2>"$work/aro.log"
rc=$?
set -e
echo "== aro's progress (stderr):"
sed 's/^/   /' "$work/aro.log"
echo "== what happened (from aro --json):"
python3 - "$work/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"   result: {r['result']}   orders used: {len(r['orders'])}")
for a in r["attempts"]:
    prob = (a["problem"] or "").replace("urn:ietf:params:acme:error:", "")
    print(f"   {a['identifier']}: {a['type']:<11} {a['outcome']:<8} via {a['via']:<13} {prob}")
if r["certificate"]:
    print(f"   certificate: {r['certificate']}")
if r["error"]:
    print(f"   error: {r['error']['detail']}")
PY
if [ $rc -eq 0 ]; then
  openssl x509 -in "$work/aro-state/certs/demo.example.com/cert.pem" -noout -subject -issuer -ext subjectAltName 2>/dev/null | sed 's/^/   /'
  echo "== server counters: $(curl -s --cacert "$work/aro-data/https-cert.pem" https://127.0.0.1:15000/metrics \
    | grep -E '^aro_(orders_created_total|authorizations_created_total|reenables_total\{result="accepted"\})' \
    | tr '\n' ' ')"
  echo "== one order, one authorization held pending through the failure, no re-enable, no new order:"
  echo "   retry-options' pending-hold at work (aro --retry-options reenable would re-enable it instead)."
fi
exit $rc
