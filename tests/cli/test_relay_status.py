"""relay status and relay run --metrics against a real relay and a real node: connections,
mailboxes, refusals by code, the same figures in both, the metrics parsed by prometheus_client."""
import json
import os
import subprocess
import sys
import time
import urllib.request

try:
    import prometheus_client.parser  # noqa: F401
except ImportError:  # python3 may be a pyenv shim; Debian's python3-prometheus-client is here
    sys.path.append("/usr/lib/python3/dist-packages")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from bc_cli import BIN, CliTestCase, Party, free_port



class RelayStatus(CliTestCase):
    def setUp(self):
        super().setUp()
        self.relay = Party(self.root, "relay")
        self.relay.run("relay", "init")
        self.port = free_port()
        self.log = open(os.path.join(self.root, "relay.log"), "w")
        self.proc = subprocess.Popen([BIN, "--home", self.relay.home, "relay", "run", "--listen",
                                      f"127.0.0.1:{self.port}", "--metrics", "127.0.0.1:0"],
                                     stdout=self.log, stderr=self.log)
        self.status = self.wait_for(lambda s: True)
        self.fingerprint = self.relay.json("relay", "info")["fingerprint"]
        self.url = f"wss://127.0.0.1:{self.port}/bc/v1"

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.log.close()
        super().tearDown()

    def wait_for(self, condition, timeout=20):
        """The first `relay status --json` document that meets condition."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            proc = self.relay.run("--json", "relay", "status", check=False)
            if proc.returncode == 0:
                last = json.loads(proc.stdout)
                if condition(last):
                    return last
            elif self.proc.poll() is not None:
                raise AssertionError(f"relay exited {self.proc.returncode}")
            time.sleep(0.2)
        raise AssertionError(f"no status met the condition; last: {last}")

    def metrics(self):
        with urllib.request.urlopen(f"http://{self.status['metrics']}/metrics", timeout=10) as r:
            text = r.read().decode()
        samples = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return samples

    def test_status_and_metrics_follow_mailboxes_and_refusals(self):
        self.assertEqual((self.status["connections"], self.status["mailboxes"], self.status["refusals"]), (0, 0, {}))
        self.assertEqual(self.status["url"], self.url)
        node = self.party("washington")
        refused = node.run("relay", "add", "ny", self.url, self.fingerprint, "--token", "bct_" + "0" * 32,
                           check=False)
        self.assertNotEqual(refused.returncode, 0)
        token = self.relay.json("relay", "token", "create")["token"]
        node.run("relay", "add", "ny", self.url, self.fingerprint, "--token", token)
        status = self.wait_for(lambda s: s["mailboxes"] == 1 and s["refusals"].get("not_admitted") == 1)
        self.assertEqual(status["stored_envelopes"], 0)
        self.assertEqual(status["stored_bytes"], 0)
        human = self.relay.run("relay", "status").stdout
        self.assertIn("mailboxes:   1 (0 envelopes stored, 0 bytes)", human)
        self.assertIn("not_admitted 1", human)
        self.assertIn("puts/s", human)
        m = self.metrics()
        self.assertEqual(m[("bc_relay_mailboxes", ())], 1)
        self.assertEqual(m[("bc_relay_refusals_total", (("code", "not_admitted"),))], 1)
        self.assertEqual(m[("bc_relay_stored_envelopes", ())], 0)
        self.assertEqual(m[("bc_relay_puts_total", ())], status["puts_total"])
        self.assertIn(("bc_relay_connections", ()), m)

    def test_status_says_when_no_relay_runs(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        stopped = self.relay.run("relay", "status", check=False)
        self.assertEqual(stopped.returncode, 4)
        self.assertIn("no relay is running", stopped.stderr)
        as_json = self.relay.run("--json", "relay", "status", check=False)
        self.assertEqual(json.loads(as_json.stdout)["error"]["code"], "not_found")
