"""retry-options end to end (issue 5): a real aro-server, pebble-challtestsrv
as its DNS (and http-01 responder where a test needs one), and a raw
client that sends exactly the requests the draft defines, plus the
legacy and hostile ones it must survive. Each case asserts statuses,
problem types and that refused requests changed nothing."""
import hashlib
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from acme import Client, ari_cert_id  # noqa: E402
from harness import run_cases, wait_for  # noqa: E402
from hostile import store_dump  # noqa: E402
from tlsalpn_responder import Responder  # noqa: E402

# Short backoff so tests wait a second, not five; a limit that does not get
# in the way (the limit has its own case).
BASE_CFG = {"retryMinBackoffSeconds": 1, "failedValidationLimit": 100}


def setup(h, config=None, flags=(), http01=False, tlsalpn01=False):
    cts = h.challtestsrv(http01=http01, tlsalpn01=tlsalpn01)
    cfg = dict(BASE_CFG)
    cfg.update(config or {})
    srv = h.server(cts, config=cfg, flags=flags)
    c = Client(srv.directory, srv.ca_file)
    c.new_account()
    return cts, srv, c


def order_for(c, *names, ip=False, **extra):
    r = c.new_order(*names, ip=ip, **extra)
    assert r.status == 201, r
    return r.url, r.json


def respond_and_fail(c, authz_url, ctype):
    """Answer ctype with nothing behind it; wait for the failure."""
    az = c.get(authz_url).json
    ch = c.challenge_of(az, ctype)
    r = c.post(ch["url"], {})
    assert r.status == 200, r
    az = c.wait_authz(authz_url).json
    assert az["status"] == "invalid", az
    return az


def respond_served(cts, c, authz_url):
    """Answer http-01 with its key authorization served: the challenge,
    processing."""
    ch = c.challenge_of(c.get(authz_url).json, "http-01")
    cts.add_http01(ch["token"], c.key_authz(ch["token"]))
    r = c.post(ch["url"], {})
    assert r.status == 200 and r.json["status"] == "processing", r
    return ch


