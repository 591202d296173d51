"""A relay under load (issue 17): BC_LOAD_OWNERS mailbox owners (1,000) in one load generator
process (tests/load/relay_load.cpp), each PUTting BC_LOAD_RATE envelopes a second (10) into the
next owner's mailbox for BC_LOAD_SECONDS (60 in the ordinary scripts/test, 600 with --full).

Checked: every PUT the relay answered is delivered exactly once (nothing lost, nothing doubled,
nothing that was not PUT), every PUT answered; the relay's RSS and open descriptors flat after
the warm-up (every sample within 10% of the first one after it). Reported: the rate reached
(the generator skips an owner's turn while it has BC_LOAD_WINDOW PUTs unanswered, so a relay
that cannot keep up shows as a lower rate, not as a queue without bound) and PUT -> DELIVER
p50/p99.

Under the ASan build the relay runs with a smaller quarantine (ASAN_OPTIONS quarantine_size_mb):
AddressSanitizer holds freed memory back for up to 256 MiB before reusing it, which would read
as growth here although the relay holds none of it.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

import hostile_ws as ws  # noqa: E402
from bc_nodes import Relay  # noqa: E402

LOAD_BIN = os.environ.get("BC_LOAD_BIN")
OWNERS = int(os.environ.get("BC_LOAD_OWNERS", "1000"))
RATE = float(os.environ.get("BC_LOAD_RATE", "10"))
SECONDS = float(os.environ.get("BC_LOAD_SECONDS", "60"))
WINDOW = int(os.environ.get("BC_LOAD_WINDOW", "2"))
# Samples while the relay's caches, the store's pages and the allocator's pools fill.
WARMUP = max(15.0, SECONDS * 0.2)
REPORT = 5.0 if SECONDS <= 120 else 15.0


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class RelayLoad(unittest.TestCase):
    def test_owners_put_steadily(self):
        if not LOAD_BIN or not os.path.exists(LOAD_BIN):
            self.skipTest("BC_LOAD_BIN (the relay_load program) is not set")
        # The generator holds an owner's connection and the relay one per owner.
        want = OWNERS + 256
        if ws.raise_nofile(want) < want:
            self.skipTest(f"descriptor limit below {want}")
        tmp = tempfile.TemporaryDirectory(prefix="bc-load-")
        self.addCleanup(tmp.cleanup)
        relay = Relay(tmp.name, "relay")
        asan = os.environ.get("ASAN_OPTIONS", "")
        os.environ["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "quarantine_size_mb=16"
        try:
            relay.start()
        finally:
            if asan:
                os.environ["ASAN_OPTIONS"] = asan
            else:
                os.environ.pop("ASAN_OPTIONS")
        self.addCleanup(relay.stop)
        pid = relay.proc.pid
        fingerprint = relay.info()["fingerprint"]
        err = open(os.path.join(tmp.name, "load.err"), "w+")
        self.addCleanup(err.close)
        gen = subprocess.Popen(
            [LOAD_BIN, "--port", str(relay.port), "--fingerprint", fingerprint, "--owners", str(OWNERS),
             "--rate", str(RATE), "--seconds", str(SECONDS), "--window", str(WINDOW),
             "--report", str(REPORT), "--drain", "60"],
            stdout=subprocess.PIPE, stderr=err, text=True)
        self.addCleanup(lambda: gen.poll() is None and (gen.kill(), gen.wait()))

        samples = []  # (seconds into the load, RSS KiB, descriptors)
        ready = result = None
        for line in gen.stdout:
            if not line.startswith("{"):
                continue  # not one of the JSON lines
            record = json.loads(line)
            if "ready" in record:
                ready = record
                samples.append((0.0, ws.rss_kib(pid), descriptors(pid)))
            elif "progress" in record:
                samples.append((record["progress"], ws.rss_kib(pid), descriptors(pid)))
            elif "result" in record:
                result = record
        code = gen.wait()
        err.seek(0)
        self.assertEqual(code, 0, f"relay_load failed: {err.read()[-3000:]}")
        self.assertIsNotNone(result)
        self.assertIsNone(relay.proc.poll(), "the relay died under load")

        settled = [s for s in samples if s[0] >= WARMUP]
        lines = ", ".join(f"{t:.0f}s {rss / 1024:.1f}MiB/{fds}" for t, rss, fds in samples)
        print(f"\nload: {OWNERS} owners x {RATE:g}/s offered for {result['seconds']:.0f} s "
              f"(connected in {ready['connect_seconds']:.0f} s): {result['puts']} PUTs, "
              f"{result['puts_per_second']:.0f}/s reached, {result['skipped']} turns skipped "
              f"(owner behind), delivered {result['delivered']}, missing {result['missing']}, "
              f"doubled {result['duplicates']}; PUT->DELIVER p50 {result['p50_ms']:.1f} ms, "
              f"p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms\n"
              f"relay RSS/descriptors: {lines}", file=sys.stderr)

        self.assertEqual(result["missing"], 0)
        self.assertEqual(result["duplicates"], 0)
        self.assertEqual(result["unexpected"], 0)
        self.assertEqual(result["oks"], result["puts"], "PUTs left unanswered after the drain")
        self.assertEqual(result["delivered"], result["puts"])
        self.assertGreater(result["puts"], 0)
        self.assertGreaterEqual(len(settled), 3, f"too few samples after the warm-up: {samples}")
        base_rss, base_fds = settled[0][1], settled[0][2]
        for t, rss, fds in settled:
            self.assertLessEqual(abs(rss - base_rss), base_rss * 0.10,
                                 f"RSS at {t:.0f} s is {rss} KiB, {base_rss} KiB after the warm-up")
            self.assertLessEqual(abs(fds - base_fds), base_fds * 0.10,
                                 f"descriptors at {t:.0f} s: {fds}, {base_fds} after the warm-up")


if __name__ == "__main__":
    unittest.main()
