#!/usr/bin/python3
"""Writes the synthetic seed corpora of tests/fuzz/corpus/{jws,csr,payload,json}.

Seeds are small, real examples of what each harness parses: signed
requests with every allowed algorithm, key-change and EAB inner JWS,
CSRs with DNS, IP and CN names, newOrder/newAccount/finalize/re-enable
payloads. corpus/objects/ holds responses captured from a running
aro-server and is not regenerated here. Run once; the output is checked
in, so fuzzing needs no Python.
"""
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = "https://acme.test:14000"
# Must match hmac_key in fuzz_jws.c so that EAB seeds verify.
EAB_KEY = b"aro-fuzz-eab-mac-key-0123456789\0"


def b64u(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def n2b(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


def jwk(key):
    pub = key.public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey):
        size = (pub.curve.key_size + 7) // 8
        nums = pub.public_numbers()
        crv = {256: "P-256", 384: "P-384"}[pub.curve.key_size]
        return {"crv": crv, "kty": "EC", "x": b64u(n2b(nums.x, size)), "y": b64u(n2b(nums.y, size))}
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        return {"e": b64u(n2b(nums.e)), "kty": "RSA", "n": b64u(n2b(nums.n))}
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"crv": "Ed25519", "kty": "OKP", "x": b64u(raw)}


def alg(key):
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: "ES256", 384: "ES384"}[key.curve.key_size]
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    return "EdDSA"


def sign_raw(key, data):
    if isinstance(key, ec.EllipticCurvePrivateKey):
        h = hashes.SHA256() if key.curve.key_size == 256 else hashes.SHA384()
        size = (key.curve.key_size + 7) // 8
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h)))
        return n2b(r, size) + n2b(s, size)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data)


def jws(key, protected, payload):
    p64 = b64u(json.dumps(protected))
    body = "" if payload is None else b64u(payload if isinstance(payload, str) else json.dumps(payload))
    sig = b64u(sign_raw(key, f"{p64}.{body}".encode()))
    return json.dumps({"protected": p64, "payload": body, "signature": sig})


def write(dirname, name, data):
    d = os.path.join(HERE, "corpus", dirname)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def make_jws():
    keys = {"es256": ec.generate_private_key(ec.SECP256R1()), "es384": ec.generate_private_key(ec.SECP384R1()),
            "rs256": rsa.generate_private_key(65537, 2048), "eddsa": ed25519.Ed25519PrivateKey.generate()}
    nonce = b64u(os.urandom(16))
    for name, k in keys.items():
        write("jws", f"newaccount-{name}", jws(k, {"alg": alg(k), "jwk": jwk(k), "nonce": nonce,
                                                   "url": BASE + "/acme/new-account"},
                                               {"termsOfServiceAgreed": True, "contact": ["mailto:a@example.com"]}))
    k = keys["es256"]
    kid = BASE + "/acme/acct/AbCdEf012345"
    write("jws", "neworder-kid", jws(k, {"alg": "ES256", "kid": kid, "nonce": nonce, "url": BASE + "/acme/new-order"},
                                     {"identifiers": [{"type": "dns", "value": "example.com"}]}))
    write("jws", "post-as-get-kid", jws(k, {"alg": "ES256", "kid": kid, "nonce": nonce,
                                            "url": BASE + "/acme/order/x"}, None))
    write("jws", "post-as-get-jwk", jws(k, {"alg": "ES256", "jwk": jwk(k), "nonce": nonce,
                                            "url": BASE + "/acme/revoke-cert"}, None))
    # Key change inner (7.3.5): jwk of the new key, url, no nonce.
    new = ec.generate_private_key(ec.SECP256R1())
    write("jws", "keychange-inner", jws(new, {"alg": "ES256", "jwk": jwk(new), "url": BASE + "/acme/key-change"},
                                        {"account": kid, "oldKey": jwk(k)}))
    # EAB inner (7.3.4): HS256 over the account JWK.
    p64 = b64u(json.dumps({"alg": "HS256", "kid": "eab-kid-1", "url": BASE + "/acme/new-account"}))
    body = b64u(json.dumps(jwk(k)))
    mac = hmac.new(EAB_KEY, f"{p64}.{body}".encode(), hashlib.sha256).digest()
    write("jws", "eab-inner", json.dumps({"protected": p64, "payload": body, "signature": b64u(mac)}))
    # A few near misses, so the refusals have seeds too.
    write("jws", "alg-none", json.dumps({"protected": b64u('{"alg":"none","nonce":"AAAA","url":"u","kid":"k"}'),
                                         "payload": "", "signature": ""}))
    write("jws", "both-jwk-kid", jws(k, {"alg": "ES256", "jwk": jwk(k), "kid": kid, "nonce": nonce, "url": "u"}, {}))
    write("jws", "compact", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA")


def make_csr():
    def csr(key, dns=(), ips=(), cn=None, sig=hashes.SHA256()):
        b = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []))
        sans = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return b.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else sig).public_bytes(
            serialization.Encoding.DER)
    ec256 = ec.generate_private_key(ec.SECP256R1())
    write("csr", "dns-one", csr(ec256, dns=["example.com"]))
    write("csr", "dns-many-cn", csr(ec256, dns=["a.example.com", "B.Example.com", "*.example.org"], cn="a.example.com"))
    write("csr", "ip", csr(ec256, ips=["192.0.2.1", "2001:db8::1"]))
    write("csr", "cn-only", csr(ec256, cn="Only.Example.COM"))
    write("csr", "rsa", csr(rsa.generate_private_key(65537, 2048), dns=["rsa.example.com"]))
    write("csr", "p384", csr(ec.generate_private_key(ec.SECP384R1()), dns=["p384.example.com"], sig=hashes.SHA384()))
    write("csr", "ed25519", csr(ed25519.Ed25519PrivateKey.generate(), dns=["ed.example.com"]))
    write("csr", "no-names", csr(ec256))
    return csr(ec256, dns=["example.com"])


