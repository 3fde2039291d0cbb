"""legacy_modes.py: what legacy clients do when a server departs from RFC 8555
for every client (issue 13, objection 1 of the 2023 forum thread).

interop/run --legacy-modes runs each legacy client's "first method fails"
cell against aro-server --no-retry-options in four modes and hands the
results here to be classified and written up: interop/results/legacy-modes.md
and the draft's appendix between <!-- legacy-modes:begin --> and
<!-- legacy-modes:end -->.  No expectations: these are observations.
"""
import os
import re

CLIENTS = ["certbot", "lego", "uacme", "dehydrated", "caddy"]
# the lifetime of pending authorizations and of orders in every mode, so that
# a client that polls a "pending" authorization until it ends stops in bounded time
LIFETIME = {"authzPendingLifetimeSeconds": 60, "orderLifetimeSeconds": 60}
MODES = [
    ("rfc8555", "plain RFC 8555", {}),
    ("erratum", "erratum 6317's reading, \"pending\" until every challenge has failed",
     {"failureMode": "erratum"}),
    ("processing", "a failed challenge that stays \"processing\"", {"failureMode": "processing"}),
    ("server-retries", "RFC 8555 8.2 server-side retries, 2 of them 1 s apart",
     {"serverRetries": 2, "serverRetryDelayMs": 1000}),
]
MODE_TITLE = {m: t for m, t, _ in MODES}
CLIENT_PACKAGE = {"certbot": "certbot", "lego": "lego", "uacme": "uacme",
                  "dehydrated": "dehydrated", "caddy": "caddy"}
# each client's own limits, read from its source as Debian ships it
OWN_TIMEOUTS = {
    "certbot": "polls the authorizations at most 30 times, Retry-After apart (3 s without one), "
               "then gives up",
    "lego": "polls the authorization with exponential backoff for at most 100 times the challenge "
            "response's Retry-After (5 s without one)",
    "uacme": "polls the challenge, then the order, waiting 5, 10, 20, ... 1280 s (about 42 min in "
             "all) before \"timeout while polling\"",
    "dehydrated": "polls the challenge every second while it is \"pending\" or \"processing\", "
                  "without a limit",
    "caddy": "acmez polls an authorization for at most 5 min; certmagic retries a failed issuance "
             "after 1, 2, 2, 5, 10, 20 ... min for 30 days; Caddy itself never exits",
}
POLLS = ("authz", "challenge", "order")


def server_config(mode):
    cfg = dict(LIFETIME)
    cfg.update(dict((m, c) for m, _, c in MODES)[mode])
    return cfg


NOISE = re.compile(r"^\$ |^\s*$|saving debug log|ask for help|certbot\.eff\.org|"
                   r"\blevel\W+(debug|info)\b", re.I)


def last_words(log_path):
    """The client's last message on stderr (what it said as it ended), or ""."""
    try:
        with open(log_path, errors="replace") as f:
            text = f.read().split("\n--- stdout ---\n")[0]
    except OSError:
        return ""
    lines = [l.strip() for l in text.splitlines() if not NOISE.search(l)]
    return lines[-1][:300] if lines else ""


def classify(res, bound, results_dir):
    """(outcome, seconds, ended_by) of one run: what the client did, how long
    its issuing command took (wall clock), and what ended it."""
    steps = res.get("steps") or []
    last = steps[-1] if steps else {}
    secs = last.get("seconds", res.get("seconds", 0))
    polls = sum(res.get("requests", {}).get(k, 0) for k in POLLS)
    orders = res.get("requests", {}).get("newOrder", 0)
    err = last_words(os.path.join(results_dir, last["log"])) if last.get("log") else ""
    err = err or (res.get("first_error") or "").strip()
    if res.get("outcome") == "pass":
        return "finishes (%d order%s)" % (orders, "" if orders == 1 else "s"), secs, \
            "certificate issued"
    if last.get("rc") == "timeout":
        what = "retrying, %d orders" % orders if res["client"] == "caddy" and orders > 1 \
            else "%d polls" % polls
        return "hangs (killed after %d s; %s)" % (bound, what), secs, "killed by interop/run"
    if res.get("outcome") == "fail" and last.get("rc") not in (None, 0):
        if secs >= 30:
            return "polls, then fails (%d polls)" % polls, secs, err
        return "fails", secs, err
    return "not run: %s" % (res.get("detail") or "?"), secs, err


def table(rows, versions):
    """The markdown table: client with its Debian version, mode, outcome, time."""
    L = ["| Client | Server mode | Outcome | Time |", "|:---|:---|:---|---:|"]
    for r in rows:
        L.append("| %s %s | %s | %s | %d s |" % (
            r["client"], versions.get(CLIENT_PACKAGE[r["client"]], "?").split(" ")[0],
            MODE_TITLE[r["mode"]], r["outcome"], round(r["seconds"])))
    return L


