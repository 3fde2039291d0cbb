"""RSA keys a CA must refuse to certify, and CSRs assembled by hand around
them, for the hostile catalogue and tests/e2e/ca_policy.py.

The cryptography package refuses to build most of these (an exponent of
1, a modulus with a factor of 3), so the CSR DER is put together here:
the CertificationRequestInfo of an ordinary CSR with its
SubjectPublicKeyInfo swapped for the weak key, signed by hand with
RSASSA-PKCS1-v1_5 (RFC 8017 8.2) under any digest (MD5 and SHA-1 too).

The keys:
  exponent(e)     a sound modulus with public exponent e (e = 1: the
                  "signature" is the padded digest, no private key used)
  small_factor()  n = 3 * p * q, 2048 bits, with a working private key
  close_primes()  n = p * q with q the next prime after p (Fermat's
                  method factors it in one round)
  roca()          n = p * q with p, q of Infineon's form k * M + 65537^a
                  mod M, M the product of the primes up to 167 (ROCA,
                  CVE-2017-15361)

`python3 weak_keys.py` prints fixed vectors (hex moduli, as C strings)
like those tests/unit/server/test_key_policy.c embeds.
"""
import hashlib
import secrets
from math import isqrt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SMALL_PRIMES = [p for p in range(2, 1000) if all(p % d for d in range(2, int(p ** 0.5) + 1))]


def is_probable_prime(n, rounds=32):
    """Miller-Rabin with random bases, after trial division."""
    if n < 2:
        return False
    for p in SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        x = pow(2 + secrets.randbelow(n - 3), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def random_prime(bits, top2=True):
    """A prime of exactly bits bits (top two bits set, so that two of them
    make a modulus of 2 * bits bits)."""
    while True:
        c = secrets.randbits(bits) | 1 | (1 << (bits - 1)) | ((1 << (bits - 2)) if top2 else 0)
        if is_probable_prime(c):
            return c


def next_prime(n):
    c = n + 2 if n % 2 else n + 1
    while not is_probable_prime(c):
        c += 2
    return c


def private_exponent(e, primes):
    lam = 1
    for p in primes:
        a, b = lam, p - 1
        while b:
            a, b = b, a % b
        lam = lam * (p - 1) // a
    return pow(e, -1, lam)


# ---- the keys: (n, e, d); d None when no private key is needed ----------

def exponent(e):
    """A sound 2048-bit modulus with public exponent e."""
    while True:
        p, q = random_prime(1024), random_prime(1024)
        if e == 1:
            return p * q, 1, None
        if all((x - 1) % e for x in (p, q)):
            return p * q, e, private_exponent(e, [p, q])


def small_factor():
    while True:
        p, q = random_prime(1023, top2=False), random_prime(1023, top2=False)
        n = 3 * p * q
        if n.bit_length() == 2048 and all((x - 1) % 65537 for x in (p, q)):
            return n, 65537, private_exponent(65537, [3, p, q])


def close_primes():
    while True:
        p = random_prime(1024)
        q = next_prime(p)
        if all((x - 1) % 65537 for x in (p, q)):
            return p * q, 65537, private_exponent(65537, [p, q])


def roca():
    m = 1
    for p in SMALL_PRIMES:
        if p > 167:
            break
        m *= p

    # p in [2^1023.5, 2^1024), so that two of them make 2048 bits.
    lo, hi = isqrt(1 << 2047) // m + 1, (1 << 1024) // m - 1

    def infineon_prime():
        while True:
            c = (lo + secrets.randbelow(hi - lo)) * m + pow(65537, 1 + secrets.randbelow(m), m)
            if is_probable_prime(c):
                return c
    while True:
        p, q = infineon_prime(), infineon_prime()
        if (p * q).bit_length() == 2048 and all((x - 1) % 65537 for x in (p, q)):
            return p * q, 65537, private_exponent(65537, [p, q])


# ---- DER, by hand ------------------------------------------------------

def der(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + content


def der_int(v):
    return der(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def der_read(buf, off):
    """(tag, content start, end) of the TLV at off."""
    tag, n = buf[off], buf[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[off:off + k], "big")
        off += k
    return tag, off, off + n


def rsa_spki(n, e):
    alg = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    return der(0x30, alg + der(0x03, b"\x00" + der(0x30, der_int(n) + der_int(e))))


# digest name -> (hashlib name, DigestInfo prefix per RFC 8017 9.2 note 1, sigalg OID)
DIGESTS = {
    "md5": ("md5", "3020300c06082a864886f70d020505000410", "2a864886f70d010104"),
    "sha1": ("sha1", "3021300906052b0e03021a05000414", "2a864886f70d010105"),
    "sha256": ("sha256", "3031300d060960864801650304020105000420", "2a864886f70d01010b"),
}


def rsa_csr_der(names, key, digest="sha256"):
    """A CSR for names around key = (n, e, d), signed with digest."""
    n, e, d = key
    # An ordinary CSR gives the CertificationRequestInfo around the key.
    carrier = rsa.generate_private_key(65537, 2048)
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
    b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(x) for x in names]), critical=False)
    info = b.sign(carrier, hashes.SHA256()).tbs_certrequest_bytes
    old = carrier.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    _, start, end = der_read(info, 0)
    info = der(0x30, info[start:end].replace(old, rsa_spki(n, e)))
    hname, prefix, oid = DIGESTS[digest]
    t = bytes.fromhex(prefix) + hashlib.new(hname, info).digest()
    k = (n.bit_length() + 7) // 8
    em = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    s = int.from_bytes(em, "big") if d is None else pow(int.from_bytes(em, "big"), d, n)
    assert pow(s, e, n) == int.from_bytes(em, "big"), "the signature does not verify"
    sigalg = der(0x30, der(0x06, bytes.fromhex(oid)) + b"\x05\x00")
    return der(0x30, info + sigalg + der(0x03, b"\x00" + s.to_bytes(k, "big")))


def good():
    return exponent(65537)


def multiple_of(f):
    """A 2048-bit odd modulus whose smallest prime factor is f (no private
    key: for tests of the check alone)."""
    while True:
        k = secrets.randbits(2048) | (1 << 2047)
        n = k - k % f + f
        if n % 2 and n.bit_length() == 2048 and all(n % p for p in SMALL_PRIMES if p < f):
            return n


if __name__ == "__main__":
    vectors = [("GOOD", good()[0]), ("SMALL_FACTOR", small_factor()[0]), ("FACTOR_751", multiple_of(751)),
               ("CLOSE_PRIMES", close_primes()[0]), ("ROCA", roca()[0])]
    for name, n in vectors:
        h = f"{n:x}"
        print(f"static const char {name}[] =")
        print("\n".join(f'    "{h[i:i + 96]}"' for i in range(0, len(h), 96)) + ";")
