#!/usr/bin/python3
"""Regenerate the draft's examples from a real aro-server run, and check them.

    generate.py                 run, write NAME.json here, compare with the draft
    generate.py --out DIR       the same, writing NAME.json into DIR instead
    generate.py --update        run, write NAME.json here, rewrite the draft's blocks
    generate.py --from-json [--update]
                                no run: use the NAME.json files already here

A run starts pebble-challtestsrv and aro-server on loopback (the e2e
harness, tests/e2e/harness.py), with the server's default retry policy
(3 attempts, 5 s minimum backoff), and drives the scenario of the draft:
a two-name order whose http-01 validation for www.example.org fails
(nothing listens on the validation port), the offer on the authorization,
its failed challenge and its order, a legacy `{}` POST, a too-early
re-enable, a re-enable to dns-01, and example.org's attempts used up.

Each response is normalized (base URL -> https://example.com, random ids,
tokens and nonces -> placeholders derived from their position, times ->
2025-03-01 relative to the order's creation, validation ports -> 80/443)
and written as NAME.json. The check compares the draft's block of each
marker with it structurally: status line, the protocol header fields,
and the JSON body (parsed, key order ignored); times and Retry-After are
compared for form only. For reenable-request only the JWS payload and the
protected header's member names are compared. Exit 0 = agree, 1 = differ.
See README.md.
"""
import argparse
import base64
import copy
import datetime
import difflib
import hashlib
import http
import json
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("ARO_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
DRAFT = os.path.join(SOURCE, "draft", "draft-aro-acme-retry-options.md")

MARKERS = [
    "directory-meta",
    "authz-invalid-with-retry-options",
    "order-invalid-with-retry-options",
    "reenable-request",
    "reenable-response",
    "reenable-refused-too-early",
    "reenable-refused-not-allowed",
    "challenge-post-on-invalid-authz",
    "neworder-request-hold",
    "authz-held-with-retry-options",
]
REQUESTS = ("reenable-request", "neworder-request-hold")

# The server is configured like an example CA, so these appear verbatim.
SERVER_CONFIG = {
    "termsOfService": "https://example.com/acme/terms/2025-01-01",
    "website": "https://www.example.com/",
    "caaIdentities": ["example.com"],
}
NAME_A = "www.example.org"   # http-01 fails, then dns-01 through a re-enable
NAME_B = "example.org"       # every type fails: attempts used up
NAME_C = "hold.example.org"  # pending-hold: http-01 fails, the authorization stays pending
BASE_TIME = datetime.datetime(2025, 3, 1, 14, 10, 7, tzinfo=datetime.timezone.utc)
AUTHZ_LIFETIME = 3600        # aro-server's default authzPendingLifetimeSeconds
SHOWN_HEADERS = ["Content-Type", "Replay-Nonce", "Retry-After", "Location", "Link"]
FOLD_NOTE = "=============== NOTE: '\\' line wrapping per RFC 8792 ================"
WIDTH = 69
TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ------------------------------------------------------------------ the run

def record_response(r):
    """A response as {start, headers, body}; only the header fields that
    carry protocol meaning, in a fixed order, Link split per link."""
    hdrs = []
    for name in SHOWN_HEADERS:
        v = r.headers.get(name)
        if v is None:
            continue
        if name == "Link":
            for part in re.split(r",\s*(?=<)", v):
                hdrs.append([name, part.strip()])
        else:
            hdrs.append([name, v])
    return {"start": f"HTTP/1.1 {r.status} {http.HTTPStatus(r.status).phrase}", "headers": hdrs,
            "body": r.json}


def signed_post(c, base, url, payload):
    """POST payload as a JWS; the answer, and the request as the draft
    shows it (RFC 8555 notation, the signature elided later)."""
    jws = c.sign(url, payload)
    r = c.post(url, None, raw=json.dumps(jws))
    protected = json.loads(base64.urlsafe_b64decode(jws["protected"] + "=="))
    shown = {"start": f"POST {url[len(base):]} HTTP/1.1",
             "headers": [["Host", "example.com"], ["Content-Type", "application/jose+json"]],
             "body": {"protected": protected, "payload": payload, "signature": jws["signature"]}}
    return r, shown


def wait_until(rfc3339):
    t = datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    while time.time() < t + 0.05:
        time.sleep(0.05)


def offered(ro, ctype):
    for ch in ro["challenges"]:
        if ch["type"] == ctype:
            return ch
    raise AssertionError(f"{ctype} not offered in {ro}")


def fail_with(c, az_url, ctype):
    """Answer ctype with nothing behind it (no responder on the port, no
    TXT record) and wait for the authorization to become invalid."""
    az = c.get(az_url).json
    r = c.post(c.challenge_of(az, ctype)["url"], {})
    assert r.status == 200, r
    az = c.wait_authz(az_url).json
    assert az["status"] == "invalid", az
    return az


def run():
    sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))
    from acme import Client
    from harness import Harness

    out = {}
    with Harness() as h:
        cts = h.challtestsrv()   # no http-01 / tls-alpn-01 responders: those validations fail
        srv = h.server(cts, config=SERVER_CONFIG)
        c = Client(srv.directory, srv.ca_file)
        base = srv.directory.rsplit("/", 1)[0]

        r = c.s.get(srv.directory, timeout=10)
        class R:  # noqa: E306 - the directory GET, shaped like acme.Response
            status, headers, json = r.status_code, r.headers, r.json()
        out["directory-meta"] = record_response(R)

        c.new_account()
        r = c.new_order(NAME_A, NAME_B)
        assert r.status == 201, r
        order_url = r.url
        az_a, az_b = r.json["authorizations"]
        created = c.get(az_a).json["expires"]

        # www.example.org: http-01 fails; the offer on the authorization,
        # on the failed challenge, and on the order.
        az = fail_with(c, az_a, "http-01")
        failed = c.challenge_of(az, "http-01")
        out["authz-invalid-with-retry-options"] = record_response(c.get(az_a))
        o = c.get(order_url)
        assert o.json["status"] == "invalid" and o.json["retry-options"]["authorizations"] == [az_a], o
        out["order-invalid-with-retry-options"] = record_response(o)
        ro = az["retry-options"]

        # A legacy client answers the failed challenge again: refused, nothing changes.
        r = c.post(failed["url"], {})
        assert r.status == 400 and r.problem == "malformed", r
        out["challenge-post-on-invalid-authz"] = record_response(r)

        # example.org fails too (its own offer), so its attempts can be used up below.
        az2 = fail_with(c, az_b, "http-01")

        # Too early.
        dns = offered(ro, "dns-01")
        at = time.time()
        r = c.post(ro["url"], {"challenge": dns["url"]})
        assert r.status == 429 and r.problem == "rateLimited" and int(r.headers["Retry-After"]) >= 1, r
        out["reenable-refused-too-early"] = record_response(r)
        # Retry-After counts whole seconds to notBefore from the moment of the
        # request; it is recomputed from the normalized times (see normalize).
        too_early = (at, ro["notBefore"])

        # The re-enable to dns-01, provisioned first.
        cts.set_txt(NAME_A, c.dns_value(dns["token"]))
        wait_until(ro["notBefore"])
        r, out["reenable-request"] = signed_post(c, base, ro["url"], {"challenge": dns["url"]})
        assert r.status == 200 and r.json["status"] == "pending", r
        out["reenable-response"] = record_response(r)
        assert c.wait_authz(az_a).json["status"] == "valid"

        # example.org: tls-alpn-01 fails (attempt 2), dns-01 fails (attempt 3): no attempts remain.
        ro2 = az2["retry-options"]
        wait_until(ro2["notBefore"])
        r = c.post(ro2["url"], {"challenge": offered(ro2, "tls-alpn-01")["url"]})
        assert r.status == 200, r
        az2 = c.wait_authz(az_b).json
        assert az2["status"] == "invalid" and az2["retry-options"]["attemptsRemaining"] == 1, az2
        ro3 = az2["retry-options"]
        wait_until(ro3["notBefore"])
        r = c.post(ro3["url"], {"challenge": offered(ro3, "dns-01")["url"]})
        assert r.status == 200, r
        az2 = c.wait_authz(az_b).json
        assert az2["status"] == "invalid" and "retry-options" not in az2, az2
        r = c.post(ro3["url"], {"challenge": offered(ro3, "tls-alpn-01")["url"]})
        assert r.status == 403 and r.problem == "retryNotAllowed", r
        out["reenable-refused-not-allowed"] = record_response(r)

        # Pending-hold: the client opts in at newOrder; http-01 fails and the
        # authorization stays pending with the offer in it.
        r, out["neworder-request-hold"] = signed_post(
            c, base, c.dir["newOrder"],
            {"identifiers": [{"type": "dns", "value": NAME_C}], "retry-options": {"hold": True}})
        assert r.status == 201, r
        az_c = r.json["authorizations"][0]
        held = c.get(az_c).json
        assert c.post(c.challenge_of(held, "http-01")["url"], {}).status == 200
        held = c.poll(az_c, lambda j: c.challenge_of(j, "http-01")["status"] == "invalid").json
        assert held["status"] == "pending" and "url" not in held["retry-options"], held
        out["authz-held-with-retry-options"] = record_response(c.get(az_c))

        # The offer's times as the draft describes them.
        def ts(s):
            return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").timestamp()
        assert ro["expires"] == created, (ro, created)
        assert 5 <= ts(ro["notBefore"]) - (ts(created) - AUTHZ_LIFETIME) <= 7, (ro, created)
        ctx = {"base": base, "http_port": cts.http_port, "tls_port": cts.tls_port,
               "ref": ts(created) - AUTHZ_LIFETIME, "too_early": too_early}
    return normalize(out, ctx)


