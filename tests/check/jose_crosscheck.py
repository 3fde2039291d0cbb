#!/usr/bin/python3
"""Cross-check aro's JOSE code against implementations nobody here wrote.

For RS256, ES256 and ES384 the other side is josepy 1.13 (Debian's
python3-josepy) with python3-acme's ACME header; josepy 1.13 has no OKP
keys, so for EdDSA the other side is python3-cryptography's Ed25519 used
directly, with the JWS assembled by hand from RFC 7515 / RFC 8037.

In each direction: a JWS aro signs must verify in Python, and a JWS
Python signs must verify in aro (via tests/tools/jose_tool). ECDSA is
exercised with many signatures so short r/s values (left-padding) occur.
Thumbprints are compared too.

usage: jose_crosscheck.py PATH/TO/jose_tool
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import josepy as jose
from acme import jws as acme_jws
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

TOOL = sys.argv[1] if len(sys.argv) > 1 else "jose_tool"
URL = "https://ca.test/acme/new-order"
NONCE_B64 = "Zm9vYmFyYmF6"
ROUNDS = {"RS256": 3, "ES256": 40, "ES384": 40, "EdDSA": 5}
KEYTYPE = {"RS256": "rsa2048", "ES256": "ec256", "ES384": "ec384", "EdDSA": "ed25519"}
JOSE_ALG = {"RS256": jose.RS256, "ES256": jose.ES256, "ES384": jose.ES384}

failures = 0
checks = 0


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAILED:", what, file=sys.stderr)


def tool(*args, stdin=None):
    return subprocess.run([TOOL, *args], input=stdin, capture_output=True, text=True)


def python_verify(alg, text):
    """Verify an aro JWS with josepy (or cryptography for EdDSA); return payload."""
    obj = json.loads(text)
    check(set(obj) == {"protected", "payload", "signature"}, alg + ": flattened members")
    header = json.loads(unb64u(obj["protected"]))
    check(header.get("alg") == alg and header.get("url") == URL and
          header.get("nonce") == NONCE_B64 and "jwk" in header and "kid" not in header,
          alg + ": protected header " + repr(header))
    if alg == "EdDSA":
        jwk = header["jwk"]
        check(jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519", "EdDSA jwk")
        pub = ed25519.Ed25519PublicKey.from_public_bytes(unb64u(jwk["x"]))
        signing_input = (obj["protected"] + "." + obj["payload"]).encode()
        try:
            pub.verify(unb64u(obj["signature"]), signing_input)
            ok = True
        except Exception:
            ok = False
        check(ok, "EdDSA: aro signature verifies with cryptography")
        return unb64u(obj["payload"])
    sig = acme_jws.JWS.json_loads(text)
    # verify() with no key uses the jwk from the protected header.
    check(sig.verify(), alg + ": aro signature verifies with josepy")
    if alg.startswith("ES"):
        check(len(unb64u(obj["signature"])) == (64 if alg == "ES256" else 96),
              alg + ": fixed-length r||s")
    return sig.payload


def python_accepts_tampered(alg, text):
    """Does Python accept the JWS with its payload swapped? (It must not:
    this shows the positive checks above are not vacuous.)"""
    obj = json.loads(text)
    obj["payload"] = b64u(b'{"tampered":true}')
    if alg == "EdDSA":
        jwk = json.loads(unb64u(obj["protected"]))["jwk"]
        pub = ed25519.Ed25519PublicKey.from_public_bytes(unb64u(jwk["x"]))
        try:
            pub.verify(unb64u(obj["signature"]),
                       (obj["protected"] + "." + obj["payload"]).encode())
            return True
        except Exception:
            return False
    return acme_jws.JWS.json_loads(json.dumps(obj)).verify()


def python_sign(alg, payload):
    """A JWS signed by Python with a fresh key, ACME header with jwk."""
    if alg == "EdDSA":
        priv = ed25519.Ed25519PrivateKey.generate()
        x = priv.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
        header = {"alg": "EdDSA", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64u(x)},
                  "nonce": NONCE_B64, "url": URL}
        prot = b64u(json.dumps(header).encode())
        pl = b64u(payload)
        sig = priv.sign((prot + "." + pl).encode())
        return json.dumps({"protected": prot, "payload": pl, "signature": b64u(sig)})
    if alg == "RS256":
        key = jose.JWKRSA(key=rsa.generate_private_key(65537, 2048))
    else:
        curve = ec.SECP256R1() if alg == "ES256" else ec.SECP384R1()
        key = jose.JWKEC(key=ec.generate_private_key(curve))
    signed = acme_jws.JWS.sign(payload, key=key, alg=JOSE_ALG[alg],
                               nonce=unb64u(NONCE_B64), url=URL)
    return signed.json_dumps()


def python_thumbprint(alg, pem_path):
    with open(pem_path, "rb") as f:
        priv = serialization.load_pem_private_key(f.read(), password=None)
    if alg == "EdDSA":
        x = priv.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
        canon = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": b64u(x)},
                           separators=(",", ":"), sort_keys=True)
        return b64u(hashlib.sha256(canon.encode()).digest())
    jwk = jose.JWKRSA(key=priv) if alg == "RS256" else jose.JWKEC(key=priv)
    return b64u(jwk.thumbprint())


def run_alg(alg, tmp):
    pem = os.path.join(tmp, alg + ".pem")
    r = tool("genkey", KEYTYPE[alg], pem)
    check(r.returncode == 0, alg + ": genkey " + r.stderr)

    r = tool("thumbprint", pem)
    check(r.returncode == 0 and r.stdout.strip() == python_thumbprint(alg, pem),
          alg + ": thumbprint aro %r" % r.stdout.strip())

    # aro signs, Python verifies (the POST-as-GET empty payload included).
    for i in range(ROUNDS[alg]):
        payload = "" if i == 0 else json.dumps({"n": i, "alg": alg})
        r = tool("sign", pem, NONCE_B64, URL, payload)
        check(r.returncode == 0, alg + ": aro sign " + r.stderr)
        if r.returncode == 0:
            got = python_verify(alg, r.stdout)
            check(got == payload.encode(), alg + ": payload round trip")
            if i == 1:
                check(not python_accepts_tampered(alg, r.stdout),
                      alg + ": Python refuses a tampered aro JWS")

    # Python signs, aro verifies.
    for i in range(ROUNDS[alg]):
        payload = json.dumps({"from": "python", "n": i}).encode()
        text = python_sign(alg, payload)
        r = tool("verify", stdin=text)
        check(r.returncode == 0 and r.stdout.rstrip("\n") == payload.decode(),
              alg + ": Python JWS verifies in aro: " + r.stderr)
        if i == 0:
            # The same JWS with its payload changed must fail in aro.
            obj = json.loads(text)
            obj["payload"] = b64u(b'{"tampered":true}')
            r = tool("verify", stdin=json.dumps(obj))
            check(r.returncode != 0, alg + ": tampered Python JWS refused by aro")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for alg in ("RS256", "ES256", "ES384", "EdDSA"):
            run_alg(alg, tmp)
            print("%s: cross-checked (%d JWS each way)%s" %
                  (alg, ROUNDS[alg],
                   " [python3-cryptography Ed25519: josepy 1.13 has no OKP]"
                   if alg == "EdDSA" else " [josepy %s]" % getattr(jose, "__version__", "1.13")))
    print("%d checks, %d failures" % (checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
