"""Test hosts in Linux network namespaces, for tests that need several machines (issue 10).

A Network is a "router" namespace and any number of "host" namespaces, each joined to the router
by a veth pair on a subnet of its own. Addresses are test addresses that exist only inside the
namespaces: host i is 10.77.i.2/24 and fd00:77:i::2/64 (ULA), its router side 10.77.i.1 and
fd00:77:i::1, which is the host's default route. A host made with nat=True sits on a private
subnet instead (192.168.i.2/24, fd00:168:i::2/64): the router masquerades (nftables, in the
router namespace) whatever it sends to the other subnets, and drops every new connection towards
it, so no other host can dial it (as behind a home router).

Namespace names carry a per-run prefix (bc<pid>-<n>-), so parallel runs never collide. Network.close()
kills every process inside its namespaces, deletes them and the /etc/netns/<ns> folders it
wrote; register it with addCleanup as soon as the Network exists. A SIGTERM (ctest's timeout)
closes every open Network before the process dies.

Usage:
    ok, reason = netns.available()          # (False, why) without root, iproute2, or namespaces
    net = netns.Network(); self.addCleanup(net.close)
    a = net.add_host("a"); b = net.add_host("b", nat=True)
    net.popen(a, ["prog", "arg"])          # `ip netns exec NS prog arg`, killed at close
    net.set_hosts(b, {"inviter.test": a.v4})  # /etc/hosts as seen by `ip netns exec` in b
    net.change_address(a)                   # a's next address in its subnet; returns (v4, v6)
"""
import atexit
import os
import shutil
import signal
import subprocess
import sys
import time

IP = shutil.which("ip") or "/usr/sbin/ip"
NFT = shutil.which("nft") or next((p for p in ("/usr/sbin/nft", "/sbin/nft") if os.access(p, os.X_OK)), None)
TC = shutil.which("tc") or next((p for p in ("/usr/sbin/tc", "/sbin/tc") if os.access(p, os.X_OK)), None)
NETNS_ETC = "/etc/netns"  # `ip netns exec NS` bind-mounts /etc/netns/NS/FILE over /etc/FILE

_open_networks = []
_counter = 0
_previous_sigterm = None


