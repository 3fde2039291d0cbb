"""Output of tests/bench/run: summary.md sections (one function per part),
the plots (gnuplot) and the compact tables printed on stderr."""
import json
import os
import shutil
import subprocess
import time

from bench_economics import POPULATIONS, per_unit, plan, server_82_config, server_config
from bench_sensitivity import (BREAK_EVEN_POINTS, CRITERIA, GRID, REFERENCE_MIXES, compact_table,
                               reference_costs, winner_share)
from bench_common import log


# ---- the economics table ---------------------------------------------------

ECON_HEAD = ("| names | population | arm | issued/runs | HTTP req | orders | authz | challenges | rows | store KB | "
             "validation attempts | failed-validation units | time to cert s (mean / p50) | server CPU ms |")


def econ_line(r, arm_label):
    u = per_unit(r)
    if r["issued"]:
        ttc = f"{r['time_to_cert_mean_ms'] / 1000:.2f} / {r['time_to_cert_p50_ms'] / 1000:.2f}"
    else:
        ttc = f"{r['time_to_give_up_mean_ms'] / 1000:.2f} (gives up)"
    return (f"| {r['names']} | {r['population']} | ({arm_label}) {r['arm']} | {r['issued']}/{r['flows']} | "
            f"{u['http_requests']:.1f} | {u['orders']:.2f} | {u['authorizations']:.2f} | {u['challenges']:.2f} | "
            f"{u['rows']:.2f} | {u['store_bytes'] / 1024:.1f} | {u['validation_attempts']:.2f} | "
            f"{u['failed_validation_units']:.2f} | {ttc} | {u['server_cpu_s'] * 1000:.1f} |")


def econ_table(econ, arm_list):
    label = {a.name: a.label for a in arm_list}
    order = {a.name: i for i, a in enumerate(arm_list)}
    pops = list(POPULATIONS)
    rows = sorted(econ, key=lambda r: (r["names"], pops.index(r["population"]), order.get(r["arm"], 99)))
    return [ECON_HEAD, "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"] + \
        [econ_line(r, label.get(r["arm"], "?")) for r in rows]


def econ_section(econ, arm_list, quick):
    flows, zflows, conc, poll = plan(quick)
    L = ["## Retry economics: every arm x population x names, one aro-server build\n"]
    L.append("Per issued certificate; where a run issues nothing (zombies; the single-method client's blocked and "
             "transient runs) per run. Every figure is counted by the server's `/metrics` over that cell's flows "
             "alone, the CPU is the server's from `/proc`; time to certificate is the client's.\n")
    L.append(f"Cells: {flows} runs ({zflows} for zombies) at concurrency {conc}; clients poll after "
             f"{poll.split(',')[0]} ms, then up to every {poll.split(',')[1]} ms. Server policy: "
             f"`{json.dumps(server_config(quick))}`, 3 attempts per authorization, failed-validation limit 5 per "
             f"account and name per hour, reuse of valid authorizations on (all defaults but the backoff); (c): "
             f"`{json.dumps(server_82_config(quick))}`. Rows = orders + authorizations + challenges created.\n")
    L.append("Arms:\n")
    for a in arm_list:
        L.append(f"- ({a.label}) `{a.name}`: {a.what}; client `--arm {a.client}`; server "
                 f"`{' '.join(a.flags) or 'default (retry-options on)'}`"
                 f"{' `' + json.dumps(a.config) + '`' if a.config else ''}; legacy-safe: {'yes' if a.safe else 'no'}")
    L.append("")
    L += econ_table(econ, arm_list)
    L.append("")
    return L


# ---- the sensitivity section ----------------------------------------------

def full_winner_table(decisions, names):
    by = {(d["blocked"], d["transient"], d["zombie"]): d["winner"] for d in decisions if d["names"] == names}
    L = ["| blocked | transient | " + " | ".join(f"z={z * 100:g}%" for z in GRID) + " |",
         "|---:|---:|" + "---|" * len(GRID)]
    for b in GRID:
        for t in GRID:
            L.append(f"| {b * 100:g}% | {t * 100:g}% | " + " | ".join(by.get((b, t, z), "") for z in GRID) + " |")
    return L


