"""Loopback ports for tests: never handed out twice, race-free across
processes and concurrent test runs on the same machine.

Binding port 0 and closing the socket (the usual trick) is not enough: the
kernel may hand the same port to the next bind(0) of this process or of
another test running at the same time (about one set of six ports in a
thousand has a duplicate), and it lies in the ephemeral range, where any
outgoing connection may take it before the server binds it. A port from
take_port() is

  * outside the kernel's ephemeral range (ip_local_port_range), so no
    outgoing connection of any process can be using it;
  * reserved: this process holds an exclusive lock on
    $ARO_PORT_DIR/PORT (default $TMPDIR/aro-test-ports/PORT), which every
    test of this repository (harness.py, lib.sh, interop/run, the
    benchmarks) respects; the lock goes away with the process, also on
    kill -9, and the file is removed at exit;
  * free right now for both TCP and UDP on 127.0.0.1.

tests/e2e/lib.sh implements the same protocol in bash (take_port).
"""
import atexit
import fcntl
import os
import random
import socket
import threading

PORT_DIR = os.environ.get("ARO_PORT_DIR") or os.path.join(os.environ.get("TMPDIR", "/tmp"), "aro-test-ports")
AVOID = {14000, 15000, 8053, 8055, 5001, 5002}   # the programs' default ports

_held = {}            # port -> fd holding its lock
_lock = threading.Lock()


def port_range():
    """(low, high) inclusive: the larger span outside the ephemeral range above 10000."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    below = (10000, lo - 1)
    above = (hi + 1, 65535)
    return max(below, above, key=lambda r: r[1] - r[0])


def _bindable(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def _try(port):
    path = os.path.join(PORT_DIR, str(port))
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        st = os.fstat(fd)
        now = os.stat(path)             # still the file at that path (not unlinked by its last owner)?
        if (st.st_dev, st.st_ino) == (now.st_dev, now.st_ino):
            if _bindable(port):
                _held[port] = fd
                return True
            os.unlink(path)             # ours, but something else listens there: leave no file
    except OSError:
        pass
    os.close(fd)
    return False


def take_port():
    """One reserved free port (see the module's docstring)."""
    lo, hi = port_range()
    with _lock:
        os.makedirs(PORT_DIR, mode=0o1777, exist_ok=True)
        for _ in range(2000):
            p = random.randint(lo, hi)
            if p in AVOID or p in _held:
                continue
            if _try(p):
                return p
    raise RuntimeError(f"no free loopback port found in {lo}-{hi} (locks in {PORT_DIR})")


def take_ports(n):
    return [take_port() for _ in range(n)]


def release(ports):
    """Give ports back (once whatever listened on them has stopped)."""
    with _lock:
        for port in ports:
            fd = _held.pop(port, None)
            if fd is None:
                continue
            try:
                os.unlink(os.path.join(PORT_DIR, str(port)))   # while still holding the lock
            except OSError:
                pass
            os.close(fd)


def release_all():
    release(list(_held))


atexit.register(release_all)
