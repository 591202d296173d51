"""relay init|run|info|token through the real binary: the relay operator's side."""
import json
import os
import signal
import socket
import stat
import subprocess
import time
import unittest

from bc_cli import BIN, CliTestCase, Party, free_port, stop_process


class RelayDaemon(CliTestCase):
    def relay(self):
        r = Party(self.root, "relay")
        r.run("relay", "init")
        return r

    def test_init_info_and_key_file(self):
        r = self.relay()
        info = r.json("relay", "info")
        self.assertEqual(len(info["fingerprint"]), 64)
        int(info["fingerprint"], 16)
        self.assertIsNone(info["url"])
        self.assertEqual(info["mailboxes"], 0)
        for name in ("relay.key", "relay.db"):
            mode = stat.S_IMODE(os.stat(os.path.join(r.home, name)).st_mode)
            self.assertEqual(mode, 0o600, name)

    def test_init_refuses_to_overwrite_and_node_homes(self):
        r = self.relay()
        before = self.files_under(r.home)
        again = r.run("relay", "init", check=False)
        self.assertEqual(again.returncode, 5)
        self.assertIn("never overwritten", again.stderr)
        self.assertEqual(self.files_under(r.home), before)
        node = self.party("washington")
        refused = node.run("relay", "init", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(node.home, "relay.key")))

    def test_info_without_init_is_not_found(self):
        r = Party(self.root, "nothing")
        self.assertEqual(r.run("relay", "info", check=False).returncode, 4)

    def test_tokens_are_listed_by_id_never_shown_again(self):
        r = self.relay()
        first = r.json("relay", "token", "create")
        self.assertTrue(first["token"].startswith("bct_"))
        second = r.run("relay", "token", "create").stdout.strip()
        self.assertTrue(second.startswith("bct_"))
        listed = r.json("relay", "token", "list")["tokens"]
        self.assertEqual(len(listed), 2)
        self.assertIn(first["id"], [t["id"] for t in listed])
        self.assertEqual(listed[0]["mailboxes"], 0)
        with open(os.path.join(r.home, "relay.db"), "rb") as f:
            db = f.read()
        wal = os.path.join(r.home, "relay.db-wal")
        if os.path.exists(wal):
            with open(wal, "rb") as f:
                db += f.read()
        self.assertNotIn(first["token"].encode(), db)
        self.assertNotIn(second.encode(), db)

    def test_token_labels_are_listed_and_checked(self):
        r = self.relay()
        made = r.json("relay", "token", "create", "--label", "Moscow duty desk (Ivanova)")
        self.assertEqual(made["label"], "Moscow duty desk (Ivanova)")
        plain = r.json("relay", "token", "create")
        self.assertEqual(plain["label"], "")
        listed = {t["id"]: t for t in r.json("relay", "token", "list")["tokens"]}
        self.assertEqual(listed[made["id"]]["label"], "Moscow duty desk (Ivanova)")
        self.assertEqual(listed[plain["id"]]["label"], "")
        human = r.run("relay", "token", "list").stdout
        self.assertIn(f'{made["id"]}  "Moscow duty desk (Ivanova)"  created', human)
        before = self.files_under(r.home)
        for bad, code, words in (("x" * 201, 3, "at most 200"), ("two\nlines", 3, "control character")):
            refused = r.run("relay", "token", "create", "--label", bad, check=False)
            self.assertEqual(refused.returncode, code, bad)
            self.assertIn(words, refused.stderr)
            self.assertEqual(refused.stdout, "")
        self.assertEqual(self.files_under(r.home), before)
        self.assertEqual(len(r.json("relay", "token", "list")["tokens"]), 2)

    def test_a_relay_store_of_schema_2_gains_labels(self):
        r = self.relay()
        made = r.json("relay", "token", "create")
        import sqlite3
        db = sqlite3.connect(os.path.join(r.home, "relay.db"))
        # Back to schema 2: without schema 3's labels and schema 4's writers.
        db.execute("ALTER TABLE tokens DROP COLUMN label")
        db.execute("DROP TABLE capabilities")
        db.execute("ALTER TABLE items DROP COLUMN writer")
        db.execute("PRAGMA user_version = 2")
        db.commit()
        db.close()
        listed = r.json("relay", "token", "list")["tokens"]
        self.assertEqual([(t["id"], t["label"]) for t in listed], [(made["id"], "")])
        db = sqlite3.connect(os.path.join(r.home, "relay.db"))
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 4)
        db.close()

    def test_run_reports_its_url_and_stops_on_sigterm(self):
        r = self.relay()
        proc = subprocess.Popen([BIN, "--home", r.home, "relay", "run", "--listen", "127.0.0.1:0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 20
            url = None
            while time.time() < deadline and url is None:
                url = r.json("relay", "info")["url"]
                if url is None:
                    time.sleep(0.1)
            self.assertIsNotNone(url)
            self.assertRegex(url, r"^wss://127\.0\.0\.1:[0-9]+/bc/v1$")
            self.assertNotEqual(url, "wss://127.0.0.1:0/bc/v1")
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=20)
            self.assertEqual(proc.returncode, 0, err)
            self.assertIn("relay stopped", err)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def test_revoked_token_admits_no_new_mailbox_and_the_old_one_stays(self):
        r = self.relay()
        token = r.json("relay", "token", "create")
        other = r.json("relay", "token", "create")
        port = free_port()
        proc = subprocess.Popen([BIN, "--home", r.home, "relay", "run", "--listen", f"127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    self.assertTrue(time.time() < deadline and proc.poll() is None, "relay did not start")
                    time.sleep(0.05)
            url, fingerprint = f"wss://127.0.0.1:{port}/bc/v1", r.json("relay", "info")["fingerprint"]
            first = self.party("washington")
            first.run("relay", "add", "ny", url, fingerprint, "--token", token["token"])

            revoked = r.json("relay", "token", "revoke", token["id"])
            self.assertEqual(revoked["id"], token["id"])
            self.assertEqual(revoked["mailboxes"], 1)
            self.assertIsInstance(revoked["revoked_at"], int)
            help_text = r.run("relay", "token", "revoke", "--help").stdout
            self.assertIn("keep working", help_text)

            tokens_before, info_before = r.json("relay", "token", "list"), r.json("relay", "info")
            listed = {t["id"]: t for t in tokens_before["tokens"]}
            self.assertEqual(listed[token["id"]]["revoked_at"], revoked["revoked_at"])
            self.assertIsNone(listed[other["id"]]["revoked_at"])
            second = self.party("moscow")
            refused = second.run("relay", "add", "ny", url, fingerprint, "--token", token["token"], check=False)
            self.assertEqual(refused.returncode, 5, refused.stderr)
            self.assertIn("not_admitted", refused.stderr)
            self.assertIn("revoked", refused.stderr)
            self.assertEqual(second.json("relay", "list"), [])
            self.assertEqual(r.json("relay", "token", "list"), tokens_before)
            self.assertEqual(r.json("relay", "info"), info_before)
            # The token that was not revoked still admits.
            second.run("relay", "add", "ny", url, fingerprint, "--token", other["token"])
            self.assertEqual(r.json("relay", "info")["mailboxes"], 2)
        finally:
            stop_process(proc)

    def test_revoking_an_unknown_token_is_not_found(self):
        r = self.relay()
        r.run("relay", "token", "create")
        before = r.json("relay", "token", "list")
        missing = r.run("relay", "token", "revoke", "0123456789abcdef", check=False)
        self.assertEqual(missing.returncode, 4)
        self.assertIn("no admission token with id '0123456789abcdef'", missing.stderr)
        as_json = r.run("--json", "relay", "token", "revoke", "nope", check=False)
        self.assertEqual(as_json.returncode, 4)
        self.assertEqual(json.loads(as_json.stdout)["error"]["code"], "not_found")
        self.assertEqual(r.json("relay", "token", "list"), before)

    def test_run_without_address_is_refused(self):
        r = self.relay()
        self.assertEqual(r.run("relay", "run", check=False).returncode, 3)


if __name__ == "__main__":
    unittest.main()
