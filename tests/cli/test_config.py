"""`backchannel config check` (issue 18): reads a node's or a relay's settings as `node run` and
`relay run` would; a bad value is refused with its line (exit 3), suspicious settings warned
about (exit 0), --json for scripts."""
import json
import os
import unittest

from bc_cli import CliTestCase


class ConfigCheck(CliTestCase):
    def write(self, party, text, name="backchannel.toml"):
        with open(os.path.join(party.home, name), "w") as f:
            f.write(text)

    def test_node_settings(self):
        a = self.party("washington")
        none = a.run("config", "check")
        self.assertIn("no such file; the defaults apply (0 warnings)", none.stdout)

        self.write(a, '[link.nobody]\nredundancy = 1\n[alarm]\ncommand = "/no/such/pager"\n')
        warned = a.run("config", "check")
        self.assertEqual(warned.returncode, 0)
        self.assertIn("the settings would load (2 warnings)", warned.stdout)
        self.assertIn("[link.nobody]: no contact named 'nobody'", warned.stderr)
        self.assertIn("'/no/such/pager' is not an executable file", warned.stderr)
        doc = a.json("config", "check")
        self.assertTrue(doc["ok"])
        self.assertEqual(len(doc["warnings"]), 2)

        self.write(a, '[link]\nredundancy = 7\n')
        bad = a.run("config", "check", check=False)
        self.assertEqual(bad.returncode, 3)
        self.assertIn("backchannel.toml:2:", bad.stderr)
        self.assertIn("redundancy", bad.stderr)
        bad_json = a.run("--json", "config", "check", check=False)
        self.assertEqual(bad_json.returncode, 3)
        doc = json.loads(bad_json.stdout)
        self.assertFalse(doc["ok"])
        self.assertIn("redundancy", doc["error"]["message"])

    def test_relay_settings(self):
        relay = self.party("relay", init=False)
        os.makedirs(relay.home, exist_ok=True)
        relay.run("relay", "init")
        self.assertIn("relay.toml: no such file", relay.run("config", "check", "--relay").stdout)
        self.write(relay, 'no_such_setting = 1\n', "relay.toml")
        bad = relay.run("config", "check", "--relay", check=False)
        self.assertEqual(bad.returncode, 3, bad.stderr)
        self.assertIn("relay.toml:1", bad.stderr)


class HomePermissions(CliTestCase):
    """A store others can read is refused, as the key file is (issue 17): it holds session state
    and invitation secrets."""

    def test_store_readable_by_others_is_refused(self):
        a = self.party("washington")
        store = os.path.join(a.home, "store.db")
        self.assertEqual(os.stat(store).st_mode & 0o777, 0o600)
        os.chmod(store, 0o644)
        proc = a.run("contact", "list", check=False)
        self.assertEqual(proc.returncode, 5)
        self.assertIn("store.db is readable by other users; run: chmod 600", proc.stderr)
        os.chmod(store, 0o600)
        self.assertEqual(a.run("contact", "list").returncode, 0)


if __name__ == "__main__":
    unittest.main()
