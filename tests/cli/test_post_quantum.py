"""The hybrid session start (issue 16): an invitation of version 3 commits to the inviter's
ML-KEM-768 key and carries it; the invitee's HELLO encapsulates to it; `contact list --json` and
`status --json` on both sides then say the session started post-quantum. A home from before
store step 14 gets its KEM key at the first command after the upgrade."""
import os
import sqlite3
import unittest

from bc_cli import CliTestCase, RunsNodes, free_port, wait_for


class PostQuantumStart(RunsNodes, CliTestCase):
    def test_two_homes_start_a_hybrid_session(self):
        a, b = self.party("washington"), self.party("moscow")
        port_a = free_port()
        inv = a.json("invite", "--address", f"127.0.0.1:{port_a}")
        self.assertTrue(inv["post_quantum"])
        text = inv["invitation"]
        self.assertTrue(text.startswith("bc3"), text[:8])
        # The 1,184-byte key rides along: 1,895 base32 characters of it; still under the limit.
        self.assertGreater(len(text), 1895)
        self.assertLessEqual(len(text), 4096)
        # The QR drawing (capitals, alphanumeric mode) holds it.
        self.assertEqual(a.run("invite", "--qr", "--address", f"127.0.0.1:{port_a}").returncode, 0)
        b.run("contact", "add", text)
        [pending] = b.json("contact", "list")
        self.assertEqual((pending["session_start"], pending["post_quantum"]), ("pending", False))
        b.run("send", "--to", "washington", "over the hybrid start")
        self.start_node(a, port_a)
        self.start_node(b)
        wait_for(lambda: a.json("inbox"), 60, "the message at washington")
        self.assertEqual([m["body"].get("text") for m in a.json("inbox")], ["over the hybrid start"])
        for party, peer in ((a, "moscow"), (b, "washington")):
            [c] = party.json("contact", "list")
            self.assertEqual(c["alias"], peer)
            self.assertEqual((c["session_start"], c["post_quantum"]), ("hybrid", True), party.name)
            links = party.json("status")["links"]
            self.assertEqual([(l["contact"], l["post_quantum"]) for l in links], [(peer, True)], party.name)
        self.assertIn("post-quantum start", a.run("status").stdout)

    def test_the_ratchet_takes_ml_kem_steps_while_the_parties_talk(self):
        # Heartbeats every 100 ms on both sides: each is an envelope whose free tail carries the
        # step's KEM_CHUNK frames, so the first exchange is due after 50 of them (about 5 s).
        a, b = self.party("washington"), self.party("moscow")
        for party in (a, b):
            with open(os.path.join(party.home, "backchannel.toml"), "w") as f:
                f.write('[link]\nheartbeat_interval = "100ms"\n')
        port_a = free_port()
        b.run("contact", "add", a.json("invite", "--address", f"127.0.0.1:{port_a}")["invitation"])
        b.run("send", "--to", "washington", "before the first step")
        self.start_node(a, port_a)
        self.start_node(b)

        def steps():
            out = []
            for party in (a, b):
                [link] = party.json("status")["links"]
                self.assertTrue(link["pq_ratchet"], party.name)
                out.append(link["pq_ratchet_steps"])
            return out

        # Two exchanges: the first owned by the invitee (moscow), the second by the inviter.
        wait_for(lambda: min(steps()) >= 2, 90, "two PQ ratchet steps on both sides")
        first, second = steps()
        self.assertLessEqual(abs(first - second), 1)
        self.assertIn("PQ ratchet steps", a.run("status").stdout)
        # The session still carries messages both ways after the steps.
        a.run("send", "--to", "moscow", "after the steps")
        b.run("send", "--to", "washington", "after the steps too")
        wait_for(lambda: len(a.json("inbox")) == 2 and len(b.json("inbox")) == 1, 60, "both messages")
        self.assertEqual([m["body"].get("text") for m in b.json("inbox")], ["after the steps"])

    def test_a_home_from_before_the_kem_key_gets_one_and_invites_with_it(self):
        a = self.party("washington")
        with sqlite3.connect(os.path.join(a.home, "store.db")) as db:
            db.execute("DROP TABLE own_kem_keys")
            db.execute("ALTER TABLE invitations DROP COLUMN kem_key_hash")
            for column in ("post_quantum", "inviter_kem_key_hash", "inviter_kem_key"):
                db.execute(f"ALTER TABLE contacts DROP COLUMN {column}")
            db.execute("PRAGMA user_version = 13")
        db.close()
        first = a.json("invite")["invitation"]
        second = a.json("invite")["invitation"]
        self.assertTrue(first.startswith("bc3") and second.startswith("bc3"))
        # One key, made once and kept: both invitations commit to it.
        with sqlite3.connect(os.path.join(a.home, "store.db")) as db:
            rows = db.execute("SELECT length(public_key), length(secret) > 2400 FROM own_kem_keys").fetchall()
            hashes = db.execute("SELECT DISTINCT hex(kem_key_hash) FROM invitations").fetchall()
        db.close()
        self.assertEqual(rows, [(1184, 1)])  # sealed: longer than the 2,400-byte key itself
        self.assertEqual(len(hashes), 1)


if __name__ == "__main__":
    unittest.main()
