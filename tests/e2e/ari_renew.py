"""aro renew with ARI (RFC 9773) against aro-server: no Debian peer speaks
ARI, so this is its test. A fresh certificate is not due (the renewal
window is in its last third): exit 0, as contracts.md says of renew (it was
1 before issue 17); a forced renewal sends "replaces" with the old
certificate's CertID, and the server then counts it as replaced."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, Harness, TestRun  # noqa: E402


def case_ari(h):
    cts = h.challtestsrv()
    srv = h.server(cts)
    base = ["--server", srv.directory, "--ca-bundle", srv.ca_file, "--state", os.path.join(h.tmp, "st"),
            "--agree-tos", "--http-port", str(cts.http_port), "--bind", "127.0.0.1", "--json"]

    def aro(*cmd):
        p = subprocess.run([os.path.join(BUILD, "aro"), *cmd, *base], capture_output=True, text=True, timeout=120)
        return p.returncode, json.loads(p.stdout), p.stderr

    rc, out, err = aro("issue", "ari.example.com")
    assert rc == 0 and out["result"] == "issued", (out, err)
    # Not due is no failure: exit 0 (contracts.md), said per certificate.
    rc, out, err = aro("renew")
    assert rc == 0 and out["result"] == "not-due", (out, err)
    assert [c["result"] for c in out["certificates"]] == ["not-due"], out
    assert out["certificates"][0]["name"] == "ari.example.com", out
    assert "ARI window" in err, err
    assert srv.metric("aro_http_requests_total", endpoint="renewal-info", status="200") == 1
    rc, out, err = aro("renew", "--force")
    assert rc == 0 and out["result"] == "renewed", (out, err)
    assert len(out["certificates"]) == 1 and len(out["certificates"][0]["orders"]) == 1, out
    assert "renewing (ARI, replaces)" in err, err
    assert srv.metric("aro_orders_created_total") == 2
    # The next renewal replaces the newest certificate, not the consumed one.
    rc, out, err = aro("renew", "--force")
    assert rc == 0 and out["result"] == "renewed" and "alreadyReplaced" not in err, (out, err)
    assert srv.metric("aro_http_requests_total", endpoint="new-order", status="409") == 0


if __name__ == "__main__":
    t = TestRun()
    with Harness() as h:
        t.case("aro renew: ARI window, not due; forced renewal with replaces", case_ari, h)
    t.finish()
