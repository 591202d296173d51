"""Issue 14's distinguisher on real nodes: can someone watching the wire tell when the parties
talk, or how much?

washington and moscow run with cover traffic on (`[cover] mode = "constant"`, 20 slots/s per
channel and direction); moscow reaches washington directly through a recording TCP proxy that
parses the TLS record layer of both directions and logs (time, direction, size) of every record.
Two windows of the same length are recorded: idle, and busy (100 messages of mixed precedence
and a 1 MiB file sent at the start of the window). Per direction, the test asks what an observer
could compare:

  - the set of record sizes must be the same in both windows (every envelope is one fixed-size
    record, real or padding);
  - the byte counts must agree within 2 slots' worth of records: a window of W seconds holds
    W x rate slots +-1 (each slot is jittered by up to half an interval, so the edges of a
    window may catch or miss one), so two windows differ by at most 2;
  - a two-sample Kolmogorov-Smirnov test of the inter-arrival times must not reject at
    p = 0.01. Each window holds about 400 intervals per direction; at n = m = 400 the test
    rejects at alpha = 0.01 whenever the two empirical CDFs differ by more than
    1.63 * sqrt(2/400) = 0.115 anywhere, so a rate change of a few percent, a burst, or a gap
    after a queue drains would be caught (the cover-off run below differs by D close to 1).

The same capture with cover off (the nodes restarted without [cover], shorter windows) must
fail these checks: the comparison can fail. Delivery under cover is exactly once and in order
per precedence, and `status --json` reports the cover fields.

Load: the busy window makes the nodes work (deliveries, fsyncs) and the test itself runs `send`
processes; on a loaded machine the node's loop stalls now and then, its slots leave late and the
owed ones back to back (link/cover.cpp kMaxOwedSlots), which shows in the tails of the gaps (the
test prints their quantiles). The counts stay exact; on the shared 2-core machine (load ~10) the
KS test passed when nothing else of ours ran, and rejected once while a build ran beside it.

The relay side of the same comparison is test_cover_relay.py.
BC_INT_KEEP=1 keeps the scratch folder."""
import collections
import json
import math
import os
import random
import tempfile
import threading
import time
import unittest

from bc_nodes import Proxy, TempRoot, WildcardNode, settle_disk, wait_for

RATE = 20
WINDOW_S = 20
PRECEDENCES = ["flash", "immediate", "priority", "routine"]


def ks_two_sample(a, b):
    """(D, p) of the two-sample Kolmogorov-Smirnov test, p from the asymptotic Kolmogorov
    distribution with Stephens' small-sample correction (as in Numerical Recipes' kstwo)."""
    a, b = sorted(a), sorted(b)
    n, m = len(a), len(b)
    i = j = 0
    d = 0.0
    while i < n and j < m:
        x = min(a[i], b[j])
        while i < n and a[i] <= x:
            i += 1
        while j < m and b[j] <= x:
            j += 1
        d = max(d, abs(i / n - j / m))
    en = math.sqrt(n * m / (n + m))
    lam = (en + 0.12 + 0.11 / en) * d
    if lam < 1e-3:
        return d, 1.0
    p = 0.0
    for k in range(1, 101):
        term = 2 * (-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam)
        p += term
        if abs(term) < 1e-12:
            break
    return d, min(1.0, max(0.0, p))


class RecordingProxy(Proxy):
    """A Proxy that also parses the TLS record layer of each direction and logs every record:
    (time.monotonic() when its first byte arrived, towards_target, size with its 5-byte header)."""

    def __init__(self, target_port):
        self.records = []
        self.records_lock = threading.Lock()
        super().__init__(target_port)

    def _pump(self, src, dst, towards_target):
        buf = b""
        start = None
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                at = time.monotonic()
                dst.sendall(data)
                if not buf:
                    start = at
                buf += data
                while len(buf) >= 5:
                    size = 5 + int.from_bytes(buf[3:5], "big")
                    if len(buf) < size:
                        break
                    with self.records_lock:
                        self.records.append((start, towards_target, size))
                    buf = buf[size:]
                    start = at
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass

    def window(self, t0, t1):
        with self.records_lock:
            return [r for r in self.records if t0 <= r[0] < t1]


def summarize(records, towards):
    mine = [r for r in records if r[1] == towards]
    times = [r[0] for r in mine]
    return {
        "count": len(mine),
        "bytes": sum(r[2] for r in mine),
        "sizes": collections.Counter(r[2] for r in mine),
        "gaps": [b - a for a, b in zip(times, times[1:])],
    }


