"""Crash safety: kill -9 aro-server at random moments while several
clients run full issuances (account, order, http-01, finalize,
certificate) at once, restart it on the same data directory, and check
after every kill, on the store as the dead process left it:

  * the store opens cleanly: mdb_dump reads every table, and the
    restarted server answers;
  * nothing acknowledged is lost: every account, order, authorization,
    challenge and certificate whose creation a client saw acknowledged
    (201/200 with its URL) is in the store;
  * nothing acknowledged goes back: the stored status of each object is
    reachable, under the state module's transition tables (parsed from
    common/status.c, so the check follows the code's one state machine),
    from the status the client last saw;
  * every stored status is a name the state module knows, and the
    references hold: orders name existing authorizations, those name
    existing challenges, valid orders name an existing certificate,
    ready orders have only valid authorizations, valid authorizations
    have a valid challenge.

At the end the server runs undisturbed until nothing is processing any
more (validations and issuances interrupted by a kill are resumed at
start), and every order whose finalize was acknowledged must be valid.

ARO_CRASH_ROUNDS kills (default 5; docs/hardening.md quotes a run of 25).
Every loop is bounded in count and time; everything listens on loopback.
"""
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import acme  # noqa: E402
from hostile import sanitizer_report  # noqa: E402
from harness import SOURCE, Harness, TestRun, wait_for  # noqa: E402

ROUNDS = int(os.environ.get("ARO_CRASH_ROUNDS", "5"))
WORKERS = int(os.environ.get("ARO_CRASH_WORKERS", "4"))
SEED = int(os.environ.get("ARO_CRASH_SEED", str(int(time.time()))))


# ---- the state module's tables, read from its source -------------------

def state_tables():
    """{kind: {from: set(to)}} from the *_table arrays of common/status.c."""
    src = open(os.path.join(SOURCE, "common", "status.c")).read()
    out = {}
    for kind, prefix in (("chall", "CHALL_"), ("authz", "AUTHZ_"), ("order", "ORDER_")):
        m = re.search(r"static const int %s_table\[.*?\] = \{(.*?)\n\};" % kind, src, re.S)
        assert m, f"no {kind}_table in common/status.c"
        table = {}
        for frm, tos in re.findall(r"\[%s(\w+)\]\s*=\s*\{([^}]*)\}" % prefix, m.group(1)):
            table[frm.lower()] = {t.strip()[len(prefix):].lower() for t in tos.split(",")
                                  if t.strip() and t.strip() != "NONE"}
        out[kind] = table
    return out


def closure(table, start):
    seen, todo = {start}, [start]
    while todo:
        for nxt in table.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# ---- the store, as mdb_dump sees it -------------------------------------

def read_store(path):
    """{table: {key: value}} (str), or raise if mdb_dump cannot read it."""
    out = subprocess.run(["mdb_dump", "-a", path], capture_output=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"mdb_dump failed: {out.stderr.decode()[:300]}")
    tables, name, pending = {}, None, None
    for line in out.stdout.decode().split("\n"):
        if line.startswith("database="):
            name = line.split("=", 1)[1]
            tables[name] = {}
        elif line.startswith(" ") and name is not None:
            text = bytes.fromhex(line[1:]).decode("utf-8", "replace")
            if pending is None:
                pending = text
            else:
                tables[name][pending] = text
                pending = None
        elif line == "DATA=END":
            name, pending = None, None
    return tables


# ---- load: clients doing full issuances ---------------------------------

class Client(acme.Client):
    def post(self, url, payload, **kw):
        # 6.5: after a restart every nonce the client holds is stale; a
        # client retries a badNonce with the fresh nonce from the error.
        for _ in range(3):
            r = super().post(url, payload, **kw)
            if r.problem != "badNonce":
                return r
        return r


