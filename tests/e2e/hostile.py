"""A catalogue of hostile and malformed requests against a running
aro-server, then the refusals of the limits (one small server per limit),
of IP identifiers that are not globally reachable (--deny-private-targets)
and of writes to a full store. Every case asserts three things:

  1. the HTTP status and the ACME problem type (RFC 8555 6.7) the RFC
     asks for (where the RFC leaves a choice, the case lists the
     acceptable answers and says why);
  2. a Replay-Nonce on the error too (6.5 SHOULD), and a problem document
     body (application/problem+json) whenever there is a problem type;
  3. nothing changed: the whole LMDB store, dumped with mdb_dump before
     and after, is byte-for-byte the same, and the objects the case aimed
     at read back (POST-as-GET by their owner) exactly as before.

The objects under attack are set up first: accounts alice, bob and a
deactivated carol; alice's pending, ready, invalid (with a retry offer)
and issued orders; bob's pending order; an account on a second server
(for foreign nonces and kids). Expired objects are made at the end by
stopping the server and moving their "expires" into the past in a copy
of the store (mdb_dump -p / mdb_load), since the shortest lifetime the
server accepts is a minute.

Run by hostile.sh; prints PASS/FAIL per case and "N passed, N failed".
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import acme  # noqa: E402
from acme import b64u  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, hmac, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from harness import Harness, TestRun  # noqa: E402
import weak_keys  # noqa: E402

MDB_DUMP = shutil.which("mdb_dump")
ALGORITHMS = sorted(["ES256", "ES384", "EdDSA", "RS256"])
MDB_LOAD = shutil.which("mdb_load")


# ---- JWS construction, by hand, so that any part can be wrong ----------

def es256(key, data):
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def es384(key, data):
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA384())))
    return r.to_bytes(48, "big") + s.to_bytes(48, "big")


def rs256(key, data):
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def jwk_of(key):
    pub = key.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        n = pub.public_numbers()
        return {"e": b64u(n.e.to_bytes(3, "big")), "kty": "RSA",
                "n": b64u(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big"))}
    if isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": b64u(raw)}
    size = (pub.curve.key_size + 7) // 8
    n = pub.public_numbers()
    return {"crv": {256: "P-256", 384: "P-384"}[pub.curve.key_size], "kty": "EC",
            "x": b64u(n.x.to_bytes(size, "big")), "y": b64u(n.y.to_bytes(size, "big"))}


def build(c, url, payload, *, key=None, signer=es256, jwk=False, kid=None, nonce=None, set_=None, drop=(),
          protected_raw=None, payload_raw=None, sig_mangle=None, alg="ES256"):
    """A flattened JWS as a dict. payload None is POST-as-GET. set_ adds or
    replaces header members, drop removes them; *_raw replace the encoded
    JSON text (for duplicate members and the like)."""
    key = key or c.key
    prot = {"alg": alg, "nonce": nonce if nonce is not None else c.get_nonce(), "url": url}
    if jwk:
        prot["jwk"] = jwk_of(key)
    else:
        prot["kid"] = kid or c.kid
    prot.update(set_ or {})
    for k in drop:
        prot.pop(k, None)
    p64 = b64u(protected_raw if protected_raw is not None else json.dumps(prot))
    if payload_raw is not None:
        body = b64u(payload_raw)
    else:
        body = "" if payload is None else b64u(json.dumps(payload))
    sig = signer(key, f"{p64}.{body}".encode()) if signer else b""
    if sig_mangle:
        sig = sig_mangle(sig)
    return {"protected": p64, "payload": body, "signature": b64u(sig)}


def send(c, url, body, content_type="application/jose+json"):
    """POST a body (dict -> JSON, str/bytes as is) and wrap the answer."""
    data = json.dumps(body) if isinstance(body, dict) else body
    headers = {} if content_type is None else {"Content-Type": content_type}
    r = c.s.post(url, data=data, headers=headers, timeout=30)
    c.nonce = None  # every hostile case fetches a fresh nonce
    return acme.Response(r)


class RawResponse:
    """Just enough of acme.Response for Catalogue.case."""

    def __init__(self, status, headers, text):
        self.status, self.headers, self.text = status, headers, text
        try:
            self.json = json.loads(text)
        except ValueError:
            self.json = None

    @property
    def problem(self):
        return acme.Response.problem.fget(self)


def raw_post(srv, path, body, headers):
    """An HTTP/1.1 POST on a TLS socket of our own, for framings a normal
    client would not send (chunked, a Content-Length that promises more
    than comes). The body goes out in pieces and a reset while sending is
    not an error (h2o answers bodies over its own cap before reading
    them); the answer is read either way. Bounded by socket timeouts."""
    import socket
    import ssl
    ctx = ssl.create_default_context(cafile=srv.ca_file)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n" \
                   "Content-Type: application/jose+json\r\nConnection: close\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            s.sendall(head.encode())
            chunked = headers.get("Transfer-Encoding") == "chunked"
            try:
                for i in range(0, len(body), 16384):
                    piece = body[i:i + 16384]
                    s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                if chunked:
                    s.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
            data = b""
            try:
                while len(data) < 1 << 20:
                    got = s.recv(65536)
                    if not got:
                        break
                    data += got
            except (ConnectionResetError, ssl.SSLError, socket.timeout):
                pass
    head, _, text = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        raise AssertionError(f"no HTTP answer: {data[:200]!r}")
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().title()] = v.strip()
    return RawResponse(int(lines[0].split()[1]), hdrs, text.decode("utf-8", "replace"))


def curl_post(srv, url, body, http2):
    """POST body with curl, which sends it in full before reading the
    answer, as ordinary clients do; over HTTP/2 (--http2, ALPN h2) or
    HTTP/1.1. Checks that the protocol was the one asked for."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        data, head, out = (os.path.join(d, n) for n in ("body", "head", "out"))
        with open(data, "wb") as f:
            f.write(body)
        p = subprocess.run(["curl", "-sS", "--max-time", "60", "--http2" if http2 else "--http1.1",
                            "--cacert", srv.ca_file, "-H", "Content-Type: application/jose+json",
                            "-H", "Expect:",  # no 100-continue: the whole body goes out first
                            "--data-binary", "@" + data, "-D", head, "-o", out, "-w", "%{http_version}", url],
                           capture_output=True, timeout=90)
        if p.returncode != 0:
            raise AssertionError(f"curl failed ({p.returncode}): {p.stderr.decode()[:300]}")
        want = "2" if http2 else "1.1"
        if p.stdout.decode() != want:
            raise AssertionError(f"curl spoke HTTP/{p.stdout.decode()}, not HTTP/{want}")
        # The last header block (an interim 1xx answer comes first, if any).
        blocks = [b for b in open(head, encoding="latin-1", newline="").read().split("\r\n\r\n") if b.strip()]
        lines = blocks[-1].split("\r\n")
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k:
                hdrs[k.strip().title()] = v.strip()
        return RawResponse(int(lines[0].split()[1]), hdrs, open(out, encoding="utf-8", errors="replace").read())


def utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def csr_der(names, key=None, cn=True):
    key = key or ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])] if cn else []))
    b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


# ---- the "nothing changed" checks --------------------------------------

