"""Economics part of tests/bench/run: every arm x population x names on
one aro-server build, each cell's costs counted by the server's /metrics
over that cell's flows alone (never derived from another arm).

An arm is a client behaviour (aro-loadgen --arm, flows.c) paired with a
server configuration; docs/benchmarks.md states each one's policy."""
import csv
import math
from dataclasses import dataclass, field

from bench_common import free_port, log, metric_sum, run_loadgen


@dataclass(frozen=True)
class Arm:
    name: str               # economics.csv's "arm"
    label: str              # the letter
    client: str             # aro-loadgen --arm
    flags: tuple = ()       # aro-server flags
    config: dict = field(default_factory=dict)
    # Legacy safety (a tie-breaker): no object leaves a state RFC 8555 calls
    # final, and a client that does not speak the extension sees RFC 8555.
    safe: bool = True
    what: str = ""


PLAIN = ("--no-retry-options",)     # an RFC 8555 server: no offer, no fresh challenges


def server_82_config(quick):
    """RFC 8555 8.2 server-side retries of the same challenge while it stays
    processing."""
    return {"serverRetries": 2, "serverRetryDelayMs": 0 if quick else 1000}


def arms(quick=False):
    return [
        Arm("legacy", "a", "legacy", PLAIN, {}, True,
            "legacy fallback by new order (up to 3 orders), plain RFC 8555 server"),
        Arm("legacy-deactivate", "a'", "legacy-deactivate", PLAIN, {}, True,
            "(a), deactivating the given-up order's authorizations (lego, acmez)"),
        Arm("legacy-single", "b", "legacy-single", PLAIN, {}, True,
            "legacy single method: one order, one attempt, give up (certbot, most clients)"),
        Arm("server-8.2-retries", "c", "legacy", PLAIN, server_82_config(quick), True,
            "RFC 8555 8.2 server-side retries; client: legacy (a)"),
        Arm("retry-options", "d", "retry-options", (), {}, False,
            "retry-options re-enable of the invalid authorization"),
        Arm("pending-hold", "e", "pending-hold", (), {}, True,
            "pending-hold opt-in at newOrder: the authorization stays pending"),
        Arm("pending-hold-8.2", "e+c", "pending-hold", (), dict(server_82_config(quick), retrySameType=False), True,
            "pending-hold with same-type retries left to RFC 8555 8.2 (retrySameType off, server retries on)"),
        Arm("preauth", "f", "preauth", PLAIN, {}, True,
            "pre-authorization (newAuthz), fallback by a new authorization, plain server"),
        Arm("preauth-retry-options", "f+d", "preauth-retry-options", (), {}, False,
            "pre-authorization, fallback by re-enabling the pre-authorization"),
        Arm("preauth-hold", "f+e", "preauth-hold", (), {}, True,
            "pre-authorization with the pending-hold opt-in"),
    ]


POPULATIONS = {"healthy": "100,0,0,0", "blocked": "0,100,0,0", "transient": "0,0,100,0", "zombie": "0,0,0,100"}
NAMES = (1, 3)


def server_config(quick):
    """The retry-options policy of every arm's server: first backoff 1 s
    (the default is 5 s), doubling; 3 attempts per authorization (the
    default). --quick waits for nothing."""
    return {"retryMinBackoffSeconds": 0 if quick else 1}


def plan(quick):
    """(flows per cell, zombie flows per cell, concurrency, poll schedule)."""
    return (2, 2, 2, "50,200") if quick else (40, 20, 8, "250,1000")


