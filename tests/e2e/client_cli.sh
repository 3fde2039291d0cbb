#!/usr/bin/env bash
# aro's conventions and messages (issue 17): --version, aro help CMD, aro
# CMD --help, usage errors (exit 64, one line naming the one wrong option,
# JSON under --json) for every command; the default server (Let's Encrypt
# production, --staging, ARO_DIRECTORY), checked in a network namespace
# without any network; one line per result, never repeated on stderr;
# recovered problems as notes; TLS errors with a hint; account show's
# members once each; account update without --email refused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

S="$E2E_TMP/state"

# --version and help.
"$ARO" --version | grep -Eq '^aro [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
for c in account issue renew revoke list; do
    "$ARO" help "$c" >"$E2E_TMP/h1" || fail "aro help $c exited non-zero"
    "$ARO" "$c" --help >"$E2E_TMP/h2" || fail "aro $c --help exited non-zero"
    cmp -s "$E2E_TMP/h1" "$E2E_TMP/h2" || fail "aro help $c and aro $c --help differ"
    head -1 "$E2E_TMP/h1" | grep -q "^usage: aro \[OPTIONS\] $c" || fail "help $c: $(head -1 "$E2E_TMP/h1")"
done
"$ARO" help | grep -q "man aro" || fail "aro help does not point at the man page"
"$ARO" help issue | grep -q -- "--deploy-hook" || fail "help issue lacks --deploy-hook"

# usage_error EXPECTED_WORDS ARGS...: exit 64, one line on stderr naming
# the mistake, and with --json the usage object on stdout.
usage_error() {
    local words=$1 rc=0
    shift
    "$ARO" --state "$S" "$@" >"$E2E_TMP/u.out" 2>"$E2E_TMP/u.err" || rc=$?
    [ "$rc" = 64 ] || fail "aro $*: exit $rc, not 64"
    [ "$(wc -l <"$E2E_TMP/u.err")" = 1 ] || fail "aro $*: stderr is not one line: $(cat "$E2E_TMP/u.err")"
    grep -qF -- "$words" "$E2E_TMP/u.err" || fail "aro $*: \"$words\" not in: $(cat "$E2E_TMP/u.err")"
    rc=0
    "$ARO" --state "$S" --json "$@" >"$E2E_TMP/u.json" 2>/dev/null || rc=$?
    [ "$rc" = 64 ] || fail "aro --json $*: exit $rc"
    [ "$(jq -r '.result + " " + .error.type' "$E2E_TMP/u.json")" = "failed usage" ] ||
        fail "aro --json $*: $(cat "$E2E_TMP/u.json")"
}
usage_error "unknown option --htpp-port (did you mean --http-port?)" --htpp-port 5002 issue a.example.com
usage_error "unknown command \"isue\" (did you mean issue?)" isue a.example.com
usage_error "--http-port: \"80x\" is not a port" --http-port 80x issue a.example.com
usage_error "option --http-port needs a value" issue a.example.com --http-port
usage_error "issue needs at least one NAME" issue
usage_error "account update replaces the contacts" account update
usage_error "unknown account command \"shwo\" (did you mean show?)" account shwo
usage_error "option --force does not apply to list" list --force
usage_error "revoke wants one CERTFILE" revoke
usage_error "--reason: \"7\" is not a CRL reason code" revoke x.pem --reason 7
usage_error "--key-type: unknown key type \"rsa1024\"" issue a.example.com --key-type rsa1024
usage_error "--deactivate: \"some\" is not none, pending or all" renew --deactivate some
usage_error "no command given" --json

# The default server: Let's Encrypt, never reached from here (a network
# namespace with no network at all).
if unshare -n true 2>/dev/null; then
    rc=0
    env -u ARO_DIRECTORY unshare -n "$ARO" --state "$S" --json account show >"$E2E_TMP/d.json" 2>/dev/null || rc=$?
    [ "$rc" = 2 ] && json_get "$E2E_TMP/d.json" .error.detail | grep -q "https://acme-v02.api.letsencrypt.org/directory" ||
        fail "default server: $(cat "$E2E_TMP/d.json")"
    env -u ARO_DIRECTORY unshare -n "$ARO" --staging --state "$S" --json account show >"$E2E_TMP/d.json" 2>/dev/null || true
    json_get "$E2E_TMP/d.json" .error.detail | grep -q "https://acme-staging-v02.api.letsencrypt.org/directory" ||
        fail "--staging: $(cat "$E2E_TMP/d.json")"
    ARO_DIRECTORY=https://127.0.0.1:9/elsewhere unshare -n "$ARO" --state "$S" --json account show >"$E2E_TMP/d.json" 2>/dev/null || true
    json_get "$E2E_TMP/d.json" .error.detail | grep -q "https://127.0.0.1:9/elsewhere" ||
        fail "ARO_DIRECTORY: $(cat "$E2E_TMP/d.json")"
    log "default server Let's Encrypt, --staging, ARO_DIRECTORY (checked without any network)"