def make_payload(csr_der):
    seeds = {
        "neworder": {"identifiers": [{"type": "dns", "value": "example.com"}]},
        "neworder-many": {"identifiers": [{"type": "dns", "value": "*.Example.COM"},
                                          {"type": "dns", "value": "www.example.com"},
                                          {"type": "ip", "value": "192.0.2.7"},
                                          {"type": "ip", "value": "2001:DB8:0:0::1"},
                                          {"type": "dns", "value": "x.blocked.example"},
                                          {"type": "email", "value": "a@example.com"}],
                          "notBefore": "2030-01-01T00:00:00Z", "notAfter": "2030-02-01T00:00:00+01:00"},
        "neworder-profile": {"identifiers": [{"type": "dns", "value": "a.example.com"}], "profile": "shortlived",
                             "replaces": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"},
        "newaccount": {"termsOfServiceAgreed": True, "contact": ["mailto:admin@example.com", "mailto:x@y.example"]},
        "newaccount-bad-contact": {"contact": ["tel:+1555", "mailto:@", "mailto:a@b,c@d.e"],
                                   "onlyReturnExisting": True},
        "account-deactivate": {"status": "deactivated"},
        "reenable": {"challenge": BASE + "/acme/chall/AbCdEf012345"},
        "keychange-outer": {"account": BASE + "/acme/acct/AbCdEf012345"},
        "finalize": {"csr": b64u(csr_der)},
        "revoke": {"certificate": "MIIB", "reason": 4},
    }
    for name, v in seeds.items():
        write("payload", name, json.dumps(v))


def make_json():
    seeds = {
        "object": '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
        "numbers": '[0,-1,1.5,1e10,-2.5E-3,9223372036854775807,-9223372036854775808,12345678901234567890]',
        "unicode": '{"s":"\\u00e9\\ud83d\\ude00 caf\u00e9 \\n\\t\\"\\\\\\/"}',
        "nested": "[" * 31 + "]" * 31,
        "too-deep": "[" * 33 + "]" * 33,
        "duplicate": '{"kid":"a","kid":"b"}',
        "empty-key": '{"":""}',
        "string": '"just a string"',
    }
    for name, v in seeds.items():
        write("json", name, v)


if __name__ == "__main__":
    make_jws()
    make_payload(make_csr())
    make_json()
    sys.exit(0)
