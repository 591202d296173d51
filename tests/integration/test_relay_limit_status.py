"""Issue 18: the rate limit a relay tells on SUBSCRIBE (flag 0x02) is shown per relay by the
node's `status`, `status --json` and its metrics. One node and one relay with a limit of its own
(7 requests/s, burst 13); no contact is needed: the node subscribes to its own mailbox."""
import json
import os
import sys
import unittest
import urllib.request

from bc_nodes import Node, Relay, TempRoot, add_relay, free_port, wait_for

try:
    import prometheus_client.parser  # noqa: F401
except ImportError:  # python3 may be a pyenv interpreter without Debian's packages
    sys.path.append("/usr/lib/python3/dist-packages")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


class RelayLimitInStatus(unittest.TestCase):
    def setUp(self):
        self.root = TempRoot()
        self.relay = Relay(self.root.path, "ny", settings="[relay]\nopen = true\n[limits]\nrate = 7\nburst = 13\n")
        self.relay.start()
        self.node = Node(self.root.path, "washington")

    def tearDown(self):
        self.node.stop()
        self.relay.stop()
        self.root.cleanup(keep=os.environ.get("BC_INT_KEEP") == "1")

    def relays(self):
        proc = self.node.cli("--json", "status", check=False)
        return json.loads(proc.stdout).get("relays", []) if proc.stdout.startswith("{") else []

    def test_the_told_limit_is_shown(self):
        self.node.cli("init", "--name", "washington")
        add_relay(self.node, self.relay)
        metrics = f"127.0.0.1:{free_port()}"
        self.node.run_args = ["--metrics", metrics]
        self.node.start()
        wait_for(lambda: any(r.get("rate_limit") for r in self.relays()), 60, "the relay's limit in status --json")
        [relay] = self.relays()
        self.assertEqual(relay["name"], "ny")
        self.assertTrue(relay["subscribed"])
        self.assertEqual(relay["rate_limit"], {"requests_per_second": 7, "burst": 13})
        self.assertEqual(relay["rate_limited"], 0)

        text = self.node.cli("status", check=False).stdout
        self.assertIn("relay ny: subscribed; limit 7 requests/s (burst 13), PUTs paced under it", text)

        with urllib.request.urlopen(f"http://{metrics}/metrics", timeout=10) as r:
            families = {f.name: f for f in text_string_to_metric_families(r.read().decode())}
        [rate] = families["bc_relay_rate_limit_requests_per_second"].samples
        self.assertEqual((rate.labels, rate.value), ({"relay": "ny"}, 7))
        [burst] = families["bc_relay_rate_limit_burst"].samples
        self.assertEqual(burst.value, 13)


if __name__ == "__main__":
    unittest.main()
