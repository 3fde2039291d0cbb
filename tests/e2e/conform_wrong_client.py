"""Every client-mode check of aro-conform can fail: a deliberately wrong
client (wrong_client.py) misbehaves in each scenario, and each check
listed for its variant must fail. Together with the failures aro, certbot
and lego show on their own (conform_expected.CLIENT), every check of
`aro-conform list client` is seen failing at least once."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conform_clients import CONFORM, run_client_mode  # noqa: E402
from conform_expected import CLIENT  # noqa: E402
from harness import Harness, TestRun  # noqa: E402

WRONG = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrong_client.py")]
MUST_FAIL = {
    "1": """client.user-agent client.content-type client.flattened client.alg client.jwk-kid client.url
        client.nonce client.nonce-once client.post-as-get client.no-replay-nonce-header client.challenge-response
        client.csr client.poll-interval client.alternates client.ari-get client.ari-certid client.ari-replaces
        client.badnonce-retry client.retry-after-429 client.retry-after-5xx client.processing
        client.no-response-to-invalid client.ro-offer-taken client.ro-notbefore""",
    "2": "client.issued client.deactivate-abandoned client.ro-same-order",
}
SCENARIOS = {"1": None, "2": "baseline,retry-offer"}
seen_failing = set()


def variant(h, v):
    report = run_client_mode(WRONG, env={"WRONG_VARIANT": v}, scenarios=SCENARIOS[v])
    got = {c["id"]: c for c in report["checks"]}
    seen_failing.update(cid for cid, c in got.items() if c["result"] == "fail")
    missing = [f"{cid}: {got[cid]['result']}: {got[cid]['detail']}" for cid in MUST_FAIL[v].split()
               if got[cid]["result"] != "fail"]
    assert not missing, f"variant {v}: these checks did not fail:\n  " + "\n  ".join(missing)


def every_check(h):
    out = subprocess.run([CONFORM, "list", "client"], stdout=subprocess.PIPE, text=True, check=True).stdout
    ids = {line.split()[0] for line in out.splitlines() if line.strip()}
    shown = set(seen_failing)
    for t in CLIENT.values():
        shown |= set(t["fail"])
    never = sorted(ids - shown)
    assert not never, "client checks never seen failing: " + " ".join(never)


def main():
    run = TestRun()
    for v in MUST_FAIL:
        with Harness() as h:
            run.case(f"wrong client, variant {v}: its checks fail", variant, h, v)
    run.case("every client check is seen failing (here, or with aro, certbot or lego)", every_check, None)
    run.finish()


if __name__ == "__main__":
    main()
