"""Legacy clients see RFC 8555 (issue 5): certbot and lego, whose first
(and only) challenge fails, run against aro-server with retry-options and
against Debian's Pebble 2.4. The runs must match: same outcome and exit
status, same number of orders, same non-polling requests by endpoint.
Polling requests (authz, order, nonces, directory) depend on timing and
are reported, not compared."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, TestRun, aro_requests_by_endpoint, free_port  # noqa: E402
from peers import run  # noqa: E402

NON_POLLING = ("new-account", "new-order", "challenge", "finalize", "certificate", "revoke-cert")


def certbot_fail(h, directory, ca_file, tag):
    d = os.path.join(h.tmp, f"certbot-{tag}")
    # Standalone on a port the CA does not validate: as if port 80 were blocked.
    return run(["certbot", "certonly", "--server", directory, "--standalone", "--http-01-port", str(free_port()),
                "--http-01-address", "127.0.0.1", "--non-interactive", "--agree-tos", "-m", "t@example.com",
                "-d", "blocked.example.com", "--config-dir", f"{d}/conf", "--work-dir", f"{d}/work",
                "--logs-dir", f"{d}/logs"], env={"REQUESTS_CA_BUNDLE": ca_file})


def lego_fail(h, directory, ca_file, tag):
    return run(["lego", "--server", directory, "--email", "t@example.com", "--accept-tos",
                "--path", os.path.join(h.tmp, f"lego-{tag}"), "--domains", "blocked.example.com",
                "--http", "--http.port", f"127.0.0.1:{free_port()}", "run"], env={"LEGO_CA_CERTIFICATES": ca_file})


def compare(h, client):
    cts = h.challtestsrv()
    srv = h.server(cts)
    peb = h.pebble(cts)
    rc_aro, out_aro = client(h, srv.directory, srv.ca_file, "aro")
    rc_peb, out_peb = client(h, peb.directory, peb.ca_file, "pebble")
    req_aro = aro_requests_by_endpoint(srv)
    req_peb = peb.requests_by_endpoint()
    print(f"   exit aro={rc_aro} pebble={rc_peb}")
    print(f"   requests aro-server: {dict(sorted(req_aro.items()))}")
    print(f"   requests pebble:     {dict(sorted(req_peb.items()))}")
    assert rc_aro == rc_peb and rc_aro != 0, (rc_aro, rc_peb, out_aro[-2000:], out_peb[-2000:])
    for ep in NON_POLLING:
        assert req_aro.get(ep, 0) == req_peb.get(ep, 0), (ep, req_aro, req_peb)
    assert req_aro.get("new-order") == 1
    # The client really met a retry-options offer and ignored it.
    assert srv.metric("aro_validations_total", type="http-01", result="invalid") == 1
    assert srv.metric("aro_reenables_total") == 0
    assert "retry-options" not in out_aro


def case_certbot(h):
    compare(h, certbot_fail)


def case_lego(h):
    compare(h, lego_fail)


CASES = [
    ("certbot, http-01 blocked: aro-server (retry-options on) == Pebble 2.4", case_certbot),
    ("lego, http-01 blocked: aro-server (retry-options on) == Pebble 2.4", case_lego),
]

if __name__ == "__main__":
    t = TestRun()
    for name, fn in CASES:
        with Harness() as h:
            t.case(name, fn, h)
    t.finish()
