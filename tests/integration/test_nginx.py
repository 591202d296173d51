"""Issue 5: a relay reached through a real nginx from Debian carries a link.

nginx passes the TLS connection through untouched (the `stream` module, `ssl_preread` to read
the SNI without terminating TLS): the TLS certificate's key IS the relay's pinned Ed25519 key,
and the node's TLS client key IS its mailbox owner key, so both ends of the TLS handshake must be
the node and the relay themselves (docs/operations.md, "Running a relay").

The relay listens on a loopback port the nodes never learn: each node `relay add`s it with
nginx's port in the URL (what `relay info` prints, from `public_url`) and the relay's
fingerprint. Both nodes listen on 0.0.0.0, which a node never advertises, so there is no direct
channel: every message goes node -> nginx -> relay -> nginx -> node."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from bc_nodes import TempRoot, free_port, wait_for
from test_relays import Relay, WildcardNode

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)),
                                      None)
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"  # Debian's libnginx-mod-stream

NGINX_CONF = """\
{load_module}
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}

stream {{
    log_format relay '$remote_addr [$time_local] sni="$ssl_preread_server_name" '
                     '$status up=$upstream_addr $bytes_sent/$bytes_received $session_time';
    access_log {prefix}/access.log relay;

    # Route by the name the node dialled, without terminating TLS (nodes send no SNI for an IP
    # literal: the default route).
    map $ssl_preread_server_name $relay_upstream {{
        relay.example.org 127.0.0.1:{relay_port};
        default           127.0.0.1:{relay_port};
    }}

    server {{
        listen 127.0.0.1:{listen_port};
        ssl_preread on;
        proxy_pass $relay_upstream;
        proxy_connect_timeout 5s;
        proxy_timeout 10m;
    }}
}}
"""


class TokenRelay(Relay):
    """A relay that admits only with a token (not open), and whose `relay info` URL is nginx's."""

    def __init__(self, root, name, public_url):
        super().__init__(root, name, settings=f'[relay]\npublic_url = "{public_url}"\n')

    def token(self):
        return json.loads(self.run_cli("--json", "relay", "token", "create").stdout)["token"]


class Nginx:
    """nginx in the foreground as this test's own process, everything under prefix."""

    def __init__(self, root, port, relay_port):
        self.prefix = os.path.join(root, "nginx")
        os.makedirs(self.prefix)
        self.port = port
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(NGINX_CONF.format(
                load_module=f"load_module {STREAM_MODULE};" if os.path.exists(STREAM_MODULE) else "",
                user="user root;" if os.geteuid() == 0 else "",
                prefix=self.prefix, relay_port=relay_port, listen_port=self.port))
        self.proc = None

    def log(self, name):
        try:
            with open(os.path.join(self.prefix, name)) as f:
                return f.read()
        except OSError:
            return ""

    def start(self):
        # -e: the error log before the configuration is read (else Debian's /var/log/nginx).
        args = [NGINX, "-p", self.prefix + "/", "-e", os.path.join(self.prefix, "error.log"), "-c", self.conf]
        check = subprocess.run(args + ["-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise AssertionError(f"nginx -t refused the configuration (is libnginx-mod-stream installed? "
                                 f"scripts/deps installs it): {check.stderr}")
        with open(os.path.join(self.prefix, "stderr.log"), "w") as log:
            # Its own session: its workers can be signalled as one group on teardown.
            self.proc = subprocess.Popen(args + ["-g", "daemon off;"], stdout=log, stderr=log,
                                         start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited with {self.proc.returncode}: {self.log('error.log')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start listening")

    def stop(self):
        if not self.proc:
            return
        pgid = self.proc.pid  # start_new_session: the master leads its own process group
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown; workers follow the master
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.killpg(pgid, signal.SIGKILL)  # any worker left behind
        except OSError:
            pass
        self.proc = None


@unittest.skipIf(NGINX is None, "nginx is not installed (scripts/deps installs nginx and libnginx-mod-stream)")
class RelayBehindNginx(unittest.TestCase):
    def setUp(self):
        self.root = TempRoot()
        self.nodes, self.relay, self.nginx = [], None, None

    def tearDown(self):
        for n in self.nodes:
            n.stop()
        if self.nginx:
            self.nginx.stop()
        if self.relay:
            self.relay.stop()
        self.root.cleanup(keep=os.environ.get("BC_INT_KEEP") == "1")

    def test_link_through_relay_behind_nginx(self):
        nginx_port = free_port()
        self.relay = TokenRelay(self.root.path, "nyrelay", f"wss://127.0.0.1:{nginx_port}/bc/v1")
        self.relay.start()
        self.nginx = Nginx(self.root.path, nginx_port, self.relay.port)
        self.nginx.start()

        info = self.relay.info()
        url, fingerprint = info["url"], info["fingerprint"]
        self.assertEqual(url, f"wss://127.0.0.1:{nginx_port}/bc/v1", "relay info prints the proxied URL")

        a = WildcardNode(self.root.path, "washington")
        b = WildcardNode(self.root.path, "moscow")
        self.nodes += [a, b]
        for n in (a, b):
            n.cli("init", "--name", n.name)
            n.cli("relay", "add", "ny", url, fingerprint, "--token", self.relay.token())
        # A wrong fingerprint is refused through nginx too: TLS reaches the relay's own key.
        wrong = ("0" if fingerprint[0] != "0" else "1") + fingerprint[1:]
        refused = a.cli("relay", "add", "impostor", url, wrong, "--token", self.relay.token(), check=False)
        self.assertNotEqual(refused.returncode, 0, "a fingerprint the relay cannot prove is refused")

        a.start()
        invitation = a.cli("invite").stdout.strip()
        b.cli("contact", "add", invitation)
        b.start()
        wait_for(lambda: any(c["alias"] == "moscow" for c in a.json("contact", "list")), 30, "HELLO accepted")
        wait_for(lambda: a.channels("moscow") == {"relay:ny": "up"}
                 and b.channels("washington") == {"relay:ny": "up"}, 30,
                 "the relay channel (and only it) up on both sides")

        for i in range(10):
            b.cli("send", "--to", "washington", f"to washington {i}")
            a.cli("send", "--to", "moscow", f"to moscow {i}")

        def all_delivered(node, contact):
            out = [e for e in node.json("log", "--with", contact) if e["direction"] == "out"]
            return len(out) == 10 and all(e["state"] == "delivered" for e in out)

        wait_for(lambda: all_delivered(a, "moscow") and all_delivered(b, "washington"), 30,
                 "receipts for everything both sides sent")
        self.assertEqual(sorted(m["body"]["text"] for m in a.json("inbox", "--from", "moscow")),
                         sorted(f"to washington {i}" for i in range(10)))
        self.assertEqual(sorted(m["body"]["text"] for m in b.json("inbox", "--from", "washington")),
                         sorted(f"to moscow {i}" for i in range(10)))
        self.assertNotIn("direct", a.channels("moscow"), "no direct channel: everything went through nginx")

        va = a.json("transcript", "verify", "--with", "moscow")
        vb = b.json("transcript", "verify", "--with", "washington")
        self.assertEqual(va["incoming"]["head"], vb["outgoing"]["head"])
        self.assertEqual(va["outgoing"]["head"], vb["incoming"]["head"])


if __name__ == "__main__":
    unittest.main()
