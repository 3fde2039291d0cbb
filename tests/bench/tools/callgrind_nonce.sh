#!/bin/bash
# The instructions aro-server executes per newNonce request (HEAD-less GET
# over HTTP/2, h2load -c4 -m8), counted by callgrind once the server
# answers: a figure two builds can be compared on however busy the machine
# is. Prints the requests and the instructions per request; the callgrind
# file is OUT.
#   tests/bench/tools/callgrind_nonce.sh [BUILD] [REQUESTS] [OUT]
set -u
here=$(cd "$(dirname "$0")/../../.." && pwd)
B=${1:-$here/build}; N=${2:-20000}; OUT=${3:-$B/callgrind-nonce.out}
D=$(mktemp -d "${TMPDIR:-/tmp}/aro-callgrind.XXXXXX")
R=$((20000 + RANDOM % 20000))
valgrind --tool=callgrind --callgrind-out-file=$OUT --dump-instr=no \
  $B/aro-server --data $D --listen 127.0.0.1:$R --manage 127.0.0.1:$((R+1)) --threads 2 --log-level 0 \
  > $D/server.log 2>&1 &
PID=$!
for i in $(seq 1 200); do curl -sk https://127.0.0.1:$R/directory >/dev/null && break; sleep 0.5; done
callgrind_control -z $PID >/dev/null 2>&1
OK=$(h2load -n $N -c 4 -m 8 https://127.0.0.1:$R/acme/new-nonce 2>&1 | awk '/^requests:/ {print $8}')
kill -TERM $PID; wait $PID
TOTAL=$(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "requests $OK instructions $TOTAL per request $((TOTAL / (OK > 0 ? OK : 1)))"
rm -rf $D
