"""Memory benchmark (issue 12's memory rows): resident memory per idle link on a node with many
contacts, and per connected mailbox owner on a relay. Goals: <= 64 KiB per link, <= 32 KiB per
relay connection; the baseline of each row is the same daemon measured empty in the same run.

Node: one hub node, first with no contact (RSS sampled), then with N contacts. Each contact is
a real party of its own home: it takes one of the hub's invitations and starts the link with a
courier bundle (its HELLO), so no network is needed to make 200 links. Then the hub runs with
its N links loaded and the counterparts' nodes stopped (RSS sampled: a link at rest), then all N
counterpart nodes run and dial the hub (RSS sampled once every link is "ok": an idle link with
its TLS connection and heartbeats). Per link = (RSS with N - RSS with none) / N.

Relay: one `relay run` (open admission), sampled at rest, then with W owners connected and
subscribed (warm-up: the first connections grow pools that later ones reuse), then with N
(bench/relay_owners.cpp: one process, each owner with its own key and connection, as a node
has). Per connection = (RSS with N - RSS with W) / (N - W).

RSS is VmRSS from /proc, the median of 5 samples 0.5 s apart after the daemon settled.
Run alone (`bench/memory_bench.py --bin build/bin`) or from bench/e2e_bench.py (part `memory`).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import free_port, log, print_part, rss_kib, spawn, stop, stop_all, wait_for  # noqa: E402
from relay_nats import Relay  # noqa: E402

NODE_GOAL_KIB = 64
RELAY_GOAL_KIB = 32


def settled_rss(pid: int, settle_s: float = 3.0, samples: int = 5) -> int:
    time.sleep(settle_s)
    values = []
    for _ in range(samples):
        values.append(rss_kib(pid))
        time.sleep(0.5)
    return int(statistics.median(values))


def cli(bc: Path, home: Path, *args: str) -> str:
    p = subprocess.run([str(bc), "--home", str(home), *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{home.name}: {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def start_node(bc: Path, home: Path, *extra: str):
    log_file = open(home.parent / f"{home.name}.log", "ab")
    p = spawn([str(bc), "--home", str(home), "node", "run", *extra], stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    wait_for(lambda: (home / "control.sock").exists() or p.poll() is not None, 30, f"{home.name}'s node")
    if p.poll() is not None:
        raise RuntimeError(f"{home.name}'s node exited {p.returncode}")
    return p


def link_states(bc: Path, home: Path) -> list[str]:
    p = subprocess.run([str(bc), "--home", str(home), "--json", "status"], capture_output=True, text=True)
    return [link["state"] for link in json.loads(p.stdout).get("links", [])]


def bench_node(bc: Path, work: Path, contacts: int) -> dict:
    d = work / "memory-node"
    d.mkdir(parents=True)
    hub = d / "hub"
    cli(bc, hub, "init", "--name", "hub")
    port = free_port()
    listen = ("--listen", f"127.0.0.1:{port}")

    p = start_node(bc, hub, *listen)
    empty = settled_rss(p.pid)
    stop(p)
    log(f"memory: hub node with no contact {empty} KiB; making {contacts} contacts by courier")

    # The hub's store takes one writer at a time: its invitations and imports one by one; the
    # counterparts' homes are independent and go in parallel.
    invitations = [cli(bc, hub, "invite", "--address", f"127.0.0.1:{port}").strip() for _ in range(contacts)]
    peers = [d / f"peer{i:03d}" for i in range(contacts)]

    def make_peer(i: int) -> Path:
        home = peers[i]
        cli(bc, home, "init", "--name", home.name)
        cli(bc, home, "contact", "add", invitations[i], "--as", "hub")
        bundle = d / f"{home.name}.bundle"
        cli(bc, home, "courier", "export", "--with", "hub", "--out", str(bundle))
        return bundle

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        bundles = list(pool.map(make_peer, range(contacts)))
    for b in bundles:
        cli(bc, hub, "courier", "import", str(b))

    p = start_node(bc, hub, *listen)
    wait_for(lambda: len(link_states(bc, hub)) == contacts, 60, f"{contacts} links loaded")
    loaded = settled_rss(p.pid)
    log(f"memory: hub node with {contacts} links at rest {loaded} KiB; starting {contacts} counterparts")

    started = time.monotonic()
    peer_procs = [start_node(bc, home) for home in peers]
    wait_for(lambda: link_states(bc, hub).count("ok") == contacts, 300, f"all {contacts} links ok", interval=1.0)
    up_s = time.monotonic() - started
    connected = settled_rss(p.pid, settle_s=5.0)
    peer_rss = statistics.median(rss_kib(q.pid) for q in peer_procs[:20])
    for q in peer_procs:
        stop(q)
    stop(p)
    return {"contacts": contacts, "empty_kib": empty, "loaded_kib": loaded, "connected_kib": connected,
            "per_link_loaded_kib": (loaded - empty) / contacts,
            "per_link_connected_kib": (connected - empty) / contacts,
            "all_up_s": up_s, "counterpart_rss_kib": peer_rss}


def bench_relay(bc: Path, bin_dir: Path, work: Path, owners: int, warmup: int) -> dict:
    d = work / "memory-relay"
    d.mkdir(parents=True)
    # Open admission: the benchmark's owners need no tokens; rate limits are per connection and
    # these owners send two requests each.
    relay = Relay(bc, d / "relay", "[relay]\nopen = true\n")
    relay.start()
    try:
        rest = settled_rss(relay.proc.pid)
        steps = [warmup, owners]
        prog = spawn([str(bin_dir / "relay_owners"), "--port", str(relay.port), "--fingerprint", relay.fingerprint,
                      "--steps", ",".join(map(str, steps))],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        at = {}
        started = time.monotonic()
        for n in steps:
            while True:
                line = prog.stdout.readline()
                if not line:
                    raise RuntimeError(f"relay_owners exited {prog.wait()} before {n} owners were ready")
                if line.startswith("{"):
                    break
            ready = json.loads(line)["ready"]
            if n == owners:
                connect_s = time.monotonic() - started
            at[ready] = settled_rss(relay.proc.pid)
            log(f"memory: relay with {ready} owners connected {at[ready]} KiB")
            prog.stdin.write("next\n")
            prog.stdin.flush()
        # The figures are taken; a driver slow to close its 1,000 connections is stopped.
        try:
            prog.wait(timeout=60)
        except subprocess.TimeoutExpired:
            log("memory: relay_owners still closing its connections after 60 s; stopping it")
        stop(prog)
        return {"owners": owners, "warmup": warmup, "rest_kib": rest, "warm_kib": at[warmup],
                "full_kib": at[owners], "connect_s": connect_s,
                "per_connection_kib": (at[owners] - at[warmup]) / (owners - warmup),
                "per_connection_from_rest_kib": (at[owners] - rest) / owners}
    finally:
        relay.stop()


def run(bc: Path, bin_dir: Path, work: Path, contacts: int = 200, owners: int = 1000, warmup: int = 50) -> dict:
    return {"node": bench_node(bc, work, contacts), "relay": bench_relay(bc, bin_dir, work, owners, warmup)}


def fmt_kib(v: float) -> str:
    return f"{v:,.1f} KiB"


def verdict(v: float, goal: float) -> str:
    return f"{v / goal:.2f}x of the goal" + ("" if v <= goal else " (missed)")


def table_rows(r: dict | None) -> list[tuple[str, str, str, str]]:
    """Rows for e2e_bench's table: metric, backchannel, baseline (same daemon, same run), ratio."""
    if not r:
        return []
    n, rl = r["node"], r["relay"]
    return [
        (f"memory: RSS per idle link, {n['contacts']} contacts on one node, every link up (goal <= "
         f"{NODE_GOAL_KIB} KiB)", fmt_kib(n["per_link_connected_kib"]),
         f"{n['empty_kib'] / 1024:.1f} MiB the node with no contact", verdict(n["per_link_connected_kib"], NODE_GOAL_KIB)),
        (f"memory: RSS per link at rest (counterparts stopped), {n['contacts']} contacts",
         fmt_kib(n["per_link_loaded_kib"]), f"{n['empty_kib'] / 1024:.1f} MiB the node with no contact",
         verdict(n["per_link_loaded_kib"], NODE_GOAL_KIB)),
        (f"memory: relay RSS per connected mailbox owner, {rl['owners']} owners subscribed (goal <= "
         f"{RELAY_GOAL_KIB} KiB)", fmt_kib(rl["per_connection_kib"]),
         f"{rl['warm_kib'] / 1024:.1f} MiB the relay with {rl['warmup']} owners",
         verdict(rl["per_connection_kib"], RELAY_GOAL_KIB)),
    ]


