"""A deliberately wrong ACME server for the aro-conform tests: an HTTPS
proxy in front of a real aro-server that breaks chosen things on the way
back (or refuses on the way in), so that every server-mode check of
aro-conform can be seen failing. Each rule names the check it breaks and
breaks it for the reason the check is about (a refusal turned into a
success, a missing member, a wrong status), keyed on what the request is:
its path, its JWS, and the label aro-conform puts in every name it orders
("order-5-x1y2.example.com" is the orders area's main order).

    proxy = WrongACME(upstream_port, cert, key, mode)   # mode: see MODES
    ... aro-conform server https://127.0.0.1:{proxy.port}/directory ...
    proxy.stop()

The rules are grouped in modes because some breaks would hide others (an
order that never becomes ready leaves no certificate to judge). Nothing
leaves loopback."""
import base64
import http.client
import http.server
import json
import re
import ssl
import threading


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


LABEL = re.compile(r"^(?:\*\.)?([a-z]+(?:-[a-z]+)*)-\d+-[a-z0-9]+\.")


def label_of(name):
    m = LABEL.match(name or "")
    return m.group(1) if m else None


class Exchange:
    """One request and the upstream answer, as the rules see and change it."""

    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        self.protected, self.payload = {}, None
        try:
            j = json.loads(body)
            self.protected = json.loads(b64d(j["protected"]))
            self.payload = b64d(j["payload"]).decode()
        except Exception:
            pass
        self.status, self.resp_headers, self.resp_body = 0, [], b""
        self.up_status = 0   # what aro-server answered (rules may change status)

    # --- the request ---
    def post(self, path_prefix=None):
        return self.method == "POST" and (path_prefix is None or self.path.startswith(path_prefix))

    def payload_json(self):
        try:
            return json.loads(self.payload) if self.payload else None
        except ValueError:
            return None

    # --- the answer ---
    @property
    def json(self):
        try:
            return json.loads(self.resp_body)
        except ValueError:
            return None

    def set_json(self, obj, status=None, content_type=None):
        self.resp_body = json.dumps(obj).encode()
        if status is not None:
            self.status = status
        if content_type:
            self.set_header("Content-Type", content_type)

    def detail(self):
        j = self.json
        return j.get("detail", "") if isinstance(j, dict) and "type" in j else ""

    def header(self, name):
        for k, v in self.resp_headers:
            if k.lower() == name.lower():
                return v
        return None

    def set_header(self, name, value):
        self.drop_header(name)
        if value is not None:
            self.resp_headers.append((name, value))

    def drop_header(self, name, contains=None):
        self.resp_headers = [(k, v) for k, v in self.resp_headers
                             if k.lower() != name.lower() or (contains is not None and contains not in v)]

    def problem(self, ptype, status, detail="wrong_acme"):
        self.set_json({"type": "urn:ietf:params:acme:error:" + ptype, "detail": detail, "status": status}, status,
                      "application/problem+json")

    def succeed(self, status=200, obj=None):
        self.set_json(obj if obj is not None else {"status": "valid"}, status, "application/json")


class State:
    """What the proxy has learnt: which URL belongs to which labelled name."""

    def __init__(self):
        self.lock = threading.Lock()
        self.label = {}      # URL path -> label
        self.seen = {}       # counters and flags
        self.jwks = set()    # account keys seen on newAccount

    def count(self, key):
        self.seen[key] = self.seen.get(key, 0) + 1
        return self.seen[key]

    def learn(self, x, origin):
        j = x.json
        if not isinstance(j, dict) or x.status >= 300:
            return
        strip = lambda u: u[len(origin):] if isinstance(u, str) and u.startswith(origin) else u  # noqa: E731
        ident = j.get("identifier") or ((j.get("identifiers") or [{}])[0])
        lab = label_of(ident.get("value") if isinstance(ident, dict) else None)
        if not lab:
            return
        path = strip(x.header("Location")) if x.header("Location") and x.path.endswith("new-order") else x.path
        self.label[path.split("/finalize")[0].split("/retry")[0]] = lab
        for u in j.get("authorizations") or []:
            self.label[strip(u)] = lab
        for c in (j.get("challenges") or []) + ((j.get("retry-options") or {}).get("challenges") or []):
            if isinstance(c, dict) and c.get("url"):
                self.label[strip(c["url"])] = lab

    def label_of_path(self, path):
        return self.label.get(path.split("/finalize")[0].split("/retry")[0])


