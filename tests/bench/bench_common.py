"""What every part of tests/bench/run shares: the build, the harness, one
aro-loadgen run, the /metrics deltas and CSV output."""
import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def find_build():
    """A build directory holding aro-server and aro-loadgen; builds one
    (Release, build-bench/) when none does, so a clean clone just works."""
    cands = [os.environ.get("ARO_BUILD_DIR"), os.path.join(SOURCE, "build-bench"), os.path.join(SOURCE, "build")]
    for d in cands:
        if d and os.path.exists(os.path.join(d, "aro-server")) and \
                os.path.exists(os.path.join(d, "tests", "bench", "aro-loadgen")):
            return d
    d = os.path.join(SOURCE, "build-bench")
    log(f"building aro-server and aro-loadgen in {d}")
    subprocess.run(["cmake", "-S", SOURCE, "-B", d, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", d, "-j2", "--target", "aro-server", "aro-loadgen"], check=True,
                   stdout=subprocess.DEVNULL)
    return d


BUILD = find_build()
os.environ["ARO_BUILD_DIR"] = BUILD
import harness  # noqa: E402  (needs ARO_BUILD_DIR first)

harness.BUILD = BUILD
from harness import Harness, free_port  # noqa: E402,F401  (re-exported for the parts)

LOADGEN = os.path.join(BUILD, "tests", "bench", "aro-loadgen")


def run_loadgen(srv, cts, lport, args, pid, metrics=True, timeout=900):
    """One aro-loadgen run against srv; its JSON report."""
    cmd = [LOADGEN, "--directory", srv.directory, "--ca", srv.ca_file, "--http-port", str(lport),
           "--challtestsrv", f"http://127.0.0.1:{cts.mgmt_port}", "--server-pid", str(pid)] + args
    if metrics:
        cmd += ["--metrics", f"https://127.0.0.1:{srv.manage}/metrics"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        raise RuntimeError(f"aro-loadgen failed ({r.returncode}): {r.stderr[-2000:]}")
    return json.loads(r.stdout)


def metric_sum(delta, name, **labels):
    """Sum of the /metrics deltas of every series of name whose labels
    include the given ones."""
    tot = 0
    for k, v in delta.items():
        if k.split("{", 1)[0] != name:
            continue
        if all(f'{lk}="{lv}"' in k for lk, lv in labels.items()):
            tot += v
    return tot


def write_csv(path, rows):
    if not rows:
        return
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
