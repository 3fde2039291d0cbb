"""A deliberately wrong ACME client, run by aro-conform in client mode as
its COMMAND, so that every client check can be seen failing. It reads
the scenario from ARO_CONFORM_SCENARIO and its variant from WRONG_VARIANT
("1": every misbehaviour that still ends with a certificate; "2": gives
up, abandons what it began, or takes an offer and orders again anyway).
Each misbehaviour names the check it breaks. It answers http-01 itself
on 127.0.0.1:ARO_CONFORM_HTTP_PORT. Built on tests/e2e/acme.py."""
import http.server
import json
import os
import sys
import threading
import time

import urllib3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import acme  # noqa: E402
from acme import b64u  # noqa: E402

ENV = {k[len("ARO_CONFORM_"):].lower(): v for k, v in os.environ.items() if k.startswith("ARO_CONFORM_")}
SCENARIO = ENV.get("scenario", "baseline")
VARIANT = os.environ.get("WRONG_VARIANT", "1")
NAMES = ["wrong.example.com", "wrong2.example.com"]
TOKENS = {}


class Http01(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = TOKENS.get(self.path.rsplit("/", 1)[-1], "").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve_http01():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(ENV["http_port"])), Http01)
    threading.Thread(target=srv.serve_forever, daemon=True).start()


class Wrong(acme.Client):
    def raw(self, url, body, content_type="application/jose+json", extra_headers=None):
        h = {"Content-Type": content_type}
        h.update(extra_headers or {})
        r = self.s.post(url, data=body, headers=h, timeout=30)
        self.nonce = r.headers.get("Replay-Nonce")
        return acme.Response(r)

    def signed(self, url, payload, protected_changes=None, drop=(), outer_extra=None, **kw):
        j = self.sign(url, payload, **kw)
        if protected_changes or drop:
            prot = json.loads(acme.base64.urlsafe_b64decode(j["protected"] + "=="))
            prot.update(protected_changes or {})
            for d in drop:
                prot.pop(d, None)
            j["protected"] = b64u(json.dumps(prot))   # the signature no longer matches: the server refuses
        j.update(outer_extra or {})
        return json.dumps(j)


def authorize(c, order, answer=True):
    for u in order["authorizations"]:
        az = c.get(u).json
        ch = c.challenge_of(az, "http-01")
        TOKENS[ch["token"]] = c.key_authz(ch["token"])
        if answer:
            c.post(ch["url"], {})
    return order


def poll(c, url, until, gap=1.1, limit=60):
    for _ in range(int(limit / gap) + 1):
        j = c.get(url).json
        if j and j.get("status") in until:
            return j
        time.sleep(gap)
    raise SystemExit(f"{url} never reached {until}")


