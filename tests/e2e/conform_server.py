"""aro-conform in server mode against aro-server and against Debian's
Pebble 2.4 (both validating through one pebble-challtestsrv on loopback):
the report must list exactly the failures and skips of
conform_expected.SERVER, the JSON must have the contract's shape
(contracts.md "aro-conform"), the exit status must say whether a MUST
check failed, and the HTML page must be written. A directory URL that
answers no JSON gives a report whose directory.get fails; one that does
not answer at all gives exit status 2."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conform_expected import SERVER  # noqa: E402
from harness import BUILD, Harness, TestRun, free_port  # noqa: E402

CONFORM = os.path.join(BUILD, "aro-conform")
# Offers 3 s after a failure: long enough for the refusals before
# notBefore to be sent in time on a busy machine, short enough for the run.
ARO_CONFIG = {"retryMinBackoffSeconds": 3, "alternateRoots": 1}


def conform(*args, timeout=240):
    p = subprocess.run([CONFORM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def run_server_mode(directory, ca, cts, html=None):
    args = ["server", directory, "--ca-bundle", ca, "--challtestsrv", f"http://127.0.0.1:{cts.mgmt_port}", "--json"]
    if html:
        args += ["--html", html]
    rc, out, err = conform(*args)
    assert rc in (0, 1), f"exit {rc}: {err[-2000:]}"
    return rc, json.loads(out), err


def check_shape(report):
    assert report["mode"] == "server" and report["target"], report.keys()
    for c in report["checks"]:
        assert set(c) >= {"id", "section", "level", "result", "detail"}, c
        assert c["level"] in ("MUST", "SHOULD", "MAY", "PRACTICE"), c
        assert c["result"] in ("pass", "fail", "skip"), c
        assert c["section"].startswith(("RFC 8555 ", "RFC 9773 ", "RFC 7807 ", "RFC 9110 ",
                                        "draft-aro-acme-retry-options-01 ")), c
    s = report["summary"]
    assert s["pass"] + s["fail"] + s["skip"] == len(report["checks"]), s


def compare(name, report, rc):
    got_fail = sorted(c["id"] for c in report["checks"] if c["result"] == "fail")
    got_skip = sorted(c["id"] for c in report["checks"] if c["result"] == "skip")
    want = SERVER[name]
    details = {c["id"]: c["detail"] for c in report["checks"]}
    problems = []
    for cid in sorted(set(got_fail) ^ set(want["fail"])):
        problems.append(f"{cid}: expected {'fail' if cid in want['fail'] else 'not fail'}, got: {details.get(cid)}")
    for cid in sorted(set(got_skip) ^ set(want["skip"])):
        problems.append(f"{cid}: expected {'skip' if cid in want['skip'] else 'not skip'}, got: {details.get(cid)}")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
    must_failed = any(c["result"] == "fail" and c["level"] == "MUST" for c in report["checks"])
    assert rc == (1 if must_failed else 0), f"exit {rc} with MUST failures {must_failed}"


def case_aro_server(h):
    cts = h.challtestsrv(http01=True)
    srv = h.server(cts, config=ARO_CONFIG)
    html = os.path.join(h.tmp, "aro.html")
    rc, report, _ = run_server_mode(srv.directory, srv.ca_file, cts, html=html)
    check_shape(report)
    compare("aro-server", report, rc)
    page = open(html).read()
    assert "<table>" in page and "jws.alg-none" in page and "draft-aro-acme-retry-options-01" in page


def case_pebble(h):
    cts = h.challtestsrv(http01=True)
    peb = h.pebble(cts)
    rc, report, _ = run_server_mode(peb.directory, peb.ca_file, cts)
    check_shape(report)
    compare("pebble", report, rc)


def case_not_a_directory(h):
    cts = h.challtestsrv(http01=True)
    srv = h.server(cts, config=ARO_CONFIG)
    # An answer that is no directory: the report says so (exit 1).
    rc, out, err = conform("server", srv.directory.replace("/directory", "/acme/new-nonce"), "--ca-bundle",
                           srv.ca_file, "--json")
    assert rc == 1, (rc, err)
    report = json.loads(out)
    got = {c["id"]: c["result"] for c in report["checks"]}
    assert got["directory.get"] == "fail" and report["summary"]["pass"] == 0, report["summary"]
    # No answer at all: it could not run.
    rc, out, err = conform("server", f"https://127.0.0.1:{free_port()}/directory", "--json")
    assert rc == 2 and not out, (rc, out, err)


CASES = [
    ("aro-conform server against aro-server: the expected results", case_aro_server),
    ("aro-conform server against Pebble 2.4: the expected results", case_pebble),
    ("aro-conform server: no directory there (exit 1), nothing there (exit 2)", case_not_a_directory),
]


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
