#!/usr/bin/env python3
"""Fills the draft's measured figures from the benchmark's results, so that
every number in the draft comes from a run of this code:

  tests/bench/results/economics.csv     every design x population x names
  tests/bench/results/sensitivity-winners*.csv, break-even.csv
                                        the failure-mix grid and break-evens
  tests/bench/results/summary.md        the run's date
  interop/results/matrix.md             the independent client's cells
  server/, common/                      the size of the extension's code

It rewrites the blocks between <!-- NAME:begin --> and <!-- NAME:end -->
(measured-costs, sensitivity, zombies) and the inline spans
<!--n:KEY-->...<!--/n--> (savings-summary, code-size, pyclient,
impl-date).

Usage: draft/fill_measured_costs.py [--check]
  --check   exit 1 when the draft differs from what the results give
"""
import csv
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, ".."))
RESULTS = os.path.join(TOP, "tests", "bench", "results")
DRAFT = os.path.join(HERE, "draft-aro-acme-retry-options.md")

# The designs, in the benchmark's letters (docs/benchmarks.md, "Arms").
DESIGNS = [("a", "legacy, new order"), ("a'", "legacy, new order, deactivating"),
           ("b", "legacy, single method"), ("c", "server-side retries (8.2)"),
           ("d", "re-enabling"), ("e", "pending-hold"),
           ("e+c", "pending-hold, same type by 8.2"),
           ("f", "pre-authorization, new authorization"),
           ("f+d", "pre-authorization, re-enabling"), ("f+e", "pre-authorization, pending-hold")]
NAME = dict(DESIGNS)
POPS = [("blocked", "First method blocked (http-01 refused, dns-01 works)"),
        ("transient", "Transient failure (the same method passes later)"),
        ("zombie", "Zombie (never passes)")]
REFERENCE_MIX = (0.005, 0.02, 0.05)     # blocked, transient, zombie: the -00 draft's assumption


def read_csv(name):
    with open(os.path.join(RESULTS, name)) as f:
        return list(csv.DictReader(f))


class Cells:
    """economics.csv by (label, population, names)."""

    def __init__(self):
        self.rows = {(r["label"], r["population"], int(r["names"])): r for r in read_csv("economics.csv")}

    def get(self, label, pop, names):
        return self.rows[(label, pop, names)]

    def unit(self, label, pop, names, key):
        """Per issued certificate, or per run where the runs issued nothing."""
        r = self.get(label, pop, names)
        return float(r[key]) / (int(r["issued"]) or int(r["flows"]))

    def per_run(self, label, pop, names, key):
        r = self.get(label, pop, names)
        return float(r[key]) / int(r["flows"])

    def seconds(self, label, pop, names):
        r = self.get(label, pop, names)
        if int(r["issued"]):
            return f"{float(r['time_to_cert_mean_ms']) / 1000:.2f}"
        return f"{float(r['time_to_give_up_mean_ms']) / 1000:.2f} (gives up)"

    def at_mix(self, label, names, mix, key):
        """Cost per certificate over a mix of runs (docs/benchmarks.md,
        "Sensitivity"): each population's cost per run weighted by its
        share, over the certificates per run likewise weighted."""
        b, t, z = mix
        shares = {"healthy": 1 - b - t - z, "blocked": b, "transient": t, "zombie": z}
        cost = sum(s * self.per_run(label, p, names, key) for p, s in shares.items() if s)
        certs = sum(s * self.per_run(label, p, names, "issued") for p, s in shares.items() if s)
        return cost / certs, certs * 100


def pct(x):
    return f"{x * 100:g}%"


def num(x, digits=2):
    s = f"{x:.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def design(label):
    return f"({label}) {NAME[label]}"


# ---- the blocks -------------------------------------------------------------

