"""aro speaks every retry design the server offers (issue 13), against a real
aro-server (and Pebble) on loopback. In every case http-01 cannot pass
(nothing listens where the CA validates it; aro's own http-01 server is on
another port) and dns-01 works through a hook; what is asserted is what the
server counted (its /metrics) and what aro reports (--json):

- (e) pending-hold, aro's default where the directory advertises "hold":
  one order, which echoes "hold", no re-enable request, the dns-01 attempt
  on the same authorization via "retry-options";
- (d) --retry-options reenable, and the default against a server without
  pending-hold: one order, one accepted re-enable;
- --retry-options off: the legacy fallback, two orders, no re-enable;
- (f) --preauthorize: newAuthz per non-wildcard name, then an order that
  is ready at once: with pending-hold (f)+(e), re-enabling (f)+(d), and a
  new newAuthz per further type under off and against --no-retry-options;
  a wildcard goes through the order;
- an earlier run's order whose authorization carries an offer (invalid
  or held) is resumed and taken on, the same order;
- remembered for renew: a plain `renew --force` pre-authorizes again and
  does not ask for pending-hold when issue said reenable;
- Pebble 2.4 (no retry-options, no newAuthz): the legacy fallback still
  works, and --preauthorize says it falls back to the order."""
import glob
import json
import os
import signal
import subprocess
import sys

from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(__file__))
import acme  # noqa: E402
from harness import BUILD, free_port, run_cases, wait_for  # noqa: E402

ARO = os.path.join(BUILD, "aro")
CONNECTION = "urn:ietf:params:acme:error:connection"


