"""Every server-mode check of aro-conform can fail: against a
deliberately wrong ACME server (wrong_acme.py: aro-server behind a proxy
that breaks one thing per check), each check listed for a mode must fail
there. Together with the failures that aro-server and Pebble show on
their own (conform_expected.SERVER), every check of `aro-conform list
server` is seen failing at least once; the last case asserts that."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conform_expected import SERVER  # noqa: E402
from harness import BUILD, Harness, TestRun  # noqa: E402
from wrong_acme import WrongACME  # noqa: E402

CONFORM = os.path.join(BUILD, "aro-conform")
ARO_CONFIG = {"retryMinBackoffSeconds": 3, "alternateRoots": 1}

# mode -> the checks that must fail against it (see wrong_acme.MODES).
MUST_FAIL = {
    "A": """nonce.head nonce.head-200 nonce.get-204 nonce.fresh http.get-405
        account.create account.orders-url account.no-reflect account.existing account.only-return-existing
        account.only-return-existing-known account.tos-required account.update account.unsupported-contact
        account.invalid-contact-type account.orders-list-pending account.rollover-old-key
        account.rollover-keeps-orders account.rollover-url account.deactivate account.deactivated-401
        account.foreign-deactivate
        jws.rs256 jws.alg-mismatch jws.bad-signature jws.jwk-and-kid jws.neither jws.kid-required jws.jwk-required
        jws.unknown-kid jws.url-missing jws.content-type jws.no-content-type jws.nonce-missing jws.nonce-invented
        jws.nonce-replayed jws.nonce-malformed jws.badnonce-retry jws.post-as-get jws.get-order-405
        order.create order.object order.expires order.immutable authz.object authz.no-wildcard-field chall.token
        chall.respond chall.up-link authz.valid authz.valid-expires chall.invalid chall.error chall.error-invalid
        order.invalid chall.invalid-final authz.deactivate authz.foreign-deactivate order.deactivated-authz
        authz.deactivated-insufficient authz.wildcard chall.dns01 order.newauthz order.foreign-read order.not-found
        finalize.not-ready finalize.bad-csr-stays-ready finalize.accepted order.valid-expires
        cert.download cert.pem cert.alternates
        ari.window ari.retry-after ari.replaces ari.already-replaced
        revoke.bad-reason revoke.by-cert-key revoke.unauthorized revoke.by-account
        ro.meta ro.not-on-pending ro.offer ro.offer-unattempted ro.offer-on-challenge ro.offer-deadline
        ro.backoff-min ro.order-offer ro.fresh-token-stable ro.reenable-too-early ro.reenable-foreign
        ro.reenable-unlisted ro.reenable-bad-payload ro.legacy-post-failed ro.legacy-post-untried
        ro.reenable-accept ro.offer-gone ro.order-pending ro.reenable-repeat ro.order-ready ro.reenable-not-invalid
        ro.attempts ro.backoff-grows ro.exhausted ro.hold-order ro.hold-failure ro.hold-no-url ro.hold-too-early
        ro.hold-take
        error.status-member error.identifier-top-level error.malformed-json error.account-does-not-exist
        nonce.post-success nonce.post-error nonce.syntax nonce.unique link.index""",
    "B": "directory.get",
    "C": "directory.content-type directory.resources directory.revoke-keychange directory.meta",
    "D": """account.invalid-contact account.orders-list account.rollover chall.validated order.ready
        authz.keeps-invalid-challenge ro.no-member-without-meta ro.hold-without-meta""",
    "E": "jws.es256",
    "F": "cert.end-entity-first cert.chain cert.matches",
    "G": "order.valid",
    "H": "revoke.already",
    "I": "jws.post-as-get-bootstrap ari.replaced-twice jws.algorithms-field ro.hold-unlisted error.acme-namespace",
}

seen_failing = set()


def run_mode(h, mode):
    cts = h.challtestsrv(http01=True)
    srv = h.server(cts, config=ARO_CONFIG)
    key = os.path.join(srv.data, "https-key.pem")
    proxy = WrongACME(srv.port, srv.ca_file, key, mode)
    try:
        p = subprocess.run([CONFORM, "server", proxy.directory, "--ca-bundle", srv.ca_file, "--challtestsrv",
                            f"http://127.0.0.1:{cts.mgmt_port}", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        proxy.stop()
    assert p.returncode == 1, f"exit {p.returncode}: {p.stderr[-2000:]}"
    report = json.loads(p.stdout)
    got = {c["id"]: c for c in report["checks"]}
    missing = [f"{cid}: {got[cid]['result']}: {got[cid]['detail']}" for cid in MUST_FAIL[mode].split()
               if got[cid]["result"] != "fail"]
    seen_failing.update(cid for cid, c in got.items() if c["result"] == "fail")
    assert not missing, f"mode {mode}: these checks did not fail:\n  " + "\n  ".join(missing)


def case_every_check_fails_somewhere(h):
    ids = subprocess.run([CONFORM, "list", "server"], stdout=subprocess.PIPE, text=True, check=True).stdout.split("\n")
    ids = {line.split()[0] for line in ids if line.strip()}
    shown = set(seen_failing) | set(SERVER["aro-server"]["fail"]) | set(SERVER["pebble"]["fail"])
    never = sorted(ids - shown)
    assert not never, "checks never seen failing: " + " ".join(never)


def main():
    only = sys.argv[1:]
    run = TestRun()
    for mode in MUST_FAIL:
        if only and mode not in only:
            continue
        with Harness() as h:
            run.case(f"wrong ACME server, mode {mode}: its checks fail", run_mode, h, mode)
    if not only:
        run.case("every server check is seen failing (here, or against aro-server or Pebble)",
                 case_every_check_fails_somewhere, None)
    run.finish()


if __name__ == "__main__":
    main()
