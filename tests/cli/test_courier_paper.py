"""courier export --qr / import --qr through the real binary, with no node and no network: a
FLASH text crosses on paper both ways. The QR codes the binary writes are read back by a decoder
that is not ours (zbarimg, Debian's zbar-tools) as well as by the binary's own scan of the PNGs;
a set with a part missing, a part of another set or a damaged part is refused and changes
nothing in the store."""
import glob
import os
import random
import shutil
import subprocess
import unittest

from bc_cli import CliTestCase
from test_courier import store_dump

ZBARIMG = shutil.which("zbarimg")


def zbar_texts(pngs):
    """The text of every QR code in the images, as zbarimg reads them (one a line with --raw)."""
    proc = subprocess.run([ZBARIMG, "--raw", "-q", *pngs], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"zbarimg exited {proc.returncode}: {proc.stderr}")
    return [line for line in proc.stdout.split("\n") if line]


@unittest.skipIf(ZBARIMG is None, "zbarimg is not installed (scripts/deps installs zbar-tools)")
class CourierOnPaper(CliTestCase):
    def setUp(self):
        super().setUp()
        self.a = self.party("washington")
        self.b = self.party("moscow")
        # b is the invitee: its HELLO goes on its first paper too.
        self.b.run("contact", "add", self.a.run("invite").stdout.strip())
        self.rng = random.Random(15)
        self.sets = 0

    def paper(self, src, peer, *extra):
        self.sets += 1
        out = os.path.join(self.root, f"paper{self.sets}")
        doc = src.json("courier", "export", "--to", peer, "--qr", out, *extra)
        self.assertEqual(sorted(glob.glob(os.path.join(out, "*.png"))), sorted(p["file"] for p in doc["parts"]))
        self.assertEqual([p["index"] for p in doc["parts"]], list(range(1, len(doc["parts"]) + 1)))
        return doc, [p["file"] for p in doc["parts"]]

    def refused(self, party, files, words):
        before = store_dump(party)
        proc = party.run("courier", "import", "--qr", *files, check=False)
        self.assertNotEqual(proc.returncode, 0, f"{files} was taken")
        self.assertIn(words, proc.stderr)
        self.assertEqual(store_dump(party), before, "a refused paper set changed the store")

    def test_flash_text_on_paper_both_ways(self):
        a, b = self.a, self.b
        b.run("send", "--with", "washington", "-p", "flash", "FLASH from moscow: stand down")
        doc, pngs = self.paper(b, "washington")
        self.assertTrue(doc["hello"])
        # The HELLO and one envelope: the 8 KiB paper bucket, cut into parts of at most 700 bytes.
        self.assertEqual(doc["size"], 8192)
        self.assertEqual(len(pngs), 12)
        for p in doc["parts"]:
            self.assertTrue(p["text"].startswith("BCQ1:"))
            self.assertLessEqual(p["qr_version"], 22)
        for png in pngs:
            with open(png, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        # A decoder that is not ours reads the codes; their text, shuffled, is what we import.
        texts = zbar_texts(pngs)
        self.assertEqual(sorted(texts), sorted(p["text"] for p in doc["parts"]))
        self.rng.shuffle(texts)
        scanned = os.path.join(self.root, "scanned.txt")
        with open(scanned, "w") as f:
            f.write("\n".join(texts) + "\n")
        # One part missing: refused, nothing changes.
        short = os.path.join(self.root, "short.txt")
        with open(short, "w") as f:
            f.write("\n".join(texts[1:]) + "\n")
        self.refused(a, [short], "missing")
        got = a.json("courier", "import", "--qr", scanned)
        self.assertTrue(got["new_contact"])
        self.assertEqual(got["delivered"], 1)
        inbox = a.json("inbox", "--with", "moscow")
        self.assertEqual([(m["precedence"], m["body"]["text"]) for m in inbox],
                         [("flash", "FLASH from moscow: stand down")])
        # The same set again changes nothing and says so.
        self.refused(a, [scanned], "imported already")

        # The reply, with its receipt, imported straight from the PNGs in a shuffled order.
        a.run("send", "--with", "moscow", "-p", "flash", "FLASH from washington: agreed")
        doc, pngs = self.paper(a, "moscow")
        self.assertFalse(doc["hello"])
        self.assertEqual(doc["size"], 4096)  # one envelope: the 4 KiB bucket
        self.rng.shuffle(pngs)
        got = b.json("courier", "import", "--qr", *pngs)
        self.assertEqual(got["delivered"], 1)
        self.assertEqual(got["confirmed"], 1)
        log = b.json("log", "--with", "washington")
        self.assertEqual({e["state"] for e in log if e["direction"] == "out"}, {"delivered"})
        self.assertEqual([e["channel"] for e in log if e["direction"] == "in"], ["courier"])

    def test_bad_sets_are_refused(self):
        a, b = self.a, self.b
        b.run("send", "--with", "washington", "-p", "flash", "first")
        _, first = self.paper(b, "washington")
        b.run("send", "--with", "washington", "-p", "flash", "second")
        doc, second = self.paper(b, "washington")
        # --print draws the codes on stdout as well; a name with {n} names the files.
        drawn = os.path.join(self.root, "drawn-{n}.png")
        proc = b.run("courier", "export", "--to", "washington", "--qr", drawn, "--print")
        self.assertIn("part 12 of 12", proc.stdout)
        self.assertIn("\u2588", proc.stdout)
        self.assertTrue(os.path.exists(os.path.join(self.root, "drawn-12.png")))
        proc = b.run("courier", "export", "--to", "washington", "--qr", drawn, "--max-size", "1MiB", check=False)
        self.assertEqual(proc.returncode, 3)
        # A part missing, named; a part of another set; a damaged part; not a part at all.
        self.refused(a, first[:3] + first[4:], "part 4 of 12")
        self.refused(a, first[:-1] + second[-1:], "more than one set")
        text = doc["parts"][2]["text"]
        flipped = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]
        damaged = os.path.join(self.root, "damaged.txt")
        with open(damaged, "w") as f:
            f.write("\n".join([p["text"] for i, p in enumerate(doc["parts"]) if i != 2] + [flipped]) + "\n")
        self.refused(a, [damaged], "damaged")
        junk = os.path.join(self.root, "junk.txt")
        with open(junk, "w") as f:
            f.write("hello world\n")
        self.refused(a, [junk], "not a paper part")
        blank = os.path.join(self.root, "blank.png")
        shutil.copy(first[0], blank)
        with open(blank, "r+b") as f:
            f.truncate(60)
        self.refused(a, [blank], "PNG")
        # The whole second set imports (the HELLO in it pins moscow); then the first, late, too.
        got = a.json("courier", "import", "--qr", *reversed(second))
        self.assertTrue(got["new_contact"])
        got = a.json("courier", "import", "--qr", *first)
        self.assertEqual(got["envelopes"], 1)
        texts = [m["body"]["text"] for m in a.json("inbox", "--with", "moscow")]
        self.assertEqual(sorted(texts), ["first", "second"])


if __name__ == "__main__":
    unittest.main()