def reference_table(econ, arm_list, names, mix, what):
    rows, best_on = reference_costs(econ, arm_list, names, mix)
    b, t, z = mix
    L = [f"#### {names}-name orders, b={b * 100:g}% t={t * 100:g}% z={z * 100:g}% ({what})\n",
         "| arm | certificates per 100 runs | requests | orders | rows | failed-validation units | validation attempts "
         "| time to cert s | retry time s | server CPU ms |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for a, c in rows:
        if "http_requests" not in c:
            continue

        def v(k, nd):
            txt = f"{c[k]:.{nd}f}"
            return f"**{txt}**" if k in best_on and a.name in best_on[k] else txt
        rt = f"{c['retry_time_s']:.2f}" if "retry_time_s" in c else "-"
        L.append(f"| ({a.label}) {a.name} | {c['certs_per_run'] * 100:.1f} | {v('http_requests', 3)} | "
                 f"{v('orders', 4)} | {v('rows', 3)} | {v('failed_validation_units', 4)} | "
                 f"{c['validation_attempts']:.3f} | {c['time_to_cert_s']:.3f} | {rt} | "
                 f"{c['server_cpu_s'] * 1000:.2f} |")
    L.append("")
    return L


def sensitivity_section(decisions, bevens, arm_list, names_list, econ, plain_decisions, plain_arms):
    L = ["## Sensitivity: which arm the data favours over failure mixes\n"]
    L.append("A mix is the share of client runs whose first name is blocked (b), transient (t) or a zombie (z); the "
             "rest are healthy. Each arm's cost per certificate at a mix combines that arm's own measured cells "
             "(docs/benchmarks.md, \"Sensitivity\"). A cell names the favoured arm: the one best on most of requests, "
             "orders, rows and failed-validation units per certificate; `*` marks a cell where arms won as many "
             "criteria and time to certificate, then legacy safety, decided; `x=y` is a tie even then; `all`: no "
             "criterion tells the arms apart (no failures). Only arms that issue as many certificates per run as the "
             "best compete. Grid: every share in " + ", ".join(f"{g * 100:g}%" for g in GRID) + ".\n")
    for names in names_list:
        share = winner_share(decisions, arm_list, names)
        L.append(f"### {names}-name orders\n")
        L.append("Share of grid points where an arm is favoured: " +
                 ", ".join(f"({a.label}) {share[a.name] * 100:.0f}%" for a in arm_list if share[a.name] > 0) + ".\n")
        L += full_winner_table(decisions, names)
        L.append("")
    L.append("### Without pre-authorization\n")
    L.append("The same grid among the arms a server without newAuthz can offer (Let's Encrypt's Boulder does not "
             "implement pre-authorization): rows blocked and transient share, columns zombie share.\n")
    for names in names_list:
        share = winner_share(plain_decisions, plain_arms, names)
        L.append(f"{names}-name orders; share of grid points: " +
                 ", ".join(f"({a.label}) {share[a.name] * 100:.0f}%" for a in plain_arms if share[a.name] > 0) +
                 ".\n")
        L.append("```")
        L += compact_table(plain_decisions, names)
        L.append("```\n")
    L.append("### Per-certificate costs at reference mixes\n")
    L.append("Each arm's costs per certificate at a few mixes (b, t, z); **bold**: best on that criterion among the "
             "arms that issue every certificate. Retry time: mean time to certificate of the certificates that "
             "needed a retry (the tie-breaker).\n")
    for names in names_list:
        for mix, what in REFERENCE_MIXES:
            L += reference_table(econ, arm_list, names, mix, what)
    L.append("### Break-even against each baseline\n")
    L.append("Where the arm stops paying as the zombie share z grows from 0 to 30%, at fixed blocked and transient "
             "shares: `always` (cheaper over the whole range), `never`, `equal`, `z < x%` (cheaper below x), "
             "`z > x%` (cheaper above x), `with zombies` (equal without zombies, cheaper with them).\n")
    cols = [f"b={b * 100:g}% t={t * 100:g}%" for b, t in BREAK_EVEN_POINTS]
    for names in names_list:
        L.append(f"#### {names}-name orders\n")
        L.append("| arm | baseline | criterion | " + " | ".join(cols) + " |")
        L.append("|---|---|---|" + "---|" * len(cols))
        for r in bevens:
            if r["names"] == names:
                L.append(f"| ({r['label']}) {r['arm']} | {r['baseline']} | {r['criterion']} | " +
                         " | ".join(r[c] for c in cols) + " |")
        L.append("")
    return L


def print_econ(econ, arm_list):
    log("arm x population (per certificate; per run where none is issued):")
    for line in econ_table(econ, arm_list):
        log("  " + line)


def print_compact(decisions, arm_list, names_list, what="every arm"):
    for names in names_list:
        share = winner_share(decisions, arm_list, names)
        log(f"favoured arm ({what}), {names}-name orders (rows: blocked, transient share; columns: zombie share):")
        for line in compact_table(decisions, names):
            log("  " + line)
        log("  grid points favouring: " +
            ", ".join(f"({a.label}) {share[a.name] * 100:.0f}%" for a in arm_list if share[a.name] > 0))


# ---- throughput ------------------------------------------------------------

def throughput_section(floor, tput, h2, answered, quick):
    L = ["## Throughput: aro-server against Pebble 2.4, same run, same machine\n"]
    L.append("Pebble keeps everything in memory and never writes to disk; aro-server commits every state change "
             "durably (LMDB, fsync). Pebble runs with `PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0`; aro-server with "
             "its defaults (2 event loops). The load generator (aro-loadgen: an account and a kept-alive HTTP/2 "
             "connection per concurrent client, HTTP/1.1 in the row that says so, all of them coroutines on one thread) and the DNS server of the run "
             "(pebble-challtestsrv) run on the same 2 cores; the CPU per certificate of both is in the table: what "
             "the three take together bounds the rate. One fresh server per run.\n")
    L.append(f"Pebble climbs concurrency {', '.join(map(str, sorted({r['concurrency'] for r in tput if r['server'] == 'pebble'})))} "
             f"({'one run' if quick else 'up to three runs of 8 s each'} per level, every run must finish): "
             + (f"it answered up to **{answered}**" if answered else "it answered at no level")
             + (", and stopped answering above (a lock-order deadlock: pebble-stall.txt, docs/benchmarks.md)"
                if any(r["server"] == "pebble" and r["flow_errors"] for r in tput) else "")
             + f". aro-server is measured at that concurrency too: the comparison of CPU per certificate is there.\n")
    L.append("| server | concurrency | certs/s | p50 ms | p90 ms | p99 ms | server CPU ms/cert | server CPU use | "
             "load generator CPU ms/cert | DNS server CPU ms/cert | JWS/cert | peak RSS MB | errors |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in tput:
        jws = f"{r['jws_per_cert']:.1f}" if r.get("jws_per_cert") else ""
        L.append(f"| {r['server']} | {r['concurrency']} | {r['certs_per_second']:.1f} | {r['p50_ms']:.1f} | "
                 f"{r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['server_cpu_s_per_cert'] * 1000:.2f} | "
                 f"{r['server_cpu_util'] * 100:.0f}% | {r.get('loadgen_cpu_s_per_cert', 0) * 1000:.2f} | "
                 f"{r.get('dns_cpu_s_per_cert', 0) * 1000:.2f} | {jws} | "
                 f"{r['peak_rss_mb']:.1f} | {r['flow_errors']} {r['problems']} |")
    L.append("")
    aro = {r["concurrency"]: r for r in tput if r["server"] == "aro-server"}
    peb = {r["concurrency"]: r for r in tput if r["server"] == "pebble" and not r["flow_errors"]}
    if answered in aro and answered in peb and aro[answered]["server_cpu_s_per_cert"]:
        a, p = aro[answered], peb[answered]
        L.append(f"At concurrency {answered}, the highest at which Pebble answered: Pebble {p['server_cpu_s_per_cert'] * 1000:.2f} "
                 f"ms of CPU per certificate, aro-server {a['server_cpu_s_per_cert'] * 1000:.2f} ms: "
                 f"**{p['server_cpu_s_per_cert'] / a['server_cpu_s_per_cert']:.2f}x** "
                 f"({p['certs_per_second']:.0f} against {a['certs_per_second']:.0f} certificates per second).\n")
    L.append("| server | request | requests/s (h2load -c16 -m8) | failed |")
    L.append("|---|---|---:|---:|")
    for r in h2:
        L.append(f"| {r['server']} | {r['request']} | {r['rps']:,.0f} | {r['failed']} |")
    L.append("")
    L.append("### Crypto floor (openssl speed, same run)\n")
    L.append(f"ECDSA P-256: sign {floor['p256_sign_s'] * 1e6:.1f} µs, verify {floor['p256_verify_s'] * 1e6:.1f} µs "
             f"(one core; the median of {len(floor.get('p256_verify_s_runs', [0]))} one-second runs, whose "
             f"verifications took {', '.join(f'{v * 1e6:.1f}' for v in floor.get('p256_verify_s_runs', []))} µs). "
             "A certificate needs one verification per JWS the server checked (measured per certificate "
             "below), one for the CSR's self-signature, and one signature by the issuing CA.\n")
    for r in tput:
        if r["server"].startswith("aro-server") and r.get("crypto_floor_s_per_cert"):
            L.append(f"- {r['server']} c={r['concurrency']}: {r['jws_per_cert']:.1f} JWS/cert, floor "
                     f"{r['crypto_floor_s_per_cert'] * 1e3:.3f} ms, aro-server {r['server_cpu_s_per_cert'] * 1e3:.3f} "
                     f"ms = **{r['cpu_over_floor']:.2f}x** the floor")
    L.append("")
    return L


def scale_section(s, rows, spots, reuses):
    L = [f"## Scale: a store of {s['certificates']:,} certificates against an empty one\n"]
    L.append(f"aro-prefill (tests/bench/prefill.c) wrote {s['certificates']:,} certificates of {s['accounts']:,} "
             f"accounts, with their orders, authorizations, challenges and limit records, through the server's own "
             f"store code, in {s['prefill_seconds']} s. The store uses {s['store_used_bytes'] / 2**30:.2f} GiB "
             f"(file {s['store_file_bytes'] / 2**30:.2f} GiB): **{s['store_bytes_per_certificate']:,.0f} bytes per "
             "certificate**, everything included. Each run below is a fresh aro-server at concurrency 64, the "
             "empty and the prefilled store in turn; medians.\n")
    L.append("| store | certs/s | p50 ms | p99 ms | server CPU ms/cert | peak RSS MB | errors |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        L.append(f"| {r['store']} | {r['certs_per_second']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                 f"{r['server_cpu_s_per_cert'] * 1000:.2f} | {r['peak_rss_mb']:.1f} | {r['flow_errors']} |")
    L.append("")
    L.append(f"Prefilled over empty: throughput **{s['throughput_over_empty']:.3f}**, p99 latency "
             f"**{s['p99_over_empty']:.3f}**.\n")
    L.append("Checks through the ACME API on the prefilled store (the account's own key): the certificate downloaded "
             "(its leaf names the name and has the serial), its renewalInfo, and a newOrder for the name reusing the "
             "prefilled authorization (ready at once):\n")
    L.append("| name | download | renewalInfo | authorization reuse |")
    L.append("|---|---|---|---|")
    for r in spots:
        L.append(f"| {r['name']} | {'ok' if r['download'] else 'FAILED'} | {'ok' if r['renewalInfo'] else 'FAILED'} "
                 f"| {'ok' if r['authorization reuse'] else 'FAILED'} |")
    L.append("")
    L.append("The cost of a newOrder that reuses an authorization, by how many orders reused it before (prefilled: "
             "each finalized and issued), 100 newOrders each, one at a time:\n")
    L.append("| earlier orders over the authorization | server CPU µs per newOrder | client ms per newOrder (median) |")
    L.append("|---:|---:|---:|")
    for r in reuses:
        L.append(f"| {r['prior_orders']:,} | {r['server_cpu_us_per_new_order']:.0f} | {r['client_ms_p50']:.2f} |")
    L.append("")
    return L


def summary_md(out, quick, machine, sections, headline, seconds):
    L = ["# aro-server benchmark results\n"]
    if quick:
        L.append("**QUICK RUN: these figures only show that the benchmark works; they mean nothing.**\n")
    L.append(f"Machine: {machine}. Generated by `tests/bench/run` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {seconds / 60:.0f} minutes. "
             "Method: docs/benchmarks.md.\n")
    for s in sections:
        L += s
    L.append("## Headline\n")
    L.append("```")
    L += [f"{k}: {v}" for k, v in headline]
    L.append("```")
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(L) + "\n")


# ---- plots -----------------------------------------------------------------

TERMINALS = (("svg size 900,560 dynamic font 'sans,11'", "svg"), ("pngcairo size 900,560 font 'sans,10'", "png"))


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=False)


def plot_throughput(out, tput):
    dat = os.path.join(out, "plot-throughput.dat")
    levels = sorted({r["concurrency"] for r in tput})
    with open(dat, "w") as f:
        f.write("# concurrency aro-server pebble (certificates per second)\n")
        for c in levels:
            v = {r["server"]: r["certs_per_second"] for r in tput if r["concurrency"] == c}
            f.write(f"{c} {v.get('aro-server', 0):.2f} {v.get('pebble', 0):.2f}\n")
    for term, ext in TERMINALS:
        gnuplot(f"""
set terminal {term}
set output '{os.path.join(out, 'throughput.' + ext)}'
set title 'Full issuance flows per second (healthy, one name, same 2-core machine)'
set xlabel 'concurrency (clients)'
set ylabel 'certificates per second'
set logscale x 2
set key top left
set grid
plot '{dat}' using 1:2 with linespoints lw 2 title 'aro-server (durable LMDB store)', \\
     '{dat}' using 1:3 with linespoints lw 2 title 'Pebble 2.4 (in memory)'
""")


def plot_cost(out, econ, arm_list):
    econ1 = [r for r in econ if r["names"] == 1]
    pops = [p for p in POPULATIONS if any(r["population"] == p for r in econ1)]
    arms = [a for a in arm_list if any(r["arm"] == a.name for r in econ1)]
    dat = os.path.join(out, "plot-cost.dat")
    with open(dat, "w") as f:
        f.write("# population " + " ".join(a.name for a in arms) +
                " (HTTP requests per issued certificate; per run where none is issued)\n")
        for p in pops:
            vals = []
            for a in arms:
                r = next((r for r in econ1 if r["arm"] == a.name and r["population"] == p), None)
                vals.append(f"{per_unit(r)['http_requests']:.2f}" if r else "0")
            f.write(f"{p} " + " ".join(vals) + "\n")
    series = ", ".join(f"'{dat}' using {i + 2}:xtic(1) title " + '"' + f"({a.label}) {a.name}" + '"'
                       for i, a in enumerate(arms))
    for term, ext in TERMINALS:
        gnuplot(f"""
set terminal {term}
set output '{os.path.join(out, 'cost.' + ext)}'
set title 'Server HTTP requests per issued certificate (per run where none is issued), one-name orders'
set xlabel 'population'
set ylabel 'HTTP requests'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set grid ytics
set yrange [0:*]
plot {series}
""")


PALETTE = ["#1f77b4", "#aec7e8", "#ff7f0e", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#7f7f7f", "#393b79"]
TIE_COLOUR = "#e5e5e5"


def plot_sensitivity(out, decisions, arm_list, names_list, t_values=(0.0, 0.02, 0.10)):
    """Winner maps: zombie share across, blocked share up, one panel per
    transient share and names, and a legend panel per row; a tie is grey."""
    idx = {a.name: i for i, a in enumerate(arm_list)}
    labels = [f"({a.label}) {a.name}" for a in arm_list] + ["tie (x=y) or all equal"]
    tie = len(labels) - 1
    dat = os.path.join(out, "plot-sensitivity.dat")
    by = {(d["names"], d["blocked"], d["transient"], d["zombie"]): d["winner_arms"].split() for d in decisions}
    blocks = []
    with open(dat, "w") as f:
        f.write("# zombie-index blocked-index arm-index (blocks: names x transient)\n")
        for names in names_list:
            for t in t_values:
                for bi, b in enumerate(GRID):
                    for zi, z in enumerate(GRID):
                        w = by.get((names, b, t, z), [])
                        f.write(f"{zi} {bi} {idx[w[0]] if len(w) == 1 else tie}\n")
                    f.write("\n")
                f.write("\n")
                blocks.append((names, t))
    ticks = ", ".join(f"'{g * 100:g}' {i}" for i, g in enumerate(GRID))
    # Discrete colours: maxcolors samples the defined points exactly.
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(arm_list))] + [TIE_COLOUR]
    pal = ", ".join(f"{i} '{c}'" for i, c in enumerate(colours))
    legend = ", ".join(f"NaN with boxes fs solid fc rgb '{c}' title " + '"' + lab + '"'
                       for c, lab in zip(colours, labels))
    panels = []
    for k, (names, t) in enumerate(blocks):
        panels.append(f"set title '{names}-name orders, transient {t * 100:g}%'\n"
                      f"plot '{dat}' index {k} using 1:2:3 with image notitle")
        if (k + 1) % len(t_values) == 0:
            panels.append("unset title\nunset border\nunset tics\nunset xlabel\nunset ylabel\n"
                          "set key center center box\nset yrange [0:1]\n"
                          f"plot {legend}\n"
                          f"set border\nset tics\nset xtics ({ticks})\nset ytics ({ticks})\nunset key\n"
                          "set xlabel 'zombie share of runs (%)'\nset ylabel 'blocked share (%)'\n"
                          f"set yrange [-0.5:{len(GRID) - 0.5}]")
    rows = len(names_list)
    for term, ext in TERMINALS:
        size = f"1300,{420 * rows + 60}"
        gnuplot(f"""
set terminal {term.replace('900,560', size)}
set output '{os.path.join(out, 'sensitivity.' + ext)}'
set multiplot layout {rows},{len(t_values) + 1} title 'Favoured arm by failure mix (fewest requests, orders, rows, failed-validation units per certificate)'
set xtics ({ticks})
set ytics ({ticks})
set xlabel 'zombie share of runs (%)'
set ylabel 'blocked share (%)'
set xrange [-0.5:{len(GRID) - 0.5}]
set yrange [-0.5:{len(GRID) - 0.5}]
set palette maxcolors {len(labels)}
set palette defined ({pal})
set cbrange [-0.5:{len(labels) - 0.5}]
unset colorbox
unset key
{chr(10).join(panels)}
unset multiplot
""")


def plots(out, tput, econ, decisions, arm_list, names_list):
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no plots")
        return
    if len({r["concurrency"] for r in tput}) > 1:
        plot_throughput(out, tput)
    if econ:
        plot_cost(out, econ, arm_list)
    if decisions:
        plot_sensitivity(out, decisions, arm_list, names_list)
