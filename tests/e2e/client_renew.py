"""aro renew as cron runs it (issue 17), against aro-server and Pebble:

- each certificate remembers how it was obtained: `aro --state S renew`
  with nothing else (ARO_DIRECTORY pointing nowhere) renews at the
  certificate's own CA, with its CA bundle, key type (rsa4096; ed25519 on
  Pebble, which signs it), profile (aro-server: "shortlived", 6 days),
  solver settings and deploy hook;
- a flag given to renew overrides and is remembered (--key-type ec384,
  then a plain renew keeps ec384);
- several certificates: one result each (a line each; --json one entry
  each in "certificates"), exit 0 when none failed (renewed or not due), 2
  when one failed while the others renewed;
- --deploy-hook runs once per renewed certificate with RENEWED_LINEAGE and
  RENEWED_DOMAINS, and not for one that is not due or failed."""
import json
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, Harness, TestRun  # noqa: E402

ARO = os.path.join(BUILD, "aro")


def run(*args, env=None):
    p = subprocess.run([ARO, *args], capture_output=True, text=True, timeout=180,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout, p.stderr


def key_desc(path):
    out = subprocess.run(["openssl", "pkey", "-in", path, "-noout", "-text"], capture_output=True,
                         text=True).stdout
    first = out.splitlines()[0] if out else ""
    if "ED25519" in first:
        return "ed25519"
    if "modulus:" in out:
        return "rsa" + first.split("(")[1].split()[0]
    if "NIST CURVE: P-384" in out or "secp384r1" in out:
        return "ec384"
    if "prime256v1" in out or "P-256" in out:
        return "ec256"
    return first


def lifetime_days(cert):
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-startdate", "-enddate"],
                         capture_output=True, text=True).stdout
    from email.utils import parsedate_to_datetime
    d = {}
    for line in out.splitlines():
        k, v = line.split("=", 1)
        d[k] = parsedate_to_datetime(v.replace(" GMT", " +0000"))
    return (d["notAfter"] - d["notBefore"]).total_seconds() / 86400


