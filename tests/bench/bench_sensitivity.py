"""Sensitivity part of tests/bench/run: which arm the data favours over a
grid of failure mixes, and where each arm stops paying against each
baseline.

A mix is the share of client runs that are blocked, transient and zombie
(the rest healthy). Its cost per certificate under an arm combines that
arm's own measured cells, population by population:

    cost per certificate = sum_p share_p * cost per run_p / sum_p share_p * certificates per run_p

No arm's figure is ever derived from another arm's. "The data favours"
(the issue's definition): fewer requests, orders, rows (orders +
authorizations + challenges created) and failed-validation units per
certificate; time to certificate (of the certificates that needed a
retry), then legacy safety, break ties. Only
arms that issue as many certificates per run as the best one compete (the
single-method client leaves blocked and transient runs without a
certificate). Requests (they include polls) and time to certificate are
noisy: two arms are equal on them when they differ by less than twice the
noise of the difference (mix_cost says what it counts); orders, rows and
failed-validation units are exact counts."""
import math

from bench_economics import requests_spread

GRID = [0.0, 0.01, 0.02, 0.05, 0.10, 0.20, 0.30]
CRITERIA = [("http_requests", "requests"), ("orders", "orders"), ("rows", "rows"),
            ("failed_validation_units", "failed-validation units")]
METRICS = ["http_requests", "orders", "authorizations", "challenges", "rows", "store_bytes", "validation_attempts",
           "failed_validation_units", "server_cpu_s"]
BASELINES = ["legacy", "legacy-single", "server-8.2-retries"]
FAILURES = ("blocked", "transient", "zombie")
EXACT = 1e-9
TIME_GRAIN_S = 0.25     # the clients' first poll interval (bench_economics.plan)


def cells(econ):
    return {(r["arm"], r["population"], r["names"]): r for r in econ}


def between_cells(cell_of, names):
    """How much two cells of identical behaviour differ: the spread (sample
    standard deviation) of the healthy cells of every arm, whose clients and
    servers do the same thing for a healthy name. It is the machine's drift
    between cells (the shared 2 cores), which no cell's own spread shows."""
    healthy = [r for (a, p, n), r in cell_of.items() if p == "healthy" and n == names and r["issued"]]

    def sd(v):
        m = sum(v) / len(v)
        return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return {"http_requests": sd([r["http_requests"] / r["flows"] for r in healthy]),
            "time_to_cert_s": sd([r["time_to_cert_mean_ms"] / 1000 for r in healthy])}


def mix_cost(cell_of, arm, names, share, drift=None):
    """Per-certificate costs of a mix (share: population -> fraction of runs)
    under arm, and for the two noisy figures (requests, which include polls,
    and time to certificate) the noise of the mix: "<k>_noise", one standard
    deviation from the cells' own spread and the drift between cells
    (between_cells). None when a cell is missing."""
    rows = {p: cell_of.get((arm, p, names)) for p in share}
    if any(r is None or not r["flows"] for r in rows.values()):
        return None
    drift = drift or {"http_requests": 0.0, "time_to_cert_s": 0.0}
    issued = sum(s * rows[p]["issued"] / rows[p]["flows"] for p, s in share.items())
    out = {"certs_per_run": issued}
    if issued <= 0:
        return out
    for k in METRICS:
        out[k] = sum(s * rows[p][k] / rows[p]["flows"] for p, s in share.items()) / issued
    # Requests: each cell's mean carries its flows' spread / sqrt(n) and the
    # drift between cells.
    var = sum(s * s * (requests_spread(rows[p]) ** 2 / rows[p]["flows"] + drift["http_requests"] ** 2)
              for p, s in share.items())
    out["http_requests_noise"] = math.sqrt(var) / issued
    t = 0.0
    for p, s in share.items():
        if rows[p]["issued"]:
            t += s * rows[p]["issued"] / rows[p]["flows"] * rows[p]["time_to_cert_mean_ms"] / 1000
    out["time_to_cert_s"] = t / issued
    # The tie-breaker: time to certificate of the certificates that needed
    # a retry (the healthy ones take the same path in every arm). Noise: the
    # cells' own spread, the drift between cells, and the clients' polling
    # (an outcome is seen at the next poll, up to one interval late).
    rt = w_sum = var = 0.0
    for p, s in share.items():
        r = rows[p]
        if p != "healthy" and r["issued"] and s > 0:
            w = s * r["issued"] / r["flows"]
            rt += w * r["time_to_cert_mean_ms"] / 1000
            w_sum += w
            var += w * w * ((r["time_to_cert_sd_ms"] / 1000) ** 2 / r["issued"] + drift["time_to_cert_s"] ** 2)
    if w_sum:
        out["retry_time_s"] = rt / w_sum
        out["retry_time_s_noise"] = math.hypot(math.sqrt(var) / w_sum, TIME_GRAIN_S / 2)
    return out


