"""Issue 18's CLI grammar: every command that acts on a link names it with --with (old
spellings still parse), `backchannel help [COMMAND]`, "did you mean" for mistyped commands and
options, and every usage error as {"error": {"code": "usage"}} under --json, exit 2."""
import json
import unittest

from bc_cli import CliTestCase

# (command line, expected exit code, text the message must contain)
MISTAKES = [
    (["sned", "--with", "x", "hi"], 2, "unknown command 'sned' for 'backchannel'; did you mean 'send'?"),
    (["help"], 0, "Usage: backchannel [OPTIONS] SUBCOMMAND"),
    (["help", "contact", "address", "add"], 0, "Usage: backchannel contact address add"),
    (["help", "sned"], 2, "did you mean 'send'?"),
    (["contact", "verfy", "bob"], 2, "unknown command 'verfy' for 'backchannel contact'; did you mean 'verify'?"),
    (["contact"], 2, "'backchannel contact' needs a command: add, list, verify, remove, address"),
    (["relay", "token", "craete"], 2, "did you mean 'create'?"),
    (["send", "--too", "x", "hi"], 2, "unknown option '--too' for 'backchannel send'; did you mean '--to'?"),
    (["send", "--pre", "flash", "--with", "x", "hi"], 2, "did you mean '--precedence'?"),
    (["send", "hi"], 2, "send: --with is required (see: backchannel help send)"),
    (["send", "hi", "--with"], 2, "option --with needs a value"),
    (["send", "--to", "a", "--with", "b", "hi"], 2, "give the contact once"),
    (["safety-number"], 2, "safety-number: --with is required"),
    (["log"], 2, "log: --with is required"),
    (["linecheck"], 2, "linecheck: --with is required"),
    (["send", "--with", "washington", ""], 3, "the message text is empty"),
]


class Usage(CliTestCase):
    def test_each_mistake_gets_its_message_and_exit_code(self):
        a = self.party("moscow")
        for args, code, text in MISTAKES:
            with self.subTest(args=args):
                proc = a.run(*args, check=False)
                self.assertEqual(proc.returncode, code, proc.stdout + proc.stderr)
                self.assertIn(text, proc.stdout if code == 0 else proc.stderr)

    def test_json_is_honoured_for_usage_errors(self):
        a = self.party("moscow")
        for args in (["sned"], ["send", "hi"], ["send", "--too", "x", "hi"], ["help", "nothing"]):
            with self.subTest(args=args):
                proc = a.run("--json", *args, check=False)
                self.assertEqual(proc.returncode, 2)
                doc = json.loads(proc.stdout)
                self.assertEqual(doc["error"]["code"], "usage")
                self.assertTrue(doc["error"]["message"])
                self.assertEqual(proc.stderr, "")

    def test_with_names_the_contact_everywhere_and_old_spellings_still_parse(self):
        a, b = self.party("washington"), self.party("moscow")
        b.run("contact", "add", a.run("invite", "--address", "127.0.0.1:9").stdout.strip())
        new = b.json("send", "--with", "washington", "one")
        old = b.json("send", "--to", "washington", "two")
        self.assertEqual([new["seq"], old["seq"]], [1, 2])
        self.assertEqual(b.run("safety-number", "--with", "washington").stdout,
                         b.run("safety-number", "washington").stdout)
        self.assertEqual(len(b.json("log", "--with", "washington")), 2)
        self.assertEqual(b.json("inbox", "--with", "washington"), b.json("inbox", "--from", "washington"))
        # The help shows only the new spelling.
        helptext = b.run("help", "send").stdout
        self.assertIn("--with", helptext)
        self.assertNotIn("--to", helptext)


if __name__ == "__main__":
    unittest.main()