def baseline_1(c):
    d = c.dir
    c.s.headers["User-Agent"] = urllib3.util.SKIP_HEADER      # client.user-agent
    c.new_account()
    c.s.headers["User-Agent"] = "wrong-client/1"
    c.raw(d["newOrder"], c.signed(d["newOrder"], {"identifiers": []}), extra_headers={"Replay-Nonce": "x"})
    c.raw(d["newOrder"], c.signed(d["newOrder"], {"identifiers": []}, use_jwk=False,
                                  protected_changes={"jwk": c.jwk()}))      # client.jwk-kid
    c.raw(d["newOrder"], c.signed(d["newOrder"], {"identifiers": []}), content_type="application/json")  # client.content-type
    c.raw(d["newOrder"], c.signed(d["newOrder"], {"identifiers": []}, outer_extra={"header": {}}))  # client.flattened
    c.raw(d["newOrder"], c.signed(d["newOrder"], {"identifiers": []}, protected_changes={"alg": "HS256"}))  # client.alg
    c.raw(d["newOrder"], c.signed(d["newOrder"], {"identifiers": []}, protected_changes={"url": d["revokeCert"]}))  # client.url
    c.raw(d["newOrder"], c.signed(d["newOrder"], {"identifiers": []}, drop=("nonce",)))  # client.nonce
    n = c.get_nonce()
    c.raw(d["newOrder"], json.dumps(c.sign(d["newOrder"], {"identifiers": []}, nonce=n)))
    c.raw(d["newOrder"], json.dumps(c.sign(d["newOrder"], {"identifiers": []}, nonce=n)))  # client.nonce-once
    r = c.new_order(NAMES[0])
    order_url, order = r.url, r.json
    c.s.get(order_url, timeout=10)                                # client.post-as-get
    authorize(c, order, answer=False)
    az = c.get(order["authorizations"][0]).json
    ch = c.challenge_of(az, "http-01")
    c.raw(ch["url"], json.dumps(c.sign(ch["url"], [])))          # client.challenge-response
    c.post(ch["url"], {})
    for _ in range(50):                                           # client.poll-interval: 10 a second
        if c.get(order["authorizations"][0]).json["status"] != "pending":
            break
        time.sleep(0.1)
    order = poll(c, order_url, ("ready", "invalid"))
    c.finalize(order, NAMES)                                      # client.csr: a name too many
    c.finalize(order, NAMES[:1])
    order = poll(c, order_url, ("valid", "invalid"))
    r = c.s.post(order["certificate"], data=json.dumps(c.sign(order["certificate"], None)),
                 headers={"Content-Type": "application/jose+json"}, timeout=30)
    alt = r.links.get("alternate", {}).get("url")
    if alt:
        c.s.get(alt, timeout=10)                                  # client.alternates: GET
    from cryptography import x509
    cert = x509.load_pem_x509_certificate(r.text.encode())
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    serial = cert.serial_number.to_bytes((cert.serial_number.bit_length() + 8) // 8, "big")
    cert_id = b64u(aki) + "." + b64u(serial)
    ri = d["renewalInfo"]
    c.raw(f"{ri}/{cert_id}", json.dumps(c.sign(f"{ri}/{cert_id}", None)))  # client.ari-get: a POST
    c.s.get(f"{ri}/{cert_id}==", timeout=10)                      # client.ari-certid: padded
    c.new_order(NAMES[0])                                         # client.ari-replaces: a renewal without it


def baseline_2(c):
    c.new_account()
    r = c.new_order(*NAMES)
    authorize(c, r.json, answer=False)                           # client.issued, client.deactivate-abandoned


def badnonce(c):
    d = c.dir
    c.post(d["newAccount"], {"termsOfServiceAgreed": True}, use_jwk=True)
    c.s.head(d["newNonce"], timeout=10)                           # client.badnonce-retry: no retry of newAccount


def hammer(c):
    d = c.dir
    for _ in range(3):                                            # client.retry-after-429 / -5xx: at once
        c.post(d["newAccount"], {"termsOfServiceAgreed": True}, use_jwk=True)


def processing(c):
    c.new_account()
    r = c.new_order(NAMES[0])
    authorize(c, r.json)
    order = poll(c, r.url, ("ready", "invalid"), gap=1.1)
    c.finalize(order, NAMES[:1])
    if c.get(r.url).json["status"] == "processing":
        raise SystemExit("processing: giving up")                 # client.processing


def retry_offer(c):
    c.new_account()
    r = c.new_order(NAMES[0])
    order_url = r.url
    authorize(c, r.json)
    az_url = r.json["authorizations"][0]
    az = poll(c, az_url, ("invalid", "valid"), gap=1.1 if VARIANT == "2" else 0.1)
    failed = next(ch for ch in az["challenges"] if ch["status"] == "invalid")
    off = az.get("retry-options") or {}
    if VARIANT == "1":
        c.post(off["url"], {"challenge": off["challenges"][0]["url"]})  # client.ro-notbefore: too early
        c.post(off["url"], {"challenge": 7})                      # client.ro-offer-taken: refused
        c.post(failed["url"], {})                                 # client.no-response-to-invalid
        return
    choice = next(ch for ch in off["challenges"] if ch["type"] == "http-01")
    TOKENS[choice["token"]] = c.key_authz(choice["token"])
    time.sleep(max(0, time.mktime(time.strptime(off["notBefore"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(
        time.gmtime()) + 1))
    assert c.post(off["url"], {"challenge": choice["url"]}).status == 200
    poll(c, order_url, ("ready",), gap=1.1)
    r = c.new_order(NAMES[0])                                     # client.ro-same-order: a second order
    order = poll(c, r.url, ("ready", "pending"), gap=1.1)
    authorize(c, order)
    order = poll(c, r.url, ("ready",), gap=1.1)
    c.finalize(order, NAMES[:1])
    order = poll(c, r.url, ("valid",), gap=1.1)
    c.get(order["certificate"])


def main():
    serve_http01()
    c = Wrong(ENV["directory"], ENV["ca_bundle"])
    {"baseline": baseline_1 if VARIANT == "1" else baseline_2, "badnonce": badnonce, "ratelimited": hammer,
     "unavailable": hammer, "processing": processing, "retry-offer": retry_offer}[SCENARIO](c)


if __name__ == "__main__":
    main()
