"""Daemon logs (issue 18): times in UTC with the zone written, --log-format json gives one JSON
object per line (also while a stranger's garbage connection is refused)."""
import json
import re
import socket
import subprocess
import time
import unittest

from bc_cli import BIN, CliTestCase, free_port



class DaemonLogs(CliTestCase):
    def run_node_briefly(self, party, *extra, poke=None):
        port = free_port()
        proc = subprocess.Popen([BIN, "--home", party.home, "node", "run", "--listen", f"127.0.0.1:{port}", *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 20
        while time.time() < deadline and party.run("--json", "status", check=False).returncode == 2:
            time.sleep(0.2)
        if poke:
            poke(port)
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        self.assertEqual(out, "")
        return [line for line in err.splitlines() if line]

    def test_text_lines_carry_utc_times(self):
        a = self.party("washington")
        lines = self.run_node_briefly(a)
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warning|error|debug) ")

    def test_json_lines(self):
        a = self.party("washington")

        def connect(port):
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"not a TLS client hello\r\n\r\n")
                time.sleep(0.5)

        lines = self.run_node_briefly(a, "--log-format", "json", poke=connect)
        docs = [json.loads(line) for line in lines]
        for d in docs:
            self.assertRegex(d["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(d["level"], ("info", "warning", "error", "debug"))
            self.assertEqual(d["logger"], "node")
        self.assertTrue(any("running" in d["message"] for d in docs))
        self.assertFalse([d for d in docs if re.search(r"\b(\w+): \1\b", d["message"])], "no 'duplicate: duplicate'")

    def test_bad_log_format_is_refused(self):
        a = self.party("washington")
        proc = a.run("node", "run", "--log-format", "xml", check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("--log-format: expected text or json", proc.stderr)


if __name__ == "__main__":
    unittest.main()
