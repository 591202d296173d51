"""Real backchannel nodes on loopback for integration tests: start, SIGKILL, restart; relays
and a TCP proxy that cuts a direct channel (tests of links over relays and of their health);
nodes and relays inside test hosts (NsNode, NsRelay: network namespaces, tests/support/netns.py)."""
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from processes import stop_process, wait_for  # noqa: E402,F401  (wait_for: for the test modules)
from ports import free_port  # noqa: E402,F401  (for the test modules too)

BIN = os.environ.get("BC_BIN", "build/dev/bin/backchannel")
# What each TempRoot links to: BIN itself points at the link in the latest root, which goes away
# with it (a module with several tests makes several roots).
SOURCE_BIN = BIN


# The ports of nodes and relays in test hosts (each host has its own addresses, so they can be
# fixed).
NS_NODE_PORT = 7400
NS_RELAY_PORT = 7443


class Node:
    """One party: a home folder, and its `node run` process when running."""

    listen_host = "127.0.0.1"

    def __init__(self, root, name):
        self.name = name
        self.home = os.path.join(root, name)
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(root, f"{name}.log")
        self.starts = 0
        self.run_args = []  # more `node run` arguments (e.g. --metrics HOST:PORT)

    def cli(self, *args, check=True, stdin=None, timeout=120):
        proc = subprocess.run([BIN, "--home", self.home, *args], input=stdin, capture_output=True,
                              text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.name}: {args} exited {proc.returncode}: {proc.stderr}{proc.stdout}")
        return proc

    def json(self, *args):
        return json.loads(self.cli("--json", *args).stdout)

    def spawn(self, log):
        """Starts `node run` with its output to log; a subclass may run it elsewhere."""
        return subprocess.Popen([BIN, "--home", self.home, "node", "run", "--listen",
                                 f"{self.listen_host}:{self.port}", *self.run_args],
                                stdout=log, stderr=log)

    def start(self):
        with open(self.log_path, "a") as log:
            self.proc = self.spawn(log)
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

    def link(self, contact):
        """The status of the link to contact (from the control socket), or None."""
        reply = self.control({"op": "status"}) or {}
        for link in reply.get("links", []):
            if link["contact"] == contact:
                return link
        return None

    def control(self, request, timeout=10):
        """One request on the control socket (a dict) and its reply; None when the node is busy,
        restarting or gone."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(timeout)
                s.connect(os.path.join(self.home, "control.sock"))
                s.sendall(json.dumps(request).encode() + b"\n")
                return json.loads(s.makefile().readline())
        except (OSError, ValueError):
            return None

    def channels(self, contact):
        """{channel name: state} of the connected channels of the link to contact, from the
        running node's status ({} when it does not answer: the caller waits and asks again)."""
        reply = self.control({"op": "status"}) or {}
        for link in reply.get("links", []):
            if link["contact"] == contact:
                return {c["channel"]: c["state"] for c in link["channels"] if c["connected"]}
        return {}

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


class WildcardNode(Node):
    """A node listening on 0.0.0.0, which it does not advertise to contacts: its counterpart
    reaches it directly only at an address the test gives (a Proxy's, in the invitation)."""

    listen_host = "0.0.0.0"


# The alarm command of the health tests and benchmark: one line per run, appended to the file
# given as its argument: when it ran (Unix ms, the shell's clock), then every BC_* variable,
# tab-separated key=value fields.
ALARM_SCRIPT = r"""#!/bin/sh
ran_ms=$(date +%s%3N)
printf 'ran_ms=%s\tevent=%s\tlink=%s\tchannel=%s\tchannel_state=%s\tstate=%s\tprevious=%s\ttime=%s\ttime_ms=%s\tcause=%s\n' \
  "$ran_ms" "$BC_EVENT" "$BC_LINK" "$BC_CHANNEL" "$BC_CHANNEL_STATE" "$BC_STATE" "$BC_PREVIOUS_STATE" \
  "$BC_TIME" "$BC_TIME_MS" "$BC_CAUSE" >> "$1"
"""


def write_alarm_script(folder):
    path = os.path.join(folder, "alarm.sh")
    with open(path, "w") as f:
        f.write(ALARM_SCRIPT)
    return path


