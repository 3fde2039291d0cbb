"""aro-server replaces Pebble in a setup written for Pebble, unchanged.

The setup is what a Pebble user has: a working directory laid out like
Pebble's repository (test/config/pebble-config.json, the HTTPS certificate
in test/certs/localhost/), Pebble's environment variables, pebble's
command line (-config FILE -dnsserver ADDR:PORT, nothing aro-specific),
pebble-challtestsrv for DNS, and certbot and lego pointed at /dir with
the HTTPS certificate as their trust anchor. Then the management API is
queried as Pebble users script it, and Pebble mode is checked to stay
throwaway: nothing written into the working directory, a new root at
every start, the temporary state gone at exit.
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import ssl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, START_TIMEOUT, GaveUp, Harness, TestRun, free_port, stop_process, wait_for  # noqa: E402

NAMES = ["certbot-dropin.example.com", "lego-dropin.example.com"]


def sh(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


class PebbleSetup:
    """A Pebble user's directory and a running aro-server in place of pebble."""

    def __init__(self, h, cts, extra=None, env=None):
        self.h = h
        self.cwd = os.path.join(h.tmp, f"pebble-setup-{free_port()}")
        certs = os.path.join(self.cwd, "test", "certs", "localhost")
        os.makedirs(certs)
        os.makedirs(os.path.join(self.cwd, "test", "config"))
        # Debian's pebble does not ship test/certs/localhost: a Pebble user
        # makes one the same way.
        r = sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", os.path.join(certs, "key.pem"), "-out", os.path.join(certs, "cert.pem"),
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        assert r.returncode == 0, r.stdout
        self.cert = os.path.join(certs, "cert.pem")
        self.port, self.mport = free_port(), free_port()
        self.http_port, self.tls_port = free_port(), free_port()
        cfg = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mport}",
            "certificate": "test/certs/localhost/cert.pem",
            "privateKey": "test/certs/localhost/key.pem",
            "httpPort": self.http_port,
            "tlsPort": self.tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
            "domainBlocklist": ["blocked-domain.example"],
            "retryAfter": {"authz": 3, "order": 5},
            "certificateValidityPeriod": 157766400,
        }}
        cfg["pebble"].update(extra or {})
        with open(os.path.join(self.cwd, "test", "config", "pebble-config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("PEBBLE_"):
                del self.env[k]
        self.env.update(env if env is not None else {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"})
        self.cts = cts
        self.proc = None
        self.start()
        h.procs.append(self)

    def start(self):
        self.log_path = os.path.join(self.h.tmp, f"aro-server-pebble-{self.port}.log")
        self.log = open(self.log_path, "a")
        # Exactly pebble's command line.
        args = [os.path.join(BUILD, "aro-server"), "-config", "test/config/pebble-config.json",
                "-dnsserver", self.cts.dns]
        self.proc = subprocess.Popen(args, cwd=self.cwd, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self._ready, timeout=START_TIMEOUT, what=f"aro-server in Pebble mode (log {self.log_path})")

    def _ready(self):
        if self.proc.poll() is not None:
            raise GaveUp(f"aro-server exited with {self.proc.returncode}:\n" + open(self.log_path).read())
        return self.get(f"https://127.0.0.1:{self.port}/dir")[0] == 200

    def get(self, url):
        ctx = ssl.create_default_context(cafile=self.cert)
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
                return r.status, r.read().decode(), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), e.headers

    def mgmt(self, path):
        return self.get(f"https://127.0.0.1:{self.mport}{path}")

    @property
    def directory(self):
        return f"https://127.0.0.1:{self.port}/dir"

    def data_dir(self):
        m = re.findall(r"data in (\S+),", open(self.log_path).read())
        return m[-1] if m else None

    def stop(self):
        rc = stop_process(self.proc)
        self.log.close()
        return rc


def openssl_x509(pem, *args):
    r = subprocess.run(["openssl", "x509", "-noout", *args], input=pem, stdout=subprocess.PIPE, text=True)
    return r.stdout.strip()


def main():
    t = TestRun()
    with Harness() as h:
        cts = h.challtestsrv()
        before = None
        p = None
        issued = {}

        def start():
            nonlocal p, before
            p = PebbleSetup(h, cts)
            before = sorted(os.listdir(p.cwd))
            st, body, _ = p.get(p.directory)
            d = json.loads(body)
            assert st == 200 and "newAccount" in d and "newOrder" in d, body
        t.case("aro-server starts from pebble's command line, config file and environment", start)
        if p is None:
            t.finish()

        def certbot():
            work = os.path.join(h.tmp, "certbot")
            env = dict(os.environ, REQUESTS_CA_BUNDLE=p.cert)
            r = sh(["certbot", "certonly", "--non-interactive", "--agree-tos", "--register-unsafely-without-email",
                    "--server", p.directory, "--standalone", "--http-01-port", str(p.http_port),
                    "--preferred-challenges", "http-01",
                    "--config-dir", work, "--work-dir", work, "--logs-dir", work, "-d", NAMES[0]],
                   env=env, timeout=90)
            assert r.returncode == 0, r.stdout[-3000:]
            path = os.path.join(work, "live", NAMES[0], "cert.pem")
            issued["certbot"] = (open(path).read(), open(os.path.join(work, "live", NAMES[0], "chain.pem")).read())
        t.case("certbot (standalone http-01) gets a certificate", certbot)

        def lego():
            work = os.path.join(h.tmp, "lego")
            env = dict(os.environ, LEGO_CA_CERTIFICATES=p.cert)
            r = sh(["lego", "--server", p.directory, "--email", "dropin@example.com", "--accept-tos",
                    "--domains", NAMES[1], "--http", "--http.port", f"127.0.0.1:{p.http_port}",
                    "--path", work, "run"], env=env, timeout=90)
            assert r.returncode == 0, r.stdout[-3000:]
            pem = open(os.path.join(work, "certificates", NAMES[1] + ".crt")).read()
            issued["lego"] = (pem, pem)
        t.case("lego (http-01) gets a certificate", lego)

        def blocklist():
            work = os.path.join(h.tmp, "lego-blocked")
            env = dict(os.environ, LEGO_CA_CERTIFICATES=p.cert)
            r = sh(["lego", "--server", p.directory, "--email", "dropin@example.com", "--accept-tos",
                    "--domains", "www.blocked-domain.example", "--http", "--http.port", f"127.0.0.1:{p.http_port}",
                    "--path", work, "run"], env=env, timeout=60)
            assert r.returncode != 0 and "rejectedIdentifier" in r.stdout, r.stdout[-2000:]
        t.case("domainBlocklist refuses a subdomain of a blocked domain", blocklist)

        def retry_after():
            # retryAfter {"authz": 3, "order": 5}: each where Pebble puts it.
            from acme import Client
            c = Client(p.directory, p.cert)
            c.new_account()
            r = c.new_order("retry-after.example.com")
            assert r.status == 201, r
            o = c.get(r.url)
            az = c.get(r.json["authorizations"][0])
            assert o.headers.get("Retry-After") == "5", o.headers
            assert az.headers.get("Retry-After") == "3", az.headers
        t.case("retryAfter: authz and order values where Pebble puts them", retry_after)

        def management():
            st, root, hd = p.mgmt("/roots/0")
            assert st == 200 and root.startswith("-----BEGIN CERTIFICATE-----"), (st, root[:80])
            assert hd["Content-Type"].startswith("application/pem-certificate-chain"), hd["Content-Type"]
            st, inter, _ = p.mgmt("/intermediates/0")
            assert st == 200 and inter.startswith("-----BEGIN CERTIFICATE-----")
            st, rkey, hd = p.mgmt("/root-keys/0")
            assert st == 200 and rkey.startswith("-----BEGIN RSA PRIVATE KEY-----"), rkey[:60]
            st, ikey, _ = p.mgmt("/intermediate-keys/0")
            assert st == 200 and ikey.startswith("-----BEGIN RSA PRIVATE KEY-----"), ikey[:60]
            # The keys belong to the certificates.
            for cert, key in ((root, rkey), (inter, ikey)):
                cpub = subprocess.run(["openssl", "x509", "-noout", "-pubkey"], input=cert, stdout=subprocess.PIPE,
                                      text=True).stdout
                kpub = subprocess.run(["openssl", "pkey", "-pubout"], input=key, stdout=subprocess.PIPE,
                                      text=True).stdout
                assert cpub and cpub == kpub, "management key does not match its certificate"
            assert p.mgmt("/roots/1")[0] == 404 and p.mgmt("/roots/x")[0] == 404
            assert p.mgmt("/cert-status-by-serial/zz")[0] == 400
            assert p.mgmt("/cert-status-by-serial/0123456789abcdef")[0] == 404
            for client, (leaf, chain) in issued.items():
                # Issued under /intermediates/0, which chains to /roots/0.
                with open(os.path.join(h.tmp, "root.pem"), "w") as f:
                    f.write(root)
                with open(os.path.join(h.tmp, "inter.pem"), "w") as f:
                    f.write(inter)
                with open(os.path.join(h.tmp, "leaf.pem"), "w") as f:
                    f.write(leaf)
                r = sh(["openssl", "verify", "-CAfile", os.path.join(h.tmp, "root.pem"), "-untrusted",
                        os.path.join(h.tmp, "inter.pem"), os.path.join(h.tmp, "leaf.pem")])
                assert r.returncode == 0, f"{client}: {r.stdout}"
                # The serial as `openssl x509 -serial | cut -d= -f2` prints it.
                serial = openssl_x509(leaf, "-serial").split("=", 1)[1]
                st, body, hd = p.mgmt(f"/cert-status-by-serial/{serial}")
                assert st == 200, (client, st, body)
                s = json.loads(body)
                assert s["Status"] == "Valid", s
                assert s["Serial"] == format(int(serial, 16), "x"), (s["Serial"], serial)
                assert openssl_x509(s["Certificate"], "-serial") == openssl_x509(leaf, "-serial"), "wrong leaf"
                assert s["Certificate"].count("BEGIN CERTIFICATE") == 1, "Certificate must be the leaf alone"
                # certificateValidityPeriod 157766400 s (5 years).
                end = openssl_x509(leaf, "-enddate")
                assert str(time.gmtime(time.time() + 157766400).tm_year) in end, end
        t.case("management API answers like Pebble's (/roots/0, /intermediates/0, keys, /cert-status-by-serial)",
               management)

        def throwaway():
            assert sorted(os.listdir(p.cwd)) == before, f"cwd changed: {before} -> {os.listdir(p.cwd)}"
            for root_dir, dirs, files in os.walk(p.cwd):
                for f in files:
                    assert f in ("cert.pem", "key.pem", "pebble-config.json"), os.path.join(root_dir, f)
            data = p.data_dir()
            assert data and not data.startswith(p.cwd) and os.path.isdir(data), data
            root1 = p.mgmt("/roots/0")[1]
            p.stop()
            assert not os.path.exists(data), f"{data} left behind after exit"
            p.start()
            root2 = p.mgmt("/roots/0")[1]
            assert root1 != root2 and openssl_x509(root1, "-pubkey") != openssl_x509(root2, "-pubkey"), \
                "same root after a restart"
            assert p.data_dir() != data
            assert sorted(os.listdir(p.cwd)) == before
        t.case("Pebble mode writes nothing into the cwd, makes a new root at every start, leaves no state",
               throwaway)

        def reports():
            q = PebbleSetup(h, cts, extra={"ocspResponderURL": "http://127.0.0.1:4002", "someFutureKey": 1},
                            env={"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_CHAIN_LENGTH": "2",
                                 "PEBBLE_ALTERNATE_ROOTS": "1"})
            log = open(q.log_path).read()
            assert "ocspResponderURL" in log and "someFutureKey" in log, log
            # Pebble's defaults where the environment is silent: 5 % nonces.
            assert "reject 5% of good nonces" in log, log
            # PEBBLE_ALTERNATE_ROOTS: /roots/1 and Link rel="alternate".
            st, _, hd = q.mgmt("/roots/1")
            assert st == 200 and "rel=\"alternate\"" in (hd.get("Link") or ""), hd
            q.stop()
        t.case("keys aro cannot honour are reported at start; PEBBLE_* defaults and alternate roots", reports)
    t.finish()


if __name__ == "__main__":
    main()
