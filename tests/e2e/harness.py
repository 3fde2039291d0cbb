"""End-to-end test harness: real processes on loopback, always cleaned up.

Starts pebble-challtestsrv (DNS, and optionally http-01/tls-alpn-01
responders) and aro-server on free loopback ports, and gives tests a small
raw ACME client (acme.py) to drive them. Nothing here leaves 127.0.0.1.

    with Harness() as h:
        cts = h.challtestsrv()
        srv = h.server(cts, config={"retryMinBackoffSeconds": 1})
        c = acme.Client(srv.directory, srv.ca_file)
"""
import atexit
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ports  # noqa: E402

SOURCE = os.environ.get("ARO_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("ARO_BUILD_DIR", os.path.join(SOURCE, "build"))
# aro's default CA is Let's Encrypt: a test that forgets --server must fail
# on loopback, never reach it (contracts.md, ARO_DIRECTORY).
os.environ["ARO_DIRECTORY"] = "https://127.0.0.1:9/no-server-given-to-aro"


def free_port():
    """A loopback port reserved for this process, free for TCP and UDP, never
    handed out twice, also not to another test running at the same time
    (ports.py)."""
    return ports.take_port()


class GaveUp(AssertionError):
    """Raised by a wait_for predicate when waiting longer cannot help
    (the process it waits for has exited): wait_for re-raises it at once."""


# Readiness of the processes a test starts: generous, because a loaded
# machine (two suites at once on two cores, sanitizers) can take many
# seconds to start one; polling returns as soon as it is ready, and a
# process that exits ends the wait at once (GaveUp).
START_TIMEOUT = float(os.environ.get("ARO_TEST_START_TIMEOUT", "60"))


def wait_for(pred, timeout=15.0, step=0.05, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            v = pred()
            if v:
                return v
        except GaveUp:
            raise
        except Exception as e:
            last = e
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" +
                         (f" (last error: {type(last).__name__}: {last})" if last else ""))


def log_tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return f"(no log: {e})"


def _alive(proc, name, log_path):
    if proc.poll() is not None:
        raise GaveUp(f"{name} exited with status {proc.returncode} before it was ready; "
                     f"last lines of {log_path}:\n{log_tail(log_path)}")


class ChallTestSrv:
    """pebble-challtestsrv: DNS for every lookup, plus responders we ask for."""
    mgmt_host = "127.0.0.1"  # its management API (a test's network namespace may put it elsewhere)

    def __init__(self, tmp, http01=False, tlsalpn01=False, default_ipv4="127.0.0.1"):
        """default_ipv4: the A record of every name ("": none, so that a
        name has only the records a test adds)."""
        self.dns_port = free_port()
        self.mgmt_port = free_port()
        self.http_port = free_port()   # aro validates http-01 here
        self.tls_port = free_port()    # and tls-alpn-01 here
        args = ["pebble-challtestsrv", "-defaultIPv4", default_ipv4, "-defaultIPv6", "",
                "-dns01", f"127.0.0.1:{self.dns_port}", "-management", f"127.0.0.1:{self.mgmt_port}",
                "-https01", "",
                "-http01", f"127.0.0.1:{self.http_port}" if http01 else "",
                "-tlsalpn01", f"127.0.0.1:{self.tls_port}" if tlsalpn01 else ""]
        self.log_path = os.path.join(tmp, f"challtestsrv-{self.mgmt_port}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

        def ready():
            _alive(self.proc, "pebble-challtestsrv", self.log_path)
            return self._post("/clear-txt", {"host": "_probe.example.com."}) is not None
        wait_for(ready, timeout=START_TIMEOUT, what="challtestsrv management API")

    @property
    def dns(self):
        return f"127.0.0.1:{self.dns_port}"

    def _post(self, path, body):
        req = urllib.request.Request(f"http://{self.mgmt_host}:{self.mgmt_port}{path}",
                                     data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status

    def set_txt(self, name, value):
        self._post("/set-txt", {"host": f"_acme-challenge.{name}.", "value": value})

    def clear_txt(self, name):
        self._post("/clear-txt", {"host": f"_acme-challenge.{name}."})

    def add_http01(self, token, content):
        self._post("/add-http01", {"token": token, "content": content})

    def add_tlsalpn01(self, host, content):
        self._post("/add-tlsalpn01", {"host": host, "content": content})

    def add_caa(self, host, policies):
        self._post("/add-caa", {"host": host + ".", "policies": policies})

    def dns_hook(self, path):
        """Write an aro/uacme hook (METHOD TYPE IDENT TOKEN AUTH) at path that
        serves dns-01 through this challtestsrv and declines every other type;
        returns path."""
        mgmt = f"http://{self.mgmt_host}:{self.mgmt_port}"
        with open(path, "w") as f:
            f.write(f"""#!/bin/sh
[ "$2" = dns-01 ] || exit 1
case "$1" in
begin) curl -sS --max-time 10 -X POST -d '{{"host":"_acme-challenge.'$3'.","value":"'$5'"}}' {mgmt}/set-txt ;;
*) curl -sS --max-time 10 -X POST -d '{{"host":"_acme-challenge.'$3'."}}' {mgmt}/clear-txt ;;
esac
""")
        os.chmod(path, 0o755)
        return path

    def stop(self):
        stop_process(self.proc)
        self.log.close()


def stop_process(proc, sig=signal.SIGTERM, timeout=10):
    if proc.poll() is not None:
        return proc.returncode
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return proc.poll()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()


class AroServer:
    """One aro-server process with its own data directory and ports."""

    def __init__(self, tmp, cts, config=None, flags=(), data=None, port=None, manage=None):
        self.tmp = tmp
        self.cts = cts
        self.data = data or tempfile.mkdtemp(prefix="data-", dir=tmp)
        self.port = port or free_port()
        self.manage = manage or free_port()
        self.config = dict(config or {})
        self.flags = list(flags)
        self.proc = None
        self.start()

    @property
    def directory(self):
        return f"https://127.0.0.1:{self.port}/directory"

    @property
    def ca_file(self):
        return os.path.join(self.data, "https-cert.pem")

    def start(self):
        cfg_path = os.path.join(self.data, "test-config.json")
        with open(cfg_path, "w") as f:
            json.dump(self.config, f)
        # ARO_SERVER_WRAPPER="valgrind --soname-synonyms=somalloc=*tcmalloc*
        # --leak-check=full --error-exitcode=99" runs the server under a
        # checker (docs/hardening.md; the synonym: it links tcmalloc).
        wrapper = os.environ.get("ARO_SERVER_WRAPPER", "").split()
        args = wrapper + [os.path.join(BUILD, "aro-server"), "--listen", f"127.0.0.1:{self.port}",
                "--manage", f"127.0.0.1:{self.manage}", "--data", self.data,
                "--http-port", str(self.cts.http_port), "--tls-port", str(self.cts.tls_port),
                "--dns", self.cts.dns, "--config", cfg_path, "--threads", "2"] + self.flags
        self.log_path = os.path.join(self.tmp, f"aro-server-{self.port}.log")
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self._ready, timeout=START_TIMEOUT * (3 if wrapper else 1),
                 what=f"aro-server on {self.port} (log {self.log_path})")

    def _ready(self):
        _alive(self.proc, "aro-server", self.log_path)
        ctx = ssl.create_default_context(cafile=self.ca_file)
        with urllib.request.urlopen(self.directory, context=ctx, timeout=2) as r:
            return r.status == 200

    def stop(self, sig=signal.SIGTERM):
        rc = stop_process(self.proc, sig)
        self.log.close()
        return rc

    def restart(self, flags=None, config=None):
        self.stop()
        if flags is not None:
            self.flags = list(flags)
        if config is not None:
            self.config = dict(config)
        self.start()

    def edit_store(self, edit):
        """Stop the server, rewrite its stored records (edit(text) -> text,
        called with every key and value of every table, records being
        JSON), and start it again: how tests move a time into the past,
        since the server accepts no lifetime under a minute. Returns how
        many records edit changed. Clients must fetch fresh nonces after
        (the restarted server has a new nonce key)."""
        mdb_dump, mdb_load = shutil.which("mdb_dump"), shutil.which("mdb_load")
        self.stop()
        store = os.path.join(self.data, "store")
        # Hex format: mdb_load of Debian's lmdb 0.9 misreads its own -p output.
        dump = subprocess.run([mdb_dump, "-a", store], capture_output=True, check=True, timeout=30).stdout.decode()
        lines, changed = dump.split("\n"), 0
        for i, line in enumerate(lines):
            if not line.startswith(" "):
                continue
            text = bytes.fromhex(line[1:]).decode("utf-8", "replace")
            new = edit(text)
            if new != text:
                lines[i] = " " + new.encode().hex()
                changed += 1
        fresh = store + ".new"
        os.makedirs(fresh)
        subprocess.run([mdb_load, "-f", "/dev/stdin", fresh], input="\n".join(lines).encode(), check=True,
                       timeout=30, capture_output=True)
        shutil.rmtree(store)
        os.rename(fresh, store)
        self.start()
        return changed

    def metrics(self):
        ctx = ssl.create_default_context(cafile=self.ca_file)
        with urllib.request.urlopen(f"https://127.0.0.1:{self.manage}/metrics", context=ctx, timeout=5) as r:
            out = {}
            for line in r.read().decode().splitlines():
                if line and not line.startswith("#"):
                    k, v = line.rsplit(" ", 1)
                    out[k] = int(float(v))
            return out

    def metric(self, name, **labels):
        """Sum of the series of name whose labels include the given ones."""
        total = 0
        for k, v in self.metrics().items():
            base = k.split("{", 1)[0]
            if base != name:
                continue
            if all(f'{lk}="{lv}"' in k for lk, lv in labels.items()):
                total += v
        return total


_failed_cases = [0]   # TestRun.case failures so far in this process


class Harness:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="aro-e2e-")
        self.procs = []
        self._failed_before = _failed_cases[0]
        atexit.register(self.close)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        # keep the logs when a case inside failed (TestRun catches its exception)
        if exc[0] is None and _failed_cases[0] == self._failed_before:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print(f"(test files kept in {self.tmp})", file=sys.stderr)
        return False

    def challtestsrv(self, **kw):
        c = ChallTestSrv(self.tmp, **kw)
        self.procs.append(c)
        return c

    def server(self, cts, **kw):
        s = AroServer(self.tmp, cts, **kw)
        self.procs.append(s)
        return s

    def close(self):
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception:
                pass
        self.procs = []


def run_cases(cases):
    """Run (name, fn) cases, each with a Harness of its own, or only those
    whose function name contains an argument of the command line; exit
    with the TestRun's status."""
    only = sys.argv[1:]
    run = TestRun()
    for name, fn in cases:
        if only and not any(o in fn.__name__ for o in only):
            continue
        with Harness() as h:
            run.case(name, fn, h)
    run.finish()


class TestRun:
    """Named checks with a closing 'N passed, N failed' line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def case(self, name, fn, *args):
        t0 = time.time()
        try:
            fn(*args)
            self.passed += 1
            print(f"PASS {name} ({time.time() - t0:.1f}s)", flush=True)
        except Exception as e:  # report and go on to the next case
            self.failed += 1
            _failed_cases[0] += 1
            import traceback
            print(f"FAIL {name}: {e}", flush=True)
            traceback.print_exc()

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


# Pebble's request paths, mapped to aro-server's endpoint names, so runs
# against the two servers can be compared request by request.
PEBBLE_ENDPOINTS = {
    "/dir": "directory", "/nonce-plz": "new-nonce", "/sign-me-up": "new-account",
    "/order-plz": "new-order", "/authZ/": "authz", "/chalZ/": "challenge",
    "/finalize-order/": "finalize", "/my-order/": "order", "/certZ/": "certificate",
    "/revoke-cert": "revoke-cert", "/rollover-account-key": "key-change", "/list-orderz/": "account-orders",
    "/my-account/": "account",
}


class Pebble:
    """Debian's pebble 2.4 with the deterministic settings of the notes,
    validating against the same challtestsrv ports as an AroServer would."""

    def __init__(self, tmp, cts, env=None):
        self.tmp = tmp
        self.port = free_port()
        self.manage = free_port()
        d = tempfile.mkdtemp(prefix="pebble-", dir=tmp)
        self.ca_file = os.path.join(d, "cert.pem")
        key = os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-out", self.ca_file, "-days", "30", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-addext", "basicConstraints=critical,CA:TRUE"], check=True, capture_output=True)
        cfg = os.path.join(d, "pebble-config.json")
        with open(cfg, "w") as f:
            json.dump({"pebble": {"listenAddress": f"127.0.0.1:{self.port}",
                                  "managementListenAddress": f"127.0.0.1:{self.manage}",
                                  "certificate": self.ca_file, "privateKey": key,
                                  "httpPort": cts.http_port, "tlsPort": cts.tls_port,
                                  "ocspResponderURL": "", "externalAccountBindingRequired": False}}, f)
        # AUTHZREUSE=0 still reuses 1% of the time: see deactivate_valid_authzs.
        e = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
        e.update(env or {})
        self.log_path = os.path.join(tmp, f"pebble-{self.port}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["pebble", "-config", cfg, "-dnsserver", cts.dns], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=e, cwd=d, start_new_session=True)
        ctx = ssl.create_default_context(cafile=self.ca_file)

        def ready():
            _alive(self.proc, "pebble", self.log_path)
            return urllib.request.urlopen(self.directory, context=ctx, timeout=2).status == 200
        wait_for(ready, timeout=START_TIMEOUT, what="pebble")

    @property
    def directory(self):
        return f"https://127.0.0.1:{self.port}/dir"

    def requests_by_endpoint(self):
        counts = {}
        for line in open(self.log_path):
            parts = line.split()
            # "Pebble 2026/11/28 14:10:16 POST /order-plz -> calling handler()"
            if len(parts) >= 6 and parts[5] == "->" and parts[3] in ("GET", "HEAD", "POST"):
                path = parts[4]
                name = next((v for k, v in PEBBLE_ENDPOINTS.items() if path == k or
                             (k.endswith("/") and path.startswith(k))), path)
                counts[name] = counts.get(name, 0) + 1
        return counts

    def deactivate_valid_authzs(self, state, orders):
        """Deactivate (RFC 8555 7.5.2) every valid authorization of orders,
        as the account in aro's state directory (an ec256 key, aro's
        default); returns how many. Pebble reuses a valid authorization for
        1% of newOrders even at PEBBLE_AUTHZREUSE=0 (wfe.go newOrder:
        `rand.Intn(100) > authzReusePercent`), so a test whose next order
        must validate again by the same account calls this first."""
        import glob
        import acme
        from cryptography.hazmat.primitives import serialization
        [path] = glob.glob(os.path.join(state, "accounts", "*", "key.pem"))
        with open(path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        c = acme.Client(self.directory, self.ca_file, key=key)
        c.new_account(onlyReturnExisting=True)
        n = 0
        for order in orders:
            for url in c.get(order).json["authorizations"]:
                if c.get(url).json["status"] == "valid":
                    r = c.post(url, {"status": "deactivated"})
                    assert r.status == 200 and r.json["status"] == "deactivated", (url, r)
                    n += 1
        return n

    def stop(self):
        stop_process(self.proc)
        self.log.close()


def aro_requests_by_endpoint(srv):
    counts = {}
    for k, v in srv.metrics().items():
        if k.startswith("aro_http_requests_total{"):
            ep = k.split('endpoint="', 1)[1].split('"', 1)[0]
            counts[ep] = counts.get(ep, 0) + v
    return counts


def _harness_pebble(self, cts, **kw):
    p = Pebble(self.tmp, cts, **kw)
    self.procs.append(p)
    return p


Harness.pebble = _harness_pebble
