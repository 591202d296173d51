"""Helpers for tests that run the real backchannel binary in temporary homes."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from processes import stop_process, wait_for  # noqa: E402,F401  (wait_for: for the test modules)
from ports import free_port  # noqa: E402,F401  (for the test modules too)

BIN = os.environ.get("BC_BIN", "build/dev/bin/backchannel")


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


class RunsNodes:
    """For a CliTestCase whose tests run real nodes on loopback: start_node returns once the node
    answers on its control socket; every node is stopped (SIGTERM, then SIGKILL) after the test."""

    def setUp(self):
        super().setUp()
        self.procs = []

    def tearDown(self):
        for proc, log in self.procs:
            stop_process(proc)
            log.close()
        super().tearDown()

    def start_node(self, party, port=None):
        log = open(os.path.join(self.root, f"{party.name}.log"), "a")
        port = port or free_port()
        proc = subprocess.Popen([BIN, "--home", party.home, "node", "run", "--listen", f"127.0.0.1:{port}"],
                                stdout=log, stderr=log)
        self.procs.append((proc, log))
        sock = os.path.join(party.home, "control.sock")

        def answers():
            if proc.poll() is not None:
                raise AssertionError(f"{party.name}: node exited with {proc.returncode}")
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(2)
                    s.connect(sock)
                    s.sendall(b'{"op":"ping"}\n')
                    reply = json.loads(s.makefile().readline())
                    return reply.get("ok") and reply.get("pid") == proc.pid
            except (OSError, ValueError):
                return False
        wait_for(answers, 20, f"{party.name}'s node to answer")
        return proc
