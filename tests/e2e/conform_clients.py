"""aro-conform in client mode against aro, certbot and lego (Debian's):
each run through every scenario (scenarios.h) must give exactly the
failures and skips of conform_expected.CLIENT. The commands show how a
client is driven: the substitutions for the directory, the CA bundle
(REQUESTS_CA_BUNDLE for certbot, LEGO_CA_CERTIFICATES for lego), the
http-01 port, and a fresh work directory per scenario."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conform_expected import CLIENT  # noqa: E402
from harness import BUILD, Harness, TestRun  # noqa: E402

CONFORM = os.path.join(BUILD, "aro-conform")
ARO = os.path.join(BUILD, "aro")

# aro issues, then renews at once (RFC 9773: renewalInfo and "replaces").
# (--email is an issue option: renew takes the account as it is.)
ARO_ARGS = (f"{ARO} --server {{directory}} --ca-bundle {{ca_bundle}} --state {{workdir}}/state --agree-tos "
            "--http-port {http_port} --bind 127.0.0.1 --challenges http-01")
COMMANDS = {
    "aro": ["sh", "-c", f"{ARO_ARGS} --email conform@example.com issue conform.example.com && "
                        f"{ARO_ARGS} renew --force conform.example.com"],
    "certbot": ["env", "REQUESTS_CA_BUNDLE={ca_bundle}", "certbot", "certonly", "--server", "{directory}",
                "--standalone", "--http-01-port", "{http_port}", "--http-01-address", "127.0.0.1",
                "--config-dir", "{workdir}/conf", "--work-dir", "{workdir}/work", "--logs-dir", "{workdir}/logs",
                "--non-interactive", "--agree-tos", "-m", "conform@example.com", "-d", "conform.example.com"],
    "lego": ["env", "LEGO_CA_CERTIFICATES={ca_bundle}", "lego", "--server", "{directory}", "--email",
             "conform@example.com", "--accept-tos", "--path", "{workdir}/lego", "--domains", "conform.example.com",
             "--http", "--http.port", "127.0.0.1:{http_port}", "run"],
}


def run_client_mode(command, env=None, scenarios=None, timeout=400):
    args = [CONFORM, "client", "--json", "--aro-server", os.path.join(BUILD, "aro-server")]
    if scenarios:
        args += ["--scenario", scenarios]
    e = dict(os.environ)
    for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "LEGO_CA_CERTIFICATES"):
        e.pop(k, None)
    e.update(env or {})
    p = subprocess.run(args + ["--"] + command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=e)
    assert p.returncode in (0, 1), f"exit {p.returncode}: {p.stderr[-3000:]}"
    report = json.loads(p.stdout)
    assert report["mode"] == "client", report["mode"]
    must_failed = any(c["result"] == "fail" and c["level"] == "MUST" for c in report["checks"])
    assert p.returncode == (1 if must_failed else 0), (p.returncode, must_failed)
    return report


def compare(name, report):
    got = {c["id"]: c for c in report["checks"]}
    want = CLIENT[name]
    problems = []
    for cid, c in sorted(got.items()):
        expect = "fail" if cid in want["fail"] else "skip" if cid in want["skip"] else "pass"
        if c["result"] != expect:
            problems.append(f"{cid}: expected {expect}, got {c['result']}: {c['detail']}")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems) + "\nnotes:\n  " + "\n  ".join(report["notes"])


def case(name):
    def fn(h):
        compare(name, run_client_mode(COMMANDS[name]))
    fn.__name__ = f"case_{name}"
    return fn


CASES = [(f"aro-conform client against {n}: the expected results", case(n)) for n in ("aro", "certbot", "lego")]


def main():
    only = sys.argv[1:]
    run = TestRun()
    for name, fn in CASES:
        if only and not any(o in fn.__name__ for o in only):
            continue
        with Harness() as h:
            run.case(name, fn, h)
    run.finish()


if __name__ == "__main__":
    main()
