"""Scale part of tests/bench/run: aro-server on a store prefilled with a
million certificates (tests/bench/prefill.c, aro-prefill: the server's own
store code) against an empty store, at concurrency 64: throughput and p99
latency, checks through the ACME API that the prefilled data is there and
usable (a certificate downloaded and parsed, its renewalInfo, a newOrder
reusing a prefilled authorization), the store's bytes per certificate, and
the cost of a newOrder that reuses an authorization 1, 100 or 10,000
earlier orders reused (docs/benchmarks.md, "Scale").

The prefilled store is made once per aro-prefill binary and kept under
BUILD/bench-prefill/ (it takes minutes); each prefilled run works on a fresh copy."""
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bench_common import BUILD, free_port, log, run_loadgen
from acme import Client

PREFILL = 1_000_000
REUSE = [1, 100, 10_000]
RUNS = 3                # runs per store, alternating (medians: one disturbed run does not decide)
SECONDS = 15
REUSE_ORDERS = 100      # newOrders measured per reuse account
PREFILLER = os.path.join(BUILD, "tests", "bench", "aro-prefill")


def store_used_bytes(store_dir):
    """Pages LMDB has in use (last page minus the free list) times the
    page size, from mdb_stat."""
    r = subprocess.run(["mdb_stat", "-ef", store_dir], capture_output=True, text=True)
    vals = {}
    for line in r.stdout.splitlines():
        k, _, v = line.strip().partition(":")
        if v.strip().isdigit():
            vals.setdefault(k, int(v))
    return (vals.get("Number of pages used", 0) - vals.get("Free pages", 0)) * vals.get("Page size", 4096)


def prefilled(n, reuse):
    """The data directory of a prefilled store (made now if this build has
    none) and its spot.json."""
    digest = hashlib.sha256(open(PREFILLER, "rb").read()).hexdigest()[:16]
    key = f"{digest}-{n}-{'-'.join(map(str, reuse))}"
    top = os.path.join(BUILD, "bench-prefill")
    path = os.path.join(top, key)
    if os.path.exists(os.path.join(path, "spot.json")):
        log(f"  prefilled store of {n:,} certificates: {path} (kept from an earlier run)")
        return path
    for old in os.listdir(top) if os.path.isdir(top) else []:
        if not old.startswith(digest + "-") or old.endswith(".part"):
            shutil.rmtree(os.path.join(top, old), ignore_errors=True)     # other builds' stores go
    tmp = path + ".part"
    os.makedirs(tmp)
    log(f"  prefilling a store with {n:,} certificates (aro-prefill; once per build)")
    t0 = time.time()
    subprocess.run([PREFILLER, "--data", os.path.join(tmp, "data"), "--certs", str(n), "--reuse",
                    ",".join(map(str, reuse)), "--spot", os.path.join(tmp, "spot.json")], check=True)
    log(f"  prefilled in {time.time() - t0:.0f} s")
    os.rename(tmp, path)
    return path


def write_by_pages(src, dst, page=4096):
    """dst a copy of src written one page per write(2), as LMDB's commits
    write a live store: the page cache then holds the copy in page-sized
    folios. cp writes in large chunks, and Linux (6.x, ext4) then keeps the
    file in 128 KiB folios: every 4 KiB page a commit dirties would dirty 32
    pages' worth, and ext4 walks each folio's 32 buffers on every write and
    on writeback, a cost a running server's store does not have
    (docs/benchmarks.md, "Scale")."""
    with open(src, "rb") as f, open(dst, "wb") as g:
        fd = g.fileno()
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            view = memoryview(chunk)
            for off in range(0, len(chunk), page):
                piece = view[off:off + page]
                while piece:
                    piece = piece[os.write(fd, piece):]
    shutil.copystat(src, dst)


def copy_data(path):
    """A copy of the prefilled data directory to run on (the run writes)."""
    src, data = os.path.join(path, "data"), os.path.join(tempfile.mkdtemp(prefix="aro-scale-", dir=BUILD), "data")
    mdb = os.path.join("store", "data.mdb")
    shutil.copytree(src, data, ignore=lambda d, names: ["data.mdb"] if d == os.path.join(src, "store") else [])
    write_by_pages(os.path.join(src, mdb), os.path.join(data, mdb))
    # On disk before any measurement: the copy's writeback must not compete
    # with the runs' own fsyncs.
    os.sync()
    return data


