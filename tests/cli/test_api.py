"""The application interface (docs/api.md) through the Python client (clients/python), against
two real nodes on loopback: pipelined submissions answered once durable, an idempotent retry,
deliveries resumed from a consumer's acked cursor after the consumer "crashes", events with
receipts, and coded refusals."""
import os
import subprocess
import sys
import time
import unittest

from bc_cli import BIN, CliTestCase, free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
from backchannel_client import ApiError, Client  # noqa: E402



class Api(CliTestCase):
    def setUp(self):
        super().setUp()
        self.a = self.party("washington")
        self.b = self.party("moscow")
        port = free_port()
        self.b.run("contact", "add", self.a.json("invite", "--address", f"127.0.0.1:{port}")["invitation"])
        self.procs, self.logs = [], []
        for party, p in [(self.a, port), (self.b, free_port())]:
            log = open(os.path.join(self.root, party.name + ".log"), "w")
            self.logs.append(log)
            self.procs.append(subprocess.Popen([BIN, "--home", party.home, "node", "run", "--listen",
                                                f"127.0.0.1:{p}"], stdout=log, stderr=log))
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with Client(home=self.b.home) as c:
                    links = c.call({"op": "status"})["links"]
                    if links and links[0]["direct"]["address"]:
                        break
            except ApiError:
                pass
            time.sleep(0.2)
        # washington knows moscow once the HELLO is through.
        while time.time() < deadline:
            with Client(home=self.a.home) as c:
                if c.call({"op": "status"})["links"]:
                    break
            time.sleep(0.2)

    def tearDown(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=30)
        for log in self.logs:
            log.close()
        super().tearDown()

    def test_pipelined_submissions_arrive_once_in_order_and_resume_from_the_acked_cursor(self):
        with Client(home=self.b.home) as bc:
            self.assertEqual(bc.node["api"], 1)
            answers = bc.submit_many([{"contact": "washington", "text": f"m{i}", "token": f"t{i}"}
                                      for i in range(200)])
            self.assertEqual([a["seq"] for a in answers], list(range(1, 201)))
            # A retry with a token already used queues nothing new.
            again = bc.submit("washington", text="m7", token="t7")
            self.assertTrue(again["duplicate"])
            self.assertEqual(again["seq"], 8)
            flash = bc.submit("washington", text="urgent", precedence="flash")
            self.assertFalse(flash["duplicate"])
        seen = []
        with Client(home=self.a.home) as wa:
            # The consumer takes 50, acks 40, and "crashes" (its connection goes).
            batch = wa.deliveries(consumer="archiver", max=50, wait_ms=20000)
            while len(batch["messages"]) < 50:
                more = wa.deliveries(after=batch["cursor"], max=50 - len(batch["messages"]), wait_ms=20000)
                batch = {"messages": batch["messages"] + more["messages"], "cursor": more["cursor"]}
            got = batch["messages"]
            seen += [m["text"] for m in got[:40]]
            wa.ack("archiver", got[39]["id"])
        with Client(home=self.a.home) as wa:
            deadline = time.time() + 60
            for m in wa.follow("archiver", wait_ms=2000):
                seen.append(m["text"])
                wa.ack("archiver", m["id"])
                if len(seen) == 201 or time.time() > deadline:
                    break
        self.assertEqual(len(seen), 201)
        self.assertEqual(len(set(seen)), 201, "a message was handed over twice after the ack")
        routine = [t for t in seen if t != "urgent"]
        self.assertEqual(routine, [f"m{i}" for i in range(200)])
        with Client(home=self.a.home) as wa:
            rest = wa.deliveries(consumer="archiver", wait_ms=0)
            self.assertEqual(rest["messages"], [])

    def test_events_carry_the_receipts(self):
        with Client(home=self.b.home) as bc:
            seq = bc.submit("washington", text="confirm me")["seq"]
            deadline = time.time() + 30
            after, receipted = 0, False
            while time.time() < deadline and not receipted:
                batch = bc.events(after=after, wait_ms=2000)
                after = batch["cursor"]
                receipted = any(e["type"] == "receipt" and seq in e["seqs"] for e in batch["events"])
            self.assertTrue(receipted)

    def test_files_by_path_and_refusals_with_codes(self):
        path = os.path.join(self.root, "annex.bin")
        with open(path, "wb") as f:
            f.write(bytes(range(256)) * 40)
        with Client(home=self.b.home) as bc:
            bc.submit("washington", file=path, precedence="priority")
            for kwargs, code in [({"contact": "nobody", "text": "x"}, "not_found"),
                                 ({"contact": "washington", "text": "x", "precedence": "urgent"}, "bad_input"),
                                 ({"contact": "washington", "file": "/nonexistent/file"}, "not_found")]:
                with self.assertRaises(ApiError) as caught:
                    bc.submit(**kwargs)
                self.assertEqual(caught.exception.code, code, kwargs)
            with self.assertRaises(ApiError) as caught:
                bc.call({"op": "submit", "contact": "washington"})
            self.assertEqual(caught.exception.code, "bad_format")
            with self.assertRaises(ApiError) as caught:
                bc.call({"op": "hello", "api": 2})
            self.assertEqual(caught.exception.code, "unsupported_version")
            # The connection is still usable after refusals.
            self.assertEqual(bc.call({"op": "ping"})["name"], "moscow")
        with Client(home=self.a.home) as wa:
            deadline = time.time() + 30
            files = []
            after = 0
            while time.time() < deadline and not files:
                batch = wa.deliveries(after=after, wait_ms=2000)
                after = batch["cursor"]
                files = [m for m in batch["messages"] if m["kind"] == "file"]
            self.assertEqual(files[0]["file_name"], "annex.bin")
            self.assertEqual(files[0]["size"], 256 * 40)
            import base64
            self.assertEqual(base64.b64decode(files[0]["data_b64"]), bytes(range(256)) * 40)


if __name__ == "__main__":
    unittest.main()