class Acks:
    """What clients saw acknowledged: kind -> id -> (status, client)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.objs = {"account": {}, "order": {}, "authz": {}, "chall": {}, "cert": {}}
        self.flows_done = 0
        self.errors = 0

    def ack(self, kind, url, status):
        oid = url.rstrip("/").rsplit("/", 1)[1]
        with self.lock:
            self.objs[kind][oid] = status

    def snapshot(self):
        with self.lock:
            return {k: dict(v) for k, v in self.objs.items()}


def worker(n, srv, cts, acks, stop, deadline):
    c = None
    flow = 0
    while not stop.is_set() and time.time() < deadline:
        try:
            if c is None or c.kid is None:
                c = Client(srv.directory, srv.ca_file)
                c.new_account()
                acks.ack("account", c.kid, "valid")
            flow += 1
            name = f"w{n}-{flow}-{random.randrange(1 << 30)}.example.com"
            r = c.new_order(name)
            if r.status != 201:
                raise RuntimeError(f"newOrder {r}")
            order = r.json
            acks.ack("order", r.url, order["status"])
            az_url = order["authorizations"][0]
            az = c.authz(az_url).json
            acks.ack("authz", az_url, az["status"])
            ch = c.challenge_of(az, "http-01")
            cts.add_http01(ch["token"], c.key_authz(ch["token"]))
            r = c.post(ch["url"], {})
            if r.status != 200:
                raise RuntimeError(f"challenge {r}")
            acks.ack("chall", ch["url"], r.json["status"])
            o = c.poll(order_url_of(c, order), lambda j: j["status"] in ("ready", "invalid"), 20).json
            acks.ack("order", order_url_of(c, order), o["status"])
            if o["status"] != "ready":
                continue
            csr, _ = c.csr_for([name])
            r = c.post(order["finalize"], {"csr": csr})
            if r.status != 200:
                raise RuntimeError(f"finalize {r}")
            acks.ack("order", order_url_of(c, order), r.json["status"])
            o = c.poll(order_url_of(c, order), lambda j: j["status"] in ("valid", "invalid"), 20).json
            acks.ack("order", order_url_of(c, order), o["status"])
            if o["status"] == "valid":
                r = c.get(o["certificate"])
                if r.status == 200:
                    acks.ack("cert", o["certificate"], "issued")
                    with acks.lock:
                        acks.flows_done += 1
        except Exception:
            # The server is being killed under us: start the next flow.
            with acks.lock:
                acks.errors += 1
            time.sleep(0.2)


def order_url_of(c, order):
    # The client keeps the Location of each order it created.
    return c.order_urls[order["finalize"]]


_orig_new_order = acme.Client.new_order


def _new_order(self, *names, **kw):
    r = _orig_new_order(self, *names, **kw)
    if r.status == 201:
        if not hasattr(self, "order_urls"):
            self.order_urls = {}
        self.order_urls[r.json["finalize"]] = r.url
    return r


Client.new_order = _new_order


# ---- the checks ---------------------------------------------------------

def check_store(tables, acks, states, final=False):
    """Raise AssertionError listing every problem found."""
    problems = []
    T = {k: tables.get(k, {}) for k in ("accounts", "account_keys", "orders", "account_orders", "authzs",
                                         "challs", "certs")}
    recs = {k: {} for k in ("accounts", "orders", "authzs", "challs", "certs")}
    for k in recs:
        for key, val in T[k].items():
            try:
                recs[k][key] = json.loads(val)
            except ValueError:
                problems.append(f"{k}/{key}: not JSON")
    kinds = {"order": "orders", "authz": "authzs", "chall": "challs"}
    for kind, tbl in kinds.items():
        for oid, r in recs[tbl].items():
            if r.get("status") not in states[kind]:
                problems.append(f"{kind} {oid}: status {r.get('status')!r} is not a state of the state module")
    # Acknowledged objects exist and did not go back.
    for kind, objs in acks.items():
        for oid, seen in objs.items():
            if kind == "account":
                if oid not in recs["accounts"]:
                    problems.append(f"acknowledged account {oid} is missing")
                continue
            if kind == "cert":
                if oid not in recs["certs"]:
                    problems.append(f"acknowledged certificate {oid} is missing")
                continue
            rec = recs[kinds[kind]].get(oid)
            if rec is None:
                problems.append(f"acknowledged {kind} {oid} is missing")
            elif rec["status"] not in closure(states[kind], seen):
                problems.append(f"{kind} {oid}: acknowledged {seen}, now {rec['status']} (not reachable)")
    # References.
    for thumb, aid in T["account_keys"].items():
        if aid not in recs["accounts"]:
            problems.append(f"account key {thumb} names missing account {aid}")
    for key in T["account_orders"]:
        if key.rsplit("/", 1)[1] not in recs["orders"]:
            problems.append(f"account_orders {key} names a missing order")
    for oid, o in recs["orders"].items():
        azs = [recs["authzs"].get(a) for a in o.get("authzs", [])]
        if any(a is None for a in azs):
            problems.append(f"order {oid} names a missing authorization")
            continue
        if o["status"] == "ready" and any(a["status"] != "valid" for a in azs):
            problems.append(f"order {oid} is ready with authorizations {[a['status'] for a in azs]}")
        if o["status"] == "valid" and o.get("cert") not in recs["certs"]:
            problems.append(f"order {oid} is valid without its certificate {o.get('cert')}")
        if final and o["status"] == "processing":
            problems.append(f"order {oid} still processing after the server settled")
    for aid, a in recs["authzs"].items():
        chs = [recs["challs"].get(c) for c in a.get("challs", [])]
        if any(c is None for c in chs):
            problems.append(f"authorization {aid} names a missing challenge")
            continue
        if a["status"] == "valid" and not any(c["status"] == "valid" for c in chs):
            problems.append(f"authorization {aid} is valid without a valid challenge")
    for cid, c in recs["challs"].items():
        if c.get("authz") not in recs["authzs"]:
            problems.append(f"challenge {cid} names a missing authorization")
        elif c["status"] == "processing" and final:
            problems.append(f"challenge {cid} still processing after the server settled")
    if problems:
        raise AssertionError(f"{len(problems)} problems: " + "; ".join(problems[:15]))
    return {k: len(v) for k, v in recs.items()}


def main():
    random.seed(SEED)
    print(f"crash safety: {ROUNDS} kills, {WORKERS} clients, seed {SEED}", flush=True)
    states = state_tables()
    run = TestRun()
    stats = {"kills": 0, "restarts": 0}
    with Harness() as h:
        cts = h.challtestsrv(http01=True)
        srv = h.server(cts, config={"retryMinBackoffSeconds": 0})
        store = os.path.join(srv.data, "store")
        acks = Acks()
        stop = threading.Event()
        deadline = time.time() + 60 + ROUNDS * 8
        threads = [threading.Thread(target=worker, args=(i, srv, cts, acks, stop, deadline), daemon=True)
                   for i in range(WORKERS)]
        for t in threads:
            t.start()

        def one_round(i):
            # Let the load run a random while, then kill -9 mid-flight.
            time.sleep(random.uniform(0.3, 2.5))
            rc = srv.stop(sig=signal.SIGKILL)
            assert rc == -signal.SIGKILL, f"server exited with {rc} before the kill"
            stats["kills"] += 1
            counts = check_store(read_store(store), acks.snapshot(), states)
            srv.start()  # waits until the directory answers: the store opened
            stats["restarts"] += 1
            print(f"  kill {i + 1}: store {counts}, flows completed so far {acks.flows_done}", flush=True)

        for i in range(ROUNDS):
            run.case(f"kill -9 #{i + 1} during concurrent issuance", one_round, i)

        def settle():
            # No more kills: let the clients finish, then the server resume
            # whatever the last kill interrupted.
            stop.set()
            for t in threads:
                t.join(timeout=45)
            assert not any(t.is_alive() for t in threads), "a client thread did not stop"

            def quiet():
                tables = read_store(store)
                return not any('"status":"processing"' in v for tb in ("orders", "challs")
                               for v in tables.get(tb, {}).values())
            wait_for(quiet, timeout=45, what="interrupted validations and issuances to finish")
            counts = check_store(read_store(store), acks.snapshot(), states, final=True)
            snap = acks.snapshot()
            finalized = [o for o, s in snap["order"].items() if s in ("processing", "valid")]
            tables = read_store(store)
            for oid in finalized:
                st = json.loads(tables["orders"][oid])["status"]
                assert st == "valid", f"order {oid} was finalized (acknowledged) but is {st}"
            rc = srv.stop()
            log = open(srv.log_path).read()
            for bad in ("AddressSanitizer", "runtime error", "LeakSanitizer"):
                assert bad not in log, f"server log mentions {bad}:\n" + sanitizer_report(log)
            assert rc == 0, f"aro-server exited with {rc} after the last restart"
            print(f"  settled: store {counts}; acknowledged: " +
                  ", ".join(f"{k} {len(v)}" for k, v in snap.items()) +
                  f"; {acks.flows_done} full issuances, {acks.errors} client flows cut by kills", flush=True)
        run.case("after the last restart: everything settles, nothing lost", settle)
    print(f"crash safety: {stats['kills']} kills survived, {stats['restarts']} restarts, seed {SEED}")
    run.finish()


if __name__ == "__main__":
    main()