def notes(bound):
    return [
        "Every run: aro-server `--no-retry-options` with %s (so a \"pending\" "
        "authorization, and its order, end 60 s after creation); a first challenge "
        "that fails (nothing answers on the port the server validates; for Caddy, "
        "which tries http-01 and tls-alpn-01 in an order it shuffles, whichever type "
        "the server tries first); time is the wall clock of the client's issuing "
        "command; every run killed after %d s." % (
            ", ".join("`%s: %s`" % kv for kv in LIFETIME.items()), bound),
    ]


def write_markdown(path, rows, versions, bound, date, commit):
    L = ["# Legacy clients against departures from RFC 8555 without opt-in", "",
         "Generated by `interop/run --legacy-modes` on %s (repo commit %s). Objection 1 "
         "of the 2023 forum thread: a server that leaves a failed challenge \"processing\", "
         "or an authorization \"pending\", for every client would break clients that poll "
         "until \"valid\" or \"invalid\". This measures it with the legacy clients of the "
         "interop matrix, next to plain RFC 8555 and RFC 8555 8.2 server-side retries." % (
             date, commit), ""]
    L += notes(bound) + [""]
    L += table(rows, versions) + [""]
    for line in summary(rows):
        L += [line, ""]
    L += ["## What ended each run", "",
          "| Client | Server mode | Ended by | Polls (authz, challenge, order) | Orders | Log |",
          "|:---|:---|:---|---:|---:|:---|"]
    for r in rows:
        L.append("| %s | %s | %s | %d | %d | [log](%s) |" % (
            r["client"], r["mode"], (r["ended_by"] or "").replace("|", "\\|")[:200],
            r["polls"], r["orders"], r["log"]))
    L += ["", "## Each client's own limits", ""]
    for c in CLIENTS:
        L.append("- **%s** %s: %s." % (c, versions.get(CLIENT_PACKAGE[c], "?"), OWN_TIMEOUTS[c]))
    L += ["", "## Modes", ""]
    for m, t, cfg in MODES:
        L.append("- `%s`: %s; config %s." % (m, t, dict(LIFETIME, **cfg)))
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


VERB = {"finishes": ("finishes", "finish"), "fails": ("fails", "fail"),
        "polls, then fails": ("polls, then fails", "poll, then fail"),
        "hangs": ("hangs until killed", "hang until killed")}


def summary(rows):
    """One sentence per departure: which clients ended how, and in how long
    against plain RFC 8555."""
    by = {(r["client"], r["mode"]): r for r in rows}
    out = []
    for m, title, _ in MODES[1:]:
        kinds = {}
        for c in CLIENTS:
            if (c, m) in by:
                kinds.setdefault(by[(c, m)]["outcome"].split(" (")[0], []).append(c)
        parts = []
        for kind, cs in kinds.items():
            verb = VERB.get(kind, (kind, kind))[len(cs) > 1]
            secs = ", ".join("%d s" % round(by[(c, m)]["seconds"]) for c in cs)
            base = ", ".join("%d s" % round(by[(c, "rfc8555")]["seconds"]) for c in cs
                             if (c, "rfc8555") in by)
            parts.append("%s %s (%s; plain RFC 8555: %s)" % (" and ".join(
                [", ".join(cs[:-1]), cs[-1]] if len(cs) > 1 else cs), verb, secs, base))
        out.append("`%s` (%s): %s." % (m, title, "; ".join(parts)))
    return out


def fill_draft(path, rows, versions, bound):
    """Replace the text between the draft's legacy-modes markers with the table."""
    with open(path) as f:
        text = f.read()
    begin, end = "<!-- legacy-modes:begin -->", "<!-- legacy-modes:end -->"
    if begin not in text or end not in text:
        return False
    body = ["", *table(rows, versions),
            "{: title=\"Legacy clients with a first challenge that fails\"}", "",
            *notes(bound), ""]
    for line in summary(rows):
        body += [line, ""]
    body += ["The clients' own limits, from their source as Debian ships it:", ""]
    body += ["* %s: %s." % (c, OWN_TIMEOUTS[c]) for c in CLIENTS]
    body += ["", "The runs, their logs and what ended each are in the aro project's "
             "interop/results/legacy-modes.md.", ""]
    new = re.sub(re.escape(begin) + ".*?" + re.escape(end),
                 lambda m: begin + "\n".join(body) + end, text, flags=re.S)
    with open(path, "w") as f:
        f.write(new)
    return True


def row(res, mode, bound, results_dir):
    outcome, secs, ended = classify(res, bound, results_dir)
    return {"client": res["client"], "mode": mode, "outcome": outcome, "seconds": secs,
            "ended_by": ended, "orders": res.get("requests", {}).get("newOrder", 0),
            "polls": sum(res.get("requests", {}).get(k, 0) for k in POLLS),
            "log": res.get("log") or ""}
