"""The tamper suite: real records exported by two nodes on loopback, altered the ways issue 13
names (tail dropped, peer receipts removed, incoming rewritten by the exporter, receipts
reordered or duplicated, times changed, keys swapped), each checked by the C++ checker
(`backchannel transcript check`) and by the independent Python checker
(tools/transcript_check.py, written from docs/protocol.md), against the verdict expected of
both."""
import copy
import hashlib
import json
import os
import struct
import subprocess
import sys

from bc_cli import BIN
from test_transcript import LiveNodes, wait_for

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")
PY_CHECKER = os.path.join(TOOLS, "transcript_check.py")

try:
    from nacl.signing import SigningKey
except ImportError:  # python3 may be a pyenv shim; Debian's python3-nacl is here
    sys.path.append("/usr/lib/python3/dist-packages")
try:
    from nacl.signing import SigningKey
except ImportError as e:  # the suite cannot run without PyNaCl: fail, never skip quietly
    raise ImportError("PyNaCl (Debian python3-nacl, scripts/deps) is needed by the tamper suite and the "
                      "Python checker; run this with the system python3") from e


def b2b(data):
    return hashlib.blake2b(data, digest_size=32).digest()


class Signer:
    """A party's own Ed25519 key, read from its home (the key file holds seed || public key),
    so a test can forge what that party itself could sign."""

    def __init__(self, home, public_hex):
        pub = bytes.fromhex(public_hex)
        with open(os.path.join(home, "identity.key"), "rb") as f:
            blob = f.read()
        at = blob.index(pub)
        self.key = SigningKey(blob[at - 32:at])
        assert bytes(self.key.verify_key) == pub

    def sign(self, message):
        return self.key.sign(message).signature


# ---- re-signing what the exporter may sign (docs/protocol.md "Transcript record") ----------

PREC = {"flash": 0, "immediate": 1, "priority": 2, "routine": 3}


def heads(entries):
    out = [bytes(32)]
    for e in entries:
        out.append(b2b(b"backchannel transcript v1" + out[-1] + struct.pack(">QBQ", e["seq"], PREC[e["precedence"]],
                                                                              e["sent_at_ms"])
                       + bytes.fromhex(e["body_hash"])))
    return out


def head_receipt(signer, signer_key, recipient_key, seq, head, at_ms=1700000000000):
    """A timed transcript-head receipt (kind 4) as docs/protocol.md "Frames" lays it out."""
    fields = bytes([4]) + struct.pack(">Q", seq) + head + struct.pack(">Q", at_ms) + bytes([0])
    context = signer_key + recipient_key
    sig = signer.sign(b"backchannel receipt v1" + struct.pack(">H", len(context)) + context + fields)
    return (bytes([3]) + fields + sig).hex()


def resign_end(doc, exporter):
    """Recomputes and signs the end statement as the exporter would, after it changed its record."""
    def party(p):
        name = p["name"].encode()
        return bytes([len(name)]) + name + bytes.fromhex(p["identity_key"])

    msg = b"backchannel record end v1" + party(doc["exporter"]) + party(doc["peer"]) + struct.pack(">Q", doc["end"]["as_of_ms"])
    for d in ("outgoing", "incoming"):
        hs = heads(doc[d]["entries"])
        receipts = [bytes.fromhex(r) for r in doc[d]["receipts"]]
        doc["end"][d] = {"entries": len(doc[d]["entries"]), "head": hs[-1].hex(), "receipts": len(receipts)}
        digest = b2b(b"backchannel record receipts v1" + b"".join(struct.pack(">H", len(r)) + r for r in receipts))
        msg += struct.pack(">Q", len(doc[d]["entries"])) + hs[-1] + struct.pack(">I", len(receipts)) + digest
    doc["end"]["signature"] = exporter.sign(msg).hex()
    return doc


