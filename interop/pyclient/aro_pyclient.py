#!/usr/bin/python3
"""aro_pyclient: a small ACME client on Debian's python3-acme (the library
certbot is built on), for aro's interop matrix.

Legacy mode (default) is a plain RFC 8555 client: account, one order,
one challenge per authorization (provisioned in pebble-challtestsrv through
its management API), finalize, download; revoke; account key rollover
(RFC 8555 7.3.5, built here because python3-acme 2.1 has no key change).
It knows nothing of "retry-options": a failed challenge ends the run.

Extension mode (--retry-options) is the second, independent client of the
"retry-options" extension. It was written from the text of
draft/draft-aro-acme-retry-options.md ALONE (sections "The retry-options
Extension" and "Client Behaviour"), by an author who has not read aro's or
aro-server's C code; where it and aro disagree, the draft gets fixed. After a
failed challenge it reads "retry-options" from the invalid authorization,
waits for "notBefore" (and for Retry-After on "rateLimited"), picks a listed
challenge (an untried type in --challenges order first, else a fresh one of
the failed type), provisions it, POSTs {"challenge": URL} to the offer's
"url", polls, and finalizes the SAME order. Without an offer, or on
"retryNotAllowed", it falls back to RFC 8555 behaviour: a new order that
skips the failed types (at most 3 orders).

Usage:
  aro_pyclient.py --server DIR_URL --ca-bundle FILE --state DIR --cts URL \
      [--challenge http-01|dns-01|tls-alpn-01] issue NAME...
  aro_pyclient.py ... --retry-options --challenges http-01,dns-01 issue NAME...
  aro_pyclient.py ... renew NAME...      (a new order with the same account)
  aro_pyclient.py ... revoke
  aro_pyclient.py ... rollover

Prints one JSON object on stdout at the end (progress on stderr):
  {"result": ..., "orders": [{"url","status"}], "authorizations":
   [{"url","status","challenge","challengeStatus"}], "certificate": PATH|null,
   "error": null|{"type","detail"}}
"""
import argparse, datetime, json, os, sys, time, urllib.request

import josepy as jose
from acme import client, crypto_util, errors, messages, challenges
from acme import jws as acme_jws
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from OpenSSL import crypto

UA = "aro-interop-pyclient/1 (python3-acme)"


def progress(msg):
    sys.stderr.write("pyclient: %s\n" % msg)
    sys.stderr.flush()


def new_rsa_pem():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def load_jwk(pem):
    return jose.JWKRSA(key=serialization.load_pem_private_key(pem, password=None))


class RawJSON:
    """A payload for ClientNetwork.post that is plain JSON (the re-enable request)."""
    def __init__(self, d):
        self.d = d

    def json_dumps(self, **kw):
        return json.dumps(self.d, **kw)