class Setup:
    """challtestsrv (DNS only: nothing answers http-01) and a CA; aro's
    http-01 server on a port the CA never validates."""

    def __init__(self, h, server="aro", config=None, flags=()):
        self.h = h
        self.cts = h.challtestsrv()
        if server == "pebble":
            self.srv = h.pebble(self.cts)
        else:
            self.srv = h.server(self.cts, config=dict({"retryMinBackoffSeconds": 1}, **(config or {})),
                                flags=flags)
        self.hook = self.cts.dns_hook(os.path.join(h.tmp, f"dns-hook-{self.cts.mgmt_port}.sh"))
        self.blocked = free_port()
        self.state = os.path.join(h.tmp, f"state-{self.cts.mgmt_port}")

    def aro(self, *args, names=("fallback.example.com",), cmd="issue"):
        argv = [ARO, "--server", self.srv.directory, "--ca-bundle", self.srv.ca_file, "--state", self.state,
                "--json"]
        if cmd == "issue":
            argv += ["--agree-tos", "--challenges", "http-01,dns-01", "--http-port", str(self.blocked),
                     "--bind", "127.0.0.1", "--hook", self.hook]
        p = subprocess.run(argv + list(args) + [cmd, *names], capture_output=True, text=True, timeout=240)
        sys.stderr.write(p.stderr)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            raise AssertionError(f"aro exited {p.returncode}; stdout is not JSON: {p.stdout!r}")
        return p.returncode, j, p.stderr

    def issued(self, *args, **kw):
        rc, j, err = self.aro(*args, **kw)
        assert rc == 0 and j["result"] in ("issued", "renewed") and j["error"] is None, j
        return j, err

    def metric(self, name, **labels):
        return self.srv.metric(name, **labels)

    def requests(self, endpoint):
        return self.srv.metric("aro_http_requests_total", endpoint=endpoint)

    def order_as_aro(self, url):
        """The order as the CA shows it to aro's account (POST-as-GET with
        aro's own account key)."""
        [path] = glob.glob(os.path.join(self.state, "accounts", "*", "key.pem"))
        with open(path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        c = acme.Client(self.srv.directory, self.srv.ca_file, key=key)
        c.new_account(onlyReturnExisting=True)
        return c.get(url).json


def attempts(j, name=None):
    """type/outcome/via of each attempt (of name), in order."""
    return [f"{a['type']}/{a['outcome']}/{a['via']}" for a in j["attempts"]
            if name is None or a["identifier"] == name]


def assert_attempts_in_orders(j):
    """Every attempt names an order the run used (pre-authorizations: the
    order that used them)."""
    for a in j["attempts"]:
        assert a["order"] in j["orders"], (a, j["orders"])


def assert_failure_then_dns(j, via, name=None):
    assert attempts(j, name) == ["http-01/invalid/first", f"dns-01/valid/{via}"], j["attempts"]
    first = next(a for a in j["attempts"] if name is None or a["identifier"] == name)
    assert first["problem"] == CONNECTION, first


def case_hold_default(h):
    s = Setup(h)
    j, err = s.issued()
    assert len(j["orders"]) == 1, j
    assert_failure_then_dns(j, "retry-options")
    assert_attempts_in_orders(j)
    # Same authorization: the failed and the valid challenge are of one order,
    # and the server made one order and one authorization, with no re-enable.
    assert s.metric("aro_orders_created_total") == 1
    assert s.metric("aro_authorizations_created_total") == 1
    assert s.metric("aro_reenables_total", result="accepted") == 0
    assert s.requests("authz-retry") == 0, "a re-enable request under pending-hold"
    assert s.metric("aro_validations_total", type="http-01", result="invalid") == 1
    assert s.metric("aro_validations_total", type="dns-01", result="valid") == 1
    # The order echoes the pending-hold request.
    o = s.order_as_aro(j["orders"][0])
    assert o["status"] == "valid" and o.get("retry-options", {}).get("hold") is True, o
    assert "pending-hold" in err, "aro does not say the order is held"


def case_reenable(h):
    s = Setup(h)
    j, err = s.issued("--retry-options", "reenable")
    assert len(j["orders"]) == 1, j
    assert_failure_then_dns(j, "retry-options")
    assert s.metric("aro_orders_created_total") == 1
    assert s.metric("aro_reenables_total", result="accepted") == 1
    assert "hold" not in s.order_as_aro(j["orders"][0]).get("retry-options", {}), \
        "pending-hold asked under --retry-options reenable"


def case_default_without_server_hold(h):
    # A server that offers retry-options without pending-hold: aro asks for
    # no hold (the directory does not advertise it) and re-enables.
    s = Setup(h, config={"pendingHold": False})
    j, err = s.issued()
    assert len(j["orders"]) == 1, j
    assert_failure_then_dns(j, "retry-options")
    assert s.metric("aro_orders_created_total") == 1
    assert s.metric("aro_reenables_total", result="accepted") == 1


def case_off(h):
    s = Setup(h)
    j, err = s.issued("--retry-options", "off")
    assert len(j["orders"]) == 2, j
    assert_failure_then_dns(j, "new-order")
    assert [a["order"] for a in j["attempts"]] == j["orders"], j
    assert s.metric("aro_orders_created_total") == 2
    assert s.metric("aro_reenables_total", result="accepted") == 0
    assert s.requests("authz-retry") == 0


def preauthorized(s, *args, names=("pre.example.com",)):
    """--preauthorize: issued with one order that was ready at once (its
    only authorizations the pre-authorized ones) for names without a
    wildcard."""
    j, err = s.issued("--preauthorize", *args, names=names)
    assert len(j["orders"]) == 1 and s.metric("aro_orders_created_total") == 1, j
    assert_attempts_in_orders(j)
    assert s.requests("new-authz") >= 1, "no newAuthz request"
    assert " (ready" in err, "the order was not ready at once"
    return j, err


def preauth_case(h, args, via, new_authz, reenabled, flags=()):
    """One name pre-authorized through the http-01 failure: the dns-01
    attempt via `via`, and what the server counted: newAuthz requests (one
    authorization each) and accepted re-enables."""
    s = Setup(h, flags=flags)
    j, err = preauthorized(s, *args)
    assert_failure_then_dns(j, via)
    counts = {"new-authz": s.requests("new-authz"),
              "authorizations": s.metric("aro_authorizations_created_total"),
              "re-enables": s.metric("aro_reenables_total", result="accepted"),
              # one refused as too early (the server's clock) is sent again
              "re-enable requests": min(s.requests("authz-retry"), 1)}
    want = {"new-authz": new_authz, "authorizations": new_authz, "re-enables": reenabled,
            "re-enable requests": reenabled}
    assert counts == want, (counts, want)
    return err


def case_preauth_hold(h):
    # (f)+(e): pending-hold asked in newAuthz; the one pre-authorization
    # carries through the failure; the order reuses it.
    preauth_case(h, [], "retry-options", new_authz=1, reenabled=0)


def case_preauth_reenable(h):
    # (f)+(d): the invalid pre-authorization is re-enabled.
    preauth_case(h, ["--retry-options", "reenable"], "retry-options", new_authz=1, reenabled=1)


def case_preauth_off(h):
    # (f) alone: a new newAuthz for the other type, the legacy way.
    preauth_case(h, ["--retry-options", "off"], "new-order", new_authz=2, reenabled=0)


def case_preauth_plain_server(h):
    # (f) against --no-retry-options: no offer, so a new newAuthz; aro asks
    # for no hold there (the directory advertises no retry-options).
    err = preauth_case(h, [], "new-order", new_authz=2, reenabled=0, flags=["--no-retry-options"])
    assert "pending-hold" not in err


def case_preauth_bounded(h):
    # --max-orders bounds the newAuthz per name: with 1, the failed
    # pre-authorization is the end (no second newAuthz, no order).
    s = Setup(h)
    rc, j, err = s.aro("--preauthorize", "--retry-options", "off", "--max-orders", "1")
    assert rc == 2 and j["result"] == "failed" and j["error"]["type"] == CONNECTION, j
    assert j["orders"] == [] and attempts(j) == ["http-01/invalid/first"], j
    assert j["attempts"][0]["order"] is None, j
    assert s.requests("new-authz") == 1 and s.metric("aro_orders_created_total") == 0


def case_preauth_wildcard(h):
    # The wildcard cannot be pre-authorized (7.4.1): w.example.com is, with
    # pending-hold through its http-01 failure; *.w.example.com goes through
    # the order with dns-01.
    s = Setup(h)
    names = ("w.example.com", "*.w.example.com")
    j, err = s.issued("--preauthorize", names=names)
    assert len(j["orders"]) == 1, j
    assert_failure_then_dns(j, "retry-options", name="w.example.com")
    assert attempts(j, "*.w.example.com") == ["dns-01/valid/first"], j["attempts"]
    assert_attempts_in_orders(j)
    assert s.requests("new-authz") == 1, "a wildcard was pre-authorized"
    assert s.metric("aro_authorizations_created_total") == 2
    assert s.metric("aro_orders_created_total") == 1
    assert s.metric("aro_reenables_total", result="accepted") == 0


def case_remembered_for_renew(h):
    s = Setup(h)
    j, err = preauthorized(s, "--retry-options", "reenable", names=("renew.example.com",))
    # renew with no flag at all: the certificate's own settings.
    rc, r, err = s.aro("--force", names=(), cmd="renew")
    assert rc == 0 and r["result"] == "renewed", r
    [c] = r["certificates"]
    assert s.requests("new-authz") == 2, "renew did not pre-authorize again"
    assert len(c["orders"]) == 1
    assert "hold" not in s.order_as_aro(c["orders"][0]).get("retry-options", {}), \
        "renew asked for pending-hold although issue said --retry-options reenable"
    # A flag given to renew overrides: --no-preauthorize.
    rc, r, err = s.aro("--force", "--no-preauthorize", names=(), cmd="renew")
    assert rc == 0 and s.requests("new-authz") == 2, "--no-preauthorize pre-authorized"


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def interrupted_in_not_before(s, *args):
    """Run aro until it waits for the offer's notBefore after the http-01
    failure, then SIGINT it (--deactivate none keeps the authorization and
    its offer for the rerun)."""
    argv = [ARO, "--server", s.srv.directory, "--ca-bundle", s.srv.ca_file, "--state", s.state, "--json",
            "--agree-tos", "--challenges", "http-01,dns-01", "--http-port", str(s.blocked), "--bind",
            "127.0.0.1", "--hook", s.hook, "--deactivate", "none", *args, "issue", "resume.example.com"]
    log = os.path.join(s.h.tmp, f"interrupted-{s.cts.mgmt_port}.log")
    with open(log, "w") as err:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            wait_for(lambda: "for retry-options notBefore" in read(log) or p.poll() is not None,
                     timeout=120, what="aro waiting for notBefore")
            p.send_signal(signal.SIGINT)
            out, _ = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    sys.stderr.write(read(log))
    assert p.returncode == 130, (p.returncode, out)
    return json.loads(out)


def case_earlier_runs_offer(h):
    # An order of an earlier run whose authorization carries an offer: the
    # rerun (default mode) resumes the same order and takes the offer,
    # re-enabling an invalid authorization (the earlier run never asked for
    # pending-hold) or answering a held one.
    s = Setup(h, config={"retryMinBackoffSeconds": 4})
    first = interrupted_in_not_before(s, "--retry-options", "reenable")
    j, err = s.issued(names=("resume.example.com",))
    assert j["orders"] == first["orders"], (first["orders"], j["orders"])
    assert attempts(j) == ["dns-01/valid/retry-options"], j["attempts"]
    assert s.metric("aro_orders_created_total") == 1
    assert s.metric("aro_reenables_total", result="accepted") == 1
    s = Setup(h, config={"retryMinBackoffSeconds": 4})
    first = interrupted_in_not_before(s)
    j, err = s.issued("--retry-options", "reenable", names=("resume.example.com",))
    assert j["orders"] == first["orders"], (first["orders"], j["orders"])
    assert attempts(j) == ["dns-01/valid/retry-options"], j["attempts"]
    assert s.metric("aro_orders_created_total") == 1
    assert s.metric("aro_reenables_total", result="accepted") == 0 and s.requests("authz-retry") == 0


def case_pebble(h):
    s = Setup(h, server="pebble")
    # No retry-options at Pebble: the default mode is the legacy fallback.
    j, err = s.issued()
    assert len(j["orders"]) == 2, j
    assert_failure_then_dns(j, "new-order")
    # No newAuthz at Pebble: --preauthorize says so and uses the order (a
    # new name: nothing learned for it yet).
    j, err = s.issued("--preauthorize", names=("pre.example.com",))
    assert "has no newAuthz" in err, err
    assert len(j["orders"]) == 2, j
    assert_failure_then_dns(j, "new-order")


def case_usage(h):
    # A wrong mode is a usage error (64), said on one line, before any request.
    state = os.path.join(h.tmp, "usage-state")
    for args, says in ((["--retry-options", "maybe", "issue", "x.example.com"], "hold, reenable or off"),
                       (["--preauthorize", "revoke", "cert.pem"], "does not apply to revoke")):
        p = subprocess.run([ARO, "--state", state, "--json", *args], capture_output=True, text=True, timeout=30)
        assert p.returncode == 64 and says in p.stderr, (p.returncode, p.stderr)
        assert json.loads(p.stdout)["error"]["type"] == "usage", p.stdout
    help_text = subprocess.run([ARO, "help", "issue"], capture_output=True, text=True, timeout=30).stdout
    for opt in ("--retry-options MODE", "--preauthorize", "--no-preauthorize"):
        assert opt in help_text, help_text


if __name__ == "__main__":
    run_cases([
        ("usage: --retry-options and --preauthorize", case_usage),
        ("pending-hold by default: one order, echoing hold, no re-enable", case_hold_default),
        ("--retry-options reenable: one order, one accepted re-enable", case_reenable),
        ("a server without pending-hold: re-enabled", case_default_without_server_hold),
        ("--retry-options off: two orders", case_off),
        ("--preauthorize with pending-hold: one authorization, one order", case_preauth_hold),
        ("--preauthorize --retry-options reenable: re-enabled pre-authorization", case_preauth_reenable),
        ("--preauthorize --retry-options off: a newAuthz per type", case_preauth_off),
        ("--preauthorize against --no-retry-options: a newAuthz per type", case_preauth_plain_server),
        ("--preauthorize bounded by --max-orders", case_preauth_bounded),
        ("--preauthorize with a wildcard: the wildcard through the order", case_preauth_wildcard),
        ("--preauthorize and --retry-options remembered for renew", case_remembered_for_renew),
        ("an earlier run's order with an offer: resumed and continued", case_earlier_runs_offer),
        ("Pebble: the legacy fallback, --preauthorize falls back to the order", case_pebble),
    ])
