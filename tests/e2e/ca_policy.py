"""What aro-server puts into a certificate, and when it refuses, end to
end (docs/ca-policy.md): the flows the hostile catalogue (hostile.py, one
request each) cannot show. Every refusal asserts its status, its problem
type and that the store did not change (mdb_dump before and after).

Times a test cannot wait for (hours since a validation, an authorization
past its expiry) are moved into the past in the stopped server's store
(AroServer.edit_store)."""
import os
import re
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import weak_keys  # noqa: E402
from acme import ari_cert_id, b64u  # noqa: E402
from cryptography import x509  # noqa: E402
from harness import run_cases  # noqa: E402
from hostile import MDB_DUMP, store_dump, utc  # noqa: E402
from retry_options import finish_order, order_for, reenable, respond_and_fail, respond_served, setup  # noqa: E402


def validate_dns(cts, c, order):
    """Pass dns-01 for the order's (one) authorization; wait for ready."""
    az_url = order["authorizations"][0]
    az = c.get(az_url).json
    ch = c.challenge_of(az, "dns-01")
    cts.set_txt(az["identifier"]["value"], c.dns_value(ch["token"]))
    assert c.post(ch["url"], {}).status == 200
    assert c.wait_authz(az_url).json["status"] == "valid"
    return ch


def refused(srv, do, status, problem):
    """do() must be refused with status and problem, changing nothing."""
    before = store_dump(srv)
    r = do()
    assert (r.status, r.problem) == (status, problem), r
    assert r.headers.get("Content-Type", "").startswith("application/problem+json"), r.headers
    assert store_dump(srv) == before, "the store changed"
    return r


def certificate(c, order_url):
    """The order's chain once valid: leaf first."""
    o = c.poll(order_url, lambda j: j["status"] in ("valid", "invalid")).json
    assert o["status"] == "valid", o
    pem = c.get(o["certificate"]).text
    end = "-----END CERTIFICATE-----"
    return [x509.load_pem_x509_certificate((p + end).encode()) for p in pem.split(end) if p.strip()]


def validity(cert):
    """(notBefore, notAfter) as POSIX times (Debian's cryptography 38 has
    only the naive UTC datetimes)."""
    return tuple(int(t.replace(tzinfo=timezone.utc).timestamp()) for t in (cert.not_valid_before, cert.not_valid_after))


