"""Issue 6's integration test: link health with real processes.

washington and moscow share a link over three channels: direct (moscow dials washington through a
TCP proxy the test can cut, as in test_relays.py) and two relays. Both nodes heartbeat every
second and run an alarm command that appends one line per run, with every BC_* variable, to a
file of their own. The channels die one by one (proxy cut, relay 1 SIGKILLed, relay 2
SIGKILLed): `backchannel status` must say degraded, degraded, blackout (exit codes 1, 1, 2) and
the blackout alarm must run within 3 s of the last channel's death; relay 2 restarted must bring
an alarm for the recovery. While everything is up for ~10 s no alarm may run (no flapping).
`linecheck` passes with three channels up and fails naming the dead one. A node run with
`--metrics` serves Prometheus text that agrees with its status.

BC_INT_KEEP=1 keeps the scratch folder (logs, alarm files)."""
import json
import os
import sys
import time
import unittest
import urllib.request

import bc_nodes
from bc_nodes import HealthNode, Proxy, Relay, TempRoot, add_relay, free_port, now_ms, wait_for, write_alarm_script

try:
    import prometheus_client.parser
except ImportError:  # python3 may be a pyenv shim; Debian's python3-prometheus-client is here
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import prometheus_client.parser
    except ImportError:
        prometheus_client = None

HEARTBEAT = "1s"
ALL_THREE = {"direct": "up", "relay:relay1": "up", "relay:relay2": "up"}
# The longest the blackout alarm may take after the last channel died (issue 6).
BLACKOUT_ALARM_WITHIN_MS = 3000
QUIET_SECONDS = 10

