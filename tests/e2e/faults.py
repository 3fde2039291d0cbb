"""Fault injection (aro-server's own mode): clients still get certificates
and /metrics counts every injected fault.

- faultNonceRejectRate 0.3: lego and aro both get certificates; /metrics
  shows aro_faults_injected_total{kind="badNonce"} > 0.
- faultFinalizeDelayMs / faultValidationJitterMs (on the same server):
  counted as kind="delay".
- faultRateLimitedRate / faultServerInternalRate: raw POSTs see 429/500
  problems with Retry-After, counted one for one in /metrics; what aro and
  lego do with them is reported (lego 4.9 retries badNonce only, so it
  gives up: finding that is the point of the knob); a client that fails
  must fail on the injected fault, not on something else.
- retry-options policy knobs reach the directory's meta.
- Every fault is off by default.
"""
import json
import os
import re
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, Harness, TestRun, free_port  # noqa: E402

FAULT = "aro_faults_injected_total"


def run(args, env=None, timeout=90):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=dict(os.environ, **(env or {})), timeout=timeout)


def lego(h, srv, name, port):
    work = os.path.join(h.tmp, f"lego-{name}")
    return run(["lego", "--server", srv.directory, "--email", "faults@example.com", "--accept-tos",
                "--domains", name, "--http", "--http.port", f"127.0.0.1:{port}", "--path", work, "run"],
               env={"LEGO_CA_CERTIFICATES": srv.ca_file}), os.path.join(work, "certificates", name + ".crt")


def aro(h, srv, name, port):
    state = os.path.join(h.tmp, f"aro-{name}")
    # -v -v: every request and status, and each retry, so that a failure can
    # be told apart from the injected faults' bad luck (bad_luck below)
    return run([os.path.join(BUILD, "aro"), "-v", "-v", "issue", name, "--server", srv.directory,
                "--ca-bundle", srv.ca_file, "--state", state, "--agree-tos", "--challenges", "http-01",
                "--http-port", str(port), "--bind", "127.0.0.1", "--json"])


def aro_works(r):
    try:
        return json.loads(r.stdout.strip().splitlines()[-1]).get("result") == "issued"
    except (ValueError, IndexError):
        return False


# aro's bounds (client/acme.c): a request is retried after badNonce
# ACME_BADNONCE_RETRIES times, after 429/503/5xx-with-Retry-After
# ACME_BUSY_RETRIES times.
BADNONCE_RETRIES = 5
BUSY_RETRIES = 6


def bad_luck(out, problems, retry_note, bound):
    """True when aro failed on one of the injected problems only after
    retrying that one request `bound` times in a row, every answer an
    injected fault: at rate p that happens with probability p**(bound+1)
    per request (0.3**6, about 1 % of issuances, for badNonce), and is
    aro keeping its bound, not a fault of aro."""
    lines = out.splitlines()
    err = None
    for i in range(len(lines) - 1, -1, -1):
        m = re.search(r"aro: error: (?:POST|GET) (\S+): HTTP \d+, urn:ietf:params:acme:error:(\w+)", lines[i])
        if m:
            err = (i, m.group(1), m.group(2))
            break
    if not err or err[2] not in problems:
        return False
    i, url, _ = err
    retries = 0
    for ln in reversed(lines[:i]):
        if ln.startswith(f"aro: {url}: {retry_note}"):
            retries += 1
        elif re.match(r"aro:\s+-> 2\d\d", ln):    # an answer that was not a fault: the run of faults ends
            break
    return retries >= bound


def aro_issues(h, srv, name, port, problems, retry_note, bound, tries=3):
    """aro issue, at most `tries` times, another try only after bad luck
    (above); returns the last run. Any other failure ends it at once."""
    for k in range(tries):
        r = aro(h, srv, f"{k}.{name}" if k else name, port)
        if aro_works(r) or not bad_luck(r.stdout, problems, retry_note, bound):
            return r
        print(f"    try {k + 1}: {bound} retries of one request all met injected faults "
              f"(probability about 0.3**{bound + 1}); trying again with a new name")
    return r


