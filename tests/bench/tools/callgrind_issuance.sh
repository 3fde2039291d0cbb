#!/bin/bash
# The instructions aro-server executes for N healthy one-name issuances
# (4 workers of aro-loadgen), counted by callgrind: unlike time, the count
# does not depend on what else the machine is doing, so two builds can be
# compared on a busy machine. Counting starts once the server answers (its
# start-up, CA keys and all, is left out). Prints the issued count, the
# instructions per issuance and those outside JWS verification (the number
# of polls varies with timing); the callgrind file is OUT (read it with
# callgrind_annotate [--inclusive=yes]).
#   tests/bench/tools/callgrind_issuance.sh [BUILD] [N] [OUT]
set -u
here=$(cd "$(dirname "$0")/../../.." && pwd)
B=${1:-$here/build}; N=${2:-40}; OUT=${3:-$B/callgrind-issuance.out}
D=$(mktemp -d "${TMPDIR:-/tmp}/aro-callgrind.XXXXXX")
R=$((20000 + RANDOM % 20000)); HP=$R; LP=$((R+1)); MP=$((R+2)); DNS=$((R+3)); CM=$((R+4))
pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 127.0.0.1:$DNS -management 127.0.0.1:$CM \
  -http01 "" -https01 "" -tlsalpn01 "" > $D/cts.log 2>&1 &
CPID=$!
sleep 1
valgrind --tool=callgrind --callgrind-out-file=$OUT --dump-instr=no \
  $B/aro-server --data $D --listen 127.0.0.1:$LP --manage 127.0.0.1:$MP --http-port $HP --dns 127.0.0.1:$DNS \
  --threads 2 --log-level 0 > $D/server.log 2>&1 &
PID=$!
for i in $(seq 1 200); do curl -sk https://127.0.0.1:$LP/directory >/dev/null && break; sleep 0.5; done
callgrind_control -z $PID >/dev/null 2>&1
$B/tests/bench/aro-loadgen --directory https://127.0.0.1:$LP/directory --ca $D/https-cert.pem --http-port $HP \
  --challtestsrv http://127.0.0.1:$CM --concurrency 4 --flows $N --prefix cg$RANDOM > $D/loadgen.json 2> $D/loadgen.err
kill -TERM $PID; wait $PID; kill $CPID
TOTAL=$(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
# The number of polls (each a JWS verification, about 0.9M instructions)
# depends on timing, which valgrind changes from run to run: compare two
# builds by the instructions outside jws_verify as well (since 2c7d17e
# jws_verify_prepared, which jws_verify calls, holds all of them).
JWS=$(callgrind_annotate --inclusive=yes --threshold=100 "$OUT" 2>/dev/null | awk '
  / \?\?\?:jws_verify_prepared / {gsub(",", "", $1); p = $1}
  / \?\?\?:jws_verify / {gsub(",", "", $1); v = $1}
  END {print p != "" ? p : v}')
python3 -c "import json;d=json.load(open('$D/loadgen.json'));i=max(d['issued'],1);print('issued',d['issued'],'problems',d.get('problems'));print('instructions', $TOTAL, 'per issuance', round($TOTAL/i));print('outside jws_verify per issuance', round(($TOTAL-${JWS:-0})/i))"
rm -rf $D
