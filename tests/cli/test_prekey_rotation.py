"""Signed-prekey rotation through the real binary (issue 19): two running nodes, one rotates and
the other learns the new prekey from the announcement; bundles and HELLOs made afterwards are
sealed to it, those made before still open while the old prekey is in its grace, and none once
it is wiped."""
import json
import os
import sqlite3

from bc_cli import CliTestCase, RunsNodes, free_port, wait_for


def query(party, sql, *args):
    con = sqlite3.connect(os.path.join(party.home, "store.db"), timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def current_prekey(party):
    [(key,)] = query(party, "SELECT public_key FROM own_prekeys WHERE retired_at IS NULL")
    return key


def known_prekey(party, contact):
    [(key, issued_at)] = query(party, "SELECT prekey, prekey_issued_at FROM contacts WHERE alias = ?", contact)
    return key, issued_at


class PrekeyRotation(RunsNodes, CliTestCase):
    def test_rotation_is_announced_and_used(self):
        a = self.party("washington")
        b = self.party("moscow")
        c = self.party("beijing")
        b.run("contact", "add", a.run("invite").stdout.strip())
        # An invitation made before the rotation, answered after it (through a courier bundle).
        early_invite = a.run("invite").stdout.strip()

        shown = a.json("identity")
        self.assertEqual(shown["name"], "washington")
        first = shown["prekey"]["current"]
        self.assertEqual(shown["prekey"]["older"], [])
        self.assertEqual(shown["prekey"]["rotate_after_s"], 30 * 86400)
        self.assertEqual(first["rotate_at"] - first["created_at"], 30 * 86400)
        old_key = current_prekey(a)

        # A bundle moscow seals now, to the old prekey, carried after the rotation.
        before = os.path.join(self.root, "before.bundle")
        b.run("send", "--with", "washington", "carried by hand")
        b.json("courier", "export", "--with", "washington", "--out", before)

        port = free_port()
        b.run("contact", "address", "add", "washington", f"127.0.0.1:{port}")
        self.start_node(a, port)
        self.start_node(b)
        b.run("send", "--with", "washington", "hello over the wire")
        wait_for(lambda: len([e for e in a.json("log", "--with", "moscow") if e["direction"] == "in"]) == 2, 60,
                 "moscow's messages")
        # moscow holds the prekey of washington's invitation (announced again, unchanged).
        self.assertEqual(known_prekey(b, "washington")[0], old_key)

        rotated = a.json("identity", "rotate-prekey")
        self.assertTrue(rotated["node_running"])
        self.assertEqual(rotated["previous"], first["fingerprint"])
        self.assertNotEqual(rotated["current"], rotated["previous"])
        self.assertGreaterEqual(rotated["previous_kept_until"] - rotated["created_at"], 21 * 86400)
        new_key = current_prekey(a)
        self.assertNotEqual(new_key, old_key)

        # The announcement reaches moscow in the session.
        wait_for(lambda: known_prekey(b, "washington")[0] == new_key, 30, "moscow to learn the new prekey")
        self.assertEqual(known_prekey(b, "washington")[1], rotated["created_at"])
        st = json.loads(a.run("--json", "status", check=False).stdout)
        self.assertEqual(st["prekey"]["current"]["fingerprint"], rotated["current"])
        self.assertEqual([o["fingerprint"] for o in st["prekey"]["older"]], [first["fingerprint"]])
        for proc, _ in self.procs:
            proc.terminate()
            proc.wait(timeout=30)

        # A bundle moscow seals after learning it (its node stopped, so the message waits for
        # the courier), and a HELLO from an invitation made after the rotation.
        after = os.path.join(self.root, "after.bundle")
        b.run("send", "--with", "washington", "carried by hand, later")
        b.json("courier", "export", "--with", "washington", "--out", after)
        d = self.party("ottawa")
        d.run("contact", "add", a.run("invite").stdout.strip())
        d_hello = os.path.join(self.root, "ottawa.bundle")
        d.json("courier", "export", "--with", "washington", "--out", d_hello)
        c.run("contact", "add", early_invite)
        c_hello = os.path.join(self.root, "beijing.bundle")
        c.json("courier", "export", "--with", "washington", "--out", c_hello)

        # Within the grace: the bundle sealed to the old prekey and the HELLO of the invitation
        # made before the rotation are taken.
        self.assertEqual(a.json("courier", "import", before)["contact"], "moscow")
        self.assertEqual(a.json("courier", "import", c_hello)["contact"], "beijing")

        # The grace ends (its time moved to now): the old prekey is wiped at the next load.
        with sqlite3.connect(os.path.join(a.home, "store.db")) as con:
            con.execute("UPDATE own_prekeys SET keep_until = 1 WHERE retired_at IS NOT NULL")
        self.assertEqual(a.json("identity")["prekey"]["older"], [])
        self.assertEqual(query(a, "SELECT count(*) FROM own_prekeys WHERE secret IS NULL"), [(1,)])

        # What was sealed to the new prekey opens without the old one.
        self.assertEqual(a.json("courier", "import", after)["contact"], "moscow")
        self.assertEqual(a.json("courier", "import", d_hello)["contact"], "ottawa")
        # And a bundle sealed to the wiped one is refused, saying why.
        late = os.path.join(self.root, "late.bundle")
        os.rename(before, late)
        refused = a.run("courier", "import", late, check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("not for this home", refused.stderr)

    def test_rotate_refusals_and_the_stopped_node(self):
        a = self.party("washington")
        first = a.json("identity")["prekey"]["current"]["fingerprint"]
        rotated = a.json("identity", "rotate-prekey")
        self.assertFalse(rotated["node_running"])
        self.assertEqual(rotated["previous"], first)
        human = a.run("identity").stdout
        self.assertIn("prekey:", human)
        self.assertIn(rotated["current"], human)
        self.assertIn("older:", human)
        # identity.key holds the current prekey: a second rotation starts from it.
        again = a.json("identity", "rotate-prekey")
        self.assertEqual(again["previous"], rotated["current"])
        self.assertEqual(len(a.json("identity")["prekey"]["older"]), 2)
        # A home without an identity says what to do.
        empty = self.party("nobody", init=False)
        proc = empty.run("--json", "identity", "rotate-prekey", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("backchannel init", proc.stdout)
        with open(os.path.join(a.home, "backchannel.toml"), "w") as f:
            f.write('[identity]\nprekey_rotation = "5m"\n')
        proc = a.run("identity", "rotate-prekey", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("prekey_rotation", proc.stderr)
