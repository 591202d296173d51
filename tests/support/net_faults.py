"""Faults on the paths of a netns.Network, one path per channel (tests/integration/test_faults.py).

A Path is one channel's way through the test network: the TCP port its server listens on, the
namespace of that server (where nftables drops packets: its input hook sees the segments
arriving at the port, its output hook those leaving it, so each segment meets the rules once),
and the egress interfaces the channel's segments leave by, each with the port field that picks
them out there ("sport" on the server's own interface, "dport" on the router's side of it).

Faults (any mix, per path; set() replaces what the path had):
    loss=30       nftables `numgen random mod 100 < 30 drop`, each way
    cut=True      nftables drop of every segment to or from the port (a silent cut: no RST, no
                  ICMP, only missing heartbeats reveal it)
    rate="256kbit"  tc: an htb root whose default class is unlimited, and a class for the path's
                  segments (a u32 match on the port) with a tbf leaf at the rate, its queue
                  queue="2s" deep
    delay=(ms, jitter_ms)  netem on that class (only where the kernel has netem; netem_available())

The nftables table (inet bc_fault) and the qdiscs live inside the Network's namespaces, so
Network.close() takes them with it whatever happens; clear() removes them between conditions.
"""
import os
import re
import time

import netns

TABLE = "bc_fault"
_availability = None
_netem = None


def _probe_ns(script):
    """Runs script (sh) in a fresh namespace holding a veth pair v0/v1; (returncode, stderr)."""
    name = f"bc{os.getpid()}-faultprobe"
    netns._run([netns.IP, "netns", "add", name])
    try:
        netns._run([netns.IP, "-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1"])
        netns._run([netns.IP, "-n", name, "link", "set", "v0", "up"])
        proc = netns._run([netns.IP, "netns", "exec", name, "sh", "-c", script], check=False)
        return proc.returncode, proc.stderr.strip()
    finally:
        netns._run([netns.IP, "netns", "del", name], check=False)


def available():
    """(True, "") when namespaces can be made and nftables (numgen) and tc (htb, tbf, u32)
    work inside them, else (False, the reason). Cached."""
    global _availability
    if _availability is not None:
        return _availability
    ok, reason = netns.available()
    if not ok:
        _availability = (False, f"network namespaces unavailable: {reason}")
        return _availability
    if netns.NFT is None:
        _availability = (False, "no `nft` command (install nftables: scripts/deps)")
        return _availability
    tc = netns.TC
    if tc is None:
        _availability = (False, "no `tc` command (install iproute2)")
        return _availability
    script = (f"{netns.NFT} add table inet probe && "
              f"{netns.NFT} 'add chain inet probe i {{ type filter hook input priority filter; }}' && "
              f"{netns.NFT} add rule inet probe i tcp dport 9 numgen random mod 100 '<' 30 drop && "
              f"{tc} qdisc add dev v0 root handle 1: htb default 10 && "
              f"{tc} class add dev v0 parent 1: classid 1:20 htb rate 1gbit && "
              f"{tc} qdisc add dev v0 parent 1:20 handle 20: tbf rate 256kbit burst 4kb latency 1s && "
              f"{tc} filter add dev v0 parent 1: protocol ip prio 1 u32 match ip dport 9 0xffff flowid 1:20")
    code, err = _probe_ns(script)
    _availability = (True, "") if code == 0 else (False, f"nftables or tc (htb, tbf, u32) unusable in a namespace: {err}")
    return _availability


def netem_available():
    """(True, "") when `tc qdisc add ... netem` works here, else (False, what tc said). Cached."""
    global _netem
    if _netem is None:
        ok, reason = available()
        if not ok:
            _netem = (False, reason)
        else:
            code, err = _probe_ns(f"{netns.TC} qdisc add dev v0 root netem delay 10ms")
            _netem = (True, "") if code == 0 else (False, err or f"exit {code}")
    return _netem


class Path:
    def __init__(self, name, port, server_ns, egress):
        """egress: [(namespace, interface, "sport" or "dport")] the path's segments leave by."""
        self.name = name
        self.port = port
        self.server_ns = server_ns
        self.egress = list(egress)
        self.faults = {}

    def __repr__(self):
        return f"Path({self.name}, port {self.port}, faults {self.faults})"


