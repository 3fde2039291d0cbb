"""Mistakes aro finds before an order exists (issue 17), against aro-server
and Pebble: each is refused with the exit status of its kind (64 for what
the command line got wrong, 2 for what the machine does not allow), a
message naming the option or name, and not one newOrder at the CA. Names
are normalized first: bücher.example.com is ordered as its A-labels,
Foo.Example.COM and foo.example.com are one certificate, a name given
twice is ordered once, and a certificate's names change only with
--change-names."""
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, Harness, TestRun, free_port  # noqa: E402

ARO = os.path.join(BUILD, "aro")


class Target:
    """aro pointed at one CA, with a state directory of its own."""

    def __init__(self, h, name, directory, ca, http_port, orders):
        self.name, self.directory, self.ca, self.http_port = name, directory, ca, http_port
        self.orders = orders            # () -> newOrder requests the CA has seen
        self.state = os.path.join(h.tmp, "state-" + name)

    def aro(self, *args, env=None):
        p = subprocess.run([ARO, "--server", self.directory, "--ca-bundle", self.ca, "--state", self.state,
                            "--json", *args], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, **(env or {})))
        return p.returncode, json.loads(p.stdout), p.stderr

    def issue(self, *args):
        return self.aro("--agree-tos", "--http-port", str(self.http_port), "--bind", "127.0.0.1", *args)


def refused(t, status, words, *args, issue=True):
    """args are refused with status, detail holding every word, no order."""
    before = t.orders()
    rc, out, err = t.issue(*args) if issue else t.aro(*args)
    assert rc == status, (args, rc, out, err)
    assert out["result"] == "failed" and out["orders"] == [] if "orders" in out else True, out
    if status == 64:
        assert out["error"]["type"] == "usage", out
    for w in words:
        assert w in out["error"]["detail"], (w, out)
    assert t.orders() == before, f"{args}: an order was sent"


def case_refused(t):
    refused(t, 64, ["http01", "did you mean http-01"], "--challenges", "http01", "issue", "p1.example.com")
    refused(t, 2, ["--hook", "/nonexistent/hook.sh"], "--challenges", "dns-01", "--hook", "/nonexistent/hook.sh",
            "issue", "p2.example.com")
    # An address of no interface here, and a port that is taken.
    refused(t, 2, ["--bind 192.0.2.1"], "--bind", "192.0.2.1", "issue", "p3.example.com")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        taken = s.getsockname()[1]
        refused(t, 2, ["port %d" % taken, "--http-port"], "--http-port", str(taken), "issue", "p4.example.com")
    blocker = os.path.join(t.state + "-file")
    open(blocker, "w").close()
    refused(t, 2, ["--webroot"], "--challenges", "http-01", "--webroot", os.path.join(blocker, "www"),
            "issue", "p5.example.com", issue=False)
    refused(t, 64, ["*.wild.example.com", "dns-01"], "issue", "*.wild.example.com")
    refused(t, 64, ["foo..bar.example.com", "empty label"], "issue", "foo..bar.example.com")
    refused(t, 64, ["-x.example.com", "hyphen"], "issue", "--", "-x.example.com")
    refused(t, 64, ["too", "profile"], "--profile", "too-long-lived", "issue", "p6.example.com")


def case_names(t):
    rc, out, err = t.issue("issue", "b\u00fccher.example.com")
    assert rc == 0 and out["names"] == ["xn--bcher-kva.example.com"], (out, err)
    san = subprocess.run(["openssl", "x509", "-in", out["certificate"], "-noout", "-ext", "subjectAltName"],
                         capture_output=True, text=True).stdout
    assert "DNS:xn--bcher-kva.example.com" in san, san
    # Case folding: one certificate; a name twice: ordered once.
    rc, out, err = t.issue("issue", "Foo.Example.COM", "www.foo.example.com", "WWW.foo.example.com")
    assert rc == 0 and out["names"] == ["foo.example.com", "www.foo.example.com"], (out, err)
    rc, out, err = t.issue("issue", "foo.example.com", "www.foo.example.com")
    assert rc == 0, (out, err)
    rc, out, _ = t.aro("list")
    names = sorted(c["name"] for c in out["certificates"])
    assert names == ["foo.example.com", "xn--bcher-kva.example.com"], names
    # The same names in another order renew the same certificate.
    rc, out, err = t.issue("issue", "www.foo.example.com", "foo.example.com")
    assert rc == 0 and out["certificate"].endswith("/certs/foo.example.com/fullchain.pem"), (out, err)
    # Fewer names would shrink it: only with --change-names.
    refused(t, 64, ["foo.example.com", "www.foo.example.com", "--change-names"], "issue", "foo.example.com")
    rc, out, err = t.issue("--change-names", "issue", "foo.example.com")
    assert rc == 0 and out["names"] == ["foo.example.com"], (out, err)
    rc, out, _ = t.aro("list")
    assert [c["names"] for c in out["certificates"] if c["name"] == "foo.example.com"] == [["foo.example.com"]], out


def main():
    t = TestRun()
    with Harness() as h:
        cts = h.challtestsrv()
        srv = h.server(cts, config={"profiles": {"shortlived": {"description": "six days",
                                                                 "validityPeriod": 518400}}})
        peb = h.pebble(cts)
        targets = [
            Target(h, "aro-server", srv.directory, srv.ca_file, cts.http_port,
                   lambda: srv.metric("aro_http_requests_total", endpoint="new-order")),
            Target(h, "pebble", peb.directory, peb.ca_file, cts.http_port,
                   lambda: peb.requests_by_endpoint().get("new-order", 0)),
        ]
        for tg in targets:
            t.case(f"{tg.name}: mistakes refused before any order", case_refused, tg)
            t.case(f"{tg.name}: IDNA, case folding, duplicates, name changes", case_names, tg)
    t.finish()


if __name__ == "__main__":
    main()
