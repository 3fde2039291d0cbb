#!/usr/bin/env python3
"""Fills the draft's "Measured Costs" appendix from the benchmark's CSV
(tests/bench/results/economics.csv and extrapolation.csv), so that every
number there comes from a run of tests/bench/run. Rewrites the text
between the markers <!-- measured-costs:begin --> and <!-- measured-costs:end -->.
Usage: draft/fill_measured_costs.py [--check]"""
import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "..", "tests", "bench", "results")
DRAFT = os.path.join(HERE, "draft-aro-acme-retry-options.md")
ARMS = [("legacy", "legacy-no-deactivation"), ("legacy-deactivate", "legacy-deactivation"),
        ("retry-options", "retry-options"), ("server-8.2-retries", "server-8.2")]
POPS = [("blocked", "First choice blocked (http-01 fails, dns-01 works)"),
        ("transient", "Transient failure (the same method passes later)"),
        ("zombie", "Zombie (never passes; per order attempted)"),
        ("healthy", "Healthy (the first choice passes)")]


def rows():
    with open(os.path.join(RESULTS, "economics.csv")) as f:
        return list(csv.DictReader(f))


def table(data, pop, names):
    out = ["| Arm | requests | orders | authz | challenges | store KB | validation attempts | "
           "failed-validation units | time to cert (s) |",
           "|:---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, label in ARMS:
        r = next(x for x in data if x["arm"] == key and x["population"] == pop and x["names"] == str(names))
        per = int(r["issued"]) or int(r["flows"])   # zombies: per order attempted
        f = lambda k: float(r[k]) / per  # noqa: E731
        t = float(r["time_to_cert_p50_ms"]) / 1000 if int(r["issued"]) else float(r["time_to_give_up_mean_ms"]) / 1000
        out.append(f"| {label} | {f('http_requests'):.1f} | {f('orders'):.2f} | {f('authorizations'):.2f} | "
                   f"{f('challenges'):.2f} | {f('store_bytes') / 1024:.1f} | {f('validation_attempts'):.2f} | "
                   f"{f('failed_validation_units'):.2f} | {t:.2f}{'' if int(r['issued']) else ' (gives up)'} |")
    return out


def extrapolation():
    with open(os.path.join(RESULTS, "extrapolation.csv")) as f:
        data = list(csv.DictReader(f))
    metrics = [c for c in data[0].keys() if c != "arm"]
    label = dict(ARMS)
    out = ["| per day | " + " | ".join(label.get(r["arm"], r["arm"]) for r in data) + " |",
           "|:---|" + "---:|" * len(data)]
    for m in metrics:
        out.append(f"| {m.replace('_', ' ')} | " + " | ".join(f"{int(float(r[m])):,}" for r in data) + " |")
    return out


def render():
    data = rows()
    lines = []
    for names in (1, 3):
        for pop, title in POPS:
            lines += table(data, pop, names)
            lines.append(f'{{: title="{title}, {names}-name orders"}}')
            lines.append("")
    lines += extrapolation()
    lines.append('{: title="Extrapolation to ten million certificates a day"}')
    return "\n".join(lines)


def main():
    text = open(DRAFT).read()
    b, e = "<!-- measured-costs:begin -->\n", "<!-- measured-costs:end -->"
    i, j = text.index(b) + len(b), text.index(e)
    new = text[:i] + render() + "\n" + text[j:]
    if "--check" in sys.argv:
        sys.exit(0 if new == text else 1)
    open(DRAFT, "w").write(new)


if __name__ == "__main__":
    main()
