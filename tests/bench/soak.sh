#!/bin/bash
# Soak: sustained ACME load on one aro-server for MINUTES (default 2),
# sampling its memory and file descriptors every 10 s from /proc.
#
#   tests/bench/soak.sh [MINUTES] [CLIENTS]
#
# CLIENTS (default 6) threads of raw clients (tests/e2e/acme.py) run full
# issuances (newOrder, http-01 through challtestsrv, finalize, download),
# one flow in five with a validation that fails (nothing serves the token)
# and a re-enable, plus a stale-nonce request now and then (a 4xx the
# client retries), so the error paths soak too. Passes when
#   * no response was a 5xx (and no request failed at the transport);
#   * anonymous memory (RssAnon: heap, not the LMDB map, which grows with
#     the store by design) is flat: the last third of the samples is
#     within 10 % + 8 MiB of the first third after warm-up;
#   * the open file descriptors are flat (within 16).
# Prints one line per sample and a summary; docs/hardening.md quotes a
# 30-minute run. Bounded: the run stops at MINUTES, every request has a
# timeout, each client stops after 100000 flows. Loopback only.
set -u
src=${ARO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${ARO_BUILD_DIR:-$src/build}
minutes=${1:-2}
clients=${2:-6}
case "$minutes$clients" in *[!0-9.]*) echo "usage: soak.sh [MINUTES] [CLIENTS]" >&2; exit 2 ;; esac
[ -x "$build/aro-server" ] || { echo "soak.sh: no $build/aro-server (build first)" >&2; exit 2; }
export ARO_SOURCE_DIR=$src ARO_BUILD_DIR=$build SOAK_MINUTES=$minutes SOAK_CLIENTS=$clients
exec /usr/bin/python3 - <<'PY'
import os, sys, threading, time, random, collections, urllib.request, ssl, statistics
sys.path.insert(0, os.path.join(os.environ["ARO_SOURCE_DIR"], "tests", "e2e"))
import acme
from harness import Harness

MINUTES = float(os.environ["SOAK_MINUTES"])
CLIENTS = int(os.environ["SOAK_CLIENTS"])
statuses = collections.Counter()
transport_errors = collections.Counter()
flows = collections.Counter()
problems = collections.Counter()
lock = threading.Lock()


class Client(acme.Client):
    def post(self, url, payload, **kw):
        for _ in range(3):
            r = super().post(url, payload, **kw)
            with lock:
                statuses[r.status] += 1
                if r.status >= 400:
                    problems[f"{r.status} {r.problem}"] += 1
            if r.problem != "badNonce":
                return r
        return r