def rfc3339(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


# ---- certificates --------------------------------------------------------

def case_handmade_csr_with_sound_key_is_issued(h):
    # The control of the hostile catalogue's weak-key cases: the same
    # hand-assembled CSR around a sound key is certified, so those are
    # refused for their keys, not for their DER.
    cts, srv, c = setup(h)
    name = "handmade.example.com"
    url, o = order_for(c, name)
    validate_dns(cts, c, o)
    key = weak_keys.good()
    r = c.post(o["finalize"], {"csr": b64u(weak_keys.rsa_csr_der([name], key))})
    assert r.status == 200, r
    leaf = certificate(c, url)[0]
    assert leaf.public_key().public_numbers().n == key[0]


def case_validity_as_asked_within_bounds(h):
    cts, srv, c = setup(h)
    now = int(time.time())
    nb, na = now - 600, now + 7 * 86400
    url, o = order_for(c, "window.example.com", notBefore=utc(nb), notAfter=utc(na))
    validate_dns(cts, c, o)
    r, _ = c.finalize(c.get(url).json, ["window.example.com"])
    assert r.status == 200, r
    leaf = certificate(c, url)[0]
    assert validity(leaf) == (nb, na), validity(leaf)
    # Without a request: the CA's 90 days from a minute before signing,
    # inside the issuing intermediate's life.
    url, o = order_for(c, "default.example.com")
    validate_dns(cts, c, o)
    r, _ = c.finalize(c.get(url).json, ["default.example.com"])
    leaf, issuer = certificate(c, url)[:2]
    lnb, lna = validity(leaf)
    assert lna - lnb == 90 * 86400 and lna <= validity(issuer)[1], (validity(leaf), validity(issuer))
    # A profile's validity bounds what may be asked for.
    srv.restart(config=dict(srv.config, profiles={"short": {"description": "a week", "validityPeriod": 604800}}))
    c.nonce = None
    p = {"identifiers": [{"type": "dns", "value": "short.example.com"}], "profile": "short",
         "notAfter": utc(time.time() + 8 * 86400)}
    r = refused(srv, lambda: c.post(c.dir["newOrder"], p), 400, "malformed")
    assert "604800 seconds" in r.json["detail"], r


def case_validity_checked_again_at_finalize(h):
    # notBefore within an hour of the request; an order finalized later
    # than that cannot have it any more (BR 7.1.2.7: within 48 hours of
    # signing; this CA keeps to one). The order's creation is moved back
    # by rewriting its notBefore: the clock cannot be.
    cts, srv, c = setup(h)
    url, o = order_for(c, "late.example.com", notBefore=utc(time.time()))
    validate_dns(cts, c, o)
    oid = url.rsplit("/", 1)[1]
    earlier = utc(time.time() - 2 * 3600)
    assert srv.edit_store(lambda t: re.sub(r'"notBefore":"[^"]*"', f'"notBefore":"{earlier}"', t)
                          if f'"id":"{oid}"' in t else t) == 1
    c.nonce = None
    csr, _ = c.csr_for(["late.example.com"])
    r = refused(srv, lambda: c.post(o["finalize"], {"csr": csr}), 400, "malformed")
    assert "within an hour" in r.json["detail"], r
    assert c.get(url).json["status"] == "ready"


def case_caa_checked_again_for_old_validation(h):
    cts, srv, c = setup(h)
    names = {"old": "caa-old.example.com", "recent": "caa-recent.example.com", "old-ok": "caa-old-ok.example.com"}
    orders, challs = {}, {}
    for k, name in names.items():
        orders[k] = order_for(c, name)
        challs[k] = validate_dns(cts, c, orders[k][1])
    # After validation, CAA changes: two names now forbid this CA.
    cts.add_caa(names["old"], [{"tag": "issue", "value": "other-ca.test"}])
    cts.add_caa(names["recent"], [{"tag": "issue", "value": "other-ca.test"}])
    cts.add_caa(names["old-ok"], [{"tag": "issue", "value": "aro.test"}])
    # Two of the validations happened 9 hours ago.
    old_ids = [challs[k]["url"].rsplit("/", 1)[1] for k in ("old", "old-ok")]
    nine_hours_ago = int(time.time()) - 9 * 3600

    def age(text):
        if any(f'"id":"{x}"' in text for x in old_ids):
            return re.sub(r'"validated":\d+', f'"validated":{nine_hours_ago}', text)
        return text
    assert srv.edit_store(age) == 2
    c.nonce = None
    for k, name in names.items():
        r, _ = c.finalize(c.get(orders[k][0]).json, [name])
        assert r.status == 200, r
    # Validated 9 hours ago, CAA forbids now: the order is invalid, with caa.
    o = c.poll(orders["old"][0], lambda j: j["status"] in ("valid", "invalid")).json
    assert o["status"] == "invalid" and o["error"]["type"].endswith(":caa"), o
    assert o["error"]["subproblems"][0]["identifier"]["value"] == names["old"], o
    assert "certificate" not in o, o
    # Validated minutes ago: that CAA check holds (BR 3.2.2.8: 8 hours;
    # aro-server checks again after 7, as Boulder).
    certificate(c, orders["recent"][0])
    # Validated 9 hours ago, CAA still allows this CA: issued.
    certificate(c, orders["old-ok"][0])


# ---- authorizations and validation --------------------------------------

def case_late_result_after_expiry(h):
    # A validation still running when its authorization expires: the
    # result may not revive it (7.1.6: expired is final), and the
    # challenge ends invalid rather than processing for ever. The
    # attempt is caught in flight by a long validation sleep, the expiry
    # moved into the past in the stopped server's store; the restarted
    # server resumes the attempt (8.2) and its result arrives late.
    cts, srv, c = setup(h, config={"validationSleepMs": 60000}, http01=True)
    name = "late-result.example.com"
    url, o = order_for(c, name)
    az_url = o["authorizations"][0]
    ch = respond_served(cts, c, az_url)
    aid, past = az_url.rsplit("/", 1)[1], int(time.time()) - 600
    srv.config["validationSleepMs"] = 0
    assert srv.edit_store(lambda t: re.sub(r'"expires":\d+', f'"expires":{past}', t)
                          if f'"id":"{aid}"' in t else t) == 1
    c.nonce = None
    chall = c.poll(ch["url"], lambda j: j["status"] != "processing").json
    assert chall["status"] == "invalid" and chall["error"]["type"].endswith(":unauthorized"), chall
    assert "expired while this challenge was processing" in chall["error"]["detail"], chall
    az = c.get(az_url).json
    assert az["status"] == "expired" and rfc3339(az["expires"]) <= past + 1, az
    assert c.get(url).json["status"] == "invalid"
    # A new order does not reuse it: a fresh pending authorization.
    r = c.new_order(name)
    assert r.status == 201 and r.json["authorizations"][0] != az_url, r
    assert c.get(r.json["authorizations"][0]).json["status"] == "pending"


def case_deactivated_while_validating(h):
    cts, srv, c = setup(h, config={"validationSleepMs": 1500}, http01=True)
    url, o = order_for(c, "deact-validating.example.com")
    az_url = o["authorizations"][0]
    ch = respond_served(cts, c, az_url)
    r = c.post(az_url, {"status": "deactivated"})
    assert r.status == 200 and r.json["status"] == "deactivated", r
    chall = c.get(ch["url"]).json
    assert chall["status"] == "invalid" and "deactivated while this challenge was processing" in chall["error"]["detail"], chall
    # The attempt's own result, once it comes, is stale: nothing moves.
    time.sleep(2.5)
    assert c.get(ch["url"]).json["status"] == "invalid"
    assert c.get(az_url).json["status"] == "deactivated"


# ---- orders --------------------------------------------------------------

def case_one_live_order_replaces_a_certificate(h):
    cts, srv, c = setup(h, config={"reuseValidAuthz": False})
    name = "renew-once.example.com"
    url, o = order_for(c, name)
    validate_dns(cts, c, o)
    cert_id = ari_cert_id(c.get(finish_order(c, url, [name])["certificate"]).text)
    replaces = {"identifiers": [{"type": "dns", "value": name}], "replaces": cert_id}
    # A live order holds the claim: a second one is refused.
    o1_url, o1 = order_for(c, name, replaces=cert_id)
    refused(srv, lambda: c.post(c.dir["newOrder"], replaces), 409, "alreadyReplaced")
    # Once it is invalid (deactivated), the claim is free.
    assert c.post(o1["authorizations"][0], {"status": "deactivated"}).status == 200
    assert c.get(o1_url).json["status"] == "invalid"
    o2_url, o2 = order_for(c, name, replaces=cert_id)
    # o2 fails but could be re-enabled (retry-options); meanwhile o3 claims
    # the certificate: re-enabling o2 would make two live claims.
    az2 = respond_and_fail(c, o2["authorizations"][0], "http-01")
    assert c.get(o2_url).json["status"] == "invalid"
    o3_url, o3 = order_for(c, name, replaces=cert_id)
    before = store_dump(srv)
    r, _ = reenable(c, az2, "dns-01")
    assert (r.status, r.problem) == (409, "alreadyReplaced"), r
    assert store_dump(srv) == before, "the store changed"
    validate_dns(cts, c, o3)
    finish_order(c, o3_url, [name])


def case_orders_list_leaves_out_invalid(h):
    cts, srv, c = setup(h, config={"reuseValidAuthz": False})
    pend_url, _ = order_for(c, "list-pending.example.com")
    inv_url, inv = order_for(c, "list-invalid.example.com")
    assert c.post(inv["authorizations"][0], {"status": "deactivated"}).status == 200
    assert c.get(inv_url).json["status"] == "invalid"
    val_url, val = order_for(c, "list-valid.example.com")
    validate_dns(cts, c, val)
    finish_order(c, val_url, ["list-valid.example.com"])
    listed = c.get(c.kid + "/orders").json["orders"]
    assert pend_url in listed and val_url in listed and inv_url not in listed, listed


CASES = [
    ("a hand-made CSR with a sound RSA key is issued (control)", case_handmade_csr_with_sound_key_is_issued),
    ("notBefore/notAfter issued as asked within the bounds", case_validity_as_asked_within_bounds),
    ("notBefore checked again at finalize", case_validity_checked_again_at_finalize),
    ("CAA checked again at issuance for a validation 9 hours old", case_caa_checked_again_for_old_validation),
    ("a result after the authorization expired ends the challenge invalid", case_late_result_after_expiry),
    ("deactivation during validation ends the challenge invalid", case_deactivated_while_validating),
    ("one live order replaces a certificate (RFC 9773 5)", case_one_live_order_replaces_a_certificate),
    ("the orders list leaves out invalid orders (7.1.2.1)", case_orders_list_leaves_out_invalid),
]


def main():
    if not MDB_DUMP:
        print("mdb_dump/mdb_load (lmdb-utils) missing: skipped")
        sys.exit(77)
    run_cases(CASES)


if __name__ == "__main__":
    main()