def measured_costs(cells):
    L = []
    h1 = {k: {cells.unit(l, "healthy", 1, k) for l, _ in DESIGNS}
          for k in ("http_requests", "orders", "rows", "validation_attempts")}
    h3 = {k: {cells.unit(l, "healthy", 3, k) for l, _ in DESIGNS} for k in ("http_requests", "rows")}
    if all(len(v) == 1 for v in list(h1.values()) + list(h3.values())):
        L.append(f"Without a failure every design costs the same: {num(h1['http_requests'].pop())} requests, "
                 f"{num(h1['orders'].pop())} order, {num(h1['rows'].pop())} rows and "
                 f"{num(h1['validation_attempts'].pop())} validation per certificate (three names: "
                 f"{num(h3['http_requests'].pop())} requests, {num(h3['rows'].pop())} rows); asking for "
                 "pending-hold and pre-authorizing cost nothing on that path.")
    else:
        L.append("Without a failure the designs differ (see the aro project's tests/bench/results/summary.md).")
    L.append("")
    L.append("Where a design issues nothing (zombies; (b) also in blocked and transient runs) its figures are per "
             "run and its time is until the client gives up; elsewhere they are per certificate and the time is "
             "the mean time to the certificate. Rows are the orders, authorizations and challenges created; "
             "failed validations are what a failed-validation limit counts (server-side retries within one "
             "attempt count once).")
    L.append("")
    for pop, title in POPS:
        L.append("| Design | requests | orders | rows | validations | failed validations | seconds |")
        L.append("|:---|---:|---:|---:|---:|---:|---:|")
        for label, _ in DESIGNS:
            u = lambda k: cells.unit(label, pop, 1, k)  # noqa: E731
            L.append(f"| {design(label)} | {num(u('http_requests'), 1)} | {num(u('orders'))} | {num(u('rows'))} | "
                     f"{num(u('validation_attempts'))} | {num(u('failed_validation_units'))} | "
                     f"{cells.seconds(label, pop, 1)} |")
        per = "per run; seconds until the client gives up" if pop == "zombie" else "per certificate"
        L.append(f'{{: title="{title}, one-name orders, {per}"}}')
        L.append("")
    L.append("| Design | blocked: requests | rows | transient: requests | failed validations | "
             "zombie: requests | failed validations |")
    L.append("|:---|---:|---:|---:|---:|---:|---:|")
    for label, _ in DESIGNS:
        u = lambda p, k: cells.unit(label, p, 3, k)  # noqa: E731
        L.append(f"| {design(label)} | {num(u('blocked', 'http_requests'), 1)} | {num(u('blocked', 'rows'))} | "
                 f"{num(u('transient', 'http_requests'), 1)} | {num(u('transient', 'failed_validation_units'))} | "
                 f"{num(u('zombie', 'http_requests'), 1)} | {num(u('zombie', 'failed_validation_units'))} |")
    L.append('{: title="Three-name orders (the first name fails), per certificate (zombies: per run)"}')
    return L


def winner_shares(rows, names):
    """Share of grid points at which each design is (one of) the favoured,
    as the benchmark's summary counts it (a tie counts for each)."""
    pts = [r for r in rows if int(r["names"]) == names]
    share = {}
    for r in pts:
        if r["winner"] == "all":
            continue
        for x in r["winner"].rstrip("*").split("="):
            share[x] = share.get(x, 0) + 1 / len(pts)
    return share


def shares_text(share):
    order = [l for l, _ in DESIGNS if share.get(l, 0) > 0]
    return ", ".join(f"({l}) {share[l] * 100:.0f}%" for l in order)


def never_wins(shares_all):
    return [l for l, _ in DESIGNS if all(s.get(l, 0) == 0 for s in shares_all)]


