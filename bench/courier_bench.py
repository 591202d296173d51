"""Courier benchmark (issue 15's bench row): the time and the bytes a courier round trip costs per
message, with both nodes stopped (the pouch: no network, no daemon).

Two homes, moscow the invitee. The link is begun by hand (a bundle with moscow's HELLO, both
ways once, untimed). Then moscow queues N text messages of SIZE bytes (`send --each-line`,
untimed) and the timed round trip runs: `courier export` at moscow, `courier import` at
washington (every message delivered, checked), `courier export` of the return bundle at
washington (its ACK and signed receipts), `courier import` of it at moscow (every message
confirmed, checked). Each step is one process, timed from its start to its exit (what an
operator waits for). Then the same for one FILE_MIB MiB file.

Baseline, measured in the same run on the same bodies: one message per file, `tar` of them piped
into `gpg --symmetric` (AES-256, no compression: the bodies are random) to one file, then `gpg
--decrypt` piped into `tar -x`: a file carried by hand with confidentiality and integrity, but no
per-message receipt, no transcript, no store, no forward secrecy. Bytes per message are the
carried file's size over N (the bundle is padded to a power of two).

Run: python3 bench/courier_bench.py --bin build/bin [--messages 500] [--size 1024] [--file-mib 8]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import log  # noqa: E402


def run(args: list[str], stdin: str | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(args, input=stdin, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{args} exited {p.returncode}: {p.stderr}")
    return took, p.stdout


class Home:
    def __init__(self, bc: Path, root: Path, name: str):
        self.bc, self.home, self.name = bc, root / name, name
        self.cli("init", "--name", name)

    def cli(self, *args: str, stdin: str | None = None) -> tuple[float, str]:
        return run([str(self.bc), "--home", str(self.home), *args], stdin)

    def json(self, *args: str, stdin: str | None = None) -> tuple[float, dict]:
        took, out = self.cli("--json", *args, stdin=stdin)
        return took, json.loads(out)


def round_trip(root: Path, a: Home, b: Home, tag: str) -> dict:
    """b -> a with b's queued messages, then a's receipts back; times in seconds."""
    out_b = root / f"{tag}-b.bundle"
    out_a = root / f"{tag}-a.bundle"
    t_export, ex = b.json("courier", "export", "--with", "washington", "--out", str(out_b))
    t_import, im = a.json("courier", "import", str(out_b))
    t_back_export, _ = a.json("courier", "export", "--with", "moscow", "--out", str(out_a))
    t_back_import, back = b.json("courier", "import", str(out_a))
    return {"export": t_export, "import": t_import, "back_export": t_back_export, "back_import": t_back_import,
            "bytes": out_b.stat().st_size, "back_bytes": out_a.stat().st_size, "delivered": im["delivered"],
            "confirmed": back["confirmed"], "chunks_left": ex["chunks_left"]}


def baseline(root: Path, bodies: list[bytes], tag: str) -> dict:
    src = root / f"{tag}-plain"
    src.mkdir()
    for i, body in enumerate(bodies):
        (src / f"m{i:06d}").write_bytes(body)
    carried = root / f"{tag}.tar.gpg"
    pw = ["--batch", "--yes", "--quiet", "--no-symkey-cache", "--pinentry-mode", "loopback", "--passphrase",
          "courier-bench", "--homedir", str(root / "gnupg")]
    (root / "gnupg").mkdir(mode=0o700, exist_ok=True)
    t0 = time.perf_counter()
    tar = subprocess.Popen(["tar", "-C", str(src), "-cf", "-", "."], stdout=subprocess.PIPE)
    subprocess.run(["gpg", *pw, "--symmetric", "--cipher-algo", "AES256", "--compress-algo", "none", "-o",
                    str(carried)], stdin=tar.stdout, check=True)
    tar.stdout.close()
    if tar.wait() != 0:
        raise RuntimeError("tar failed")
    with open(carried, "rb+") as f:
        os.fsync(f.fileno())  # the bundle is fsynced too
    t_out = time.perf_counter() - t0
    dst = root / f"{tag}-out"
    dst.mkdir()
    t0 = time.perf_counter()
    gpg = subprocess.Popen(["gpg", *pw, "--decrypt", str(carried)], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", str(dst), "-xf", "-"], stdin=gpg.stdout, check=True)
    gpg.stdout.close()
    if gpg.wait() != 0:
        raise RuntimeError("gpg --decrypt failed")
    t_in = time.perf_counter() - t0
    if len(list(dst.iterdir())) != len(bodies):
        raise RuntimeError("baseline: not every file came back")
    return {"export": t_out, "import": t_in, "bytes": carried.stat().st_size}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(Path(__file__).resolve().parent.parent / "build" / "bin"))
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--size", type=int, default=1024, help="bytes per text message")
    ap.add_argument("--file-mib", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3, help="round trips of each kind; medians are reported")
    args = ap.parse_args()
    bc = Path(args.bin) / "backchannel"
    root = Path(tempfile.mkdtemp(prefix="bc-courier-bench-"))
    try:
        a, b = Home(bc, root, "washington"), Home(bc, root, "moscow")
        _, invite = a.cli("invite")
        b.cli("contact", "add", invite.strip())
        b.cli("send", "--with", "washington", "hello")
        first = round_trip(root, a, b, "start")  # the HELLO; not reported
        assert first["delivered"] == 1, first
        texts, files, base_texts, base_files = [], [], [], []
        for rep in range(args.reps):
            # Printable random text (hex of random bytes), one message per line.
            lines = [os.urandom(args.size).hex()[: args.size] for _ in range(args.messages)]
            b.cli("send", "--with", "washington", "--each-line", "-", stdin="\n".join(lines) + "\n")
            r = round_trip(root, a, b, f"text{rep}")
            if (r["delivered"], r["confirmed"]) != (args.messages, args.messages):
                raise RuntimeError(f"text round trip: {r}")
            texts.append(r)
            base_texts.append(baseline(root, [l.encode() for l in lines], f"base-text{rep}"))
            blob = os.urandom(args.file_mib << 20)
            path = root / f"file{rep}.bin"
            path.write_bytes(blob)
            b.cli("send", "--with", "washington", "--file", str(path))
            r = round_trip(root, a, b, f"file{rep}")
            if (r["delivered"], r["confirmed"]) != (1, 1):
                raise RuntimeError(f"file round trip: {r}")
            files.append(r)
            base_files.append(baseline(root, [blob], f"base-file{rep}"))
            log(f"rep {rep}: text {texts[-1]}, file {files[-1]}")

        def med(rows: list[dict], *keys: str) -> float:
            return statistics.median(sum(r[k] for k in keys) for r in rows)

        n = args.messages
        out_ms = med(texts, "export", "import") * 1000 / n
        base_ms = med(base_texts, "export", "import") * 1000 / n
        bytes_msg = med(texts, "bytes") / n
        base_bytes = med(base_texts, "bytes") / n
        back_ms = med(texts, "back_export", "back_import") * 1000 / n
        file_s = med(files, "export", "import")
        base_file_s = med(base_files, "export", "import")
        rows = [
            (f"courier: export+import per {args.size} B message ({n} msgs in one bundle, nodes stopped)",
             f"{out_ms:.2f} ms", f"{base_ms:.3f} ms tar + gpg --symmetric", f"{out_ms / base_ms:.1f}x"),
            (f"courier: bundle bytes per {args.size} B message ({n} msgs)",
             f"{bytes_msg:,.0f} B", f"{base_bytes:,.0f} B tar + gpg --symmetric", f"{bytes_msg / base_bytes:.2f}x"),
            (f"courier: receipts back per message (return bundle export+import, {n} msgs)",
             f"{back_ms:.2f} ms", "-", "-"),
            (f"courier: export+import of one {args.file_mib} MiB file, nodes stopped",
             f"{file_s:.2f} s", f"{base_file_s:.2f} s tar + gpg --symmetric", f"{file_s / base_file_s:.1f}x"),
        ]
        print("| metric | backchannel | baseline (measured in the same run) | ratio |")
        print("| --- | --- | --- | --- |")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        print(json.dumps({"texts": texts, "files": files, "base_texts": base_texts, "base_files": base_files}),
              file=sys.stderr)
        return 0
    finally:
        # gpg may have started an agent for this home alone: end exactly that one.
        if (root / "gnupg").exists():
            subprocess.run(["gpgconf", "--homedir", str(root / "gnupg"), "--kill", "gpg-agent"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
