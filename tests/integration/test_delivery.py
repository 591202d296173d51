"""Issue 4's integration test: two real nodes on loopback; 1,000 messages of mixed precedence
and an 8 MiB file; sender and receiver SIGKILLed at random moments 20 times and restarted.
Every message must arrive exactly once, in send order within its precedence, the file intact,
and both transcripts must verify with equal heads.

BC_DELIVERY_MESSAGES (default 1000) and BC_DELIVERY_KILLS (default 20) scale it; BC_INT_SEED replays."""
import hashlib
import json
import os
import random
import threading
import time
import unittest

from bc_nodes import TempRoot, make_pair, wait_for

PRECEDENCES = ["flash", "immediate", "priority", "routine"]


class DeliveryUnderCrashes(unittest.TestCase):
    def setUp(self):
        self.root = TempRoot()
        self.seed = int(os.environ.get("BC_INT_SEED", random.randrange(1 << 30)))
        print(f"\nBC_INT_SEED={self.seed}")
        self.rng = random.Random(self.seed)

    def tearDown(self):
        for n in getattr(self, "nodes", []):
            n.stop()
        self.root.cleanup(keep=os.environ.get("BC_INT_KEEP") == "1")

    def test_exactly_once_in_order_across_kills(self):
        count = int(os.environ.get("BC_DELIVERY_MESSAGES", "1000"))
        kills = int(os.environ.get("BC_DELIVERY_KILLS", "20"))
        receiver, sender = make_pair(self.root.path)
        self.nodes = [receiver, sender]

        big = os.path.join(self.root.path, "report.bin")
        with open(big, "wb") as f:
            f.write(random.Random(self.seed).randbytes(8 << 20))
        with open(big, "rb") as f:
            big_hash = hashlib.sha256(f.read()).hexdigest()

        # The messages and where the file goes; each text names its index and precedence.
        plan = [("text", self.rng.choice(PRECEDENCES), f"m{i}") for i in range(count)]
        plan.insert(count // 3, ("file", "routine", big))
        replies = [("text", self.rng.choice(PRECEDENCES), f"r{i}") for i in range(20)]

        stop_killing = threading.Event()
        kill_log = []

        def killer():
            for k in range(kills):
                if stop_killing.wait(self.rng.uniform(0.5, 3.0)):
                    return
                victim = self.rng.choice([receiver, sender])
                victim.kill()
                kill_log.append(victim.name)
                time.sleep(self.rng.uniform(0.0, 0.5))
                victim.start()

        k = threading.Thread(target=killer)
        k.start()
        try:
            sent = []  # (seq, precedence, label) as `send` reported them
            for kind, prec, what in plan:
                args = ["--json", "send", "--to", "washington", "-p", prec]
                args += ["--file", what] if kind == "file" else [what]
                out = json.loads(sender.cli(*args).stdout)
                sent.append((out["seq"], prec, os.path.basename(what)))
            for kind, prec, what in replies:
                receiver.cli("send", "--to", "moscow", "-p", prec, what)
            k.join()
        finally:
            stop_killing.set()
            k.join()
        print(f"kills: {len(kill_log)} ({', '.join(kill_log)})")
        self.assertEqual(len(kill_log), kills)

        total = len(plan)
        wait_for(lambda: len(receiver.json("inbox", "--from", "moscow")) >= total, 600,
                 f"{total} messages in washington's inbox")
        wait_for(lambda: len(sender.json("inbox", "--from", "washington")) >= len(replies), 120,
                 "replies in moscow's inbox")
        wait_for(lambda: all(e["state"] == "delivered" for e in sender.json("log", "--with", "washington")
                             if e["direction"] == "out"), 120, "receipts for everything moscow sent")

        inbox = receiver.json("inbox", "--from", "moscow")
        self.assertEqual(len(inbox), total, "nothing twice, nothing lost")
        seqs = [m["seq"] for m in inbox]
        self.assertEqual(sorted(seqs), [s for s, _, _ in sent])
        by_seq = {s: (p, label) for s, p, label in sent}
        for m in inbox:
            prec, label = by_seq[m["seq"]]
            self.assertEqual(m["precedence"], prec)
            body = m["body"]
            if body["kind"] == "file":
                self.assertEqual(body["file_name"], label)
                self.assertEqual(body["size"], 8 << 20)
            else:
                self.assertEqual(body["text"], label)
        for prec in PRECEDENCES:
            order = [m["seq"] for m in inbox if m["precedence"] == prec]
            self.assertEqual(order, sorted(order), f"{prec} delivered in send order")

        save = os.path.join(self.root.path, "saved")
        os.mkdir(save)
        receiver.cli("inbox", "--from", "moscow", "--save", save)
        with open(os.path.join(save, "report.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), big_hash)

        # Both transcripts verify, and each side's outgoing head equals the other's incoming.
        va = receiver.json("transcript", "verify", "--with", "moscow")
        vb = sender.json("transcript", "verify", "--with", "washington")
        self.assertEqual(va["incoming"]["head"], vb["outgoing"]["head"])
        self.assertEqual(va["outgoing"]["head"], vb["incoming"]["head"])


if __name__ == "__main__":
    unittest.main()