def now_ms():
    return int(time.time() * 1000)


class AlarmLog:
    """For a Node class: a heartbeat interval and an alarm command (write_alarm_script's) that
    logs to alarm_path; alarms() reads the log."""

    def configure(self, script, heartbeat):
        self.alarm_path = os.path.join(os.path.dirname(self.home), f"alarms-{self.name}.txt")
        command = f"/bin/sh {shlex.quote(script)} {shlex.quote(self.alarm_path)}"
        with open(os.path.join(self.home, "backchannel.toml"), "a") as f:
            f.write(f'[link]\nheartbeat_interval = "{heartbeat}"\n[alarm]\ncommand = {json.dumps(command)}\n')

    def alarms(self):
        """The alarm runs so far (complete lines only), each a dict of the script's fields."""
        try:
            with open(self.alarm_path) as f:
                text = f.read()
        except FileNotFoundError:
            return []
        lines = text.split("\n")[:-1]  # the last piece is empty, or a line still being written
        return [dict(field.split("=", 1) for field in line.split("\t")) for line in lines]


class HealthNode(AlarmLog, WildcardNode):
    """A wildcard node with a heartbeat interval and an alarm command (AlarmLog)."""

    def status(self):
        """`backchannel status --json`: (exit code, parsed JSON or None)."""
        proc = self.cli("status", "--json", check=False, timeout=30)
        try:
            return proc.returncode, json.loads(proc.stdout)
        except ValueError:
            return proc.returncode, None


class Relay:
    """A relay daemon: its own home, `relay run` on a loopback port; SIGKILL and restart."""

    def __init__(self, root, name, settings="[relay]\nopen = true\n"):
        self.name = name
        self.home = os.path.join(root, name)
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(root, f"{name}.log")
        self.run_args = []  # more `relay run` arguments (e.g. --verbose)
        self.run_cli("relay", "init")
        with open(os.path.join(self.home, "relay.toml"), "a") as f:
            f.write(settings)

    def run_cli(self, *args):
        proc = subprocess.run([BIN, "--home", self.home, *args], capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise AssertionError(f"{self.name}: {args} exited {proc.returncode}: {proc.stderr}{proc.stdout}")
        return proc

    def start(self):
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen([BIN, "--home", self.home, "relay", "run", "--listen",
                                          f"127.0.0.1:{self.port}", *self.run_args],
                                         stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name}: relay exited with {self.proc.returncode}; see {self.log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"{self.name}: relay did not start")

    def info(self):
        return json.loads(self.run_cli("--json", "relay", "info").stdout)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class NsNode(Node):
    """A node whose `node run` runs inside a test host's namespace (tests/support/netns.py).
    Commands that only touch the store or the control socket run outside (the home folder is
    on the shared filesystem, the control socket a file in it); cli(..., in_ns=True) runs one
    inside, for those that dial (`relay add`)."""

    def __init__(self, root, name, net, host, listen=None, port=NS_NODE_PORT):
        super().__init__(root, name)
        self.net, self.host = net, host
        self.port = port
        self.listen = listen or f"0.0.0.0:{port}"
        self.advertise = []  # `node run --advertise` arguments

    def cli(self, *args, check=True, stdin=None, timeout=120, in_ns=False):
        cmd = [BIN, "--home", self.home, *args]
        if in_ns:
            cmd = self.net.exec_args(self.host) + cmd
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.name}: {args} exited {proc.returncode}: {proc.stderr}{proc.stdout}")
        return proc

    def spawn(self, log):
        args = [BIN, "--home", self.home, "node", "run", "--listen", self.listen]
        for a in self.advertise:
            args += ["--advertise", a]
        args += self.run_args
        log.write(f"--- start {self.starts + 1} in {self.host.ns}: {' '.join(args[3:])}\n")
        log.flush()
        return self.net.popen(self.host, args, stdout=log, stderr=log)

    def direct_up(self, contact):
        return self.channels(contact).get("direct") == "up"

    def status(self):
        """`backchannel --json status`, run outside the namespace: (exit code, JSON or None)."""
        proc = self.cli("--json", "status", check=False, timeout=30)
        try:
            return proc.returncode, json.loads(proc.stdout)
        except ValueError:
            return proc.returncode, None