def _run(args, check=True, timeout=30, **kw):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise RuntimeError(f"netns: {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


_availability = None


def available():
    """(True, "") when this process can make a namespace with a veth pair in it, else (False,
    the reason). Cached."""
    global _availability
    if _availability is not None:
        return _availability
    _availability = _probe()
    return _availability


def _probe():
    if sys.platform != "linux":
        return False, f"not Linux ({sys.platform})"
    if not os.access(IP, os.X_OK):
        return False, "no `ip` command (install iproute2)"
    if os.geteuid() != 0:
        return False, "not root (creating network namespaces needs CAP_SYS_ADMIN)"
    name = f"bc{os.getpid()}-probe"
    made = _run([IP, "netns", "add", name], check=False)
    if made.returncode != 0:
        return False, f"`ip netns add` failed: {made.stderr.strip()}"
    try:
        for args in (["link", "set", "lo", "up"],
                     ["link", "add", "p0", "type", "veth", "peer", "name", "p1"]):
            proc = _run([IP, "-n", name, *args], check=False)
            if proc.returncode != 0:
                return False, f"`ip {' '.join(args)}` in a namespace failed: {proc.stderr.strip()}"
    finally:
        _run([IP, "netns", "del", name], check=False)
    return True, ""


_nat_availability = None


def nat_available():
    """(True, "") when nftables can masquerade in a namespace (the nft command and the kernel's
    NAT), else (False, the reason). Cached."""
    global _nat_availability
    if _nat_availability is not None:
        return _nat_availability
    ok, reason = available()
    if not ok:
        _nat_availability = (ok, reason)
    elif NFT is None:
        _nat_availability = (False, "no `nft` command (install nftables: scripts/deps)")
    else:
        name = f"bc{os.getpid()}-natprobe"
        _run([IP, "netns", "add", name])
        try:
            proc = _run([IP, "netns", "exec", name, NFT, "-f", "-"], check=False,
                        input="table inet probe {\n chain p {\n  type nat hook postrouting priority srcnat\n"
                              "  oifname \"eth0\" masquerade\n }\n}\n")
            _nat_availability = (True, "") if proc.returncode == 0 else \
                (False, f"nft cannot masquerade in a namespace: {proc.stderr.strip()}")
        finally:
            _run([IP, "netns", "del", name], check=False)
    return _nat_availability


class Host:
    """One test host: a namespace with lo and eth0, eth0's addresses and the router's side."""

    def __init__(self, name, ns, index, nat, v4, v6):
        self.name = name
        self.ns = ns
        self.index = index
        self.nat = nat
        self.has_v4, self.has_v6 = v4, v6
        if nat:
            self.net4, self.net6 = f"192.168.{index}", f"fd00:168:{index}:"
        else:
            self.net4, self.net6 = f"10.77.{index}", f"fd00:77:{index}:"
        self.host_part = 2  # the last part of the current address; the router is 1
        self.router_if = f"r-{name}"[:15]

    @property
    def v4(self):
        return f"{self.net4}.{self.host_part}" if self.has_v4 else None

    @property
    def v6(self):
        return f"{self.net6}:{self.host_part:x}" if self.has_v6 else None

    @property
    def gw4(self):
        return f"{self.net4}.1"

    @property
    def gw6(self):
        return f"{self.net6}:1"

    def __repr__(self):
        return f"Host({self.name}, ns={self.ns}, v4={self.v4}, v6={self.v6}, nat={self.nat})"


class Network:
    """A router namespace and the hosts joined to it. close() undoes everything it made, then
    runs the callables in after_close (e.g. removing the test's scratch folder, so a SIGTERM
    leaves nothing behind)."""

    def __init__(self):
        global _counter
        ok, reason = available()
        if not ok:
            raise RuntimeError(f"network namespaces unavailable: {reason}")
        _counter += 1
        self.prefix = f"bc{os.getpid()}-{_counter}-"
        self.namespaces = []  # every namespace made, router first
        self.etc_dirs = []  # /etc/netns/<ns> folders made
        self.made_netns_etc = False
        self.procs = []
        self.hosts = {}
        self.closed = False
        self.after_close = []  # callables run at the end of close() (also on SIGTERM)
        _install_sigterm_handler()
        _open_networks.append(self)
        try:
            self.router = self._make_ns("router")
            self.ns_sh(self.router, "echo 1 > /proc/sys/net/ipv4/ip_forward; "
                                    "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding")
            self.nat_rules = []
        except BaseException:
            self.close()
            raise

    # --- namespaces -------------------------------------------------------------------------

    def _make_ns(self, role):
        ns = self.prefix + role
        _run([IP, "netns", "add", ns])
        self.namespaces.append(ns)
        _run([IP, "-n", ns, "link", "set", "lo", "up"])
        return ns

    def ns_sh(self, ns, script):
        """A shell command inside namespace ns (its /proc/sys/net is the namespace's)."""
        return _run([IP, "netns", "exec", ns, "sh", "-c", script])

    def ip(self, host, *args, check=True):
        """`ip -n NS ARGS...` (host is a Host or a namespace name)."""
        ns = host.ns if isinstance(host, Host) else host
        return _run([IP, "-n", ns, *args], check=check)

    def add_host(self, name, nat=False, v4=True, v6=True):
        """A host namespace joined to the router, with its addresses and default routes; behind
        NAT when nat is True (nftables must be there: nat_available())."""
        if name in self.hosts:
            raise ValueError(f"host {name} exists")
        index = len(self.hosts) + 1
        host = Host(name, self._make_ns(name), index, nat, v4, v6)
        self.hosts[name] = host
        # Made directly in the two namespaces, so the names only need to be unique there.
        _run([IP, "link", "add", "eth0", "netns", host.ns, "type", "veth", "peer", "name", host.router_if,
              "netns", self.router])
        self.ip(host, "link", "set", "eth0", "up")
        self.ip(self.router, "link", "set", host.router_if, "up")
        if v4:
            self.ip(self.router, "addr", "add", f"{host.gw4}/24", "dev", host.router_if)
            self.ip(host, "addr", "add", f"{host.v4}/24", "dev", "eth0")
            self.ip(host, "route", "add", "default", "via", host.gw4)
        if v6:
            # nodad: the address works at once instead of after duplicate address detection.
            self.ip(self.router, "-6", "addr", "add", f"{host.gw6}/64", "dev", host.router_if, "nodad")
            self.ip(host, "-6", "addr", "add", f"{host.v6}/64", "dev", "eth0", "nodad")
            self.ip(host, "-6", "route", "add", "default", "via", host.gw6)
        if nat:
            self._add_nat(host)
        return host

    def _add_nat(self, host):
        ok, reason = nat_available()
        if not ok:
            raise RuntimeError(f"NAT unavailable: {reason}")
        self.nat_rules.append(host)
        # The whole table is rewritten for each NAT host (flush + add in one transaction).
        lines = ["table inet bc_nat", "delete table inet bc_nat", "table inet bc_nat {",
                 "  chain nat_out { type nat hook postrouting priority srcnat; policy accept;"]
        for h in self.nat_rules:
            lines.append(f'    ip saddr {h.net4}.0/24 oifname != "{h.router_if}" masquerade')
            lines.append(f'    ip6 saddr {h.net6}:/64 oifname != "{h.router_if}" masquerade')
        lines.append("  }")
        lines.append("  chain no_inbound { type filter hook forward priority filter; policy accept;")
        lines.append("    ct state established,related accept")
        for h in self.nat_rules:
            lines.append(f'    oifname "{h.router_if}" drop')
        lines.append("  }")
        lines.append("}")
        _run([IP, "netns", "exec", self.router, NFT, "-f", "-"], input="\n".join(lines) + "\n")

    def change_address(self, host):
        """Moves host to the next address of its subnet (old ones deleted, default routes put
        back); returns the new (v4, v6)."""
        old4, old6 = host.v4, host.v6
        host.host_part += 1
        if host.has_v4:
            self.ip(host, "addr", "del", f"{old4}/24", "dev", "eth0")
            self.ip(host, "addr", "add", f"{host.v4}/24", "dev", "eth0")
            self.ip(host, "route", "replace", "default", "via", host.gw4)
        if host.has_v6:
            self.ip(host, "-6", "addr", "del", f"{old6}/64", "dev", "eth0")
            self.ip(host, "-6", "addr", "add", f"{host.v6}/64", "dev", "eth0", "nodad")
            self.ip(host, "-6", "route", "replace", "default", "via", host.gw6)
        return host.v4, host.v6

    # --- running things inside ----------------------------------------------------------

    def exec_args(self, host):
        """The command prefix that runs a program inside host's namespace (and with its
        /etc/netns files bind-mounted over /etc); host is a Host or a namespace name (the
        router's, say)."""
        return [IP, "netns", "exec", host.ns if isinstance(host, Host) else host]

    def run(self, host, args, check=True, timeout=60, **kw):
        return _run(self.exec_args(host) + list(args), check=check, timeout=timeout, **kw)

    def popen(self, host, args, **kw):
        """A process inside host's namespace (`ip netns exec` execs the program, so the Popen's
        pid is the program's). close() kills it if still running."""
        proc = subprocess.Popen(self.exec_args(host) + list(args), **kw)
        self.procs.append(proc)
        return proc

    def can_connect(self, host, address, port, timeout=1.5):
        """True when a TCP connection from host to address:port succeeds within timeout."""
        code = ("import socket,sys\n"
                "try:\n"
                f"    socket.create_connection(({address!r}, {port}), timeout={timeout}).close()\n"
                "except OSError:\n"
                "    sys.exit(1)\n")
        return self.run(host, [sys.executable, "-c", code], check=False, timeout=timeout + 30).returncode == 0

    def listening(self, host, port):
        """True when something in host's namespace listens on TCP port."""
        out = self.run(host, ["ss", "-Hltn", f"sport = :{port}"], check=False).stdout
        return bool(out.strip())

    def wait_listening(self, host, port, timeout=30, proc=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if proc is not None and proc.poll() is not None:
                return False
            if self.listening(host, port):
                return True
            time.sleep(0.1)
        return False

    # --- /etc/hosts per namespace ---------------------------------------------------------

    def set_hosts(self, host, names):
        """Writes /etc/netns/<ns>/hosts: localhost plus names ({name: address}). Rewritten in
        place (same file, truncated) so a process already running inside, whose /etc/hosts is a
        bind mount of it, sees the new entries; the first call must come before such a process
        starts."""
        folder = os.path.join(NETNS_ETC, host.ns)
        if not os.path.isdir(NETNS_ETC):
            os.makedirs(NETNS_ETC)
            self.made_netns_etc = True
        if folder not in self.etc_dirs:
            os.makedirs(folder, exist_ok=True)
            self.etc_dirs.append(folder)
        text = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        text += "".join(f"{address}\t{name}\n" for name, address in names.items())
        with open(os.path.join(folder, "hosts"), "w") as f:  # O_TRUNC: the same inode
            f.write(text)

    # --- teardown -------------------------------------------------------------------------

    def close(self):
        """Kills every process in the namespaces, deletes them and the files made. Idempotent."""
        if self.closed:
            return
        self.closed = True
        errors = []
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    proc.kill()
                    proc.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired) as e:
                    errors.append(f"pid {proc.pid}: {e}")
        for ns in reversed(self.namespaces):
            # Anything else still inside (a child of a test process) was started by this test.
            pids = _run([IP, "netns", "pids", ns], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            proc = _run([IP, "netns", "del", ns], check=False)
            if proc.returncode != 0:
                errors.append(f"ip netns del {ns}: {proc.stderr.strip()}")
        for folder in self.etc_dirs:
            shutil.rmtree(folder, ignore_errors=True)
        if self.made_netns_etc:
            try:
                os.rmdir(NETNS_ETC)
            except OSError:
                pass  # someone else's files arrived meanwhile
        if self in _open_networks:
            _open_networks.remove(self)
        for fn in self.after_close:
            try:
                fn()
            except Exception as e:  # noqa: BLE001 (teardown goes on)
                errors.append(f"{fn}: {e}")
        if errors:
            print("netns: teardown: " + "; ".join(errors), file=sys.stderr)


def close_all():
    for net in list(_open_networks):
        net.close()


atexit.register(close_all)


def _on_sigterm(signum, frame):
    close_all()
    signal.signal(signum, _previous_sigterm if _previous_sigterm is not None else signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_sigterm_handler():
    global _previous_sigterm
    if _previous_sigterm is not None:
        return
    current = signal.getsignal(signal.SIGTERM)
    if current in (signal.SIG_DFL, None):
        _previous_sigterm = signal.SIG_DFL
        signal.signal(signal.SIGTERM, _on_sigterm)