def wait_not_before(ro):
    from datetime import datetime, timezone
    nb = datetime.strptime(ro["notBefore"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    while time.time() < nb + 0.05:
        time.sleep(0.05)


def choice(ro, ctype):
    for ch in ro["challenges"]:
        if ch["type"] == ctype:
            return ch
    raise AssertionError(f"{ctype} not offered in {ro}")


def reenable(c, az, ctype, wait=True):
    ro = az["retry-options"]
    ch = choice(ro, ctype)
    if wait:
        wait_not_before(ro)
    return c.post(ro["url"], {"challenge": ch["url"]}), ch


def finish_order(c, order_url, names, ip=False):
    o = c.poll(order_url, lambda j: j["status"] in ("ready", "invalid")).json
    assert o["status"] == "ready", o
    r, _ = c.finalize(o, names, ip=ip)
    assert r.status == 200, r
    o = c.poll(order_url, lambda j: j["status"] in ("valid", "invalid")).json
    assert o["status"] == "valid", o
    cert = c.get(o["certificate"])
    assert cert.status == 200 and "BEGIN CERTIFICATE" in cert.text, cert
    assert cert.headers["Content-Type"] == "application/pem-certificate-chain", cert.headers
    # 7.4.2: the PEM is the whole chain (leaf, then its issuer), each certificate
    # once, and no rel="up", which is for formats that carry one certificate:
    # a client that follows it (acmez) would append the issuer a second time
    pems = ["-----BEGIN CERTIFICATE-----" + b for b in cert.text.split("-----BEGIN CERTIFICATE-----")[1:]]
    assert len(pems) >= 2 and len(set(pems)) == len(pems), cert.text
    assert 'rel="up"' not in cert.headers.get("Link", ""), cert.headers
    return o


def snapshot(c, *urls):
    return [c.get(u).json for u in urls]


def assert_unchanged(c, before, *urls):
    after = snapshot(c, *urls)
    assert after == before, f"state changed:\nbefore {before}\nafter  {after}"


# ---------------------------------------------------------------- cases

def case_fallback_http_to_dns(h):
    cts, srv, c = setup(h)
    name = "fallback.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    failed = c.challenge_of(az, "http-01")
    assert failed["status"] == "invalid" and failed["error"]["type"].endswith(":connection"), failed
    ro = az["retry-options"]
    assert ro["url"] == az_url + "/retry", ro
    assert ro["attemptsRemaining"] == 2, ro
    types = sorted(ch["type"] for ch in ro["challenges"])
    assert types == ["dns-01", "http-01", "tls-alpn-01"], types
    fresh = choice(ro, "http-01")
    assert fresh["url"] != failed["url"] and fresh["token"] != failed["token"], "same-type retry must be fresh"
    # The failed challenge and the invalid order carry the member too.
    ch_json = c.get(failed["url"]).json
    assert ch_json["status"] == "invalid" and ch_json["retry-options"]["url"] == ro["url"], ch_json
    o = c.get(order_url).json
    assert o["status"] == "invalid" and o["retry-options"]["authorizations"] == [az_url], o
    # Tokens of the offer do not change between reads.
    assert c.get(az_url).json["retry-options"] == ro
    dns = choice(ro, "dns-01")
    cts.set_txt(name, c.dns_value(dns["token"]))
    early = c.post(ro["url"], {"challenge": dns["url"]})
    if early.status == 429:  # notBefore not yet reached: wait as told
        assert early.problem == "rateLimited" and int(early.headers["Retry-After"]) >= 1, early
        wait_not_before(ro)
        r = c.post(ro["url"], {"challenge": dns["url"]})
    else:
        r = early
    assert r.status == 200 and r.json["status"] == "pending", r
    o = c.get(order_url).json
    assert o["status"] in ("pending", "ready") and "error" not in o and "retry-options" not in o, o
    az = c.wait_authz(az_url).json
    assert az["status"] == "valid", az
    assert c.challenge_of(az, "http-01")["status"] == "invalid"  # challenges stay final
    finish_order(c, order_url, [name])
    assert srv.metric("aro_http_requests_total", endpoint="new-order") == 1
    assert srv.metric("aro_orders_created_total") == 1
    assert srv.metric("aro_reenables_total", result="accepted") == 1
    assert srv.metric("aro_reenabled_authorizations_total", final="valid") == 1
    assert srv.metric("aro_validations_total", type="http-01", result="invalid") == 1
    assert srv.metric("aro_validations_total", type="dns-01", result="valid") == 1


def case_fallback_to_tls_alpn(h):
    cts, srv, c = setup(h, tlsalpn01=True)
    name = "alpn.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    ch = choice(az["retry-options"], "tls-alpn-01")
    cts.add_tlsalpn01(name, c.key_authz(ch["token"]))
    r, _ = reenable(c, az, "tls-alpn-01")
    assert r.status == 200, r
    az = c.wait_authz(az_url).json
    assert az["status"] == "valid", az
    finish_order(c, order_url, [name])
    assert srv.metric("aro_http_requests_total", endpoint="new-order") == 1


def case_ip_identifier_both_ways(h):
    cts, srv, c = setup(h, http01=True)
    # tls-alpn-01 fails (nothing on the TLS port), http-01 passes.
    order_url, order = order_for(c, "127.0.0.1", ip=True)
    az_url = order["authorizations"][0]
    az = c.get(az_url).json
    assert sorted(x["type"] for x in az["challenges"]) == ["http-01", "tls-alpn-01"], az
    az = respond_and_fail(c, az_url, "tls-alpn-01")
    assert "dns-01" not in [x["type"] for x in az["retry-options"]["challenges"]]
    ch = choice(az["retry-options"], "http-01")
    cts.add_http01(ch["token"], c.key_authz(ch["token"]))
    r, _ = reenable(c, az, "http-01")
    assert r.status == 200, r
    assert c.wait_authz(az_url).json["status"] == "valid"
    finish_order(c, order_url, ["127.0.0.1"], ip=True)
    # The other way: http-01 fails (no token at the responder), tls-alpn-01 passes.
    c2 = Client(srv.directory, srv.ca_file)
    c2.new_account()
    order_url, order = order_for(c2, "127.0.0.2", ip=True)
    az_url = order["authorizations"][0]
    az = c2.get(az_url).json
    r = c2.post(c2.challenge_of(az, "http-01")["url"], {})
    az = c2.wait_authz(az_url).json
    assert az["status"] == "invalid", az
    ch = choice(az["retry-options"], "tls-alpn-01")
    responder = Responder(cts.tls_port, "127.0.0.2", c2.key_authz(ch["token"]))
    try:
        r, _ = reenable(c2, az, "tls-alpn-01")
        assert r.status == 200, r
        az = c2.wait_authz(az_url).json
        assert az["status"] == "valid", az
    finally:
        responder.stop()
    finish_order(c2, order_url, ["127.0.0.2"], ip=True)


def case_transient_dns_same_type(h):
    # A ten-minute backoff makes the first re-enable "too early" however
    # slow the machine is; a restart with a 1 s backoff then brings
    # notBefore forward (the offer is computed from the policy, never
    # stored), so the case does not wait the ten minutes.
    cts, srv, c = setup(h, config={"retryMinBackoffSeconds": 600})
    name = "transient.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "dns-01")  # TXT not set yet
    failed = c.challenge_of(az, "dns-01")
    assert failed["error"]["type"].endswith(":unauthorized"), failed
    fresh = choice(az["retry-options"], "dns-01")
    assert fresh["token"] != failed["token"]
    # Too early: refused with Retry-After (at most the backoff), nothing changed.
    before = snapshot(c, az_url, order_url)
    r = c.post(az["retry-options"]["url"], {"challenge": fresh["url"]})
    assert r.status == 429 and r.problem == "rateLimited" and 1 <= int(r.headers["Retry-After"]) <= 600, r
    assert_unchanged(c, before, az_url, order_url)
    cfg = dict(srv.config)
    cfg["retryMinBackoffSeconds"] = 1
    srv.restart(config=cfg)
    c.nonce = None
    az = c.get(az_url).json
    assert choice(az["retry-options"], "dns-01") == fresh, az   # the same offer, earlier
    cts.set_txt(name, c.dns_value(fresh["token"]))
    r, _ = reenable(c, az, "dns-01")
    assert r.status == 200, r
    az = c.wait_authz(az_url).json
    assert az["status"] == "valid", az
    # The failed challenge is unchanged and still listed (7.1.4).
    old = [x for x in az["challenges"] if x["url"] == failed["url"]][0]
    assert old["status"] == "invalid" and old["token"] == failed["token"]
    finish_order(c, order_url, [name])


def case_wildcard_one_attempt(h):
    # Draft -01 "Zombies": no more attempts than the types listed at
    # creation; a wildcard lists dns-01 only (RFC 8555 7.1.3), so its one
    # failure gets no offer (transient DNS is 8.2's, the server's retries
    # within the attempt), and a re-enable is refused. Two types (a plain
    # name with only http-01 and dns-01 offered) would allow two.
    cts, srv, c = setup(h)
    order_url, order = order_for(c, "*.wild.example.com")
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "dns-01")
    assert az["wildcard"] is True and [x["type"] for x in az["challenges"]] == ["dns-01"], az
    assert az["status"] == "invalid" and "retry-options" not in az, az
    o = c.get(order_url).json
    assert o["status"] == "invalid" and "authorizations" not in o.get("retry-options", {}), o
    before = store_dump(srv)
    r = c.post(az_url + "/retry", {"challenge": az["challenges"][0]["url"]})
    assert r.status == 403 and r.problem == "retryNotAllowed", r
    # Invalid without an offer is final (RFC 8555 7.1.6): no deactivation.
    r = c.post(az_url, {"status": "deactivated"})
    assert r.status == 400 and r.problem == "malformed", r
    assert store_dump(srv) == before, "a refused re-enable or deactivation changed the store"


def case_two_names(h):
    cts, srv, c = setup(h)
    a, b = "one.example.com", "two.example.com"
    order_url, order = order_for(c, a, b)
    az_a, az_b = order["authorizations"]
    ja = respond_and_fail(c, az_a, "http-01")
    o = c.get(order_url).json
    assert o["status"] == "invalid", o
    subs = o["error"]["subproblems"]
    assert [s["identifier"]["value"] for s in subs] == [a], subs
    assert o["retry-options"]["authorizations"] == [az_a], o
    jb = respond_and_fail(c, az_b, "http-01")
    o = c.get(order_url).json
    assert sorted(s["identifier"]["value"] for s in o["error"]["subproblems"]) == [a, b], o
    assert sorted(o["retry-options"]["authorizations"]) == sorted([az_a, az_b]), o
    # Re-enable a: b is still invalid, so the order stays invalid.
    cts.set_txt(a, c.dns_value(choice(ja["retry-options"], "dns-01")["token"]))
    r, _ = reenable(c, ja, "dns-01")
    assert r.status == 200, r
    o = c.get(order_url).json
    assert o["status"] == "invalid", o
    assert [s["identifier"]["value"] for s in o["error"]["subproblems"]] == [b], o
    assert c.wait_authz(az_a).json["status"] == "valid"
    # Re-enable b: now no authorization is invalid, the order is pending again.
    cts.set_txt(b, c.dns_value(choice(jb["retry-options"], "dns-01")["token"]))
    r, _ = reenable(c, jb, "dns-01")
    assert r.status == 200, r
    o = c.get(order_url).json
    assert o["status"] in ("pending", "ready") and "error" not in o, o
    assert c.wait_authz(az_b).json["status"] == "valid"
    finish_order(c, order_url, [a, b])


def case_order_offer_needs_every_authz(h):
    cts, srv, c = setup(h, config={"retryAttemptsPerAuthorization": 2})
    a, b = "first.example.com", "second.example.com"
    order_url, order = order_for(c, a, b)
    az_a, az_b = order["authorizations"]
    ja = respond_and_fail(c, az_a, "http-01")
    assert "retry-options" in ja, ja
    jb = respond_and_fail(c, az_b, "http-01")
    r, _ = reenable(c, jb, "tls-alpn-01")         # fails again: b has used both attempts
    assert r.status == 200, r
    jb = c.wait_authz(az_b).json
    assert jb["status"] == "invalid" and "retry-options" not in jb, jb
    assert "retry-options" in c.get(az_a).json    # a could still be re-enabled...
    o = c.get(order_url).json                     # ...but the order could never come back
    assert o["status"] == "invalid" and "retry-options" not in o, o


def case_all_types_fail(h):
    cts, srv, c = setup(h)
    name = "hopeless.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    assert az["retry-options"]["attemptsRemaining"] == 2
    first_fresh_http = choice(az["retry-options"], "http-01")["url"]
    r, _ = reenable(c, az, "tls-alpn-01")   # nothing on the TLS port
    assert r.status == 200, r
    az = c.wait_authz(az_url).json
    assert az["status"] == "invalid" and az["retry-options"]["attemptsRemaining"] == 1, az
    # A fresh challenge for each failed type; the unchosen fresh http-01 of
    # the first offer is offered again, not a new row.
    ro = az["retry-options"]
    assert sorted(x["type"] for x in ro["challenges"]) == ["dns-01", "http-01", "tls-alpn-01"], ro
    assert choice(ro, "http-01")["url"] == first_fresh_http, ro
    failed_alpn = [x for x in az["challenges"] if x["type"] == "tls-alpn-01" and x["status"] == "invalid"][0]
    assert choice(ro, "tls-alpn-01")["url"] != failed_alpn["url"], ro
    r, _ = reenable(c, az, "dns-01")        # no TXT record
    assert r.status == 200, r
    az = c.wait_authz(az_url).json
    assert az["status"] == "invalid" and "retry-options" not in az, az
    o = c.get(order_url).json
    assert o["status"] == "invalid" and "retry-options" not in o, o
    assert all("retry-options" not in c.get(x["url"]).json for x in az["challenges"])
    assert srv.metric("aro_challenges_created_total") == 3 + 2, srv.metrics()
    before = snapshot(c, az_url, order_url)
    r = c.post(az_url + "/retry", {"challenge": az["challenges"][0]["url"]})
    assert r.status == 403 and r.problem == "retryNotAllowed", r
    assert "no attempts left" in r.json["detail"], r
    assert_unchanged(c, before, az_url, order_url)
    assert srv.metric("aro_reenabled_authorizations_total", final="invalid") == 1
    assert srv.metric("aro_reenables_total", result="refused") >= 1


def case_refusals(h):
    cts, srv, c = setup(h, config={"reuseValidAuthz": False})
    name = "refuse.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    ro = az["retry-options"]
    wait_not_before(ro)
    failed = c.challenge_of(az, "http-01")
    before = snapshot(c, az_url, order_url)
    # Not listed: the failed challenge itself.
    r = c.post(ro["url"], {"challenge": failed["url"]})
    assert r.status == 400 and r.problem == "malformed", r
    # Not listed: garbage, and a missing member.
    r = c.post(ro["url"], {"challenge": "https://example.org/nope"})
    assert r.status == 400 and r.problem == "malformed", r
    r = c.post(ro["url"], {})
    assert r.status == 400 and r.problem == "malformed", r
    # Another account.
    other = Client(srv.directory, srv.ca_file)
    other.new_account()
    r = other.post(ro["url"], {"challenge": choice(ro, "dns-01")["url"]})
    assert r.status == 403 and r.problem == "unauthorized", r
    assert_unchanged(c, before, az_url, order_url)
    # Deadline: a server whose backoff would pass the authorization's
    # expiry makes no offer (tested on a second authorization, below).
    # Deactivation withdraws the offer.
    r = c.post(az_url, {"status": "deactivated"})
    assert r.status == 200 and r.json["status"] == "deactivated" and "retry-options" not in r.json, r
    r = c.post(ro["url"], {"challenge": choice(ro, "dns-01")["url"]})
    assert r.status == 403 and r.problem == "retryNotAllowed", r
    o = c.get(order_url).json
    assert o["status"] == "invalid" and "retry-options" not in o, o


def case_policy_refuses_after_restart(h):
    cts, srv, c = setup(h)
    name = "later-blocked.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    ro = az["retry-options"]
    cfg = dict(srv.config)
    cfg["domainBlocklist"] = ["later-blocked.example.com"]
    srv.restart(config=cfg)
    c.nonce = None
    before = snapshot(c, az_url, order_url)
    assert "retry-options" not in before[0] and "retry-options" not in before[1], before
    wait_not_before(ro)
    r = c.post(ro["url"], {"challenge": choice(ro, "dns-01")["url"]})
    assert r.status == 403 and r.problem == "retryNotAllowed" and "policy" in r.json["detail"], r
    assert_unchanged(c, before, az_url, order_url)


def case_deadline(h):
    # Backoff longer than the authorization lives: no offer at all.
    cts, srv, c = setup(h, config={"retryMinBackoffSeconds": 7200, "retryMaxBackoffSeconds": 7200})
    order_url, order = order_for(c, "deadline.example.com")
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    assert "retry-options" not in az, az
    r = c.post(az_url + "/retry", {"challenge": c.challenge_of(az, "dns-01")["url"]})
    assert r.status == 403 and r.problem == "retryNotAllowed" and "expires" in r.json["detail"], r


def case_replaces_consumed(h):
    cts, srv, c = setup(h, config={"reuseValidAuthz": False})
    name = "renew.example.com"
    # An original certificate.
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = c.get(az_url).json
    dns = c.challenge_of(az, "dns-01")
    cts.set_txt(name, c.dns_value(dns["token"]))
    c.post(dns["url"], {})
    assert c.wait_authz(az_url).json["status"] == "valid"
    o = finish_order(c, order_url, [name])
    cert_id = ari_cert_id(c.get(o["certificate"]).text)
    ri = c.s.get(c.dir["renewalInfo"] + "/" + cert_id, timeout=10)
    assert ri.status_code == 200 and "suggestedWindow" in ri.json(), ri.text
    # Order 1 replaces it and fails; order 2 replaces it and succeeds.
    o1_url, o1 = order_for(c, name, replaces=cert_id)
    az1 = respond_and_fail(c, o1["authorizations"][0], "http-01")
    o2_url, o2 = order_for(c, name, replaces=cert_id)
    az2_url = o2["authorizations"][0]
    dns2 = c.challenge_of(c.get(az2_url).json, "dns-01")
    cts.set_txt(name, c.dns_value(dns2["token"]))
    c.post(dns2["url"], {})
    assert c.wait_authz(az2_url).json["status"] == "valid"
    finish_order(c, o2_url, [name])
    # Re-enabling order 1's authorization would revive a consumed replacement.
    before = snapshot(c, o1["authorizations"][0], o1_url)
    r, _ = reenable(c, az1, "dns-01")
    assert r.status == 409 and r.problem == "alreadyReplaced", r
    assert_unchanged(c, before, o1["authorizations"][0], o1_url)
    # And a new order replacing it again is refused (RFC 9773 5).
    r = c.new_order(name, replaces=cert_id)
    assert r.status == 409 and r.problem == "alreadyReplaced", r


def case_legacy_bare_post(h):
    cts, srv, c = setup(h)
    order_url, order = order_for(c, "legacy.example.com")
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    before = snapshot(c, az_url, order_url)
    for ctype in ("http-01", "dns-01", "tls-alpn-01"):   # the failed one and the untried ones
        ch = c.challenge_of(az, ctype)
        for payload in ({}, {"keyAuthorization": "x"}):
            r = c.post(ch["url"], payload)
            assert r.status == 400 and r.problem == "malformed" and "must be pending" in r.json["detail"], (ctype, r)
    # The fresh challenge of the offer, answered like a legacy client would.
    r = c.post(choice(az["retry-options"], "http-01")["url"], {})
    assert r.status == 400 and r.problem == "malformed", r
    assert_unchanged(c, before, az_url, order_url)
    assert srv.metric("aro_validations_total") == 1


def all_json(c, urls):
    return [c.get(u).text for u in urls]


def case_no_retry_options_switch(h):
    cts, srv, c = setup(h, flags=["--no-retry-options"])
    assert "retry-options" not in c.dir["meta"], c.dir
    order_url, order = order_for(c, "switch.example.com")
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    urls = [az_url, order_url] + [x["url"] for x in az["challenges"]]
    assert not any("retry-options" in t for t in all_json(c, urls)), all_json(c, urls)
    r = c.post(az_url + "/retry", {"challenge": c.challenge_of(az, "dns-01")["url"]})
    assert r.status == 403 and r.problem == "retryNotAllowed", r
    # Switch on across a restart: the failure made while off has no offer.
    srv.restart(flags=[])
    c.nonce = None
    assert not any("retry-options" in t for t in all_json(c, urls))
    # A failure made while on has one; switching off hides it, on shows it again, same tokens.
    order2_url, order2 = order_for(c, "switch2.example.com")
    az2_url = order2["authorizations"][0]
    az2 = respond_and_fail(c, az2_url, "http-01")
    ro = az2["retry-options"]
    srv.restart(flags=["--no-retry-options"])
    c.nonce = None
    assert "retry-options" not in c.get(az2_url).json and "retry-options" not in c.get(order2_url).json
    srv.restart(flags=[])
    c.nonce = None
    assert c.get(az2_url).json["retry-options"] == ro


def case_shared_authz(h):
    cts, srv, c = setup(h, config={"reusePendingAuthz": True})
    name = "shared.example.com"
    o1_url, o1 = order_for(c, name)
    o2_url, o2 = order_for(c, name)
    assert o1["authorizations"] == o2["authorizations"], (o1, o2)
    az_url = o1["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    assert c.get(o1_url).json["status"] == "invalid" and c.get(o2_url).json["status"] == "invalid"
    cts.set_txt(name, c.dns_value(choice(az["retry-options"], "dns-01")["token"]))
    r, _ = reenable(c, az, "dns-01")
    assert r.status == 200, r
    for u in (o1_url, o2_url):
        assert c.get(u).json["status"] in ("pending", "ready")
    assert c.wait_authz(az_url).json["status"] == "valid"
    finish_order(c, o1_url, [name])
    finish_order(c, o2_url, [name])


def case_kill9_while_processing(h):
    cts, srv, c = setup(h, config={"validationSleepMs": 2500}, http01=True)
    name = "crash.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    respond_served(cts, c, az_url)
    srv.stop(sig=signal.SIGKILL)
    srv.start()
    c.nonce = None
    az = c.wait_authz(az_url, timeout=30).json
    assert az["status"] == "valid", az   # resumed after the restart
    finish_order(c, order_url, [name])
    # And a re-enabled attempt in flight at the crash.
    order_url, order = order_for(c, "crash2.example.com")
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "tls-alpn-01")
    ch = choice(az["retry-options"], "http-01")
    cts.add_http01(ch["token"], c.key_authz(ch["token"]))
    r, _ = reenable(c, az, "http-01")
    assert r.status == 200, r
    srv.stop(sig=signal.SIGKILL)
    srv.start()
    c.nonce = None
    o = c.get(order_url).json
    assert o["status"] in ("pending", "ready"), o
    assert c.wait_authz(az_url, timeout=30).json["status"] == "valid"
    finish_order(c, order_url, ["crash2.example.com"])


def case_races(h):
    cts, srv, c = setup(h)
    order_url, order = order_for(c, "race.example.com")
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    ro = az["retry-options"]
    # The validation the race starts must still be in flight for the rest
    # of the case (about ten requests): from now on each validation sleeps
    # 8 s before it starts, room enough on a loaded machine.
    cfg = dict(srv.config)
    cfg["validationSleepMs"] = 8000
    srv.restart(config=cfg)
    c.nonce = None
    assert c.get(az_url).json["retry-options"] == ro
    wait_not_before(ro)
    clients = [Client(srv.directory, srv.ca_file, key=c.key) for _ in range(4)]
    for x in clients:
        x.kid = c.kid
    results = [None] * 4
    targets = [choice(ro, "dns-01")["url"]] * 2 + [choice(ro, "tls-alpn-01")["url"]] * 2

    def go(i):
        results[i] = clients[i].post(ro["url"], {"challenge": targets[i]})

    threads = [threading.Thread(target=go, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r.status == 200]
    assert ok, results
    # Exactly one challenge went to processing: one attempt counted.
    az = c.get(az_url).json
    processing = [x for x in az["challenges"] if x["status"] == "processing"]
    assert len(processing) == 1, az
    winner = processing[0]["url"]
    for r, t in zip(results, targets):
        if t == winner:
            assert r.status == 200, r          # the same request again is idempotent
        else:
            assert r.status == 403 and r.problem == "retryNotAllowed", r
    # A re-enable racing the validation in flight: refused, nothing changed.
    before = snapshot(c, order_url)
    r = c.post(ro["url"], {"challenge": choice(ro, "tls-alpn-01")["url"] if winner != choice(ro, "tls-alpn-01")["url"] else choice(ro, "dns-01")["url"]})
    assert r.status == 403 and r.problem == "retryNotAllowed", r
    assert_unchanged(c, before, order_url)
    az = c.get(az_url).json
    assert [x["url"] for x in az["challenges"] if x["status"] == "processing"] == [winner], \
        f"the validation was no longer in flight: the checks above raced nothing: {az}"
    az = c.wait_authz(az_url, timeout=60).json
    assert az["status"] == "invalid" and az["retry-options"]["attemptsRemaining"] == 1, az


def case_failed_validation_limit(h):
    cts, srv, c = setup(h, config={"failedValidationLimit": 2, "retryAttemptsPerAuthorization": 5})
    name = "limited.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    r, _ = reenable(c, az, "tls-alpn-01")
    assert r.status == 200, r
    az = c.wait_authz(az_url).json
    assert az["status"] == "invalid", az
    # Two failures for this account and name: the limit, shared by
    # re-enables and new orders, answers rateLimited with Retry-After.
    before = snapshot(c, az_url, order_url)
    r, _ = reenable(c, az, "dns-01")
    assert r.status == 429 and r.problem == "rateLimited" and int(r.headers["Retry-After"]) > 0, r
    assert_unchanged(c, before, az_url, order_url)
    r = c.new_order(name)
    assert r.status == 429 and r.problem == "rateLimited", r


CASES = [
    ("fallback http-01 -> dns-01, one order", case_fallback_http_to_dns),
    ("fallback http-01 -> tls-alpn-01", case_fallback_to_tls_alpn),
    ("IP identifier: tls-alpn-01 <-> http-01", case_ip_identifier_both_ways),
    ("transient dns-01: fresh same-type challenge after notBefore", case_transient_dns_same_type),
    ("wildcard: one type listed, one attempt, no offer", case_wildcard_one_attempt),
    ("two names: pending again only when none invalid", case_two_names),
    ("all types fail: attempts exhausted, re-enable refused", case_all_types_fail),
    ("order offer only when every failed authorization has one", case_order_offer_needs_every_authz),
    ("refusals: not listed, other account, deactivated", case_refusals),
    ("refusal: policy now refuses (blocklist after restart)", case_policy_refuses_after_restart),
    ("refusal: deadline before next attempt", case_deadline),
    ("refusal: ARI replaces consumed (alreadyReplaced)", case_replaces_consumed),
    ("legacy: bare {} to failed/untried/fresh challenge changes nothing", case_legacy_bare_post),
    ("--no-retry-options, switched across restarts", case_no_retry_options_switch),
    ("shared authorization (pending reuse): both orders restored", case_shared_authz),
    ("kill -9 while processing, then restart", case_kill9_while_processing),
    ("racing re-enables and a re-enable racing a validation", case_races),
    ("failed-validation limit shared with re-enables and new orders", case_failed_validation_limit),
]


def main():
    run_cases(CASES)


if __name__ == "__main__":
    main()