def hook_script(h, name, body):
    p = os.path.join(h.tmp, name)
    with open(p, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(p, 0o755)
    return p


def valid_attempts(j):
    return sum(1 for c in j["certificates"] for a in c["attempts"] if a["outcome"] == "valid")


def case_remembered(h, label, directory, ca, cts, key_type, profile, orders, forget=None):
    """forget (Pebble): deactivates the valid authorizations of orders, so
    that the renewal validates again (Pebble.deactivate_valid_authzs)."""
    state = os.path.join(h.tmp, "st-" + label)
    deploy_log = os.path.join(h.tmp, "deploy-" + label)
    deploy = f'echo "$RENEWED_LINEAGE|$RENEWED_DOMAINS" >> {deploy_log}'
    extra = ["--profile", profile] if profile else []
    rc, out, err = run("--server", directory, "--ca-bundle", ca, "--state", state, "--json", "--agree-tos",
                       "--http-port", str(cts.http_port), "--bind", "127.0.0.1", "--key-type", key_type,
                       "--deploy-hook", deploy, *extra, "issue", "r1.example.com", "www.r1.example.com")
    assert rc == 0, (out, err)
    live = os.path.join(state, "certs", "r1.example.com")
    assert key_desc(os.path.join(live, "key.pem")) == key_type, key_desc(os.path.join(live, "key.pem"))
    # The deploy hook ran for the new certificate too, as certbot's does.
    assert open(deploy_log).read() == f"{live}|r1.example.com www.r1.example.com\n"
    if forget:
        assert forget(state, json.loads(out)["orders"]) == 2
    before = orders()
    # Nothing but the state: the CA, its bundle, the solver, the key type,
    # the profile and the deploy hook come from the certificate.
    rc, out, err = run("--state", state, "--json", "renew", "--force")
    assert rc == 0, (rc, out, err)
    j = json.loads(out)
    assert j["result"] == "renewed" and [c["result"] for c in j["certificates"]] == ["renewed"], j
    assert orders() == before + 1, "not renewed at the certificate's own CA"
    # Both names validate again: aro-server has reuseValidAuthz off, and
    # Pebble's authorizations were deactivated above.
    assert valid_attempts(j) >= 2 and all(a["outcome"] == "valid" for a in
                                             j["certificates"][0]["attempts"]), \
        f"the remembered http-01 solver did not answer: {j}"
    assert key_desc(os.path.join(live, "key.pem")) == key_type, "renewed with another key type"
    if profile:
        assert 5.5 < lifetime_days(os.path.join(live, "cert.pem")) < 6.5, "renewed without the profile"
    assert open(deploy_log).read().count("\n") == 2
    # A flag given to renew wins and is remembered.
    rc, out, err = run("--state", state, "--json", "renew", "--force", "--key-type", "ec384")
    assert rc == 0 and key_desc(os.path.join(live, "key.pem")) == "ec384", (out, err)
    rc, out, err = run("--state", state, "--json", "renew", "--force")
    assert rc == 0 and key_desc(os.path.join(live, "key.pem")) == "ec384", (out, err)
    assert open(deploy_log).read().count("\n") == 4


def case_several(h, label, directory, ca, cts, forget=None):
    """forget (Pebble): as for case_remembered, so that s3's renewals must
    validate (and fail) instead of reusing its valid authorization."""
    state = os.path.join(h.tmp, "sv-" + label)
    deploy_log = os.path.join(h.tmp, "deploy-sv-" + label)
    base = ["--server", directory, "--ca-bundle", ca, "--state", state, "--agree-tos"]
    good = hook_script(h, f"dns-{label}.sh", f"""[ "$2" = dns-01 ] || exit 1
case "$1" in
begin) curl -sS -X POST -d '{{"host":"_acme-challenge.'$3'.","value":"'$5'"}}' http://127.0.0.1:{cts.mgmt_port}/set-txt ;;
*) curl -sS -X POST -d '{{"host":"_acme-challenge.'$3'."}}' http://127.0.0.1:{cts.mgmt_port}/clear-txt ;;
esac
""")
    for n in ("s1", "s2"):
        rc, out, err = run(*base, "--json", "--http-port", str(cts.http_port), "--bind", "127.0.0.1",
                           "--deploy-hook", f'echo "$RENEWED_DOMAINS" >> {deploy_log}', "issue", f"{n}.example.com")
        assert rc == 0, (out, err)
    # s3 through a dns-01 hook that works now and is broken later.
    rc, out, err = run(*base, "--json", "--challenges", "dns-01", "--hook", good,
                       "--deploy-hook", f'echo "$RENEWED_DOMAINS" >> {deploy_log}', "issue", "s3.example.com")
    assert rc == 0, (out, err)
    if forget:
        assert forget(state, json.loads(out)["orders"]) == 1
    open(deploy_log, "w").close()
    # Nothing due: exit 0, one entry and one line per certificate.
    rc, out, err = run("--state", state, "--json", "renew")
    j = json.loads(out)
    assert rc == 0 and j["result"] == "not-due", (rc, out, err)
    assert sorted((c["name"], c["result"]) for c in j["certificates"]) == \
        [("s1.example.com", "not-due"), ("s2.example.com", "not-due"), ("s3.example.com", "not-due")], j
    rc, out, err = run("--state", state, "renew")
    lines = out.splitlines()
    assert rc == 0 and len(lines) == 3 and all(l.startswith("not-due s") and ": due at " in l for l in lines), out
    assert open(deploy_log).read() == "", "a deploy hook ran for a certificate that was not renewed"
    # One fails, the others renew: exit 2, each said on its own.
    with open(good, "w") as f:
        f.write("#!/bin/sh\nexit 1\n")
    rc, out, err = run("--state", state, "--json", "renew", "--force")
    j = json.loads(out)
    assert rc == 2 and j["result"] == "failed", (rc, out, err)
    res = {c["name"]: c for c in j["certificates"]}
    assert res["s1.example.com"]["result"] == "renewed" and res["s2.example.com"]["result"] == "renewed", j
    assert res["s1.example.com"]["certificate"].endswith("/certs/s1.example.com/fullchain.pem"), j
    assert res["s3.example.com"]["result"] == "failed" and res["s3.example.com"]["error"], j
    assert sorted(open(deploy_log).read().split()) == ["s1.example.com", "s2.example.com"], "deploy hook runs"
    rc, out, err = run("--state", state, "--quiet", "renew", "--force")
    assert rc == 2 and out.startswith("failed s3.example.com: ") and len(out.splitlines()) == 1, (rc, out, err)
    assert err.count("aro: error") == 0, err


def main():
    t = TestRun()
    with Harness() as h:
        cts = h.challtestsrv()
        # No reuse of valid authorizations: each renewal answers its
        # challenges with the remembered solvers again.
        srv = h.server(cts, config={"profiles": {"shortlived": {"description": "six days",
                                                                 "validityPeriod": 518400}},
                                    "reuseValidAuthz": False})
        peb = h.pebble(cts)
        aro_orders = lambda: srv.metric("aro_orders_created_total")  # noqa: E731
        peb_orders = lambda: peb.requests_by_endpoint().get("new-order", 0)  # noqa: E731
        t.case("aro-server: renew remembers server, bundle, rsa4096, profile, solver, deploy hook",
               case_remembered, h, "aro", srv.directory, srv.ca_file, cts, "rsa4096", "shortlived", aro_orders)
        t.case("pebble: renew remembers server, bundle, ed25519, solver, deploy hook",
               case_remembered, h, "pebble", peb.directory, peb.ca_file, cts, "ed25519", None, peb_orders,
               peb.deactivate_valid_authzs)
        t.case("aro-server: several certificates, one result each, exit statuses",
               case_several, h, "aro", srv.directory, srv.ca_file, cts)
        t.case("pebble: several certificates, one result each, exit statuses",
               case_several, h, "pebble", peb.directory, peb.ca_file, cts, peb.deactivate_valid_authzs)
    t.finish()


if __name__ == "__main__":
    main()
