"""`inbox --save` and `inbox --follow` as an operator uses them (issues 12 and 18): saving twice
writes each file once, the folder is made when missing, --follow shows each message as the
running node delivers it (across a restart of the node) and says when no node runs."""
import json
import os
import subprocess
import threading
import time
import unittest

from bc_cli import BIN, CliTestCase, free_port



class InboxSaveAndFollow(CliTestCase):
    def test_save_twice_writes_each_file_once_into_a_folder_it_makes(self):
        a, b = self.party("washington"), self.party("moscow")
        port = free_port()
        b.run("contact", "add", a.json("invite", "--address", f"127.0.0.1:{port}")["invitation"])
        annex = os.path.join(self.root, "annex.txt")
        with open(annex, "w") as f:
            f.write("terms of the exchange\n")
        b.run("send", "--with", "washington", "--file", annex)
        procs = [subprocess.Popen([BIN, "--home", p.home, "node", "run", "--listen", f"127.0.0.1:{q}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for p, q in [(a, port), (b, free_port())]]
        try:
            deadline = time.time() + 60
            while time.time() < deadline and not a.json("inbox"):
                time.sleep(0.2)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
        self.assertEqual(len(a.json("inbox")), 1, "the file arrived")

        folder = os.path.join(self.root, "saved", "annexes")  # does not exist yet
        first = a.run("inbox", "--save", folder)
        self.assertIn("Created the folder", first.stderr)
        self.assertEqual(os.listdir(folder), ["annex.txt"])
        with open(os.path.join(folder, "annex.txt")) as f:
            self.assertEqual(f.read(), "terms of the exchange\n")
        again = a.json("inbox", "--save", folder)
        self.assertEqual(os.listdir(folder), ["annex.txt"], "nothing written twice")
        self.assertEqual(again[0]["saved_as"], os.path.join(folder, "annex.txt"))
        self.assertFalse(again[0]["saved_now"])
        self.assertIn("saved before as", a.run("inbox", "--save", folder).stdout)
        # A different file of the same name is kept beside it, not overwritten.
        with open(os.path.join(folder, "annex.txt"), "w") as f:
            f.write("edited locally\n")
        third = a.json("inbox", "--save", folder)
        self.assertTrue(third[0]["saved_now"])
        self.assertEqual(sorted(os.listdir(folder)), ["annex.txt", "annex.txt.1"])

        not_a_folder = a.run("inbox", "--save", annex, check=False)
        self.assertEqual(not_a_folder.returncode, 3)
        self.assertIn("is not a folder", not_a_folder.stderr)

    def test_follow_shows_each_message_as_the_running_node_delivers_it(self):
        # --follow waits on the node's deliveries long poll (docs/api.md): each message sent
        # while it follows shows up once, a JSON object per line, also after the node restarted.
        a, b = self.party("washington"), self.party("moscow")
        port = free_port()
        b.run("contact", "add", a.json("invite", "--address", f"127.0.0.1:{port}")["invitation"])

        def start(p, q):
            return subprocess.Popen([BIN, "--home", p.home, "node", "run", "--listen", f"127.0.0.1:{q}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        nodes = {"a": start(a, port), "b": start(b, free_port())}
        follow = subprocess.Popen([BIN, "--home", a.home, "--json", "inbox", "--follow"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        lines = []
        # A message that never shows would block readline: the follower is stopped after 120 s.
        watchdog = threading.Timer(120, follow.terminate)
        watchdog.start()

        def seen(n):
            # One line per message; readline blocks, so only read what was promised.
            while len(lines) < n:
                line = follow.stdout.readline()
                if not line:
                    return False
                lines.append(json.loads(line))
            return True

        try:
            b.run("send", "--with", "washington", "first while following")
            self.assertTrue(seen(1))
            nodes["a"].terminate()
            nodes["a"].wait(timeout=30)
            nodes["a"] = start(a, port)
            b.run("send", "--with", "washington", "second after a restart")
            self.assertTrue(seen(2))
        finally:
            watchdog.cancel()
            follow.terminate()
            follow.communicate(timeout=30)
            for p in nodes.values():
                p.terminate()
            for p in nodes.values():
                p.wait(timeout=30)
        self.assertEqual([m["body"]["text"] for m in lines], ["first while following", "second after a restart"])
        self.assertEqual(len(a.json("inbox")), 2, "each shown once, and nothing else")

    def test_follow_says_when_no_node_runs(self):
        a = self.party("washington")
        proc = subprocess.Popen([BIN, "--home", a.home, "inbox", "--follow"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        proc.terminate()
        out, err = proc.communicate(timeout=10)
        self.assertIn("No node is running for this home", err)
        self.assertEqual(out, "")


if __name__ == "__main__":
    unittest.main()
