"""`inbox --save` and `inbox --follow` as an operator uses them (issue 18): saving twice writes
each file once, the folder is made when missing, and --follow says when no node runs."""
import os
import subprocess
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
