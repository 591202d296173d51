"""The Debian package end to end: build it (scripts/package: release build, cpack, lintian),
install it with dpkg -i, use what it installed (binary, manual pages, bash and zsh completion,
systemd units, the system user and its state folder), and purge it: only the state folder stays.

It installs into the running system, so it runs only as root with dpkg (CI's throwaway
machine); otherwise it exits 77, which ctest reports as Skipped, after saying why. Runs of it on
one machine take turns (a lock file), and it refuses to touch a backchannel package it did not
install.
"""
import fcntl
import glob
import gzip
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
import unittest

SOURCE = os.environ.get("BC_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
STATE = "/var/lib/backchannel"
INSTANCE = "pkgtest"
UNITS = ("backchannel-node@.service", "backchannel-relay@.service")


def run(*args, check=True, **kw):
    proc = subprocess.run(list(args), capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def installed(package):
    proc = run("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return proc.returncode == 0 and "install ok installed" in proc.stdout


def why_not_here():
    """The reason this machine cannot run the test, or None."""
    if os.geteuid() != 0:
        return "not root: dpkg -i would need it"
    for tool in ("dpkg", "dpkg-deb", "systemd-analyze", "man", "bash"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if installed("backchannel"):
        return "a backchannel package is installed already, and this test removes what it installs"
    return None


class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lock = open("/run/lock/backchannel-package-test.lock", "w")
        fcntl.flock(cls.lock, fcntl.LOCK_EX)
        if installed("backchannel"):
            cls.lock.close()
            raise unittest.SkipTest("a backchannel package is installed already; this test removes what it "
                                    "installs, so it leaves that one alone")
        cls.had_state = os.path.isdir(STATE)
        cls.had_user = cls.user_exists()
        try:
            cls.build_and_install()
        except BaseException:
            cls.tearDownClass()  # unittest does not call it when setUpClass fails
            raise

    @classmethod
    def build_and_install(cls):
        started = time.monotonic()
        built = run(os.path.join(SOURCE, "scripts", "package"), cwd=SOURCE, timeout=1700)
        cls.build_seconds = time.monotonic() - started
        cls.deb = os.path.join(SOURCE, built.stdout.strip().splitlines()[-1].removeprefix("package: "))
        print(f"\npackage: {cls.deb} built (and lintian-checked) in {cls.build_seconds:.0f} s", file=sys.stderr)
        cls.version = run("dpkg-deb", "-f", cls.deb, "Version").stdout.strip()
        # Every file (not directory) the package holds, as an absolute path.
        listing = run("dpkg-deb", "--contents", cls.deb).stdout.splitlines()
        cls.files = ["/" + line.split()[-1].removeprefix("./") for line in listing if not line.startswith("d")]
        run("dpkg", "-i", cls.deb)

    @classmethod
    def tearDownClass(cls):
        if not hasattr(cls, "had_state") or cls.lock.closed:
            return
        if installed("backchannel"):
            run("dpkg", "--purge", "backchannel", check=False)
        shutil.rmtree(os.path.join(STATE, INSTANCE), ignore_errors=True)
        if not cls.had_state:
            shutil.rmtree(STATE, ignore_errors=True)
        if not cls.had_user and cls.user_exists():
            run("userdel", "backchannel", check=False)
        cls.lock.close()

    @staticmethod
    def user_exists():
        try:
            pwd.getpwnam("backchannel")
            return True
        except KeyError:
            return False

    # The tests run in name order; test_9 removes the package.
    def test_1_binary_runs_and_says_the_package_version(self):
        out = run("/usr/bin/backchannel", "--version").stdout
        self.assertIn(self.version, out)
        self.assertIn("/usr/bin/backchannel", self.files)

    def test_2_manual_pages_match_the_commands(self):
        pages = [f for f in self.files if f.startswith("/usr/share/man/man1/")]
        self.assertIn("/usr/share/man/man1/backchannel.1.gz", pages)
        self.assertTrue(all(p.endswith(".1.gz") for p in pages), pages)
        # A page per subcommand the binary lists, found by name the way an operator asks for it.
        help_text = run("/usr/bin/backchannel", "--help").stdout
        commands = re.findall(r"^  (\w[\w-]*)\s", help_text.split("Subcommands:")[1], re.M)
        self.assertIn("send", commands)
        for command in commands:
            self.assertIn(f"/usr/share/man/man1/backchannel-{command}.1.gz", pages)
        env = dict(os.environ, MANWIDTH="100", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
        page = run("man", "backchannel-send", env=env)
        self.assertEqual(page.stderr, "")
        text = page.stdout
        self.assertIn("backchannel-send", text)
        for option in re.findall(r"^\s+(--[a-z-]+)", run("/usr/bin/backchannel", "send", "--help").stdout, re.M):
            self.assertIn(option, text)
        self.assertIn("GLOBAL OPTIONS", text)
        self.assertIn("--home", text)
        # groff's own check: no warning in any page.
        for p in pages:
            warn = run("man", "--warnings", "-E", "UTF-8", "-l", p, env=env)
            self.assertEqual(warn.stderr, "", p)

    def test_3_bash_completion_completes(self):
        script = "/usr/share/bash-completion/completions/backchannel"
        self.assertIn(script, self.files)

        def complete(*words):
            line = " ".join(f"'{w}'" for w in words)
            proc = run("bash", "--norc", "--noprofile", "-c",
                       f'source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _backchannel; '
                       'printf "%s\\n" "${COMPREPLY[@]}"')
            return proc.stdout.split()

        self.assertEqual(complete("backchannel", "relay", "tok"), ["token"])
        self.assertEqual(complete("backchannel", "relay", "token", "c"), ["create"])
        self.assertIn("send", complete("backchannel", "s"))
        self.assertEqual(complete("backchannel", "relay", "run", "--li"), ["--listen"])
        # Global options are offered below a subcommand, and an option's value is not a command.
        self.assertIn("--json", complete("backchannel", "status", "--js"))
        self.assertEqual(complete("backchannel", "--home", "relay", "re"), ["relay"])

    def test_4_zsh_completion_walks_the_same_tree(self):
        script = "/usr/share/zsh/vendor-completions/_backchannel"
        self.assertIn(script, self.files)
        if shutil.which("zsh") is None:
            self.skipTest("zsh is not installed")
        run("zsh", "-n", script)
        # Outside a completion widget, _describe and _files are stubs that print what they get.
        probe = ('_describe() { local -a e; e=("${(@P)${@[-1]}}"); print -l -- "${e[@]%%:*}"; }; '
                 '_files() { print FILES; }; compdef() { :; }; '
                 f'source {script}; words=(backchannel relay token c); CURRENT=4; _backchannel')
        self.assertEqual(run("zsh", "-f", "-c", probe).stdout.split(), ["create", "list", "revoke"])

    def test_5_units_verify_clean(self):
        for unit in UNITS:
            path = f"/lib/systemd/system/{unit}"
            self.assertIn(path, self.files)
            instance = path.replace("@.service", f"@{INSTANCE}.service")
            proc = run("systemd-analyze", "verify", instance, check=False)
            self.assertEqual((proc.returncode, proc.stdout + proc.stderr), (0, ""), unit)
            with open(path) as f:
                text = f.read()
            for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                            "StateDirectory=backchannel/%i", "Restart=on-failure", "User=backchannel"):
                self.assertIn(setting, text, unit)

    def test_6_user_and_state_folder_serve_an_instance(self):
        self.assertTrue(self.user_exists())
        st = os.stat(STATE)
        self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, "backchannel")
        # The unit's user can make a home under it, as docs/operations.md says to.
        run("runuser", "-u", "backchannel", "--", "/usr/bin/backchannel", "--home", f"{STATE}/{INSTANCE}",
            "init", "--name", INSTANCE)
        self.assertTrue(os.listdir(os.path.join(STATE, INSTANCE)))
        examples = "/usr/share/doc/backchannel/examples/"
        self.assertIn(examples + "backchannel.toml", self.files)
        self.assertIn(examples + "relay.toml", self.files)

    def test_9_purge_leaves_only_the_state_folder(self):
        home = os.path.join(STATE, INSTANCE)
        if not os.path.isdir(home):
            run("runuser", "-u", "backchannel", "--", "/usr/bin/backchannel", "--home", home, "init", "--name",
                INSTANCE)
        before = sorted(os.listdir(home))
        run("dpkg", "--purge", "backchannel")
        self.assertFalse(installed("backchannel"))
        left = [f for f in self.files if os.path.lexists(f)]
        self.assertEqual(left, [])
        self.assertEqual(sorted(os.listdir(home)), before)


if __name__ == "__main__":
    reason = why_not_here()
    if reason:
        print(f"SKIPPED package test: {reason}; it runs as root on a machine with dpkg (CI).", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
