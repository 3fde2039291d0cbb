"""Validation abuse and request limits. A CA's validation reaches out to
an address a stranger chose; the checks here are that aro-server does not
let that stranger aim it anywhere, or tie it up.

With --deny-private-targets (every name resolves to 127.0.0.1 through
challtestsrv, so every target is loopback):
  * http-01 and tls-alpn-01 to a DNS name, through a CNAME to a private
    address, behind a redirect, and IP identifiers in the loopback,
    private and link-local ranges are refused with rejectedIdentifier,
    without a retry offer (another attempt cannot change the answer),
    and without a single request reaching the responder.
Without it (the default, so the responders can be reached on loopback):
  * redirect loops, redirects to other ports and schemes, oversized
    response bodies and a responder that never answers fail within the
    limits (10 redirects: exactly 11 requests reach the responder; one
    request for the others; 8 KiB; the validation timeout: the server
    hangs up on a responder that would hold it forever). Nothing here
    asserts a duration (the benchmarks show speed);
  * failed validations per account and identifier are limited (RFC 8555
    8.2 asks servers to rate-limit retries): the next order, response or
    re-enable gets rateLimited with Retry-After; re-enables per
    authorization stop with the attempts (retryNotAllowed);
  * request bodies over 64 KiB get 413, deep nesting malformed; HTTP/2
    advertises a bounded SETTINGS_MAX_CONCURRENT_STREAMS and a client
    opening many more streams is served without errors; idle and
    slow-header connections do not keep others from being served, and
    slow-header connections are closed by the server (h2o timeouts).
"""
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import acme  # noqa: E402
from harness import Harness, TestRun, free_port, wait_for  # noqa: E402
from hostile import raw_post, sanitizer_report  # noqa: E402


def start_flow(c, value, ctype, ip=False):
    """newOrder for one identifier; returns (order, authz, challenge) or the
    refused newOrder response."""
    r = c.new_order(value, ip=ip)
    if r.status != 201:
        return r, None, None
    az = c.authz(r.json["authorizations"][0]).json
    return r, az, c.challenge_of(az, ctype)


def answer_and_wait(c, order_resp, ch, timeout=30):
    az_url = order_resp.json["authorizations"][0]
    r = c.post(ch["url"], {})
    assert r.status == 200, r
    return c.poll(az_url, lambda j: j["status"] != "pending" or not any(
        x["status"] == "processing" for x in j["challenges"]), timeout).json


def failed_challenge(az):
    for x in az["challenges"]:
        if x["status"] == "invalid":
            return x
    raise AssertionError(f"no failed challenge in {az}")


def expect_refused_private(c, cts, value, ctype, ip=False, setup=None):
    r, az, ch = start_flow(c, value, ctype, ip)
    if az is None:
        # Refusing at newOrder is fine too: it is the same policy, earlier.
        assert r.status == 400 and r.problem == "rejectedIdentifier", r
        return "refused at newOrder"
    if setup:
        setup(ch)
    if ctype == "http-01":
        cts.add_http01(ch["token"], c.key_authz(ch["token"]))
    t0 = time.time()
    az = answer_and_wait(c, r, ch)
    assert az["status"] == "invalid", az
    err = failed_challenge(az)["error"]
    assert err["type"].endswith(":rejectedIdentifier"), err
    assert "retry-options" not in az, f"a retry was offered for a refused target: {az['retry-options']}"
    o = c.get(r.url).json
    assert o["status"] == "invalid" and "retry-options" not in o, o
    # The responder never saw the token: no request left the server.
    if ctype == "http-01":
        for host in (value, f"[{value}]"):
            seen = http_history(cts, host)
            assert not any(ch["token"] in e.get("URL", "") for e in seen), \
                f"the validation contacted the refused target: {seen}"
    return f"refused in {time.time() - t0:.1f}s: {err['detail'][:90]}"


def http_history(cts, host):
    """The http-01 requests challtestsrv's responder received for host."""
    import json
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{cts.mgmt_port}/http-request-history",
                                 data=json.dumps({"host": host}).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read() or b"[]") or []