def details_md(r: dict | None) -> list[str]:
    if not r:
        return []
    n, rl = r["node"], r["relay"]
    return [
        f"- Memory, node (bench/memory_bench.py, release): one hub node {n['empty_kib']:,} KiB with no contact; "
        f"{n['loaded_kib']:,} KiB with {n['contacts']} links loaded and their counterparts stopped; "
        f"{n['connected_kib']:,} KiB with all {n['contacts']} counterpart nodes running and every link ok "
        f"(all up {n['all_up_s']:.1f} s after starting them; each counterpart node "
        f"{n['counterpart_rss_kib'] / 1024:.1f} MiB, median of 20). Links made by courier bundles (the HELLO by hand), "
        f"so no network was needed to make them. VmRSS, median of 5 samples after settling.",
        f"- Memory, relay (bench/memory_bench.py with bench/relay_owners.cpp, release): `relay run` at rest "
        f"{rl['rest_kib']:,} KiB; {rl['warm_kib']:,} KiB with {rl['warmup']} owners; {rl['full_kib']:,} KiB with "
        f"{rl['owners']} (each its own key and TLS connection, a mailbox created and subscribed; all connected in "
        f"{rl['connect_s']:.1f} s, at most 16 connecting at once). Per connection from rest: "
        f"{rl['per_connection_from_rest_kib']:.1f} KiB.",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(Path(__file__).resolve().parent.parent / "build" / "bin"))
    ap.add_argument("--contacts", type=int, default=200)
    ap.add_argument("--owners", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=50)
    args = ap.parse_args()
    bin_dir = Path(args.bin)
    work = Path(tempfile.mkdtemp(prefix="backchannel-membench-"))
    try:
        r = run(bin_dir / "backchannel", bin_dir, work, args.contacts, args.owners, args.warmup)
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)
    print_part(r, table_rows, details_md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
