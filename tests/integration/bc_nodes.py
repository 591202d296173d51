"""Real backchannel nodes on loopback for integration tests: start, SIGKILL, restart."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BIN = os.environ.get("BC_BIN", "build/dev/bin/backchannel")
# What each TempRoot copies: BIN itself points at the copy of the latest root, which goes away
# with it (a module with several tests makes several roots).
SOURCE_BIN = BIN


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """One party: a home folder, and its `node run` process when running."""

    def __init__(self, root, name):
        self.name = name
        self.home = os.path.join(root, name)
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(root, f"{name}.log")
        self.starts = 0

    def cli(self, *args, check=True, stdin=None, timeout=120):
        proc = subprocess.run([BIN, "--home", self.home, *args], input=stdin, capture_output=True,
                              text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.name}: {args} exited {proc.returncode}: {proc.stderr}{proc.stdout}")
        return proc

    def json(self, *args):
        return json.loads(self.cli("--json", *args).stdout)

    def start(self):
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen([BIN, "--home", self.home, "node", "run", "--listen",
                                          f"127.0.0.1:{self.port}"], stdout=log, stderr=log)
        self.starts += 1
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name}: node exited with {self.proc.returncode}; see {self.log_path}")
            if self.ping():
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: node did not start")

    def ping(self):
        """True when this process's node answers on the control socket."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(os.path.join(self.home, "control.sock"))
                s.sendall(b'{"op":"ping"}\n')
                reply = json.loads(s.makefile().readline())
                return reply.get("ok") and reply.get("pid") == self.proc.pid
        except (OSError, ValueError):
            return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def make_pair(root, inviter="washington", invitee="moscow"):
    """Two initialised nodes; the invitee has pinned the inviter; both running."""
    a, b = Node(root, inviter), Node(root, invitee)
    a.cli("init", "--name", inviter)
    b.cli("init", "--name", invitee)
    a.start()
    invitation = a.cli("invite").stdout.strip()
    b.cli("contact", "add", invitation)
    b.start()
    wait_for(lambda: any(c["alias"] == invitee for c in a.json("contact", "list")), 30, "HELLO accepted")
    return a, b


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for: {what}")


class TempRoot:
    """A scratch folder, with its own copy of the binary so a rebuild during a long run cannot
    pull it away from under the test."""

    def __init__(self):
        global BIN
        self.path = tempfile.mkdtemp(prefix="bc-int-")
        copy = os.path.join(self.path, "backchannel")
        shutil.copy2(SOURCE_BIN, copy)
        BIN = copy

    def cleanup(self, keep=False):
        if not keep:
            shutil.rmtree(self.path, ignore_errors=True)
