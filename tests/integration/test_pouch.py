"""Issue 15's pouch test: a link carried by hand, then by the network, through the real binary.

Two homes with no node running and no network: BC_POUCH_MESSAGES messages of mixed precedence
(default 500, split 3:2 between the two directions) and an 8 MiB file cross in 10 bundles each
way, carried by the test, which mistreats the bundles as a courier might: one lost in each
direction, one imported twice, two delivered in the wrong order, one bit-flipped, one expired
before it arrived, one meant for a third party. Every export carries what the link has not had
confirmed yet, so what a lost or refused bundle held comes with a later one. Then: every
message exactly once, per-precedence order, receipts back through the return bundles, both
transcripts verify with equal heads.

Then the network comes up (both nodes run, the invitee learns the inviter's address with
`contact address add`) and a courier round goes on beside it: more messages cross both ways,
still exactly once, and the heads stay equal."""
import hashlib
import json
import os
import random
import time
import unittest

from bc_nodes import Node, TempRoot, wait_for

PRECEDENCES = ["flash", "immediate", "priority", "routine"]
TOTAL = int(os.environ.get("BC_POUCH_MESSAGES", "500"))
ROUNDS = 10
FILE_SIZE = 8 << 20


class Pouch(unittest.TestCase):
    def setUp(self):
        self.root = TempRoot()
        self.a = Node(self.root.path, "washington")
        self.b = Node(self.root.path, "moscow")
        self.c = Node(self.root.path, "beijing")
        for n in (self.a, self.b, self.c):
            n.cli("init", "--name", n.name)
        # b and c are both invitees of a: a bundle a wrote for c is a real bundle, not b's.
        self.b.cli("contact", "add", self.a.cli("invite").stdout.strip())
        self.c.cli("contact", "add", self.a.cli("invite").stdout.strip())
        self.rng = random.Random(int(os.environ.get("BC_POUCH_SEED", "15")))
        self.bundles = 0
        # What each side sent: text -> precedence.
        self.sent = {"moscow": {}, "washington": {}}

    def tearDown(self):
        for n in (self.a, self.b, self.c):
            n.stop()
        self.root.cleanup()

    # -- the courier's work ------------------------------------------------------------------

    def export(self, src, peer, *extra):
        self.bundles += 1
        path = os.path.join(self.root.path, f"{self.bundles:03d}-{src.name}.bundle")
        out = src.json("courier", "export", "--with", peer, "--out", path, *extra)
        return path, out

    def deliver(self, dst, path):
        return dst.json("courier", "import", path)

    def refused(self, dst, path, words):
        proc = dst.cli("--json", "courier", "import", path, check=False)
        self.assertNotEqual(proc.returncode, 0, f"{path} was taken by {dst.name}")
        self.assertIn(words, json.loads(proc.stdout)["error"]["message"])

    def send_batch(self, src, peer, label, count):
        """count texts in a random mix of precedences, through `send - --each-line` (one call per
        precedence, in a random order)."""
        by_prec = {p: [] for p in PRECEDENCES}
        for i in range(count):
            text = f"{src.name} {label} {i}"
            prec = self.rng.choice(PRECEDENCES)
            by_prec[prec].append(text)
            self.sent[src.name][text] = prec
        order = PRECEDENCES[:]
        self.rng.shuffle(order)
        for prec in order:
            if by_prec[prec]:
                src.cli("send", "--with", peer, "-p", prec, "-", "--each-line", stdin="\n".join(by_prec[prec]) + "\n")

    # -- checks ------------------------------------------------------------------------------

    def check_inbox(self, receiver, sender, expect_file):
        inbox = receiver.json("inbox", "--with", sender.name)
        texts = [m["body"]["text"] for m in inbox if m["body"]["kind"] == "text"]
        self.assertEqual(len(texts), len(set(texts)), f"{receiver.name}: a message twice")
        self.assertEqual(set(texts), set(self.sent[sender.name]), f"{receiver.name}: lost or invented messages")
        for m in inbox:
            if m["body"]["kind"] == "text":
                self.assertEqual(m["precedence"], self.sent[sender.name][m["body"]["text"]])
        for prec in PRECEDENCES:
            order = [m["seq"] for m in inbox if m["precedence"] == prec]
            self.assertEqual(order, sorted(order), f"{receiver.name}: {prec} out of order")
        files = [m for m in inbox if m["body"]["kind"] == "file"]
        self.assertEqual(len(files), 1 if expect_file else 0)
        return inbox

    def check_records(self):
        for party, peer in ((self.a, "moscow"), (self.b, "washington")):
            log = party.json("log", "--with", peer)
            states = {e["state"] for e in log if e["direction"] == "out"}
            self.assertEqual(states, {"delivered"}, f"{party.name}: not every message confirmed")
        va = self.a.json("transcript", "verify", "--with", "moscow")
        vb = self.b.json("transcript", "verify", "--with", "washington")
        self.assertEqual(va["outgoing"]["head"], vb["incoming"]["head"])
        self.assertEqual(va["incoming"]["head"], vb["outgoing"]["head"])

    # -- the test ----------------------------------------------------------------------------

    def test_pouch_then_network(self):
        a, b, c = self.a, self.b, self.c
        per_round_b = TOTAL * 3 // 5 // ROUNDS
        per_round_a = TOTAL * 2 // 5 // ROUNDS
        blob = os.urandom(FILE_SIZE)
        blob_path = os.path.join(self.root.path, "report.bin")
        with open(blob_path, "wb") as f:
            f.write(blob)

        # Round 0: b's first bundle holds its HELLO; nothing can go to b before a imports it.
        self.send_batch(b, "washington", "r0", per_round_b)
        path, out = self.export(b, "washington")
        self.assertTrue(out["hello"])
        self.assertTrue(self.deliver(a, path)["new_contact"])
        # c's link to a exists too: a bundle a writes for c.
        path_c, _ = self.export(c, "washington")
        self.deliver(a, path_c)

        held = {}  # bundles the courier carries late: (dst, path)
        fates = {"lost": 0, "twice": 0, "late": 0, "flipped": 0, "expired": 0, "third": 0}
        started = time.monotonic()
        for r in range(1, ROUNDS + 1):
            round_started = time.monotonic()
            self.send_batch(a, "moscow", f"r{r}", per_round_a)
            if r == 3:
                a.cli("send", "--with", "moscow", "-p", "routine", "--file", blob_path)
            if r < ROUNDS:
                self.send_batch(b, "washington", f"r{r}", per_round_b)
            for src, dst, peer in ((a, b, "moscow"), (b, a, "washington")):
                if r == 6 and src is a:
                    # Expired before it arrived; its content comes with the next one.
                    path, _ = self.export(src, peer, "--expires", "1s")
                    time.sleep(1.5)
                    self.refused(dst, path, "expired")
                    fates["expired"] += 1
                    continue
                path, out = self.export(src, peer)
                if r == 2 or (r == 7 and src is b):
                    fates["lost"] += 1  # the courier lost it
                elif r == 4:
                    held[src.name] = (dst, path)  # overtaken by round 5's
                    fates["late"] += 1
                elif r == 5:
                    self.deliver(dst, path)
                    self.deliver(*held.pop(src.name))  # older, carried late: changes nothing new
                elif r == 8 and src is b:
                    with open(path, "rb") as f:
                        raw = bytearray(f.read())
                    raw[len(raw) // 2] ^= 0x04
                    bad = path + ".flipped"
                    with open(bad, "wb") as f:
                        f.write(raw)
                    self.refused(dst, bad, "damaged or altered")
                    fates["flipped"] += 1
                    self.deliver(dst, path)
                elif r == 9 and src is a:
                    self.deliver(dst, path)
                    self.refused(dst, path, "imported already")
                    fates["twice"] += 1
                else:
                    self.deliver(dst, path)
            if r == 3:
                # A bundle a wrote for beijing, handed to moscow by mistake.
                a.cli("send", "--with", "beijing", "for beijing only")
                path, _ = self.export(a, "beijing")
                self.refused(b, path, "not for this home")
                fates["third"] += 1
            print(f"round {r}: {time.monotonic() - round_started:.1f} s", flush=True)
        # Return bundles until both sides have everything confirmed (receipts ride back).
        for _ in range(3):
            for src, dst, peer in ((a, b, "moscow"), (b, a, "washington")):
                path, _ = self.export(src, peer)
                self.deliver(dst, path)
        pouch_s = time.monotonic() - started
        print(f"\npouch: {self.bundles} bundles in {pouch_s:.1f} s; fates {fates}")

        self.check_inbox(a, b, expect_file=False)
        self.check_inbox(b, a, expect_file=True)
        save = os.path.join(self.root.path, "saved")
        b.cli("inbox", "--with", "washington", "--save", save)
        with open(os.path.join(save, "report.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(blob).hexdigest())
        self.check_records()

        # The network comes up: both nodes run; b learns where a listens.
        b.cli("contact", "address", "add", "washington", f"127.0.0.1:{a.port}")
        a.start()
        b.start()
        wait_for(lambda: "direct" in a.channels("moscow"), 60, "the direct channel")
        self.send_batch(a, "moscow", "net", 40)
        self.send_batch(b, "washington", "net", 40)
        # A courier round beside the network: whatever it carries, the network has or will.
        path, _ = self.export(b, "washington")
        self.deliver(a, path)
        self.send_batch(b, "washington", "net2", 20)
        wait_for(lambda: len(a.json("inbox", "--with", "moscow")) == len(self.sent["moscow"]), 120,
                 "moscow's messages at washington")
        wait_for(lambda: len(b.json("inbox", "--with", "washington")) == len(self.sent["washington"]) + 1, 120,
                 "washington's messages at moscow")
        wait_for(lambda: all(e["state"] == "delivered" for party, peer in ((a, "moscow"), (b, "washington"))
                             for e in party.json("log", "--with", peer) if e["direction"] == "out"), 120,
                 "receipts for everything")
        self.check_inbox(a, b, expect_file=False)
        self.check_inbox(b, a, expect_file=True)
        self.check_records()


if __name__ == "__main__":
    unittest.main()
