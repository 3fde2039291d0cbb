"""Throughput part of tests/bench/run: aro-server against Pebble 2.4 on
full healthy flows, newNonce/directory rates (h2load), the crypto floor
(openssl speed), what bounds throughput (tmpfs store, perf call graphs),
and Pebble's stall: the highest concurrency at which it still answers,
the CPU per certificate of both servers there, and, when it stops
answering, every goroutine's stack (SIGQUIT), trimmed to the blocked ones
(docs/benchmarks.md, "Pebble")."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from bench_common import free_port, log, metric_sum, proc_cpu_s, run_loadgen

# aro-server's levels; Pebble climbs its ladder until it stops answering.
LEVELS = [1, 8, 64]
PEBBLE_LADDER = [1, 2, 4, 8, 16, 32, 64]
PEBBLE_TRIALS = 3       # a level counts as answered when this many runs in a row finish
ARO_SECONDS = 15
PEBBLE_SECONDS = 8

# ---------------------------------------------------------------------------
# The crypto floor: what one certificate needs in public-key operations.


def crypto_floor(runs=3):
    """openssl speed -mr ecdsap256: seconds per P-256 sign and verify (one
    core), the median of a few one-second runs: a single one moves by a
    fifth with what else the machine runs at that second. Every key here is
    P-256: account keys (ES256 JWS), the CSR key, the issuing CA key
    (aro-server's default ECDSA P-256 intermediate)."""
    signs, verifies = [], []
    for _ in range(runs):
        r = subprocess.run(["openssl", "speed", "-seconds", "1", "-mr", "ecdsap256"], capture_output=True, text=True)
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith("+F4:")), None)
        if not line:
            raise RuntimeError("cannot read openssl speed output:\n" + r.stdout + r.stderr)
        f = line.split(":")
        signs.append(1 / float(f[3]))
        verifies.append(1 / float(f[4]))
    return {"p256_sign_s": sorted(signs)[len(signs) // 2], "p256_verify_s": sorted(verifies)[len(verifies) // 2],
            "p256_verify_s_runs": verifies}


def with_floor(row, floor):
    """The row's crypto floor per certificate (one verification per JWS the
    server checked and one for the CSR, one signature) and its ratio."""
    jws = row.get("jws_per_cert")
    if jws and row["server_cpu_s_per_cert"]:
        fl = (jws + 1) * floor["p256_verify_s"] + floor["p256_sign_s"]
        row["crypto_floor_s_per_cert"] = fl
        row["cpu_over_floor"] = row["server_cpu_s_per_cert"] / fl
    return row


# ---------------------------------------------------------------------------
# h2load: newNonce and directory requests per second.

def h2load(url, seconds, clients=16, streams=8, quick=False):
    args = ["h2load", "-c", str(clients), "-m", str(streams), "-t", "1"]
    args += ["-n", "2000"] if quick else ["-D", str(seconds)]
    r = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 60)
    m = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", r.stdout)
    ok = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed", r.stdout)
    return {"rps": float(m.group(1)) if m else 0.0, "succeeded": int(ok.group(1)) if ok else 0,
            "failed": int(ok.group(2)) if ok else -1}


# ---------------------------------------------------------------------------
# Pebble's goroutines when it stops answering.

def goroutines(text):
    """The goroutine dump of a Go program's SIGQUIT: (header, frames)."""
    out = []
    for block in re.split(r"\n(?=goroutine \d+ \[)", text[text.find("goroutine "):]):
        # A goroutine's stack ends at a blank line; after the last one the
        # runtime prints the signal's registers.
        lines = block.strip().split("\n\n", 1)[0].splitlines()
        if lines and lines[0].startswith("goroutine "):
            out.append((lines[0], lines[1:]))
    return out