# ---- the rules --------------------------------------------------------------
# Each rule(x, st) may change the answer x; st is the State. The comment
# names the aro-conform check it makes fail.

def _obj_path(x, kind):
    return x.path.startswith(f"/acme/{kind}/")


def _is_read(x):
    return x.method == "POST" and x.payload == ""


def r_refusals_accepted(x, st):
    """Refusals of aro-server turned into answers of the wrong kind."""
    d = x.detail()
    rules = [
        ("JWS signature does not verify", lambda: x.succeed(201)),     # jws.bad-signature, account.rollover-old-key,
                                                                      # account.foreign-deactivate
        ('exactly one of "jwk" and "kid"', lambda: x.succeed(201)),   # jws.jwk-and-kid, jws.neither
        ('must use "kid"', lambda: x.succeed(201)),                   # jws.kid-required
        ('must carry "jwk"', lambda: x.succeed(201)),                 # jws.jwk-required
        ("does not match the account key", lambda: x.succeed(201)),   # jws.alg-mismatch
        ("no account at", lambda: x.succeed(200)),                    # jws.unknown-kid, error.account-does-not-exist
        ('has no "url"', lambda: x.succeed(201)),                     # jws.url-missing
        ("is not base64url", lambda: x.succeed(201)),                 # jws.nonce-malformed
        ("no account exists with this key", lambda: x.succeed(201)),  # account.only-return-existing
        ("terms of service must be agreed", lambda: x.succeed(201)),  # account.tos-required
        ("inner JWS url must equal", lambda: x.succeed(200)),         # account.rollover-url
        ("belongs to another account", lambda: x.succeed(200)),       # authz.foreign-deactivate, order.foreign-read,
                                                                      # ro.reenable-foreign
        ("is not a valid DNS name", lambda: x.succeed(201)),          # (order.bad-identifier, shown by Pebble too)
        ("not authorized to revoke", lambda: x.succeed(200)),         # revoke.unauthorized
        ("is not one of the challenges offered", lambda: x.succeed(200)),  # ro.reenable-unlisted
        ("re-enable request needs", lambda: x.succeed(200)),          # ro.reenable-bad-payload
        ("only an invalid authorization can be re-enabled", lambda: x.succeed(200)),  # ro.reenable-not-invalid
        ("no attempts left", lambda: x.succeed(200)),                 # ro.exhausted
    ]
    for needle, act in rules:
        if needle in d:
            act()
            return


def r_wrong_types(x, st):
    """Refusals kept, with the wrong status or type."""
    d = x.detail()
    if x.status == 415:                                   # jws.content-type, jws.no-content-type
        x.problem("malformed", 400, d)
        j = x.json
        j["status"] = 415                                 # error.status-member: body and HTTP disagree
        x.resp_body = json.dumps(j).encode()
    elif 'has no "nonce"' in d:                           # jws.nonce-missing
        x.problem("malformed", 400, d)
    elif "invalid anti-replay nonce" in d:                # jws.nonce-invented, jws.nonce-replayed,
        x.status = 403                                    # jws.badnonce-retry, nonce.post-error
        j = x.json
        j["status"] = 403
        x.resp_body = json.dumps(j).encode()
        x.drop_header("Replay-Nonce")
    elif "only mailto: is supported" in d:                # account.unsupported-contact
        x.problem("malformed", 400, d)
    elif "not-an-address" in d:                           # account.invalid-contact-type
        x.problem("malformed", 400, d)
    elif "account is deactivated" in d:                   # account.deactivated-401
        x.problem("unauthorized", 403, d)
    elif "is pending, not ready" in d:                    # finalize.not-ready
        x.problem("badCSR", 400, d)
    elif "the order is invalid, not ready" in d:          # authz.deactivated-insufficient
        x.succeed(200, {"status": "valid"})
    elif "no such order" in d:                            # order.not-found
        x.problem("malformed", 400, d)
    elif "is not supported" in d and "identifier type" in d:  # error.identifier-top-level
        j = x.json
        j["identifier"] = {"type": "email", "value": "conform@example.com"}
        x.resp_body = json.dumps(j).encode()
    elif "JWS is not valid JSON" in d:                    # error.malformed-json
        x.problem("serverInternal", 500, d)
    elif "reason 7 is not allowed" in d:                  # revoke.bad-reason
        x.problem("malformed", 400, d)
    elif "too early" in d:                                # ro.reenable-too-early, ro.hold-too-early
        x.problem("malformed", 400, d)
        x.drop_header("Retry-After")


