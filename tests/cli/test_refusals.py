"""Refusals travel (issue 18): an invitee whose invitation was revoked is told by `status` why
its session never starts, and its node dials the inviter with a growing wait, not in a loop."""
import json
import subprocess
import time
import unittest

from bc_cli import BIN, CliTestCase, free_port



class RevokedInvitation(CliTestCase):
    def test_status_says_why_and_redials_back_off(self):
        a, b = self.party("washington"), self.party("moscow")
        port = free_port()
        inv = a.json("invite", "--address", f"127.0.0.1:{port}")
        b.run("contact", "add", inv["invitation"])
        a.run("invite", "revoke", inv["id"])
        procs = []
        try:
            procs.append(subprocess.Popen([BIN, "--home", a.home, "node", "run", "--listen", f"127.0.0.1:{port}"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            procs.append(subprocess.Popen([BIN, "--home", b.home, "node", "run", "--listen",
                                           f"127.0.0.1:{free_port()}"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
            deadline = time.time() + 30
            link = {}
            while time.time() < deadline:
                proc = b.run("--json", "status", check=False)
                if proc.stdout.strip().startswith("{"):
                    links = json.loads(proc.stdout).get("links", [])
                    if links and links[0].get("refused_our_key_at_ms"):
                        link = links[0]
                        break
                time.sleep(0.3)
            self.assertTrue(link, "status names the refusal")
            self.assertTrue(link["hello_pending"])
            text = b.run("status", check=False).stdout
            self.assertIn("REFUSED: washington's node refuses our key", text)
            self.assertIn("the invitation was revoked, used or expired there", text)
            time.sleep(12)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
        log = procs[1].stderr.read()
        attempts = log.count("failed, next in")
        # 100 ms doubling to the 2 s ceiling, then the refused wait grows from 2 s: about 8 in
        # ~13 s; a dial loop (the defect) made ~90.
        self.assertGreaterEqual(attempts, 2, log)
        self.assertLessEqual(attempts, 12, log)
        self.assertEqual(log.count("refuses our key"), 1, "warned once, not per attempt")


if __name__ == "__main__":
    unittest.main()
