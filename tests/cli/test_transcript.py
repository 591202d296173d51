"""transcript verify|export|check through the real binary, on real traffic between two nodes
on loopback."""
import json
import os
import signal
import sqlite3
import unittest

from bc_cli import CliTestCase, RunsNodes, wait_for


class LiveNodes(RunsNodes, CliTestCase):
    """Real nodes on loopback, stopped at the end of each test."""

    def delivered(self, party, peer, out_count, in_count):
        log = party.json("log", "--with", peer)
        out = [e for e in log if e["direction"] == "out" and e["state"] == "delivered"]
        inc = [e for e in log if e["direction"] == "in"]
        return len(out) >= out_count and len(inc) >= in_count

    def linked_pair(self):
        """washington and moscow, both nodes running, moscow having accepted an invitation."""
        a = self.party("washington")
        b = self.party("moscow")
        self.start_node(a)
        b.run("contact", "add", a.run("invite").stdout.strip())
        self.start_node(b)
        wait_for(lambda: any(c["alias"] == "moscow" for c in a.json("contact", "list")), 15, "HELLO accepted")
        return a, b


class TranscriptOfLiveLink(LiveNodes):
    def test_verify_export_check(self):
        a, b = self.linked_pair()

        for i, prec in enumerate(["routine", "flash", "priority"]):
            a.run("send", "--to", "moscow", "-p", prec, f"from washington {i}")
        for i in range(2):
            b.run("send", "--to", "washington", f"from moscow {i}")
        wait_for(lambda: self.delivered(a, "moscow", 3, 2) and self.delivered(b, "washington", 2, 3), 20,
                 "every message delivered and receipted both ways")

        # Both sides verify; each side's outgoing head is the other's incoming head. The peer's
        # signed head may trail a little (it is repeated on heartbeats), so wait for it to catch up.
        wait_for(lambda: a.json("transcript", "verify", "--with", "moscow")["outgoing"]["peer_signed_up_to"] == 3
                 and b.json("transcript", "verify", "--with", "washington")["outgoing"]["peer_signed_up_to"] == 2,
                 15, "signed heads up to the last message")
        va = a.json("transcript", "verify", "--with", "moscow")
        vb = b.json("transcript", "verify", "--with", "washington")
        self.assertTrue(va["ok"] and vb["ok"])
        self.assertEqual((va["outgoing"]["prefix_end"], va["incoming"]["prefix_end"]), (3, 2))
        self.assertEqual(va["outgoing"]["head"], vb["incoming"]["head"])
        self.assertEqual(va["incoming"]["head"], vb["outgoing"]["head"])
        self.assertTrue(va["outgoing"]["peer_head_matches"])

        human = a.run("transcript", "verify", "--with", "moscow").stdout
        self.assertIn(f"outgoing: 1..3 head {va['outgoing']['head']} (peer signed up to 3: matches)", human)
        self.assertIn(f"incoming: 1..2 head {va['incoming']['head']}", human)

        # Export on A; check anywhere, with an empty home that has no identity.
        record = a.run("transcript", "export", "--with", "moscow").stdout
        path = os.path.join(self.root, "record.json")
        with open(path, "w") as f:
            f.write(record)
        doc = json.loads(record)
        self.assertEqual(doc["exporter"]["name"], "washington")
        self.assertEqual(doc["peer"]["name"], "moscow")
        self.assertEqual(len(doc["outgoing"]["entries"]), 3)
        self.assertEqual(len(doc["incoming"]["entries"]), 2)
        self.assertNotIn("from washington", record)  # bodies stay private

        stranger = self.party("stranger", init=False)
        checked = stranger.json("transcript", "check", path)
        self.assertTrue(checked["ok"])
        self.assertEqual(checked["outgoing"]["head"], va["outgoing"]["head"])
        self.assertEqual(checked["incoming"]["head"], va["incoming"]["head"])
        self.assertEqual(checked["outgoing"]["signed_up_to"], 3)
        self.assertEqual(checked["incoming"]["signed_up_to"], 2)
        # What is proven, by whom: moscow signed every outgoing seq, washington the end
        # statement; the incoming seqs carry washington's signature only, and say so.
        self.assertEqual(doc["version"], 2)
        self.assertTrue(checked["end_signed"] and checked["peer_signed"] and checked["peer_covers_outgoing"])
        self.assertEqual(checked["outgoing"]["receiver_signed"], [[1, 3]])
        self.assertEqual(checked["outgoing"]["receiver_unsigned"], [])
        self.assertEqual(checked["outgoing"]["sender_signed_up_to"], 3)
        self.assertEqual(checked["incoming"]["sender_signed_up_to"], 0)
        self.assertEqual(checked["as_of_ms"], doc["end"]["as_of_ms"])
        self.assertTrue(any("moscow signs nothing about them" in w for w in checked["warnings"]), checked)
        self.assertFalse(os.path.exists(os.path.join(stranger.home, "store.db")))
        human = stranger.run("transcript", "check", path).stdout
        self.assertIn("  signed by moscow (receiver, ", human)
        self.assertIn("  signed by washington (sender, end statement): 1..3", human)
        self.assertIn("  signed by moscow (sender): nothing in this record", human)
        self.assertTrue(human.rstrip().endswith("OK: every signature verifies and every head matches"), human)
        self.assertEqual(stranger.run("transcript", "check", "--require-peer-signed", path).returncode, 0)
        # From stdin as well.
        self.assertEqual(stranger.run("transcript", "check", "-", stdin=record).returncode, 0)

        # One body hash altered: refused, naming the receipt that no longer matches.
        h = doc["outgoing"]["entries"][1]["body_hash"]
        doc["outgoing"]["entries"][1]["body_hash"] = ("0" if h[0] != "0" else "1") + h[1:]
        with open(path, "w") as f:
            json.dump(doc, f)
        proc = stranger.run("transcript", "check", path, check=False)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("record does not check", proc.stderr)
        self.assertIn("differs from", proc.stderr)

        # Garbage is refused with exit 3, never a crash.
        with open(path, "w") as f:
            f.write(record[: len(record) // 2])
        proc = stranger.run("--json", "transcript", "check", path, check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertEqual(json.loads(proc.stdout)["error"]["code"], "bad_format")

        # A tampered store fails verify, naming the first seq or receipt at fault.
        for proc, _ in self.procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        db = sqlite3.connect(os.path.join(a.home, "store.db"))
        receipt = db.execute("SELECT receipt FROM outbox WHERE seq = 1").fetchone()[0]
        forged = bytes(receipt[:-1]) + bytes([receipt[-1] ^ 1])
        db.execute("UPDATE outbox SET receipt = ? WHERE seq = 1", (forged,))
        db.commit()
        proc = a.run("transcript", "verify", "--with", "moscow", check=False)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("the receipt of outgoing seq 1", proc.stderr)
        self.assertIn("signature does not verify", proc.stderr)
        db.execute("UPDATE outbox SET receipt = ? WHERE seq = 1", (receipt,))
        db.execute("UPDATE outbox SET head = zeroblob(32) WHERE seq = 2")
        db.commit()
        db.close()
        proc = a.run("--json", "transcript", "verify", "--with", "moscow", check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("outgoing seq 2: the stored head", json.loads(proc.stdout)["error"]["message"])
        self.assertEqual(a.run("transcript", "export", "--with", "moscow", check=False).returncode, 3)


class TranscriptRefusals(CliTestCase):
    def test_unknown_contact_and_missing_file(self):
        a = self.party("washington")
        proc = a.run("transcript", "verify", "--with", "nobody", check=False)
        self.assertEqual(proc.returncode, 4)
        self.assertIn("no contact named 'nobody'", proc.stderr)
        proc = a.run("transcript", "check", os.path.join(self.root, "absent.json"), check=False)
        self.assertEqual(proc.returncode, 4)

    def test_empty_link_verifies(self):
        a = self.party("washington")
        b = self.party("moscow")
        b.run("contact", "add", a.run("invite", "--address", "127.0.0.1:9").stdout.strip())
        v = b.json("transcript", "verify", "--with", "washington")
        self.assertEqual((v["outgoing"]["prefix_end"], v["incoming"]["prefix_end"]), (0, 0))
        self.assertEqual(v["outgoing"]["head"], "0" * 64)
        record = b.run("transcript", "export", "--with", "washington").stdout
        path = os.path.join(self.root, "empty.json")
        with open(path, "w") as f:
            f.write(record)
        self.assertEqual(b.run("transcript", "check", path).returncode, 0)
        # Nothing signed by the peer: said loudly, and refused when asked to require it.
        proc = b.run("transcript", "check", "--require-peer-signed", path, check=False)
        self.assertEqual(proc.returncode, 5, proc.stderr)
        self.assertIn("WARNING: NO SIGNATURE OF washington", proc.stdout)
        self.assertIn("--require-peer-signed: the record holds no signature of washington", proc.stderr)
        # Options that cannot apply, or malformed ones, are refused (exit 3).
        proc = b.run("transcript", "check", "--expect-key", "zz", path, check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("not 64 hex digits", proc.stderr)
        proc = b.run("transcript", "check", "--require-peer-signed", path, path, check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("applies to one record", proc.stderr)


if __name__ == "__main__":
    unittest.main()