def share_of(b, t, z):
    return {"healthy": 1 - b - t - z, "blocked": b, "transient": t, "zombie": z}


def better(ca, cb, k):
    """-1 when a is cheaper than b on k, 1 when dearer, 0 when equal: exact
    counts must differ, noisy figures by more than twice the noise of the
    difference."""
    if k not in ca or k not in cb:
        return 0
    d = ca[k] - cb[k]
    tol = EXACT * max(1.0, abs(cb[k]))
    if k + "_noise" in ca:
        tol = max(tol, 2 * math.hypot(ca[k + "_noise"], cb[k + "_noise"]))
    return 0 if abs(d) <= tol else (-1 if d < 0 else 1)


def decide(costs, arm_of):
    """The favoured arm(s) at one mix. costs: arm -> mix_cost. Returns
    (winners, wins per criterion, eligible arms, whether a tie-breaker
    decided); no winner when every eligible arm is best on every
    criterion."""
    top = max(c["certs_per_run"] for c in costs.values())
    eligible = [a for a, c in costs.items() if c["certs_per_run"] >= top - EXACT and "http_requests" in c]
    best_on = {}
    for k, _ in CRITERIA:
        best_on[k] = [a for a in eligible if all(better(costs[a], costs[o], k) <= 0 for o in eligible)]
    score = {a: sum(a in best_on[k] for k, _ in CRITERIA) for a in eligible}
    if all(score[a] == len(CRITERIA) for a in eligible):
        return [], best_on, eligible, False    # no criterion tells them apart (no failures)
    hi = max(score.values())
    win = [a for a in eligible if score[a] == hi]
    tie_broken = len(win) > 1
    if len(win) > 1:
        win = [a for a in win if all(better(costs[a], costs[o], "retry_time_s") <= 0 for o in win)] or win
    if len(win) > 1 and any(arm_of[a].safe for a in win):
        win = [a for a in win if arm_of[a].safe]
    return win, best_on, eligible, tie_broken


def grid(econ, arm_list, names_list):
    """Every grid point: per-arm rows (sensitivity.csv) and one decision row
    per point (sensitivity-winners.csv)."""
    cell_of = cells(econ)
    arm_of = {a.name: a for a in arm_list}
    detail, decisions = [], []
    for names in names_list:
        drift = between_cells(cell_of, names)
        for b in GRID:
            for t in GRID:
                for z in GRID:
                    share = share_of(b, t, z)
                    costs = {a.name: c for a in arm_list if (c := mix_cost(cell_of, a.name, names, share, drift))}
                    if len(costs) < 2:
                        continue
                    win, best_on, eligible, tie_broken = decide(costs, arm_of)
                    point = {"names": names, "blocked": b, "transient": t, "zombie": z}
                    label = "=".join(arm_of[a].label for a in win) or "all"
                    decisions.append(dict(point, winner=label + ("*" if tie_broken else ""),
                                          by_tie_breaker=tie_broken,
                                          winner_arms=" ".join(win),
                                          **{f"best_{label.replace(' ', '_').replace('-', '_')}":
                                             " ".join(arm_of[a].label for a in best_on[k]) for k, label in CRITERIA},
                                          eligible=" ".join(arm_of[a].label for a in eligible)))
                    for a, c in costs.items():
                        row = dict(point, arm=a, label=arm_of[a].label, certs_per_100_runs=100 * c["certs_per_run"],
                                   eligible=a in eligible, winner=a in win)
                        for k in METRICS:
                            row[k + "_per_cert"] = c.get(k, "")
                        for k in ("http_requests_noise", "time_to_cert_s", "retry_time_s", "retry_time_s_noise"):
                            row[k] = c.get(k, "")
                        detail.append(row)
    return detail, decisions


