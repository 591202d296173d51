"""`send --each-line`: one durable message per line of stdin, with no node running."""
import unittest

from bc_cli import CliTestCase


class SendEachLine(CliTestCase):
    def pair(self):
        a = self.party("washington")
        b = self.party("moscow")
        # An address where no node listens: everything stays queued in moscow's outbox.
        b.run("contact", "add", a.run("invite", "--address", "127.0.0.1:9").stdout.strip())
        return a, b

    def test_every_non_empty_line_is_one_message_in_order(self):
        _, b = self.pair()
        lines = [f"line {i}" for i in range(1, 201)]
        stdin = "\n".join(lines[:100]) + "\n\n\n" + "\n".join(lines[100:])  # blank lines skipped
        out = b.json("send", "--to", "washington", "-p", "priority", "--each-line", "-", stdin=stdin)
        self.assertEqual(out["count"], 200)
        self.assertFalse(out["node_running"])
        seqs = [m["seq"] for m in out["messages"]]
        self.assertEqual(seqs, list(range(1, 201)))
        self.assertTrue(all(m["precedence"] == "priority" for m in out["messages"]))
        self.assertEqual([m["bytes"] for m in out["messages"]][:2], [len(lines[0]) + 34, len(lines[1]) + 34])  # tag, salt, kind
        log = b.json("log", "--with", "washington")
        queued = [e for e in log if e["direction"] == "out"]
        self.assertEqual(len(queued), 200)
        self.assertTrue(all(e["state"] == "queued" for e in queued))
        # The text form says how many and which seqs.
        text = b.run("send", "--to", "washington", "--each-line", "-", stdin="one\ntwo\n").stdout
        self.assertIn("Queued 2 messages to washington (ROUTINE, seq 201..202)", text)

    def test_each_line_needs_stdin_and_refusal_writes_nothing(self):
        _, b = self.pair()
        before = self.files_under(b.home)
        proc = b.run("send", "--to", "washington", "--each-line", "hello", check=False)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("--each-line reads stdin", proc.stderr)
        self.assertEqual(self.files_under(b.home), before)
        self.assertEqual(b.json("log", "--with", "washington"), [])


    def test_surge_without_a_node_queues_and_says_so(self):
        _, b = self.pair()
        out = b.json("send", "--to", "washington", "--surge", "-p", "flash", "now")
        self.assertEqual(out["state"], "queued")
        self.assertEqual(out["surge"], "no_node")
        text = b.run("send", "--to", "washington", "--surge", "again").stdout
        self.assertIn("no running node took it; it goes out in the cover slots", text)
        self.assertEqual(b.json("send", "--to", "washington", "plain")["surge"], "none")
        proc = b.run("send", "--to", "washington", "--surge", "--each-line", "-", stdin="a\n", check=False)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("--surge applies to one message", proc.stderr)


if __name__ == "__main__":
    unittest.main()