def r_nonces(x, st):
    if x.method == "HEAD" and x.path == "/acme/new-nonce":
        n = st.count("head")
        if n == 1:                                        # nonce.head, nonce.head-200
            x.drop_header("Replay-Nonce")
            x.status = 204
        elif n == 9:
            st.seen["nonce9"] = x.header("Replay-Nonce")
        elif n == 10:                                     # nonce.fresh, nonce.unique
            x.set_header("Replay-Nonce", st.seen.get("nonce9"))
        elif n == 12:                                     # nonce.syntax
            x.set_header("Replay-Nonce", "not+base64url=")
    if x.method == "GET" and x.path == "/acme/new-nonce":  # nonce.get-204, link.index
        x.status = 200
        x.resp_body = b"nonce"
        x.drop_header("Link")
    if x.method == "GET" and x.path.startswith("/acme/") and x.path != "/acme/new-nonce" and \
            not x.path.startswith("/acme/renewal-info"):  # http.get-405, jws.get-order-405
        x.succeed(200, {"status": "pending"})


def r_accounts(x, st):
    if not x.post():
        return
    p = x.payload_json() if x.payload else None
    if x.path == "/acme/new-account" and isinstance(p, dict):
        jwk = json.dumps(x.protected.get("jwk"), sort_keys=True)
        known = jwk in st.jwks
        st.jwks.add(jwk)
        if x.protected.get("jwk", {}).get("kty") == "RSA":   # jws.rs256
            x.problem("badPublicKey", 400, "wrong_acme: no RSA")
        elif p.get("contact") == ["mailto:conform@example.com"] and st.count("alice") == 1:
            j = x.json                                        # account.create, account.orders-url
            j.pop("orders", None)
            x.set_json(j, 200)
        elif "conformUnknownMember" in p and x.up_status < 300:  # account.no-reflect
            j = x.json
            j["conformUnknownMember"] = "x"
            x.set_json(j)
        elif p.get("onlyReturnExisting") is True and x.up_status == 200:  # account.only-return-existing-known
            x.set_header("Location", x.header("Location") + "-elsewhere")
        elif known and "onlyReturnExisting" not in p and x.up_status == 200:  # account.existing
            x.status = 201
    if x.path.startswith("/acme/acct/") and x.up_status == 200:
        if isinstance(p, dict) and p.get("contact") == ["mailto:conform-updated@example.com"]:
            j = x.json                                        # account.update, nonce.post-success
            j["contact"] = ["mailto:someone-else@example.com"]
            x.set_json(j)
            x.drop_header("Replay-Nonce")
        elif isinstance(p, dict) and p.get("status") == "deactivated":  # account.deactivate
            j = x.json
            j["status"] = "valid"
            x.set_json(j)
        elif x.payload == "" and x.path.endswith("/orders"):  # account.orders-list-pending
            x.set_json({"orders": []})
        elif x.payload == "":                                 # jws.post-as-get
            j = x.json
            if isinstance(j, dict):
                j.pop("status", None)
                x.set_json(j)