def break_even(cell_of, x, base, k, names, b, t, zmax=GRID[-1]):
    """Where arm x stops paying against base on criterion k as the zombie
    share grows from 0 to zmax, blocked and transient fixed: a short text
    ("always", "never", "z < 4.2%": pays below, "z > 3.0%": pays above,
    "equal", "with zombies": equal without them, cheaper with)."""

    drift = between_cells(cell_of, names)

    def sign(z):
        cx = mix_cost(cell_of, x, names, share_of(b, t, z), drift)
        cb = mix_cost(cell_of, base, names, share_of(b, t, z), drift)
        if not cx or not cb or "http_requests" not in cx or "http_requests" not in cb:
            return None
        return better(cx, cb, k)
    lo, hi = sign(0.0), sign(zmax)
    if lo is None or hi is None:
        return "n/a"
    if lo == hi:
        return {-1: "always", 0: "equal", 1: "never"}[lo]
    if 0 in (lo, hi):       # equal within noise at one end
        return "never" if 1 in (lo, hi) else "always" if lo == -1 else "with zombies"

    def diff(z):
        cx = mix_cost(cell_of, x, names, share_of(b, t, z))
        cb = mix_cost(cell_of, base, names, share_of(b, t, z))
        return cx[k] - cb[k]
    # One crossing (each cost per certificate is monotone in z): bisect on
    # the exact difference.
    a_, b_ = 0.0, zmax
    for _ in range(60):
        m = (a_ + b_) / 2
        if (diff(m) < 0) == (lo < 0):
            a_ = m
        else:
            b_ = m
    zs = f"{(a_ + b_) / 2 * 100:.2g}%"
    return f"z < {zs}" if lo < 0 else f"z > {zs}"


BREAK_EVEN_POINTS = [(0.0, 0.0), (0.005, 0.02), (0.01, 0.01), (0.0, 0.05), (0.05, 0.0), (0.05, 0.05)]


def break_evens(econ, arm_list, names_list):
    """For every arm against every baseline, criterion and names: the zombie
    break-even at a few (blocked, transient) shares."""
    have = {r["arm"] for r in econ}
    cell_of = cells(econ)
    rows = []
    for names in names_list:
        for base in BASELINES:
            if base not in have:
                continue
            for a in arm_list:
                if a.name == base or a.name not in have:
                    continue
                for k, label in CRITERIA:
                    row = {"names": names, "arm": a.name, "label": a.label, "baseline": base, "criterion": label}
                    for b, t in BREAK_EVEN_POINTS:
                        row[f"b={b * 100:g}% t={t * 100:g}%"] = break_even(cell_of, a.name, base, k, names, b, t)
                    rows.append(row)
    return rows


REFERENCE_MIXES = [((0.005, 0.02, 0.05), "the -00 draft's assumed mix"), ((0.01, 0.01, 0.01), "1% each"),
                   ((0.05, 0.05, 0.05), "5% each"), ((0.05, 0.0, 0.0), "blocked only"),
                   ((0.0, 0.05, 0.0), "transient only"), ((0.0, 0.0, 0.05), "zombies only")]


def reference_costs(econ, arm_list, names, mix):
    """Every arm's per-certificate costs at one mix (b, t, z), with the arms
    best on each criterion: (rows of (arm, costs), {criterion: best arms})."""
    cell_of = cells(econ)
    drift = between_cells(cell_of, names)
    costs = {a.name: c for a in arm_list if (c := mix_cost(cell_of, a.name, names, share_of(*mix), drift))}
    if not costs:
        return [], {}
    _, best_on, _, _ = decide(costs, {a.name: a for a in arm_list})
    return [(a, costs[a.name]) for a in arm_list if a.name in costs], best_on


def winner_share(decisions, arm_list, names):
    """Share of the grid points of names where each arm is (one of) the
    favoured."""
    pts = [d for d in decisions if d["names"] == names]
    out = {}
    for a in arm_list:
        won = sum(a.name in d["winner_arms"].split() for d in pts)
        out[a.name] = won / len(pts) if pts else 0.0
    return out


def compact_table(decisions, names, bt_values=(0.0, 0.01, 0.05, 0.20)):
    """Lines of a compact winner table: rows (blocked, transient), columns
    the zombie share."""
    by = {(d["blocked"], d["transient"], d["zombie"]): d["winner"] for d in decisions if d["names"] == names}
    width = max([8] + [len(v) for v in by.values()])
    head = "blocked transient | " + " ".join(f"z={z * 100:g}%".rjust(width) for z in GRID)
    lines = [head, "-" * len(head)]
    for b in bt_values:
        for t in bt_values:
            cells_ = [by.get((b, t, z), "") for z in GRID]
            lines.append(f"{b * 100:6g}% {t * 100:8g}% | " + " ".join(c.rjust(width) for c in cells_))
    return lines
