"""status, linecheck and node run --metrics through the real binary: what can be seen without a
live link (exit codes and messages with no node, a node with no contacts, one with a link whose
counterpart is down)."""
import copy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

from bc_cli import BIN, CliTestCase, Party


class NodeProcess:
    """A `node run` in the background, stopped with SIGTERM."""

    def __init__(self, party, *args):
        self.party = party
        self.proc = subprocess.Popen([BIN, "--home", party.home, "node", "run", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log = []
        self.reader = threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True)
        self.reader.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.reader.join(5)
                raise AssertionError(f"node exited {self.proc.returncode}: {''.join(self.log)}")
            out = party.run("--json", "status", check=False).stdout
            if '"links"' in out:
                return
            time.sleep(0.1)
        self.stop()
        raise AssertionError("the node did not answer status within 30 s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        return self.proc.returncode, "".join(self.log)

    def logged(self, pattern):
        """The first match of pattern in what the node logged so far, or None."""
        for line in list(self.log):
            m = re.search(pattern, line)
            if m:
                return m
        return None


class HealthWithoutNode(CliTestCase):
    def test_status_without_a_node_is_2_with_a_message(self):
        a = self.party("washington")
        proc = a.run("status", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no node is running", proc.stderr)
        self.assertEqual(proc.stdout, "")
        as_json = a.run("--json", "status", check=False)
        self.assertEqual(as_json.returncode, 2)
        self.assertEqual(json.loads(as_json.stdout)["error"]["code"], "not_found")

    def test_status_on_a_home_that_does_not_exist(self):
        nobody = Party(self.root, "nothing-here")
        proc = nobody.run("status", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no node is running", proc.stderr)

    def test_status_flags(self):
        a = self.party("washington")
        self.assertEqual(a.run("status", "--interval", "2s", check=False).returncode, 2)  # needs --watch
        bad = a.run("status", "--watch", "--interval", "50ms", check=False)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--interval", bad.stderr)
        self.assertEqual(a.run("status", "--watch", "--interval", "soon", check=False).returncode, 2)
        helped = a.run("status", "--help")
        self.assertIn("monitoring", helped.stdout)
        self.assertIn("blackout", helped.stdout)

    def test_linecheck_without_a_node_is_1(self):
        a = self.party("washington")
        b = self.party("moscow")
        b.run("contact", "add", a.run("invite").stdout.strip())
        proc = b.run("linecheck", "--with", "washington", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no node is running", proc.stderr)
        as_json = b.run("--json", "linecheck", "--with", "washington", check=False)
        self.assertEqual(as_json.returncode, 1)
        self.assertIn("error", json.loads(as_json.stdout))

    def test_linecheck_refusals(self):
        a = self.party("washington")
        unknown = a.run("linecheck", "--with", "moscow", check=False)
        self.assertEqual(unknown.returncode, 4)
        self.assertIn("no contact named 'moscow'", unknown.stderr)
        self.assertEqual(a.run("linecheck", "--with", "Not A Name!", check=False).returncode, 3)
        self.assertEqual(a.run("linecheck", check=False).returncode, 2)  # --with is required
        for timeout in ("0s", "26s", "50ms", "fast"):
            proc = a.run("linecheck", "--with", "moscow", "--timeout", timeout, check=False)
            self.assertEqual(proc.returncode, 2, timeout)
            self.assertIn("--timeout", proc.stderr)
        self.assertIn("monitoring", a.run("linecheck", "--help").stdout)


class FakeNode:
    """Answers the control socket like a node would, from canned replies (the schemas of the
    status and linecheck ops), and records the requests it got."""

    def __init__(self, party, replies):
        self.replies = replies
        self.requests = []
        self.path = os.path.join(party.home, "control.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                request = json.loads(data.split(b"\n")[0])
                self.requests.append(request)
                conn.sendall(json.dumps(self.replies[request["op"]]).encode() + b"\n")

    def close(self):
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


STATUS = {
    "ok": True, "name": "washington", "now_ms": 1764260000000,
    "alarms": {"runs": 3, "failures": 1},
    "links": [{
        "contact": "moscow", "verified": True, "hello_pending": False,
        "state": "degraded", "state_since_ms": 1764259990000, "transitions": 4,
        "heartbeat_interval_ms": 1000,
        "queue": {"flash": 0, "immediate": 0, "priority": 1, "routine": 3},
        "messages_in": 12, "messages_out": 9,
        "channels": [
            {"channel": "direct", "connected": True, "state": "up", "rtt_ms": 2.5, "loss": 0.0,
             "last_heard_ms": 1764259999800, "envelopes_in": 100, "envelopes_out": 98,
             "bytes_in": 204800, "bytes_out": 200704, "in_flight": 0},
            {"channel": "relay:ny", "connected": False, "state": "down", "rtt_ms": None,
             "last_heard_ms": 1764259952000, "envelopes_in": 7, "envelopes_out": 8,
             "bytes_in": 14336, "bytes_out": 16384, "in_flight": 2}]}],
}


def link(contact, state, channels):
    return {"contact": contact, "state": state, "channels": [
        {"channel": name, "state": up} for name, up in channels]}


class HealthWithFakeNode(CliTestCase):
    def setUp(self):
        super().setUp()
        self.a = self.party("washington")
        self.node = None

    def tearDown(self):
        if self.node:
            self.node.close()
        super().tearDown()

    def serve(self, **replies):
        self.node = FakeNode(self.a, replies)

    def test_status_prints_every_channel_and_exits_with_the_link_state(self):
        self.serve(status=STATUS)
        proc = self.a.run("status", check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        out = proc.stdout
        self.assertIn("washington: 1 link, 0 ok, 1 degraded, 0 in blackout", out)
        self.assertIn("alarms: 3 run, 1 failed", out)
        self.assertIn("moscow  DEGRADED since 2025-11-27 16:13:10 UTC (10 s ago), 4 transitions, verified", out)
        self.assertIn("queue: flash 0, immediate 0, priority 1, routine 3; messages 12 in, 9 out", out)
        direct = next(line for line in out.splitlines() if "direct" in line)
        for part in ("up", "rtt 2.5 ms", "loss 0.0%", "heard 0.2 s ago", "in 100 env (200.0 KiB)",
                     "out 98 env (196.0 KiB)"):
            self.assertIn(part, direct)
        relay = next(line for line in out.splitlines() if "relay:ny" in line)
        for part in ("DOWN", "rtt -", "loss -", "heard 48 s ago", "in 7 env (14.0 KiB)", "2 in flight"):
            self.assertIn(part, relay)
        self.assertEqual(self.node.requests, [{"op": "status"}])

    def test_worst_link_wins(self):
        for states, code in ((["ok", "ok"], 0), (["ok", "degraded"], 1), (["degraded", "blackout", "ok"], 2)):
            reply = {"ok": True, "name": "washington", "links": [
                link(f"c{i}", s, [("direct", "up" if s == "ok" else "down")]) for i, s in enumerate(states)]}
            self.serve(status=reply)
            self.assertEqual(self.a.run("status", check=False).returncode, code, states)
            doc = json.loads(self.a.run("--json", "status", check=False).stdout)
            self.assertEqual(doc["state"], ["ok", "degraded", "blackout"][code])
            self.node.close()

    def test_a_link_without_a_known_state_reads_as_blackout(self):
        # Never "ok" from a reply the command does not understand: monitoring must hear of it.
        reply = {"ok": True, "name": "washington", "links": [
            {"contact": "a", "state": "ok", "channels": [{"channel": "direct", "state": "up"}]},
            {"contact": "b", "channels": [{"channel": "direct", "state": "up"}]},
            {"contact": "c", "state": "sunny", "channels": []}]}
        self.serve(status=reply)
        doc = json.loads(self.a.run("--json", "status", check=False).stdout)
        self.assertEqual([x["state"] for x in doc["links"]], ["ok", "blackout", "blackout"])
        proc = self.a.run("status", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("c  BLACKOUT", proc.stdout)
        self.assertIn("(no channel)", proc.stdout)

    def test_status_json_is_the_links_as_the_node_gave_them(self):
        self.serve(status=STATUS)
        proc = self.a.run("--json", "status", check=False)
        self.assertEqual(proc.returncode, 1)
        doc = json.loads(proc.stdout)
        self.assertEqual(sorted(doc), ["alarms", "links", "name", "now_ms", "state"])
        self.assertEqual(doc["links"], STATUS["links"])
        self.assertEqual(doc["alarms"], STATUS["alarms"])
        self.assertEqual(doc["now_ms"], STATUS["now_ms"])

    def test_status_refused_by_the_node_is_2(self):
        self.serve(status={"ok": False, "error": {"code": "internal", "message": "store busy"}})
        proc = self.a.run("status", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("store busy", proc.stderr)

    def add_moscow(self):
        b = self.party("moscow")
        self.a.run("contact", "add", b.run("invite").stdout.strip())

    def test_linecheck_every_channel_answered(self):
        self.add_moscow()
        self.serve(linecheck={"ok": True, "contact": "moscow", "channels": [
            {"channel": "direct", "ok": True, "rtt_ms": 2.4, "receipt": "valid"},
            {"channel": "relay:ny", "ok": True, "rtt_ms": 180.2, "receipt": "valid"}]})
        proc = self.a.run("linecheck", "--with", "moscow", check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("moscow: every channel answered (2), timeout 5 s", proc.stdout)
        self.assertIn("round trip 2.4 ms", proc.stdout)
        self.assertIn("receipt valid", proc.stdout)
        self.assertEqual(self.node.requests, [{"op": "linecheck", "contact": "moscow", "timeout_ms": 5000}])
        self.a.run("linecheck", "--with", "moscow", "--timeout", "1500ms")
        self.assertEqual(self.node.requests[-1]["timeout_ms"], 1500)

    def test_linecheck_a_failed_channel_or_none_is_1(self):
        self.add_moscow()
        failed = {"ok": True, "contact": "moscow", "channels": [
            {"channel": "direct", "ok": True, "rtt_ms": 2.4, "receipt": "valid"},
            {"channel": "relay:ny", "ok": False, "rtt_ms": None, "receipt": "missing",
             "error": "no reply within 5000 ms"}]}
        self.serve(linecheck=failed)
        proc = self.a.run("linecheck", "--with", "moscow", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("1 of 2 channels failed", proc.stdout)
        relay = next(line for line in proc.stdout.splitlines() if "relay:ny" in line)
        self.assertIn("FAILED", relay)
        self.assertIn("receipt missing", relay)
        self.assertIn("no reply within 5000 ms", relay)
        doc = json.loads(self.a.run("--json", "linecheck", "--with", "moscow", check=False).stdout)
        self.assertFalse(doc["ok"])
        self.assertEqual(doc["channels"], failed["channels"])
        self.node.close()
        # A signature that does not verify is a failure even if the node called the channel ok.
        bad = copy.deepcopy(failed)
        bad["channels"] = [{"channel": "direct", "ok": True, "rtt_ms": 2.0, "receipt": "bad"}]
        self.serve(linecheck=bad)
        proc = self.a.run("linecheck", "--with", "moscow", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("receipt BAD", proc.stdout)
        self.node.close()
        self.serve(linecheck={"ok": True, "contact": "moscow", "channels": []})
        proc = self.a.run("linecheck", "--with", "moscow", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no channel", proc.stdout)

    def test_linecheck_contact_unknown_to_the_node_is_4(self):
        self.add_moscow()
        self.serve(linecheck={"ok": False, "error": {"code": "not_found", "message": "no contact 'moscow'"}})
        proc = self.a.run("linecheck", "--with", "moscow", check=False)
        self.assertEqual(proc.returncode, 4)
        self.assertIn("no contact 'moscow'", proc.stderr)


class HealthWithNode(CliTestCase):
    def test_node_with_no_contacts_is_ok_and_empty(self):
        a = self.party("washington")
        node = NodeProcess(a, "--metrics", "127.0.0.1:0")  # accepted by the parser
        try:
            proc = a.run("status")
            self.assertEqual(proc.returncode, 0)
            self.assertIn("washington: no links yet", proc.stdout)
            doc = a.json("status")
            self.assertEqual(doc["links"], [])
            self.assertEqual(doc["state"], "ok")
            self.assertEqual(doc["name"], "washington")
            self.assertIsInstance(doc["now_ms"], int)
        finally:
            code, err = node.stop()
        self.assertEqual(code, 0, err)

    def test_node_serves_its_status_as_prometheus_metrics(self):
        try:
            import prometheus_client.parser  # noqa: F401
        except ImportError:  # python3 may be a pyenv interpreter without Debian's packages
            sys.path.append("/usr/lib/python3/dist-packages")
        from prometheus_client.parser import text_string_to_metric_families
        a = self.party("washington")
        b = self.party("moscow")
        b.run("contact", "add", a.run("invite", "--address", "127.0.0.1:9").stdout.strip())
        node = NodeProcess(b, "--metrics", "127.0.0.1:0")
        try:
            m = node.logged(r"metrics on (http://\S+)/metrics")
            self.assertIsNotNone(m, "".join(node.log))
            with urllib.request.urlopen(m.group(1) + "/metrics", timeout=10) as r:
                self.assertEqual(r.status, 200)
                self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
                body = r.read().decode()
            samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                       for f in text_string_to_metric_families(body) for s in f.samples}
            self.assertEqual(samples[("bc_node_info", (("name", "moscow"),))], 1)
            self.assertEqual(samples[("bc_link_state", (("contact", "washington"), ("state", "blackout")))], 1)
            self.assertEqual(samples[("bc_link_state", (("contact", "washington"), ("state", "ok")))], 0)
            with self.assertRaises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(m.group(1) + "/", timeout=10)
            self.assertEqual(missing.exception.code, 404)
        finally:
            code, log = node.stop()
        self.assertEqual(code, 0, log)

    @staticmethod
    def read_reports(proc, count, as_json, timeout=60):
        """Reads proc's stdout until it holds count reports; returns what was read."""
        read, deadline = "", time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = len(read.splitlines()) if as_json else read.count("no links yet")
            if seen >= count:
                return read
            line = proc.stdout.readline()
            if line == "":
                break
            read += line
        proc.kill()
        raise AssertionError(f"fewer than {count} reports before the deadline or exit: {read!r}")

    def test_watch_repeats_until_interrupted_and_keeps_the_last_code(self):
        a = self.party("washington")
        node = NodeProcess(a)
        try:
            for args in (["status", "--watch", "--interval", "200ms"],
                         ["--json", "status", "--watch", "--interval", "200ms"]):
                watch = subprocess.Popen([BIN, "--home", a.home, *args], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
                # Interrupted after its second report, not after a fixed time: the handler is in
                # place before the first one, and a loaded machine may take seconds to start it.
                first = self.read_reports(watch, 2, "--json" in args)
                watch.send_signal(signal.SIGINT)
                out, err = watch.communicate(timeout=20)
                out = first + out
                self.assertEqual(watch.returncode, 0, err)
                self.assertNotIn("\x1b[", out)  # no screen clearing into a pipe
                if "--json" in args:
                    lines = [json.loads(line) for line in out.splitlines()]
                    self.assertGreaterEqual(len(lines), 2, out)
                    self.assertTrue(all(doc["links"] == [] for doc in lines))
                else:
                    self.assertGreaterEqual(out.count("no links yet"), 2, out)
        finally:
            node.stop()

    def test_watch_reports_a_node_that_stops(self):
        a = self.party("washington")
        node = NodeProcess(a)
        watch = subprocess.Popen([BIN, "--home", a.home, "status", "--watch", "--interval", "200ms"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1)
            node.stop()
            time.sleep(1)
            watch.send_signal(signal.SIGINT)
            _, err = watch.communicate(timeout=20)
            self.assertEqual(watch.returncode, 2, err)
            self.assertIn("no node is running", err)
        finally:
            if watch.poll() is None:
                watch.kill()
                watch.wait()

    def test_link_whose_counterpart_is_down_is_a_blackout(self):
        a = self.party("washington")
        b = self.party("moscow")
        b.run("contact", "add", a.run("invite", "--address", "127.0.0.1:9").stdout.strip())
        node = NodeProcess(b)
        try:
            proc = b.run("status", check=False)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("washington  BLACKOUT", proc.stdout)
            doc = json.loads(b.run("--json", "status", check=False).stdout)
            self.assertEqual(doc["state"], "blackout")
            self.assertEqual([link["contact"] for link in doc["links"]], ["washington"])
            self.assertEqual(doc["links"][0]["state"], "blackout")
        finally:
            node.stop()


if __name__ == "__main__":
    unittest.main()