def r_orders(x, st):
    lab = st.label_of_path(x.path)
    if x.path == "/acme/new-order" and x.up_status == 409 and "alreadyReplaced" in x.resp_body.decode():
        x.problem("malformed", 400, "wrong_acme: refused, but not as alreadyReplaced")  # ari.already-replaced
        return
    j = x.json if x.up_status < 300 else None
    if not isinstance(j, dict):
        return
    if x.path == "/acme/new-order" and x.up_status == 201:
        ids = j.get("identifiers") or [{}]
        name_label = label_of(ids[0].get("value"))
        if "replaces" in j:                                   # ari.replaces, then ari.already-replaced
            if st.count("replaces") == 1:
                j.pop("replaces")
                x.set_json(j)
            else:
                x.problem("malformed", 400, "wrong_acme: refused, but not as alreadyReplaced")
        elif name_label == "order":                             # order.create, order.object, order.immutable,
            j["identifiers"] = [{"type": "dns", "value": "not-what-was-asked.example.com"}]  # order.expires
            j.pop("expires", None)
            x.set_json(j, 200)
        elif name_label == "hold":                            # ro.hold-order
            j.pop("retry-options", None)
            x.set_json(j)
        return
    if x.path == "/acme/new-authz" and x.up_status == 201:    # order.newauthz
        x.status = 200
        x.drop_header("Location")
        return
    if _obj_path(x, "authz") and lab == "order" and _is_read(x):
        j.pop("identifier", None)                             # authz.object
        j["wildcard"] = False                                 # authz.no-wildcard-field
        for c in j.get("challenges", []):
            if c.get("type") == "dns-01":                     # chall.token
                c["token"] = "short"
        if j.get("status") == "valid":
            j.pop("expires", None)                            # authz.valid-expires
            for c in j.get("challenges", []):
                if c.get("status") == "valid":                # authz.valid
                    c["status"] = "processing"
        x.set_json(j)
    elif _obj_path(x, "chall") and lab == "order" and x.payload == "{}":
        j["status"] = "pending"                               # (chall.processing, shown by Pebble too)
        x.set_json(j, 202)                                    # chall.respond
        x.drop_header("Link", 'rel="up"')                     # chall.up-link
    elif _obj_path(x, "authz") and lab == "fail" and _is_read(x) and j.get("status") == "invalid":
        j["status"] = "deactivated"                           # chall.invalid, chall.invalid-final
        for c in j.get("challenges", []):
            if c.get("status") == "invalid":
                c.pop("error", None)                          # chall.error
            elif c.get("status") == "pending":
                c["error"] = {"type": "urn:ietf:params:acme:error:connection", "detail": "wrong_acme"}  # chall.error-invalid
        x.set_json(j)
    elif _obj_path(x, "order") and lab == "fail" and _is_read(x) and j.get("status") == "invalid":
        j["status"] = "ready"                                 # order.invalid
        x.set_json(j)
    elif _obj_path(x, "authz") and lab == "deactivate" and x.payload and "deactivated" in x.payload:
        j["status"] = "pending"                               # authz.deactivate
        x.set_json(j)
    elif _obj_path(x, "order") and lab == "deactivate" and _is_read(x):
        j["status"] = "pending"                               # order.deactivated-authz
        x.set_json(j)
    elif _obj_path(x, "authz") and lab == "wild" and _is_read(x):
        j["wildcard"] = False                                 # authz.wildcard
        if j.get("status") == "valid":
            j["status"] = "invalid"                           # chall.dns01
        x.set_json(j)
    elif _obj_path(x, "order") and lab == "rollover" and _is_read(x):
        j["status"] = "invalid"                               # account.rollover-keeps-orders
        x.set_json(j)


def r_finalize(x, st):
    lab = st.label_of_path(x.path)
    if lab != "order":
        return
    if x.path.endswith("/finalize") and x.up_status == 400 and "badCSR" in x.resp_body.decode(errors="replace"):
        st.seen["after-badcsr"] = x.path[:-len("/finalize")]
    elif x.path.endswith("/finalize") and x.up_status == 200:
        j = x.json
        j["status"] = "pending"                               # finalize.accepted
        x.set_json(j)
    elif _is_read(x) and st.seen.get("after-badcsr") == x.path:
        st.seen.pop("after-badcsr")
        j = x.json
        j["status"] = "invalid"                               # finalize.bad-csr-stays-ready
        x.set_json(j)
    elif _is_read(x) and _obj_path(x, "order") and x.up_status == 200 and (x.json or {}).get("status") == "valid":
        j = x.json
        j.pop("expires", None)                                # order.valid-expires
        x.set_json(j)


