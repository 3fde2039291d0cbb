#!/usr/bin/env bash
# dns-01 through a uacme-compatible hook: the five arguments exactly as
# uacme passes them (METHOD TYPE IDENT TOKEN AUTH, AUTH the TXT value) and
# the UACME_* variables, begin then done.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_challtestsrv
start_pebble
CALLS="$E2E_TMP/hook-calls"
HOOK="$E2E_TMP/hook.sh"
cat >"$HOOK" <<EOS
#!/bin/sh
echo "args \$# \$1 \$2 \$3 \$4 \$5" >>"$CALLS"
echo "env \$UACME_METHOD \$UACME_TYPE \$UACME_IDENT \$UACME_TOKEN \$UACME_AUTH" >>"$CALLS"
echo "this goes to stderr, not to aro's JSON"
[ "\$2" = dns-01 ] || exit 1
case "\$1" in
begin) curl -sS -X POST -d "{\"host\":\"_acme-challenge.\$3.\",\"value\":\"\$5\"}" "$CTS_MGMT/set-txt" >/dev/null ;;
*) curl -sS -X POST -d "{\"host\":\"_acme-challenge.\$3.\"}" "$CTS_MGMT/clear-txt" >/dev/null ;;
esac
EOS
chmod +x "$HOOK"
OUT="$E2E_TMP/out.json"

rc=0
aro_pebble --agree-tos --json --hook "$HOOK" --challenges dns-01 issue '*.wild.example.com' dns.example.com \
    >"$OUT" 2>"$E2E_TMP/aro.log" || rc=$?
cat "$E2E_TMP/aro.log" "$CALLS" >&2
[ "$rc" = 0 ] || fail "issue exited $rc"
jq -e . "$OUT" >/dev/null || fail "stdout is not JSON (a hook wrote to it?)"
[ "$(json_get "$OUT" '[.attempts[] | select(.type == "dns-01" and .outcome == "valid")] | length')" = 2 ] ||
    fail "attempts: $(cat "$OUT")"
grep -q "^args 5 begin dns-01 dns.example.com " "$CALLS" || fail "begin arguments"
grep -q "^args 5 done dns-01 dns.example.com " "$CALLS" || fail "done arguments"
grep -q "^args 5 begin dns-01 wild.example.com " "$CALLS" || fail "wildcard identifier arguments"
grep -q "^env begin dns-01 dns.example.com " "$CALLS" || fail "UACME_* variables"
# AUTH is the TXT value: 43 base64url characters, same in argument and env.
A=$(grep "^args 5 begin dns-01 dns.example.com " "$CALLS" | awk '{print $7}')
E=$(grep "^env begin dns-01 dns.example.com " "$CALLS" | awk '{print $6}')
[ "${#A}" = 43 ] && [ "$A" = "$E" ] || fail "AUTH is not the dns-01 TXT value ($A / $E)"
[ -s "$E2E_TMP/state/certs/_.wild.example.com/fullchain.pem" ] || fail "wildcard certificate missing"

# A hook that declines (exit 1) every type: skipped attempts, exit 2.
rc=0
aro_pebble --json --hook /bin/false --challenges dns-01 issue declined.example.com >"$OUT" 2>"$E2E_TMP/aro2.log" || rc=$?
cat "$E2E_TMP/aro2.log" >&2
[ "$rc" = 2 ] || fail "all declined exited $rc"
[ "$(json_get "$OUT" '.attempts[0].outcome')" = skipped ] || fail "declined attempt not skipped"
pass