def server_cpu_ns(pid):
    """CPU time of every thread of pid, nanoseconds (schedstat: finer than
    /proc/PID/stat's clock ticks)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def client_of(srv, entry):
    key = serialization.load_pem_private_key(entry["key"].encode(), None)
    c = Client(srv.directory, srv.ca_file, key=key)
    c.kid = f"{srv.directory.rsplit('/', 1)[0]}/acme/acct/{entry['account']}"
    return c


def spot_checks(srv, spot):
    """Per prefilled account: its certificate downloaded (a PEM chain whose
    leaf names the account's name, with the prefilled serial), its
    renewalInfo (RFC 9773: a suggested window), and a newOrder for its name
    that reuses the prefilled authorization (ready at once)."""
    base = srv.directory.rsplit("/", 1)[0]
    rows = []
    for e in spot["spot"] + spot["reuse"]:
        c = client_of(srv, e)
        checks = {}
        r = c.get(f"{base}/acme/cert/{e['serial']}")
        ok = r.status == 200 and r.text.startswith("-----BEGIN CERTIFICATE-----")
        if ok:
            leaf = x509.load_pem_x509_certificate(r.text.encode())
            san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            ok = leaf.serial_number == int(e["serial"], 16) and e["name"] in san.get_values_for_type(x509.DNSName)
        checks["download"] = ok
        rr = requests.get(f"{base}/acme/renewal-info/{e['ari']}", verify=srv.ca_file, timeout=10)
        checks["renewalInfo"] = rr.status_code == 200 and "start" in rr.json().get("suggestedWindow", {})
        r = c.new_order(e["name"])
        checks["authorization reuse"] = r.status == 201 and r.json["status"] == "ready" and \
            r.json["authorizations"] == [f"{base}/acme/authz/{e['authz']}"]
        rows.append({"account": e["account"], "name": e["name"], **checks})
        if not all(checks.values()):
            log(f"  spot check FAILED for {e['name']}: {checks} ({r})")
    return rows


def reuse_cost(srv, spot):
    """Per reuse account (K earlier orders over its one valid
    authorization): REUSE_ORDERS newOrders that reuse it again, one at a
    time; the server's CPU per newOrder and the client's median time."""
    base = srv.directory.rsplit("/", 1)[0]
    rows = []
    for e in sorted(spot["reuse"], key=lambda x: x["prior_orders"]):
        c = client_of(srv, e)
        c.new_order(e["name"])          # the nonce, and the connection, before measuring
        times, ok = [], 0
        cpu0 = server_cpu_ns(srv.proc.pid)
        for _ in range(REUSE_ORDERS):
            t0 = time.perf_counter()
            r = c.new_order(e["name"])
            times.append(time.perf_counter() - t0)
            ok += r.status == 201 and r.json["authorizations"] == [f"{base}/acme/authz/{e['authz']}"]
        cpu = (server_cpu_ns(srv.proc.pid) - cpu0) / 1e3 / REUSE_ORDERS
        rows.append({"prior_orders": e["prior_orders"], "new_orders": REUSE_ORDERS, "reused": ok,
                     "server_cpu_us_per_new_order": cpu, "client_ms_p50": statistics.median(times) * 1000})
        log(f"  newOrder reusing an authorization {e['prior_orders']:,} orders reused before: "
            f"{cpu:.0f} us server CPU, {rows[-1]['client_ms_p50']:.2f} ms at the client ({ok}/{REUSE_ORDERS} reused)")
    return rows


def run_c64(h, cts, data, seconds, label):
    lport = free_port()
    cts.http_port = lport
    srv = h.server(cts, data=data) if data else h.server(cts)
    d = run_loadgen(srv, cts, lport, ["--concurrency", "64", "--duration", str(seconds), "--timeout", "10"],
                    srv.proc.pid)
    issued = d["issued"]
    row = {"store": label, "issued": issued, "flow_errors": d["flow_errors"],
           "certs_per_second": float(d["certs_per_second"]), "p50_ms": d["latency"]["p50_us"] / 1000,
           "p99_ms": d["latency"]["p99_us"] / 1000,
           "server_cpu_s_per_cert": d["server"]["cpu_us"] / 1e6 / issued if issued else 0,
           "peak_rss_mb": d["server"]["peak_rss_kb"] / 1024}
    log(f"  c=64 on the {label} store: {row['certs_per_second']:.1f} certs/s, p99 {row['p99_ms']:.0f} ms, "
        f"{row['server_cpu_s_per_cert'] * 1000:.2f} ms CPU/cert, errors {row['flow_errors']}")
    return srv, row


def scale(h, cts, quick):
    n, reuse = (2000, [1, 100]) if quick else (PREFILL, REUSE)
    runs, seconds = (1, 1.5) if quick else (RUNS, SECONDS)
    path = prefilled(n, reuse)
    spot = json.load(open(os.path.join(path, "spot.json")))
    used = store_used_bytes(os.path.join(path, "data", "store"))
    rows, spots, reuses = [], [], []
    for i in range(runs):
        for label in ("empty", "prefilled"):
            # Each prefilled run on a fresh copy: all start from the same
            # state (pages of a used copy that were evicted and read back
            # come in larger folios, and its writes cost more).
            data = copy_data(path) if label == "prefilled" else None
            try:
                srv, row = run_c64(h, cts, data, seconds, label)
                if label == "prefilled" and i == 0:
                    spots = spot_checks(srv, spot)
                    reuses = reuse_cost(srv, spot)
                srv.stop()
                h.procs.remove(srv)
            finally:
                if data:
                    shutil.rmtree(os.path.dirname(data), ignore_errors=True)
            rows.append(row)

    def med(label, k):
        return statistics.median(r[k] for r in rows if r["store"] == label)
    summary = {"certificates": spot["certificates"], "accounts": spot["accounts"], "prefill_seconds": spot["seconds"],
               "store_used_bytes": used, "store_file_bytes": spot["store_bytes"],
               "store_bytes_per_certificate": used / spot["certificates"] if spot["certificates"] else 0,
               "certs_per_second_empty": med("empty", "certs_per_second"),
               "certs_per_second_prefilled": med("prefilled", "certs_per_second"),
               "p99_ms_empty": med("empty", "p99_ms"), "p99_ms_prefilled": med("prefilled", "p99_ms")}
    summary["throughput_over_empty"] = summary["certs_per_second_prefilled"] / summary["certs_per_second_empty"] \
        if summary["certs_per_second_empty"] else 0
    summary["p99_over_empty"] = summary["p99_ms_prefilled"] / summary["p99_ms_empty"] if summary["p99_ms_empty"] else 0
    summary["spot_checks_failed"] = sum(1 for s in spots for k, v in s.items() if v is False)
    return rows, spots, reuses, summary