def r_certificates(x, st):
    if not (_obj_path(x, "cert") and x.post() and x.up_status == 200):
        return
    pem = x.resp_body.decode()
    parts = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", pem, re.S)
    if re.search(r"/acme/cert/[^/]+/\d+$", x.path):           # cert.alternates: another leaf
        x.resp_body = "".join(parts[1:]).encode()
    elif st.count("cert") == 1:
        x.set_header("Content-Type", "application/pkix-cert")  # cert.download
        x.resp_body = ("Here is your certificate.\n" + pem).encode()  # cert.pem


def r_ari(x, st):
    if x.method == "GET" and x.path.startswith("/acme/renewal-info/") and x.up_status == 200:
        j = x.json
        w = j["suggestedWindow"]
        w["start"], w["end"] = w["end"], w["start"]           # ari.window
        x.set_json(j)
        x.drop_header("Retry-After")                          # ari.retry-after


def r_revoke(x, st):
    if not (x.post("/acme/revoke-cert") and x.up_status == 200):
        return
    if "jwk" in x.protected:                                  # revoke.by-cert-key
        x.problem("unauthorized", 403, "wrong_acme: not with the certificate key")
    elif st.count("revoke-ok") == 2:                          # revoke.by-account (after bob's)
        x.problem("unauthorized", 403, "wrong_acme: not by its account")


def r_directory_meta(x, st):
    if x.method == "GET" and x.path == "/directory":
        j = x.json
        ro = j["meta"]["retry-options"]
        ro["attemptsPerAuthorization"] = str(ro["attemptsPerAuthorization"])  # ro.meta
        ro["minBackoffSeconds"] = 30                          # ro.backoff-min (the offers say 3 s)
        x.set_json(j)