def store_dump(srv):
    out = subprocess.run([MDB_DUMP, "-a", os.path.join(srv.data, "store")], capture_output=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError(f"mdb_dump failed: {out.stderr.decode()}")
    return out.stdout


def read_back(owner_url_pairs):
    """POST-as-GET each (client, url) as its owner; JSON bodies only."""
    out = []
    for c, url in owner_url_pairs:
        r = c.get(url)
        out.append((url, r.status, r.json if r.json is not None else r.text))
    return out


class Catalogue:
    def __init__(self, run, srv):
        self.run = run
        self.srv = srv
        self.cases = 0
        self.mismatches = []   # (name, expected, got): where the server differs from the RFC

    def case(self, name, do, expect, objs=(), note="", check=None):
        """expect: list of (status, problem short type or None) any of which is
        acceptable (RFC 8555 leaves some choices open; note says which).
        check(r), if given, asserts more of the answer (headers, detail)."""
        self.cases += 1

        def fn():
            before = store_dump(self.srv)
            snap = read_back(objs)
            before = store_dump(self.srv)  # the reads above must not write either
            r = do()
            got = (r.status, r.problem)
            if got not in expect:
                self.mismatches.append((name, expect, got, r.text[:200]))
                raise AssertionError(f"expected one of {expect}, got {got}: {r.text[:300]}")
            if r.problem is not None:
                ct = r.headers.get("Content-Type", "")
                if not ct.startswith("application/problem+json"):
                    raise AssertionError(f"problem with Content-Type {ct!r}")
            # h2o's own bare 413 (bodies over its cap) is the only answer without one.
            if not (r.status == 413 and r.problem is None) and "Replay-Nonce" not in r.headers:
                raise AssertionError("no Replay-Nonce on the error response (RFC 8555 6.5)")
            if r.problem == "badSignatureAlgorithm" and sorted(r.json.get("algorithms") or []) != ALGORITHMS:
                raise AssertionError(f"badSignatureAlgorithm without the \"algorithms\" it accepts (6.2): {r.text}")
            if check:
                check(r)
            after = store_dump(self.srv)
            if after != before:
                raise AssertionError("the store changed")
            again = read_back(objs)
            if again != snap:
                changed = [f"{a[0]}: {a[1]} {str(a[2])[:200]} -> {b[1]} {str(b[2])[:200]}"
                           for a, b in zip(snap, again) if a != b]
                raise AssertionError("an object changed: " + "; ".join(changed))
        self.run.case(name, fn)


def sanitizer_report(log):
    """The sanitizer's report out of a server log (the log itself goes
    with the test's temporary directory)."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if "Sanitizer" in line or "runtime error" in line), 0)
    return "\n".join(lines[max(0, start - 2):start + 60])


def malformed(status=400):
    return [(status, "malformed")]


# ---- setup --------------------------------------------------------------

def setup(h):
    cts = h.challtestsrv(http01=True)
    # A long backoff keeps every re-enable "too early" for the whole run,
    # so the re-enable refusals are deterministic; a ToS makes
    # termsOfServiceAgreed required.
    srv = h.server(cts, config={"retryMinBackoffSeconds": 1800, "retryMaxBackoffSeconds": 1800,
                                "termsOfService": "https://aro.test/tos"})
    W = {"cts": cts, "srv": srv}
    mk = lambda: acme.Client(srv.directory, srv.ca_file)  # noqa: E731
    alice, bob, carol = mk(), mk(), mk()
    for c in (alice, bob, carol):
        c.new_account()
    r = carol.post(carol.kid, {"status": "deactivated"})
    assert r.status == 200 and r.json["status"] == "deactivated", r
    W.update(alice=alice, bob=bob, carol=carol)

    def order(c, name):
        r = c.new_order(name)
        assert r.status == 201, r
        az = c.authz(r.json["authorizations"][0])
        return r.url, r.json, az.json

    def validate(c, name):
        url, o, az = order(c, name)
        ch = c.challenge_of(az, "http-01")
        cts.add_http01(ch["token"], c.key_authz(ch["token"]))
        assert c.post(ch["url"], {}).status == 200
        c.poll(o["authorizations"][0], lambda j: j["status"] == "valid")
        c.poll(url, lambda j: j["status"] == "ready")
        return url, c.get(url).json, o["authorizations"][0]

    # pending
    W["pend_url"], W["pend"], W["pend_az"] = order(alice, "pending.example.com")
    W["pend_ch"] = alice.challenge_of(W["pend_az"], "http-01")
    # ready
    W["ready_url"], W["ready"], W["ready_az_url"] = validate(alice, "ready.example.com")
    # issued
    iss_url, iss, _ = validate(alice, "issued.example.com")
    cert_key = ec.generate_private_key(ec.SECP256R1())
    r = alice.post(iss["finalize"], {"csr": b64u(csr_der(["issued.example.com"], cert_key))})
    assert r.status == 200, r
    iss = alice.poll(iss_url, lambda j: j["status"] == "valid").json
    pem = alice.s.post(iss["certificate"], data=json.dumps(alice.sign(iss["certificate"], None)),
                       headers={"Content-Type": "application/jose+json"}, timeout=30).text
    cert = x509.load_pem_x509_certificate(pem.encode())
    W.update(iss_url=iss_url, iss=iss, cert_der=cert.public_bytes(serialization.Encoding.DER), cert_key=cert_key)
    # invalid, with a retry offer: nothing serves this token.
    W["fail_url"], W["fail"], az = order(alice, "fail.example.com")
    W["fail_az_url"] = W["fail"]["authorizations"][0]
    ch = alice.challenge_of(az, "http-01")
    W["fail_ch"] = ch
    assert alice.post(ch["url"], {}).status == 200
    az = alice.poll(W["fail_az_url"], lambda j: j["status"] == "invalid").json
    assert "retry-options" in az, f"no retry offer: {az}"
    W["fail_az"] = az
    alice.poll(W["fail_url"], lambda j: j["status"] == "invalid")
    # ready, but its authorization will lapse (expire_objects) before the order does
    W["lapsed_url"], W["lapsed"], W["lapsed_az_url"] = validate(alice, "lapsed.example.com")
    # a live order that replaces the issued certificate (RFC 9773 5): its claim
    W["cert_id"] = acme.ari_cert_id(pem)
    r = alice.new_order("issued.example.com", replaces=W["cert_id"])
    assert r.status == 201, r
    W["renew_url"] = r.url
    # bob's pending order
    W["bob_url"], W["bob_order"], _ = order(bob, "bob.example.com")
    # a second server: its nonces and account are foreign to the first.
    srv2 = h.server(cts)
    eve = acme.Client(srv2.directory, srv2.ca_file)
    eve.new_account()
    W.update(srv2=srv2, eve=eve)
    return W


# ---- the catalogue ------------------------------------------------------

def catalogue(cat, W):
    A, B, C, E = W["alice"], W["bob"], W["carol"], W["eve"]
    d = A.dir
    NO, NA = d["newOrder"], d["newAccount"]
    order_payload = {"identifiers": [{"type": "dns", "value": "hostile.example.com"}]}
    # The objects every case re-reads as their owners.
    core = [(A, A.kid), (A, W["pend_url"]), (A, W["ready_url"]), (A, W["fail_url"]), (A, W["fail_az_url"]),
            (A, W["iss_url"]), (A, W["renew_url"]), (A, W["lapsed_url"]), (B, W["bob_url"]), (B, B.kid)]

    def post(c, url, body, **kw):
        return lambda: send(c, url, body, **kw)

    def jws(c, url, payload, **kw):
        # Built when the case runs (the nonce must be fresh then).
        return lambda: send(c, url, build(c, url, payload, **kw))

    M = malformed()
    BADALG = [(400, "badSignatureAlgorithm")]
    BADNONCE = [(400, "badNonce")]
    # 6.4: a url mismatch "MUST reject the request as unauthorized".
    URLMISMATCH = [(401, "unauthorized"), (403, "unauthorized")]
    # A signature that does not verify: RFC 8555 names no type; malformed
    # (Boulder, Pebble) or unauthorized are both reasonable.
    BADSIG = [(400, "malformed"), (401, "unauthorized"), (403, "unauthorized")]
    # Another account's object: unauthorized (6.7), 403 or 404 (not revealing it exists).
    FOREIGN = [(403, "unauthorized"), (404, "malformed")]

    # -- 1. broken JWS framing
    cat.case("body is not JSON", post(A, NO, "this is not json"), M, core)
    cat.case("empty body", post(A, NO, ""), M, core)
    cat.case("body is a JSON array", post(A, NO, "[]"), M, core)
    cat.case("compact serialization", lambda: send(A, NO, "{}.{}.{}".format(*build(A, NO, order_payload).values())),
             M, core)
    cat.case("general serialization (signatures)", lambda: send(A, NO, {
        "payload": b64u(json.dumps(order_payload)),
        "signatures": [{"protected": build(A, NO, order_payload)["protected"], "signature": "AAAA"}]}), M, core)
    cat.case("unprotected header member", lambda: send(A, NO, dict(build(A, NO, order_payload),
                                                                  header={"kid": B.kid})), M, core)
    cat.case("protected is padded base64", lambda: send(A, NO, dict(
        build(A, NO, order_payload), protected=base64.urlsafe_b64encode(b'{"alg":"ES256"}').decode() + "==")),
        M, core)
    cat.case("protected is base64 of non-JSON", jws(A, NO, order_payload, protected_raw="alg=ES256"), M, core)
    cat.case("payload not base64url", lambda: send(A, NO, dict(build(A, NO, order_payload), payload="a+b/c=")),
             M, core)
    cat.case("signature not base64url", lambda: send(A, NO, dict(build(A, NO, order_payload), signature="!!")),
             M, core)
    cat.case("members of the wrong type", lambda: send(A, NO, dict(build(A, NO, order_payload), payload=7)),
             M, core)

    # -- 2. tampering and signatures
    def swapped_payload():
        j = build(A, NO, order_payload)
        j["payload"] = b64u(json.dumps({"identifiers": [{"type": "dns", "value": "stolen.example.com"}]}))
        return send(A, NO, j)
    cat.case("tampered payload", swapped_payload, BADSIG, core)
    cat.case("flipped signature bit", jws(A, NO, order_payload, sig_mangle=lambda s: bytes([s[0] ^ 1]) + s[1:]),
             BADSIG, core)
    cat.case("truncated signature", jws(A, NO, order_payload, sig_mangle=lambda s: s[:63]), BADSIG, core)
    cat.case("DER ECDSA signature instead of r||s",
             jws(A, NO, order_payload, signer=lambda k, d: k.sign(d, ec.ECDSA(hashes.SHA256()))), BADSIG, core)
    cat.case("empty signature", jws(A, NO, order_payload, signer=None), BADSIG, core)
    cat.case("kid of another account (bob's kid, alice's key)", jws(A, NO, order_payload, kid=B.kid), BADSIG, core)
    cat.case("signature by a stranger's key on alice's kid",
             jws(A, NO, order_payload, key=ec.generate_private_key(ec.SECP256R1())), BADSIG, core)

    # -- 3. algorithm confusion
    cat.case("alg none", jws(A, NO, order_payload, alg="none", signer=None), BADALG, core)
    hs_key = A.key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def hs256(_k, data):  # the classic: a MAC keyed with the public key
        m = hmac.HMAC(hs_key, hashes.SHA256())
        m.update(data)
        return m.finalize()
    cat.case("alg HS256 keyed with the public key", jws(A, NO, order_payload, alg="HS256", signer=hs256), BADALG, core)
    cat.case("alg RS256 on an EC key", jws(A, NO, order_payload, alg="RS256"), BADALG, core)
    cat.case("alg ES384 on a P-256 key", jws(A, NO, order_payload, alg="ES384"), BADALG, core)
    cat.case("alg EdDSA on an EC key", jws(A, NO, order_payload, alg="EdDSA"), BADALG, core)
    cat.case("alg in lower case", jws(A, NO, order_payload, alg="es256"), BADALG, core)
    cat.case("alg PS256 (not on the allow-list)", jws(A, NO, order_payload, alg="PS256"), BADALG, core)
    cat.case("alg missing", jws(A, NO, order_payload, drop=("alg",)), BADALG + M, core,
             "RFC 7515 makes alg required; either type names the fault")
    cat.case("alg not a string", jws(A, NO, order_payload, set_={"alg": 256}), BADALG + M, core)
    rsa_key = rsa.generate_private_key(65537, 2048)
    cat.case("newAccount RS256 header with an EC jwk",
             jws(A, NA, {"termsOfServiceAgreed": True}, key=rsa_key, signer=rs256, alg="RS256", jwk=True,
                 set_={"jwk": jwk_of(ec.generate_private_key(ec.SECP256R1()))}), BADALG + BADSIG, core)
    cat.case("crit header", jws(A, NO, order_payload, set_={"crit": ["exp"], "exp": 1}), M, core)
    cat.case("b64: false (RFC 7797)", jws(A, NO, order_payload, set_={"b64": False, "crit": ["b64"]}), M, core)

    # -- 4. key and account binding
    cat.case("both jwk and kid", jws(A, NO, order_payload, set_={"jwk": jwk_of(A.key)}), M, core)
    cat.case("neither jwk nor kid", jws(A, NO, order_payload, drop=("kid",)), M, core)
    cat.case("jwk where kid is required (newOrder)", jws(A, NO, order_payload, jwk=True), M, core)
    cat.case("jwk where kid is required (POST-as-GET order)", jws(A, W["pend_url"], None, jwk=True), M, core)
    cat.case("kid where jwk is required (newAccount)", jws(A, NA, {"termsOfServiceAgreed": True}), M, core)
    weak = rsa.generate_private_key(65537, 1024)
    cat.case("newAccount with an RSA-1024 key",
             jws(A, NA, {"termsOfServiceAgreed": True}, key=weak, signer=rs256, alg="RS256", jwk=True),
             [(400, "badPublicKey")], core)
    off = jwk_of(A.key)
    off["y"] = b64u((int.from_bytes(base64.urlsafe_b64decode(off["y"] + "=="), "big") ^ 1).to_bytes(32, "big"))
    cat.case("newAccount with an off-curve EC point",
             jws(A, NA, {"termsOfServiceAgreed": True}, jwk=True, set_={"jwk": off}), [(400, "badPublicKey")], core)
    cat.case("newAccount with a symmetric (oct) jwk",
             jws(A, NA, {"termsOfServiceAgreed": True}, jwk=True, set_={"jwk": {"kty": "oct", "k": "AAAA"}}),
             [(400, "badPublicKey"), (400, "badSignatureAlgorithm")], core)
    cat.case("kid of an unknown account", jws(A, NO, order_payload, kid=A.kid[:A.kid.rindex("/") + 1] + "nosuchacct"),
             [(400, "accountDoesNotExist")], core)
    cat.case("kid of a deactivated account (7.3.6: 401)", jws(C, NO, order_payload), [(401, "unauthorized")], core)
    cat.case("kid on another host", jws(A, NO, order_payload, kid=A.kid.replace("127.0.0.1", "localhost")),
             [(400, "accountDoesNotExist")], core)
    cat.case("kid with a path traversal", jws(A, NO, order_payload, kid=A.kid.replace("/acct/", "/acct/../acct/")),
             [(400, "accountDoesNotExist")], core)
    cat.case("kid of an account on another server", jws(A, NO, order_payload, kid=E.kid),
             [(400, "accountDoesNotExist")], core)
    cat.case("newAccount with a deactivated account's key (7.3.6: 401)",
             jws(C, NA, {"termsOfServiceAgreed": True}, jwk=True), [(401, "unauthorized")], core)
    cat.case("onlyReturnExisting with a deactivated account's key (7.3.6: 401)",
             jws(C, NA, {"onlyReturnExisting": True}, jwk=True), [(401, "unauthorized")], core)
    cat.case("onlyReturnExisting with an unknown key (7.3.1)",
             jws(A, NA, {"onlyReturnExisting": True}, key=ec.generate_private_key(ec.SECP256R1()), jwk=True),
             [(400, "accountDoesNotExist")], core)

    # -- 5. nonces
    cat.case("nonce missing", jws(A, NO, order_payload, drop=("nonce",)), BADNONCE, core)
    cat.case("nonce empty", jws(A, NO, order_payload, nonce=""), BADNONCE, core)
    cat.case("nonce not base64url", jws(A, NO, order_payload, nonce="n/o+n=ce"), BADNONCE, core)
    cat.case("nonce a number", jws(A, NO, order_payload, set_={"nonce": 12345}), BADNONCE + M, core)
    cat.case("nonce invented", jws(A, NO, order_payload, nonce=b64u(os.urandom(24))), BADNONCE, core)
    used = {}

    def replay():
        # A nonce that a successful request consumed, then again.
        n = A.get_nonce()
        r = send(A, W["pend_url"], build(A, W["pend_url"], None, nonce=n))
        assert r.status == 200, r
        return send(A, NO, build(A, NO, order_payload, nonce=n))
    cat.case("replayed nonce", replay, BADNONCE, core)

    def replay_failed():
        # A nonce consumed by a request that failed later (bad signature).
        n = A.get_nonce()
        send(A, NO, build(A, NO, order_payload, nonce=n, sig_mangle=lambda s: bytes([s[0] ^ 1]) + s[1:]))
        return send(A, NO, build(A, NO, order_payload, nonce=n))
    cat.case("nonce replayed after a rejected request", replay_failed, BADNONCE, core)
    cat.case("nonce of another server", lambda: send(A, NO, build(A, NO, order_payload, nonce=E.get_nonce())),
             BADNONCE, core)
    del used

    # -- 6. url
    cat.case("url missing", jws(A, NO, order_payload, drop=("url",)), M, core)
    cat.case("url of another resource", lambda: send(A, NO, build(A, d["revokeCert"], order_payload)),
             URLMISMATCH, core)
    cat.case("url on another host", jws(A, NO, order_payload, set_={"url": NO.replace("127.0.0.1", "localhost")}),
             URLMISMATCH, core)
    cat.case("url with a query appended", jws(A, NO, order_payload, set_={"url": NO + "?x=1"}), URLMISMATCH, core)
    cat.case("url of the other server", jws(A, NO, order_payload, set_={"url": E.dir["newOrder"]}), URLMISMATCH, core)
    cat.case("url not a string", jws(A, NO, order_payload, set_={"url": ["x"]}), M, core)

    # -- 7. HTTP framing: content type, methods, sizes
    cat.case("Content-Type application/json (6.2: 415)",
             lambda: send(A, NO, build(A, NO, order_payload), content_type="application/json"),
             [(415, "malformed")], core)
    cat.case("no Content-Type", lambda: send(A, NO, build(A, NO, order_payload), content_type=None),
             [(415, "malformed")], core)
    cat.case("Content-Type text/plain", lambda: send(A, NO, build(A, NO, order_payload), content_type="text/plain"),
             [(415, "malformed")], core)
    cat.case("GET on newOrder (6.3: POST only)", lambda: acme.Response(A.s.get(NO, timeout=10)),
             [(405, "malformed")], core)
    cat.case("PUT on newOrder", lambda: acme.Response(A.s.put(NO, data="{}", headers={
        "Content-Type": "application/jose+json"}, timeout=10)), [(405, "malformed")], core)

    # Bodies over the ACME limit (64 KiB), sent in full as ordinary clients
    # do: a 413 problem document the client reads, not a reset.
    TOOBIG = [(413, "malformed")]
    big = b"A" * (2 << 20)
    cat.case("2 MB body sent in full (python requests, HTTP/1.1)", post(A, NO, big), TOOBIG, core)
    cat.case("2 MB body sent in full (curl, HTTP/1.1)", lambda: curl_post(W["srv"], NO, big, http2=False),
             TOOBIG, core)
    cat.case("2 MB body sent in full (curl --http2)", lambda: curl_post(W["srv"], NO, big, http2=True), TOOBIG, core)
    nested = ('{"protected":' + "[" * 100000 + "]" * 100000 + "}").encode()
    cat.case("deeply nested 200 KB body sent in full", post(A, NO, nested), TOOBIG, core)
    cat.case("deeply nested 200 KB body sent in full (curl --http2)",
             lambda: curl_post(W["srv"], NO, nested, http2=True), TOOBIG, core)
    cat.case("oversized body, Content-Length (200 KiB)",
             lambda: raw_post(W["srv"], "/acme/new-order", b"A" * (200 * 1024), {"Content-Length": str(200 * 1024)}),
             TOOBIG, core)
    cat.case("oversized chunked body (200 KiB)",
             lambda: raw_post(W["srv"], "/acme/new-order", b"A" * (200 * 1024), {"Transfer-Encoding": "chunked"}),
             TOOBIG, core)
    cat.case("body over h2o's own cap (9 MiB announced, none sent): its bare 413",
             lambda: raw_post(W["srv"], "/acme/new-order", b"", {"Content-Length": str(9 << 20)}),
             [(413, None)], core, "h2o answers before reading and closes; docs/ca-policy.md")
    cat.case("deeply nested payload", jws(A, NO, None, payload_raw='{"identifiers":' + "[" * 200 + "]" * 200 + "}"),
             M, core)
    cat.case("deeply nested protected header",
             jws(A, NO, order_payload, set_={"x": json.loads("[" * 60 + "]" * 60)}), M, core)
    cat.case("deeply nested outer JSON", post(A, NO, '{"protected":' + "[" * 500 + "]" * 500 + "}"), M, core)

    def dup_protected():
        n = A.get_nonce()
        raw = '{"alg":"ES256","kid":"%s","nonce":"%s","url":"%s","url":"%s"}' % (A.kid, n, NO, d["revokeCert"])
        return send(A, NO, build(A, NO, order_payload, protected_raw=raw))
    cat.case("duplicate member in the protected header", dup_protected, M, core)

    def dup_outer():
        j = build(A, NO, order_payload)
        other = b64u(json.dumps({"identifiers": [{"type": "dns", "value": "other.example.com"}]}))
        raw = '{"protected":"%s","payload":"%s","payload":"%s","signature":"%s"}' % (
            j["protected"], j["payload"], other, j["signature"])
        return send(A, NO, raw)
    cat.case("duplicate member in the outer JWS", dup_outer, M, core)
    cat.case("duplicate member in the payload", jws(A, NO, None, payload_raw=(
        '{"identifiers":[{"type":"dns","value":"a.example.com"}],'
        '"identifiers":[{"type":"dns","value":"b.example.com"}]}')), M, core)
    cat.case("payload is a JSON array", jws(A, NO, ["identifiers"]), M, core)
    cat.case("payload with invalid UTF-8", jws(A, NO, None, payload_raw=b'{"identifiers":"\xff\xfe"}'), M, core)
    cat.case("payload with a NUL byte", jws(A, NO, None, payload_raw=b'{"identifiers":[]}\x00{}'), M, core)
    cat.case("POST-as-GET to newOrder", jws(A, NO, None), M, core)

    # -- 8. unknown objects and other accounts' objects
    base = A.kid[:A.kid.index("/acme/")]
    for kind in ("order", "authz", "chall", "cert"):
        u = f"{base}/acme/{kind}/doesnotexist0"
        cat.case(f"unknown {kind}", jws(A, u, None), [(404, "malformed")], core)
    cat.case("unknown path", jws(A, base + "/acme/nothing-here", None), [(404, "malformed")], core)
    cat.case("bob reads alice's order", jws(B, W["pend_url"], None), FOREIGN, core)
    cat.case("bob reads alice's authorization", jws(B, W["pend"]["authorizations"][0], None), FOREIGN, core)
    cat.case("bob responds to alice's challenge", jws(B, W["pend_ch"]["url"], {}), FOREIGN, core)
    cat.case("bob reads alice's account", jws(B, A.kid, None), FOREIGN, core)
    cat.case("bob deactivates alice's account", jws(B, A.kid, {"status": "deactivated"}), FOREIGN, core)
    cat.case("bob deactivates alice's authorization",
             jws(B, W["pend"]["authorizations"][0], {"status": "deactivated"}), FOREIGN, core)
    cat.case("bob finalizes alice's ready order",
             jws(B, W["ready"]["finalize"], {"csr": b64u(csr_der(["ready.example.com"]))}), FOREIGN, core)
    cat.case("bob lists alice's orders", jws(B, A.kid + "/orders", None), FOREIGN, core)
    cat.case("bob fetches alice's certificate", jws(B, W["iss"]["certificate"], None), FOREIGN, core)

    # -- 9. account updates
    cat.case("account status set to valid", jws(A, A.kid, {"status": "valid"}), M, core)
    cat.case("account status set to revoked", jws(A, A.kid, {"status": "revoked"}), M, core)
    cat.case("account contact tel:", jws(A, A.kid, {"contact": ["tel:+15555550100"]}),
             [(400, "unsupportedContact")], core)
    cat.case("account contact not an address", jws(A, A.kid, {"contact": ["mailto:no-at-sign"]}),
             [(400, "invalidContact")], core)
    cat.case("account contact with a header injection",
             jws(A, A.kid, {"contact": ["mailto:a@example.com?bcc=b@example.com"]}), [(400, "invalidContact")], core)
    cat.case("account contact not a list", jws(A, A.kid, {"contact": "mailto:a@example.com"}), M, core)
    cat.case("newAccount without agreeing to the ToS",
             jws(A, NA, {"contact": ["mailto:x@example.com"]}, key=ec.generate_private_key(ec.SECP256R1()),
                 jwk=True), M + [(403, "userActionRequired")], core)

    # -- 10. newOrder payloads
    cat.case("no identifiers", jws(A, NO, {"identifiers": []}), M, core)
    cat.case("identifiers not a list", jws(A, NO, {"identifiers": {"type": "dns"}}), M, core)
    cat.case("identifier type email", jws(A, NO, {"identifiers": [{"type": "email", "value": "a@example.com"}]}),
             [(400, "unsupportedIdentifier")], core)
    cat.case("IP address as a dns identifier", jws(A, NO, {"identifiers": [{"type": "dns", "value": "192.0.2.1"}]}),
             [(400, "rejectedIdentifier")], core)
    cat.case("invalid DNS name", jws(A, NO, {"identifiers": [{"type": "dns", "value": "a..example.com"}]}),
             [(400, "rejectedIdentifier")], core)
    cat.case("DNS name with a NUL escape", jws(A, NO, {"identifiers": [{"type": "dns", "value": "a\u0000.example.com"}]}),
             [(400, "rejectedIdentifier"), (400, "malformed")], core)
    cat.case("single-label name", jws(A, NO, {"identifiers": [{"type": "dns", "value": "localhost"}]}),
             [(400, "rejectedIdentifier")], core)
    cat.case("wildcard in the middle", jws(A, NO, {"identifiers": [{"type": "dns", "value": "a.*.example.com"}]}),
             [(400, "rejectedIdentifier")], core)
    cat.case("not an IP address (ip type)", jws(A, NO, {"identifiers": [{"type": "ip", "value": "999.1.1.1"}]}),
             M + [(400, "rejectedIdentifier")], core)
    cat.case("101 identifiers", jws(A, NO, {"identifiers": [{"type": "dns", "value": f"n{i}.example.com"}
                                                            for i in range(101)]}),
             [(400, "rejectedIdentifier"), (400, "malformed")], core)
    cat.case("notBefore not a time", jws(A, NO, dict(order_payload, notBefore="yesterday")), M, core)
    cat.case("unknown profile", jws(A, NO, dict(order_payload, profile="no-such-profile")),
             [(400, "invalidProfile")], core)
    cat.case("replaces an unknown certificate", jws(A, NO, dict(order_payload, replaces="AAAA.BBBB")), M, core)
    issued_payload = {"identifiers": [{"type": "dns", "value": "issued.example.com"}]}
    cat.case("replaces a certificate another live order replaces (RFC 9773 5: 409)",
             jws(A, NO, dict(issued_payload, replaces=W["cert_id"])), [(409, "alreadyReplaced")], core)
    cat.case("replaces a certificate for none of the order's names (RFC 9773 5)",
             jws(A, NO, dict(order_payload, replaces=W["cert_id"])), M, core)
    now = time.time()
    cat.case("notBefore 1990-01-01, notAfter 9999-12-31 (7.4: cannot fulfil)",
             jws(A, NO, dict(order_payload, notBefore="1990-01-01T00:00:00Z", notAfter="9999-12-31T23:59:59Z")),
             M, core)
    cat.case("notAfter 9999-12-31 (would outlive the issuing chain)",
             jws(A, NO, dict(order_payload, notAfter="9999-12-31T23:59:59Z")), M, core)
    cat.case("notAfter before notBefore",
             jws(A, NO, dict(order_payload, notBefore=utc(now + 600), notAfter=utc(now + 60))), M, core)
    cat.case("notAfter before now", jws(A, NO, dict(order_payload, notAfter=utc(now - 60))), M, core)
    cat.case("notBefore two hours ahead", jws(A, NO, dict(order_payload, notBefore=utc(now + 7200))), M, core)
    cat.case("notBefore two hours past", jws(A, NO, dict(order_payload, notBefore=utc(now - 7200))), M, core)
    cat.case("validity of 100 days (the CA issues 90)",
             jws(A, NO, dict(order_payload, notAfter=utc(now + 100 * 86400))), M, core)

    # -- 11. finalize
    fin = W["ready"]["finalize"]
    cat.case("finalize a pending order (7.4: orderNotReady)",
             jws(A, W["pend"]["finalize"], {"csr": b64u(csr_der(["pending.example.com"]))}),
             [(403, "orderNotReady")], core)
    cat.case("finalize an invalid order", jws(A, W["fail"]["finalize"], {"csr": b64u(csr_der(["fail.example.com"]))}),
             [(403, "orderNotReady")], core)
    cat.case("finalize a valid order again", jws(A, W["iss"]["finalize"],
                                                 {"csr": b64u(csr_der(["issued.example.com"]))}),
             [(403, "orderNotReady")], core)
    cat.case("CSR for a name not in the order", jws(A, fin, {"csr": b64u(csr_der(["other.example.com"]))}),
             [(400, "badCSR")], core)
    cat.case("CSR with an extra name", jws(A, fin, {"csr": b64u(csr_der(["ready.example.com", "x.example.com"]))}),
             [(400, "badCSR")], core)
    cat.case("CSR with the account key", jws(A, fin, {"csr": b64u(csr_der(["ready.example.com"], A.key))}),
             [(400, "badCSR")], core)
    cat.case("CSR with an RSA-1024 key", jws(A, fin, {"csr": b64u(csr_der(["ready.example.com"], weak))}),
             [(400, "badCSR")], core)
    # Keys and signatures a CA must refuse (rules/key_policy.c, csr_policy.c);
    # tests/e2e/ca_policy.py shows that the same hand-made CSR with a sound
    # key is issued.
    rn = ["ready.example.com"]
    for what, key, digest in (
            ("RSA exponent 1 (the signature is the padded digest)", weak_keys.exponent(1), "sha256"),
            ("RSA exponent 3", weak_keys.exponent(3), "sha256"),
            ("RSA modulus divisible by 3", weak_keys.small_factor(), "sha256"),
            ("RSA primes too close (Fermat)", weak_keys.close_primes(), "sha256"),
            ("RSA key of Infineon's form (ROCA)", weak_keys.roca(), "sha256"),
            ("signed with MD5", weak_keys.good(), "md5"),
            ("signed with SHA-1", weak_keys.good(), "sha1")):
        cat.case(f"CSR: {what}", jws(A, fin, {"csr": b64u(weak_keys.rsa_csr_der(rn, key, digest))}),
                 [(400, "badCSR")], core)
    cat.case("CSR with bob's account key (11.1: any known account key)",
             jws(A, fin, {"csr": b64u(csr_der(rn, B.key))}), [(400, "badCSR")], core)
    cat.case("CSR with a deactivated account's key", jws(A, fin, {"csr": b64u(csr_der(rn, C.key))}),
             [(400, "badCSR")], core)
    der = bytearray(csr_der(["ready.example.com"]))
    der[-5] ^= 0x40
    cat.case("CSR with a broken signature", jws(A, fin, {"csr": b64u(bytes(der))}), [(400, "badCSR")], core)
    cat.case("CSR is not DER", jws(A, fin, {"csr": b64u(b"\x30\x03\x02\x01")}), [(400, "badCSR")], core)
    cat.case("CSR is not base64url", jws(A, fin, {"csr": "a+b/c=="}), [(400, "badCSR"), (400, "malformed")], core)
    cat.case("CSR in PEM", jws(A, fin, {"csr": b64u(x509.load_der_x509_csr(csr_der(["ready.example.com"])).public_bytes(
        serialization.Encoding.PEM))}), [(400, "badCSR")], core)
    cat.case("finalize without a csr", jws(A, fin, {}), M, core)

    # -- 12. challenges and re-enabling (draft-aro-acme-retry-options)
    retry_url = W["fail_az"]["retry-options"]["url"]
    offered = W["fail_az"]["retry-options"]["challenges"][0]["url"]
    cat.case("bare POST to the failed challenge of an invalid authorization",
             jws(A, W["fail_ch"]["url"], {}), M + [(403, "unauthorized")], core)
    cat.case("re-enable by another account", jws(B, retry_url, {"challenge": offered}), FOREIGN, core)
    cat.case("re-enable by a deactivated account", jws(C, retry_url, {"challenge": offered}),
             [(401, "unauthorized")], core)
    cat.case("re-enable naming a challenge not offered",
             jws(A, retry_url, {"challenge": W["pend_ch"]["url"]}), M + [(403, "retryNotAllowed")], core)
    cat.case("re-enable naming a URL on another host",
             jws(A, retry_url, {"challenge": offered.replace("127.0.0.1", "localhost")}),
             M + [(403, "retryNotAllowed")], core)
    cat.case("re-enable without a payload", jws(A, retry_url, None), M, core)
    cat.case("re-enable with a non-string challenge", jws(A, retry_url, {"challenge": 1}), M, core)
    cat.case("re-enable before notBefore", jws(A, retry_url, {"challenge": offered}), [(429, "rateLimited")], core)
    cat.case("re-enable a pending authorization",
             jws(A, W["pend"]["authorizations"][0] + "/retry", {"challenge": W["pend_ch"]["url"]}),
             [(403, "retryNotAllowed")], core)
    cat.case("re-enable a valid authorization", jws(A, W["ready_az_url"] + "/retry", {"challenge": offered}),
             [(403, "retryNotAllowed")], core)
    cat.case("re-enable an unknown authorization", jws(A, f"{base}/acme/authz/doesnotexist0/retry",
                                                       {"challenge": offered}), [(404, "malformed")], core)
    cat.case("authorization update other than deactivation",
             jws(A, W["pend"]["authorizations"][0], {"status": "valid"}), M, core)
    cat.case("order update (orders are read-only)", jws(A, W["pend_url"], {"status": "ready"}), M, core)

    # -- 13. revocation and key change
    RC = d["revokeCert"]
    cder = b64u(W["cert_der"])
    cat.case("revoke with reason 7 (unused)", jws(A, RC, {"certificate": cder, "reason": 7}),
             [(400, "badRevocationReason")], core)
    cat.case("revoke with reason 2 (CA compromise)", jws(A, RC, {"certificate": cder, "reason": 2}),
             [(400, "badRevocationReason")], core)
    cat.case("revoke with reason 6 (certificateHold: the BRs forbid it)",
             jws(A, RC, {"certificate": cder, "reason": 6}), [(400, "badRevocationReason")], core)
    cat.case("revoke with reason 9 (privilegeWithdrawn: the CA's to decide)",
             jws(A, RC, {"certificate": cder, "reason": 9}), [(400, "badRevocationReason")], core)
    cat.case("payload on the certificate URL (6.3: POST-as-GET only)", jws(A, W["iss"]["certificate"], {}),
             M, core)
    cat.case("payload on the orders list URL (6.3)", jws(A, A.kid + "/orders", {}), M, core)
    cat.case("bob revokes alice's certificate", jws(B, RC, {"certificate": cder}), [(403, "unauthorized")], core)
    cat.case("revoke signed by a stranger's jwk",
             jws(A, RC, {"certificate": cder}, key=ec.generate_private_key(ec.SECP256R1()), jwk=True),
             [(403, "unauthorized")], core)
    cat.case("revoke garbage", jws(A, RC, {"certificate": b64u(b"garbage")}), [(400, "malformed"), (404, "malformed")],
             core)
    KC = d["keyChange"]
    new = ec.generate_private_key(ec.SECP256R1())

    def keychange(inner_url=KC, inner_key=new, inner_jwk_key=None, account=None, old=None):
        def fn():
            inner = build(A, inner_url, {"account": account or A.kid, "oldKey": jwk_of(old or A.key)},
                          key=inner_key, jwk=True, drop=("nonce",), nonce="x")
            if inner_jwk_key:
                p = json.loads(base64.urlsafe_b64decode(inner["protected"] + "=="))
                p["jwk"] = jwk_of(inner_jwk_key)
                inner = build(A, inner_url, {"account": account or A.kid, "oldKey": jwk_of(old or A.key)},
                              key=inner_key, protected_raw=json.dumps(p))
            return send(A, KC, build(A, KC, inner))
        return fn
    cat.case("key change: inner url differs", keychange(inner_url=NO), M, core)
    cat.case("key change: to bob's key (7.3.5: 409, typed malformed)", keychange(inner_key=B.key), [(409, "malformed")], core)
    cat.case("key change: inner signed by another key than its jwk",
             keychange(inner_jwk_key=ec.generate_private_key(ec.SECP256R1())), M, core)
    cat.case("key change: oldKey is not the account key", keychange(old=B.key), M, core)
    cat.case("key change: account is bob", keychange(account=B.kid), M, core)


# ---- limits, the address policy and a full store -------------------------
# Each refusal is a case like those above: status, problem type, a
# Replay-Nonce, and a store byte-identical before and after; a rateLimited
# one also carries Retry-After and a detail naming the limit.

def limited(name, retry=True):
    def check(r):
        detail = (r.json or {}).get("detail", "")
        assert name in detail, f"the detail does not name {name}: {detail!r}"
        if retry:
            ra = r.headers.get("Retry-After", "")
            assert ra.isdigit() and int(ra) > 0, f"Retry-After {ra!r}"
        else:
            assert "Retry-After" not in r.headers, "Retry-After on a refusal no wait can lift"
    return check


def store_full(r):
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit() and int(ra) > 0, f"Retry-After {ra!r}"
    assert "full" in (r.json or {}).get("detail", ""), r.text


def issue(c, cts, names):
    """A certificate for names (http-01 through challtestsrv)."""
    r = c.new_order(*names)
    assert r.status == 201, r
    for az_url in r.json["authorizations"]:
        az = c.authz(az_url).json
        if az["status"] == "valid":
            continue
        ch = c.challenge_of(az, "http-01")
        cts.add_http01(ch["token"], c.key_authz(ch["token"]))
        assert c.post(ch["url"], {}).status == 200
        c.poll(az_url, lambda j: j["status"] == "valid")
    c.poll(r.url, lambda j: j["status"] == "ready")
    f = c.post(r.json["finalize"], {"csr": b64u(csr_der(names))})
    assert f.status == 200, f
    c.poll(r.url, lambda j: j["status"] == "valid")


def limits_catalogue(h, run, cts):
    """One small server per limit, so that each is met alone. Returns how
    many cases it tried."""
    cats = []

    def server(config, flags=()):
        srv = h.server(cts, config=config, flags=list(flags))
        c = acme.Client(srv.directory, srv.ca_file)
        c.new_account()
        cats.append(Catalogue(run, srv))
        return srv, c, cats[-1]

    def new_order(c, *names, ip=False):
        ids = [{"type": "ip" if ip else "dns", "value": n} for n in names]
        return lambda: send(c, c.dir["newOrder"], build(c, c.dir["newOrder"], {"identifiers": ids}))

    srv, c, cat = server({"identifiersPerOrder": 3})
    cat.case("limit identifiersPerOrder: 4 names where 3 are allowed (no wait lifts it)",
             new_order(c, *[f"n{i}.example.com" for i in range(4)]), [(400, "rejectedIdentifier")], [(c, c.kid)],
             check=limited("identifiersPerOrder", retry=False))
    srv.stop()

    srv, c, cat = server({"newOrdersPerAccount": 2, "newOrdersPerAccountWindowSeconds": 3600})
    for n in ("o1.example.com", "o2.example.com"):
        assert c.new_order(n).status == 201
    cat.case("limit newOrdersPerAccount: the third order in the window", new_order(c, "o3.example.com"),
             [(429, "rateLimited")], [(c, c.kid)], check=limited("newOrdersPerAccount"))
    other = acme.Client(srv.directory, srv.ca_file)
    other.new_account()
    assert other.new_order("o3.example.com").status == 201, "another account was limited by this one's orders"
    srv.stop()

    srv, c, cat = server({"pendingOrdersPerAccount": 2})
    urls = [c.new_order(n).url for n in ("p1.example.com", "p2.example.com")]
    cat.case("limit pendingOrdersPerAccount: a third unfinished order", new_order(c, "p3.example.com"),
             [(429, "rateLimited")], [(c, u) for u in urls], check=limited("pendingOrdersPerAccount"))
    srv.stop()

    srv, c, cat = server({"pendingAuthorizationsPerAccount": 3})
    r = c.new_order("a1.example.com", "a2.example.com", "a3.example.com")
    assert r.status == 201, r
    cat.case("limit pendingAuthorizationsPerAccount: one more pending authorization",
             new_order(c, "a4.example.com"), [(429, "rateLimited")], [(c, r.url)],
             check=limited("pendingAuthorizationsPerAccount"))
    fresh = acme.Client(srv.directory, srv.ca_file)
    fresh.new_account()
    cat.case("limit pendingAuthorizationsPerAccount: one order with more than the limit",
             new_order(fresh, *[f"b{i}.example.com" for i in range(4)]), [(429, "rateLimited")], [(fresh, fresh.kid)],
             check=limited("pendingAuthorizationsPerAccount"))
    srv.stop()

    srv, c, cat = server({"duplicateCertificates": 1, "certificatesPerDomain": 2})
    issue(c, cts, ["www.limits.test"])
    cat.case("limit duplicateCertificates: the same set again", new_order(c, "www.limits.test"),
             [(429, "rateLimited")], [(c, c.kid)], check=limited("duplicateCertificates"))
    issue(c, cts, ["api.limits.test"])
    cat.case("limit certificatesPerDomain: a third name under limits.test",
             new_order(c, "mail.limits.test"), [(429, "rateLimited")], [(c, c.kid)],
             check=limited("certificatesPerDomain"))
    # co.uk is a public suffix: example.co.uk and other.co.uk are two
    # registered domains (without the list they would both be "co.uk").
    issue(c, cts, ["a.example.co.uk"])
    issue(c, cts, ["b.example.co.uk"])
    cat.case("limit certificatesPerDomain: per registered domain of the public suffix list (example.co.uk)",
             new_order(c, "c.example.co.uk"), [(429, "rateLimited")], [(c, c.kid)],
             check=limited('"example.co.uk"'))
    assert c.new_order("c.other.co.uk").status == 201, "other.co.uk was counted with example.co.uk"
    srv.stop()

    # IP identifiers the validation would refuse to contact are refused at
    # newOrder already, before anything is stored (va/address.c).
    srv, c, cat = server({}, flags=["--deny-private-targets"])
    for value in ("64:ff9b::7f00:1", "64:ff9b:1::808:808", "2002:a00:1::1", "2001:0:7f00:1::f7f7:f7f7",
                  "::127.0.0.1", "::ffff:10.0.0.1", "fec0::1", "100::1", "2001:db8::1", "3fff::1",
                  "192.0.0.9", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1", "192.88.99.1",
                  "240.0.0.1", "127.0.0.1", "10.0.0.1"):
        cat.case(f"deny-private: ip identifier {value} at newOrder", new_order(c, value, ip=True),
                 [(400, "rejectedIdentifier")], [(c, c.kid)], check=limited("globally reachable", retry=False))
    srv.stop()

    # A full store: writes are refused with 503 and Retry-After, reads work,
    # nothing is half-written (the dump is unchanged).
    srv, c, cat = server({"storeMapSizeMiB": 1})
    # 100-name orders until one is refused, then 1-name orders until five
    # in a row are: what room is left is then far less than a 100-name
    # order needs (how many pages a 1-name order needs depends on where
    # its random ids split the B-trees, so one may still fit now and then).
    acked, fails, size = [], 0, 100
    for i in range(400):
        if fails == 5:
            break
        r = c.new_order(*[f"f{j}.o{i}.example.com" for j in range(size)])
        if r.status == 201:
            acked.append(r.url)
            fails = 0
        else:
            assert (r.status, r.problem) == (503, "serverInternal"), r
            fails, size = (fails + 1 if size == 1 else 0), 1
    assert fails == 5 and acked, f"the 1 MiB store never filled ({len(acked)} orders)"
    cat.case("full store: newOrder (100 names)", new_order(c, *[f"x{j}.full.example.com" for j in range(100)]),
             [(503, "serverInternal")], [(c, u) for u in acked[:3]], check=store_full)
    cat.case("full store: reading an order still works", jws(c, acked[-1], None), [(200, None)], [(c, acked[0])])
    srv.stop()
    return sum(x.cases for x in cats)


def jws(c, url, payload, **kw):
    return lambda: send(c, url, build(c, url, payload, **kw))


def expire_objects(h, W):
    """Stop the server, move the expiry of alice's ready order, the pending
    authorization, the invalid one and the lapsed order's (valid)
    authorization into the past in a copy of the store, and start the
    server on it again."""
    ids = [u.rsplit("/", 1)[1] for u in (W["ready_url"], W["pend"]["authorizations"][0], W["fail_az_url"],
                                          W["lapsed_az_url"])]
    past = int(time.time()) - 7200

    def edit(text):
        if any(f'"id":"{x}"' in text for x in ids) and '"expires":' in text:
            return re.sub(r'"expires":\d+', f'"expires":{past}', text)
        return text
    changed = W["srv"].edit_store(edit)
    assert changed >= 4, f"found {changed} records to expire"
    for c in (W["alice"], W["bob"], W["carol"]):
        c.nonce = None  # the restarted server has a new nonce key


def expired_catalogue(cat, W):
    A = W["alice"]
    core = [(A, A.kid), (A, W["pend_url"]), (A, W["ready_url"]), (A, W["fail_url"]), (A, W["fail_az_url"]),
            (A, W["lapsed_url"])]

    def lapsed_reads_invalid():
        # 7.1.6: the order follows its expired authorization; reading it
        # says so (and reading writes nothing: the case checks the store).
        r = A.get(W["lapsed_url"])
        assert r.status == 200 and r.json["status"] == "invalid", r
        assert r.json["error"]["subproblems"][0]["identifier"]["value"] == "lapsed.example.com", r.json
        return send(A, W["lapsed"]["finalize"], build(A, W["lapsed"]["finalize"],
                                                      {"csr": b64u(csr_der(["lapsed.example.com"]))}))
    cat.case("expired: finalize a ready order whose authorization expired (7.1.6)", lapsed_reads_invalid,
             [(403, "orderNotReady")], core)
    cat.case("expired: finalize an order past its expiry",
             lambda: send(A, W["ready"]["finalize"], build(A, W["ready"]["finalize"],
                                                         {"csr": b64u(csr_der(["ready.example.com"]))})),
             [(403, "orderNotReady")], core)
    cat.case("expired: respond to a challenge of an expired authorization",
             lambda: send(A, W["pend_ch"]["url"], build(A, W["pend_ch"]["url"], {})),
             malformed() + [(403, "unauthorized")], core)
    offered = W["fail_az"]["retry-options"]["challenges"][0]["url"]
    cat.case("expired: re-enable past the authorization's expiry",
             lambda: send(A, W["fail_az"]["retry-options"]["url"],
                          build(A, W["fail_az"]["retry-options"]["url"], {"challenge": offered})),
             [(403, "retryNotAllowed")], core)
    cat.case("expired: deactivate an expired authorization",
             lambda: send(A, W["pend"]["authorizations"][0],
                          build(A, W["pend"]["authorizations"][0], {"status": "deactivated"})), malformed(), core)


def main():
    if not MDB_DUMP or not MDB_LOAD:
        print("mdb_dump/mdb_load (lmdb-utils) missing: skipped")
        sys.exit(77)
    run = TestRun()
    t0 = time.time()
    with Harness() as h:
        W = setup(h)
        print(f"setup done in {time.time() - t0:.1f}s", flush=True)
        # Control: the detector sees a real change (a new order) at all.
        before = store_dump(W["srv"])
        assert W["bob"].new_order("control.example.com").status == 201
        assert store_dump(W["srv"]) != before, "mdb_dump does not see a new order"
        cat = Catalogue(run, W["srv"])
        catalogue(cat, W)
        expire_objects(h, W)
        expired_catalogue(cat, W)
        more = limits_catalogue(h, run, W["cts"])
        # The server survived all of it: still answering, and it stops
        # cleanly (under ASan/LSan a leak or error shows in the exit
        # status and the log).
        def survived():
            r = W["alice"].get(W["pend_url"])
            assert r.status == 200, r
            rc = W["srv"].stop()
            log = open(W["srv"].log_path).read()
            for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error", "Segmentation", "Aborted"):
                assert bad not in log, f"server log mentions {bad}:\n" + sanitizer_report(log)
            assert rc == 0, f"aro-server exited with {rc}"
        run.case("server still answering, then exits cleanly", survived)
    print(f"hostile cases tried: {cat.cases + more} in {time.time() - t0:.0f}s")
    if cat.mismatches:
        print("cases where the server's answer differs from the expected:")
        for name, exp, got, text in cat.mismatches:
            print(f"  {name}: expected {exp}, got {got}: {text}")
    run.finish()


if __name__ == "__main__":
    main()
