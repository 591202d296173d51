"""Listening ports for the nodes, relays and proxies that tests start on loopback.

A port is picked when a test sets a node up and bound only when the node starts, seconds later.
The kernel's own pick (bind to port 0) comes from the ephemeral range, the same range every
outgoing connection takes its local port from: with integration.load's thousand connections in
a parallel test, the port was taken in between and a node exited with "address in use" (CI,
integration.mailbox_writers). So ports come from below the ephemeral range, where no outgoing
connection lands, chosen at random so that parallel test processes rarely meet, and checked free
by a bind; one process never hands out the same port twice."""
import random
import socket

_handed_out = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host="127.0.0.1"):
    """A TCP port that nothing listens on now and that no outgoing connection will take."""
    high = _ephemeral_low()
    low = 10000 if high > 12000 else 1024
    for _ in range(200):
        port = random.randrange(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {low}-{high - 1} after 200 tries")