class NsRelay(Relay):
    """A relay whose `relay run` listens on 0.0.0.0:port inside a test host's namespace."""

    def __init__(self, root, name, net, host, port=NS_RELAY_PORT):
        super().__init__(root, name)
        self.net, self.host = net, host
        self.port = port

    def start(self):
        with open(self.log_path, "a") as log:
            self.proc = self.net.popen(self.host, [BIN, "--home", self.home, "relay", "run", "--listen",
                                                   f"0.0.0.0:{self.port}"], stdout=log, stderr=log)
        if not self.net.wait_listening(self.host, self.port, 30, self.proc):
            raise AssertionError(f"{self.name}: relay did not start; see {self.log_path}")

    def url(self):
        return f"wss://{self.host.v4}:{self.port}/bc/v1"


def relay_url(relay):
    return f"wss://127.0.0.1:{relay.port}/bc/v1"


def add_relay(node, relay, port=None):
    """The node uses relay (`relay add` with the relay's own fingerprint), at port if given (a
    Proxy's in front of the relay)."""
    url = relay_url(relay) if port is None else f"wss://127.0.0.1:{port}/bc/v1"
    node.cli("relay", "add", relay.name, url, relay.info()["fingerprint"])


class Proxy:
    """A TCP forwarder from a loopback port to target_port that can be cut (its connections
    closed, new ones refused) and restored, or stalled: connections stay open but every byte is
    dropped, a silent cut that only a missing heartbeat reveals. Counts the bytes it forwards."""

    def __init__(self, target_port):
        self.port = free_port()
        self.target = target_port
        self.lock = threading.Lock()
        self.sockets = []
        self.open = True
        self.stalled = False
        self.closed = False
        # Bytes forwarded towards the target and back from it (dropped ones not counted).
        self.bytes_to_target = 0
        self.bytes_from_target = 0
        self.count_lock = threading.Lock()
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", self.port))
        self.server.listen(16)
        self.server.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                if not self.open:
                    client.close()
                    continue
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target), timeout=2)
                except OSError:
                    client.close()
                    continue
                self.sockets += [client, upstream]
            for a, b, towards in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(a, b, towards), daemon=True).start()

    def _pump(self, src, dst, towards_target):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if self.stalled:
                    continue
                dst.sendall(data)
                with self.count_lock:
                    if towards_target:
                        self.bytes_to_target += len(data)
                    else:
                        self.bytes_from_target += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            self.open = False
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # the other end went first: close it all the same
                s.close()
            self.sockets = []

    def restore(self):
        with self.lock:
            self.open = True
            self.stalled = False

    def stall(self):
        """Drops every byte from now on, keeping the connections open. restore() after a stall
        should follow a cut(): the dropped bytes broke the streams."""
        self.stalled = True

    def counted(self):
        """(bytes to the target, bytes from it) forwarded so far."""
        with self.count_lock:
            return self.bytes_to_target, self.bytes_from_target

    def close(self):
        self.cut()
        self.closed = True
        self.server.close()


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




def settle_disk():
    """Flushes what the machine still has to write (the build's outputs, earlier tests' files)
    before a timing measurement: a node's fsync in the measured windows otherwise queues behind
    that writeback, its loop stalls for a few slot intervals, and the stall lands wherever the
    kernel happened to flush. What stalls remain are the nodes' own. The second after the flush
    lets a node that stalled during it send its owed slots before a window opens."""
    os.sync()
    time.sleep(1)


class TempRoot:
    """A scratch folder, with its own link to the binary so a rebuild during a long run cannot
    pull it away from under the test: the linker unlinks its output before writing a new one,
    so the link keeps the old file. A hard link where the folder and the build share a file
    system, else a copy: the dev binary is about 450 MB, and writing it again for every test
    left that much for the disk to flush under the next test's fsyncs."""

    def __init__(self):
        global BIN
        self.path = tempfile.mkdtemp(prefix="bc-int-")
        copy = os.path.join(self.path, "backchannel")
        try:
            os.link(SOURCE_BIN, copy)
        except OSError:
            shutil.copy2(SOURCE_BIN, copy)
        BIN = copy

    def cleanup(self, keep=False):
        if not keep:
            shutil.rmtree(self.path, ignore_errors=True)
