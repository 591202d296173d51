"""Helpers for tests that run the real backchannel binary in temporary homes."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

BIN = os.environ.get("BC_BIN", "build/dev/bin/backchannel")


def free_port():
    """A TCP port nothing listens on now (the kernel's pick), for a node or relay to take."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Party:
    """One home folder and the binary run against it."""

    def __init__(self, root, name):
        self.name = name
        self.home = os.path.join(root, name)

    def run(self, *args, check=True, stdin=None):
        proc = subprocess.run([BIN, "--home", self.home, *args], input=stdin, capture_output=True,
                              text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"{args} exited {proc.returncode}: {proc.stderr}{proc.stdout}")
        return proc

    def json(self, *args, stdin=None):
        return json.loads(self.run("--json", *args, stdin=stdin).stdout)


class CliTestCase(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="bc-cli-")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def party(self, name, init=True):
        p = Party(self.root, name)
        if init:
            p.run("init", "--name", name)
        return p

    def files_under(self, path):
        """Every file under path with its size and mtime: a cheap 'nothing was written' check."""
        out = {}
        for base, _, files in os.walk(path):
            for f in files:
                full = os.path.join(base, f)
                st = os.stat(full)
                with open(full, "rb") as fh:
                    out[full] = (st.st_size, fh.read())
        return out