class State:
    def __init__(self, d):
        self.d = d
        os.makedirs(d, exist_ok=True)

    def path(self, n):
        return os.path.join(self.d, n)

    def read(self, n):
        try:
            with open(self.path(n), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def write(self, n, data):
        if isinstance(data, str):
            data = data.encode()
        tmp = self.path(n + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, self.path(n))


class Run:
    def __init__(self, a):
        self.a = a
        self.st = State(a.state)
        self.out = {"result": "failed", "orders": [], "authorizations": [],
                    "certificate": None, "error": None}
        pem = self.st.read("account.key")
        if pem is None:
            pem = new_rsa_pem()
            self.st.write("account.key", pem)
        self.key = load_jwk(pem)
        self.net = client.ClientNetwork(self.key, user_agent=UA, verify_ssl=a.ca_bundle)
        self.directory = client.ClientV2.get_directory(a.server, self.net)
        self.acme = client.ClientV2(self.directory, self.net)
        self.regr = None

    # -- account -----------------------------------------------------------
    def account(self):
        uri = self.st.read("account.url")
        if uri:
            self.regr = messages.RegistrationResource(uri=uri.decode(), body=messages.Registration())
            self.net.account = self.regr
            return
        self.regr = self.acme.new_account(messages.NewRegistration.from_data(
            terms_of_service_agreed=True))
        self.st.write("account.url", self.regr.uri)
        progress("account " + self.regr.uri)

    # -- challenges ----------------------------------------------------------
    def cts(self, endpoint, body):
        req = urllib.request.Request(self.a.cts.rstrip("/") + endpoint,
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def provision(self, challb, name):
        c = challb.chall
        if isinstance(c, challenges.HTTP01):
            self.cts("/add-http01", {"token": c.encode("token"),
                                     "content": c.key_authorization(self.key)})
        elif isinstance(c, challenges.DNS01):
            self.cts("/set-txt", {"host": c.validation_domain_name(name) + ".",
                                  "value": c.validation(self.key)})
        elif isinstance(c, challenges.TLSALPN01):
            self.cts("/add-tlsalpn01", {"host": name, "content": c.key_authorization(self.key)})

    def post_as_get(self, url):
        return self.net.post(url, None, new_nonce_url=self.directory["newNonce"]).json()

    def record_statuses(self, order_url):
        try:
            o = self.post_as_get(order_url)
            self.out["orders"].append({"url": order_url, "status": o.get("status")})
            for au in o.get("authorizations", []):
                a = self.post_as_get(au)
                chs = [c for c in a.get("challenges", []) if c.get("status") != "pending"] or a.get("challenges", [])
                self.out["authorizations"].append({
                    "url": au, "status": a.get("status"),
                    "challenge": chs[0].get("type") if chs else None,
                    "challengeStatus": chs[0].get("status") if chs else None})
        except Exception as e:  # statuses are best effort
            progress("status probe failed: %s" % e)

    # -- issue ---------------------------------------------------------------
    def issue(self, names):
        self.account()
        key_pem = new_rsa_pem()
        csr = crypto_util.make_csr(key_pem, names)
        orderr = self.acme.new_order(csr)
        progress("order " + orderr.uri)
        try:
            for authzr in orderr.authorizations:
                name = authzr.body.identifier.value
                if authzr.body.status == messages.STATUS_VALID:
                    continue
                cands = [cb for cb in authzr.body.challenges if cb.chall.typ == self.a.challenge]
                if not cands:
                    raise RuntimeError("no %s challenge offered for %s" % (self.a.challenge, name))
                self.provision(cands[0], name)
                self.acme.answer_challenge(cands[0], cands[0].chall.response(self.key))
                progress("answered %s for %s" % (self.a.challenge, name))
            deadline = datetime.datetime.now() + datetime.timedelta(seconds=self.a.timeout)
            orderr = self.acme.poll_and_finalize(orderr, deadline)
        finally:
            self.record_statuses(orderr.uri)
        self.st.write("cert.pem", orderr.fullchain_pem)
        self.st.write("cert.key", key_pem)
        self.out["certificate"] = self.st.path("cert.pem")
        return "issued"

    # -- extension mode: written from the draft's text alone -------------------
    def post_raw(self, url, payload):
        return self.net.post(url, RawJSON(payload), new_nonce_url=self.directory["newNonce"])

    def poll_authz(self, url, deadline):
        while True:
            a = self.post_as_get(url)
            if a.get("status") not in ("pending", "processing"):
                return a
            # Pebble 2.4 shows "pending" while validating; the draft says to
            # tolerate every legal sequence, so only the authorization decides
            if time.time() > deadline:
                raise RuntimeError("timeout polling " + url)
            time.sleep(1)

    def poll_order(self, url, deadline, until=("ready", "valid", "invalid")):
        while True:
            o = self.post_as_get(url)
            if o.get("status") in until:
                return o
            if time.time() > deadline:
                raise RuntimeError("timeout polling order %s (%s)" % (url, o.get("status")))
            time.sleep(1)

    def provision_raw(self, ch, name):
        """Provision a challenge given as a JSON object (offers are raw JSON)."""
        cb = messages.ChallengeBody.from_json(ch)
        self.provision(cb, name)

    def issue_extension(self, names):
        self.account()
        prefs = self.a.challenges.split(",")
        raw_dir = self.net.get(self.a.server).json()
        advertised = "retry-options" in (raw_dir.get("meta") or {})
        progress("directory advertises retry-options: %s" % advertised)
        key_pem = new_rsa_pem()
        csr = crypto_util.make_csr(key_pem, names)
        attempts = self.out.setdefault("attempts", [])
        failed_types = set()
        deadline = time.time() + self.a.timeout
        for n_order in range(3):
            orderr = self.acme.new_order(csr)
            progress("order %s (%s)" % (orderr.uri, orderr.body.status))
            self.out.setdefault("order_urls", []).append(orderr.uri)
            ok = True
            for authzr in orderr.authorizations:
                name = authzr.body.identifier.value
                if authzr.body.status == messages.STATUS_VALID:
                    continue
                offered = {cb.chall.typ: cb for cb in authzr.body.challenges}
                typ = next((t for t in prefs if t in offered and t not in failed_types), None)
                if typ is None:
                    raise RuntimeError("no usable challenge for %s" % name)
                self.provision(offered[typ], name)
                self.acme.answer_challenge(offered[typ], offered[typ].chall.response(self.key))
                via = "first" if n_order == 0 else "new-order"
                a = self.poll_authz(authzr.uri, deadline)
                attempts.append({"identifier": name, "type": typ, "challenge": offered[typ].uri,
                                 "order": orderr.uri, "outcome": a.get("status"), "via": via})
                tried = {typ}
                while a.get("status") == "invalid":
                    failed_types.add(attempts[-1]["type"])
                    offer = a.get("retry-options")
                    if not offer:
                        progress("%s invalid, no retry-options offer" % name)
                        break
                    chs = offer.get("challenges") or []
                    pick = next((c for t in prefs for c in chs
                                 if c.get("type") == t and t not in tried), None) or \
                        next((c for t in prefs for c in chs if c.get("type") == t), None)
                    if pick is None:
                        progress("no listed challenge suits us")
                        break
                    nb = offer.get("notBefore")
                    if nb:
                        wait = (datetime.datetime.fromisoformat(nb.replace("Z", "+00:00"))
                                - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
                        if wait > 0:
                            progress("waiting %.1f s for notBefore" % wait)
                            time.sleep(min(wait, max(0, deadline - time.time())))
                    self.provision_raw(pick, name)
                    refused = None
                    while True:
                        try:
                            self.post_raw(offer["url"], {"challenge": pick["url"]})
                            break
                        except messages.Error as e:
                            if e.typ.endswith(":rateLimited") and time.time() < deadline:
                                progress("rateLimited, retrying: %s" % e.detail)
                                time.sleep(1)
                                continue
                            refused = e
                            break
                    if refused is not None:
                        progress("re-enable refused: %s" % refused)
                        break
                    progress("re-enabled %s with %s (attemptsRemaining was %s)"
                             % (name, pick["type"], offer.get("attemptsRemaining")))
                    tried.add(pick["type"])
                    a = self.poll_authz(authzr.uri, deadline)
                    attempts.append({"identifier": name, "type": pick["type"],
                                     "challenge": pick["url"], "order": orderr.uri,
                                     "outcome": a.get("status"), "via": "retry-options"})
                if a.get("status") != "valid":
                    ok = False
                    break
            if not ok:
                self.record_statuses(orderr.uri)
                continue
            o = self.poll_order(orderr.uri, deadline)
            if o.get("status") not in ("ready", "valid"):
                self.record_statuses(orderr.uri)
                continue
            orderr = self.acme.finalize_order(orderr, datetime.datetime.now()
                                              + datetime.timedelta(seconds=max(5, deadline - time.time())))
            self.record_statuses(orderr.uri)
            self.st.write("cert.pem", orderr.fullchain_pem)
            self.st.write("cert.key", key_pem)
            self.out["certificate"] = self.st.path("cert.pem")
            return "issued"
        raise RuntimeError("no certificate after %d orders" % len(self.out["order_urls"]))

    def revoke(self):
        self.account()
        pem = self.st.read("cert.pem")
        if pem is None:
            raise RuntimeError("no certificate in state")
        cert = jose.ComparableX509(crypto.load_certificate(crypto.FILETYPE_PEM, pem))
        self.acme.revoke(cert, 0)
        return "revoked"

    def rollover(self):
        self.account()
        new_pem = new_rsa_pem()
        new_key = load_jwk(new_pem)
        url = self.directory["keyChange"]
        payload = json.dumps({"account": self.regr.uri,
                              "oldKey": self.key.public_key().to_partial_json()}).encode()
        inner = acme_jws.JWS.sign(payload, key=new_key, alg=jose.RS256, nonce=None, url=url)
        self.net.post(url, inner, new_nonce_url=self.directory["newNonce"])
        self.st.write("account.key", new_pem)
        # prove the new key works: POST-as-GET the account with it
        self.net = client.ClientNetwork(new_key, account=self.regr, user_agent=UA,
                                        verify_ssl=self.a.ca_bundle)
        self.post_as_get(self.regr.uri)
        old = client.ClientNetwork(self.key, account=self.regr, user_agent=UA,
                                   verify_ssl=self.a.ca_bundle)
        try:
            old.post(self.regr.uri, None, new_nonce_url=self.directory["newNonce"])
            raise RuntimeError("old key still accepted after rollover")
        except errors.Error as e:
            progress("old key refused as expected: %s" % e)
        return "rolled"


def main():
    p = argparse.ArgumentParser(description="python3-acme interop client")
    p.add_argument("--server", required=True)
    p.add_argument("--ca-bundle", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--cts", required=True, help="pebble-challtestsrv management URL")
    p.add_argument("--challenge", default="http-01", choices=["http-01", "dns-01", "tls-alpn-01"])
    p.add_argument("--timeout", type=int, default=60)
    p.add_argument("--retry-options", action="store_true",
                   help="extension mode (written from the draft alone)")
    p.add_argument("--challenges", default="http-01,dns-01,tls-alpn-01",
                   help="preference order in extension mode")
    p.add_argument("command", choices=["issue", "renew", "revoke", "rollover"])
    p.add_argument("names", nargs="*")
    a = p.parse_args()
    out = {"result": "failed", "error": None}
    rc = 1
    try:
        r = Run(a)
        out = r.out
        if a.command in ("issue", "renew"):
            res = r.issue_extension(a.names) if a.retry_options else r.issue(a.names)
            out["result"] = "renewed" if a.command == "renew" else res
        elif a.command == "revoke":
            out["result"] = r.revoke()
        else:
            out["result"] = r.rollover()
        rc = 0
    except Exception as e:
        typ = getattr(getattr(e, "error", None), "typ", None) or getattr(e, "typ", None) or type(e).__name__
        detail = str(e)
        if isinstance(e, errors.ValidationError):
            typ = "validation"
            detail = "; ".join("%s: %s" % (x.body.identifier.value,
                                           [c.error for c in x.body.challenges if c.error])
                               for x in e.failed_authzrs)
        out["error"] = {"type": str(typ), "detail": detail}
        progress("error: %s: %s" % (typ, detail))
    print(json.dumps(out))
    return rc


if __name__ == "__main__":
    sys.exit(main())