def sensitivity(cells):
    wins = read_csv("sensitivity-winners.csv")
    plain = read_csv("sensitivity-winners-no-newauthz.csv")
    grid = sorted({float(r["zombie"]) for r in wins})
    L = []
    L.append("A failure mix is the share of client runs whose first name is blocked (b), transient (t) or a "
             "zombie (z); the rest are healthy. At a mix, a design's cost per certificate combines its own "
             "measured costs per run of each population, weighted by their shares, over its certificates per "
             "run. The data favours the design best on most of requests, orders, rows and failed validations "
             "per certificate (requests within their measured noise count as equal); time to the retried "
             "certificates, then legacy safety (no object leaves a state RFC 8555 calls final), break ties. "
             "Only designs that issue as many certificates per run as the best compete: the single-method "
             "client (b) leaves blocked and transient runs without a certificate. The grid takes every share "
             f"in {', '.join(pct(g) for g in grid)} for each of b, t and z ({len(grid) ** 3} mixes).")
    L.append("")
    s1, s3 = winner_shares(wins, 1), winner_shares(wins, 3)
    p1, p3 = winner_shares(plain, 1), winner_shares(plain, 3)
    same = "; three-name orders give the same shares" if (s1, p1) == (s3, p3) else \
        f"; three-name orders: {shares_text(s3)}, without newAuthz {shares_text(p3)}"
    L.append(f"Share of the mixes at which each design is favoured (a tie counts for each), one-name orders: "
             f"{shares_text(s1)}. "
             f"Among the designs a server without newAuthz can offer: {shares_text(p1)}{same}. "
             f"{', '.join('(' + l + ')' for l in never_wins([s1, s3, p1, p3]))} are favoured at no mix.")
    L.append("")
    # The map without pre-authorization (the case of a CA without newAuthz), one name.
    zs = grid
    rows_bt = [(b, t) for b in (0, 0.01, 0.05, 0.2) for t in (0, 0.01, 0.05, 0.2)]
    by = {(float(r["blocked"]), float(r["transient"]), float(r["zombie"])): r for r in plain if int(r["names"]) == 1}
    L.append("| b | t | " + " | ".join(f"z={pct(z)}" for z in zs) + " |")
    L.append("|---:|---:|" + "---|" * len(zs))
    for b, t in rows_bt:
        cells_txt = []
        for z in zs:
            r = by[(b, t, z)]
            cells_txt.append(r["winner"].replace("=", " = "))
        L.append(f"| {pct(b)} | {pct(t)} | " + " | ".join(cells_txt) + " |")
    L.append('{: title="Favoured design without newAuthz, one-name orders (*: by a tie-breaker; all: no failure)"}')
    L.append("")
    b, t, z = REFERENCE_MIX
    L.append("| Design | certificates per 100 runs | requests | orders | rows | failed validations |")
    L.append("|:---|---:|---:|---:|---:|---:|")
    for label, _ in DESIGNS:
        v = {k: cells.at_mix(label, 1, REFERENCE_MIX, k) for k in
             ("http_requests", "orders", "rows", "failed_validation_units")}
        L.append(f"| {design(label)} | {v['orders'][1]:.1f} | {v['http_requests'][0]:.3f} | {v['orders'][0]:.3f} | "
                 f"{v['rows'][0]:.3f} | {v['failed_validation_units'][0]:.3f} |")
    L.append(f'{{: title="Per certificate at b={pct(b)}, t={pct(t)}, z={pct(z)} (the -00 assumption), one-name orders"}}')
    return L


