"""Issue 5's integration tests: links over relays (the New York channel), with real processes.

How the direct channel is cut: both nodes listen on a wildcard address (0.0.0.0:PORT), which a
node never advertises (it says nothing to the counterpart), so neither HELLO nor CONTROL frames
carry a direct address. The inviter's invitation names a TCP proxy in this test instead
(`invite --address 127.0.0.1:PROXY`): the invitee's dial to the proxy is the only direct path.
Cutting the proxy (closing its connections and refusing new ones) cuts the direct channel while
both nodes keep running; re-opening it brings the channel back (the invitee redials).

BC_RELAY_MESSAGES (default 5000, the stream issue 5 asks for) scales the stream; BC_INT_SEED replays."""
import json
import os
import random
import unittest

from bc_nodes import Proxy, Relay, TempRoot, WildcardNode, relay_url, wait_for

PRECEDENCES = ["flash", "immediate", "priority", "routine"]
# Long enough that random ciphertext never contains it by chance.
MARKER = "plaintext-that-only-the-counterpart-may-read"


class RelayChannels(unittest.TestCase):
    def setUp(self):
        self.root = TempRoot()
        self.seed = int(os.environ.get("BC_INT_SEED", random.randrange(1 << 30)))
        print(f"\nBC_INT_SEED={self.seed}")
        self.rng = random.Random(self.seed)
        self.nodes, self.relays, self.proxies = [], [], []

    def tearDown(self):
        for n in self.nodes:
            n.stop()
        for r in self.relays:
            r.stop()
        for p in self.proxies:
            p.close()
        self.root.cleanup(keep=os.environ.get("BC_INT_KEEP") == "1")

    def make_relay(self, name):
        relay = Relay(self.root.path, name)
        relay.start()
        self.relays.append(relay)
        return relay

    def add_relay(self, node, relay):
        fingerprint = relay.info()["fingerprint"]
        node.cli("relay", "add", relay.name, relay_url(relay), fingerprint)

    def make_pair(self, relays, direct):
        """washington (inviter) and moscow; both use every relay; moscow reaches washington
        directly only through a proxy (returned), or not at all."""
        a = WildcardNode(self.root.path, "washington")
        b = WildcardNode(self.root.path, "moscow")
        self.nodes += [a, b]
        for n in (a, b):
            n.cli("init", "--name", n.name)
            for r in relays:
                self.add_relay(n, r)
        a.start()
        proxy = None
        args = ["invite"]
        if direct:
            proxy = Proxy(a.port)
            self.proxies.append(proxy)
            args += ["--address", f"127.0.0.1:{proxy.port}"]
        invitation = a.cli(*args).stdout.strip()
        b.cli("contact", "add", invitation)
        b.start()
        wait_for(lambda: any(c["alias"] == "moscow" for c in a.json("contact", "list")), 30, "HELLO accepted")
        return a, b, proxy

    def check_exactly_once(self, receiver, sender, sent):
        inbox = receiver.json("inbox", "--from", sender.name)
        self.assertEqual(len(inbox), len(sent), "nothing twice, nothing lost")
        self.assertEqual(sorted(m["seq"] for m in inbox), sorted(s for s, _, _ in sent))
        by_seq = {s: (p, label) for s, p, label in sent}
        for m in inbox:
            prec, label = by_seq[m["seq"]]
            self.assertEqual(m["precedence"], prec)
            self.assertEqual(m["body"]["text"], label)
        for prec in PRECEDENCES:
            order = [m["seq"] for m in inbox if m["precedence"] == prec]
            self.assertEqual(order, sorted(order), f"{prec} delivered in send order")

    def check_transcripts(self, a, b):
        va = a.json("transcript", "verify", "--with", b.name)
        vb = b.json("transcript", "verify", "--with", a.name)
        self.assertEqual(va["incoming"]["head"], vb["outgoing"]["head"])
        self.assertEqual(va["outgoing"]["head"], vb["incoming"]["head"])

    def test_link_survives_loss_of_relay_and_direct_channel(self):
        count = int(os.environ.get("BC_RELAY_MESSAGES", "5000"))
        r1, r2 = self.make_relay("relay1"), self.make_relay("relay2")
        a, b, proxy = self.make_pair([r1, r2], direct=True)
        all_three = {"direct": "up", "relay:relay1": "up", "relay:relay2": "up"}
        wait_for(lambda: a.channels("moscow") == all_three and b.channels("washington") == all_three, 60,
                 "direct and both relay channels up on both sides")

        sent = []
        replies = []

        def send_range(lo, hi):
            # Runs of 1-40 messages of one random precedence, each run one `send --each-line`
            # (a message per line, each durable before the next): the stream interleaves the four
            # precedences without a process per message.
            i = lo
            while i < hi:
                n = min(self.rng.randint(1, 40), hi - i)
                prec = self.rng.choice(PRECEDENCES)
                labels = [f"m{j}" for j in range(i, i + n)]
                out = json.loads(b.cli("--json", "send", "--to", "washington", "-p", prec, "--each-line", "-",
                                       stdin="\n".join(labels) + "\n").stdout)
                self.assertEqual(out["count"], n)
                sent.extend((m["seq"], prec, label) for m, label in zip(out["messages"], labels))
                for j in range(i, i + n):
                    if j % 10 == 0:
                        out = json.loads(a.cli("--json", "send", "--to", "moscow", "-p", "routine", f"r{j}").stdout)
                        replies.append((out["seq"], "routine", f"r{j}"))
                i += n

        quarter = max(count // 4, 1)
        send_range(0, quarter)
        # Relay 1 dies and the direct channel is cut: relay 2 alone carries the link.
        r1.kill()
        proxy.cut()
        send_range(quarter, 2 * quarter)
        wait_for(lambda: len(a.json("inbox", "--from", "moscow")) >= 2 * quarter, 300,
                 "messages delivered through relay 2 alone")
        chans = a.channels("moscow")
        self.assertNotIn("direct", chans, "the direct channel is cut")
        self.assertNotEqual(chans.get("relay:relay1"), "up", "relay 1 is dead")
        self.assertEqual(chans.get("relay:relay2"), "up")
        send_range(2 * quarter, 3 * quarter)
        # Both come back while the stream goes on.
        r1.start()
        proxy.restore()
        send_range(3 * quarter, count)
        wait_for(lambda: a.channels("moscow") == all_three and b.channels("washington") == all_three, 120,
                 "all three channels up again")

        wait_for(lambda: len(a.json("inbox", "--from", "moscow")) >= len(sent), 300,
                 f"{len(sent)} messages in washington's inbox")
        wait_for(lambda: len(b.json("inbox", "--from", "washington")) >= len(replies), 120,
                 "replies in moscow's inbox")
        wait_for(lambda: all(e["state"] == "delivered" for e in b.json("log", "--with", "washington")
                             if e["direction"] == "out"), 120, "receipts for everything moscow sent")
        self.check_exactly_once(a, b, sent)
        self.check_exactly_once(b, a, replies)
        self.check_transcripts(a, b)

    def test_relay_restarted_with_stored_envelopes_delivers_them(self):
        count = int(os.environ.get("BC_INT_STORED", "40"))
        r = self.make_relay("relay1")
        a, b, _ = self.make_pair([r], direct=False)
        wait_for(lambda: a.channels("moscow").get("relay:relay1") == "up"
                 and b.channels("washington").get("relay:relay1") == "up", 60, "relay channel up on both sides")
        # washington is away while moscow sends: everything waits in washington's mailbox.
        a.stop()
        sent = []
        for i in range(count):
            prec = self.rng.choice(PRECEDENCES)
            text = f"{MARKER}-{i:04d}"
            out = json.loads(b.cli("--json", "send", "--to", "washington", "-p", prec, text).stdout)
            sent.append((out["seq"], prec, text))
        wait_for(lambda: all(e["state"] != "queued" for e in b.json("log", "--with", "washington")
                             if e["direction"] == "out"), 60, "every message sent into the relay")
        # moscow goes too, so only the relay holds the messages; the relay is SIGKILLed and
        # restarted from its database.
        b.stop()
        r.kill()
        # The relay's database (and its write-ahead log) holds envelopes, never a plaintext.
        for name in ("relay.db", "relay.db-wal"):
            path = os.path.join(r.home, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    self.assertNotIn(MARKER.encode(), f.read(), f"plaintext in the relay's {name}")
        r.start()
        a.start()
        wait_for(lambda: len(a.json("inbox", "--from", "moscow")) >= count, 120,
                 f"{count} stored messages delivered from the restarted relay")
        self.check_exactly_once(a, b, sent)
        b.start()
        wait_for(lambda: all(e["state"] == "delivered" for e in b.json("log", "--with", "washington")
                             if e["direction"] == "out"), 120, "receipts for everything moscow sent")
        self.check_transcripts(a, b)


if __name__ == "__main__":
    unittest.main()
