"""relay init|run|info|token through the real binary: the relay operator's side."""
import os
import signal
import stat
import subprocess
import time
import unittest

from bc_cli import BIN, CliTestCase, Party


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

    def test_run_without_address_is_refused(self):
        r = self.relay()
        self.assertEqual(r.run("relay", "run", check=False).returncode, 3)


if __name__ == "__main__":
    unittest.main()