def zombies(cells):
    L = []
    z = lambda l, k, n=1: cells.per_run(l, "zombie", n, k)  # noqa: E731
    L.append(f"A zombie run of the single-method client (b) costs {num(z('b', 'http_requests'))} requests, "
             f"{num(z('b', 'orders'))} order, {num(z('b', 'rows'))} rows and {num(z('b', 'validation_attempts'))} "
             f"failed validation. A client that uses a whole offer fails as often as the offer allows (three "
             f"attempts per authorization by default): (d) and (e) {num(z('e', 'http_requests'))} requests, "
             f"{num(z('e', 'orders'))} order, {num(z('e', 'rows'))} rows and "
             f"{num(z('e', 'failed_validation_units'))} failed validations; pre-authorizing, (f+e) "
             f"{num(z('f+e', 'http_requests'))} requests and no order. The legacy fallback by new order (a), "
             f"the -00 baseline, costs {num(z('a', 'http_requests'))} requests, {num(z('a', 'orders'))} orders and "
             f"{num(z('a', 'failed_validation_units'))} failed validations, which is why -00 found zombies "
             f"cheaper with retries: against (b) they are dearer. Server-side retries (c) cost "
             f"{num(z('c', 'http_requests'))} requests and {num(z('c', 'validation_attempts'))} validations. "
             f"A server that retries within each attempt and offers no same-type retry (e+c) lets a zombie fail "
             f"{num(z('e+c', 'failed_validation_units'))} times (once per method it can solve), in "
             f"{num(z('e+c', 'validation_attempts'))} validations and {num(z('e+c', 'http_requests'))} requests.")
    L.append("")
    be = [r for r in read_csv("break-even.csv") if r["baseline"] == "legacy-single"]
    cols = [c for c in be[0] if c.startswith("b=")]
    L.append("| Design | names | criterion | " + " | ".join(cols) + " |")
    L.append("|:---|---:|:---|" + "---|" * len(cols))
    for label in ("e", "e+c", "f+e"):
        for names in (1, 3):
            for crit in ("requests", "rows", "failed-validation units"):
                r = next(x for x in be if x["label"] == label and int(x["names"]) == names and x["criterion"] == crit)
                L.append(f"| {design(label)} | {names} | {crit.replace('failed-validation units', 'failed validations')} | "
                         + " | ".join(r[c] for c in cols) + " |")
    L.append('{: title="Below which zombie share z each design costs less than the single-method client (b)"}')
    L.append("")
    L.append("(d) and (f+d) have the figures of (e) and (f+e). A server bounds what a zombie costs it by "
             "the attempts its offers allow and by a limit on failed validations per account and name "
             "(aro's default: 5 an hour, after Boulder's); a client that retries only after changing something "
             "(Client Behaviour) fails less often than the benchmark's client, which uses every attempt.")
    return L


# ---- the inline figures -----------------------------------------------------

def savings_summary(cells):
    mix = REFERENCE_MIX
    a = {k: cells.at_mix("a", 1, mix, k)[0] for k in ("http_requests", "orders")}
    e = {k: cells.at_mix("e", 1, mix, k)[0] for k in ("http_requests", "orders")}
    ec = cells.at_mix("e+c", 1, mix, "failed_validation_units")[0]
    e_f = cells.at_mix("e", 1, mix, "failed_validation_units")[0]
    # Where the orders (e) saves against (a) come from, per population.
    saved = {p: s * (cells.per_run("a", p, 1, "orders") - cells.per_run("e", p, 1, "orders"))
             for p, s in zip(("blocked", "transient", "zombie"), mix)}
    total = sum(saved.values())
    be = next(r for r in read_csv("break-even.csv") if r["label"] == "e" and r["baseline"] == "legacy-single"
              and int(r["names"]) == 1 and r["criterion"] == "requests")["b=0.5% t=2%"]
    return (f"at the -00 assumption (one-name orders; {pct(mix[0])} of runs blocked, {pct(mix[1])} transient, "
            f"{pct(mix[2])} zombies), pending-hold takes "
            f"{(1 - e['http_requests'] / a['http_requests']) * 100:.1f}% fewer requests and "
            f"{(1 - e['orders'] / a['orders']) * 100:.0f}% fewer orders per certificate than fallback by new order, "
            f"{saved['zombie'] / total * 100:.0f}% of the orders saved coming from zombie runs; "
            f"leaving same-type retries to the server lowers failed validations from {e_f:.3f} to {ec:.3f} per "
            f"certificate; and against a client that tries one method once, pending-hold saves requests only "
            f"while zombies stay {be.replace('z < ', 'below ')} of runs ({{{{zombies}}}})")


# The extension's server-side code: what decides offers and moves
# authorizations and orders between statuses for it (whole files, or the
# named functions of shared files). Lines that are neither blank nor
# comment only.
EXTENSION_CODE = [
    ("server/rules/offer.c", None),
    ("server/rules/lifecycle.c", ["orders_come_back", "lifecycle_reenable_conflicts_with_replacement",
                                  "lifecycle_reenable", "remember_failure", "decide_after_failure",
                                  "end_kept_challenges", "apply_failure", "attempt_starts"]),
    ("server/acme/authz.c", ["view_challenge", "reenable_caa", "authz_retry_prepare", "authz_retry_prepared_free",
                             "reenable_caa_allows", "count_reenable", "offered_choice", "refusal_by_status",
                             "handle_authz_retry"]),
    ("server/acme/challenge.c", ["held_choice_refused"]),
    ("server/acme/render.c", ["authz_retry"]),
    ("common/acme_objects.c", ["acme_retry_options_decode", "decode_retry_member", "acme_retry_options_write",
                               "acme_retry_options_free"]),
]


