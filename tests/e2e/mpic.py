"""Multi-perspective issuance corroboration end to end (CA/Browser Forum
Baseline Requirements 3.2.2.9): a primary aro-server and three remote
perspectives (`aro-server --perspective`), separate processes, each
perspective with a pebble-challtestsrv of its own as its DNS (and as the
http-01 and tls-alpn-01 responder it sees), p3 in a network namespace of
its own reached over a veth pair. A name "answers differently" at a
perspective when that perspective's challtestsrv serves another TXT
record, another A record or a CAA record, as a localised hijack would.

    all agree (dns-01, http-01, tls-alpn-01) -> valid
    one differs (TXT, or A record) -> still valid (1 of 3 may not corroborate)
    two differ -> invalid, unauthorized, one subproblem per perspective;
        retry-options offers no dns-01 again, and another type passes
    the primary's own failure -> the ordinary failure, with a dns-01 retry
    CAA forbidding at two perspectives -> caa (no offer); at one -> valid
    one perspective down -> valid; down + slower than the timeout -> invalid
    a client without the primary's credentials is refused by a perspective;
    a perspective with another's or a foreign certificate is refused
Every network address stays on this machine; the namespace, its veth
pair and every process are removed at the end. Exit 77 when network
namespaces cannot be made here."""
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import acme  # noqa: E402
from harness import BUILD, ChallTestSrv, Harness, TestRun, free_port, stop_process, wait_for  # noqa: E402
from hostile import sanitizer_report  # noqa: E402

SERVER = os.path.join(BUILD, "aro-server")
TIMEOUT_MS = 1000   # short, so the slow perspective's case ends quickly (asserted: the outcome)


# ---- a network namespace of the test's own -------------------------------

