#!/usr/bin/env python3
"""Link health benchmark (issue 6): how soon a node notices a dead channel and a blackout, and
what heartbeats cost on an idle link, at heartbeat intervals of 1 s and 100 ms.

Two nodes (washington, the inviter, and moscow) share a link over three channels: direct and two
relays. Every channel runs through a TCP proxy of this script (tests/integration/bc_nodes.py's
Proxy), so that it can be killed in two ways:

  closed   the proxy closes both connections (what a crashed peer or relay, or a reset, looks
           like): the node learns it from the socket at once;
  silent   the proxy keeps the connections open and drops every byte (a cable cut, a hung
           relay, a black-holing firewall): only the missing heartbeats reveal it, after
           3 intervals (the longer of both ends').

Measured on washington, per repetition, from the moment the proxy was cut:

  - detection: BC_TIME_MS of the alarm (when the node decided), and when the alarm command ran
    (its own clock, `date +%s%3N`), and when the control socket's status first showed it
    (polled every 20 ms);
  - a cut of the direct channel alone (link ok -> degraded), and a blackout (all three proxies
    cut at once: ok -> blackout).

Heartbeat bandwidth: with the link idle and all three channels up, the bytes the direct channel's
proxy forwards each way over --idle seconds (TLS records included: what the network carries),
and the direct channel's bytes_out/bytes_in in washington's status (what the engine counts).

Run alone (`bench/health_bench.py --bin build/bin`) or from bench/e2e_bench.py (part `health`).
Every process it starts is stopped on exit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from bench_common import exit_on_signals, print_report  # noqa: E402
import bc_nodes  # noqa: E402  (the integration tests' node, relay and proxy helpers)

INTERVALS = ("1s", "100ms")
POLL_S = 0.02
CHANNELS = ("direct", "relay:relay1", "relay:relay2")


def log(msg: str) -> None:
    print(f"health_bench: {msg}", file=sys.stderr, flush=True)


def interval_ms(text: str) -> int:
    return int(text[:-2]) if text.endswith("ms") else int(float(text[:-1]) * 1000)


class Setup:
    """Two nodes, two relays, a proxy in front of each channel; stop() ends every process, also
    after a failed build()."""

    def __init__(self):
        self.nodes, self.relays, self.proxies = [], [], []

    def build(self, root: str, heartbeat: str) -> None:
        script = bc_nodes.write_alarm_script(root)
        self.relays += [bc_nodes.Relay(root, "relay1"), bc_nodes.Relay(root, "relay2")]
        for r in self.relays:
            r.start()
        self.relay_proxies = [bc_nodes.Proxy(r.port) for r in self.relays]
        self.proxies += self.relay_proxies
        a = bc_nodes.HealthNode(root, "washington")
        b = bc_nodes.HealthNode(root, "moscow")
        self.nodes += [a, b]
        for n in (a, b):
            n.cli("init", "--name", n.name)
            n.configure(script, heartbeat)
            for r, p in zip(self.relays, self.relay_proxies):
                bc_nodes.add_relay(n, r, port=p.port)
        a.start()
        self.direct = bc_nodes.Proxy(a.port)
        self.proxies.append(self.direct)
        invitation = a.cli("invite", "--address", f"127.0.0.1:{self.direct.port}").stdout.strip()
        b.cli("contact", "add", invitation)
        b.start()
        bc_nodes.wait_for(lambda: any(c["alias"] == "moscow" for c in a.json("contact", "list")), 30,
                          "HELLO accepted")
        self.a, self.b = a, b

    def all_ok(self) -> bool:
        for node, peer in ((self.a, "moscow"), (self.b, "washington")):
            link = node.link(peer)
            if link is None or link["state"] != "ok" or not link["state_reported"]:
                return False
            if {c["channel"]: c["state"] for c in link["channels"]} != {c: "up" for c in CHANNELS}:
                return False
        return True

    def wait_ok(self, timeout: float = 60) -> None:
        bc_nodes.wait_for(self.all_ok, timeout, "the link ok with all three channels up on both sides")

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()
        for r in self.relays:
            r.stop()
        for p in self.proxies:
            p.close()


def measure_cut(s: Setup, proxies: list, silent: bool, want_state: str, channel_down: str | None,
                timeout: float) -> dict:
    """Cuts proxies (closed or silent) and times washington's alarm and status until the link is
    in want_state; then restores every proxy and waits for the link to be ok again."""
    a = s.a
    seen = len(a.alarms())
    t0 = bc_nodes.now_ms()
    for p in proxies:
        if silent:
            p.stall()
        else:
            p.cut()
    status_ms = None
    alarm = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (status_ms is None or alarm is None):
        if status_ms is None:
            link = a.link("moscow")
            if link is not None:
                chans = {c["channel"]: c["state"] for c in link["channels"]}
                if link["state"] == want_state and (channel_down is None or chans.get(channel_down) == "down"):
                    status_ms = bc_nodes.now_ms() - t0
        if alarm is None:
            for x in a.alarms()[seen:]:
                if x["event"] == "link" and x["state"] == want_state:
                    alarm = x
                    break
        time.sleep(POLL_S)
    if status_ms is None or alarm is None:
        raise RuntimeError(f"washington did not report {want_state} within {timeout} s "
                           f"(status {status_ms}, alarms {a.alarms()[seen:]})")
    for p in proxies:
        if silent:
            p.cut()  # the dropped bytes broke the streams: new connections
        p.restore()
    s.wait_ok()
    return {"decided_ms": int(alarm["time_ms"]) - t0, "alarm_ran_ms": int(alarm["ran_ms"]) - t0,
            "status_ms": status_ms, "cause": alarm["cause"]}


def measure_idle(s: Setup, seconds: float) -> dict:
    def snapshot():
        link = s.a.link("moscow")
        direct = [c for c in link["channels"] if c["channel"] == "direct"][0]
        return time.monotonic(), s.direct.counted(), direct["bytes_out"], direct["bytes_in"], direct["envelopes_out"]

    s.wait_ok()
    t1, (to1, from1), out1, in1, env1 = snapshot()
    time.sleep(seconds)
    t2, (to2, from2), out2, in2, env2 = snapshot()
    dt = t2 - t1
    return {"seconds": dt,
            # washington is the proxy's target: "to target" is moscow -> washington.
            "wire_to_washington_Bps": (to2 - to1) / dt, "wire_from_washington_Bps": (from2 - from1) / dt,
            "status_out_Bps": (out2 - out1) / dt, "status_in_Bps": (in2 - in1) / dt,
            "envelopes_out_per_s": (env2 - env1) / dt}


def run_interval(heartbeat: str, reps: int, idle_s: float, keep: bool) -> dict:
    root = bc_nodes.TempRoot()
    s = Setup()
    try:
        s.build(root.path, heartbeat)
        s.wait_ok()
        log(f"heartbeat {heartbeat}: link ok; idle for {idle_s:.0f} s")
        idle = measure_idle(s, idle_s)
        limit = max(15.0, 10 * interval_ms(heartbeat) / 1000)
        kinds = {"direct_closed": ([s.direct], False, "degraded", "direct"),
                 "direct_silent": ([s.direct], True, "degraded", "direct"),
                 "blackout_closed": ([s.direct] + s.relay_proxies, False, "blackout", None),
                 "blackout_silent": ([s.direct] + s.relay_proxies, True, "blackout", None)}
        results = {k: [] for k in kinds}
        for rep in range(reps):
            for kind, (proxies, silent, state, channel) in kinds.items():
                results[kind].append(measure_cut(s, proxies, silent, state, channel, limit))
                time.sleep(2 * interval_ms(heartbeat) / 1000)  # a few heartbeats on the new connections
            log(f"heartbeat {heartbeat}: repetition {rep + 1}/{reps}: " + ", ".join(
                f"{k} {v[-1]['decided_ms']} ms" for k, v in results.items()))
        return {"heartbeat": heartbeat, "interval_ms": interval_ms(heartbeat), "reps": reps, "idle": idle,
                "cuts": results,
                "median": {k: {m: statistics.median(x[m] for x in v)
                               for m in ("decided_ms", "alarm_ran_ms", "status_ms")} for k, v in results.items()},
                "range": {k: (min(x["decided_ms"] for x in v), max(x["decided_ms"] for x in v))
                          for k, v in results.items()}}
    finally:
        s.stop()
        if keep:
            log(f"kept {root.path}")
        root.cleanup(keep=keep)


def run(bc: Path, reps: int = 5, intervals=INTERVALS, idle_s: float = 20.0, keep: bool = False) -> dict:
    bc_nodes.SOURCE_BIN = str(bc)
    bc_nodes.BIN = str(bc)
    return {"binary": str(bc), "by_interval": [run_interval(h, reps, idle_s, keep) for h in intervals]}


def fmt_ms(v: float) -> str:
    return f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms"


def table_rows(r: dict | None) -> list[tuple[str, str, str, str]]:
    """Rows for e2e_bench's table: metric, backchannel, baseline, ratio. The baseline of a
    silent cut is the design's bound (3 intervals); a closed cut has none."""
    rows = []
    for h in (r or {}).get("by_interval", []):
        iv, med = h["interval_ms"], h["median"]
        bound = 3 * iv
        for kind, what in (("direct_silent", "silent cut of 1 of 3 channels -> degraded alarm"),
                           ("blackout_silent", "silent cut of all 3 channels -> blackout alarm")):
            v = med[kind]["alarm_ran_ms"]
            rows.append((f"health, heartbeat {h['heartbeat']}: {what} (median of {h['reps']})", fmt_ms(v),
                         f"{fmt_ms(bound)} (3 intervals, the design's bound)", f"{v / bound:.2f}x"))
        for kind, what in (("direct_closed", "1 of 3 channels closed -> degraded alarm"),
                           ("blackout_closed", "all 3 channels closed -> blackout alarm")):
            rows.append((f"health, heartbeat {h['heartbeat']}: {what} (median of {h['reps']})",
                         fmt_ms(med[kind]["alarm_ran_ms"]), "-", "-"))
        idle = h["idle"]
        rows.append((f"health, heartbeat {h['heartbeat']}: idle direct channel, TCP bytes/s from / to the inviter",
                     f"{idle['wire_from_washington_Bps']:.0f} / {idle['wire_to_washington_Bps']:.0f} B/s",
                     "-", "-"))
    return rows


