"""relay add|list|remove on a node, against a real `relay run`: the node operator's side, and
every refusal with what to do."""
import os
import socket
import subprocess
import time

from bc_cli import BIN, CliTestCase, Party, free_port



class RelayAdd(CliTestCase):
    def setUp(self):
        super().setUp()
        self.relay = Party(self.root, "relay")
        self.relay.run("relay", "init")
        self.port = free_port()
        self.log = open(os.path.join(self.root, "relay.log"), "w")
        self.proc = subprocess.Popen([BIN, "--home", self.relay.home, "relay", "run", "--listen",
                                      f"127.0.0.1:{self.port}"], stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise AssertionError("relay did not start")
                time.sleep(0.05)
        self.fingerprint = self.relay.json("relay", "info")["fingerprint"]
        self.url = f"wss://127.0.0.1:{self.port}/bc/v1"
        self.node = self.party("washington")

    def tearDown(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.log.close()
        super().tearDown()

    def test_add_with_a_token_lists_removes_and_invitations_carry_it(self):
        token = self.relay.json("relay", "token", "create")["token"]
        added = self.node.json("relay", "add", "ny", self.url, self.fingerprint, "--token", token)
        self.assertEqual(added["name"], "ny")
        self.assertEqual(added["fingerprint"], self.fingerprint)
        self.assertEqual(len(added["mailbox"]), 32)
        listed = self.node.json("relay", "list")
        self.assertEqual([(r["name"], r["url"], r["mailbox"]) for r in listed],
                         [("ny", self.url, added["mailbox"])])
        self.assertEqual(self.relay.json("relay", "info")["mailboxes"], 1)
        # An invitation with the relay is longer than one without: it carries the mailbox.
        with_relay = self.node.run("invite", "--address", "127.0.0.1:1").stdout.strip()
        again = self.node.run("relay", "add", "ny", self.url, self.fingerprint, "--token", token, check=False)
        self.assertEqual(again.returncode, 5)
        self.assertIn("exists already", again.stderr)
        same_key = self.node.run("relay", "add", "other", self.url, self.fingerprint, "--token", token, check=False)
        self.assertEqual(same_key.returncode, 5)
        self.assertIn("already added", same_key.stderr)
        removed = self.node.json("relay", "remove", "ny")
        self.assertTrue(removed["mailbox_deleted"])
        self.assertEqual(self.node.json("relay", "list"), [])
        self.assertEqual(self.relay.json("relay", "info")["mailboxes"], 0)
        without = self.node.run("invite", "--address", "127.0.0.1:1").stdout.strip()
        self.assertGreater(len(with_relay), len(without))
        missing = self.node.run("relay", "remove", "ny", check=False)
        self.assertEqual(missing.returncode, 4)

    def test_refusals_say_what_went_wrong_and_store_nothing(self):
        no_token = self.node.run("relay", "add", "ny", self.url, self.fingerprint, check=False)
        self.assertEqual(no_token.returncode, 5)
        self.assertIn("not_admitted", no_token.stderr)
        bad_token = self.node.run("relay", "add", "ny", self.url, self.fingerprint, "--token", "bct_nope",
                                  check=False)
        self.assertEqual(bad_token.returncode, 5)
        self.assertIn("not_admitted", bad_token.stderr)
        wrong_key = self.node.run("relay", "add", "ny", self.url, "ab" * 32, "--token", "x", check=False)
        self.assertEqual(wrong_key.returncode, 1)
        self.assertIn("did not prove the key of the fingerprint given (" + "ab" * 32 + ")", wrong_key.stderr)
        self.assertEqual(wrong_key.stderr.count("\n"), 1, "one line: no stray log line")
        self.assertNotIn("FINGERPRINT", wrong_key.stderr)
        unreachable = self.node.run("relay", "add", "ny", f"wss://127.0.0.1:{free_port()}/bc/v1", self.fingerprint,
                                    "--token", "x", check=False)
        self.assertEqual(unreachable.returncode, 1)
        self.assertIn("cannot connect", unreachable.stderr)
        for url in ("http://127.0.0.1:1/bc/v1", "wss://127.0.0.1/bc/v1"):
            bad = self.node.run("relay", "add", "ny", url, self.fingerprint, check=False)
            self.assertEqual(bad.returncode, 3, url)
        short = self.node.run("relay", "add", "ny", self.url, "abcd", check=False)
        self.assertEqual(short.returncode, 3)
        self.assertEqual(self.node.json("relay", "list"), [])
