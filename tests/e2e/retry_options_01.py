"""retry-options -01 end to end: what the -01 draft adds or makes precise,
against a real aro-server with pebble-challtestsrv as its DNS.

  - CAA (RFC 8659, RFC 8657 validationmethods) is evaluated when the offer
    is made, so the offer never lists a type CAA excludes, and again at
    every re-enable, refused up front with "caa" and nothing changed;
  - a repeated re-enable is safe in every later state: 200, nothing changes;
  - deactivating an authorization while its challenge is processing ends
    the challenge invalid and discards the late result;
  - pending-hold: the newOrder opt-in under which a failed challenge leaves
    its authorization (and order) pending with the offer in it;
  - pre-authorization: newAuthz (RFC 8555 7.4.1), then an order that
    reuses the valid authorization;
  - the failure modes that exist only to measure legacy clients: erratum
    6317's reading and the forum thread's "processing with its error".

Refusals assert the problem type, the status and an unchanged store (the
whole LMDB store, dumped with mdb_dump before and after)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from acme import Client  # noqa: E402
from harness import run_cases, wait_for  # noqa: E402
from hostile import store_dump  # noqa: E402
from retry_options import (BASE_CFG, choice, finish_order, order_for, respond_and_fail, setup,  # noqa: E402
                           wait_not_before)


def assert_store_unchanged(srv, before, what):
    assert store_dump(srv) == before, f"{what}: the store changed"


def post_challenge(c, az, ctype):
    ch = c.challenge_of(az, ctype)
    r = c.post(ch["url"], {})
    assert r.status == 200, r
    return ch


def wait_failed_challenge(c, az_url, ctype, timeout=30):
    """Under pending-hold the authorization stays pending: wait for the
    challenge, not the authorization."""
    def failed(j):
        return any(x["type"] == ctype and x["status"] == "invalid" for x in j["challenges"])
    return c.poll(az_url, failed, timeout).json


# ---- the server's own MUSTs -------------------------------------------

def case_caa_excludes_at_offer(h):
    """validationmethods=http-01 before the failure: the offer lists only a
    fresh http-01, never dns-01 or tls-alpn-01."""
    cts, srv, c = setup(h)
    name = "caa-offer.example.com"
    cts.add_caa(name, [{"tag": "issue", "value": "aro.test; validationmethods=http-01"}])
    order_url, order = order_for(c, name)
    az = respond_and_fail(c, order["authorizations"][0], "http-01")
    types = sorted(x["type"] for x in az["retry-options"]["challenges"])
    assert types == ["http-01"], az["retry-options"]


def case_caa_refused_at_reenable(h):
    """CAA changed after the failure: the offer (made at the failure) lists
    dns-01, but a re-enable naming it is refused up front with caa 403 and
    nothing changes; the fresh http-01 is still accepted."""
    cts, srv, c = setup(h)
    name = "caa-later.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    ro = az["retry-options"]
    dns = choice(ro, "dns-01")
    cts.add_caa(name, [{"tag": "issue", "value": "aro.test; validationmethods=http-01,tls-alpn-01"}])
    wait_not_before(ro)
    before = store_dump(srv)
    r = c.post(ro["url"], {"challenge": dns["url"]})
    assert r.status == 403 and r.problem == "caa", r
    assert_store_unchanged(srv, before, "re-enable refused by CAA")
    assert srv.metric("aro_reenables_total", result="refused") >= 1
    r = c.post(ro["url"], {"challenge": choice(ro, "http-01")["url"]})
    assert r.status == 200 and r.json["status"] == "pending", r


def case_repeat_in_every_state(h):
    """The request that started the latest attempt, again: 200 and nothing
    changes, while it runs, after it failed, after it succeeded."""
    cts, srv, c = setup(h, config={"validationSleepMs": 1500})
    name = "repeat.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = respond_and_fail(c, az_url, "http-01")
    ro = az["retry-options"]
    wait_not_before(ro)
    # Processing: the attempt runs (the VA sleeps 1.5 s first).
    first = choice(ro, "tls-alpn-01")
    r = c.post(ro["url"], {"challenge": first["url"]})
    assert r.status == 200 and r.json["status"] == "pending", r
    r2 = c.post(ro["url"], {"challenge": first["url"]})
    assert r2.status == 200 and r2.json["status"] == "pending", r2
    # Failed: the repeat shows the authorization invalid with its new offer.
    az = c.wait_authz(az_url).json
    assert az["status"] == "invalid" and "retry-options" in az, az
    before = store_dump(srv)
    r3 = c.post(ro["url"], {"challenge": first["url"]})
    assert r3.status == 200 and r3.json["status"] == "invalid", r3
    assert r3.json["retry-options"] == az["retry-options"], r3
    assert_store_unchanged(srv, before, "repeat after failure")
    # Valid: re-enable with dns-01, succeed, then repeat.
    ro = az["retry-options"]
    dns = choice(ro, "dns-01")
    cts.set_txt(name, c.dns_value(dns["token"]))
    wait_not_before(ro)
    r = c.post(ro["url"], {"challenge": dns["url"]})
    assert r.status == 200, r
    az = c.wait_authz(az_url).json
    assert az["status"] == "valid", az
    before = store_dump(srv)
    r4 = c.post(ro["url"], {"challenge": dns["url"]})
    assert r4.status == 200 and r4.json["status"] == "valid", r4
    assert_store_unchanged(srv, before, "repeat after success")
    finish_order(c, order_url, [name])


def case_deactivate_while_processing(h):
    """Deactivation during processing: the challenge ends invalid
    (unauthorized, "deactivated"), and the late result is discarded."""
    cts, srv, c = setup(h, config={"validationSleepMs": 2000})
    name = "deact-processing.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    az = c.get(az_url).json
    ch = c.challenge_of(az, "dns-01")
    cts.set_txt(name, c.dns_value(ch["token"]))  # it would pass
    r = c.post(ch["url"], {})
    assert r.status == 200 and r.json["status"] == "processing", r
    r = c.post(az_url, {"status": "deactivated"})
    assert r.status == 200 and r.json["status"] == "deactivated", r
    gone = [x for x in r.json["challenges"] if x["url"] == ch["url"]][0]
    assert gone["status"] == "invalid" and gone["error"]["type"].endswith(":unauthorized"), gone
    assert "deactivated" in gone["error"]["detail"], gone
    # The validation finishes after the sleep: its result is discarded.
    wait_for(lambda: srv.metric("aro_validation_results_discarded_total") == 1, timeout=15,
             what="the late result to arrive")
    assert srv.metric("aro_validations_total", type="dns-01", result="valid") == 0
    az = c.get(az_url).json
    assert az["status"] == "deactivated", az
    assert [x for x in az["challenges"] if x["url"] == ch["url"]][0]["status"] == "invalid", az
    assert c.get(order_url).json["status"] == "invalid"


# ---- pending-hold (the newOrder opt-in) --------------------------------

def case_hold_fallback(h):
    """Opted in: http-01 fails, the authorization and the order stay
    pending, the failed challenge is invalid, the offer is in the
    authorization without a re-enable URL; answering dns-01 finishes it."""
    cts, srv, c = setup(h)
    name = "hold.example.com"
    order_url, order = order_for(c, name, **{"retry-options": {"hold": True}})
    az_url = order["authorizations"][0]
    post_challenge(c, c.get(az_url).json, "http-01")
    az = wait_failed_challenge(c, az_url, "http-01")
    assert az["status"] == "pending", az
    ro = az["retry-options"]
    assert "url" not in ro and ro["attemptsRemaining"] == 2, ro
    assert sorted(x["type"] for x in ro["challenges"]) == ["dns-01", "http-01", "tls-alpn-01"], ro
    assert c.get(order_url).json["status"] == "pending"
    failed = c.challenge_of(az, "http-01")
    assert failed["status"] == "invalid" and failed["error"]["type"].endswith(":connection"), failed
    # The failed challenge's representation carries the offer too.
    assert c.get(failed["url"]).json.get("retry-options") == ro
    dns = choice(ro, "dns-01")
    cts.set_txt(name, c.dns_value(dns["token"]))
    wait_not_before(ro)
    r = c.post(dns["url"], {})
    assert r.status == 200 and r.json["status"] == "processing", r
    az = c.wait_authz(az_url).json
    assert az["status"] == "valid", az
    finish_order(c, order_url, [name])
    assert srv.metric("aro_orders_created_total") == 1
    assert srv.metric("aro_reenables_total", result="accepted") == 0


def case_hold_refusals(h):
    """Under pending-hold: an answer before notBefore is 429 with
    Retry-After, a challenge the offer does not list (CAA now excludes its
    type) is 400 malformed; both change nothing. When the attempts are
    used up the authorization ends invalid, as RFC 8555 says."""
    cts, srv, c = setup(h, config={"retryMinBackoffSeconds": 3, "retryAttemptsPerAuthorization": 2})
    name = "hold-refuse.example.com"
    cts.add_caa(name, [{"tag": "issue", "value": "aro.test; validationmethods=http-01,dns-01"}])
    order_url, order = order_for(c, name, **{"retry-options": {"hold": True}})
    az_url = order["authorizations"][0]
    post_challenge(c, c.get(az_url).json, "http-01")
    az = wait_failed_challenge(c, az_url, "http-01")
    ro = az["retry-options"]
    assert "tls-alpn-01" not in [x["type"] for x in ro["challenges"]], ro
    tls = c.challenge_of(az, "tls-alpn-01")
    before = store_dump(srv)
    r = c.post(tls["url"], {})
    assert r.status == 400 and r.problem == "malformed", r
    r = c.post(choice(ro, "dns-01")["url"], {})
    assert r.status == 429 and r.problem == "rateLimited" and int(r.headers["Retry-After"]) >= 1, r
    assert_store_unchanged(srv, before, "held answers refused")
    wait_not_before(ro)
    r = c.post(choice(ro, "http-01")["url"], {})  # the fresh one; nothing answers again
    assert r.status == 200, r
    az = c.wait_authz(az_url).json
    assert az["status"] == "invalid" and "retry-options" not in az, az
    assert c.get(order_url).json["status"] == "invalid"


def case_hold_switched_off(h):
    """A pending-hold order read after the server restarted with
    --no-retry-options is plain RFC 8555: no retry-options member, in the
    newOrder answer of that server either (draft "Switching off")."""
    cts, srv, c = setup(h)
    order_url, order = order_for(c, "hold-off.example.com", **{"retry-options": {"hold": True}})
    assert order["retry-options"] == {"hold": True}, order
    srv.restart(flags=("--no-retry-options",))
    c.nonce = None
    o = c.get(order_url).json
    assert o["status"] == "pending" and "retry-options" not in o, o
    _, o2 = order_for(c, "hold-off2.example.com", **{"retry-options": {"hold": True}})
    assert "retry-options" not in o2, o2


def case_hold_not_for_legacy(h):
    """No opt-in: the same failure makes the authorization invalid."""
    cts, srv, c = setup(h)
    order_url, order = order_for(c, "no-hold.example.com")
    az = respond_and_fail(c, order["authorizations"][0], "http-01")
    assert az["status"] == "invalid" and az["retry-options"]["url"], az


# ---- pre-authorization (RFC 8555 7.4.1) --------------------------------

def case_new_authz(h):
    cts, srv, c = setup(h)
    d = c.dir
    assert "newAuthz" in d and d["meta"]["retry-options"].get("hold") is True, d
    name = "preauth.example.com"
    r = c.post(d["newAuthz"], {"identifier": {"type": "dns", "value": name}})
    assert r.status == 201 and r.json["status"] == "pending", r
    az_url = r.headers["Location"]
    az = respond_and_fail(c, az_url, "http-01")
    # Fallback per authorization: re-enable the pre-authorization.
    ro = az["retry-options"]
    dns = choice(ro, "dns-01")
    cts.set_txt(name, c.dns_value(dns["token"]))
    wait_not_before(ro)
    assert c.post(ro["url"], {"challenge": dns["url"]}).status == 200
    assert c.wait_authz(az_url).json["status"] == "valid"
    # The order reuses it: ready at once, no new authorization.
    before = srv.metric("aro_authorizations_created_total")
    order_url, order = order_for(c, name)
    assert order["status"] == "ready" and order["authorizations"] == [az_url], order
    assert srv.metric("aro_authorizations_created_total") == before
    finish_order(c, order_url, [name])
    # A wildcard cannot be pre-authorized (7.4.1).
    before = store_dump(srv)
    r = c.post(d["newAuthz"], {"identifier": {"type": "dns", "value": "*.preauth.example.com"}})
    assert r.status == 400 and r.problem == "rejectedIdentifier", r
    r = c.post(d["newAuthz"], {"identifier": {"type": "dns"}})
    assert r.status == 400 and r.problem == "malformed", r
    assert_store_unchanged(srv, before, "newAuthz refused")


# ---- the failure modes for legacy-client measurements -----------------

def case_failure_mode_erratum(h):
    """failureMode erratum: pending until every listed challenge failed."""
    cts, srv, c = setup(h, config={"failureMode": "erratum"}, flags=("--no-retry-options",))
    name = "erratum.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    post_challenge(c, c.get(az_url).json, "http-01")
    az = wait_failed_challenge(c, az_url, "http-01")
    assert az["status"] == "pending" and "retry-options" not in az, az
    ch = post_challenge(c, az, "dns-01")  # nothing set: fails too
    c.poll(az_url, lambda j: any(x["url"] == ch["url"] and x["status"] == "invalid" for x in j["challenges"]))
    az = c.get(az_url).json
    assert az["status"] == "pending", az
    post_challenge(c, az, "tls-alpn-01")
    az = c.wait_authz(az_url).json
    assert az["status"] == "invalid", az
    assert c.get(order_url).json["status"] == "invalid"


def case_failure_mode_processing(h):
    """failureMode processing: the failed challenge stays processing with
    its error shown; another challenge can still pass."""
    cts, srv, c = setup(h, config={"failureMode": "processing"}, flags=("--no-retry-options",))
    name = "kept.example.com"
    order_url, order = order_for(c, name)
    az_url = order["authorizations"][0]
    http = post_challenge(c, c.get(az_url).json, "http-01")
    kept = c.poll(http["url"], lambda j: j.get("error") is not None).json
    assert kept["status"] == "processing" and kept["error"]["type"].endswith(":connection"), kept
    az = c.get(az_url).json
    assert az["status"] == "pending", az
    dns = c.challenge_of(az, "dns-01")
    cts.set_txt(name, c.dns_value(dns["token"]))
    assert c.post(dns["url"], {}).status == 200
    az = c.poll(az_url, lambda j: j["status"] != "pending").json
    assert az["status"] == "valid", az
    # The kept challenge ends with its authorization, its error kept.
    kept = c.get(http["url"]).json
    assert kept["status"] == "invalid" and kept["error"]["type"].endswith(":connection"), kept
    finish_order(c, order_url, [name])


CASES = [
    ("CAA evaluated at the offer: excluded types never offered", case_caa_excludes_at_offer),
    ("CAA re-checked at re-enable: refused up front, store unchanged", case_caa_refused_at_reenable),
    ("repeated re-enable: 200 while processing, after failure, after success", case_repeat_in_every_state),
    ("deactivation while processing: challenge invalid, late result discarded", case_deactivate_while_processing),
    ("pending-hold: fallback http-01 -> dns-01, nothing leaves a final state", case_hold_fallback),
    ("pending-hold: too early, not offered, attempts used up", case_hold_refusals),
    ("pending-hold only for clients that opt in", case_hold_not_for_legacy),
    ("pending-hold: switched off, the order reads as RFC 8555", case_hold_switched_off),
    ("pre-authorization: newAuthz, re-enable, order reuses it; wildcard refused", case_new_authz),
    ("failureMode erratum: pending until every challenge failed", case_failure_mode_erratum),
    ("failureMode processing: failed challenge stays processing", case_failure_mode_processing),
]


def main():
    run_cases(CASES)


if __name__ == "__main__":
    main()
