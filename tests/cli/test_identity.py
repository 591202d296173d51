"""init, invite, contact add|list|verify|remove and safety-number, through the real binary."""
import os
import stat
import unittest

from bc_cli import CliTestCase


class IdentityFlow(CliTestCase):
    def test_invite_contact_and_equal_safety_numbers(self):
        a = self.party("washington")
        b = self.party("moscow")
        inv = a.json("invite", "--expires", "1d")
        self.assertTrue(inv["invitation"].startswith("bc3"))
        added = b.json("contact", "add", inv["invitation"])
        self.assertEqual(added["alias"], "washington")
        self.assertFalse(added["verified"])
        # The other way round, so each side has the other as a contact.
        inv_b = b.run("invite").stdout.strip()
        a.run("contact", "add", inv_b)
        sa = a.run("safety-number", "moscow").stdout.strip()
        sb = b.run("safety-number", "washington").stdout.strip()
        self.assertEqual(sa, sb)
        self.assertEqual(len(sa.replace(" ", "")), 60)
        self.assertEqual(added["safety_number"], sb)
        b.run("contact", "verify", "washington", "--yes")
        contacts = b.json("contact", "list")
        self.assertEqual([(c["alias"], c["verified"]) for c in contacts], [("washington", True)])
        b.run("contact", "remove", "washington")
        self.assertEqual(b.json("contact", "list"), [])

    def test_key_file_permissions(self):
        a = self.party("washington")
        mode = stat.S_IMODE(os.stat(os.path.join(a.home, "identity.key")).st_mode)
        self.assertEqual(mode, 0o600)
        mode = stat.S_IMODE(os.stat(os.path.join(a.home, "store.db")).st_mode)
        self.assertEqual(mode, 0o600)

    def test_init_refuses_to_overwrite(self):
        a = self.party("washington")
        before = open(os.path.join(a.home, "identity.key"), "rb").read()
        proc = a.run("init", "--name", "other", check=False)
        self.assertEqual(proc.returncode, 5)
        self.assertIn("never overwritten", proc.stderr)
        self.assertEqual(open(os.path.join(a.home, "identity.key"), "rb").read(), before)

    def test_home_from_environment(self):
        home = os.path.join(self.root, "envhome")
        import subprocess
        from bc_cli import BIN
        env = dict(os.environ, BACKCHANNEL_HOME=home)
        subprocess.run([BIN, "init", "--name", "envparty"], env=env, check=True, capture_output=True)
        self.assertTrue(os.path.exists(os.path.join(home, "identity.key")))

    def test_commands_without_identity_say_what_to_do(self):
        a = self.party("nobody", init=False)
        proc = a.run("invite", check=False)
        self.assertEqual(proc.returncode, 4)
        self.assertIn("backchannel init", proc.stderr)

    def test_bad_name_is_refused(self):
        a = self.party("x", init=False)
        proc = a.run("init", "--name", "Not Valid", check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertFalse(os.path.exists(os.path.join(a.home, "identity.key")))

    def test_invite_list_and_revoke(self):
        a = self.party("washington")
        inv = a.json("invite")
        listed = a.json("invite", "list")
        self.assertEqual([(i["id"], i["state"]) for i in listed], [(inv["id"], "open")])
        a.run("invite", "revoke", inv["id"])
        self.assertEqual(a.json("invite", "list")[0]["state"], "revoked")
        self.assertEqual(a.run("invite", "revoke", inv["id"], check=False).returncode, 5)
        self.assertEqual(a.run("invite", "revoke", "nope", check=False).returncode, 4)

    def test_qr_is_drawn(self):
        a = self.party("washington")
        proc = a.run("invite", "--qr")
        self.assertIn("\u2588", proc.stderr)
        self.assertTrue(proc.stdout.strip().startswith("bc3"))

    def test_contact_add_from_stdin(self):
        a = self.party("washington")
        b = self.party("moscow")
        text = a.run("invite").stdout
        b.run("contact", "add", "-", stdin=text)
        self.assertEqual(b.json("contact", "list")[0]["alias"], "washington")

    def test_alias_and_duplicates(self):
        a = self.party("washington")
        b = self.party("moscow")
        b.run("contact", "add", a.run("invite").stdout.strip(), "--as", "dc")
        again = b.run("contact", "add", a.run("invite").stdout.strip(), check=False)
        self.assertEqual(again.returncode, 5)
        self.assertIn("already a contact, as 'dc'", again.stderr)

    def test_own_invitation_is_refused(self):
        a = self.party("washington")
        proc = a.run("contact", "add", a.run("invite").stdout.strip(), check=False)
        self.assertEqual(proc.returncode, 5)


class InvitationRefusals(CliTestCase):
    """Each bad invitation is refused with a message naming the fault, and writes nothing."""

    def setUp(self):
        super().setUp()
        self.a = self.party("washington")
        self.b = self.party("moscow")
        self.text = self.a.run("invite").stdout.strip()

    def refused(self, text, code, words):
        before = self.files_under(self.b.home)
        proc = self.b.run("contact", "add", text, check=False)
        self.assertEqual(proc.returncode, code, proc.stderr)
        for w in words:
            self.assertIn(w, proc.stderr)
        self.assertEqual(self.files_under(self.b.home), before)
        self.assertEqual(self.b.json("contact", "list"), [])

    def test_typo(self):
        i = len(self.text) // 2
        typo = self.text[:i] + ("a" if self.text[i] != "a" else "b") + self.text[i + 1:]
        self.refused(typo, 3, ["checksum", "mistyped"])

    def test_foreign_character(self):
        self.refused(self.text[:20] + "1" + self.text[21:], 3, ["typo", "'1'"])

    def test_truncation(self):
        self.refused(self.text[:-10], 3, ["truncated"])

    def test_wrong_version(self):
        self.refused("bc7" + self.text[3:], 3, ["version 7"])

    def test_expired(self):
        import subprocess, time
        short = self.a.run("invite", "--expires", "1s").stdout.strip()
        time.sleep(2.1)
        self.refused(short, 3, ["expired"])

    def test_not_an_invitation(self):
        self.refused("hello", 3, ["not a backchannel invitation"])

    def test_json_error(self):
        import json
        proc = self.b.run("--json", "contact", "add", self.text[:-10], check=False)
        err = json.loads(proc.stdout)["error"]
        self.assertEqual(err["code"], "truncated")


if __name__ == "__main__":
    unittest.main()
