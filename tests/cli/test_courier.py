"""courier export|import through the real binary: two homes, no node and no network at all;
refusals leave the store unchanged; an import killed with SIGKILL is all or nothing."""
import hashlib
import json
import os
import pty
import random
import shutil
import signal
import sqlite3
import subprocess
import time

from bc_cli import BIN, CliTestCase, RunsNodes, free_port, wait_for


def store_dump(party):
    """The store's content as SQL (the same content gives the same dump)."""
    con = sqlite3.connect(os.path.join(party.home, "store.db"))
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


def query(party, sql, *args):
    con = sqlite3.connect(os.path.join(party.home, "store.db"))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


class CourierBase(CliTestCase):
    def pair(self):
        a = self.party("washington")
        b = self.party("moscow")
        # b is the invitee: its HELLO goes in its first bundle.
        b.run("contact", "add", a.run("invite").stdout.strip())
        return a, b

    def carry(self, src, dst, peer, name, *extra):
        path = os.path.join(self.root, name)
        exported = src.json("courier", "export", "--with", peer, "--out", path, *extra)
        imported = dst.json("courier", "import", path)
        return path, exported, imported

    def log(self, party, peer):
        return party.json("log", "--with", peer)


class CourierWithoutNetwork(CourierBase):
    def test_link_by_hand_both_ways(self):
        a, b = self.pair()
        for i, p in enumerate(["routine", "flash", "priority", "routine", "immediate"]):
            b.run("send", "--with", "washington", "-p", p, f"from moscow {i}")
        path, out, inc = self.carry(b, a, "washington", "b1.bundle")
        self.assertTrue(out["hello"])
        self.assertEqual(out["size"], 64 * 1024)
        self.assertEqual(os.path.getsize(path), 64 * 1024)
        self.assertEqual(out["messages"], 5)
        self.assertFalse(out["node_running"])
        self.assertTrue(inc["new_contact"])
        self.assertEqual(inc["contact"], "moscow")
        self.assertEqual(inc["delivered"], 5)
        # Nothing in clear but magic and version: no names, no keys.
        with open(path, "rb") as f:
            raw = f.read()
        self.assertEqual(raw[:9], b"bcbundle\x01")
        for secret in (b"moscow", b"washington", b"from moscow"):
            self.assertNotIn(secret, raw)

        blob = os.urandom(150_000)
        with open(os.path.join(self.root, "report.bin"), "wb") as f:
            f.write(blob)
        a.run("send", "--with", "moscow", "reply 1")
        a.run("send", "--with", "moscow", "-p", "flash", "reply 2")
        a.run("send", "--with", "moscow", "--file", os.path.join(self.root, "report.bin"))
        _, out, inc = self.carry(a, b, "moscow", "a1.bundle")
        self.assertFalse(out["hello"])
        self.assertGreaterEqual(out["receipts"], 1)
        self.assertEqual(inc["delivered"], 3)
        self.assertEqual(inc["confirmed"], 5, "a's receipts confirm b's five messages")

        # The return bundle carries b's ACK and receipts.
        _, out, inc = self.carry(b, a, "washington", "b2.bundle")
        self.assertEqual(inc["confirmed"], 3)

        for party, peer, n_out, n_in in ((a, "moscow", 3, 5), (b, "washington", 5, 3)):
            log = self.log(party, peer)
            self.assertEqual(sorted(e["state"] for e in log if e["direction"] == "out"), ["delivered"] * n_out)
            self.assertEqual(len([e for e in log if e["direction"] == "in"]), n_in)
        saved = os.path.join(self.root, "saved")
        b.run("inbox", "--with", "washington", "--save", saved)
        with open(os.path.join(saved, "report.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(blob).hexdigest())

        va = a.json("transcript", "verify", "--with", "moscow")
        vb = b.json("transcript", "verify", "--with", "washington")
        self.assertEqual(va["outgoing"]["head"], vb["incoming"]["head"])
        self.assertEqual(va["incoming"]["head"], vb["outgoing"]["head"])
        self.assertEqual(va["outgoing"]["peer_signed_up_to"], 3)
        self.assertEqual(vb["outgoing"]["peer_signed_up_to"], 5)

    def test_pad_to_and_max_size(self):
        a, b = self.pair()
        b.run("send", "--with", "washington", "hello")
        path, out, _ = self.carry(b, a, "washington", "p.bundle", "--pad-to", "256KiB")
        self.assertEqual(os.path.getsize(path), 256 * 1024)
        self.assertEqual(out["size"], 256 * 1024)
        # A message larger than --max-size: the bundle says what is left; one that holds it
        # delivers it. (With the node stopped the sender keeps no ACK state between commands: a
        # message crosses in one bundle; see docs/operations.md.)
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(os.urandom(200_000))
        a.run("send", "--with", "moscow", "--file", os.path.join(self.root, "big.bin"))
        _, out, inc = self.carry(a, b, "moscow", "small.bundle", "--max-size", "64KiB")
        self.assertEqual(out["size"], 64 * 1024)
        self.assertGreater(out["chunks_left"], 0)
        self.assertEqual(inc["delivered"], 0)
        _, out, inc = self.carry(a, b, "moscow", "whole.bundle", "--max-size", "1MiB")
        self.assertEqual(out["chunks_left"], 0)
        self.assertEqual(out["size"], 256 * 1024)
        self.assertEqual(inc["delivered"], 1)
        self.assertEqual(query(b, "SELECT count(*) FROM inbox")[0][0], 1)


class CourierProgress(CourierBase):
    """Long courier work reports progress on stderr: with --progress, or when stderr is a terminal;
    never on stdout (--json stays one document) and not at all otherwise."""

    def test_progress_on_stderr_only(self):
        a, b = self.pair()
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(os.urandom(1_000_000))  # about 500 envelopes
        b.run("send", "--with", "washington", "--file", os.path.join(self.root, "big.bin"))
        path = os.path.join(self.root, "b1.bundle")
        proc = b.run("--json", "courier", "export", "--with", "washington", "--out", path, "--progress")
        out = json.loads(proc.stdout)  # nothing but the document
        self.assertGreater(out["envelopes"], 400)
        lines = proc.stderr.splitlines()
        self.assertIn(f"courier export: sealing 1/{out['envelopes']} (0%)", lines)
        self.assertIn(f"courier export: sealing {out['envelopes']}/{out['envelopes']} (100%)", lines)
        self.assertEqual(lines[-2:], ["courier export: encrypting done", "courier export: writing done"])
        proc = a.run("--json", "courier", "import", path, "--progress")
        inc = json.loads(proc.stdout)
        self.assertEqual(inc["delivered"], 1)
        lines = proc.stderr.splitlines()
        self.assertEqual(lines[:2], ["courier import: reading done", "courier import: opening done"])
        n = inc["envelopes"]
        self.assertEqual([l for l in lines if "applying" in l],
                         [f"courier import: applying {k}/{n} ({k * 100 // n}%)"
                          for k in (1, (n + 3) // 4, (n + 1) // 2, (3 * n + 3) // 4, n)])
        # Not asked for, and stderr no terminal: silent.
        a.run("send", "--with", "moscow", "ok")
        path2 = os.path.join(self.root, "a1.bundle")
        proc = a.run("courier", "export", "--with", "moscow", "--out", path2)
        self.assertEqual(proc.stderr, "")
        self.assertEqual(b.run("courier", "import", path2).stderr, "")

    def test_a_terminal_gets_one_redrawn_line(self):
        a, b = self.pair()
        b.run("send", "--with", "washington", "over the counter")
        path = os.path.join(self.root, "b1.bundle")
        b.run("courier", "export", "--with", "washington", "--out", path)
        master, slave = pty.openpty()
        try:
            proc = subprocess.run([BIN, "--home", a.home, "--json", "courier", "import", path], stdout=subprocess.PIPE,
                                  stderr=slave, timeout=60)
            os.close(slave)
            slave = None
            err = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the terminal's other end is closed and drained
                    break
                if not chunk:
                    break
                err += chunk
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(json.loads(proc.stdout)["delivered"], 1)
        text = err.decode()
        self.assertIn("\rcourier import: applying", text)
        self.assertTrue(text.endswith("\r\n") or text.endswith("\n"), repr(text))
        self.assertEqual(text.count("\n"), 1, repr(text))


class CourierSplit(CourierBase):
    """--max-size with --out a folder or a {n} pattern splits a backlog over several bundles, each
    importable on its own and in any order; with both nodes stopped."""

    def test_large_file_in_shuffled_parts(self):
        a, b = self.pair()
        blob = os.urandom(600_000)  # about 300 envelopes; a 128 KiB bundle holds 62 and the HELLO
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(blob)
        b.run("send", "--with", "washington", "--file", os.path.join(self.root, "big.bin"))
        b.run("send", "--with", "washington", "-p", "flash", "behind the file")
        out_dir = os.path.join(self.root, "parts")
        os.mkdir(out_dir)
        out = b.json("courier", "export", "--with", "washington", "--out", out_dir, "--max-size", "128KiB")
        parts = [p["file"] for p in out["bundles"]]
        self.assertGreaterEqual(len(parts), 5)
        self.assertEqual(sorted(parts), sorted(os.path.join(out_dir, n) for n in os.listdir(out_dir)))
        self.assertEqual(out["chunks_left"], 0)
        self.assertEqual(out["messages"], 2)
        for p in parts:
            self.assertLessEqual(os.path.getsize(p), 128 * 1024)
        order = list(reversed(parts))  # the last part first: the farthest from the chain's start
        random.Random(15).shuffle(order[1:])
        delivered = 0
        for i, p in enumerate(order):
            inc = a.json("courier", "import", p)
            self.assertEqual(inc["new_contact"], i == 0, "every part carries the HELLO; the first one used pins")
            self.assertEqual(inc["duplicates"], 0, f"part {p}: every envelope opens")
            delivered += inc["delivered"]
            if i < len(order) - 1:
                self.assertLess(delivered, 2, "the file waits for its last chunk")
        self.assertEqual(delivered, 2)
        saved = os.path.join(self.root, "saved")
        a.run("inbox", "--with", "moscow", "--save", saved)
        with open(os.path.join(saved, "big.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(blob).digest())
        # A part again changes nothing.
        proc = a.run("courier", "import", parts[0], check=False)
        self.assertEqual(proc.returncode, 5)
        self.assertIn("imported already", proc.stderr)

        # A {n} pattern; the receipts go back and confirm both messages.
        pattern = os.path.join(self.root, "back-{n}.bundle")
        text = a.run("courier", "export", "--with", "moscow", "--out", pattern, "--max-size", "64KiB").stdout
        back = os.path.join(self.root, "back-1.bundle")
        self.assertTrue(os.path.exists(back), text)
        self.assertEqual(b.json("courier", "import", back)["confirmed"], 2)
        # A name taken refuses the whole export before anything is written.
        a.run("send", "--with", "moscow", "one more")
        proc = a.run("courier", "export", "--with", "moscow", "--out", pattern, check=False)
        self.assertEqual(proc.returncode, 5, proc.stderr)
        self.assertIn("exists already", proc.stderr)


    def test_message_over_one_export_crosses_in_rounds(self):
        """A split export carries at most 900 envelopes (node/courier.h kMaxSplitEnvelopes). A
        larger message crosses in rounds, both nodes stopped: the return bundle's ACK is kept by
        the sender, and its next export carries the chunks after it, not the first ones again."""
        a, b = self.pair()
        blob = os.urandom(1_900_000)  # 1,061 chunks of 1,792 bytes: two rounds
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(blob)
        b.run("send", "--with", "washington", "--file", os.path.join(self.root, "big.bin"))

        def export_parts(round_no):
            out_dir = os.path.join(self.root, f"round{round_no}")
            os.mkdir(out_dir)
            out = b.json("courier", "export", "--with", "washington", "--out", out_dir, "--max-size", "1MiB")
            return out, [p["file"] for p in out["bundles"]]

        out, parts = export_parts(1)
        self.assertEqual(out["envelopes"], 900, out)
        self.assertGreater(out["chunks_left"], 100)
        for p in parts:
            self.assertEqual(a.json("courier", "import", p)["delivered"], 0, "the file waits for its last chunk")
        back = os.path.join(self.root, "ack1.bundle")
        a.json("courier", "export", "--with", "moscow", "--out", back)
        b.json("courier", "import", back)

        out, parts = export_parts(2)
        self.assertEqual(out["chunks_left"], 0, out)
        self.assertLess(out["envelopes"], 900 - 100, "the second round carries only what the first did not")
        delivered = sum(a.json("courier", "import", p)["delivered"] for p in parts)
        self.assertEqual(delivered, 1)
        saved = os.path.join(self.root, "saved")
        a.run("inbox", "--with", "moscow", "--save", saved)
        with open(os.path.join(saved, "big.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(blob).digest())
        back = os.path.join(self.root, "ack2.bundle")
        a.json("courier", "export", "--with", "moscow", "--out", back)
        self.assertEqual(b.json("courier", "import", back)["confirmed"], 1)


class CourierRefusals(CourierBase):
    def setUp(self):
        super().setUp()
        self.a, self.b = self.pair()
        self.b.run("send", "--with", "washington", "first")
        self.carry(self.b, self.a, "washington", "hello.bundle")
        self.a.run("send", "--with", "moscow", "to moscow")
        self.bundle = os.path.join(self.root, "a1.bundle")
        self.a.json("courier", "export", "--with", "moscow", "--out", self.bundle)

    def refused(self, party, path, code, words):
        before = store_dump(party)
        proc = party.run("--json", "courier", "import", path, check=False)
        self.assertEqual(proc.returncode, code, proc.stdout + proc.stderr)
        import json
        err = json.loads(proc.stdout)["error"]
        self.assertIn(words, err["message"])
        self.assertEqual(store_dump(party), before, "a refused bundle changed the store")
        return err

    def test_wrong_home(self):
        c = self.party("beijing")
        self.refused(c, self.bundle, 5, "not for this home")
        # The sender itself cannot read what it sealed for moscow either.
        self.refused(self.a, self.bundle, 5, "not for this home")

    def test_double_import(self):
        self.b.json("courier", "import", self.bundle)
        self.refused(self.b, self.bundle, 5, "imported already")

    def test_tampered_truncated_and_garbage(self):
        with open(self.bundle, "rb") as f:
            raw = bytearray(f.read())
        cases = {}
        body = bytearray(raw)
        body[len(body) - 1000] ^= 0x01
        cases["body"] = (bytes(body), 3, "damaged or altered")
        head = bytearray(raw)
        head[60] ^= 0x80
        cases["header"] = (bytes(head), 5, "not for this home")
        # A byte short is a body that does not authenticate; below 4 KiB (the paper bucket) not a bundle.
        cases["truncated"] = (bytes(raw[:-1]), 3, "damaged or altered")
        cases["stub"] = (bytes(raw[:4095]), 3, "not a courier bundle")
        cases["magic"] = (b"XXXXXXXX" + bytes(raw[8:]), 3, "not a courier bundle")
        cases["version"] = (bytes(raw[:8]) + b"\x02" + bytes(raw[9:]), 3, "version 2")
        for name, (data, code, words) in cases.items():
            with self.subTest(name):
                path = os.path.join(self.root, f"bad-{name}.bundle")
                with open(path, "wb") as f:
                    f.write(data)
                self.refused(self.b, path, code, words)
        # The intact bundle still imports afterwards.
        self.assertEqual(self.b.json("courier", "import", self.bundle)["delivered"], 1)

    def test_expired(self):
        path = os.path.join(self.root, "short.bundle")
        self.a.json("courier", "export", "--with", "moscow", "--out", path, "--expires", "1s")
        time.sleep(1.5)
        self.refused(self.b, path, 3, "expired")

    def test_export_refusals(self):
        proc = self.a.run("courier", "export", "--with", "moscow", "--out", self.bundle, check=False)
        self.assertEqual(proc.returncode, 5)
        self.assertIn("exists already", proc.stderr)
        proc = self.a.run("courier", "export", "--with", "nobody", "--out", "x", check=False)
        self.assertEqual(proc.returncode, 4)
        proc = self.a.run("courier", "export", "--with", "moscow", "--out", "y", "--max-size", "1KiB", check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("at least 64 KiB", proc.stderr)
        proc = self.a.run("courier", "export", "--with", "moscow", "--out", "y", "--max-size", "lots", check=False)
        self.assertEqual(proc.returncode, 3)


class CourierKilled(CourierBase):
    """SIGKILL of a real import process at random points: afterwards the bundle is either wholly
    in the store (its id in the seen-set, every message delivered) or not at all."""

    def test_sigkill_during_import(self):
        a, b = self.pair()
        b.run("send", "--with", "washington", "hello")
        self.carry(b, a, "washington", "hello.bundle")
        # Enough envelopes that an import takes a while.
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(os.urandom(3 * 1024 * 1024))
        for i in range(20):
            a.run("send", "--with", "moscow", f"text {i}")
        a.run("send", "--with", "moscow", "--file", os.path.join(self.root, "big.bin"))
        bundle = os.path.join(self.root, "big.bundle")
        exported = a.json("courier", "export", "--with", "moscow", "--out", bundle)
        pristine = os.path.join(self.root, "pristine")
        shutil.copytree(b.home, pristine)
        bundle_id = bytes.fromhex(exported["id"])

        t0 = time.time()
        b.run("courier", "import", bundle)
        full = time.time() - t0
        self.assertEqual(query(b, "SELECT count(*) FROM inbox")[0][0], 21)

        rng = random.Random(int(os.environ.get("BC_COURIER_SEED", "15")))
        outcomes = {"none": 0, "all": 0}
        for attempt in range(int(os.environ.get("BC_COURIER_KILLS", "8"))):
            shutil.rmtree(b.home)
            shutil.copytree(pristine, b.home)
            proc = subprocess.Popen([BIN, "--home", b.home, "courier", "import", bundle],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, full))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            seen = query(b, "SELECT count(*) FROM courier_bundles WHERE bundle_id = ? AND direction = 'in'", bundle_id)[0][0]
            inbox = query(b, "SELECT count(*) FROM inbox")[0][0]
            if seen:
                self.assertEqual(inbox, 21, f"attempt {attempt}: bundle marked seen but {inbox} of 21 delivered")
                outcomes["all"] += 1
            else:
                self.assertEqual(inbox, 0, f"attempt {attempt}: bundle not seen but {inbox} of 21 delivered")
                outcomes["none"] += 1
                # Nothing of it is in the store: a second import takes it whole.
                self.assertEqual(b.json("courier", "import", bundle)["delivered"], 21)
            self.assertEqual(query(b, "SELECT count(*) FROM inbox")[0][0], 21)
        print(f"\nimport of {exported['envelopes']} envelopes took {full:.2f}s; killed: {outcomes}")

    def test_sigkill_during_export(self):
        a, b = self.pair()
        b.run("send", "--with", "washington", "hello")
        self.carry(b, a, "washington", "hello.bundle")
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(os.urandom(2 * 1024 * 1024))
        a.run("send", "--with", "moscow", "--file", os.path.join(self.root, "big.bin"))
        rng = random.Random(16)
        for attempt in range(5):
            path = os.path.join(self.root, f"k{attempt}.bundle")
            proc = subprocess.Popen([BIN, "--home", a.home, "courier", "export", "--with", "moscow", "--out", path],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 1.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            # Either no bundle under that name, or a whole one.
            if os.path.exists(path):
                self.assertIn(os.path.getsize(path), (2 ** k for k in range(16, 29)))
        path = os.path.join(self.root, "final.bundle")
        a.json("courier", "export", "--with", "moscow", "--out", path)
        self.assertEqual(b.json("courier", "import", path)["delivered"], 1)


class CourierWithNode(RunsNodes, CourierBase):
    """One home runs its node: its courier commands go through the node (one writer drives the
    Link), mixed with the other home's node-less commands, and the bundle's HELLO is accepted by
    the running node."""

    def test_running_node_takes_bundles(self):
        a, b = self.pair()
        b.run("send", "--with", "washington", "-p", "flash", "by hand")
        self.start_node(a)
        path = os.path.join(self.root, "b1.bundle")
        b.json("courier", "export", "--with", "washington", "--out", path)
        inc = a.json("courier", "import", path)
        self.assertTrue(inc["node_running"])
        self.assertEqual(inc["contact"], "moscow")
        self.assertEqual(inc["applied"], 1)
        a.run("send", "--with", "moscow", "answer")
        # The node's status counts the bundle in and names the courier channel.
        import json
        st = json.loads(a.run("--json", "status", check=False).stdout)  # exit 2: no channel up
        link = [l for l in st["links"] if l["contact"] == "moscow"][0]
        self.assertEqual(link["courier"]["bundles_in"], 1)
        self.assertIn("courier", [c["channel"] for c in link["channels"]])
        out_path = os.path.join(self.root, "a1.bundle")
        out = a.json("courier", "export", "--with", "moscow", "--out", out_path)
        self.assertTrue(out["node_running"])
        self.assertEqual(out["messages"], 1)
        inc = b.json("courier", "import", out_path)
        self.assertEqual((inc["delivered"], inc["confirmed"]), (1, 1))
        self.assertFalse(inc["node_running"])
        # The node refuses a second import of the same bundle too.
        proc = a.run("courier", "import", path, check=False)
        self.assertEqual(proc.returncode, 5)
        self.assertIn("imported already", proc.stderr)
        path2 = os.path.join(self.root, "b2.bundle")
        b.json("courier", "export", "--with", "washington", "--out", path2)
        self.assertEqual(a.json("courier", "import", path2)["applied"], 1)
        log = a.json("log", "--with", "moscow")
        self.assertEqual([e["state"] for e in log if e["direction"] == "out"], ["delivered"])
        va = a.json("transcript", "verify", "--with", "moscow")
        vb = b.json("transcript", "verify", "--with", "washington")
        self.assertEqual(va["outgoing"]["head"], vb["incoming"]["head"])
        self.assertEqual(va["incoming"]["head"], vb["outgoing"]["head"])


class CourierLogChannels(RunsNodes, CourierBase):
    """`log` names the channel that delivered each message, and the one each receipt came on."""

    def test_courier_then_direct(self):
        a, b = self.pair()
        b.run("send", "--with", "washington", "-p", "flash", "by hand")
        self.carry(b, a, "washington", "b1.bundle")
        a.run("send", "--with", "moscow", "by hand too")
        self.carry(a, b, "moscow", "a1.bundle")
        self.carry(b, a, "washington", "b2.bundle")  # b's receipt for a's message
        [inc] = [e for e in self.log(a, "moscow") if e["direction"] == "in"]
        self.assertEqual(inc["channel"], "courier")
        [out] = [e for e in self.log(a, "moscow") if e["direction"] == "out"]
        self.assertEqual((out["state"], out["receipt_channel"]), ("delivered", "courier"))
        human = a.run("log", "--with", "moscow").stdout
        self.assertIn("FLASH  delivered via courier  by hand", human)
        self.assertRegex(human, r"ROUTINE  delivered \(receipt [^)]* via courier\)  by hand too")

        # The network comes up: the next message arrives on the direct channel.
        port = free_port()
        b.run("contact", "address", "add", "washington", f"127.0.0.1:{port}")
        self.start_node(a, port)
        self.start_node(b)
        a.run("send", "--with", "moscow", "over the wire")

        def wired():
            return [e for e in self.log(b, "washington") if e["direction"] == "in" and e["seq"] == 2]
        wait_for(wired, 30, "the message over the direct channel")
        self.assertEqual(wired()[0]["channel"], "direct")

        def second():
            return [e for e in self.log(a, "moscow") if e["direction"] == "out" and e["seq"] == 2][0]
        wait_for(lambda: second()["state"] == "delivered", 30, "its receipt")
        self.assertEqual(second()["receipt_channel"], "direct")
        self.assertIn("delivered via direct  over the wire", b.run("log", "--with", "washington").stdout)
        # What came by hand keeps its channel.
        self.assertEqual([e["channel"] for e in self.log(b, "washington") if e["direction"] == "in"],
                         ["courier", "direct"])
