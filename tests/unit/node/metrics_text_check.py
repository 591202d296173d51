"""render_prometheus() read back by prometheus_client's own parser (the reference reading of
the text format), through tests/unit/node/metrics_render.cpp."""
import json
import math
import os
import subprocess
import sys
import unittest

try:
    import prometheus_client.parser  # noqa: F401
except ImportError:  # python3 may be a pyenv interpreter without Debian's packages
    sys.path.append("/usr/lib/python3/dist-packages")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

RENDER = os.environ.get("BC_METRICS_RENDER", "build/dev/tests/metrics_render")

STATUS = {
    "ok": True, "name": "washington", "now_ms": 1764260000000,
    "alarms": {"runs": 3, "failures": 1},
    "links": [
        {"contact": "moscow", "verified": True, "hello_pending": False,
         "state": "degraded", "state_since_ms": 1764259990000, "transitions": 4,
         "heartbeat_interval_ms": 1000,
         "queue": {"flash": 0, "immediate": 0, "priority": 1, "routine": 3},
         "messages_in": 12, "messages_out": 9,
         "channels": [
             {"channel": "direct", "connected": True, "state": "up", "rtt_ms": 2.5, "loss": 0.0,
              "last_heard_ms": 1764259999800, "envelopes_in": 100, "envelopes_out": 98,
              "bytes_in": 204800, "bytes_out": 200704, "in_flight": 0},
             {"channel": "relay:ny", "connected": False, "state": "down", "rtt_ms": None,
              "loss": None, "envelopes_in": 7, "envelopes_out": 8, "bytes_in": 14336,
              "bytes_out": 16384, "in_flight": 2}]},
        {"contact": 'odd"na\\me\n', "state": "blackout", "channels": []},
    ],
    "relays": [
        {"name": "ny", "subscribed": True, "rate_limit": {"requests_per_second": 40, "burst": 80},
         "puts_accepted": 512, "rate_limited": 2, "retried": 2},
        {"name": "old", "subscribed": True, "rate_limit": None, "puts_accepted": 3, "rate_limited": 0},
    ],
}


def render(doc):
    proc = subprocess.run([RENDER], input=json.dumps(doc), capture_output=True, text=True, check=True)
    return proc.stdout


class PrometheusClientReadsIt(unittest.TestCase):
    def setUp(self):
        self.families = {f.name: f for f in text_string_to_metric_families(render(STATUS))}

    def value(self, family, **labels):
        found = [s.value for s in self.families[family].samples if s.labels == labels]
        self.assertEqual(len(found), 1, (family, labels, self.families[family].samples))
        return found[0]

    def test_types(self):
        # The parser names a counter's family without its _total suffix.
        self.assertEqual(self.families["bc_alarms"].type, "counter")
        self.assertEqual(self.families["bc_channel_bytes"].type, "counter")
        self.assertEqual(self.families["bc_link_state"].type, "gauge")
        self.assertEqual(self.families["bc_channel_rtt_seconds"].type, "gauge")

    def test_values(self):
        self.assertEqual(self.value("bc_node_info", name="washington"), 1)
        self.assertEqual(self.value("bc_alarms"), 3)
        self.assertEqual(self.value("bc_alarm_failures"), 1)
        self.assertEqual(self.value("bc_link_state", contact="moscow", state="degraded"), 1)
        self.assertEqual(self.value("bc_link_state", contact="moscow", state="ok"), 0)
        self.assertEqual(self.value("bc_link_transitions", contact="moscow"), 4)
        self.assertEqual(self.value("bc_queue_messages", contact="moscow", precedence="routine"), 3)
        self.assertEqual(self.value("bc_messages", contact="moscow", direction="in"), 12)
        self.assertEqual(self.value("bc_channel_up", contact="moscow", channel="relay:ny"), 0)
        self.assertAlmostEqual(self.value("bc_channel_rtt_seconds", contact="moscow", channel="direct"), 0.0025)
        self.assertAlmostEqual(
            self.value("bc_channel_last_heard_timestamp_seconds", contact="moscow", channel="direct"),
            1764259999.8)
        self.assertEqual(
            self.value("bc_channel_bytes", contact="moscow", channel="direct", direction="out"), 200704)
        self.assertEqual(
            self.value("bc_channel_envelopes", contact="moscow", channel="relay:ny", direction="in"), 7)

    def test_relay_limits(self):
        self.assertEqual(self.value("bc_relay_rate_limit_requests_per_second", relay="ny"), 40)
        self.assertEqual(self.value("bc_relay_rate_limit_burst", relay="ny"), 80)
        self.assertEqual(self.families["bc_relay_client_puts"].type, "counter")
        self.assertEqual(self.value("bc_relay_client_puts", relay="ny", result="rate_limited"), 2)
        self.assertEqual(self.value("bc_relay_client_puts", relay="old", result="accepted"), 3)
        # A relay that told no limit has no limit sample (not a 0, which would read as "no PUTs").
        limited = [s.labels["relay"] for s in self.families["bc_relay_rate_limit_requests_per_second"].samples]
        self.assertEqual(limited, ["ny"])

    def test_escaped_labels_read_back(self):
        self.assertEqual(self.value("bc_link_state", contact='odd"na\\me\n', state="blackout"), 1)

    def test_unknown_values_are_absent_not_nan(self):
        for family in self.families.values():
            for s in family.samples:
                self.assertFalse(math.isnan(s.value), s)
        rtts = [s.labels["channel"] for s in self.families["bc_channel_rtt_seconds"].samples]
        self.assertEqual(rtts, ["direct"])
        self.assertNotIn("bc_channel_loss_ratio",
                         {f.name for f in text_string_to_metric_families(render(
                             {"links": [{"contact": "m", "channels": [{"channel": "direct", "loss": None}]}]}))})


if __name__ == "__main__":
    unittest.main()
