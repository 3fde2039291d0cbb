"""What every part of tests/bench/run shares: the build, the harness, one
aro-loadgen run, the /metrics deltas, the limits the servers had on and
CSV output."""
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


TOOLS = ("aro-loadgen", "aro-prefill")


def find_build():
    """A build directory holding aro-server, aro-loadgen and aro-prefill:
    $ARO_BUILD_DIR if set (refused when incomplete), else build-bench/ or
    build/; builds one (Release with frame pointers, so that perf's call graphs
    reach aro's own functions: build-bench/) when none does, so a clean
    clone just works."""
    def missing_in(d):
        return [t for t in ("aro-server", *(os.path.join("tests", "bench", t) for t in TOOLS))
                if not os.path.exists(os.path.join(d, t))]

    given = os.environ.get("ARO_BUILD_DIR")
    if given:
        # A named directory is used or refused, never swapped for another:
        # a comparison of two builds would otherwise measure one twice.
        missing = missing_in(given)
        if missing:
            sys.exit(f"bench: ARO_BUILD_DIR={given} has no {', '.join(missing)}: build them there "
                     f"(cmake --build {given} --target aro-server {' '.join(TOOLS)})")
        return given
    for d in (os.path.join(SOURCE, "build-bench"), os.path.join(SOURCE, "build")):
        if not missing_in(d):
            return d
    d = os.path.join(SOURCE, "build-bench")
    log(f"building aro-server, aro-loadgen and aro-prefill in {d}")
    for cmd in (["cmake", "-S", SOURCE, "-B", d, "-DCMAKE_BUILD_TYPE=Release",
                 "-DCMAKE_C_FLAGS=-fno-omit-frame-pointer"],
                ["cmake", "--build", d, "-j2", "--target", "aro-server", *TOOLS]):
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            log("\n".join(p.stdout.splitlines()[-30:]))
            sys.exit(f"bench: building aro-server and its tools in {d} failed (above): "
                     f"fix the build, then run ./scripts/build.sh or tests/bench/run again")
    return d


BUILD = find_build()
os.environ["ARO_BUILD_DIR"] = BUILD
import harness  # noqa: E402  (needs ARO_BUILD_DIR first)

harness.BUILD = BUILD
from harness import Harness, free_port  # noqa: E402,F401  (re-exported for the parts)

LOADGEN = os.path.join(BUILD, "tests", "bench", "aro-loadgen")


# The limits every aro-server of the run had on (rules/limits.c), read from
# its /metrics (aro_limit gauges): the report says which were on, so that no
# figure is mistaken for one measured under (or cut short by) a limit.
LIMITS_SEEN = {}


def note_limits(srv):
    if not isinstance(srv, harness.AroServer):
        return
    for k, v in srv.metrics().items():
        if k.startswith("aro_limit{"):
            name = k.split('name="', 1)[1].split('"', 1)[0]
            window = int(k.split('window_seconds="', 1)[1].split('"', 1)[0])
            LIMITS_SEEN.setdefault(name, set()).add((v, window))


def limits_text():
    """"name count/window" for the limits on, then those off."""
    on, off = [], []
    for name, seen in sorted(LIMITS_SEEN.items()):
        for count, window in sorted(seen):
            if count == 0:
                off.append(name)
            else:
                on.append(f"{name} {count}" + (f" per {window} s" if window else ""))
    return "; ".join(on) + (f" (off: {', '.join(off)})" if off else "")


def run_loadgen(srv, cts, lport, args, pid, metrics=True, timeout=900):
    """One aro-loadgen run against srv; its JSON report."""
    note_limits(srv)
    cmd = [LOADGEN, "--directory", srv.directory, "--ca", srv.ca_file, "--http-port", str(lport),
           "--challtestsrv", f"http://127.0.0.1:{cts.mgmt_port}", "--server-pid", str(pid)] + args
    if metrics:
        cmd += ["--metrics", f"https://127.0.0.1:{srv.manage}/metrics"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        raise RuntimeError(f"aro-loadgen failed ({r.returncode}): {r.stderr[-2000:]}")
    return json.loads(r.stdout)


def proc_cpu_s(pid):
    """utime+stime of a process in seconds (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