class LinkHealth(unittest.TestCase):
    def setUp(self):
        self.root = TempRoot()
        self.nodes, self.relays, self.proxies = [], [], []
        self.script = write_alarm_script(self.root.path)

    def tearDown(self):
        for n in self.nodes:
            n.stop()
        for r in self.relays:
            r.stop()
        for p in self.proxies:
            p.close()
        keep = os.environ.get("BC_INT_KEEP") == "1"
        if keep:
            print(f"kept {self.root.path}")
        self.root.cleanup(keep=keep)

    def make_relay(self, name):
        relay = Relay(self.root.path, name)
        relay.start()
        self.relays.append(relay)
        return relay

    def make_pair(self, relays, metrics_port=None):
        """washington (inviter) and moscow, both on every relay; moscow reaches washington
        directly only through the returned proxy. washington serves metrics if asked."""
        a = HealthNode(self.root.path, "washington")
        b = HealthNode(self.root.path, "moscow")
        self.nodes += [a, b]
        for n in (a, b):
            n.cli("init", "--name", n.name)
            n.configure(self.script, HEARTBEAT)
            for r in relays:
                add_relay(n, r)
        if metrics_port is not None:
            a.run_args = ["--metrics", f"127.0.0.1:{metrics_port}"]
        a.start()
        proxy = Proxy(a.port)
        self.proxies.append(proxy)
        invitation = a.cli("invite", "--address", f"127.0.0.1:{proxy.port}").stdout.strip()
        b.cli("contact", "add", invitation)
        b.start()
        wait_for(lambda: any(c["alias"] == "moscow" for c in a.json("contact", "list")), 30, "HELLO accepted")
        return a, b, proxy

    def wait_all_up(self, a, b, timeout=60):
        def ok(node, contact):
            link = node.link(contact)
            return (link is not None and link["state"] == "ok" and link["state_reported"]
                    and {c["channel"]: c["state"] for c in link["channels"]} == ALL_THREE)
        wait_for(lambda: ok(a, "moscow") and ok(b, "washington"), timeout,
                 "the link ok with direct and both relay channels up on both sides")

    def wait_status(self, node, contact, state, code, down=(), timeout=20):
        """Waits until `status --json` exits code with the link in state and the channels in
        down reported down; returns the status JSON."""
        last = {}

        def check():
            rc, doc = node.status()
            last["rc"], last["doc"] = rc, doc
            if rc != code or doc is None:
                return False
            links = [lk for lk in doc.get("links", []) if lk["contact"] == contact]
            if len(links) != 1 or links[0]["state"] != state:
                return False
            chans = {c["channel"]: c["state"] for c in links[0]["channels"]}
            return all(chans.get(name, "down") == "down" for name in down)

        try:
            wait_for(check, timeout, f"{node.name}: status {state} (exit {code}), {list(down)} down")
        except AssertionError:
            raise AssertionError(f"last status: exit {last.get('rc')}: {json.dumps(last.get('doc'))}")
        return last["doc"]

    def wait_alarm(self, node, timeout=20, **fields):
        """The first alarm run of node whose fields match; waits for it."""
        found = []

        def check():
            found[:] = [x for x in node.alarms() if all(x.get(k) == v for k, v in fields.items())]
            return bool(found)

        try:
            wait_for(check, timeout, f"{node.name}: an alarm run with {fields}")
        except AssertionError:
            raise AssertionError(f"{node.name}: no alarm run with {fields} in {node.alarms()}")
        return found[0]

    def check_linecheck(self, node, contact, expect_failed=()):
        """Runs `linecheck --with contact --json`; every channel must pass but those named
        in expect_failed, which must be reported failed (and the command then exits non-zero)."""
        started = time.monotonic()
        proc = node.cli("linecheck", "--with", contact, "--json", check=False, timeout=60)
        took = time.monotonic() - started
        doc = json.loads(proc.stdout)
        print(f"linecheck ({took:.2f} s, exit {proc.returncode}): {json.dumps(doc)}")
        chans = {c["channel"]: c for c in doc["channels"]}
        self.assertEqual(set(chans), set(ALL_THREE), "every channel of the link probed")
        for name, c in chans.items():
            if name in expect_failed:
                self.assertFalse(c["ok"], f"{name} is dead and reported failed")
                self.assertNotEqual(c.get("receipt"), "valid")
            else:
                self.assertTrue(c["ok"], f"{name} passes")
                self.assertEqual(c["receipt"], "valid")
                self.assertIsNotNone(c["rtt_ms"])
                self.assertGreater(c["rtt_ms"], 0)
        if expect_failed:
            self.assertNotEqual(proc.returncode, 0, "a failed channel fails the line check")
            self.assertFalse(doc["ok"])
        else:
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertTrue(doc["ok"])

    def test_channels_die_one_by_one_and_come_back(self):
        started = time.monotonic()
        r1, r2 = self.make_relay("relay1"), self.make_relay("relay2")
        a, b, proxy = self.make_pair([r1, r2])
        self.wait_all_up(a, b)
        rc, doc = a.status()
        self.assertEqual(rc, 0, json.dumps(doc))
        self.assertEqual(doc["state"], "ok")
        print(f"all three channels up after {time.monotonic() - started:.1f} s; alarms at start: "
              f"washington {a.alarms()}, moscow {b.alarms()}")

        # No flapping: with everything up, no alarm runs and the link makes no transition.
        before = {n.name: (len(n.alarms()), n.link(peer)["transitions"]) for n, peer in
                  ((a, "moscow"), (b, "washington"))}
        time.sleep(QUIET_SECONDS)
        for n, peer in ((a, "moscow"), (b, "washington")):
            self.assertEqual(n.alarms()[before[n.name][0]:], [], f"{n.name}: no alarm while every channel is up")
            link = n.link(peer)
            self.assertEqual(link["transitions"], before[n.name][1], f"{n.name}: no transition while healthy")
            self.assertEqual({c["channel"]: c["state"] for c in link["channels"]}, ALL_THREE)
        self.assertEqual(a.status()[0], 0)

        self.check_linecheck(a, "moscow")

        # 1. The direct channel is cut: degraded.
        proxy.cut()
        self.wait_status(a, "moscow", "degraded", 1, down=["direct"])
        self.wait_status(b, "washington", "degraded", 1, down=["direct"])
        alarm = self.wait_alarm(a, event="link", state="degraded", previous="ok", channel="direct")
        self.assertEqual(alarm["channel_state"], "down")
        self.assertEqual(alarm["link"], "moscow")
        self.wait_alarm(b, event="link", state="degraded", previous="ok", channel="direct")

        # linecheck with one channel dead fails and names it.
        self.check_linecheck(a, "moscow", expect_failed=["direct"])

        # 2. Relay 1 dies: still degraded; the channel change alarms without a link change.
        r1.kill()
        self.wait_status(a, "moscow", "degraded", 1, down=["direct", "relay:relay1"])
        self.wait_status(b, "washington", "degraded", 1, down=["direct", "relay:relay1"])
        alarm = self.wait_alarm(a, channel="relay:relay1", channel_state="down")
        self.assertEqual(alarm["state"], "degraded")

        # 3. Relay 2 dies: blackout, and the alarm within 3 s.
        killed_ms = now_ms()
        r2.kill()
        delays = {}
        for n in (a, b):
            alarm = self.wait_alarm(n, timeout=BLACKOUT_ALARM_WITHIN_MS / 1000 + 10, event="link",
                                    state="blackout")
            self.assertEqual(alarm["previous"], "degraded")
            self.assertEqual(alarm["channel"], "relay:relay2")
            self.assertEqual(alarm["channel_state"], "down")
            self.assertTrue(alarm["cause"])
            self.assertRegex(alarm["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            delays[n.name] = (int(alarm["ran_ms"]) - killed_ms, int(alarm["time_ms"]) - killed_ms)
        print("blackout alarm after relay 2's SIGKILL: " + ", ".join(
            f"{name} ran at +{ran} ms (BC_TIME_MS +{t} ms)" for name, (ran, t) in delays.items()))
        for name, (ran, _) in delays.items():
            self.assertLessEqual(ran, BLACKOUT_ALARM_WITHIN_MS, f"{name}: blackout alarm late")
        doc = self.wait_status(a, "moscow", "blackout", 2, down=list(ALL_THREE))
        self.assertEqual(doc["state"], "blackout")
        self.wait_status(b, "washington", "blackout", 2, down=list(ALL_THREE))

        # 4. Relay 2 comes back: the recovery alarms, status leaves blackout.
        restarted_ms = now_ms()
        r2.start()
        for n, peer in ((a, "moscow"), (b, "washington")):
            alarm = self.wait_alarm(n, timeout=60, event="link", previous="blackout")
            self.assertIn(alarm["state"], ("degraded", "ok"))
            print(f"{n.name}: recovery alarm ({alarm['state']}, {alarm['channel']} {alarm['channel_state']}) "
                  f"+{int(alarm['ran_ms']) - restarted_ms} ms after relay 2 was restarted")
            self.wait_status(n, peer, "degraded", 1)
        print(f"test took {time.monotonic() - started:.1f} s")

    def test_metrics_match_status(self):
        if prometheus_client is None:
            self.fail("prometheus_client not importable (Debian's python3-prometheus-client, scripts/deps)")
        help_text = bc_nodes.Node(self.root.path, "probe").cli("node", "run", "--help", check=False).stdout
        if "--metrics" not in help_text:
            self.skipTest("node run has no --metrics flag in this build")
        port = free_port()
        r1, r2 = self.make_relay("relay1"), self.make_relay("relay2")
        a, b, proxy = self.make_pair([r1, r2], metrics_port=port)
        self.wait_all_up(a, b)
        self.compare_metrics(a, "moscow", port, "ok")
        proxy.cut()
        self.wait_status(a, "moscow", "degraded", 1, down=["direct"])
        self.compare_metrics(a, "moscow", port, "degraded")
        r1.kill()
        r2.kill()
        self.wait_status(a, "moscow", "blackout", 2, down=list(ALL_THREE))
        self.compare_metrics(a, "moscow", port, "blackout")

    def compare_metrics(self, node, contact, port, state):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            self.assertEqual(resp.status, 200)
            text = resp.read().decode()
        _, doc = node.status()
        link = [lk for lk in doc["links"] if lk["contact"] == contact][0]
        self.assertEqual(link["state"], state)
        samples = {}
        for family in prometheus_client.parser.text_string_to_metric_families(text):
            for s in family.samples:
                samples.setdefault(s.name, []).append((s.labels, s.value))
        link_state = {lb["state"]: v for lb, v in samples.get("bc_link_state", []) if lb.get("contact") == contact}
        self.assertEqual(link_state, {s: (1.0 if s == state else 0.0) for s in ("ok", "degraded", "blackout")},
                         "bc_link_state agrees with status")
        up = {lb["channel"]: v for lb, v in samples.get("bc_channel_up", []) if lb.get("contact") == contact}
        expected = {c["channel"]: (1.0 if c["state"] == "up" else 0.0) for c in link["channels"]}
        self.assertEqual(up, expected, "bc_channel_up agrees with status")
        print(f"metrics agree with status ({state}): bc_link_state {link_state}, bc_channel_up {up}")


if __name__ == "__main__":
    unittest.main()
