"""A running node follows what the CLI changes in its store (issue 18): `contact verify` shows in
`status` and /metrics at once, without a restart."""
import json
import subprocess
import time
import unittest
import urllib.request

from bc_cli import BIN, CliTestCase, free_port



class NodeFollowsStore(CliTestCase):
    def test_verify_takes_effect_in_a_running_node(self):
        a, b = self.party("washington"), self.party("moscow")
        b.run("contact", "add", a.json("invite", "--address", "127.0.0.1:9")["invitation"])
        metrics = free_port()
        node = subprocess.Popen([BIN, "--home", b.home, "node", "run", "--listen", f"127.0.0.1:{free_port()}",
                                 "--metrics", f"127.0.0.1:{metrics}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            links = []
            while time.time() < deadline:
                proc = b.run("--json", "status", check=False)
                if proc.returncode != 3 and proc.stdout.strip().startswith("{"):
                    links = json.loads(proc.stdout).get("links", [])
                    if links:
                        break
                time.sleep(0.2)
            self.assertTrue(links, "the node runs and knows washington")
            self.assertFalse(links[0]["verified"])
            b.run("contact", "verify", "--yes", "washington")
            start = time.time()
            status = json.loads(b.run("--json", "status", check=False).stdout)
            self.assertTrue(status["links"][0]["verified"], "status follows the verification at once")
            self.assertLess(time.time() - start, 5)
            body = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=10).read().decode()
            self.assertIn('bc_link_verified{contact="washington"} 1', body)
        finally:
            node.terminate()
            node.wait(timeout=30)


if __name__ == "__main__":
    unittest.main()
