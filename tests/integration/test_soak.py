"""Soak (issue 17): two nodes and two relays under a steady stream for BC_SOAK_MINUTES (2 in the
ordinary scripts/test; `scripts/soak` runs 60), one relay restarted (SIGKILL, then started again
on its port from its database) every BC_SOAK_RESTART_SECONDS, the two in turn (300; the 2-minute
form restarts every 40 s so that each relay goes down at least once).

The nodes reach each other only through the relays (no direct channel), so every restart takes
away half of the link's paths while messages flow. Checked at the end: every message delivered
exactly once, in send order per precedence, every one confirmed by a receipt, equal transcript
heads; every process's RSS flat (each sample after a warm-up within 10% of the first sample
after it; for a relay, within each of its runs). Printed: the samples, messages and restarts.

Like integration.load, the processes run with a smaller AddressSanitizer quarantine under the
ASan build (it holds up to 256 MiB of freed memory otherwise, which reads as growth).
"""
import os
import random
import sys
import threading
import time
import unittest

from bc_nodes import Relay, TempRoot, WildcardNode, relay_url, wait_for
import test_relays  # the exactly-once and transcript checks

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))
import hostile_ws as ws  # noqa: E402  (rss_kib)
from backchannel_client import Client  # noqa: E402

MINUTES = float(os.environ.get("BC_SOAK_MINUTES", "2"))
RESTART = float(os.environ.get("BC_SOAK_RESTART_SECONDS", "300" if MINUTES >= 15 else "40"))
# Messages a second from moscow, and a reply from washington for every tenth.
RATE = float(os.environ.get("BC_SOAK_RATE", "5"))
SAMPLE = 5.0 if MINUTES < 15 else 30.0
# A process's memory settles: caches, the store's pages, the allocator's pools. Measured from
# each process's start.
WARMUP = 20.0 if MINUTES < 15 else 300.0
PRECEDENCES = test_relays.PRECEDENCES