class CoverOnTheWire(unittest.TestCase):
    def setUp(self):
        self.root = TempRoot()
        self.nodes = []
        self.proxy = None
        self.rng = random.Random(14)

    def tearDown(self):
        for n in self.nodes:
            n.stop()
        if self.proxy:
            self.proxy.close()
        keep = os.environ.get("BC_INT_KEEP") == "1" or any(
            e for _, e in (self._outcome.result.errors + self._outcome.result.failures))
        if keep:
            print(f"\nkept {self.root.path}")
        self.root.cleanup(keep=keep)

    def configure(self, cover):
        for n in self.nodes:
            with open(os.path.join(n.home, "backchannel.toml"), "w") as f:
                if cover:
                    f.write(f'[cover]\nmode = "constant"\nrate = {RATE}\n')

    def make_pair(self):
        a = WildcardNode(self.root.path, "washington")
        b = WildcardNode(self.root.path, "moscow")
        self.nodes = [a, b]
        for n in self.nodes:
            n.cli("init", "--name", n.name)
        self.configure(cover=True)
        a.start()
        self.proxy = RecordingProxy(a.port)
        invitation = a.cli("invite", "--address", f"127.0.0.1:{self.proxy.port}").stdout.strip()
        b.cli("contact", "add", invitation)
        b.start()
        wait_for(lambda: any(c["alias"] == "moscow" for c in a.json("contact", "list")), 60, "HELLO accepted")
        return a, b

    def wait_up(self, a, b):
        wait_for(lambda: a.channels("moscow") == {"direct": "up"} and b.channels("washington") == {"direct": "up"},
                 60, "direct channel up on both sides")

    def send_traffic(self, b, count, big_file):
        """count messages of mixed precedence from moscow, in runs (`send --each-line`), and a
        file of big_file bytes after the first half. Returns [(seq, precedence, label)]."""
        sent = []
        i = 0
        while i < count:
            n = min(self.rng.randint(1, 15), count - i)
            prec = self.rng.choice(PRECEDENCES)
            labels = [f"m{j}" for j in range(i, i + n)]
            out = json.loads(b.cli("--json", "send", "--to", "washington", "-p", prec, "--each-line", "-",
                                   stdin="\n".join(labels) + "\n").stdout)
            sent.extend((m["seq"], prec, label) for m, label in zip(out["messages"], labels))
            i += n
            if big_file and i >= count // 2:
                path = os.path.join(self.root.path, "big.bin")
                with open(path, "wb") as f:
                    f.write(os.urandom(big_file))
                out = json.loads(b.cli("--json", "send", "--to", "washington", "--file", path).stdout)
                sent.append((out["seq"], "routine", None))
                big_file = 0
        return sent

    def capture(self, a, b, window_s, count, big_file):
        """(idle records, busy records, what was sent) for two back-to-back windows."""
        settle_disk()
        t0 = time.monotonic()
        time.sleep(window_s)
        t1 = time.monotonic()
        sender = threading.Thread(target=lambda: self.sent.extend(self.send_traffic(b, count, big_file)))
        self.sent = []
        sender.start()
        time.sleep(window_s)
        t2 = time.monotonic()
        sender.join()
        return self.proxy.window(t0, t1), self.proxy.window(t1, t2)

    def compare(self, idle, busy, slot_bytes):
        """The observer's comparison, per direction: a list of what tells the windows apart.
        slot_bytes maps a direction (towards washington or not) to its slot's record size."""
        tells = []
        for towards, name in ((True, "moscow->washington"), (False, "washington->moscow")):
            i, b = summarize(idle, towards), summarize(busy, towards)
            if set(i["sizes"]) != set(b["sizes"]):
                tells.append(f"{name}: record sizes {dict(i['sizes'])} idle vs {dict(b['sizes'])} busy")
            if abs(i["bytes"] - b["bytes"]) > 2 * slot_bytes[towards]:
                tells.append(f"{name}: {i['bytes']} bytes idle vs {b['bytes']} busy (more than 2 slots apart)")
            if len(i["gaps"]) < 2 or len(b["gaps"]) < 2:
                tells.append(f"{name}: too few records to compare ({i['count']} idle, {b['count']} busy)")
                continue
            d, p = ks_two_sample(i["gaps"], b["gaps"])
            print(f"  {name}: idle {i['count']} records {i['bytes']} B, busy {b['count']} records {b['bytes']} B, "
                  f"sizes {sorted(i['sizes'])}, KS D={d:.3f} p={p:.3g}")
            for label, gaps in (("idle", i["gaps"]), ("busy", b["gaps"])):
                g = sorted(gaps)
                q = [g[min(len(g) - 1, int(len(g) * f))] * 1000 for f in (0.01, 0.1, 0.5, 0.9, 0.99)]
                print(f"    {label} gaps ms p1/p10/p50/p90/p99: " + " / ".join(f"{x:.1f}" for x in q))
            if p < 0.01:
                tells.append(f"{name}: inter-arrival times differ (KS D={d:.3f}, p={p:.3g})")
        return tells

    def check_exactly_once(self, receiver, sent):
        inbox = receiver.json("inbox", "--from", "moscow")
        self.assertEqual(sorted(m["seq"] for m in inbox), sorted(s for s, _, _ in sent), "nothing twice, nothing lost")
        self.assertEqual(len(inbox), len(sent))
        by_seq = {s: (p, label) for s, p, label in sent}
        for m in inbox:
            prec, label = by_seq[m["seq"]]
            self.assertEqual(m["precedence"], prec)
            if label is not None:
                self.assertEqual(m["body"]["text"], label)
        for prec in PRECEDENCES:
            order = [m["seq"] for m in inbox if m["precedence"] == prec]
            self.assertEqual(order, sorted(order), f"{prec} delivered in send order")

    def test_idle_and_busy_look_the_same(self):
        a, b = self.make_pair()
        self.wait_up(a, b)
        time.sleep(3)  # past the start: reachability announcements, first receipts
        idle, busy = self.capture(a, b, WINDOW_S, 100, 1 << 20)
        # The slot's record size per direction: the one size seen (asserted equal between
        # windows below). The two directions differ by 4 bytes, the mask a WebSocket client
        # (moscow) puts on its frames; a tolerance taken from the other direction once made an
        # exact 2-slot difference look like more.
        slot_bytes = {}
        for towards in (True, False):
            sizes = collections.Counter(r[2] for r in idle if r[1] == towards and r[2] > 1000)
            self.assertTrue(sizes, "no envelope records seen while idle")
            slot_bytes[towards] = sizes.most_common(1)[0][0]
        print(f"\ncover on, {RATE} slots/s, {WINDOW_S} s windows:")
        tells = self.compare(idle, busy, slot_bytes)
        self.assertEqual(tells, [], "an observer can tell idle from busy")
        # About RATE x WINDOW_S records each way per window.
        for towards in (True, False):
            n = summarize(idle, towards)["count"]
            self.assertGreater(n, RATE * WINDOW_S * 0.8)
            self.assertLess(n, RATE * WINDOW_S * 1.2 + 5)

        # Everything arrives, exactly once, in order per precedence (the 1 MiB file is 586
        # chunks: about 30 s at 20 slots/s).
        wait_for(lambda: len(a.json("inbox", "--from", "moscow")) == len(self.sent), 180, "everything delivered")
        self.check_exactly_once(a, self.sent)
        status = b.json("status")
        link = next(l for l in status["links"] if l["contact"] == "washington")
        self.assertEqual(link["cover"]["mode"], "constant")
        self.assertEqual(link["cover"]["rate"], RATE)
        direct = next(c for c in link["channels"] if c["channel"] == "direct")
        self.assertGreater(direct["slots_real"], 586)
        self.assertGreater(direct["slots_padding"], RATE * WINDOW_S * 0.8)
        self.assertEqual(direct["slots_real"] + direct["slots_padding"], direct["envelopes_out"])

        # The one exception: a surge is taken by the running node and logged.
        out = json.loads(b.cli("--json", "send", "--to", "washington", "--surge", "-p", "flash", "surge now").stdout)
        self.assertEqual(out["surge"], "surge")
        self.sent.append((out["seq"], "flash", "surge now"))
        wait_for(lambda: len(a.json("inbox", "--from", "moscow")) == len(self.sent), 60, "the surge delivered")
        with open(b.log_path) as f:
            self.assertIn(f"message #{out['seq']} sent outside the cover slots (surge)", f.read())

        # The same capture with cover off: it must tell (the test can fail).
        for n in self.nodes:
            n.stop()
        self.configure(cover=False)
        for n in self.nodes:
            n.start()
        self.wait_up(a, b)
        time.sleep(3)
        idle, busy = self.capture(a, b, 10, 100, 0)
        print("cover off, 10 s windows:")
        tells = self.compare(idle, busy, slot_bytes)
        print("  tells: " + "; ".join(tells))
        self.assertNotEqual(tells, [], "cover off, yet idle and busy looked the same: the check cannot fail")


if __name__ == "__main__":
    unittest.main()