class SlowResponder:
    """An HTTP 'responder' that accepts, reads what it is sent and never
    answers, holding every connection until close() (at most 120 s): what
    a stranger's server does to tie up validations. hung_up counts the
    connections the other side closed while this one still held them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", free_port()))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.accepted = 0
        self.hung_up = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        conns = []
        deadline = time.time() + 120
        while not self.stop.is_set() and time.time() < deadline:
            try:
                conn, _ = self.sock.accept()
                conn.setblocking(False)
                self.accepted += 1
                conns.append(conn)
            except socket.timeout:
                pass
            for conn in list(conns):
                try:
                    if conn.recv(4096) == b"":      # the validation hung up
                        self.hung_up += 1
                        conn.close()
                        conns.remove(conn)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    self.hung_up += 1
                    conn.close()
                    conns.remove(conn)
        for conn in conns:
            conn.close()
        self.sock.close()

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)


def main():
    run = TestRun()
    figures = {}
    with Harness() as h:
        cts = h.challtestsrv(http01=True, tlsalpn01=True)

        # ---- private targets refused ----
        deny = h.server(cts, flags=["--deny-private-targets"], config={"retryMinBackoffSeconds": 0})
        c = acme.Client(deny.directory, deny.ca_file)
        c.new_account()

        def cname_to_private(ch):
            cts._post("/add-a", {"host": "private-target.example.com.", "addresses": ["10.0.0.1"]})
            cts._post("/set-cname", {"host": "cname-alias.example.com.", "target": "private-target.example.com."})

        def redirect_first(ch):
            cts._post("/add-redirect", {"path": f"/.well-known/acme-challenge/{ch['token']}",
                                        "targetURL": "http://public.example.com/x"})

        cases = [("http-01 to a name on loopback", "deny-http.example.com", "http-01", False, None),
                 ("tls-alpn-01 to a name on loopback", "deny-tls.example.com", "tls-alpn-01", False, None),
                 ("http-01 through a CNAME to 10.0.0.1", "cname-alias.example.com", "http-01", False,
                  cname_to_private),
                 ("http-01 with a redirect waiting behind a loopback name", "deny-redir.example.com", "http-01",
                  False, redirect_first),
                 ("ip 127.0.0.1", "127.0.0.1", "http-01", True, None),
                 ("ip 10.1.2.3", "10.1.2.3", "http-01", True, None),
                 ("ip 192.168.1.1", "192.168.1.1", "http-01", True, None),
                 ("ip 172.16.0.1", "172.16.0.1", "http-01", True, None),
                 ("ip 169.254.169.254 (cloud metadata)", "169.254.169.254", "http-01", True, None),
                 ("ip 100.64.0.1 (CGNAT)", "100.64.0.1", "http-01", True, None),
                 ("ip ::1", "::1", "http-01", True, None),
                 ("ip fe80::1", "fe80::1", "http-01", True, None),
                 ("ip fd00::1", "fd00::1", "tls-alpn-01", True, None),
                 ("ip ::ffff:127.0.0.1 (mapped)", "::ffff:127.0.0.1", "http-01", True, None)]
        for name, value, ctype, ip, setup in cases:
            run.case(f"deny-private: {name}",
                     lambda v=value, t=ctype, i=ip, s=setup: print("   ", expect_refused_private(c, cts, v, t, i, s)))

        # ---- limits on what validation fetches ----
        srv = h.server(cts, config={"retryMinBackoffSeconds": 0, "failedValidationLimit": 3,
                                    "retryAttemptsPerAuthorization": 2, "validationTimeoutSeconds": 2})
        c = acme.Client(srv.directory, srv.ca_file)
        c.new_account()

        # Each fetch must end in the failure its limit gives (bounded by the
        # poll's deadline, not timed: speed is the benchmarks' business).
        def fetch_fails(value, prepare, want_type, want_detail, want_fetches):
            def fn():
                r, az, ch = start_flow(c, value, "http-01")
                prepare(ch)
                t0 = time.time()
                az = answer_and_wait(c, r, ch)
                took = time.time() - t0
                err = failed_challenge(az)["error"]
                assert err["type"].endswith(":" + want_type), err
                assert want_detail in err["detail"], err
                # how many requests reached the responder: the limit, exactly
                fetches = [e for e in http_history(cts, value) if ch["token"] in e.get("URL", "")]
                assert len(fetches) == want_fetches, f"{len(fetches)} fetches, not {want_fetches}: {fetches}"
                print(f"    failed after {len(fetches)} fetches ({took:.1f}s): {err['detail'][:100]}")
            return fn

        def redirect(target):
            return lambda ch: cts._post("/add-redirect", {"path": f"/.well-known/acme-challenge/{ch['token']}",
                                                          "targetURL": target(ch)})
        run.case("redirect loop stops at 10 hops", fetch_fails(
            "loop.example.com", redirect(lambda ch: f"http://loop.example.com:{cts.http_port}"
                                                    f"/.well-known/acme-challenge/{ch['token']}"),
            "connection", "redirects", 11))   # the first request and 10 redirects
        run.case("redirect to another port", fetch_fails(
            "port.example.com", redirect(lambda ch: "http://port.example.com:1234/x"), "connection", "1234", 1))
        run.case("redirect to another scheme", fetch_fails(
            "ftp.example.com", redirect(lambda ch: "ftp://ftp.example.com/x"), "connection", "ftp", 1))
        run.case("response body over 8 KiB", fetch_fails(
            "big.example.com", lambda ch: cts.add_http01(ch["token"], "A" * (256 * 1024)), "unauthorized",
            "larger", 1))

        def slow():
            # The responder never answers and never lets go: only the
            # server's own validation timeout can end the validation, which
            # must then fail (within the poll's deadline) as a timeout, with
            # the server hanging up on the responder, not the other way round.
            slowpoke = SlowResponder()
            fake_cts = types.SimpleNamespace(http_port=slowpoke.port, tls_port=cts.tls_port, dns=cts.dns)
            s2 = h.server(fake_cts, config={"validationTimeoutSeconds": 2})
            try:
                c2 = acme.Client(s2.directory, s2.ca_file)
                c2.new_account()
                r, az, ch = start_flow(c2, "slow.example.com", "http-01")
                t0 = time.time()
                az = answer_and_wait(c2, r, ch, timeout=60)
                took = time.time() - t0
                err = failed_challenge(az)["error"]
                assert err["type"].endswith(":connection") and "Timeout" in err["detail"], err
                assert slowpoke.accepted >= 1, "the slow responder was never contacted"
                wait_for(lambda: slowpoke.hung_up >= slowpoke.accepted, timeout=30,
                         what="the server to close its connections to the silent responder")
                print(f"    gave up ({took:.1f}s, timeout 2 s): {err['detail'][:100]}")
            finally:
                s2.stop()
                slowpoke.close()
        run.case("a responder that never answers: validation timeout", slow)

        # ---- failed validations and re-enables, per account and identifier ----
        def failed_limit():
            # Three failures of limited.example.com (nothing serves the token).
            for i in range(3):
                r, az, ch = start_flow(c, "limited.example.com", "http-01")
                assert r.status == 201, r
                az = answer_and_wait(c, r, ch)
                assert az["status"] == "invalid", az
            r = c.new_order("limited.example.com")
            assert r.status == 429 and r.problem == "rateLimited", r
            assert int(r.headers.get("Retry-After", "0")) > 0, r.headers
            # Another account is not limited by this one's failures.
            c2 = acme.Client(srv.directory, srv.ca_file)
            c2.new_account()
            assert c2.new_order("limited.example.com").status == 201
            # The re-enable of the last authorization is limited too.
            ro = az.get("retry-options")
            if ro:
                r = c.post(ro["url"], {"challenge": ro["challenges"][0]["url"]})
                assert r.status == 429 and r.problem == "rateLimited", r
            figures["failed_limit"] = "3 failures, then 429 with Retry-After"
        run.case("failed validations per account and identifier: 429 after the limit", failed_limit)

        def reenable_limit():
            r, az, ch = start_flow(c, "reenable.example.com", "http-01")
            az = answer_and_wait(c, r, ch)
            ro = az["retry-options"]
            assert ro.get("attemptsRemaining") == 1, ro
            pick = [x for x in ro["challenges"] if x["type"] == "http-01"][0]
            rr = c.post(ro["url"], {"challenge": pick["url"]})
            assert rr.status == 200, rr
            az = c.poll(r.json["authorizations"][0], lambda j: j["status"] == "invalid", 30).json
            assert "retry-options" not in az, f"offered after the last attempt: {az.get('retry-options')}"
            rr = c.post(ro["url"], {"challenge": pick["url"]})
            assert rr.status == 403 and rr.problem == "retryNotAllowed", rr
        run.case("re-enables per authorization stop with the attempts", reenable_limit)

        # ---- request limits (h2o) ----
        run.case("body over 64 KiB: 413", lambda: _assert_status(
            raw_post(srv, "/acme/new-order", b"", {"Content-Length": str(1 << 20)}), 413))
        run.case("deep nesting: malformed", lambda: _assert_problem(
            raw_post(srv, "/acme/new-order", ("[" * 10000 + "]" * 10000).encode(),
                     {"Content-Length": "20000"}), 400, "malformed"))

        def h2_streams():
            out = subprocess.run(["nghttp", "-nv", f"https://127.0.0.1:{srv.port}/directory"],
                                 capture_output=True, text=True, timeout=20).stdout
            import re
            m = re.search(r"SETTINGS_MAX_CONCURRENT_STREAMS\(0x03\):(\d+)", out)
            assert m, "no SETTINGS_MAX_CONCURRENT_STREAMS advertised:\n" + out[:2000]
            n = int(m.group(1))
            assert 0 < n <= 256, n
            figures["h2_streams"] = n
            # One connection opening 8x as many streams at once: queued, all answered.
            out = subprocess.run(["h2load", "-n", "2000", "-c", "1", "-m", str(8 * n),
                                  f"https://127.0.0.1:{srv.port}/directory"],
                                 capture_output=True, text=True, timeout=60).stdout
            m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                          r"(\d+) errored", out)
            assert m, out
            assert m.group(4) == "2000" and m.group(5) == "0" and m.group(6) == "0", out
            print(f"    MAX_CONCURRENT_STREAMS {n}; {8 * n} streams at once on one connection: "
                  f"2000/2000 succeeded")
        if _have("nghttp") and _have("h2load"):
            run.case("HTTP/2 concurrent streams bounded and queued", h2_streams)

        def slow_clients():
            ctx = ssl.create_default_context(cafile=srv.ca_file)
            idle, partial = [], []
            try:
                for _ in range(100):   # TCP connections that never start TLS
                    idle.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
                for _ in range(50):    # TLS up, then half a request line, then nothing
                    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.port), timeout=5),
                                        server_hostname="127.0.0.1")
                    s.sendall(b"POST /acme/new-order HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
                    partial.append(s)
                # Others are still served (each fetch has a 10 s socket
                # timeout), while the slow clients still hold their
                # connections: served alongside them, not after them.
                t0 = time.time()
                for _ in range(5):
                    r = acme.Client(srv.directory, srv.ca_file)
                    assert r.dir.get("newOrder")
                took = time.time() - t0
                def closed(s, wait):
                    """True once the server has closed s (reading what it may have sent first)."""
                    s.settimeout(wait)
                    try:
                        return s.recv(4096) == b""
                    except (socket.timeout, ssl.SSLWantReadError):
                        return False
                    except (ConnectionResetError, ssl.SSLError, OSError):
                        return True
                held = sum(1 for s in partial if not closed(s, 0.01))
                assert held > 0, "every slow connection was closed before the others were served"
                # The half-sent requests are cut off by the server (h2o's
                # request timeout, 15 s), not kept forever.
                t1 = time.time()

                def all_closed():
                    return all(closed(s, 0.05) for s in partial)
                wait_for(all_closed, timeout=60, step=0.5, what="the server to close slow-header connections")
                figures["slow_close"] = time.time() - t1
                print(f"    150 slow clients: 5 fetches in {took:.2f}s with {held} of 50 slow-header connections "
                      f"still held; those closed after {figures['slow_close']:.0f}s")
            finally:
                for s in idle + partial:
                    s.close()
        run.case("slow clients do not starve others and are cut off", slow_clients)

        # The server is still healthy after all of it, and stops cleanly
        # (under ASan/LSan an error or leak shows in the exit status and log).
        def healthy():
            _assert_status(acme.Response(c.s.get(srv.directory, timeout=10)), 200)
            for s in (deny, srv):
                rc = s.stop()
                log = open(s.log_path).read()
                for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error"):
                    assert bad not in log, f"server log mentions {bad}:\n" + sanitizer_report(log)
                assert rc == 0, f"aro-server exited with {rc}"
        run.case("server still healthy, then exits cleanly", healthy)
    run.finish()


def _have(tool):
    from shutil import which
    return which(tool) is not None


def _assert_status(r, status):
    assert r.status == status, f"expected {status}, got {r.status}: {r.text[:200]}"


def _assert_problem(r, status, ptype):
    assert (r.status, r.problem) == (status, ptype), f"expected {status} {ptype}, got {r.status} {r.text[:200]}"


if __name__ == "__main__":
    main()