class Soak(unittest.TestCase):
    def setUp(self):
        self.root = TempRoot()
        self.seed = int(os.environ.get("BC_INT_SEED", random.randrange(1 << 30)))
        print(f"\nBC_INT_SEED={self.seed}", file=sys.stderr)
        self.rng = random.Random(self.seed)
        self.asan = os.environ.get("ASAN_OPTIONS")
        os.environ["ASAN_OPTIONS"] = (self.asan + ":" if self.asan else "") + "quarantine_size_mb=16"
        self.nodes, self.relays = [], []

    def tearDown(self):
        for n in self.nodes:
            n.stop()
        for r in self.relays:
            r.stop()
        if self.asan is None:
            os.environ.pop("ASAN_OPTIONS", None)
        else:
            os.environ["ASAN_OPTIONS"] = self.asan
        self.root.cleanup(keep=os.environ.get("BC_INT_KEEP") == "1")

    # The checks of test_relays, on this test's nodes.
    check_exactly_once = test_relays.RelayChannels.check_exactly_once
    check_transcripts = test_relays.RelayChannels.check_transcripts

    def test_steady_stream_with_relays_restarted(self):
        relays = [Relay(self.root.path, "relay1"), Relay(self.root.path, "relay2")]
        for r in relays:
            r.start()
        self.relays += relays
        a = WildcardNode(self.root.path, "washington")
        b = WildcardNode(self.root.path, "moscow")
        self.nodes += [a, b]
        for n in (a, b):
            n.cli("init", "--name", n.name)
            for r in relays:
                n.cli("relay", "add", r.name, relay_url(r), r.info()["fingerprint"])
        a.start()
        b.cli("contact", "add", a.cli("invite").stdout.strip())
        b.start()
        wait_for(lambda: any(c["alias"] == "moscow" for c in a.json("contact", "list")), 60, "HELLO accepted")
        both = {"relay:relay1": "up", "relay:relay2": "up"}
        wait_for(lambda: a.channels("moscow") == both and b.channels("washington") == both, 90,
                 "both relay channels up on both sides")

        # (process name, run) -> [(seconds since that run started, RSS KiB)]
        samples = {}
        started = {}  # process name -> (run number, monotonic start)

        def began(name):
            run = started.get(name, (-1, 0))[0] + 1
            started[name] = (run, time.monotonic())

        for p in ("washington", "moscow", "relay1", "relay2"):
            began(p)
        procs = {"washington": a, "moscow": b, "relay1": relays[0], "relay2": relays[1]}

        def sample():
            for name, p in procs.items():
                if p.proc is None or p.proc.poll() is not None:
                    continue
                run, t0 = started[name]
                try:
                    samples.setdefault((name, run), []).append((time.monotonic() - t0, ws.rss_kib(p.proc.pid)))
                except (OSError, RuntimeError):
                    pass  # exiting just now

        sent, replies = [], []
        stop = threading.Event()
        errors = []

        def stream():
            # RATE messages a second from moscow, each of a random precedence, through the
            # control socket's API (a durable answer each: the message is queued for good), and a
            # reply from washington for every tenth. Started on time, not made up when late.
            i = 0
            next_at = time.monotonic()
            try:
                with Client(home=b.home) as cb, Client(home=a.home) as ca:
                    while not stop.is_set():
                        prec = self.rng.choice(PRECEDENCES)
                        out = cb.submit("washington", text=f"m{i}", precedence=prec, token=f"m{i}")
                        sent.append((out["seq"], prec, f"m{i}"))
                        if i % 10 == 0:
                            out = ca.submit("moscow", text=f"r{i}", precedence="routine", token=f"r{i}")
                            replies.append((out["seq"], "routine", f"r{i}"))
                        i += 1
                        next_at = max(next_at + 1.0 / RATE, time.monotonic() - 1.0)
                        stop.wait(max(0.0, next_at - time.monotonic()))
            except Exception as e:  # reported by the main thread
                errors.append(e)

        sender = threading.Thread(target=stream, daemon=True)
        began_at = time.monotonic()
        end = began_at + MINUTES * 60
        sender.start()
        restarts = []
        next_restart = began_at + RESTART
        next_sample = began_at
        turn = 0
        while time.monotonic() < end and not errors:
            now = time.monotonic()
            if now >= next_sample:
                sample()
                next_sample += SAMPLE
            if now >= next_restart:
                r = relays[turn % 2]
                turn += 1
                r.kill()
                time.sleep(1.0)  # down long enough for both nodes to notice a dead connection
                r.start()
                began(r.name)
                restarts.append((round(now - began_at), r.name))
                next_restart += RESTART
            time.sleep(0.2)
        stop.set()
        sender.join(timeout=120)
        self.assertEqual(errors, [])

        wait_for(lambda: len(a.json("inbox", "--from", "moscow")) >= len(sent), 300,
                 f"{len(sent)} messages in washington's inbox")
        wait_for(lambda: len(b.json("inbox", "--from", "washington")) >= len(replies), 120,
                 "replies in moscow's inbox")
        wait_for(lambda: all(e["state"] == "delivered" for e in b.json("log", "--with", "washington")
                             if e["direction"] == "out"), 180, "receipts for everything moscow sent")
        wait_for(lambda: all(e["state"] == "delivered" for e in a.json("log", "--with", "moscow")
                             if e["direction"] == "out"), 180, "receipts for everything washington sent")
        self.check_exactly_once(a, b, sent)
        self.check_exactly_once(b, a, replies)
        self.check_transcripts(a, b)

        report = []
        flat = []
        for (name, run), points in sorted(samples.items()):
            settled = [(t, rss) for t, rss in points if t >= WARMUP]
            report.append(f"{name}#{run}: " + " ".join(f"{rss / 1024:.1f}" for _, rss in points))
            if len(settled) >= 2:
                base = settled[0][1]
                worst = max(settled, key=lambda s: abs(s[1] - base))
                flat.append((name, run, base, worst))
        print(f"\nsoak: {MINUTES:g} min, {len(sent)} messages and {len(replies)} replies, relay restarts "
              f"{restarts}\nRSS MiB every {SAMPLE:g} s by process and run:\n  " + "\n  ".join(report),
              file=sys.stderr)
        self.assertGreaterEqual(len(restarts), 2, "each relay restarted at least once")
        self.assertTrue(any(name == "washington" for name, *_ in flat), "too few samples to judge")
        for name, run, base, (t, rss) in flat:
            self.assertLessEqual(abs(rss - base), base * 0.10,
                                 f"{name} (run {run}): {rss} KiB at {t:.0f} s, {base} KiB after the warm-up")


if __name__ == "__main__":
    unittest.main()
