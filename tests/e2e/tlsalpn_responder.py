"""A tls-alpn-01 responder (RFC 8737) for tests, for IP identifiers too,
which pebble-challtestsrv 2.4 cannot answer. Presents a self-signed
certificate with the acmeIdentifier extension and selects acme-tls/1."""
import datetime
import hashlib
import ipaddress
import os
import socket
import ssl
import tempfile
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ObjectIdentifier

ACME_ID = ObjectIdentifier("1.3.6.1.5.5.7.1.31")


def make_cert(identifier, key_authz, tmp):
    key = ec.generate_private_key(ec.SECP256R1())
    digest = hashlib.sha256(key_authz.encode()).digest()
    try:
        san = x509.IPAddress(ipaddress.ip_address(identifier))
    except ValueError:
        san = x509.DNSName(identifier)
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(x509.Name([]))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .add_extension(x509.UnrecognizedExtension(ACME_ID, b"\x04\x20" + digest), critical=True)
            .sign(key, hashes.SHA256()))
    cf = os.path.join(tmp, "alpn-cert.pem")
    kf = os.path.join(tmp, "alpn-key.pem")
    with open(cf, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kf, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cf, kf


class Responder:
    def __init__(self, port, identifier, key_authz):
        self.tmp = tempfile.mkdtemp(prefix="alpn-")
        cf, kf = make_cert(identifier, key_authz, self.tmp)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cf, kf)
        self.ctx.set_alpn_protocols(["acme-tls/1"])
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:  # an IP identifier is validated at that address (all of 127/8 is loopback)
            addr = str(ipaddress.ip_address(identifier))
        except ValueError:
            addr = "127.0.0.1"
        self.sock.bind((addr, port))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            try:
                conn.settimeout(5)
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass
            finally:
                conn.close()

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=2)
        self.sock.close()