def cell(arm, pop, names, d):
    """One economics.csv row from one aro-loadgen report."""
    md, sc = d["metrics_delta"], d["scenarios"][pop]
    m = lambda name, **lab: metric_sum(md, name, **lab)  # noqa: E731
    row = {"arm": arm.name, "population": pop, "names": names, "label": arm.label, "client": arm.client,
           "server": " ".join(arm.flags) + (" " if arm.flags and arm.config else "") +
                     " ".join(f"{k}={v}" for k, v in arm.config.items()),
           "flows": sc["flows"], "issued": sc["issued"], "flow_errors": d["flow_errors"],
           "http_requests": m("aro_http_requests_total"),
           "jws_verifications": m("aro_jws_verifications_total"),
           "orders": m("aro_orders_created_total"),
           "authorizations": m("aro_authorizations_created_total"),
           "challenges": m("aro_challenges_created_total"),
           "store_bytes": m("aro_store_bytes_written_total"),
           "store_transactions": m("aro_store_transactions_total"),
           "validations": m("aro_validations_total"),
           "server_retries": m("aro_validation_server_retries_total"),
           "failed_validation_units": m("aro_validations_total", result="invalid"),
           "reenables_accepted": m("aro_reenables_total", result="accepted"),
           "reenables_refused": m("aro_reenables_total", result="refused"),
           "results_discarded": m("aro_validation_results_discarded_total"),
           "server_cpu_s": d["server"]["cpu_us"] / 1e6,
           "client_requests": sc["client_requests"], "client_requests_sq": sc["client_requests_sq"],
           "client_polls": sc["polls"],
           "time_to_cert_mean_ms": sc["latency"]["mean_us"] / 1000,
           "time_to_cert_sd_ms": sc["latency"]["sd_us"] / 1000,
           "time_to_cert_p50_ms": sc["latency"]["p50_us"] / 1000,
           "time_to_cert_p90_ms": sc["latency"]["p90_us"] / 1000,
           "time_to_give_up_mean_ms": sc["failed_flow_time_us"] / 1000 / sc["failed"] if sc["failed"] else 0,
           "problems": ";".join(f"{k}={v}" for k, v in d["problems"].items())}
    row["validation_attempts"] = row["validations"] + row["server_retries"]
    row["rows"] = row["orders"] + row["authorizations"] + row["challenges"]
    return row


def economics(h, cts, quick, arm_list):
    """Every population under every arm: one fresh server per arm, its cells
    one after another (each aro-loadgen run reads the /metrics deltas of its
    own flow phase)."""
    flows, zflows, conc, poll = plan(quick)
    rows = []
    for arm in arm_list:
        lport = free_port()
        cts.http_port = lport
        srv = h.server(cts, config=dict(server_config(quick), **arm.config), flags=arm.flags)
        for names in NAMES if not quick else (1,):
            for pop, mix in POPULATIONS.items():
                n = zflows if pop == "zombie" else flows
                d = run_loadgen(srv, cts, lport, ["--concurrency", str(conc), "--flows", str(n), "--names", str(names),
                                                  "--mix", mix, "--arm", arm.client, "--poll-ms", poll], srv.proc.pid)
                row = cell(arm, pop, names, d)
                rows.append(row)
                u = per_unit(row)
                log(f"  ({arm.label:3s}) {arm.name:22s} {pop:9s} names={names}: issued {row['issued']}/{row['flows']}, "
                    f"{u['http_requests']:.1f} requests, {u['orders']:.2f} orders, {u['validation_attempts']:.2f} "
                    f"attempts, {u['failed_validation_units']:.2f} failed" +
                    (f", ERRORS {d['flow_errors']}: {d.get('first_error')}" if d["flow_errors"] else ""))
        srv.stop()
        h.procs.remove(srv)
    return rows


COST_KEYS = ["http_requests", "jws_verifications", "orders", "authorizations", "challenges", "rows", "store_bytes",
             "store_transactions", "validation_attempts", "server_retries", "failed_validation_units", "client_polls",
             "server_cpu_s"]


def per_unit(row):
    """Costs per issued certificate; where nothing was issued (zombies, and
    the single-method client's blocked and transient runs) per flow, i.e.
    per client run."""
    d = row["issued"] or row["flows"]
    return {k: row[k] / d for k in COST_KEYS} if d else {k: 0.0 for k in COST_KEYS}


def requests_spread(row):
    """Standard deviation of the requests one flow of this cell made
    (client-side counts: the server's counts carry no per-flow split)."""
    n = row["flows"]
    if n < 2:
        return 0.0
    mean = row["client_requests"] / n
    var = (row["client_requests_sq"] - n * mean * mean) / (n - 1)
    return math.sqrt(max(var, 0.0))


def read_cells(path):
    """The rows of an economics.csv, numbers as numbers."""
    out = []
    with open(path) as f:
        for r in csv.DictReader(f):
            for k, v in r.items():
                try:
                    r[k] = int(v)
                except ValueError:
                    try:
                        r[k] = float(v)
                    except ValueError:
                        pass
            out.append(r)
    return out