else
    log "SKIP (part): unshare -n not permitted here; the default server is not checked"
fi
"$ARO" help | grep -q "Let's Encrypt" || fail "help does not name the default server"

start_challtestsrv
start_pebble
A=(--server "$PEBBLE_DIR_URL" --state "$S")

# TLS: an untrusted CA gets the --ca-bundle hint; a missing bundle is named.
rc=0
"$ARO" "${A[@]}" account show >"$E2E_TMP/t.out" 2>"$E2E_TMP/t.err" || rc=$?
[ "$rc" = 2 ] || fail "untrusted CA: exit $rc"
grep -q -- "needs --ca-bundle FILE" "$E2E_TMP/t.out" || fail "no --ca-bundle hint: $(cat "$E2E_TMP/t.out")"
rc=0
"$ARO" "${A[@]}" --ca-bundle "$E2E_TMP/no-such-bundle.pem" account show >"$E2E_TMP/t.out" 2>&1 || rc=$?
grep -q -- "--ca-bundle $E2E_TMP/no-such-bundle.pem: No such file" "$E2E_TMP/t.out" ||
    fail "missing bundle not named: $(cat "$E2E_TMP/t.out")"
rc=0
"$ARO" "${A[@]}" --ca-bundle "$ARO_SOURCE_DIR/README.md" account show >"$E2E_TMP/t.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "cannot use the CA bundle $ARO_SOURCE_DIR/README.md" "$E2E_TMP/t.out" || fail "a bundle that is no bundle: $(cat "$E2E_TMP/t.out")"

A+=(--ca-bundle "$PEBBLE_CA")
"$ARO" "${A[@]}" --agree-tos --email a@example.com account new >/dev/null 2>&1 || fail "account new"
# account show: every member once (python's json keeps the last of two
# members of one name silently, and jq too: count them).
"$ARO" "${A[@]}" --json account show >"$E2E_TMP/show.json" 2>/dev/null || fail "account show"
"$E2E_PY" - "$E2E_TMP/show.json" <<'PY' || fail "account show: a member twice: $(cat "$E2E_TMP/show.json")"
import json, sys
def no_dups(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)
j = json.load(open(sys.argv[1]), object_pairs_hook=no_dups)
assert j["result"] == "shown" and j["account"]["status"] == "valid" and j["url"].startswith("https://"), j
assert j["account"]["contact"] == ["mailto:a@example.com"], j
PY
"$ARO" "${A[@]}" --json account show | jq -e '.account.contact == ["mailto:a@example.com"]' >/dev/null ||
    fail "contacts changed"
"$ARO" "${A[@]}" --no-email account update >/dev/null 2>&1 || fail "account update --no-email"

# One line per result: stdout has it once, stderr never.
rc=0
"$ARO" "${A[@]}" --http-port "$PEBBLE_HTTP_PORT" --bind 127.0.0.1 issue once.example.com \
    >"$E2E_TMP/o.out" 2>"$E2E_TMP/o.err" || rc=$?
[ "$rc" = 0 ] || fail "issue: $rc $(cat "$E2E_TMP/o.out")"
[ "$(wc -l <"$E2E_TMP/o.out")" = 1 ] && grep -q "^issued once.example.com: " "$E2E_TMP/o.out" || fail "result line"
! grep -q "issued once.example.com" "$E2E_TMP/o.err" || fail "the result is said twice (stderr too)"
# --quiet: nothing at all on success.
"$ARO" "${A[@]}" --quiet --http-port "$PEBBLE_HTTP_PORT" --bind 127.0.0.1 issue once.example.com \
    >"$E2E_TMP/q.out" 2>"$E2E_TMP/q.err" || fail "quiet issue"
[ ! -s "$E2E_TMP/q.out" ] && [ ! -s "$E2E_TMP/q.err" ] || fail "--quiet printed: $(cat "$E2E_TMP/q.out" "$E2E_TMP/q.err")"

# A recovered problem is a note: the legacy fallback's first order fails,
# the second passes; no "error:" on stderr.
HOOK=$(make_dns_hook)
rc=0
take_port recovered_port
"$ARO" "${A[@]}" --challenges http-01,dns-01 --http-port "$recovered_port" --bind 127.0.0.1 --hook "$HOOK" \
    issue recovered.example.com >"$E2E_TMP/r.out" 2>"$E2E_TMP/r.err" || rc=$?
cat "$E2E_TMP/r.err" >&2
[ "$rc" = 0 ] || fail "fallback: exit $rc"
grep -q "^aro: note: .*http-01" "$E2E_TMP/r.err" || fail "the recovered failure is not a note"
! grep -q "^aro: error:" "$E2E_TMP/r.err" || fail "a recovered problem was said as an error"
pass
