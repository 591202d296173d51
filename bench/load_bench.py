"""Relay load benchmark (issue 17's load row): one `relay run` (release, open admission) and
bench/../tests/load/relay_load.cpp with 1,000 mailbox owners in one process, each PUTting 10
envelopes a second into the next owner's mailbox, for a short run (--seconds, 12 by default, so
that it adds about 30 s to scripts/bench with the owners' connecting). Owners ACK in batches of
128 and what is left every --ack seconds (6: one round of all 1,000 owners acknowledging at once
falls inside the run; such a round stalled the relay for about 25 s before ACKs were group-
committed).

Reported: PUTs/s reached against the offered rate the generator attempted in the same run (an
owner with 2 PUTs unanswered skips its turn, so a relay that cannot keep up shows as a lower rate),
PUT -> DELIVER p50/p99 on the generator's one clock, the relay's RSS at the end of the load, and
whether anything was lost or doubled (the run fails if so).

Run alone (`bench/load_bench.py --bin build/bin`) or from bench/e2e_bench.py (part `load`).
The full form, 60 s or 600 s with the same checks, is tests/integration/test_load.py.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import log, print_part, rss_kib, spawn, stop, stop_all  # noqa: E402
from relay_nats import Relay  # noqa: E402

OWNERS = 1000
RATE = 10


def run(bc: Path, bin_dir: Path, work: Path, seconds: float = 12, ack: float = 6, owners: int = OWNERS) -> dict:
    import resource
    want = owners + 256  # the generator holds a descriptor per owner
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    d = work / "load-relay"
    d.mkdir(parents=True)
    relay = Relay(bc, d / "relay", "[relay]\nopen = true\n")
    relay.start()
    try:
        started = time.monotonic()
        prog = spawn([str(bin_dir / "relay_load"), "--port", str(relay.port), "--fingerprint", relay.fingerprint,
                      "--owners", str(owners), "--rate", str(RATE), "--seconds", str(seconds), "--window", "2",
                      "--report", "5", "--ack", str(ack), "--drain", "60"],
                     stdout=subprocess.PIPE, text=True)
        ready = result = None
        rss = []
        for line in prog.stdout:
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            if "ready" in record:
                ready = record
            elif "progress" in record:
                rss.append(rss_kib(relay.proc.pid))
            elif "result" in record:
                result = record
        code = prog.wait()
        stop(prog)
        if code != 0 or result is None or ready is None:
            raise RuntimeError(f"relay_load exited {code} without a result")
        if result["missing"] or result["duplicates"] or result["unexpected"]:
            raise RuntimeError(f"relay load: lost or doubled envelopes: {result}")
        result.update({"connect_s": ready["connect_seconds"], "rss_kib": max(rss) if rss else rss_kib(relay.proc.pid),
                       "ack_s": ack, "elapsed_s": time.monotonic() - started,
                       "offered_per_second": result["offered"] / result["seconds"]})
        log(f"load: {result['puts_per_second']:.0f} PUTs/s of {result['offered_per_second']:.0f} offered, "
            f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms")
        return result
    finally:
        relay.stop()


def table_rows(r: dict | None) -> list[tuple[str, str, str, str]]:
    """Rows for e2e_bench's table: metric, backchannel, baseline (same run), ratio."""
    if not r:
        return []
    reached, offered = r["puts_per_second"], r["offered_per_second"]
    verdict = f"{reached / offered:.2f}x" + ("" if reached >= 0.99 * offered else " (target 1.0x: missed)")
    return [
        (f"relay load: {r['owners']:,} owners x {r['rate_per_owner']:g} PUTs/s, {r['seconds']:.0f} s: PUTs/s reached",
         f"{reached:,.0f}/s", f"{offered:,.0f}/s offered", verdict),
        (f"relay load: PUT -> DELIVER p50 / p99, relay RSS", f"{r['p50_ms']:,.0f} / {r['p99_ms']:,.0f} ms, "
         f"{r['rss_kib'] / 1024:.0f} MiB", "-", "-"),
    ]


def details_md(r: dict | None) -> list[str]:
    if not r:
        return []
    return [
        f"- Relay load (bench/load_bench.py with tests/load/relay_load.cpp, release, generator and relay on the "
        f"same 2 cores): {r['owners']:,} owners (each its own key, TLS connection, mailbox and subscription; "
        f"connected in {r['connect_s']:.1f} s) x {r['rate_per_owner']:g} PUTs/s for {r['seconds']:.0f} s, at most 2 "
        f"PUTs unanswered per owner, ACKs in batches of 128 and the rest every {r['ack_s']:g} s: {r['puts']:,} PUTs "
        f"({r['puts_per_second']:,.0f}/s; {r['skipped']:,} turns skipped), all delivered once (missing "
        f"{r['missing']}, doubled {r['duplicates']}); PUT -> DELIVER p50 {r['p50_ms']:,.1f} ms, p99 "
        f"{r['p99_ms']:,.1f} ms, max {r['max_ms']:,.1f} ms; relay RSS at most {r['rss_kib'] / 1024:.1f} MiB. The "
        f"part took {r['elapsed_s']:.0f} s.",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(Path(__file__).resolve().parent.parent / "build" / "bin"))
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--ack", type=float, default=6)
    ap.add_argument("--owners", type=int, default=OWNERS)
    args = ap.parse_args()
    bin_dir = Path(args.bin)
    work = Path(tempfile.mkdtemp(prefix="backchannel-loadbench-"))
    try:
        r = run(bin_dir / "backchannel", bin_dir, work, args.seconds, args.ack, args.owners)
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)
    print_part(r, table_rows, details_md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
