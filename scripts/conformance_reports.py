#!/usr/bin/env python3
"""Writes the example aro-conform report pages of docs/conformance/ by
hand (no test writes tracked files): server mode against aro-server and
Pebble 2.4, client mode against aro, certbot and lego, all on loopback
with the settings of the tests (tests/e2e/conform_server.py,
conform_clients.py). Prints each target's counts for docs/conformance.md.

    ARO_BUILD_DIR=$PWD/build scripts/conformance_reports.py [OUTDIR]
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from conform_clients import COMMANDS, CONFORM  # noqa: E402
from conform_server import ARO_CONFIG  # noqa: E402
from harness import BUILD, Harness  # noqa: E402


def counts(name, report):
    s = report["summary"]
    lv = s["fail_by_level"]
    print(f"{name}: {s['checks']} checks, {s['pass']} pass, {s['fail']} fail (MUST {lv['MUST']}, SHOULD "
          f"{lv['SHOULD']}, MAY {lv['MAY']}, PRACTICE {lv['PRACTICE']}), {s['skip']} skip")


def run(args, name, out):
    page = os.path.join(out, f"{name}.html")
    p = subprocess.run([CONFORM, *args[:1], "--json", "--html", page, *args[1:]], stdout=subprocess.PIPE,
                       text=True, env={k: v for k, v in os.environ.items()
                                       if k not in ("REQUESTS_CA_BUNDLE", "LEGO_CA_CERTIFICATES")})
    counts(name, json.loads(p.stdout))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "docs", "conformance")
    os.makedirs(out, exist_ok=True)
    with Harness() as h:
        cts = h.challtestsrv(http01=True)
        srv = h.server(cts, config=ARO_CONFIG)
        mgmt = f"http://127.0.0.1:{cts.mgmt_port}"
        run(["server", srv.directory, "--ca-bundle", srv.ca_file, "--challtestsrv", mgmt], "aro-server", out)
        peb = h.pebble(cts)
        run(["server", peb.directory, "--ca-bundle", peb.ca_file, "--challtestsrv", mgmt], "pebble", out)
    for name, cmd in COMMANDS.items():
        run(["client", "--aro-server", os.path.join(BUILD, "aro-server"), "--", *cmd], name, out)


if __name__ == "__main__":
    main()
