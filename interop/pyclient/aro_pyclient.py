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
draft/draft-aro-acme-retry-options.md ALONE (-00: "The retry-options
Extension" and "Client Behaviour"; -01: "Updates to RFC 8555", "Overview",
"The Extension" and "Client Behaviour"), by authors who have not read aro's or
aro-server's C code; where it and aro disagree, the draft gets fixed.

  * When the directory's meta "retry-options" has "hold": true it asks for
    pending-hold in newOrder ("retry-options": {"hold": true}); --no-hold
    never asks (re-enabling only).
  * After a failed attempt it reads the offer ("retry-options") of the
    authorization (held: "pending"; or "invalid"), else of the failed
    challenge; waits for "notBefore"; chooses a listed challenge: an untried
    type in --challenges order first, a fresh one of a failed type only after
    a failure that may be transient (connection, dns, tls, serverInternal;
    never after unauthorized or incorrectResponse); provisions it with the
    current account key; and answers it with the normal challenge response
    {} (held authorization) or POSTs {"challenge": URL} to the offer's "url"
    ("invalid" authorization), waiting for Retry-After on "rateLimited".
    It polls and finalizes the SAME order.
  * Without an offer, when no listed challenge suits it, or on refusals it
    cannot continue from, it deactivates what it abandons (pending
    authorizations; "invalid" ones with an offer) and falls back to RFC 8555
    behaviour: a new order that skips the failed types (at most 3 orders).

Usage:
  aro_pyclient.py --server DIR_URL --ca-bundle FILE --state DIR --cts URL \
      [--challenge http-01|dns-01|tls-alpn-01] issue NAME...
  aro_pyclient.py ... --retry-options [--no-hold] --challenges http-01,dns-01 issue NAME...
  aro_pyclient.py ... renew NAME...      (a new order with the same account)
  aro_pyclient.py ... revoke
  aro_pyclient.py ... rollover

Prints one JSON object on stdout at the end (progress on stderr):
  {"result": ..., "orders": [{"url","status"}], "authorizations":
   [{"url","status","challenge","challengeStatus"}], "certificate": PATH|null,
   "error": null|{"type","detail"}}
  extension mode adds "order_urls", "orders_hold" (per order: did it show
  "hold": true), "hold_requested", "advertised" (the directory's member) and
  "attempts": [{"identifier","type","challenge","order","outcome",
  "authorization","via": first|new-order|hold|retry-options,"error"}]
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


# Error types after which this client, which changes nothing between attempts,
# takes a fresh challenge of the failed type (Client Behaviour 3: "only when it
# has reason to expect another answer (it fixed something, or the failure may be
# transient)"). The draft names no transient type; these are RFC 8555's types
# for a failure to reach the validation target (6.7: "connection", "dns",
# "tls") and the server's own ("serverInternal"). Never "unauthorized" or
# "incorrectResponse" (the draft's SHOULD NOT), nor "caa"/"rejectedIdentifier".
TRANSIENT = {"connection", "dns", "tls", "serverInternal"}


def short_type(typ):
    """"urn:ietf:params:acme:error:rateLimited" -> "rateLimited"."""
    return (typ or "").rsplit(":", 1)[-1]


def parse_time(s):
    """An RFC 3339 time as an aware datetime, or None."""
    if not isinstance(s, str):
        return None
    try:
        t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)