def details_md(r: dict | None) -> list[str]:
    out = []
    for h in (r or {}).get("by_interval", []):
        med, rng, idle = h["median"], h["range"], h["idle"]

        def part(kind):
            m = med[kind]
            lo, hi = rng[kind]
            return (f"decided {fmt_ms(m['decided_ms'])} (range {fmt_ms(lo)}-{fmt_ms(hi)}), alarm ran "
                    f"{fmt_ms(m['alarm_ran_ms'])}, status showed it {fmt_ms(m['status_ms'])}")

        out.append(f"- Health, heartbeat {h['heartbeat']} (bench/health_bench.py; two nodes, direct + 2 relays, "
                   f"each channel through a proxy that closes its connections or silently drops every byte; "
                   f"medians of {h['reps']} on the inviter, from the cut): 1 channel closed: {part('direct_closed')}; "
                   f"1 channel silent: {part('direct_silent')}; all 3 closed: {part('blackout_closed')}; all 3 "
                   f"silent: {part('blackout_silent')}. Idle for {idle['seconds']:.0f} s with all channels up, "
                   f"the direct channel carried {idle['wire_from_washington_Bps']:.0f} B/s from the inviter and "
                   f"{idle['wire_to_washington_Bps']:.0f} B/s to it as TCP payload (TLS records; TCP/IP headers not counted), "
                   f"{idle['status_out_Bps']:.0f} B/s out and {idle['status_in_Bps']:.0f} B/s in by the node's own "
                   f"count ({idle['envelopes_out_per_s']:.1f} envelopes/s out, "
                   f"{idle['status_out_Bps'] / max(idle['envelopes_out_per_s'], 1e-9):.0f} B each: every heartbeat is "
                   f"a full-size envelope). A silent cut is noticed 3 intervals after the last thing heard, so "
                   f"up to one interval less after the cut.")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"), help="folder with backchannel")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of each cut per interval (median quoted)")
    ap.add_argument("--intervals", default=",".join(INTERVALS), help="heartbeat intervals, comma-separated")
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of idle link for the bandwidth")
    ap.add_argument("--json", default="", help="write the raw results here too")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folders (logs, alarm files)")
    args = ap.parse_args()
    exit_on_signals()
    r = run(Path(args.bin) / "backchannel", args.reps, args.intervals.split(","), args.idle, args.keep)
    print_report(table_rows(r), details_md(r), r, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