def main():
    t = TestRun()
    with Harness() as h:
        # No http-01 responder in challtestsrv: lego and aro answer on the
        # validation port themselves.
        cts = h.challtestsrv()
        plain = h.server(cts)
        nonce = h.server(cts, config={"faultNonceRejectRate": 0.3, "faultFinalizeDelayMs": 1000,
                                      "faultValidationJitterMs": 300})
        errs = h.server(cts, config={"faultRateLimitedRate": 0.15, "faultServerInternalRate": 0.15,
                                     "retryAttemptsPerAuthorization": 7, "retryMinBackoffSeconds": 2,
                                     "retryMaxBackoffSeconds": 30})
        port = cts.http_port

        def off_by_default():
            for kind in ("badNonce", "rateLimited", "serverInternal", "delay"):
                assert plain.metric(FAULT, kind=kind) == 0
            # 30 signed requests with fresh nonces: none refused.
            from acme import Client
            c = Client(plain.directory, plain.ca_file)
            for _ in range(30):
                r = c.post(c.dir["newAccount"], {"termsOfServiceAgreed": True}, use_jwk=True)
                assert r.status in (200, 201), r
            assert plain.metric(FAULT) == 0, plain.metrics()
        t.case("faults are off by default", off_by_default)

        def lego_nonce():
            r, crt = lego(h, nonce, "lego-nonce.example.com", port)
            assert r.returncode == 0 and os.path.exists(crt), r.stdout[-3000:]
        t.case("lego gets a certificate with 30% of nonces rejected", lego_nonce)

        def aro_nonce():
            r = aro_issues(h, nonce, "aro-nonce.example.com", port, ("badNonce",),
                           "badNonce, retrying", BADNONCE_RETRIES)
            if not aro_works(r) and ("unknown" in r.stdout or "usage" in r.stdout):
                print("!!! SKIP: the aro client cannot run `issue` yet; the aro half of this test is skipped !!!")
                return
            assert r.returncode == 0 and aro_works(r), r.stdout[-3000:]
        t.case("aro gets a certificate with 30% of nonces rejected", aro_nonce)

        def nonce_metric():
            n = nonce.metric(FAULT, kind="badNonce")
            assert n > 0, nonce.metrics()
            # One finalization delay and one validation delay per order.
            d = nonce.metric(FAULT, kind="delay")
            assert d >= 2, nonce.metrics()
            print(f"    {n} nonces rejected and {d} delays injected on purpose")
        t.case("/metrics shows the rejected nonces and injected delays", nonce_metric)

        def raw_counts():
            base = errs.metrics()
            seen = {429: 0, 500: 0}
            s = requests.Session()
            s.trust_env = False  # an environment CA bundle would override verify
            s.verify = errs.ca_file
            new_nonce = s.get(errs.directory, timeout=5).json()["newNonce"]
            # Unsigned garbage: every answer is 400 malformed unless a fault
            # is injected first, before any work. Until both kinds were seen
            # (at 15% each, 60 requests missed one in about 1 of 8,500 runs,
            # seen once), at most 300.
            for _ in range(300):
                if seen[429] >= 3 and seen[500] >= 3:
                    break
                r = s.post(new_nonce.replace("new-nonce", "new-account"), data=b"{}",
                           headers={"Content-Type": "application/jose+json"}, timeout=5)
                if r.status_code in seen:
                    seen[r.status_code] += 1
                    want = "rateLimited" if r.status_code == 429 else "serverInternal"
                    assert r.json()["type"] == "urn:ietf:params:acme:error:" + want, r.text
                    assert int(r.headers["Retry-After"]) >= 1, r.headers
                else:
                    assert r.status_code == 400, (r.status_code, r.text)
            assert seen[429] > 0 and seen[500] > 0, seen
            after = errs.metrics()

            def delta(kind):
                k = f'{FAULT}{{kind="{kind}"}}'
                return after.get(k, 0) - base.get(k, 0)
            assert delta("rateLimited") == seen[429] and delta("serverInternal") == seen[500], (seen, after)
        t.case("429/500 answers carry Retry-After and are counted one for one", raw_counts)

        def aro_errors():
            r = aro_issues(h, errs, "aro-errors.example.com", port, ("rateLimited", "serverInternal"),
                           "the CA asks to wait", BUSY_RETRIES)
            if not aro_works(r) and ("unknown" in r.stdout or "usage" in r.stdout):
                print("!!! SKIP: the aro client cannot run `issue` yet; the aro half of this test is skipped !!!")
                return
            # aro waits as Retry-After says and retries (bounded), so it
            # gets its certificate through 30% injected 429/500 answers.
            assert r.returncode == 0 and aro_works(r), r.stdout[-3000:]
        t.case("aro retries through injected 429/500 and gets a certificate", aro_errors)

        def lego_errors():
            r, crt = lego(h, errs, "lego-errors.example.com", port)
            ok = r.returncode == 0 and os.path.exists(crt)
            last = [ln for ln in r.stdout.splitlines() if ln.strip()][-1:] or [""]
            print(f"    lego with injected 429/500: {'certificate' if ok else 'gave up'}: {last[0][:200]}")
            assert ok or "rateLimited" in r.stdout or "serverInternal" in r.stdout or "injected" in r.stdout, \
                r.stdout[-2000:]
        t.case("lego meets injected 429/500 (outcome reported)", lego_errors)

        def policy_meta():
            d = requests.get(errs.directory, verify=errs.ca_file, timeout=5).json()
            ro = d["meta"]["retry-options"]
            assert ro.get("attemptsPerAuthorization") == 7 and ro.get("minBackoffSeconds") == 2, ro
        t.case("retry-options policy knobs reach the directory", policy_meta)
    t.finish()


if __name__ == "__main__":
    main()