class Net(client.ClientNetwork):
    """ClientNetwork that keeps the last response, so that a refusal's
    Retry-After can be read (python-acme raises the problem without headers)."""
    last = None

    def _send_request(self, method, url, *args, **kwargs):
        r = super()._send_request(method, url, *args, **kwargs)
        self.last = r
        return r


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
        net = Net if a.retry_options else client.ClientNetwork
        self.net = net(self.key, user_agent=UA, verify_ssl=a.ca_bundle)
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
    # draft-aro-acme-retry-options-01, sections "Pending-hold", "The Offer",
    # "Re-enabling", "Refusals", "Challenge Responses on Invalid Authorizations",
    # "Deactivation" and "Client Behaviour". Every decision below cites the
    # text it follows; where the text left a choice, the comment says so.

    def post_raw(self, url, payload):
        return self.net.post(url, RawJSON(payload), new_nonce_url=self.directory["newNonce"])

    def retry_after(self, default=1.0):
        """Seconds to wait from the Retry-After of the last response (a refusal)."""
        r = getattr(self.net, "last", None)
        if r is None or "Retry-After" not in r.headers:
            return default
        when = client.ClientV2.retry_after(r, int(default))
        return min(30.0, max(0.0, (when - datetime.datetime.now()).total_seconds()))

    def deactivate(self, url, why):
        """Client Behaviour: "It deactivates the authorizations it abandons." """
        try:
            a = self.post_raw(url, {"status": "deactivated"}).json()
            progress("deactivated %s (%s): now %s" % (url, why, a.get("status")))
        except errors.Error as e:
            progress("deactivation of %s refused (%s): %s" % (url, why, e))

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

    @staticmethod
    def find_challenge(a, url):
        return next((c for c in a.get("challenges") or [] if c.get("url") == url), None)

    @staticmethod
    def offer_of(a, ch=None):
        """The offer of an authorization: its "retry-options" member, else the one on
        the failed challenge (The Offer: "the authorization, and the failed challenge
        while the offer stands, carry a member"). None when there is no usable one."""
        cands = [a.get("retry-options")]
        if ch is not None:
            cands.append(ch.get("retry-options"))
        cands += [c.get("retry-options") for c in a.get("challenges") or []
                  if c.get("status") == "invalid"]
        for o in cands:
            if isinstance(o, dict) and isinstance(o.get("challenges"), list) and o["challenges"]:
                return o
        return None

    def poll_attempt(self, authz_url, chall_url, deadline):
        """Poll until the attempt on chall_url has ended. An RFC 8555 client waits
        for the authorization to leave "pending"; a held authorization stays
        "pending" through a failure, so the end of an attempt is also the
        challenge turning "invalid" with an offer on the authorization. Pebble
        shows a challenge "pending" while validating it, so "pending" says
        nothing and only "invalid"/"valid" end an attempt."""
        grace = None
        while True:
            a = self.post_as_get(authz_url)
            if a.get("status") != "pending":
                return a
            ch = self.find_challenge(a, chall_url)
            if ch is not None and ch.get("status") == "invalid":
                if self.offer_of(a, ch) is not None:
                    return a
                # "pending" with the attempted challenge "invalid" and no offer is a
                # state the draft does not describe (without an offer the authorization
                # "becomes invalid"); give the server a moment, then report it
                grace = grace or time.time() + 5
                if time.time() > grace:
                    progress("DRAFT: %s is pending, its attempted challenge invalid, no offer"
                             % authz_url)
                    return a
            if time.time() > deadline:
                raise RuntimeError("timeout polling " + authz_url)
            time.sleep(1)

    def choose(self, offer, failed, excluded):
        """Client Behaviour 3: "chooses a listed challenge it can solve: another
        type, or a fresh one of the failed type only when it has reason to expect
        another answer (it fixed something, or the failure may be transient). It
        SHOULD NOT retry the same type after "unauthorized" or "incorrectResponse"
        without changing something". This client changes nothing between attempts,
        so a same-type retry needs a failure that may be transient; the draft
        names none, so TRANSIENT is this client's reading (see its definition)."""
        listed = [c for c in offer.get("challenges") or []
                  if c.get("type") in self.prefs and c.get("type") not in excluded
                  and c.get("status", "pending") == "pending" and c.get("url")]
        for t in self.prefs:
            for c in listed:
                if c["type"] == t and t not in failed:
                    return c, "another type"
        for t in self.prefs:
            for c in listed:
                if c["type"] == t and short_type(failed[t]) in TRANSIENT:
                    return c, "same type again: %s may be transient" % short_type(failed[t])
        return None, ("listed %s; failed here %s"
                      % ([c.get("type") for c in offer.get("challenges") or []], failed))

    def take_offer(self, held, offer, pick, deadline):
        """Client Behaviour 4: send "the challenge response (held) or the re-enable
        request ("invalid")", waiting for Retry-After on "rateLimited". Returns
        None when accepted, else the error."""
        while True:
            try:
                if held:
                    self.post_raw(pick["url"], {})
                else:
                    self.post_raw(offer["url"], {"challenge": pick["url"]})
                return None
            except errors.Error as e:
                if short_type(getattr(e, "typ", "")) == "rateLimited" and time.time() < deadline:
                    w = min(self.retry_after(1.0), max(0.0, deadline - time.time()))
                    progress("rateLimited (%s): waiting %.1f s (Retry-After)"
                             % (getattr(e, "detail", e), w))
                    time.sleep(max(w, 0.2))
                    continue
                return e

    def solve_authz(self, authz_url, order_url, n_order, skip_types, deadline):
        """Bring one authorization to "valid" within its order. Returns
        (True, authz) or (False, authz) when this client abandons it (then it has
        deactivated it where that withdraws something)."""
        attempts = self.out.setdefault("attempts", [])
        a = self.post_as_get(authz_url)
        name = a.get("identifier", {}).get("value")
        failed = {}        # type -> error type of its last failed attempt here
        excluded = set()   # types refused with "caa" at a re-enable
        refusals = 0

        def record(typ, url, via, a):
            ch = self.find_challenge(a, url) or {}
            outcome = "valid" if a.get("status") == "valid" else ch.get("status") or a.get("status")
            err = (ch.get("error") or {}).get("type")
            attempts.append({"identifier": name, "type": typ, "challenge": url, "order": order_url,
                             "outcome": outcome, "authorization": a.get("status"), "via": via,
                             "error": err})
            progress("attempt %s %s via %s: %s (authorization %s%s)"
                     % (name, typ, via, outcome, a.get("status"), ", " + err if err else ""))

        def abandon(why):
            progress("abandoning %s: %s" % (authz_url, why))
            # pending (held, or never attempted) and "invalid" with an offer:
            # deactivation withdraws what a later order might otherwise meet
            if a.get("status") == "pending" or (a.get("status") == "invalid" and self.offer_of(a)):
                self.deactivate(authz_url, why)
            return False, a

        if a.get("status") == "valid":
            return True, a
        if a.get("status") == "pending" and self.offer_of(a) is None:
            busy = next((c for c in a.get("challenges") or [] if c.get("status") == "processing"), None)
            if busy is None:
                byt = {c.get("type"): c for c in a.get("challenges") or []
                       if c.get("status", "pending") == "pending"}
                typ = next((t for t in self.prefs if t in byt and t not in skip_types), None)
                if typ is None:
                    return abandon("no usable challenge offered")
                busy = byt[typ]
                self.provision_raw(busy, name)
                self.post_raw(busy["url"], {})
            a = self.poll_attempt(authz_url, busy["url"], deadline)
            record(busy["type"], busy["url"], "first" if n_order == 0 else "new-order", a)
        for _ in range(16):
            st = a.get("status")
            if st == "valid":
                return True, a
            for c in a.get("challenges") or []:
                if c.get("status") == "invalid" and c.get("error"):
                    failed[c.get("type")] = c["error"].get("type")
            offer = self.offer_of(a)
            if offer is None:
                busy = next((c for c in a.get("challenges") or [] if c.get("status") == "processing"), None)
                if st == "pending" and busy is not None:     # a repeat was accepted after all
                    a = self.poll_attempt(authz_url, busy["url"], deadline)
                    record(busy["type"], busy["url"], "hold", a)
                    continue
                return abandon("%s, no offer" % st)
            held = st == "pending"
            if not held and not (st == "invalid" and offer.get("url")):
                return abandon("%s with an offer this client cannot take" % st)
            now = datetime.datetime.now(datetime.timezone.utc)
            exp = parse_time(offer.get("expires"))
            if exp is not None and exp <= now:
                return abandon("offer expired at %s" % offer.get("expires"))
            pick, why = self.choose(offer, failed, excluded)
            if pick is None:
                return abandon("no listed challenge suits this client (%s)" % why)
            nb = parse_time(offer.get("notBefore"))
            if nb is not None:
                wait = (nb - now).total_seconds()
                if wait > deadline - time.time():
                    return abandon("notBefore %s is past this client's deadline" % offer.get("notBefore"))
                if wait > 0:
                    progress("waiting %.1f s for notBefore %s" % (wait, offer.get("notBefore")))
                    time.sleep(wait)
            self.provision_raw(pick, name)   # with the current account key (Client Behaviour 4)
            err = self.take_offer(held, offer, pick, deadline)
            via = "hold" if held else "retry-options"
            if err is not None:
                t = short_type(getattr(err, "typ", ""))
                progress("%s refused: %s" % ("challenge response" if held else "re-enable", err))
                refusals += 1
                if refusals > 3:
                    return abandon("refused %d times" % refusals)
                if t == "caa":
                    excluded.add(pick["type"])
                if t in ("caa", "malformed", "retryNotAllowed"):
                    # Refusals: "fetches the authorization and continues from its state"
                    a = self.post_as_get(authz_url)
                    continue
                return abandon("refused with %s" % (t or type(err).__name__))
            progress("took the offer on %s: %s %s (%s; attemptsRemaining was %s)"
                     % (name, "challenge response to" if held else "re-enabled with",
                        pick["type"], why, offer.get("attemptsRemaining")))
            a = self.poll_attempt(authz_url, pick["url"], deadline)
            record(pick["type"], pick["url"], via, a)
        return abandon("too many attempts")

    def issue_extension(self, names):
        self.account()
        self.prefs = self.a.challenges.split(",")
        raw_dir = self.net.get(self.a.server).json()
        meta = (raw_dir.get("meta") or {}).get("retry-options")
        advertised = isinstance(meta, dict)
        # Client Behaviour 1: "asks for pending-hold in newOrder when the
        # directory advertises "hold"" (--no-hold: re-enabling only)
        hold = advertised and meta.get("hold") is True and not self.a.no_hold
        self.out["advertised"] = meta if advertised else None
        self.out["hold_requested"] = hold
        progress("directory meta retry-options: %s; asking for pending-hold: %s"
                 % (json.dumps(meta) if advertised else "absent", hold))
        key_pem = new_rsa_pem()
        csr = crypto_util.make_csr(key_pem, names)
        idents = [{"type": "dns", "value": n} for n in dict.fromkeys(names)]
        skip_types = set()
        deadline = time.time() + self.a.timeout
        self.out["order_urls"] = []
        for n_order in range(3):
            if n_order and all(t in skip_types for t in self.prefs):
                break     # every type this client can solve failed: a new order cannot help
            payload = {"identifiers": idents}
            if hold:
                payload["retry-options"] = {"hold": True}
            r = self.post_raw(self.directory["newOrder"], payload)
            order_url, o = r.headers.get("Location"), r.json()
            honoured = (o.get("retry-options") or {}).get("hold") is True
            self.out["order_urls"].append(order_url)
            self.out.setdefault("orders_hold", []).append(honoured)
            progress("order %s (%s)%s" % (order_url, o.get("status"),
                                          (", hold honoured" if honoured else ", hold NOT shown")
                                          if hold else ""))
            ok = True
            for au in o.get("authorizations") or []:
                ok, a = self.solve_authz(au, order_url, n_order, skip_types, deadline)
                if not ok:
                    skip_types |= {x["type"] for x in self.out["attempts"]
                                   if x["order"] == order_url and x["outcome"] != "valid"}
                    # the order is abandoned: so are its other pending authorizations
                    for other in o.get("authorizations") or []:
                        if other != au:
                            try:
                                if self.post_as_get(other).get("status") == "pending":
                                    self.deactivate(other, "order abandoned")
                            except errors.Error as e:
                                progress("status of %s: %s" % (other, e))
                    break
            if ok:
                o = self.poll_order(order_url, deadline)
                ok = o.get("status") in ("ready", "valid")
            if not ok:
                # Client Behaviour: "It falls back to RFC 8555 behaviour (a new order)"
                self.record_statuses(order_url)
                continue
            orderr = messages.OrderResource(body=messages.Order.from_json(o), uri=order_url,
                                            authorizations=[], csr_pem=csr)
            orderr = self.acme.finalize_order(orderr, datetime.datetime.now()
                                              + datetime.timedelta(seconds=max(5, deadline - time.time())))
            self.record_statuses(order_url)
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
    p.add_argument("--no-hold", action="store_true",
                   help="extension mode without pending-hold: re-enable invalid authorizations only")
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