def proc_sample(pid):
    st = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "Threads"):
                st[k] = int(v.split()[0])
    st["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return st


def worker(n, srv, cts, stop):
    c = None
    for flow in range(100000):
        if stop.is_set():
            return
        try:
            if c is None:
                c = Client(srv.directory, srv.ca_file)
                c.new_account()
            fail = flow % 5 == 4
            name = f"s{n}-{flow}.example.com"
            r = c.new_order(name)
            if r.status != 201:
                with lock:
                    flows["order refused " + str(r.problem)] += 1
                time.sleep(0.5)
                continue
            az_url = r.json["authorizations"][0]
            az = c.authz(az_url).json
            ch = c.challenge_of(az, "http-01")
            if not fail:
                cts.add_http01(ch["token"], c.key_authz(ch["token"]))
            c.post(ch["url"], {})
            az = c.poll(az_url, lambda j: j["status"] != "pending", 30).json
            if fail:
                ro = az.get("retry-options")
                if ro:  # re-enable once with a challenge that will pass
                    pick = [x for x in ro["challenges"] if x["type"] == "http-01"]
                    if pick:
                        cts.add_http01(pick[0]["token"], c.key_authz(pick[0]["token"]))
                        # A little past notBefore: the server reads a coarse clock.
                        time.sleep(max(0, acme_time(ro.get("notBefore")) + 0.05 - time.time()))
                        c.post(ro["url"], {"challenge": pick[0]["url"]})
                        az = c.poll(az_url, lambda j: j["status"] != "pending", 30).json
            if az["status"] != "valid":
                with lock:
                    flows["failed validation"] += 1
                continue
            o = c.poll(r.url, lambda j: j["status"] in ("ready", "invalid"), 30).json
            csr, _ = c.csr_for([name])
            c.post(o["finalize"], {"csr": csr})
            o = c.poll(r.url, lambda j: j["status"] in ("valid", "invalid"), 30).json
            if o["status"] == "valid":
                c.get(o["certificate"])
            if flow % 7 == 0:
                # A stale nonce: badNonce, retried by the client above.
                c.nonce = "AAAAAAAAAAAAAAAAAAAAAA"
            with lock:
                flows["issued" if o["status"] == "valid" else "order " + o["status"]] += 1
        except Exception as e:
            with lock:
                transport_errors[type(e).__name__] += 1
            time.sleep(0.5)


def acme_time(s):
    if not s:
        return 0
    import calendar
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


with Harness() as h:
    cts = h.challtestsrv(http01=True)
    # Limits raised so that the soak measures the server, not its policy.
    srv = h.server(cts, config={"retryMinBackoffSeconds": 1, "failedValidationLimit": 100000,
                                "logLevel": 0})
    pid = srv.proc.pid
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(i, srv, cts, stop), daemon=True) for i in range(CLIENTS)]
    t0 = time.time()
    for t in threads:
        t.start()
    samples = []
    end = t0 + MINUTES * 60
    print(f"soak: {MINUTES} min, {CLIENTS} clients, aro-server pid {pid}", flush=True)
    while time.time() < end:
        time.sleep(min(10, max(0.1, end - time.time())))
        s = proc_sample(pid)
        s["t"] = time.time() - t0
        with lock:
            s["requests"] = sum(statuses.values())
            s["issued"] = flows["issued"]
        samples.append(s)
        print(f"  t={s['t']:6.0f}s  requests {s['requests']:7d}  issued {s['issued']:6d}  "
              f"RSS {s['VmRSS'] / 1024:7.1f} MiB  anon {s['RssAnon'] / 1024:6.1f} MiB  fds {s['fds']:4d}  "
              f"threads {s['Threads']}", flush=True)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    elapsed = time.time() - t0
    alive = srv.proc.poll() is None
    srv.stop()

total = sum(statuses.values())
fivexx = sum(v for k, v in statuses.items() if k >= 500)
print(f"soak: {elapsed:.0f} s, {total} ACME POSTs ({total / elapsed:.0f}/s), statuses {dict(sorted(statuses.items()))}")
print(f"soak: flows {dict(flows)}; problems {dict(problems)}; transport errors {dict(transport_errors)}")
ok = True
if not alive:
    print("FAIL: aro-server died during the soak"); ok = False
if fivexx:
    print(f"FAIL: {fivexx} responses were 5xx"); ok = False
if transport_errors:
    print(f"FAIL: {sum(transport_errors.values())} requests failed at the transport"); ok = False
if len(samples) >= 6:
    third = len(samples) // 3
    first = statistics.median(s["RssAnon"] for s in samples[1:third + 1])  # skip warm-up
    last = statistics.median(s["RssAnon"] for s in samples[-third:])
    fd0 = statistics.median(s["fds"] for s in samples[1:third + 1])
    fd1 = statistics.median(s["fds"] for s in samples[-third:])
    print(f"soak: anonymous memory {first / 1024:.1f} -> {last / 1024:.1f} MiB, fds {fd0:.0f} -> {fd1:.0f}")
    if last > first * 1.10 + 8 * 1024:
        print("FAIL: anonymous memory grew"); ok = False
    if fd1 > fd0 + 16:
        print("FAIL: file descriptors grew"); ok = False
else:
    print("soak: too short for the memory and fd trend (needs 6 samples, 1 min)")
print("soak: PASS" if ok else "soak: FAIL")
sys.exit(0 if ok else 1)
PY