def code_lines(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("//"))


def function_text(src, name):
    """The definition of function name at the start of a line, through its
    closing brace at column 0."""
    m = re.search(r"^[A-Za-z_][^;\n]*\b" + re.escape(name) + r"\(", src, flags=re.M)
    if not m:
        raise SystemExit(f"fill_measured_costs: no function {name}")
    end = src.index("\n}\n", m.start())
    return src[m.start():end + 3]


def code_size():
    total = 0
    for path, funcs in EXTENSION_CODE:
        src = open(os.path.join(TOP, path)).read()
        total += code_lines(src) if funcs is None else sum(code_lines(function_text(src, f)) for f in funcs)
    return f"about {round(total, -1):.0f} lines of C, not counting comments and blank lines"


def pyclient():
    """The independent client's pending-hold and re-enable cells against
    aro-server, and its fallback against servers without the extension."""
    matrix = open(os.path.join(TOP, "interop", "results", "matrix.md")).read()
    expected = [line.split("\t") for line in open(os.path.join(TOP, "interop", "expected.tsv")).read().splitlines()
                if line.startswith("pyclient\t")]
    want = {(s, c) for _, s, c, res, *rest in expected if res == "pass" and c in ("fallback-hold", "fallback-retry-options")}
    m = re.search(r"^Run (\S+) .*?, (\d+) passed, (\d+) failed", matrix, flags=re.M)
    if not m or m.group(3) != "0" or len(want) != 6:
        raise SystemExit("fill_measured_costs: the interop matrix does not show the pyclient cells passing")
    return ("against aro-server, one order each time: by pending-hold (the server counted no re-enable) and, "
            "asking for none, by re-enabling (one accepted re-enable); against aro-server with the extension "
            "off and against Pebble 2.4, a new order with another method, as an RFC 8555 client would "
            f"(interop matrix of {m.group(1)}). Its reading found seven places where the text was ambiguous "
            "and four server behaviours the text implied that aro lacked; both are fixed in this version")


def impl_date():
    text = open(os.path.join(RESULTS, "summary.md")).read()
    m = re.search(r"Generated by `tests/bench/run` on (\d{4}-\d{2})", text)
    return m.group(1)


# ---- the rewrite ------------------------------------------------------------

def render(text):
    cells = Cells()
    for key, fn in (("measured-costs", measured_costs), ("sensitivity", sensitivity), ("zombies", zombies)):
        b, e = f"<!-- {key}:begin -->\n", f"<!-- {key}:end -->"
        i, j = text.index(b) + len(b), text.index(e)
        text = text[:i] + "\n".join(fn(cells)) + "\n" + text[j:]
    spans = {"savings-summary": lambda: savings_summary(cells), "code-size": code_size,
             "pyclient": pyclient, "impl-date": impl_date}
    for key, fn in spans.items():
        pat = re.compile(r"<!--n:" + re.escape(key) + r"-->.*?<!--/n-->", flags=re.S)
        if not pat.search(text):
            raise SystemExit(f"fill_measured_costs: no <!--n:{key}--> span in the draft")
        value = fn()
        text = pat.sub(lambda _: f"<!--n:{key}-->{value}<!--/n-->", text)
    return text


def main():
    text = open(DRAFT).read()
    new = render(text)
    if "--check" in sys.argv:
        if new != text:
            print("fill_measured_costs: the draft's figures differ from the results; run draft/fill_measured_costs.py",
                  file=sys.stderr)
            return 1
        return 0
    if new != text:
        open(DRAFT, "w").write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
