"""Two parties who invited each other and each accepted the other's invitation (issue 19): both
ends keep one session (the one whose invitee has the smaller key), messages cross both ways, and
both invitations end up used, so neither secret stays open in a store."""
import subprocess
import time
import unittest

from bc_cli import BIN, CliTestCase, free_port


class MutualInvitation(CliTestCase):
    def test_both_invitations_are_consumed_and_the_link_works(self):
        a, b = self.party("washington"), self.party("moscow")
        port_a, port_b = free_port(), free_port()
        inv_a = a.json("invite", "--address", f"127.0.0.1:{port_a}")
        inv_b = b.json("invite", "--address", f"127.0.0.1:{port_b}")
        a.run("contact", "add", inv_b["invitation"])
        b.run("contact", "add", inv_a["invitation"])
        a.run("send", "--to", "moscow", "from washington")
        b.run("send", "--to", "washington", "from moscow")
        procs = [subprocess.Popen([BIN, "--home", p.home, "node", "run", "--listen", f"127.0.0.1:{q}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for p, q in [(a, port_a), (b, port_b)]]

        def states():
            return {p.name: [i["state"] for i in p.json("invite", "list")] for p in (a, b)}
        try:
            deadline = time.time() + 60
            while time.time() < deadline and not (a.json("inbox") and b.json("inbox")):
                time.sleep(0.2)
            # The link works on the session both kept.
            self.assertEqual([m["body"].get("text") for m in a.json("inbox")], ["from moscow"])
            self.assertEqual([m["body"].get("text") for m in b.json("inbox")], ["from washington"])
            deadline = time.time() + 20
            while time.time() < deadline and states() != {"washington": ["used"], "moscow": ["used"]}:
                time.sleep(0.2)
            self.assertEqual(states(), {"washington": ["used"], "moscow": ["used"]})
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
        self.assertEqual([p.returncode for p in procs], [0, 0])


if __name__ == "__main__":
    unittest.main()
