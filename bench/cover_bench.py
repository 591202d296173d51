#!/usr/bin/env python3
"""Cover traffic benchmark (issue 14): what cover costs in latency and bandwidth, against cover
off measured in the same run on the same machine.

For each mode (off, then constant at each --rates value, slots per second per channel and
direction), two fresh nodes (washington, the inviter, and moscow) share a link over the direct
channel only, through a counting TCP proxy (tests/integration/bc_nodes.py's Proxy), both with the
same `[cover]` setting:

  - idle bandwidth: with the link up and nothing sent, the bytes the proxy forwards each way
    over --idle seconds (TLS records, what the network carries; TCP/IP headers not counted),
    and that rate times 86,400 as bytes per day per direction;
  - idle relay bandwidth: again two fresh nodes, linked only through one relay, each node's
    connection to it through its own counting proxy: the bytes each carries each way over
    --idle seconds (the node's PUTs and ACKs to the relay, its DELIVERs and OKs back);
  - latency: --messages FLASH messages from moscow one at a time, each after a random pause
    uniform over 0.3 s + 1.5 slot intervals (sending right after the previous delivery would
    put every send at the same phase of the sender's slots), each timed from the sender's
    outbox commit (sent_at_ms) to the receiver's delivery commit (delivered_at_ms), both node
    clocks on this machine; p50 and p99.

With cover on, a message waits for the sender's next slot (on average half an interval, at
most one plus jitter), so the expected p50 is about off + T/2 and the bound off + 1.5 T
(jitter 0.5). Each rate runs a second time with `jitter = 0` (slots a fixed interval apart,
the phase still random), where the bound is off + T, the issue's target. Throughput under cover is rate x 1,792 bytes of message data per second per
channel (one chunk per envelope): a property of the configuration, stated in
docs/operations.md, not measured here.

Run alone (`bench/cover_bench.py --bin build/bin`) or from bench/e2e_bench.py (part `cover`).
Every process it starts is stopped on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from bench_common import exit_on_signals, print_report  # noqa: E402
import bc_nodes  # noqa: E402  (the integration tests' node and proxy helpers)

RATES = (1.0, 10.0, 50.0)


def log(msg: str) -> None:
    print(f"cover_bench: {msg}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


class Follower:
    """`inbox --follow --json` on the receiver, read on a thread; it only paces the benchmark
    (times come from the node's delivered_at_ms)."""

    def __init__(self, node):
        self.q: queue.Queue = queue.Queue()
        self.proc = subprocess.Popen([bc_nodes.BIN, "--home", node.home, "--json", "inbox", "--follow"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.strip():
                self.q.put(json.loads(line))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def tear_down(root, keep: bool, nodes: list, closers: list) -> None:
    """Stops the nodes, then the rest (proxies, followers, a relay), and removes the scratch
    folder unless keep."""
    for n in nodes:
        n.stop()
    for close in closers:
        close()
    if keep:
        log(f"kept {root.path}")
    root.cleanup(keep=keep)


def run_mode(rate: float | None, messages: int, idle_s: float, keep: bool, jitter: float | None = None) -> dict:
    name = "off" if rate is None else f"{rate:g}/s" + ("" if jitter is None else f" jitter {jitter:g}")
    root = bc_nodes.TempRoot()
    nodes, proxy, follower = [], None, None
    try:
        a = bc_nodes.WildcardNode(root.path, "washington")
        b = bc_nodes.WildcardNode(root.path, "moscow")
        nodes = [a, b]
        for n in nodes:
            n.cli("init", "--name", n.name)
            if rate is not None:
                with open(os.path.join(n.home, "backchannel.toml"), "w") as f:
                    f.write(f'[cover]\nmode = "constant"\nrate = {rate:g}\n')
                    if jitter is not None:
                        f.write(f"jitter = {jitter:g}\n")
        a.start()
        proxy = bc_nodes.Proxy(a.port)
        b.cli("contact", "add", a.cli("invite", "--address", f"127.0.0.1:{proxy.port}").stdout.strip())
        b.start()
        bc_nodes.wait_for(lambda: any(c["alias"] == "moscow" for c in a.json("contact", "list")), 60, "HELLO accepted")
        bc_nodes.wait_for(lambda: a.channels("moscow") == {"direct": "up"} and b.channels("washington") == {"direct": "up"},
                          60, "direct channel up")
        follower = Follower(a)
        # Warm-up (first ratchet steps, receipts), then settle.
        for i in range(3):
            b.cli("send", "--to", "washington", "-p", "flash", f"warm-up {i}")
            follower.q.get(timeout=60)
        time.sleep(3)
        log(f"cover {name}: idle for {idle_s:.0f} s")
        t1, (to1, from1) = time.monotonic(), proxy.counted()
        time.sleep(idle_s)
        t2, (to2, from2) = time.monotonic(), proxy.counted()
        dt = t2 - t1
        log(f"cover {name}: {messages} FLASH messages one at a time")
        rng = random.Random(14)
        latencies = []
        span = 0.3 + (1.5 / rate if rate else 0.0)
        for i in range(messages):
            time.sleep(rng.uniform(0, span))
            text = f"cover {i:04d}"
            b.cli("send", "--to", "washington", "-p", "flash", text)
            row = follower.q.get(timeout=60)
            if row["body"].get("text") != text:
                raise RuntimeError(f"expected {text!r}, got {row['body']!r}")
            latencies.append(row["delivered_at_ms"] - row["sent_at_ms"])
        status = b.link("washington")
        direct = [c for c in status["channels"] if c["channel"] == "direct"][0]
        return {"mode": name, "rate": rate, "jitter": jitter, "idle_s": dt,
                "wire_to_inviter_Bps": (to2 - to1) / dt, "wire_from_inviter_Bps": (from2 - from1) / dt,
                "latency_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "n": len(latencies)},
                "slots_real": direct.get("slots_real"), "slots_padding": direct.get("slots_padding"),
                "slots_missed": direct.get("slots_missed")}
    finally:
        tear_down(root, keep, nodes, [c.close for c in (follower, proxy) if c])


def run_relay_idle(rate: float | None, idle_s: float, keep: bool) -> dict:
    """Two nodes linked only through a relay, each node's connection to it through a counting
    proxy; the bytes each carries each way over idle_s with nothing sent (PUTs and ACKs towards
    the relay, DELIVERs and OKs back)."""
    name = "off" if rate is None else f"{rate:g}/s"
    root = bc_nodes.TempRoot()
    nodes, proxies, relay = [], [], None
    try:
        relay = bc_nodes.Relay(root.path, "ny")
        relay.start()
        a = bc_nodes.WildcardNode(root.path, "washington")
        b = bc_nodes.WildcardNode(root.path, "moscow")
        nodes = [a, b]
        for n in nodes:
            n.cli("init", "--name", n.name)
            proxy = bc_nodes.Proxy(relay.port)
            proxies.append(proxy)
            bc_nodes.add_relay(n, relay, port=proxy.port)
            if rate is not None:
                with open(os.path.join(n.home, "backchannel.toml"), "w") as f:
                    f.write(f'[cover]\nmode = "constant"\nrate = {rate:g}\n')
        a.start()
        b.cli("contact", "add", a.cli("invite").stdout.strip())
        b.start()
        bc_nodes.wait_for(lambda: any(c["alias"] == "moscow" for c in a.json("contact", "list")), 60, "HELLO accepted")
        bc_nodes.wait_for(lambda: a.channels("moscow") == {"relay:ny": "up"} and
                          b.channels("washington") == {"relay:ny": "up"}, 60, "relay channel up")
        time.sleep(5)  # past the start: reachability announcements, capabilities, first receipts
        log(f"cover {name}: relay channel idle for {idle_s:.0f} s")
        t1, before = time.monotonic(), [p.counted() for p in proxies]
        time.sleep(idle_s)
        t2, after = time.monotonic(), [p.counted() for p in proxies]
        dt = t2 - t1
        per_node = {}
        for n, (to1, from1), (to2, from2) in zip(nodes, before, after):
            per_node[n.name] = {"to_relay_Bps": (to2 - to1) / dt, "from_relay_Bps": (from2 - from1) / dt}
        return {"mode": name, "rate": rate, "idle_s": dt, "nodes": per_node}
    finally:
        tear_down(root, keep, nodes, [p.close for p in proxies] + ([relay.stop] if relay else []))


def run(bc: Path, rates=RATES, messages: int = 20, idle_s: float = 15.0, keep: bool = False) -> dict:
    bc_nodes.SOURCE_BIN = str(bc)
    bc_nodes.BIN = str(bc)
    modes = [run_mode(None, messages, idle_s, keep)] + [run_mode(r, messages, idle_s, keep) for r in rates]
    # The same with jitter 0 (slots a fixed interval apart, the phase still random): the issue's
    # bound of one interval past the floor holds only there; the default jitter (0.5) lets one
    # gap between slots reach 1.5 intervals.
    modes += [run_mode(r, messages, idle_s, keep, jitter=0.0) for r in rates]
    relay = [run_relay_idle(None, idle_s, keep)] + [run_relay_idle(r, idle_s, keep) for r in rates]
    return {"binary": str(bc), "modes": modes, "relay": relay}


def fmt_bytes(v: float) -> str:
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if v >= div:
            return f"{v / div:.2f} {unit}"
    return f"{v:.0f} B"


def table_rows(r: dict | None) -> list[tuple[str, str, str, str]]:
    """Rows for e2e_bench's table: metric, backchannel, baseline (cover off, same run), ratio."""
    rows = []
    modes = (r or {}).get("modes", [])
    if not modes:
        return rows
    off = modes[0]
    for m in modes[1:]:
        for p in ("p50", "p99"):
            v, o = m["latency_ms"][p], off["latency_ms"][p]
            ratio = f"{v / max(o, 1e-9):.1f}x"
            if p == "p99":
                # The target: one slot interval past the floor (cover off, same run). With
                # the default jitter (0.5) one gap between slots reaches 1.5 intervals.
                interval = 1000 / m["rate"]
                target = interval + o
                verdict = "met" if v <= target else f"missed by {v - target:.1f} ms"
                ratio += f"; target one interval + floor = {target:.1f} ms: {verdict}"
                if m.get("jitter") != 0:
                    ratio += f" (the jitter lets a gap reach 1.5 intervals: {1.5 * interval + o:.0f} ms)"
            gap = 1.0 if m.get("jitter") == 0 else 1.5
            rows.append((f"cover {m['mode']}: FLASH latency {p}, outbox commit -> delivered "
                         f"(bound: off + {gap * 1000 / m['rate']:.0f} ms)",
                         f"{v:.0f} ms", f"{o:.0f} ms cover off", ratio))
        if m.get("jitter") is not None:
            continue  # its bandwidth is the same as the default jitter's
        for key, what in (("wire_from_inviter_Bps", "from"), ("wire_to_inviter_Bps", "to")):
            v, o = m[key] * 86400, off[key] * 86400
            rows.append((f"cover {m['mode']}: idle direct channel, wire bytes per day {what} the inviter (measured)",
                         fmt_bytes(v), f"{fmt_bytes(o)} cover off (1 s heartbeats)", f"{v / max(o, 1e-9):.1f}x"))
    relay = (r or {}).get("relay", [])
    if relay:
        off = relay[0]["nodes"]["washington"]
        for m in relay[1:]:
            w = m["nodes"]["washington"]
            for key, what in (("to_relay_Bps", "to"), ("from_relay_Bps", "from")):
                v, o = w[key] * 86400, off[key] * 86400
                rows.append((f"cover {m['mode']}: idle relay channel, wire bytes per day on one node's connection, "
                             f"{what} the relay (measured)", fmt_bytes(v), f"{fmt_bytes(o)} cover off (1 s heartbeats)",
                             f"{v / max(o, 1e-9):.1f}x"))
    return rows


def details_md(r: dict | None) -> list[str]:
    out = []
    for m in (r or {}).get("relay", []):
        per = "; ".join(f"{name} sent {v['to_relay_Bps']:.0f} B/s to the relay and got {v['from_relay_Bps']:.0f} B/s"
                        for name, v in m["nodes"].items())
        out.append(f"- Cover {m['mode']}, relay channel (bench/cover_bench.py; two nodes linked only through one "
                   f"relay, each node's connection to it through a counting proxy, idle for {m['idle_s']:.0f} s; "
                   f"TLS records, TCP/IP headers not counted): {per}.")
    for m in (r or {}).get("modes", []):
        out.append(f"- Cover {m['mode']} (bench/cover_bench.py; two nodes, direct channel through a counting proxy): "
                   f"idle for {m['idle_s']:.0f} s the channel carried {m['wire_from_inviter_Bps']:.0f} B/s from the "
                   f"inviter and {m['wire_to_inviter_Bps']:.0f} B/s to it (TLS records); {m['latency_ms']['n']} FLASH "
                   f"messages, outbox commit -> delivered p50 {m['latency_ms']['p50']:.0f} ms, p99 "
                   f"{m['latency_ms']['p99']:.0f} ms; the sender's direct channel at the end: "
                   f"{m['slots_real']} slots real, {m['slots_padding']} padding, {m['slots_missed']} missed.")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"), help="folder with backchannel")
    ap.add_argument("--rates", default=",".join(f"{r:g}" for r in RATES), help="cover rates, comma-separated")
    ap.add_argument("--messages", type=int, default=20, help="FLASH messages timed per mode")
    ap.add_argument("--idle", type=float, default=15.0, help="seconds of idle link for the bandwidth")
    ap.add_argument("--json", default="", help="write the raw results here too")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folders")
    args = ap.parse_args()
    exit_on_signals()
    r = run(Path(args.bin) / "backchannel", [float(x) for x in args.rates.split(",")], args.messages, args.idle,
            args.keep)
    print_report(table_rows(r), details_md(r), r, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