class Netns:
    """A namespace with lo up and a veth pair to it: 10.A.B.1 here, 10.A.B.2
    there (a /30 no route of this machine covers)."""

    def __init__(self):
        tag = f"{os.getpid() % 100000}"
        self.name = f"aro-mpic-{tag}"
        self.veth = f"amp{tag}"
        routes = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True,
                                text=True).stdout + subprocess.run(["ip", "-4", "addr"], capture_output=True,
                                                                   text=True).stdout
        for _ in range(100):
            a, b = random.randint(200, 250), random.randint(0, 255)
            if f"10.{a}.{b}." not in routes and f"10.{a}.0.0" not in routes:
                break
        self.here, self.there = f"10.{a}.{b}.1", f"10.{a}.{b}.2"
        self.made = False
        steps = [["ip", "netns", "add", self.name],
                 ["ip", "link", "add", self.veth + "a", "type", "veth", "peer", "name", self.veth + "b"],
                 ["ip", "link", "set", self.veth + "b", "netns", self.name],
                 ["ip", "addr", "add", self.here + "/30", "dev", self.veth + "a"],
                 ["ip", "link", "set", self.veth + "a", "up"],
                 ["ip", "netns", "exec", self.name, "ip", "addr", "add", self.there + "/30", "dev", self.veth + "b"],
                 ["ip", "netns", "exec", self.name, "ip", "link", "set", self.veth + "b", "up"],
                 ["ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up"]]
        for s in steps:
            r = subprocess.run(s, capture_output=True, text=True)
            if r.returncode != 0:
                self.remove()
                raise OSError(f"{' '.join(s)}: {r.stderr.strip()}")
            self.made = True

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def remove(self):
        subprocess.run(["ip", "link", "del", self.veth + "a"], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class NsChallTestSrv(ChallTestSrv):
    """pebble-challtestsrv inside the namespace: DNS and responders on the
    namespace's own loopback, management on its veth address."""

    def __init__(self, tmp, ns):
        self.mgmt_host = ns.there
        self.dns_port, self.mgmt_port, self.http_port, self.tls_port = 8053, 8055, 5002, 5001
        args = ns.prefix() + ["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                              "-dns01", "127.0.0.1:8053", "-management", f"{ns.there}:8055", "-https01", "",
                              "-http01", "127.0.0.1:5002", "-tlsalpn01", "127.0.0.1:5001"]
        self.log = open(os.path.join(tmp, "challtestsrv-netns.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: self._post("/clear-txt", {"host": "_probe.example.com."}) is not None,
                 what="challtestsrv in the namespace")


def cts_post(cts, path, body):
    return cts._post(path, body)


# ---- perspectives --------------------------------------------------------

class Perspective:
    """aro-server --perspective: its own data (credentials), resolver and
    responders (its challtestsrv), optionally inside the namespace."""

    def __init__(self, tmp, name, data, cts, listen, ns=None):
        self.name, self.data, self.cts, self.listen, self.ns = name, data, cts, listen, ns
        self.log_path = os.path.join(tmp, f"perspective-{name}-{listen.replace(':', '_')}.log")
        self.proc = None
        self.start()

    def start(self):
        args = (self.ns.prefix() if self.ns else []) + [SERVER, "--perspective", self.listen, "--data", self.data,
                                                        "--dns", f"127.0.0.1:{self.cts.dns_port}",
                                                        "--http-port", str(self.cts.http_port),
                                                        "--tls-port", str(self.cts.tls_port)]
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        host, port = self.listen.rsplit(":", 1)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError(f"perspective {self.name} exited: " + open(self.log_path).read())
            with socket.create_connection((host, int(port)), timeout=1):
                return True
        wait_for(listening, what=f"perspective {self.name} on {self.listen}")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)  # a stopped process must see the TERM
        rc = stop_process(self.proc, sig)
        self.log.close()
        return rc


def issue(data, name):
    r = subprocess.run([SERVER, "--data", data, "--issue-perspective", name], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


# ---- one attempt ---------------------------------------------------------

class World:
    pass


def order(c, name):
    r = c.new_order(name)
    assert r.status == 201, r
    az_url = r.json["authorizations"][0]
    return r, az_url, c.get(az_url).json


def answer(c, az_url, ch):
    r = c.post(ch["url"], {})
    assert r.status == 200, r
    return c.wait_authz(az_url).json


def set_everywhere(W, name, ctype, c, ch, differ=(), primary_differs=False):
    """Make ch pass at the primary and every perspective, except at the
    perspectives named in differ (and at the primary if primary_differs),
    which see something else."""
    ka = c.key_authz(ch["token"])
    for who, cts in [("primary", W.cts0)] + [(n, W.cts[n]) for n in ("p1", "p2", "p3")]:
        wrong = who in differ or (who == "primary" and primary_differs)
        if ctype == "dns-01":
            cts.set_txt(name, "a-value-the-client-never-set" if wrong else c.dns_value(ch["token"]))
        elif ctype == "http-01":
            cts.add_http01(ch["token"], ka + ".other" if wrong else ka)
        elif ctype == "tls-alpn-01":
            cts.add_tlsalpn01(name, "other." + ka if wrong else ka)


def attempt(W, c, name, ctype, **how):
    """A new order for name, ctype answered with the records set_everywhere
    makes (how: differ=..., primary_differs=...): (authz URL, authz)."""
    _, az_url, az = order(c, name)
    ch = c.challenge_of(az, ctype)
    set_everywhere(W, name, ctype, c, ch, **how)
    return az_url, answer(c, az_url, ch)


def by_perspective(err):
    """The subproblems of a corroboration failure, by their "perspective
    NAME" prefix."""
    return {s["detail"].split(":", 1)[0]: s for s in err.get("subproblems", [])}


def looks_logged(W, name, at_least):
    """What each perspective logged of its look at name ("passed", "failed
    caa", ...; None for no line), once at_least of them have logged one.
    A perspective logs every look it makes, but the primary may decide
    without waiting for the last one, whose request may then never reach it."""
    def seen():
        out = {}
        for who, p in W.persp.items():
            line = next((l for l in open(p.log_path).read().splitlines() if f" {name}: " in l), None)
            out[who] = line.split(f" {name}: ", 1)[1].split(" (", 1)[0].strip() if line else None
        return out if sum(v is not None for v in out.values()) >= at_least else None
    return wait_for(seen, timeout=10, what=f"{at_least} perspectives to log their look at {name}")


def did_not_pass(W, who, name, before):
    """who did not corroborate name: not counted valid, and what it logged
    (if its request reached it) is a failure."""
    assert W.srv.metric("aro_perspective_validations_total", perspective=who, result="valid") == before, who
    outcome = looks_logged(W, name, 2)[who]
    assert outcome is None or outcome.startswith("failed"), (who, outcome)


def failed_chall(az, ctype):
    ch = next(x for x in az["challenges"] if x["type"] == ctype)
    assert ch["status"] == "invalid", az
    return ch


def offered_types(az):
    return sorted(x["type"] for x in az.get("retry-options", {}).get("challenges", []))


# ---- the cases -----------------------------------------------------------

def case_all_agree(W, ctype):
    c = W.client
    name = f"agree-{ctype}.example.com"
    before = W.srv.metric("aro_corroborations_total", result="corroborated")
    _, az = attempt(W, c, name, ctype)
    assert az["status"] == "valid", az
    assert W.srv.metric("aro_corroborations_total", result="corroborated") == before + 1
    logged = looks_logged(W, name, 2)
    assert all(v in (None, "passed") for v in logged.values()), logged


def case_one_differs(W, ctype, how):
    c = W.client
    name = f"one-{how}-{ctype}.example.com"
    who = "p2" if how == "txt" else "p3"
    before = W.srv.metric("aro_perspective_validations_total", perspective=who, result="valid")
    if how == "a-record":
        # p3 (in its namespace) resolves the name elsewhere, where nothing answers.
        cts_post(W.cts["p3"], "/add-a", {"host": name + ".", "addresses": ["127.0.0.2"]})
    _, az = attempt(W, c, name, ctype, differ=("p2",) if how == "txt" else ())
    assert az["status"] == "valid", az
    did_not_pass(W, who, name, before)


def case_two_differ(W):
    c = W.client
    name = "two-differ.example.com"
    az_url, az = attempt(W, c, name, "dns-01", differ=("p1", "p3"))
    assert az["status"] == "invalid", az
    err = failed_chall(az, "dns-01")["error"]
    assert err["type"] == "urn:ietf:params:acme:error:unauthorized", err
    assert "multi-perspective corroboration failed: 2 of 3" in err["detail"], err
    subs = by_perspective(err)
    assert sorted(subs) == ["perspective p1", "perspective p3"], err
    for s in subs.values():
        assert s["identifier"] == {"type": "dns", "value": name}, s
        assert s["type"].startswith("urn:ietf:params:acme:error:"), s
    # retry-options: the other types, never dns-01 again.
    assert offered_types(az) == ["http-01", "tls-alpn-01"], az.get("retry-options")
    W.corroboration_failed = (az_url, az)


def case_reenable_after_corroboration_failure(W):
    c = W.client
    az_url, az = W.corroboration_failed
    name = az["identifier"]["value"]
    ro = az["retry-options"]
    dns = next(x for x in az["challenges"] if x["type"] == "dns-01")
    r = c.post(ro["url"], {"challenge": dns["url"]})
    assert (r.status, r.problem) == (400, "malformed"), r
    http = next(x for x in ro["challenges"] if x["type"] == "http-01")
    set_everywhere(W, name, "http-01", c, http)
    r = c.post(ro["url"], {"challenge": http["url"]})
    assert r.status == 200, r
    az = c.wait_authz(az_url).json
    assert az["status"] == "valid", az


def case_primary_fails_alone(W):
    c = W.client
    _, az = attempt(W, c, "primary-fails.example.com", "dns-01", primary_differs=True)
    assert az["status"] == "invalid", az
    err = failed_chall(az, "dns-01")["error"]
    assert "corroboration" not in err["detail"] and not err.get("subproblems"), err
    # An ordinary failure: a fresh dns-01 is offered again.
    assert "dns-01" in offered_types(az), az.get("retry-options")


def case_caa(W, forbidding):
    c = W.client
    name = f"caa-{len(forbidding)}.example.com"
    for who in forbidding:
        W.cts[who].add_caa(name, [{"tag": "issue", "value": "another-ca.test"}])
    before = {w: W.srv.metric("aro_perspective_validations_total", perspective=w, result="valid")
              for w in forbidding}
    _, az = attempt(W, c, name, "dns-01")
    for who in forbidding:
        did_not_pass(W, who, name, before[who])
    if len(forbidding) < 2:
        assert az["status"] == "valid", az
        return
    assert az["status"] == "invalid", az
    err = failed_chall(az, "dns-01")["error"]
    assert err["type"] == "urn:ietf:params:acme:error:caa", err
    assert sorted(by_perspective(err)) == sorted(f"perspective {w}" for w in forbidding), err
    assert "retry-options" not in az, az  # CAA is never retried


def case_down_and_slow(W):
    c = W.client
    p2, p3 = W.persp["p2"], W.persp["p3"]
    p2.stop()
    try:
        # One down: the other two corroborate.
        _, az = attempt(W, c, "one-down.example.com", "dns-01")
        assert az["status"] == "valid", az
        # Down, and slower than the timeout (stopped): not enough.
        os.kill(p3.proc.pid, signal.SIGSTOP)
        _, az = attempt(W, c, "down-and-slow.example.com", "dns-01")
        assert az["status"] == "invalid", az
        err = failed_chall(az, "dns-01")["error"]
        subs = by_perspective(err)
        assert sorted(subs) == ["perspective p2", "perspective p3"], err
        assert all(s["type"] == "urn:ietf:params:acme:error:serverInternal" for s in subs.values()), err
        assert f"no answer within {TIMEOUT_MS} ms" in subs["perspective p3"]["detail"], err
        assert W.srv.metric("aro_perspective_validations_total", perspective="p3", result="error") >= 1
    finally:
        os.kill(p3.proc.pid, signal.SIGCONT)
        p2.start()


def ask_directly(address, cert=None, key=None):
    """POST /validate to a perspective as a client holding cert/key (or
    none), trusting the channel's root: the raw answer, or the error."""
    host, port = address.rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(os.path.join(WORLD.primary_data, "perspectives", "channel-ca.pem"))
    if cert:
        ctx.load_cert_chain(cert, key)
    body = json.dumps({"challenge": {"type": "dns-01", "identifier": "direct.example.com", "ip": False,
                                     "token": "t", "keyAuthorization": "t.k"}}).encode()
    req = (b"POST /validate HTTP/1.1\r\nHost: p1\r\nContent-Type: application/json\r\nConnection: close\r\n"
           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    data = b""
    try:
        with socket.create_connection((host, int(port)), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="p1") as t:
                t.sendall(req)
                while True:
                    chunk = t.recv(4096)
                    if not chunk:
                        break
                    data += chunk
    except (ssl.SSLError, OSError) as e:
        return data, e
    return data, None


def case_perspective_refuses_unauthenticated(W):
    address = W.persp["p1"].listen
    pd = os.path.join(W.primary_data, "perspectives")
    data, e = ask_directly(address, os.path.join(pd, "primary.pem"), os.path.join(pd, "primary.key"))
    assert data.startswith(b"HTTP/1.1 200") and b'"challenge"' in data, (data, e)
    for what, cert, key in [
            ("no client certificate", None, None),
            ("a perspective's certificate", os.path.join(pd, "p2", "perspective.pem"),
             os.path.join(pd, "p2", "perspective.key")),
            ("another primary's certificate", os.path.join(W.foreign_data, "perspectives", "primary.pem"),
             os.path.join(W.foreign_data, "perspectives", "primary.key"))]:
        data, e = ask_directly(address, cert, key)
        assert not data.startswith(b"HTTP/"), f"{what}: answered {data[:80]!r}"


def case_primary_refuses_impostors(W):
    """p2's address serves p1's credentials (a perspective answering as
    another), p3's serves credentials of a foreign channel: both refused,
    so the attempt fails corroboration."""
    impostors = [Perspective(W.tmp, "p1-as-p2", W.persp["p1"].data, W.cts["p1"], f"127.0.0.1:{free_port()}"),
                 Perspective(W.tmp, "foreign-p3", W.foreign_p3, W.cts["p1"],
                             f"127.0.0.1:{free_port()}")]
    try:
        W.srv.restart(config=dict(W.cfg, perspectives=[
            {"name": "p1", "address": W.persp["p1"].listen},
            {"name": "p2", "address": impostors[0].listen},
            {"name": "p3", "address": impostors[1].listen}]))
        c = acme.Client(W.srv.directory, W.srv.ca_file)
        c.new_account()
        _, az = attempt(W, c, "impostors.example.com", "dns-01")
        assert az["status"] == "invalid", az
        err = failed_chall(az, "dns-01")["error"]
        subs = {k: s["detail"] for k, s in by_perspective(err).items()}
        assert sorted(subs) == ["perspective p2", "perspective p3"], err
        assert "p2" in subs["perspective p2"] and "certificate" in subs["perspective p2"].lower(), subs
        assert "certificate" in subs["perspective p3"].lower(), subs
    finally:
        for p in impostors:
            p.stop()
        W.srv.restart(config=W.cfg)
        W.client = acme.Client(W.srv.directory, W.srv.ca_file)
        W.client.new_account()


def case_clean_exit(W):
    for p in W.persp.values():
        rc = p.stop()
        log = open(p.log_path).read()
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error"):
            assert bad not in log, f"perspective {p.name} log mentions {bad}:\n" + sanitizer_report(log)
        assert rc == 0, f"perspective {p.name} exited with {rc}"
    rc = W.srv.stop()
    log = open(W.srv.log_path).read()
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error"):
        assert bad not in log, f"server log mentions {bad}:\n" + sanitizer_report(log)
    assert rc == 0, f"aro-server exited with {rc}"


WORLD = World()


def main():
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("SKIP: network namespaces need root and iproute2")
        sys.exit(77)
    try:
        ns = Netns()
    except OSError as e:
        print(f"SKIP: cannot make a network namespace here: {e}")
        sys.exit(77)
    W = WORLD
    run = TestRun()
    try:
        with Harness() as h:
            W.tmp = h.tmp
            W.primary_data = tempfile.mkdtemp(prefix="primary-", dir=h.tmp)
            W.foreign_data = tempfile.mkdtemp(prefix="foreign-", dir=h.tmp)
            W.foreign_p3 = issue(W.foreign_data, "p3")  # another primary's channel
            W.cts0 = h.challtestsrv(http01=True, tlsalpn01=True)
            W.cts = {"p1": h.challtestsrv(http01=True, tlsalpn01=True),
                     "p2": h.challtestsrv(http01=True, tlsalpn01=True)}
            W.cts["p3"] = NsChallTestSrv(h.tmp, ns)
            h.procs.append(W.cts["p3"])
            W.persp = {}
            for n in ("p1", "p2"):
                W.persp[n] = Perspective(h.tmp, n, issue(W.primary_data, n), W.cts[n], f"127.0.0.1:{free_port()}")
            W.persp["p3"] = Perspective(h.tmp, "p3", issue(W.primary_data, "p3"), W.cts["p3"], f"{ns.there}:4430",
                                        ns=ns)
            h.procs.extend(W.persp.values())
            W.cfg = {"retryMinBackoffSeconds": 0, "failedValidationLimit": 100, "perspectiveTimeoutMs": TIMEOUT_MS,
                     "perspectives": [{"name": n, "address": W.persp[n].listen} for n in ("p1", "p2", "p3")]}
            W.srv = h.server(W.cts0, config=W.cfg, data=W.primary_data)
            W.client = acme.Client(W.srv.directory, W.srv.ca_file)
            W.client.new_account()
            for ctype in ("dns-01", "http-01", "tls-alpn-01"):
                run.case(f"all three agree ({ctype}): valid", case_all_agree, W, ctype)
            run.case("one perspective's TXT record differs: still valid", case_one_differs, W, "dns-01", "txt")
            run.case("one perspective's A record differs (http-01): still valid", case_one_differs, W, "http-01",
                     "a-record")
            run.case("two differ: invalid, unauthorized, a subproblem per perspective, no dns-01 offer",
                     case_two_differ, W)
            if getattr(W, "corroboration_failed", None):
                run.case("re-enable: dns-01 refused, http-01 is a complete new attempt and passes",
                         case_reenable_after_corroboration_failure, W)
            run.case("the primary's own failure: ordinary, with a dns-01 retry offered", case_primary_fails_alone, W)
            run.case("CAA forbids at one perspective: valid", case_caa, W, ("p3",))
            run.case("CAA forbids at two perspectives: caa, no offer", case_caa, W, ("p1", "p2"))
            run.case("one perspective down: valid; down and one slower than the timeout: invalid",
                     case_down_and_slow, W)
            run.case("a perspective refuses clients without the primary's credentials",
                     case_perspective_refuses_unauthenticated, W)
            run.case("the primary refuses a perspective answering as another, and a foreign one",
                     case_primary_refuses_impostors, W)
            run.case("perspectives and primary exit cleanly", case_clean_exit, W)
    finally:
        ns.remove()
    run.finish()


if __name__ == "__main__":
    main()