def r_retry_options(x, st):
    lab = st.label_of_path(x.path)
    if lab == "retry" and _obj_path(x, "chall") and x.payload == "{}" and st.seen.get("retry-offer-seen") and \
            not st.seen.get("retry-taken"):
        st.seen["retry-legacy"] = True                        # a legacy {}: the next read shows a change
    j = x.json if x.up_status < 300 else None
    if lab not in ("retry", "exhaust", "hold") or not isinstance(j, dict):
        return
    off = j.get("retry-options")
    if lab == "retry" and _obj_path(x, "authz") and _is_read(x):
        n = st.count("retry-authz-read")
        if n == 1:
            j["retry-options"] = {}                           # ro.not-on-pending
        elif off and j.get("status") == "invalid":
            off.pop("attemptsRemaining", None)                # ro.offer
            off["expires"] = "2999-01-01T00:00:00Z"           # ro.offer-deadline
            failed = [c for c in j.get("challenges", []) if c.get("status") == "invalid"]
            off["challenges"] = off["challenges"] + failed    # ro.offer-unattempted
            if st.seen.get("retry-offer-seen"):               # ro.fresh-token-stable: from the second read on
                for c in off["challenges"]:
                    if c.get("type") == "tls-alpn-01":
                        c["token"] = "changed-" + c["token"][:8]
            st.seen["retry-offer-seen"] = True
            if st.seen.pop("retry-legacy", None):             # ro.legacy-post-failed, ro.legacy-post-untried
                j["status"] = "pending"
        x.set_json(j)
    elif lab == "retry" and _obj_path(x, "chall") and _is_read(x):
        if st.seen.get("retry-taken"):
            j["retry-options"] = {"challenges": []}           # ro.offer-gone
        else:
            j.pop("retry-options", None)                      # ro.offer-on-challenge
        x.set_json(j)
    elif lab == "retry" and x.path.endswith("/retry") and x.up_status == 200:
        if not st.seen.get("retry-taken"):
            st.seen["retry-taken"] = True
            j["retry-options"] = {"challenges": []}           # ro.reenable-accept
        else:
            j["challenges"] = j.get("challenges", []) + [{"type": "http-01", "url": "x", "status": "pending"}]
        x.set_json(j)                                         # ro.reenable-repeat (above)
    elif lab == "retry" and _obj_path(x, "order") and _is_read(x):
        if st.seen.get("retry-taken") and not st.seen.get("retry-order-read"):
            st.seen["retry-order-read"] = True
            j["error"] = {"type": "urn:ietf:params:acme:error:connection", "detail": "wrong_acme"}  # ro.order-pending
        elif j.get("status") == "invalid" and not st.seen.get("retry-taken"):
            j.pop("retry-options", None)                      # ro.order-offer
        elif j.get("status") == "ready":
            j["status"] = "valid"                             # ro.order-ready
        x.set_json(j)
    elif lab == "exhaust" and _obj_path(x, "authz") and _is_read(x) and off and j.get("status") == "invalid":
        n = st.count("exhaust-offer")
        if n == 1:
            st.seen["exhaust-first"] = off["notBefore"]
        if off["notBefore"] == st.seen.get("exhaust-first"):  # ro.backoff-grows: the first offer looks longer
            import datetime
            t = datetime.datetime.strptime(off["notBefore"], "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(seconds=8)
            off["notBefore"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            off["attemptsRemaining"] = 5                      # ro.attempts
        x.set_json(j)
    elif lab == "hold" and _obj_path(x, "authz") and _is_read(x) and off:
        off.pop("attemptsRemaining", None)                    # ro.hold-failure (its shape)
        off["url"] = "https://127.0.0.1/acme/authz/x/retry"   # ro.hold-no-url
        x.set_json(j)
    elif lab == "hold" and _obj_path(x, "chall") and x.payload == "{}" and x.up_status == 200 and \
            j.get("status") in ("processing", "valid"):
        j["status"] = "pending"                               # ro.hold-take
        x.set_json(j)


# Mode D, F, G: without the extension in the directory (quick runs).
def r_no_retry_meta(x, st):
    if x.method == "GET" and x.path == "/directory":          # ro.no-member-without-meta, ro.hold-without-meta
        j = x.json
        j["meta"].pop("retry-options", None)
        x.set_json(j)


def r_d(x, st):
    lab = st.label_of_path(x.path)
    d = x.detail()
    if "not-an-address" in d:                                 # account.invalid-contact
        x.succeed(200, {"status": "valid", "contact": ["mailto:not-an-address"]})
    elif x.post("/acme/acct/") and x.path.endswith("/orders") and x.up_status == 200:
        x.set_json({"orders": "not an array"})                # account.orders-list
    elif x.post("/acme/key-change") and x.up_status == 200:
        x.status = 202                                        # account.rollover
    elif _obj_path(x, "authz") and lab == "order" and _is_read(x) and (x.json or {}).get("status") == "valid":
        j = x.json
        for c in j.get("challenges", []):
            c.pop("validated", None)                          # chall.validated
        x.set_json(j)
    elif _obj_path(x, "order") and lab == "order" and _is_read(x) and (x.json or {}).get("status") == "ready":
        j = x.json
        j["status"] = "valid"                                 # order.ready
        x.set_json(j)
    elif _obj_path(x, "authz") and lab == "fail" and _is_read(x) and (x.json or {}).get("status") == "invalid":
        j = x.json
        j["challenges"] = [c for c in j["challenges"] if c.get("status") != "invalid"]
        x.set_json(j)                                         # authz.keeps-invalid-challenge


def r_f(x, st):
    if _obj_path(x, "cert") and x.post() and x.up_status == 200 and not re.search(r"/\d+$", x.path) \
            and st.count("cert") == 1:
        parts = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", x.resp_body.decode(), re.S)
        x.resp_body = "".join(reversed(parts)).encode()       # cert.end-entity-first, cert.chain, cert.matches


def r_h(x, st):
    if "already revoked" in x.detail():
        x.succeed(200)                                        # revoke.already


def r_g(x, st):
    lab = st.label_of_path(x.path)
    if _obj_path(x, "order") and lab == "order" and _is_read(x) and (x.json or {}).get("status") == "valid":
        j = x.json
        j.pop("certificate", None)                            # order.valid
        x.set_json(j)


def r_b(x, st):
    if x.method == "GET" and x.path == "/directory":          # directory.get
        x.set_header("Content-Type", "text/html")
        x.resp_body = b"<html>no directory here</html>"


def r_c(x, st):
    if x.method == "GET" and x.path == "/directory":
        j = x.json
        j["newOrder"] = j["newOrder"].replace("https://", "http://")  # directory.resources
        j.pop("revokeCert")                                   # directory.revoke-keychange
        j["meta"]["website"] = 7                              # directory.meta
        x.set_json(j)
        x.set_header("Content-Type", "text/plain")            # directory.content-type


def r_i(x, st):
    """The five things aro-server's first conformance report found wrong,
    put back: each check of them must fail here."""
    j = x.json
    if x.post("/directory"):                                  # jws.post-as-get-bootstrap
        x.problem("malformed", 405, "wrong_acme: the directory takes GET")
    elif x.path == "/acme/new-order" and x.up_status == 409 and "alreadyReplaced" in x.resp_body.decode():
        x.succeed(201, {"status": "pending"})                 # ari.replaced-twice
    elif isinstance(j, dict) and j.get("type", "").endswith(":badSignatureAlgorithm"):
        j.pop("algorithms", None)                             # jws.algorithms-field
        x.resp_body = json.dumps(j).encode()
    elif x.post("/acme/chall/") and x.up_status == 400 and "not one of those retry-options offers" in x.detail():
        x.succeed(200, {"status": "invalid"})                 # ro.hold-unlisted
    elif x.post("/acme/key-change") and x.up_status == 409:
        j["type"] = "urn:ietf:params:acme:error:conflict"     # error.acme-namespace
        x.resp_body = json.dumps(j).encode()


def r_e(x, st):
    if x.post("/acme/new-account"):                           # jws.es256
        x.problem("badSignatureAlgorithm", 400, "wrong_acme: no ES256")
        j = x.json
        j["algorithms"] = ["RS256"]
        x.resp_body = json.dumps(j).encode()


MODES = {
    "A": [r_refusals_accepted, r_wrong_types, r_nonces, r_accounts, r_orders, r_finalize, r_certificates, r_ari,
          r_revoke, r_directory_meta, r_retry_options],
    "B": [r_b],
    "C": [r_c],
    "D": [r_no_retry_meta, r_d],
    "E": [r_e],
    "F": [r_no_retry_meta, r_f],
    "G": [r_no_retry_meta, r_g],
    "H": [r_no_retry_meta, r_h],
    "I": [r_i],
}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _relay(self):
        srv = self.server
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        x = Exchange(self.command, self.path, self.headers, body.decode(errors="replace"))
        conn = http.client.HTTPSConnection("127.0.0.1", srv.upstream_port, context=srv.upstream_ctx, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "content-length")}
        conn.request(self.command, self.path, body=body if self.command not in ("GET", "HEAD") else None,
                     headers=hdrs)
        up = conn.getresponse()
        x.status, x.resp_headers, x.resp_body = up.status, list(up.getheaders()), up.read()
        x.up_status = up.status
        conn.close()
        with srv.state.lock:
            srv.state.learn(x, srv.origin)
            for rule in srv.rules:
                rule(x, srv.state)
        self.send_response(x.status)
        for k, v in x.resp_headers:
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(x.resp_body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(x.resp_body)

    do_GET = do_HEAD = do_POST = do_PUT = _relay


class WrongACME:
    def __init__(self, upstream_port, cert, key, mode):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.port = self.httpd.server_address[1]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.upstream_port = upstream_port
        self.httpd.upstream_ctx = ssl.create_default_context(cafile=cert)
        self.httpd.origin = f"https://127.0.0.1:{self.port}"
        self.httpd.state = State()
        self.httpd.rules = MODES[mode]
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def directory(self):
        return f"https://127.0.0.1:{self.port}/directory"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
