"""A raw ACME client for tests: every request is built here, by hand, so
tests can send exactly what a legacy or hostile client sends (a bare {}
to a challenge, a re-enable naming an unlisted challenge, another
account's kid) and see every status and header. ES256 account keys.
Written from RFC 8555 and the draft; it shares no code with aro."""
import base64
import hashlib
import json
import time

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ari_cert_id(pem):
    """RFC 9773 4.1 CertID of a PEM certificate (its first)."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    serial = cert.serial_number
    raw = serial.to_bytes((serial.bit_length() + 8) // 8, "big")  # DER: leading zero if high bit
    return f"{b64u(aki)}.{b64u(raw)}"


class Response:
    def __init__(self, r):
        self.status = r.status_code
        self.headers = r.headers
        self.text = r.text
        try:
            self.json = r.json()
        except ValueError:
            self.json = None

    @property
    def problem(self):
        if self.json and isinstance(self.json, dict) and "type" in self.json:
            return self.json["type"].replace("urn:ietf:params:acme:error:", "")
        return None

    def __repr__(self):
        return f"<{self.status} {self.text[:300]}>"


class Client:
    def __init__(self, directory, ca_file, key=None):
        self.s = requests.Session()
        self.s.trust_env = False  # REQUESTS_CA_BUNDLE would override verify (requests 2.28)
        self.s.verify = ca_file
        self.dir = self.s.get(directory, timeout=10).json()
        self.key = key or ec.generate_private_key(ec.SECP256R1())
        self.kid = None
        self.nonce = None
        self.requests = 0

    # --- JOSE ---
    def jwk(self, key=None):
        pub = (key or self.key).public_key().public_numbers()
        return {"crv": "P-256", "kty": "EC", "x": b64u(pub.x.to_bytes(32, "big")),
                "y": b64u(pub.y.to_bytes(32, "big"))}

    def thumbprint(self):
        canon = json.dumps(self.jwk(), sort_keys=True, separators=(",", ":"))
        return b64u(hashlib.sha256(canon.encode()).digest())

    def key_authz(self, token):
        return f"{token}.{self.thumbprint()}"

    def dns_value(self, token):
        return b64u(hashlib.sha256(self.key_authz(token).encode()).digest())

    def sign(self, url, payload, use_jwk=False, key=None, kid=None, nonce=None):
        key = key or self.key
        protected = {"alg": "ES256", "nonce": nonce or self.get_nonce(), "url": url}
        if use_jwk:
            protected["jwk"] = self.jwk(key)
        else:
            protected["kid"] = kid or self.kid
        p64 = b64u(json.dumps(protected))
        body = "" if payload is None else b64u(json.dumps(payload))
        der = key.sign(f"{p64}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        sig = b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        return {"protected": p64, "payload": body, "signature": sig}

    def get_nonce(self):
        if self.nonce:
            n, self.nonce = self.nonce, None
            return n
        r = self.s.head(self.dir["newNonce"], timeout=10)
        return r.headers["Replay-Nonce"]

    def post(self, url, payload, use_jwk=False, raw=None, content_type="application/jose+json", **kw):
        body = raw if raw is not None else json.dumps(self.sign(url, payload, use_jwk=use_jwk, **kw))
        r = self.s.post(url, data=body, headers={"Content-Type": content_type}, timeout=30)
        self.requests += 1
        self.nonce = r.headers.get("Replay-Nonce")
        return Response(r)

    def get(self, url):
        """POST-as-GET (6.3)."""
        return self.post(url, None)

    # --- flows ---
    def new_account(self, **extra):
        payload = {"termsOfServiceAgreed": True, "contact": ["mailto:test@example.com"]}
        payload.update(extra)
        r = self.post(self.dir["newAccount"], payload, use_jwk=True)
        assert r.status in (200, 201), r
        self.kid = r.headers["Location"]
        return r

    def new_order(self, *names, ip=False, **extra):
        ids = [{"type": "ip" if ip else "dns", "value": n} for n in names]
        payload = {"identifiers": ids}
        payload.update(extra)
        r = self.post(self.dir["newOrder"], payload)
        if r.status == 201:
            r.url = r.headers["Location"]
        return r

    def authz(self, url):
        return self.get(url)

    def challenge_of(self, authz_json, ctype):
        for c in authz_json["challenges"]:
            if c["type"] == ctype:
                return c
        raise AssertionError(f"no {ctype} challenge in {authz_json}")

    def poll(self, url, done, timeout=60):
        """Poll url (POST-as-GET) until done(json) is true."""
        deadline = time.time() + timeout
        while True:
            r = self.get(url)
            if r.json is not None and done(r.json):
                return r
            if time.time() > deadline:
                raise AssertionError(f"timed out polling {url}: last {r}")
            time.sleep(0.1)

    def poll_authz_final(self, url, timeout=60):
        return self.poll(url, lambda j: j["status"] != "pending" or
                         all(c["status"] in ("valid", "invalid") for c in j["challenges"] if c["status"] != "pending")
                         and not any(c["status"] == "processing" for c in j["challenges"]) and
                         any(c["status"] in ("valid", "invalid") for c in j["challenges"]) and j["status"] != "pending",
                         timeout)

    def wait_authz(self, url, timeout=60):
        """Wait until no challenge of the authorization is processing."""
        return self.poll(url, lambda j: not any(c["status"] == "processing" for c in j["challenges"]), timeout)

    def finalize(self, order, names, ip=False):
        key = ec.generate_private_key(ec.SECP256R1())
        from ipaddress import ip_address
        sans = [x509.IPAddress(ip_address(n)) if ip else x509.DNSName(n) for n in names]
        b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        csr = b.sign(key, hashes.SHA256())
        der = csr.public_bytes(serialization.Encoding.DER)
        r = self.post(order["finalize"], {"csr": b64u(der)})
        return r, key

    def csr_for(self, names, key=None):
        key = key or ec.generate_private_key(ec.SECP256R1())
        b = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        return b64u(b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)), key
