"""The hidden `docs` command: manual pages and completions generated from the CLI's own
definitions. Checked against what `--help` of each command prints, walked recursively, so a
subcommand or option missing from a page fails here."""
import functools
import os
import re
import subprocess

from bc_cli import BIN, CliTestCase


@functools.lru_cache(maxsize=None)
def help_cached(path):
    return subprocess.run([BIN, *path, "--help"], capture_output=True, text=True, check=True, timeout=30).stdout


def help_of(path):
    return help_cached(tuple(path))


def subcommands(help_text):
    if "Subcommands:" not in help_text:
        return []
    return re.findall(r"^  ([a-z][\w-]*)\s", help_text.split("Subcommands:")[1], re.M)


def long_options(help_text):
    """The long options of the Options: section: the first column of each row."""
    section = help_text.split("Options:")[1].split("Subcommands:")[0] if "Options:" in help_text else ""
    return [m for line in section.splitlines() for m in re.findall(r"--[a-z][a-z-]*", line.strip().split("  ")[0])]


class Docs(CliTestCase):
    def tree(self):
        """Every command path, from --help, root first."""
        paths, todo = [], [[]]
        while todo:
            path = todo.pop(0)
            paths.append(path)
            todo.extend(path + [s] for s in subcommands(help_of(path)))
        return paths

    def test_a_manual_page_per_command_with_every_option(self):
        out = os.path.join(self.root, "man")
        subprocess.run([BIN, "docs", "man", out], check=True, capture_output=True, timeout=30)
        paths = self.tree()
        self.assertGreater(len(paths), 20)
        checked = 0
        expected = sorted("-".join(["backchannel", *p]) + ".1" for p in paths)
        self.assertEqual(sorted(os.listdir(out)), expected)
        for path in paths:
            with open(os.path.join(out, "-".join(["backchannel", *path]) + ".1")) as f:
                page = f.read().replace("\\-", "-")
            self.assertTrue(page.startswith(".\\\""), path)
            self.assertIn(".SH NAME", page)
            for option in long_options(help_of(path)):
                self.assertIn(option, page, f"{path}: {option}")
                checked += 1
            for sub in subcommands(help_of(path)):
                self.assertIn("backchannel-" + "-".join(path + [sub]), page, path)
        self.assertGreater(checked - len(paths), 20)  # options beyond the --help of every page

    def test_docs_is_hidden_and_refuses_unknown_shells(self):
        self.assertNotIn("docs", subcommands(help_of([])))
        bad = subprocess.run([BIN, "docs", "completion", "fish"], capture_output=True, text=True, timeout=30)
        self.assertEqual(bad.returncode, 3)
        self.assertIn("bash or zsh", bad.stderr)

    def test_bash_completion_knows_every_command(self):
        script = subprocess.run([BIN, "docs", "completion", "bash"], capture_output=True, text=True, check=True,
                                timeout=30).stdout
        path_file = os.path.join(self.root, "completion.bash")
        with open(path_file, "w") as f:
            f.write(script)
        for path in self.tree():
            subs = subcommands(help_of(path))
            if not subs:
                continue
            words = " ".join(["backchannel", *path, "''"])
            got = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                                  f"source {path_file}; COMP_WORDS=({words}); COMP_CWORD={len(path) + 1}; "
                                  '_backchannel; printf "%s\\n" "${COMPREPLY[@]}"'],
                                 capture_output=True, text=True, check=True, timeout=30).stdout.split()
            self.assertEqual(sorted(got), sorted(subs), path)