def trimmed_dump(text):
    """The blocked goroutines that are in Pebble's code, their frames down
    to the HTTP server (function and file:line), identical stacks counted
    once; then how many goroutines there were in each state."""
    stacks, states = {}, {}
    for head, frames in goroutines(text):
        state = head.split("[", 1)[1].split("]", 1)[0].split(",")[0]
        states[state] = states.get(state, 0) + 1
        if "pebble" not in "".join(frames) or state not in ("semacquire", "sync.RWMutex.Lock", "sync.Mutex.Lock"):
            continue
        keep = []
        for i in range(0, len(frames) - 1, 2):
            fn, where = frames[i].strip(), frames[i + 1].strip().split(" ")[0]
            if fn.startswith(("runtime.", "net/http.", "created by")):
                continue
            keep.append(f"    {re.sub(r'[(][^()]*[)]$', '(...)', fn)}  {where.split('/pebble/')[-1]}")
        stacks.setdefault("\n".join(keep), []).append(head.split(" [")[0])
    L = [f"{len(ids)} goroutine(s) ({', '.join(ids[:4])}{' ...' if len(ids) > 4 else ''}) [semacquire]:\n{s}\n"
         for s, ids in sorted(stacks.items(), key=lambda kv: -len(kv[1]))]
    L.append("goroutines by state: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------------------

def one_run(h, cts, kind, c, seconds, floor, data=None):
    """One fresh server (aro-server or Pebble), one aro-loadgen run at
    concurrency c: the row, and for a Pebble that stopped answering its
    trimmed goroutine dump."""
    lport = free_port()
    cts.http_port = lport        # the server validates http-01 at the load generator
    srv = h.server(cts, data=data) if kind == "aro-server" else h.pebble(cts)
    dns0 = proc_cpu_s(cts.proc.pid)
    d = run_loadgen(srv, cts, lport, ["--concurrency", str(c), "--duration", str(seconds), "--timeout", "10"],
                    srv.proc.pid, metrics=(kind == "aro-server"))
    dns_cpu = proc_cpu_s(cts.proc.pid) - dns0
    dump = None
    if kind == "pebble" and d["flow_errors"]:
        os.kill(srv.proc.pid, signal.SIGQUIT)
        time.sleep(2)
        dump = trimmed_dump(open(srv.log_path, errors="replace").read())
    srv.stop()
    h.procs.remove(srv)
    md = d.get("metrics_delta", {})
    issued = d["issued"]
    cpu = d["server"]["cpu_us"] / 1e6
    jws = metric_sum(md, "aro_jws_verifications_total") if md else None
    row = {"server": kind, "concurrency": c, "issued": issued, "flow_errors": d["flow_errors"],
           "seconds": d["wall_us"] / 1e6, "certs_per_second": float(d["certs_per_second"]),
           "p50_ms": d["latency"]["p50_us"] / 1000, "p90_ms": d["latency"]["p90_us"] / 1000,
           "p99_ms": d["latency"]["p99_us"] / 1000,
           "server_cpu_s_per_cert": cpu / issued if issued else 0,
           "server_cpu_util": cpu / (d["wall_us"] / 1e6),
           "peak_rss_mb": d["server"]["peak_rss_kb"] / 1024,
           "loadgen_cpu_s_per_cert": d["loadgen_cpu_us"] / 1e6 / issued if issued else 0,
           "dns_cpu_s_per_cert": dns_cpu / issued if issued else 0,
           "jws_per_cert": jws / issued if jws and issued else "",
           "store_syncs_per_cert": metric_sum(md, "aro_store_syncs_total") / issued if md and issued else "",
           "problems": ";".join(f"{k}={v}" for k, v in d["problems"].items())}
    if d["flow_errors"]:
        row["problems"] += f" first-error: {d.get('first_error')}"
    log(f"  {kind} c={c}: {row['certs_per_second']:.1f} certs/s, p50 {row['p50_ms']:.1f} ms, "
        f"p99 {row['p99_ms']:.1f} ms, {row['server_cpu_s_per_cert'] * 1000:.2f} ms CPU/cert "
        f"(load generator {row['loadgen_cpu_s_per_cert'] * 1000:.2f}, DNS {row['dns_cpu_s_per_cert'] * 1000:.2f}), errors {row['flow_errors']} {row['problems']}")
    return with_floor(row, floor), dump


def pebble_ladder(h, cts, quick, floor, out):
    """Pebble at rising concurrency until it stops answering: each level
    gets up to PEBBLE_TRIALS runs, all must finish. Returns its rows (the
    best run of each level answered; the stalled run of the level where it
    stopped), the highest level answered, and writes the stall's goroutines
    to pebble-stall.txt."""
    ladder, trials, seconds = ([1], 1, 1.5) if quick else (PEBBLE_LADDER, PEBBLE_TRIALS, PEBBLE_SECONDS)
    rows, answered = [], 0
    for c in ladder:
        best = None
        for trial in range(trials):
            row, dump = one_run(h, cts, "pebble", c, seconds, floor)
            row["trials"], row["hung_trials"] = trial + 1, 1 if dump else 0
            if dump:
                with open(os.path.join(out, "pebble-stall.txt"), "w") as f:
                    f.write(f"# Pebble 2.4 stopped answering at concurrency {c} (run {trial + 1}): the goroutines "
                            "blocked in Pebble's code at SIGQUIT, frames below net/http and the runtime left "
                            "out, identical stacks once (tests/bench/bench_throughput.py trimmed_dump).\n"
                            f"# first error: {row['problems']}\n\n{dump}")
                rows.append(row)
                log(f"  pebble stopped answering at c={c}; its goroutines in pebble-stall.txt")
                return rows, answered
            if not best or row["certs_per_second"] > best["certs_per_second"]:
                best = dict(row)
        rows.append(best)
        answered = c
    return rows, answered


def throughput(h, cts, quick, floor, out):
    """aro-server at LEVELS (and at Pebble's highest answered level),
    Pebble up its ladder; one fresh server per run, so CPU and peak RSS are
    per level. The load generator shares the two cores with the server."""
    levels = [64] if quick else LEVELS
    seconds = 1.5 if quick else ARO_SECONDS
    rows, h2 = [], []
    peb_rows, answered = pebble_ladder(h, cts, quick, floor, out)
    if answered and answered not in levels:
        levels = sorted(levels + [answered])
    for c in levels:
        row, _ = one_run(h, cts, "aro-server", c, seconds, floor)
        rows.append(row)
    # h2load once per server, each on a fresh instance.
    for kind in ("aro-server", "pebble"):
        lport = free_port()
        cts.http_port = lport
        srv = h.server(cts) if kind == "aro-server" else h.pebble(cts)
        base = srv.directory.rsplit("/", 1)[0]
        nonce = f"{base}/acme/new-nonce" if kind == "aro-server" else f"{base}/nonce-plz"
        for what, url in (("newNonce", nonce), ("directory", srv.directory)):
            res = h2load(url, 2 if quick else 10, quick=quick)
            res.update(server=kind, request=what)
            h2.append(res)
            log(f"  h2load {kind} {what}: {res['rps']:.0f} req/s ({res['failed']} failed)")
        srv.stop()
        h.procs.remove(srv)
    rows += peb_rows
    if not quick:
        rows += diagnostics(h, cts, floor, out)
    return rows, h2, answered


PERF_REPORTS = [
    ("where the samples are: thread (aro-loop, aro-writer, aro-worker) and library",
     ["--no-children", "--sort", "comm,dso", "-g", "none", "--percent-limit", "0.5"]),
    ("aro's own functions and the libraries' entry points, with everything they call (children)",
     ["--children", "--sort", "sym", "-g", "none", "--percent-limit", "1.5"]),
    ("the hottest symbols and who calls them (callers' chains, 1% and more)",
     ["--no-children", "--sort", "dso,sym", "-g", "caller,1,callee,function,percent", "--percent-limit", "1.5",
      "--max-stack", "24"]),
]


def perf_profile(pid, seconds, out):
    """perf record with DWARF call graphs of the server (frame pointers stop
    at libcrypto, which Debian builds without them) while the load runs;
    the reports as text in profile-aro-server-c64.txt."""
    if not shutil.which("perf"):
        return None
    prof = tempfile.mktemp(prefix="aro-perf-", suffix=".data")
    proc = subprocess.Popen(["perf", "record", "-F", "199", "--call-graph", "dwarf,16384", "-o", prof, "-p", str(pid),
                             "--", "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def finish():
        proc.wait(timeout=120)
        with open(os.path.join(out, "profile-aro-server-c64.txt"), "w") as f:
            f.write(f"# perf record -F 199 --call-graph dwarf -p <aro-server> for {seconds} s of a c=64 run "
                    "(tests/bench/bench_throughput.py perf_profile); percentages of the server's samples\n")
            for title, args in PERF_REPORTS:
                rep = subprocess.run(["perf", "report", "-i", prof, "--stdio"] + args, capture_output=True, text=True)
                body = [ln for ln in rep.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
                f.write(f"\n## {title}\n# perf report {' '.join(args)}\n" + "\n".join(body) + "\n")
        os.unlink(prof)
    return finish


def diagnostics(h, cts, floor, out):
    """What bounds aro-server at concurrency 64: the same run with the store
    on tmpfs (fsync becomes free: if throughput jumps, durable commits are the
    bound), with the clients on HTTP/1.1 (what HTTP/2's framing costs both
    sides), and an on-CPU profile (perf) of the durable run."""
    rows = []
    for label, data, extra in (
            ("aro-server (store on tmpfs, diagnostic)", tempfile.mkdtemp(prefix="aro-bench-", dir="/dev/shm"), []),
            ("aro-server (clients on HTTP/1.1, diagnostic)", None, ["--http1.1"]),
            ("aro-server (perf attached, diagnostic)", None, [])):
        lport = free_port()
        cts.http_port = lport
        srv = h.server(cts, data=data) if data else h.server(cts)
        finish = perf_profile(srv.proc.pid, 12, out) if "perf" in label else None
        dns0 = proc_cpu_s(cts.proc.pid)
        d = run_loadgen(srv, cts, lport, ["--concurrency", "64", "--duration", "15"] + extra, srv.proc.pid)
        dns_cpu = proc_cpu_s(cts.proc.pid) - dns0
        md = d["metrics_delta"]
        issued = d["issued"]
        cpu = d["server"]["cpu_us"] / 1e6
        txns = metric_sum(md, "aro_store_syncs_total")
        jws = metric_sum(md, "aro_jws_verifications_total")
        row = {"server": label, "concurrency": 64, "issued": issued, "flow_errors": d["flow_errors"],
               "seconds": d["wall_us"] / 1e6, "certs_per_second": float(d["certs_per_second"]),
               "p50_ms": d["latency"]["p50_us"] / 1000, "p90_ms": d["latency"]["p90_us"] / 1000,
               "p99_ms": d["latency"]["p99_us"] / 1000,
               "server_cpu_s_per_cert": cpu / issued if issued else 0,
               "server_cpu_util": cpu / (d["wall_us"] / 1e6), "peak_rss_mb": d["server"]["peak_rss_kb"] / 1024,
               "loadgen_cpu_s_per_cert": d["loadgen_cpu_us"] / 1e6 / issued if issued else 0,
               "dns_cpu_s_per_cert": dns_cpu / issued if issued else 0,
               "jws_per_cert": jws / issued if jws and issued else "",
               "store_syncs_per_second": txns / (d["wall_us"] / 1e6),
               "store_syncs_per_cert": txns / issued if issued else 0,
               "problems": ";".join(f"{k}={v}" for k, v in d["problems"].items())}
        rows.append(with_floor(row, floor))
        log(f"  {label}: {row['certs_per_second']:.1f} certs/s, {row['store_syncs_per_second']:.0f} durable commits/s, "
            f"CPU use {row['server_cpu_util'] * 100:.0f}%")
        srv.stop()
        h.procs.remove(srv)
        if finish:
            finish()
        if data:
            shutil.rmtree(data, ignore_errors=True)
    return rows