# ------------------------------------------------------------ normalization

def placeholder(kind, n, length):
    """A stable stand-in of the same length, starting with a letter, and
    canonical base64url of whole bytes where the length allows it (a token
    is base64url of 32 random bytes, RFC 8555 8.1: 43 characters whose
    last one carries two zero bits)."""
    salt = 0
    while True:
        raw = hashlib.sha256(f"aro-example {kind} {n} {salt}".encode()).digest() * 2
        s = b64u(raw[:length * 6 // 8])
        if len(s) < length:
            s = b64u(raw)[:length]
        if s[0].isalnum():
            return s
        salt += 1


def walk(x, fn):
    if isinstance(x, dict):
        return {k: walk(v, fn) for k, v in x.items()}
    if isinstance(x, list):
        return [walk(v, fn) for v in x]
    return fn(x)


def collect_tokens(x, acc):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "token" and isinstance(v, str):
                acc.add(v)
            collect_tokens(v, acc)
    elif isinstance(x, list):
        for v in x:
            collect_tokens(v, acc)


def normalize(raw, ctx):
    base = ctx["base"]
    base_dt = BASE_TIME.timestamp()

    def fix_time(m):
        # Relative to the order's creation, on a 5 s grid: a run's events
        # fall on either side of a second boundary.
        t = datetime.datetime.strptime(m.group(0), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        return datetime.datetime.fromtimestamp(norm_ts(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def fix_str(s):
        if not isinstance(s, str):
            return s
        s = s.replace(base, "https://example.com")
        s = s.replace(f":{ctx['http_port']}/", "/").replace(f"port {ctx['http_port']}", "port 80")
        s = s.replace(f":{ctx['tls_port']}", ":443").replace(f"port {ctx['tls_port']}", "port 443")
        s = re.sub(r"after \d+ ms", "after 0 ms", s)
        return TIME_RE.sub(fix_time, s)

    def norm_ts(t):
        return base_dt + 5 * round((t - ctx["ref"]) / 5)

    out = {k: walk(v, fix_str) for k, v in raw.items()}
    at, nb = ctx["too_early"]
    nb = datetime.datetime.strptime(nb, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    for h in out["reenable-refused-too-early"]["headers"]:
        if h[0] == "Retry-After":
            h[1] = str(int(norm_ts(nb) - norm_ts(at)))

    # Random values, named by kind and by order of first appearance.
    tokens, nonces = set(), set()
    for rec in out.values():
        collect_tokens(rec["body"], tokens)
        for k, v in rec["headers"]:
            if k == "Replay-Nonce":
                nonces.add(v)
        if isinstance(rec["body"], dict) and isinstance(rec["body"].get("protected"), dict):
            nonces.add(rec["body"]["protected"]["nonce"])
    ids = re.compile(r"https://example\.com/acme/(authz|chall|order|acct|cert)/([A-Za-z0-9_-]+)")
    mapping, counts = {}, {}

    def name(kind, value):
        if value not in mapping:
            counts[kind] = counts.get(kind, 0) + 1
            mapping[value] = placeholder(kind, counts[kind], len(value))

    for key in MARKERS:
        text = json.dumps(out[key])
        hits = [(m.start(2), m.group(1), m.group(2)) for m in ids.finditer(text)]
        for kind, values in (("token", tokens), ("nonce", nonces)):
            for v in values:
                for m in re.finditer(re.escape(v), text):
                    hits.append((m.start(), kind, v))
        for _, kind, v in sorted(hits):
            name(kind, v)
    if mapping:
        pat = re.compile("|".join(re.escape(v) for v in sorted(mapping, key=len, reverse=True)))
        out = {k: walk(v, lambda s: pat.sub(lambda m: mapping[m.group(0)], s) if isinstance(s, str) else s)
               for k, v in out.items()}
    for n, key in enumerate(REQUESTS, 1):
        sig = out[key]["body"]["signature"]
        full = placeholder("signature", n, len(sig))
        out[key]["body"]["signature"] = full[:16] + "..." + full[-16:]
    return out


# ------------------------------------------------------ rendering, folding

def render(rec, request=False):
    lines = [rec["start"]] + [f"{k}: {v}" for k, v in rec["headers"]]
    if rec["body"] is not None:
        lines.append("")
        if request:
            b = rec["body"]
            lines.append("{")
            for part in ("protected", "payload"):
                inner = json.dumps(b[part], indent=2).replace("\n", "\n  ")
                lines.extend(f'  "{part}": base64url({inner}),'.split("\n"))
            lines.append(f'  "signature": {json.dumps(b["signature"])}')
            lines.append("}")
        else:
            lines.extend(json.dumps(rec["body"], indent=2).split("\n"))
    return fold(lines)


def fold(lines):
    """RFC 8792 single-backslash folding of lines longer than WIDTH."""
    if all(len(l) <= WIDTH for l in lines):
        return lines
    out = [FOLD_NOTE, ""]
    for l in lines:
        indent = " " * min(len(l) - len(l.lstrip()) + 2, 20)
        first = True
        while len(l) > WIDTH if first else len(indent) + len(l) > WIDTH:
            room = (WIDTH - 1) if first else (WIDTH - 1 - len(indent))
            # No space on either side of a fold (unfolding strips the
            # continuation's leading spaces); prefer folding after / - . :
            ok = [k for k in range(max(room - 24, 1), room + 1) if l[k] != " " and l[k - 1] != " "]
            nice = [k for k in ok if l[k - 1] in "/-.:"]
            cut = (nice or ok or [room])[-1]
            out.append((l[:cut] if first else indent + l[:cut]) + "\\")
            l, first = l[cut:], False
        out.append(l if first else indent + l)
    return out


def unfold(lines):
    if not lines or lines[0] != FOLD_NOTE:
        return lines
    out, cont = [], False
    for l in lines[2:]:
        piece = l.lstrip() if cont else l
        if cont:
            out[-1] += piece
        else:
            out.append(piece)
        cont = out[-1].endswith("\\")
        if cont:
            out[-1] = out[-1][:-1]
    return out


# ------------------------------------------------------ the draft's blocks

def find_blocks(md_lines):
    """{name: (first line index of the block content, end index, content lines)}"""
    blocks = {}
    for i, l in enumerate(md_lines):
        m = re.match(r"^<!-- example: ([a-z0-9-]+) -->\s*$", l)
        if not m:
            continue
        j = i + 1
        while j < len(md_lines) and md_lines[j].strip() == "":
            j += 1
        if j >= len(md_lines) or not md_lines[j].startswith("~~~"):
            raise SystemExit(f"draft line {i + 1}: marker {m.group(1)} is not followed by a ~~~ block")
        k = j + 1
        while k < len(md_lines) and not md_lines[k].startswith("~~~"):
            k += 1
        blocks[m.group(1)] = (j + 1, k, md_lines[j + 1:k])
    return blocks


def strip_base64url(text):
    """RFC 8555 notation base64url({...}) -> {...}."""
    while True:
        i = text.find("base64url(")
        if i < 0:
            return text
        j, depth = i + len("base64url("), 0
        k = j
        in_str = False
        while k < len(text):
            ch = text[k]
            if in_str:
                if ch == "\\":
                    k += 1
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch in "{[":
                depth += 1
            elif ch in "}]":
                depth -= 1
            elif ch == ")" and depth == 0:
                break
            k += 1
        text = text[:i] + text[j:k] + text[k + 1:]


def parse_block(lines, name):
    lines = unfold(lines)
    start, headers = lines[0], []
    i = 1
    while i < len(lines) and lines[i].strip() != "":
        k, _, v = lines[i].partition(":")
        headers.append([k.strip(), v.strip()])
        i += 1
    body_text = "\n".join(lines[i + 1:]).strip()
    body = None
    if body_text:
        try:
            body = json.loads(strip_base64url(body_text))
        except ValueError as e:
            raise SystemExit(f"draft example {name}: body is not JSON ({e})")
    return {"start": start, "headers": headers, "body": body}


def view(rec, name):
    """What is compared: form only for times, nonces and Retry-After."""
    rec = copy.deepcopy(rec)
    hdrs = []
    for k, v in rec["headers"]:
        k = next((s for s in SHOWN_HEADERS + ["Host"] if s.lower() == k.lower()), k)
        if k == "Replay-Nonce":
            v = "<nonce>" if re.fullmatch(r"[A-Za-z0-9_-]+", v) else v
        elif k == "Retry-After":
            v = "<seconds>" if v.isdigit() and int(v) > 0 else v
        hdrs.append([k, v])
    body = walk(rec["body"], lambda s: TIME_RE.sub("<time>", s) if isinstance(s, str) else s)
    if name in REQUESTS and isinstance(body, dict):
        prot = body.get("protected")
        body = {"payload": body.get("payload"),
                "protected member names": sorted(prot) if isinstance(prot, dict) else prot}
    return {"start": rec["start"], "headers": sorted(hdrs), "body": body}


def compare(generated, md_lines):
    blocks = find_blocks(md_lines)
    bad = 0
    for name in MARKERS:
        if name not in blocks:
            print(f"DIFF {name}: no '<!-- example: {name} -->' block in the draft")
            bad += 1
            continue
        want = json.dumps(view(generated[name], name), indent=2, sort_keys=True).split("\n")
        have = json.dumps(view(parse_block(blocks[name][2], name), name), indent=2, sort_keys=True).split("\n")
        if want != have:
            bad += 1
            print(f"DIFF {name} (--- draft, +++ aro-server):")
            for l in difflib.unified_diff(have, want, "draft", "aro-server", lineterm="", n=2):
                print("  " + l)
    for name in sorted(set(blocks) - set(MARKERS)):
        print(f"DIFF {name}: marker in the draft that generate.py does not produce")
        bad += 1
    return bad


def update(generated, md_lines):
    blocks = find_blocks(md_lines)
    for name in sorted(MARKERS, key=lambda n: -blocks[n][0]):   # bottom up: indices stay valid
        a, b, _ = blocks[name]
        md_lines[a:b] = render(generated[name], request=(name in REQUESTS))
    return md_lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--update", action="store_true", help="rewrite the draft's example blocks")
    ap.add_argument("--from-json", action="store_true", help="use the NAME.json files, do not run the server")
    ap.add_argument("--out", default=HERE, help="where NAME.json files are written (default: next to this script)")
    ap.add_argument("--draft", default=DRAFT, help="the draft's Markdown source")
    args = ap.parse_args()
    # A timeout's SIGTERM still stops the servers (Harness closes on exit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    if args.from_json:
        generated = {}
        for name in MARKERS:
            with open(os.path.join(args.out, name + ".json")) as f:
                generated[name] = json.load(f)
    else:
        t0 = time.time()
        generated = run()
        os.makedirs(args.out, exist_ok=True)
        for name in MARKERS:
            with open(os.path.join(args.out, name + ".json"), "w") as f:
                json.dump(generated[name], f, indent=2)
                f.write("\n")
        print(f"ran aro-server in {time.time() - t0:.1f}s; wrote {len(MARKERS)} examples to {args.out}")

    with open(args.draft) as f:
        md_lines = f.read().split("\n")
    if args.update:
        md_lines = update(generated, md_lines)
        with open(args.draft, "w") as f:
            f.write("\n".join(md_lines))
        print(f"rewrote {len(MARKERS)} example blocks in {args.draft}")
    bad = compare(generated, md_lines)
    if bad:
        print(f"FAIL: {bad} of the draft's examples disagree with aro-server "
              f"(fix the server, or run draft/examples/generate.py --update and fix the text)")
        return 1
    print(f"OK: the draft's {len(MARKERS)} examples agree with aro-server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
