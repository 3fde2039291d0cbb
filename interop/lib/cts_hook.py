#!/usr/bin/python3
"""Challenge hook for the interop harness: provisions challenges in
pebble-challtestsrv through its management API.

One program for every client's hook convention:

  cts_hook.py uacme      METHOD TYPE IDENT TOKEN AUTH      (uacme -h)
  cts_hook.py dehydrated HANDLER ARGS...                    (dehydrated HOOK=)
  cts_hook.py lego       present|cleanup FQDN VALUE         (lego --dns exec)
  cts_hook.py certbot-auth | certbot-cleanup               (certbot --manual, env)

Environment:
  ARO_CTS          challtestsrv management base URL (http://127.0.0.1:PORT)
  ARO_ACCEPT       comma list of challenge types the hook accepts (uacme
                   chooses a challenge by asking the hook); default all
  ARO_ACCOUNT_KEY  account key PEM, or a glob; needed only for tls-alpn-01
                   when the client passes a digest rather than the key
                   authorization (uacme, dehydrated)
  ARO_HOOK_LOG     file to append one line per call to
"""
import base64, glob, hashlib, json, os, sys, urllib.request


def log(msg):
    path = os.environ.get("ARO_HOOK_LOG")
    if path:
        with open(path, "a") as f:
            f.write(msg + "\n")


def cts(endpoint, body):
    base = os.environ["ARO_CTS"].rstrip("/")
    req = urllib.request.Request(base + endpoint, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()
    log("cts %s %s" % (endpoint, json.dumps(body)))


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def thumbprint():
    pattern = os.environ.get("ARO_ACCOUNT_KEY", "")
    files = sorted(glob.glob(pattern)) if pattern else []
    if not files:
        raise SystemExit("cts_hook: ARO_ACCOUNT_KEY not found: %r" % pattern)
    import josepy
    from cryptography.hazmat.primitives import serialization
    with open(files[0], "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    try:
        jwk = josepy.JWKRSA(key=key.public_key())
    except Exception:
        jwk = josepy.JWKEC(key=key.public_key())
    return b64u(jwk.thumbprint())


def present(ctype, ident, token, keyauth=None, digest=None):
    if ctype == "http-01":
        cts("/add-http01", {"token": token, "content": keyauth})
    elif ctype == "dns-01":
        if digest is None:
            digest = b64u(hashlib.sha256(keyauth.encode()).digest())
        cts("/set-txt", {"host": "_acme-challenge.%s." % ident.rstrip("."), "value": digest})
    elif ctype == "tls-alpn-01":
        if keyauth is None:
            keyauth = token + "." + thumbprint()
        cts("/add-tlsalpn01", {"host": ident, "content": keyauth})
    else:
        raise SystemExit("cts_hook: unknown type " + ctype)


def cleanup(ctype, ident, token):
    try:
        if ctype == "http-01":
            cts("/del-http01", {"token": token})
        elif ctype == "dns-01":
            cts("/clear-txt", {"host": "_acme-challenge.%s." % ident.rstrip(".")})
        elif ctype == "tls-alpn-01":
            cts("/del-tlsalpn01", {"host": ident})
    except Exception as e:  # cleanup failures never fail the client
        log("cleanup error: %s" % e)


def accepted(ctype):
    acc = os.environ.get("ARO_ACCEPT", "")
    return not acc or ctype in acc.split(",")


def main(argv):
    style = argv[1] if len(argv) > 1 else ""
    args = argv[2:]
    log("%s %s" % (style, " ".join(args)))
    if style == "uacme":
        method, ctype, ident, token, auth = (args + [""] * 5)[:5]
        if method == "begin":
            if not accepted(ctype):
                return 1          # uacme then offers the next challenge
            if ctype == "http-01":
                present(ctype, ident, token, keyauth=auth)
            else:
                present(ctype, ident, token, digest=auth)
            return 0
        cleanup(ctype, ident, token)
        return 0
    if style == "dehydrated":
        handler = args[0] if args else ""
        ctype = os.environ.get("ARO_CHALLENGETYPE", "http-01")
        if handler == "deploy_challenge":
            rest = args[1:]
            for i in range(0, len(rest), 3):
                ident, token, kh = rest[i:i + 3]
                if ctype == "http-01":
                    present(ctype, ident, token, keyauth=kh)
                else:
                    present(ctype, ident, token, digest=kh)
        elif handler == "clean_challenge":
            rest = args[1:]
            for i in range(0, len(rest), 3):
                cleanup(ctype, rest[i], rest[i + 1])
        return 0                  # every other handler: nothing to do
    if style == "lego":
        action, fqdn, value = (args + [""] * 3)[:3]
        host = fqdn if fqdn.endswith(".") else fqdn + "."
        if action == "present":
            cts("/set-txt", {"host": host, "value": value})
        elif action == "cleanup":
            try:
                cts("/clear-txt", {"host": host})
            except Exception as e:
                log("cleanup error: %s" % e)
        return 0
    if style in ("certbot-auth", "certbot-cleanup"):
        ident = os.environ["CERTBOT_DOMAIN"]
        token = os.environ.get("CERTBOT_TOKEN", "")
        val = os.environ.get("CERTBOT_VALIDATION", "")
        ctype = "http-01" if token else "dns-01"
        if style == "certbot-auth":
            present(ctype, ident, token, keyauth=val if ctype == "http-01" else None,
                    digest=val if ctype == "dns-01" else None)
        else:
            cleanup(ctype, ident, token)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