class TamperSuite(LiveNodes):
    def write(self, name, doc):
        path = os.path.join(self.root, name + ".json")
        with open(path, "w") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc, indent=1))
        return path

    def verdicts(self, *paths, extra=()):
        """(C++ exit, C++ json, Python exit, Python json) for one or two records."""
        cpp = subprocess.run([BIN, "--json", "transcript", "check", *extra, *paths], capture_output=True, text=True,
                             timeout=60)
        py = subprocess.run([sys.executable, PY_CHECKER, *paths], capture_output=True, text=True, timeout=60)
        self.assertEqual(py.stderr, "", py.stderr)
        return cpp.returncode, json.loads(cpp.stdout), py.returncode, json.loads(py.stdout)

    def expect(self, case, paths, code, **fields):
        """Both checkers give the same verdict, the expected one (None: the record checks)."""
        with self.subTest(case=case):
            ce, cj, pe, pj = self.verdicts(*paths)
            got_c = None if ce == 0 else cj["error"]["code"]
            got_p = None if pe == 0 else pj["error"]["code"]
            self.assertEqual(got_c, code, f"C++ on {case}: {cj}")
            self.assertEqual(got_p, code, f"Python on {case}: {pj}")
            self.assertEqual(ce, 0 if code is None else 3)
            self.assertEqual(pe, 0 if code is None else 3)
            for k, v in fields.items():
                self.assertEqual(cj[k], v, f"C++ {k} on {case}")
                self.assertEqual(pj[k], v, f"Python {k} on {case}")
            return cj, pj

    def test_tamper_corpus(self):
        a, b = self.linked_pair()
        # Separate rounds, so moscow signs several receipts (prompt and head) for washington.
        for i in range(3):
            a.run("send", "--to", "moscow", f"from washington {i}")
            wait_for(lambda: self.delivered(a, "moscow", i + 1, 0), 20, f"message {i + 1} receipted")
        for i in range(2):
            b.run("send", "--to", "washington", f"from moscow {i}")
        wait_for(lambda: self.delivered(a, "moscow", 3, 2) and self.delivered(b, "washington", 2, 3), 20,
                 "every message delivered both ways")
        wait_for(lambda: a.json("transcript", "verify", "--with", "moscow")["outgoing"]["peer_signed_up_to"] == 3
                 and b.json("transcript", "verify", "--with", "washington")["outgoing"]["peer_signed_up_to"] == 2,
                 15, "signed heads up to the last message")
        ra = json.loads(a.run("transcript", "export", "--with", "moscow").stdout)
        rb = json.loads(b.run("transcript", "export", "--with", "washington").stdout)
        wash = Signer(a.home, ra["exporter"]["identity_key"])
        self.assertGreaterEqual(len(ra["outgoing"]["receipts"]), 2, ra["outgoing"]["receipts"])
        pa, pb = self.write("a", ra), self.write("b", rb)

        # The honest records: each checks, both checkers give the same account, and they agree.
        cj, pj = self.expect("honest a", [pa], None, peer_signed=True, peer_covers_outgoing=True, end_signed=True)
        for d in ("outgoing", "incoming"):
            for k in ("prefix_end", "head", "receipts", "signed_up_to", "receiver_signed", "receiver_unsigned",
                      "sender_signed_up_to", "received_by"):
                self.assertEqual(cj[d][k], pj[d][k], f"{d}.{k}")
        # Live receipts are timed: every outgoing seq has a receive time moscow signed, no later
        # than the export, and washington's own receipt over its incoming is timed as well.
        received = cj["outgoing"]["received_by"]
        self.assertEqual((received[0][0], received[-1][1]), (1, 3), received)
        self.assertTrue(all(r[2] <= ra["end"]["as_of_ms"] for r in received), received)
        self.assertEqual(ra["incoming"]["receipts"][0][2:4], "04")
        self.expect("honest b", [pb], None)
        cj, pj = self.expect("honest joint", [pa, pb], None, agree=True)
        self.assertEqual([d["parted_at"] for d in cj["directions"]], [0, 0])
        self.assertEqual([d["agreed"] for d in cj["directions"]], [3, 2])
        self.assertEqual([d["agreed"] for d in pj["directions"]], [3, 2])

        def edited(edit, resign=False):
            doc = copy.deepcopy(ra)
            edit(doc)
            if resign:
                resign_end(doc, wash)
            return doc

        # Tail dropped (the last message and the receipts that name it), by someone else.
        def drop_tail(d):
            d["outgoing"]["entries"].pop()
            d["outgoing"]["receipts"] = [r for r in d["outgoing"]["receipts"] if int(r[4:20], 16) < 3 and
                                         not any(int(r[86 + 80 * i:102 + 80 * i], 16) == 3
                                                 for i in range(int(r[84:86], 16)))]
        self.expect("tail dropped", [self.write("t1", edited(drop_tail))], "checksum")
        # ... and with the end's counts edited to match: the signature breaks.
        doc = edited(drop_tail)
        doc["end"]["outgoing"]["entries"] = 2
        doc["end"]["outgoing"]["head"] = heads(doc["outgoing"]["entries"])[-1].hex()
        doc["end"]["outgoing"]["receipts"] = len(doc["outgoing"]["receipts"])
        self.expect("tail dropped, end edited", [self.write("t2", doc)], "bad_signature")
        # ... and by the exporter itself, signing again: it checks, but the peer's signatures
        # no longer cover what moscow confirmed, and the joint check with moscow shows it.
        self.expect("tail dropped by exporter", [self.write("t3", edited(drop_tail, resign=True))], None)

        # Peer receipts removed.
        def no_receipts(d):
            d["outgoing"]["receipts"] = []
        self.expect("peer receipts removed", [self.write("r1", edited(no_receipts))], "checksum")
        cj, _ = self.expect("peer receipts removed by exporter", [self.write("r2", edited(no_receipts, True))], None,
                            peer_signed=False, peer_covers_outgoing=False)
        self.assertTrue(any("NO SIGNATURE OF moscow" in w for w in cj["warnings"]))
        proc = subprocess.run([BIN, "transcript", "check", "--require-peer-signed", os.path.join(self.root, "r2.json")],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 5, proc.stderr)
        self.assertIn("holds no signature of moscow", proc.stderr)
        self.assertIn("WARNING: NO SIGNATURE OF moscow", proc.stdout)

        # Receipts reordered or duplicated.
        def reorder(d):
            d["outgoing"]["receipts"].reverse()
        self.expect("receipts reordered", [self.write("o1", edited(reorder))], "bad_format")
        self.expect("receipts reordered, resigned", [self.write("o2", edited(reorder, True))], "bad_format")

        def duplicate(d):
            d["outgoing"]["receipts"].insert(0, d["outgoing"]["receipts"][0])
        self.expect("receipt duplicated", [self.write("o3", edited(duplicate, True))], "bad_format")

        # Times changed.
        def as_of(d):
            d["end"]["as_of_ms"] += 3600 * 1000
        self.expect("end time changed", [self.write("m1", edited(as_of))], "bad_signature")

        def as_of_zero(d):
            d["end"]["as_of_ms"] = 0
        self.expect("end time zero", [self.write("m2", edited(as_of_zero))], "bad_signature")

        # A receipt's signed receive time changed (the end signed again): its signature breaks.
        def receipt_time(d):
            r = d["outgoing"]["receipts"][-1]
            self.assertIn(r[2:4], ("03", "04"))  # a timed kind: at_ms is bytes 42..49
            t = int(r[84:100], 16) - 60000
            d["outgoing"]["receipts"][-1] = r[:84] + f"{t:016x}" + r[100:]
        self.expect("receipt time changed", [self.write("m5", edited(receipt_time, True))], "bad_signature")

        def sent_at(d):
            d["outgoing"]["entries"][0]["sent_at_ms"] -= 1000
        self.expect("sent_at changed", [self.write("m3", edited(sent_at))], "checksum")
        self.expect("sent_at changed, resigned", [self.write("m4", edited(sent_at, True))], "checksum")

        # Keys swapped or replaced.
        def swap(d):
            d["exporter"]["identity_key"], d["peer"]["identity_key"] = d["peer"]["identity_key"], d["exporter"]["identity_key"]
        self.expect("keys swapped", [self.write("k1", edited(swap))], "bad_signature")

        def stranger_key(d):
            d["peer"]["identity_key"] = bytes(SigningKey.generate().verify_key).hex()
        self.expect("peer key replaced", [self.write("k2", edited(stranger_key))], "bad_signature")

        # Incoming rewritten by the exporter: moscow's 2 messages replaced by 3 invented ones,
        # washington signing its receipt and end again. It checks alone, by both checkers; the
        # joint check with moscow's record parts at seq 1 and names washington's two signatures.
        def rewrite_incoming(d):
            invented = [{"seq": i, "precedence": "routine", "sent_at_ms": 1700000000000 + i,
                         "body_hash": b2b(f"invented {i}".encode()).hex()} for i in (1, 2, 3)]
            d["incoming"]["entries"] = invented
            w_key = bytes.fromhex(d["exporter"]["identity_key"])
            m_key = bytes.fromhex(d["peer"]["identity_key"])
            d["incoming"]["receipts"] = [head_receipt(wash, w_key, m_key, 3, heads(invented)[-1])]
        forged = self.write("f1", edited(rewrite_incoming, True))
        self.expect("incoming rewritten", [forged], None)
        cj, pj = self.expect("incoming rewritten, joint", [forged, pb], "checksum", agree=False)
        c_dir, p_dir = cj["directions"][1], pj["directions"][1]
        self.assertEqual((c_dir["sender"], c_dir["parted_at"]), ("moscow", 1))
        self.assertEqual((p_dir["sender"], p_dir["parted_at"]), ("moscow", 1))
        self.assertEqual(c_dir["conflicts_total"], p_dir["conflicts_total"])
        self.assertGreater(c_dir["conflicts_total"], 0)
        liar = [c for c in c_dir["conflicts"] if c["same_signer"]]
        self.assertEqual(len(liar), p_dir["same_signer_pairs"])
        self.assertTrue(liar and all(c["first"]["signer"] == "washington" for c in liar), c_dir)
        for c in liar:
            self.assertNotEqual(c["first"]["head"], c["second"]["head"])
            self.assertTrue(c["first"]["signed"] and c["second"]["signed"])
        human = subprocess.run([BIN, "transcript", "check", forged, pb], capture_output=True, text=True, timeout=60)
        self.assertEqual(human.returncode, 3)
        self.assertIn("PART AT SEQ 1", human.stdout)
        self.assertIn("washington signed both; washington lied", human.stdout)

        # The exporter's dropped tail (signed again) against moscow's record: moscow's record
        # holds all 3 of washington's messages; the shorter record is a prefix, no conflict.
        # But moscow's record shows the message washington's record left out, sent before it ended.
        cj, pj = self.expect("exporter tail drop, joint", [os.path.join(self.root, "t3.json"), pb], None, agree=True)
        self.assertEqual(cj["directions"][0]["agreed"], 2)
        self.assertEqual(cj["directions"][0]["left_out_by_sender"], 1)
        self.assertEqual(pj["directions"][0]["left_out_by_sender"], 1)

        # Salted commitments: guessing a body from the record no longer works ...
        guess = b2b(b"\x01" + b"from washington 0").hex()
        self.assertNotEqual(ra["outgoing"]["entries"][0]["body_hash"], guess)
        self.assertNotIn(guess, json.dumps(ra))
        # ... but either party can disclose one message, which checks against either record.
        for who, direction, record in ((a, "out", pa), (b, "in", pa), (b, "in", pb)):
            disclosure = who.run("transcript", "reveal", "--with", "moscow" if who is a else "washington",
                                 "--seq", "1", "--direction", direction).stdout
            dpath = self.write("disclosure", disclosure)
            checked = json.loads(subprocess.run([BIN, "--json", "transcript", "check-disclosure", dpath, record],
                                                capture_output=True, text=True, timeout=60).stdout)
            self.assertTrue(checked["ok"], checked)
            self.assertEqual((checked["text"], checked["salted"], checked["sender"]), ("from washington 0", True,
                                                                                          "washington"))
            self.assertTrue(checked["receiver_signed"])
            self.assertEqual(checked["sender_signed"], record == pa)
            self.assertIsNotNone(checked["received_by_ms"])
            py = json.loads(subprocess.run([sys.executable, PY_CHECKER, "--disclosure", dpath, record],
                                           capture_output=True, text=True, timeout=60).stdout)
            self.assertTrue(py["ok"], py)
            for k in ("direction", "text", "salted", "receiver_signed", "sender_signed"):
                self.assertEqual(py[k], checked[k], k)
        # A forged disclosure (another text under the real salt, or another seq) is refused.
        doc = json.loads(disclosure)
        forged_body = doc["body"][:-2] + ("00" if doc["body"][-2:] != "00" else "01")
        for name, edit in (("body", {"body": forged_body}), ("seq", {"seq": 2})):
            fd = dict(doc, **edit)
            proc = subprocess.run([BIN, "transcript", "check-disclosure", self.write("forged-" + name, fd), pa],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 3, name)
            self.assertIn("disclosure does not check", proc.stderr)
            py = subprocess.run([sys.executable, PY_CHECKER, "--disclosure", self.write("forged-" + name, fd), pa],
                                capture_output=True, text=True, timeout=60)
            self.assertEqual(py.returncode, 3, name)
            self.assertEqual(json.loads(py.stdout)["error"]["code"], "checksum")

        # Records of two different links are refused jointly by both.
        self.expect("not one link", [pa, pa], "bad_format")

        # Keys pinned on the command line (C++ only: the Python checker takes no options).
        m_key = ra["peer"]["identity_key"]
        ok = subprocess.run([BIN, "transcript", "check", "--expect-key", m_key, "--expect-key",
                             ra["exporter"]["identity_key"], pa], capture_output=True, text=True, timeout=60)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        wrong = subprocess.run([BIN, "transcript", "check", "--expect-key", "ab" * 32, pa], capture_output=True,
                               text=True, timeout=60)
        self.assertEqual(wrong.returncode, 3)
        self.assertIn("neither identity key in the record is the expected key", wrong.stderr)
        number = a.json("safety-number", "moscow")["safety_number"]
        ok = subprocess.run([BIN, "transcript", "check", "--expect-safety-number", number, pa, pb],
                            capture_output=True, text=True, timeout=60)
        self.assertEqual(ok.returncode, 0, ok.stderr + ok.stdout)
        stranger = SigningKey.generate()
        swapped = self.write("k3", edited(lambda d: d["peer"].update(identity_key=bytes(stranger.verify_key).hex())))
        bad = subprocess.run([BIN, "transcript", "check", "--expect-safety-number", number, swapped],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(bad.returncode, 3)
        self.assertIn("not the keys you compared", bad.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
