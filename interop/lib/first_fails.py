#!/usr/bin/python3
"""first_fails.py: make the first challenge type the CA tries fail, whichever it is.

  first_fails.py --log FILE LISTEN:TARGET [LISTEN:TARGET ...]

Listens on each LISTEN port of 127.0.0.1 (the ports where the CA validates
http-01 and tls-alpn-01) and forwards every connection to TARGET (the port
where the client's own responder listens).  The first port that receives a
connection is the type the CA tries first: that connection is reset and the
port's listener is closed, so this attempt and any retry of that type fail
(connection reset, then refused); every other port keeps forwarding.

Clients that shuffle their challenge preference (acmez does, once per
process) therefore meet "the first method fails" whatever they pick, and a
fallback to the other method passes.  Only loopback is used; stops on
SIGTERM.  Each decision is logged, one line per connection.
"""
import argparse, signal, socket, struct, sys, threading, time


def log(f, msg):
    f.write("%.3f %s\n" % (time.time(), msg))
    f.flush()


def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("pairs", nargs="+", metavar="LISTEN:TARGET")
    args = ap.parse_args()
    out = open(args.log, "a")
    lock = threading.Lock()
    state = {"blocked": None}
    listeners = []
    for pair in args.pairs:
        lp, tp = (int(x) for x in pair.split(":"))
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", lp))
        s.listen(64)
        listeners.append((s, lp, tp))

    def serve(s, lp, tp):
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return
            with lock:
                if state["blocked"] is None:
                    state["blocked"] = lp
                first = state["blocked"] == lp
            if first:
                # reset this connection and stop listening: the type fails
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                s.close()
                log(out, "port %d: first type the CA tried: connection reset, listener closed" % lp)
                return
            try:
                up = socket.create_connection(("127.0.0.1", tp), 5)
            except OSError as e:
                log(out, "port %d: forward to %d failed: %s" % (lp, tp, e))
                conn.close()
                continue
            log(out, "port %d: forwarded to %d" % (lp, tp))
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    for s, lp, tp in listeners:
        threading.Thread(target=serve, args=(s, lp, tp), daemon=True).start()
    log(out, "listening: %s" % " ".join(args.pairs))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