class Faults:
    """The faults set on the paths of one Network; clear() undoes them (and Network.close()
    does, with the namespaces)."""

    def __init__(self, net):
        self.net = net
        self.paths = {}
        self.shaped = set()  # (namespace, interface) with our htb root on it

    def add_path(self, path):
        self.paths[path.name] = path
        return path

    def set(self, name, loss=None, cut=False, rate=None, delay=None, queue="2s"):
        """queue: the longest a segment may wait in the rate limiter's queue (tbf's latency;
        beyond it tbf drops), i.e. how deep the bottleneck's buffer is."""
        path = self.paths[name]
        path.faults = {k: v for k, v in (("loss", loss), ("cut", cut), ("rate", rate), ("delay", delay)) if v}
        path.faults["queue"] = queue
        self._write_nft(path.server_ns)
        for ns, iface, field in path.egress:
            self._write_tc(path, ns, iface, field)

    def clear(self, name=None, drain_timeout=30):
        """Removes the faults of path name (of every path when None). A rate limiter's queue is
        let drain first (up to drain_timeout s): deleting a full queue would drop what it holds
        and leave the connections in it waiting out retransmission timeouts that the backlog
        had inflated, a silence the next condition would be blamed for."""
        paths = [self.paths[name]] if name else list(self.paths.values())
        deadline = time.monotonic() + drain_timeout
        while time.monotonic() < deadline and any(self.backlog(p) for p in paths):
            time.sleep(0.2)
        for path in paths:
            if set(path.faults) - {"queue"}:
                self.set(path.name)

    def backlog(self, path):
        """Bytes queued in path's rate limiters now."""
        total = 0
        for ns, iface, _ in path.egress:
            if (ns, iface) in self.shaped:
                text = self._tc(ns, "-s", "qdisc", "show", "dev", iface, check=False).stdout
                m = re.search(r"qdisc \w+ 20: .*?\n(?:.*\n)*?\s*backlog (\d+)b", text)
                total += int(m.group(1)) if m else 0
        return total

    def _write_nft(self, ns):
        rules = []
        for path in self.paths.values():
            if path.server_ns != ns:
                continue
            for hook, field in (("in", "dport"), ("out", "sport")):
                if path.faults.get("cut"):
                    rules.append((hook, f"tcp {field} {path.port} counter drop"))
                elif path.faults.get("loss"):
                    rules.append((hook, f"tcp {field} {path.port} numgen random mod 100 < {int(path.faults['loss'])} "
                                        "counter drop"))
        # Flushed and refilled in one transaction, so a path's rules never half-apply.
        lines = [f"table inet {TABLE}", f"delete table inet {TABLE}"]
        if rules:
            lines.append(f"table inet {TABLE} {{")
            for hook in ("in", "out"):
                kind = "input" if hook == "in" else "output"
                lines.append(f"  chain {hook} {{ type filter hook {kind} priority filter; policy accept;")
                lines += [f"    {rule}" for h, rule in rules if h == hook]
                lines.append("  }")
            lines.append("}")
        netns._run([netns.IP, "netns", "exec", ns, netns.NFT, "-f", "-"], input="\n".join(lines) + "\n")

    def _tc(self, ns, *args, check=True):
        return netns._run([netns.IP, "netns", "exec", ns, netns.TC, *args], check=check)

    def _write_tc(self, path, ns, iface, field):
        key = (ns, iface)
        if key in self.shaped:
            self._tc(ns, "qdisc", "del", "dev", iface, "root")
            self.shaped.discard(key)
        rate, delay = path.faults.get("rate"), path.faults.get("delay")
        if not rate and not delay:
            return
        self._tc(ns, "qdisc", "add", "dev", iface, "root", "handle", "1:", "htb", "default", "10", "r2q", "1000")
        self.shaped.add(key)
        self._tc(ns, "class", "add", "dev", iface, "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit")
        self._tc(ns, "class", "add", "dev", iface, "parent", "1:", "classid", "1:20", "htb", "rate", "10gbit")
        if delay:
            # netem delays (normal jitter, so packets reorder within a stream too) and, when a
            # rate is asked as well, limits it itself: one leaf does both.
            ms, jitter = delay
            args = ["netem", "delay", f"{ms}ms", f"{jitter}ms", "distribution", "normal"]
            if rate:
                args += ["rate", rate]
            self._tc(ns, "qdisc", "add", "dev", iface, "parent", "1:20", "handle", "20:", *args)
        else:
            # burst: a few full-size segments; latency bounds the queue (then tbf drops).
            self._tc(ns, "qdisc", "add", "dev", iface, "parent", "1:20", "handle", "20:", "tbf", "rate", rate,
                     "burst", "8kb", "latency", path.faults["queue"])
        self._tc(ns, "filter", "add", "dev", iface, "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match",
                 "ip", field, str(path.port), "0xffff", "flowid", "1:20")

    def dropped(self, name):
        """Segments the rules of path name dropped since its faults were last set (nftables
        counters; 0 when it has no rule)."""
        path = self.paths[name]
        proc = netns._run([netns.IP, "netns", "exec", path.server_ns, netns.NFT, "list", "table", "inet", TABLE],
                          check=False)
        pattern = re.compile(rf"tcp [sd]port {path.port} .*counter packets (\d+) ")
        return sum(int(m.group(1)) for m in pattern.finditer(proc.stdout))

    def shaped_bytes(self):
        """{(namespace, interface): bytes its path class's leaf (tbf or netem) sent} for the
        interfaces shaped now."""
        sent = {}
        for ns, iface in sorted(self.shaped):
            text = self._tc(ns, "-s", "qdisc", "show", "dev", iface, check=False).stdout
            m = re.search(r"qdisc \w+ 20: .*?\n\s*Sent (\d+) bytes", text)
            sent[(ns, iface)] = int(m.group(1)) if m else 0
        return sent

